//! Client-parser rules (../shared/CLIENTS.md) as validators over the bytes an encoder emits.
//!
//! Each `*_stream` function parses a whole SSE body the way the client's SDK does and returns
//! the first broken rule as `Err("<rule>: <detail>")`; each `*_response` checks a whole
//! response body; [`error_body`] checks an error body. Reusable by the gateway's tests (they
//! only need `serde_json` and `switchyard_translators::sse`).

use serde_json::Value;
use switchyard_translators::ir::Protocol;
use switchyard_translators::sse::{SseDecoder, SseEvent};

pub type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $rule:literal, $($arg:tt)*) => {
        if !$cond {
            return Err(format!(concat!($rule, ": {}"), format!($($arg)*)));
        }
    };
}

/// Validate a stream body for `client`. `include_usage`: the Chat client asked for a usage
/// chunk.
pub fn stream(client: Protocol, body: &[u8], include_usage: bool) -> Check {
    match client {
        Protocol::Anthropic => anthropic_stream(body),
        Protocol::OpenAiChat => chat_stream(body, include_usage),
        Protocol::OpenAiResponses => responses_stream(body),
        Protocol::Gemini => gemini_stream(body),
    }
}

/// Validate a whole (non-stream) response body for `client`.
pub fn response(client: Protocol, body: &[u8]) -> Check {
    let v = json(body)?;
    match client {
        Protocol::Anthropic => anthropic_response(&v),
        Protocol::OpenAiChat => chat_response(&v),
        Protocol::OpenAiResponses => responses_response(&v),
        Protocol::Gemini => gemini_response(&v),
    }
}

fn json(b: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(b).map_err(|e| {
        format!(
            "json: not JSON ({e}): {}",
            snippet(&String::from_utf8_lossy(b))
        )
    })
}

pub fn snippet(s: &str) -> String {
    let s: String = s.chars().take(300).collect();
    s.replace('\n', "\\n")
}

/// SSE events of a body (the framing itself is checked per protocol).
pub fn sse_events(body: &[u8]) -> Result<Vec<SseEvent>, String> {
    let mut d = SseDecoder::default();
    let mut out = Vec::new();
    d.feed(body, &mut out)
        .map_err(|e| format!("sse framing: {e}"))?;
    d.finish(&mut out);
    Ok(out)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn framing_lines(body: &[u8], need_event_lines: bool) -> Check {
    let text = std::str::from_utf8(body).map_err(|e| format!("utf-8: {e}"))?;
    // Lines may end in `\r\n` (Gemini's own alt=sse framing) or `\n`.
    let text = &text.replace("\r\n", "\n");
    ensure!(
        text.ends_with("\n\n"),
        "framing",
        "body must end with a blank line: {}",
        snippet(&text[text.len().saturating_sub(100)..])
    );
    let mut saw_event = false;
    let mut saw_data = false;
    for line in text.split('\n') {
        if line.is_empty() {
            ensure!(
                !need_event_lines || !saw_data || saw_event,
                "event line",
                "data without `event:`"
            );
            saw_event = false;
            saw_data = false;
            continue;
        }
        if line.starts_with("event: ") {
            ensure!(
                need_event_lines,
                "framing",
                "unexpected `event:` line {line:?}"
            );
            saw_event = true;
        } else if line.starts_with(':') {
            continue;
        } else {
            ensure!(
                line.starts_with("data: "),
                "framing",
                "line is neither `event: ` nor `data: `: {}",
                snippet(line)
            );
            saw_data = true;
        }
    }
    Ok(())
}

mod anthropic;
mod chat;
mod gemini;
mod request;
mod responses;
#[cfg(test)]
mod tests;

use anthropic::anthropic_response;
pub use anthropic::anthropic_stream;
use chat::chat_response;
pub use chat::chat_stream;
use gemini::gemini_response;
pub use gemini::gemini_stream;
pub use request::request;
use responses::responses_response;
pub use responses::responses_stream;

// -------------------------------------------------------------------------------- errors

/// A client error body: OpenAI `{"error":{"message","type"}}`, Anthropic
/// `{"type":"error","error":{"type","message"}}`, Gemini `{"error":{"code","message","status"}}`.
pub fn error_body(client: Protocol, status: u16, body: &[u8]) -> Check {
    let v = json(body)?;
    ensure!((400..600).contains(&status), "error status", "{status}");
    let e = &v["error"];
    ensure!(
        e["message"].is_string(),
        "error.message",
        "{}",
        snippet(&v.to_string())
    );
    match client {
        Protocol::Anthropic => {
            ensure!(s(&v, "type") == "error", "type error", "{v}");
            ensure!(!s(e, "type").is_empty(), "error.type", "{v}");
        }
        Protocol::OpenAiChat | Protocol::OpenAiResponses => {
            ensure!(!s(e, "type").is_empty(), "error.type", "{v}");
        }
        Protocol::Gemini => {
            ensure!(
                e["code"].as_u64() == Some(u64::from(status)),
                "error.code is the status",
                "{v}"
            );
            ensure!(!s(e, "status").is_empty(), "error.status", "{v}");
        }
    }
    Ok(())
}

/// Every model name a stream shows its client (Anthropic `message_start.message.model`, Chat
/// chunk `model`, Responses `response.model`, Gemini `modelVersion`), for checking that the
/// name the client asked for is echoed.
pub fn stream_models(client: Protocol, body: &[u8]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for ev in sse_events(body)? {
        let Ok(v) = serde_json::from_slice::<Value>(ev.data.as_bytes()) else {
            continue;
        };
        let m = match client {
            Protocol::Anthropic => v["message"].get("model"),
            Protocol::OpenAiChat => v.get("model"),
            Protocol::OpenAiResponses => v.get("response").and_then(|r| r.get("model")),
            Protocol::Gemini => v.get("modelVersion"),
        };
        if let Some(m) = m.and_then(Value::as_str) {
            out.push(m.to_string());
        }
    }
    Ok(out)
}
