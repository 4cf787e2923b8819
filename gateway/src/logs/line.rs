//! The tracing side: a `MakeWriter` that hands each formatted event to the log writer thread
//! over the bounded channel (a full channel drops the line and counts it), and the JSON event
//! format. Formatting a tracing event happens on the thread that emits it (its fields are
//! borrowed from that thread's stack); everything after that, redaction and I/O included, is
//! the writer thread's. Memory: one line per event, bounded by the channel's capacity.

use super::json::{JsonLine, Num};
use super::writer::{Msg, Sender};
use std::fmt;
use std::io;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Makes one [`LineWriter`] per event.
#[derive(Clone)]
pub(super) struct ChannelSink {
    pub(super) tx: Sender,
}

impl<'a> MakeWriter<'a> for ChannelSink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter {
            tx: &self.tx,
            buf: Vec::new(),
        }
    }
}

/// Collects one event's bytes; sends them when dropped (the fmt layer writes an event, then
/// drops its writer).
pub(super) struct LineWriter<'a> {
    tx: &'a Sender,
    buf: Vec<u8>,
}

impl io::Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.tx.send(Msg::Line(std::mem::take(&mut self.buf)));
        }
    }
}

/// `log-format: json`: one object per event, `ts level target msg` then the event's fields.
/// Spans are not written (the gateway logs events only).
pub(super) struct JsonEvents;

impl<S, N> FormatEvent<S, N> for JsonEvents
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let target = fields.log_target.as_deref().unwrap_or(meta.target());
        let mut line = JsonLine::start(
            SystemTime::now(),
            meta.level().as_str(),
            target,
            &fields.message,
        );
        for (name, value) in fields.values {
            match value {
                Value::Str(s) => line.str(name, &s),
                Value::Bool(b) => line.bool(name, b),
                Value::Num(n) => line.num(name, n),
            }
        }
        writer.write_str(&line.finish())
    }
}

enum Value {
    Str(String),
    Bool(bool),
    Num(Num),
}

/// An event's fields, in order; `message` and the `log` bridge's `log.*` fields apart.
#[derive(Default)]
struct Fields {
    message: String,
    log_target: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("message", Value::Str(s)) => self.message = s,
            ("log.target", Value::Str(s)) => self.log_target = Some(s),
            ("log.module_path" | "log.file" | "log.line", _) => {}
            (name, value) => self.values.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::Str(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::Str(value.to_owned()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::Num(Num::U(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::Num(Num::I(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::Num(Num::F(value)));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::Str(value.to_string()));
    }
}
