//! The access record: one per request, built by the `logging` phase and formatted on the log
//! writer thread (never on the worker that served the request) as a text line in
//! tracing-subscriber's layout or as a JSON line. Pure; no I/O.
//!
//! Field names are stable. Text keeps the first access line's fields in their order
//! (`method path status model stream body_bytes attempts error cause ms`) and adds the new
//! ones after them; JSON uses the same names, with `attempts` as an array and `tokens` as an
//! object (or `null`).

use super::clock::Utc;
use super::json::{JsonLine, Num};
use super::redact;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

/// The target of access lines, also what `RUST_LOG` filters them by.
pub(super) const ACCESS_TARGET: &str = "switchyard::access";

/// One request, as the `logging` phase saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessRecord {
    pub request_id: String,
    /// A hash of the client key (the key set's id for it), never the key.
    pub client_key_id: String,
    /// `openai-chat`, `anthropic`, `gemini`, `openai-responses`, ...
    pub client_protocol: &'static str,
    pub method: String,
    /// The path without its query (a query is redacted anyway).
    pub path: String,
    /// The model the client asked for (`model=` in the text line).
    pub model_asked: String,
    /// The model sent upstream (after aliases).
    pub model_sent: String,
    /// The id of the account that answered (the last attempt's), empty if none did.
    pub account: String,
    pub attempts: Vec<AttemptLog>,
    pub tokens: Option<Tokens>,
    /// Time to the first response byte, when there was one.
    pub ttfb_ms: Option<f64>,
    pub duration_ms: f64,
    /// Request body bytes (`body_bytes=`).
    pub bytes_in: u64,
    /// Response body bytes sent to the client.
    pub bytes_out: u64,
    /// The status sent to the client (0: none was).
    pub status: u16,
    /// The gateway's error label (`ErrorKind::label`), empty on success.
    pub error: &'static str,
    /// Pingora's error for the request, as text; empty when there was none.
    pub cause: String,
    pub stream: bool,
}

/// One upstream attempt: the account, its status, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptLog {
    pub account: String,
    pub status: u16,
    /// A failure label when the attempt got no status (connect, timeout, ...).
    pub cause: Option<&'static str>,
}

/// Token usage as reported upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub reasoning: u64,
}

/// `acct=200,acct2=connect`, the `attempts=` of the text line.
fn push_attempts(l: &mut String, attempts: &[AttemptLog]) {
    for (i, a) in attempts.iter().enumerate() {
        if i > 0 {
            l.push(',');
        }
        l.push_str(&a.account);
        l.push('=');
        match a.cause {
            Some(cause) => l.push_str(cause),
            None => push_u64(l, u64::from(a.status)),
        }
    }
}

fn tenth(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

/// `n` in decimal, without the formatter.
fn push_u64(l: &mut String, n: u64) {
    l.push_str(itoa::Buffer::new().format(n));
}

/// The text line, as tracing-subscriber's fmt layer would print the event (`str` fields
/// quoted with `Debug`, displayed fields bare), with the level coloured when `ansi`. Built
/// with pushes, not `write!`: the formatter was most of the line's cost, and this runs once
/// per request (on the log thread, but on the same cores).
pub(super) fn text_line(rec: &AccessRecord, at: SystemTime, ansi: bool) -> String {
    let f = Fields::of(rec);
    let mut l = String::with_capacity(
        400 + f.path.len()
            + f.model_asked.len()
            + f.model_sent.len()
            + f.cause.len()
            + 2 * rec.account.len()
            + rec
                .attempts
                .iter()
                .map(|a| a.account.len() + 8)
                .sum::<usize>(),
    );
    if ansi {
        l.push_str("\x1b[2m");
        Utc::from(at).push_rfc3339_micros(&mut l);
        l.push_str("\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2m");
        l.push_str(ACCESS_TARGET);
        l.push_str("\x1b[0m\x1b[2m:\x1b[0m ");
    } else {
        Utc::from(at).push_rfc3339_micros(&mut l);
        l.push_str("  INFO ");
        l.push_str(ACCESS_TARGET);
        l.push_str(": ");
    }
    l.push_str("method=");
    l.push_str(&f.method);
    l.push_str(" path=");
    quoted(&mut l, &f.path);
    l.push_str(" status=");
    push_u64(&mut l, u64::from(rec.status));
    l.push_str(" model=");
    quoted(&mut l, &f.model_asked);
    l.push_str(if rec.stream {
        " stream=true"
    } else {
        " stream=false"
    });
    l.push_str(" body_bytes=");
    push_u64(&mut l, rec.bytes_in);
    l.push_str(" attempts=");
    push_attempts(&mut l, &rec.attempts);
    l.push_str(" error=");
    quoted(&mut l, rec.error);
    l.push_str(" cause=");
    l.push_str(&f.cause);
    l.push_str(" ms=");
    tenths(&mut l, rec.duration_ms);
    for (name, value) in [
        (" request_id=", &*f.request_id),
        (" client_key_id=", &rec.client_key_id),
        (" client_protocol=", rec.client_protocol),
        (" model_sent=", &f.model_sent),
        (" account=", &rec.account),
    ] {
        l.push_str(name);
        quoted(&mut l, value);
    }
    l.push_str(" bytes_out=");
    push_u64(&mut l, rec.bytes_out);
    if let Some(ttfb) = rec.ttfb_ms {
        l.push_str(" ttfb_ms=");
        tenths(&mut l, ttfb);
    }
    if let Some(t) = rec.tokens {
        for (name, n) in [
            (" input_tokens=", t.input),
            (" output_tokens=", t.output),
            (" cached_tokens=", t.cached),
            (" reasoning_tokens=", t.reasoning),
        ] {
            l.push_str(name);
            push_u64(&mut l, n);
        }
    }
    l.push('\n');
    l
}

/// `s` as `{:?}` prints it (quoted, escaped), without the formatter for the common case of
/// nothing to escape.
fn quoted(l: &mut String, s: &str) {
    /// The bytes `{:?}` prints as they are: printable ASCII but `"` and `\`.
    const PLAIN: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0x20;
        while b < 0x7f {
            t[b] = b != b'"' as usize && b != b'\\' as usize;
            b += 1;
        }
        t
    };
    if s.bytes().all(|b| PLAIN[usize::from(b)]) {
        l.push('"');
        l.push_str(s);
        l.push('"');
    } else {
        let _ = write!(l, "{s:?}");
    }
}

/// `ms` with one decimal, as `{:.1}` prints it (without the float formatter, for
/// non-negative values under 2^53 tenths; others go through it).
fn tenths(l: &mut String, ms: f64) {
    let t = (ms * 10.0).round();
    if (0.0..9.0e15).contains(&t) {
        let t = t as u64;
        push_u64(l, t / 10);
        l.push('.');
        push_u64(l, t % 10);
    } else {
        let _ = write!(l, "{ms:.1}");
    }
}

/// The JSON line: `ts level target msg` then the record's fields.
pub(super) fn json_line(rec: &AccessRecord, at: SystemTime) -> String {
    let f = Fields::of(rec);
    let mut j = JsonLine::start(at, "INFO", ACCESS_TARGET, "");
    j.str("method", &f.method);
    j.str("path", &f.path);
    j.num("status", Num::U(u64::from(rec.status)));
    j.str("model", &f.model_asked);
    j.bool("stream", rec.stream);
    j.num("body_bytes", Num::U(rec.bytes_in));
    j.value("attempts", &rec.attempts);
    j.str("error", rec.error);
    j.str("cause", &f.cause);
    j.num("ms", Num::F(tenth(rec.duration_ms)));
    j.str("request_id", &f.request_id);
    j.str("client_key_id", &rec.client_key_id);
    j.str("client_protocol", rec.client_protocol);
    j.str("model_sent", &f.model_sent);
    j.str("account", &rec.account);
    j.num("bytes_out", Num::U(rec.bytes_out));
    j.value("ttfb_ms", &rec.ttfb_ms.map(tenth));
    j.value("tokens", &rec.tokens);
    j.finish()
}

/// The record's fields that carry text from outside (the client's method, path, model and
/// request id, an upstream's error), redacted. The other fields are the gateway's own (labels,
/// account ids, key hashes, numbers) and never hold a secret, so the line as a whole is not
/// scanned again.
struct Fields<'a> {
    method: Cow<'a, str>,
    path: Cow<'a, str>,
    model_asked: Cow<'a, str>,
    model_sent: Cow<'a, str>,
    request_id: Cow<'a, str>,
    cause: Cow<'a, str>,
}

impl<'a> Fields<'a> {
    fn of(rec: &'a AccessRecord) -> Self {
        let model_asked = clipped(&rec.model_asked, 256);
        Fields {
            // A method Pingora knows by name holds nothing to redact.
            method: if STANDARD_METHODS.contains(&rec.method.as_str()) {
                Cow::Borrowed(&rec.method)
            } else {
                clipped(&rec.method, 32)
            },
            // The path has no query (`AccessRecord::path`), but a client chose it.
            path: clipped(&rec.path, 2048),
            model_sent: if rec.model_sent == rec.model_asked {
                model_asked.clone()
            } else {
                clipped(&rec.model_sent, 256)
            },
            model_asked,
            request_id: clipped(&rec.request_id, 128),
            cause: clipped(&rec.cause, 4096),
        }
    }
}

/// The methods of RFC 9110 (and PATCH): their names are the gateway's, not a client's text.
const STANDARD_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];

/// `s` redacted, and cut to `max` bytes (on a character boundary) with its length noted: a
/// client's 30 MiB model name must not become a 30 MiB log line.
fn clipped(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return redact::text(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}...({} bytes)", redact::text(&s[..end]), s.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_clipped() {
        let long = "é".repeat(1000);
        let c = clipped(&long, 255);
        assert!(
            c.starts_with(&"é".repeat(127)) && c.ends_with("...(2000 bytes)"),
            "{c}"
        );
        assert_eq!(clipped("gpt-4o", 256), "gpt-4o");
    }

    pub(crate) fn sample() -> AccessRecord {
        AccessRecord {
            request_id: "req-1".into(),
            client_key_id: "k1a2b3".into(),
            client_protocol: "openai-chat",
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            model_asked: "gpt-4o-mini".into(),
            model_sent: "gpt-4o-mini-2024".into(),
            account: "openai-compatibility[0].api-key-entries[0]".into(),
            attempts: vec![
                AttemptLog {
                    account: "claude-api-key[0]".into(),
                    status: 0,
                    cause: Some("connect"),
                },
                AttemptLog {
                    account: "openai-compatibility[0].api-key-entries[0]".into(),
                    status: 200,
                    cause: None,
                },
            ],
            tokens: Some(Tokens {
                input: 10,
                output: 5,
                cached: 2,
                reasoning: 1,
            }),
            ttfb_ms: Some(3.21),
            duration_ms: 12.345,
            bytes_in: 99,
            bytes_out: 512,
            status: 200,
            error: "",
            cause: String::new(),
            stream: true,
        }
    }

    #[test]
    fn text_line_keeps_the_first_fields_in_order() {
        let line = text_line(&sample(), SystemTime::UNIX_EPOCH, false);
        assert_eq!(
            line,
            "1970-01-01T00:00:00.000000Z  INFO switchyard::access: method=POST \
             path=\"/v1/chat/completions\" status=200 model=\"gpt-4o-mini\" stream=true \
             body_bytes=99 attempts=claude-api-key[0]=connect,openai-compatibility[0].api-key-entries[0]=200 \
             error=\"\" cause= ms=12.3 request_id=\"req-1\" client_key_id=\"k1a2b3\" \
             client_protocol=\"openai-chat\" model_sent=\"gpt-4o-mini-2024\" \
             account=\"openai-compatibility[0].api-key-entries[0]\" bytes_out=512 ttfb_ms=3.2 \
             input_tokens=10 output_tokens=5 cached_tokens=2 reasoning_tokens=1\n"
        );
    }

    #[test]
    fn client_text_is_redacted_in_every_field_it_reaches() {
        let secret = "sk-ant-api03-abcdefghijklmnop";
        let mut rec = sample();
        rec.model_asked = secret.to_owned();
        rec.model_sent = secret.to_owned();
        rec.method = secret.to_owned();
        let line = text_line(&rec, SystemTime::UNIX_EPOCH, false);
        assert!(!line.contains("abcdefghij"), "{line}");
        assert!(line.contains("model=\"****mnop\""), "{line}");
        assert!(line.contains("model_sent=\"****mnop\""), "{line}");
        // A standard method is the gateway's own word.
        rec.method = "PATCH".to_owned();
        let line = text_line(&rec, SystemTime::UNIX_EPOCH, false);
        assert!(line.contains(" method=PATCH "), "{line}");
    }

    #[test]
    fn json_line_parses_back_with_fixed_names() {
        let line = json_line(&sample(), SystemTime::UNIX_EPOCH);
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        assert_eq!(v["ts"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "switchyard::access");
        assert_eq!(v["msg"], "");
        assert_eq!(v["status"], 200);
        assert_eq!(v["ms"], 12.3);
        assert_eq!(v["ttfb_ms"], 3.2);
        assert_eq!(v["model"], "gpt-4o-mini");
        assert_eq!(v["attempts"][0]["cause"], "connect");
        assert_eq!(v["attempts"][1]["status"], 200);
        assert_eq!(v["tokens"]["cached"], 2);
        let keys: Vec<&str> = line
            .split("\":")
            .filter_map(|s| s.rsplit("\"").next())
            .take(4)
            .collect();
        assert_eq!(keys, ["ts", "level", "target", "msg"]);
    }
}
