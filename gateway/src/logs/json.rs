//! JSON lines with a fixed field order: `ts` (RFC 3339, ms, UTC), `level`, `target`, `msg`,
//! then the event's fields in the order they were added. Written by hand rather than with
//! `serde_json::Map` (sorted keys without serde_json's `preserve_order`) or
//! tracing-subscriber's `json` feature (whose names are `timestamp`, `fields.message`, and
//! whose fields sit in a nested object). Pure; no I/O.

use super::clock::Utc;
use serde::Serialize;
use std::time::SystemTime;

/// Names an event's own field cannot take: such a field is written as `field.<name>`.
const RESERVED: &[&str] = &["ts", "level", "target", "msg"];

pub(super) enum Num {
    U(u64),
    I(i64),
    F(f64),
}

/// One JSON object being written, always closed by [`JsonLine::finish`].
pub(super) struct JsonLine {
    out: String,
}

impl JsonLine {
    pub(super) fn start(at: SystemTime, level: &str, target: &str, msg: &str) -> JsonLine {
        let mut line = JsonLine {
            out: String::with_capacity(256),
        };
        line.out.push_str("{\"ts\":\"");
        line.out.push_str(&Utc::from(at).rfc3339_millis());
        line.out.push('"');
        line.raw_str("level", level);
        line.raw_str("target", target);
        line.raw_str("msg", msg);
        line
    }

    fn key(&mut self, name: &str) {
        self.out.push(',');
        if RESERVED.contains(&name) {
            push_json_str(&mut self.out, &format!("field.{name}"));
        } else {
            push_json_str(&mut self.out, name);
        }
        self.out.push(':');
    }

    fn raw_str(&mut self, name: &str, value: &str) {
        self.out.push(',');
        push_json_str(&mut self.out, name);
        self.out.push(':');
        push_json_str(&mut self.out, value);
    }

    pub(super) fn str(&mut self, name: &str, value: &str) {
        self.key(name);
        push_json_str(&mut self.out, value);
    }

    pub(super) fn bool(&mut self, name: &str, value: bool) {
        self.key(name);
        self.out.push_str(if value { "true" } else { "false" });
    }

    /// Numbers; a float that is not finite is written as a string.
    pub(super) fn num(&mut self, name: &str, value: Num) {
        self.key(name);
        match value {
            Num::U(n) => self.out.push_str(&n.to_string()),
            Num::I(n) => self.out.push_str(&n.to_string()),
            Num::F(f) => match serde_json::Number::from_f64(f) {
                Some(n) => self.out.push_str(&n.to_string()),
                None => push_json_str(&mut self.out, &f.to_string()),
            },
        }
    }

    /// Any serializable value (an array, an option, an object); `null` if it cannot be.
    pub(super) fn value<T: Serialize>(&mut self, name: &str, value: &T) {
        self.key(name);
        match serde_json::to_string(value) {
            Ok(s) => self.out.push_str(&s),
            Err(_) => self.out.push_str("null"),
        }
    }

    /// The object, closed and followed by `\n`.
    pub(super) fn finish(mut self) -> String {
        self.out.push_str("}\n");
        self.out
    }
}

fn push_json_str(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        // Serializing a `str` cannot fail; keep the line valid JSON regardless.
        Err(_) => out.push_str("\"\""),
    }
}
