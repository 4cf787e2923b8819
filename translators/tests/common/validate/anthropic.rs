//! Anthropic Messages: the stream rules of `messages.stream()` and the response shape.

use serde_json::Value;

use super::{framing_lines, json, s, snippet, sse_events, Check};

// ------------------------------------------------------------------------------- Anthropic

#[derive(Debug, Clone, PartialEq)]
enum AnthropicBlock {
    Open { kind: String, json: String },
    Closed,
}

/// Anthropic `messages.stream()`: `event:` lines matching `data.type`, `message_start` first,
/// blocks started in index order before their deltas and stopped, delta kinds matching the
/// block, `message_delta` with a stop reason after every block closed, `message_stop` last;
/// or an `event: error` that ends the stream.
pub fn anthropic_stream(body: &[u8]) -> Check {
    framing_lines(body, true)?;
    let events = sse_events(body)?;
    ensure!(!events.is_empty(), "non-empty", "no events");
    let mut blocks: Vec<AnthropicBlock> = Vec::new();
    let mut started = false;
    let mut delta_seen = false;
    let mut stopped = false;
    for (i, ev) in events.iter().enumerate() {
        let name = ev.event.as_deref().unwrap_or("");
        let v = json(ev.data.as_bytes())?;
        ensure!(
            s(&v, "type") == name,
            "event name",
            "event {name:?} carries data.type {:?}",
            s(&v, "type")
        );
        ensure!(!stopped, "message_stop last", "{name} after message_stop");
        if name == "error" {
            let e = &v["error"];
            ensure!(
                !s(e, "type").is_empty() && e.get("message").is_some_and(Value::is_string),
                "error shape",
                "{}",
                ev.data
            );
            ensure!(
                i + 1 == events.len(),
                "error ends stream",
                "events after error"
            );
            return Ok(());
        }
        if i == 0 {
            ensure!(
                name == "message_start",
                "message_start first",
                "first event {name}"
            );
        }
        match name {
            "message_start" => {
                ensure!(!started, "one message_start", "second message_start");
                started = true;
                let m = &v["message"];
                ensure!(
                    !s(m, "id").is_empty(),
                    "message id",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(
                    !s(m, "model").is_empty(),
                    "message model",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(s(m, "role") == "assistant", "role", "{}", snippet(&ev.data));
                ensure!(
                    m["content"].as_array().is_some_and(Vec::is_empty),
                    "empty content",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(
                    m["usage"].is_object(),
                    "message_start usage",
                    "{}",
                    snippet(&ev.data)
                );
            }
            "ping" => {}
            "content_block_start" => {
                ensure!(
                    !delta_seen,
                    "blocks before message_delta",
                    "block after message_delta"
                );
                let idx = v["index"].as_u64().unwrap_or(u64::MAX) as usize;
                ensure!(
                    idx == blocks.len(),
                    "block index order",
                    "block {idx} started, expected {}",
                    blocks.len()
                );
                let cb = &v["content_block"];
                let kind = s(cb, "type").to_string();
                ensure!(!kind.is_empty(), "block type", "{}", snippet(&ev.data));
                if kind == "tool_use" {
                    ensure!(
                        !s(cb, "id").is_empty() && !s(cb, "name").is_empty(),
                        "tool_use id and name",
                        "{}",
                        snippet(&ev.data)
                    );
                    ensure!(
                        cb["input"].is_object(),
                        "tool_use input {{}}",
                        "{}",
                        snippet(&ev.data)
                    );
                }
                if kind == "text" {
                    ensure!(
                        cb["text"].is_string(),
                        "text block text",
                        "{}",
                        snippet(&ev.data)
                    );
                }
                if kind == "thinking" {
                    ensure!(
                        cb["thinking"].is_string(),
                        "thinking block text",
                        "{}",
                        snippet(&ev.data)
                    );
                }
                blocks.push(AnthropicBlock::Open {
                    kind,
                    json: String::new(),
                });
            }
            "content_block_delta" => {
                let idx = v["index"].as_u64().unwrap_or(u64::MAX) as usize;
                let d = &v["delta"];
                let dt = s(d, "type");
                match blocks.get_mut(idx) {
                    Some(AnthropicBlock::Open { kind, json }) => {
                        let ok = match dt {
                            "text_delta" => kind == "text" && d["text"].is_string(),
                            "citations_delta" => kind == "text",
                            "thinking_delta" => kind == "thinking" && d["thinking"].is_string(),
                            "signature_delta" => kind == "thinking" && d["signature"].is_string(),
                            "input_json_delta" => {
                                json.push_str(s(d, "partial_json"));
                                kind.ends_with("tool_use") && d["partial_json"].is_string()
                            }
                            _ => false,
                        };
                        ensure!(
                            ok,
                            "delta matches block",
                            "{dt} in a {kind} block: {}",
                            snippet(&ev.data)
                        );
                    }
                    _ => {
                        return Err(format!(
                            "block open before delta: delta for index {idx} not open: {}",
                            snippet(&ev.data)
                        ))
                    }
                }
            }
            "content_block_stop" => {
                let idx = v["index"].as_u64().unwrap_or(u64::MAX) as usize;
                match blocks.get(idx) {
                    Some(AnthropicBlock::Open { kind, json }) => {
                        if kind == "tool_use" && !json.is_empty() {
                            ensure!(
                                serde_json::from_str::<Value>(json).is_ok_and(|v| v.is_object()),
                                "tool input is a JSON object",
                                "{}",
                                snippet(json)
                            );
                        }
                    }
                    _ => return Err(format!("block stop: index {idx} not open")),
                }
                blocks[idx] = AnthropicBlock::Closed;
            }
            "message_delta" => {
                ensure!(
                    blocks.iter().all(|b| *b == AnthropicBlock::Closed),
                    "blocks closed before message_delta",
                    "{blocks:?}"
                );
                ensure!(!delta_seen, "one message_delta", "second message_delta");
                delta_seen = true;
                ensure!(
                    v["delta"]["stop_reason"].is_string(),
                    "message_delta stop_reason",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(
                    v["usage"]["output_tokens"].is_u64(),
                    "message_delta usage.output_tokens",
                    "{}",
                    snippet(&ev.data)
                );
            }
            "message_stop" => {
                ensure!(delta_seen, "message_delta before message_stop", "none");
                stopped = true;
            }
            other => return Err(format!("known event: {other}")),
        }
    }
    ensure!(
        stopped,
        "message_stop last",
        "stream ended without message_stop"
    );
    Ok(())
}

pub(super) fn anthropic_response(v: &Value) -> Check {
    ensure!(
        s(v, "type") == "message",
        "type message",
        "{}",
        snippet(&v.to_string())
    );
    ensure!(!s(v, "id").is_empty(), "id", "missing");
    ensure!(!s(v, "model").is_empty(), "model", "missing");
    ensure!(s(v, "role") == "assistant", "role", "{}", s(v, "role"));
    ensure!(v["content"].is_array(), "content array", "missing");
    for b in v["content"].as_array().into_iter().flatten() {
        if s(b, "type") == "tool_use" {
            ensure!(b["input"].is_object(), "tool_use input object", "{b}");
            ensure!(!s(b, "id").is_empty(), "tool_use id", "{b}");
        }
    }
    ensure!(v["stop_reason"].is_string(), "stop_reason", "missing");
    ensure!(v["usage"]["input_tokens"].is_u64(), "usage", "missing");
    ensure!(v["usage"]["output_tokens"].is_u64(), "usage", "missing");
    Ok(())
}
