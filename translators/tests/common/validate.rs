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

fn anthropic_response(v: &Value) -> Check {
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

// ---------------------------------------------------------------------------- OpenAI Chat

/// OpenAI Chat `.stream()`: data-only lines, one consistent `id`, `chat.completion.chunk`
/// objects, tool call deltas that name the call before its argument fragments, exactly one
/// `finish_reason` chunk (then only a usage chunk), a usage chunk when asked, `[DONE]` last;
/// or an error chunk that ends the stream.
pub fn chat_stream(body: &[u8], include_usage: bool) -> Check {
    framing_lines(body, false)?;
    let events = sse_events(body)?;
    ensure!(!events.is_empty(), "non-empty", "no events");
    let mut id: Option<String> = None;
    let mut finished = false;
    let mut usage_seen = false;
    let mut done = false;
    let mut calls: Vec<(String, String)> = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        ensure!(ev.event.is_none(), "data-only", "event line {:?}", ev.event);
        ensure!(!done, "[DONE] last", "data after [DONE]");
        if ev.data == "[DONE]" {
            done = true;
            continue;
        }
        let v = json(ev.data.as_bytes())?;
        if v.get("error").is_some() {
            let e = &v["error"];
            ensure!(
                e["message"].is_string(),
                "error chunk shape",
                "{}",
                snippet(&ev.data)
            );
            let rest = &events[i + 1..];
            ensure!(
                rest.iter().all(|e| e.data == "[DONE]"),
                "error ends stream",
                "events after the error chunk"
            );
            return Ok(());
        }
        ensure!(
            s(&v, "object") == "chat.completion.chunk",
            "object",
            "{}",
            snippet(&ev.data)
        );
        let this_id = s(&v, "id");
        ensure!(!this_id.is_empty(), "chunk id", "{}", snippet(&ev.data));
        match &id {
            None => id = Some(this_id.to_string()),
            Some(first) => ensure!(first == this_id, "consistent id", "{first} then {this_id}"),
        }
        ensure!(!s(&v, "model").is_empty(), "model", "{}", snippet(&ev.data));
        ensure!(
            v["created"].is_i64() || v["created"].is_u64(),
            "created",
            "{}",
            snippet(&ev.data)
        );
        let choices = v["choices"].as_array().cloned().unwrap_or_default();
        if choices.is_empty() {
            ensure!(
                v["usage"].is_object(),
                "chunk without choices is the usage chunk",
                "{}",
                snippet(&ev.data)
            );
            usage_seen = true;
            continue;
        }
        ensure!(
            !finished,
            "nothing but usage after finish_reason",
            "{}",
            snippet(&ev.data)
        );
        ensure!(
            choices.len() == 1 && choices[0]["index"] == 0,
            "one choice at index 0",
            "{}",
            snippet(&ev.data)
        );
        let c = &choices[0];
        ensure!(
            c["delta"].is_object(),
            "delta object",
            "{}",
            snippet(&ev.data)
        );
        for tc in c["delta"]["tool_calls"].as_array().into_iter().flatten() {
            let idx = tc["index"].as_u64().unwrap_or(u64::MAX) as usize;
            if idx == calls.len() {
                ensure!(
                    !s(tc, "id").is_empty() && !s(&tc["function"], "name").is_empty(),
                    "first tool call delta has id and name",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(
                    s(tc, "type") == "function",
                    "tool call type",
                    "{}",
                    snippet(&ev.data)
                );
                calls.push((s(&tc["function"], "name").to_string(), String::new()));
            } else {
                ensure!(
                    idx < calls.len(),
                    "tool call index order",
                    "index {idx} after {}",
                    calls.len()
                );
            }
            calls[idx].1.push_str(s(&tc["function"], "arguments"));
        }
        if !c["finish_reason"].is_null() {
            ensure!(
                c["finish_reason"].is_string(),
                "finish_reason string",
                "{}",
                snippet(&ev.data)
            );
            finished = true;
        }
        if v["usage"].is_object() {
            usage_seen = true;
        }
    }
    ensure!(
        finished,
        "finish_reason chunk",
        "no chunk carries a finish_reason"
    );
    ensure!(done, "[DONE] last", "no data: [DONE]");
    ensure!(
        !include_usage || usage_seen,
        "usage chunk when include_usage",
        "none"
    );
    for (name, args) in &calls {
        let args = if args.is_empty() { "{}" } else { args };
        ensure!(
            serde_json::from_str::<Value>(args).is_ok_and(|v| v.is_object()),
            "tool arguments are a JSON object",
            "{name}: {}",
            snippet(args)
        );
    }
    Ok(())
}

fn chat_response(v: &Value) -> Check {
    ensure!(
        s(v, "object") == "chat.completion",
        "object",
        "{}",
        snippet(&v.to_string())
    );
    ensure!(!s(v, "id").is_empty(), "id", "missing");
    ensure!(!s(v, "model").is_empty(), "model", "missing");
    let c = &v["choices"][0];
    ensure!(c["message"]["role"] == "assistant", "message role", "{}", c);
    ensure!(c["finish_reason"].is_string(), "finish_reason", "{}", c);
    for tc in c["message"]["tool_calls"].as_array().into_iter().flatten() {
        ensure!(s(tc, "type") == "function", "tool call type", "{tc}");
        ensure!(!s(tc, "id").is_empty(), "tool call id", "{tc}");
        ensure!(
            tc["function"]["arguments"].is_string(),
            "arguments string",
            "{tc}"
        );
    }
    ensure!(v["usage"]["prompt_tokens"].is_u64(), "usage", "missing");
    Ok(())
}

// ------------------------------------------------------------------------ OpenAI Responses

#[derive(Debug)]
struct RespItem {
    id: String,
    kind: String,
    done: bool,
    text: String,
    args: String,
    parts_open: Vec<bool>,
}

/// OpenAI `responses.stream()`: `event:` lines matching `data.type`, increasing
/// `sequence_number`, `response.created` first, `output_item.added` before any content of
/// that item, `content_part.added` before `output_text.delta`, consistent item ids,
/// `output_item.done` for every item (with the full text / arguments), and a terminal
/// `response.completed` / `response.incomplete` whose output lists the same items; or an
/// `error` / `response.failed` ending the stream.
pub fn responses_stream(body: &[u8]) -> Check {
    framing_lines(body, true)?;
    let events = sse_events(body)?;
    ensure!(!events.is_empty(), "non-empty", "no events");
    let mut seq: Option<i64> = None;
    let mut resp_id = String::new();
    let mut items: Vec<RespItem> = Vec::new();
    let mut terminal = false;
    for (i, ev) in events.iter().enumerate() {
        let name = ev.event.as_deref().unwrap_or("");
        let v = json(ev.data.as_bytes())?;
        ensure!(
            s(&v, "type") == name,
            "event name",
            "event {name:?} carries data.type {:?}",
            s(&v, "type")
        );
        ensure!(
            !terminal,
            "terminal event last",
            "{name} after the terminal event"
        );
        let n = v["sequence_number"].as_i64();
        ensure!(n.is_some(), "sequence_number", "{}", snippet(&ev.data));
        if let (Some(prev), Some(n)) = (seq, n) {
            ensure!(n > prev, "increasing sequence_number", "{n} after {prev}");
        }
        seq = n;
        if i == 0 {
            ensure!(
                name == "response.created" || name == "error",
                "response.created first",
                "first event {name}"
            );
        }
        let item_at = |v: &Value, items: &mut Vec<RespItem>| -> Result<usize, String> {
            let oi = v["output_index"].as_u64().unwrap_or(u64::MAX) as usize;
            let item = items.get(oi).ok_or_else(|| {
                format!(
                    "output_item.added before content: {name} for output_index {oi}: {}",
                    snippet(&ev.data)
                )
            })?;
            if let Some(id) = v.get("item_id").and_then(Value::as_str) {
                ensure!(
                    id == item.id,
                    "consistent item ids",
                    "{name} item_id {id} for item {}",
                    item.id
                );
            }
            ensure!(!item.done, "no content after output_item.done", "{name}");
            Ok(oi)
        };
        match name {
            "response.created" | "response.in_progress" | "response.queued" => {
                let r = &v["response"];
                ensure!(
                    !s(r, "id").is_empty(),
                    "response id",
                    "{}",
                    snippet(&ev.data)
                );
                if resp_id.is_empty() {
                    resp_id = s(r, "id").to_string();
                    ensure!(
                        !s(r, "model").is_empty(),
                        "response model",
                        "{}",
                        snippet(&ev.data)
                    );
                }
                ensure!(
                    s(r, "id") == resp_id,
                    "consistent response id",
                    "{} vs {resp_id}",
                    s(r, "id")
                );
            }
            "response.output_item.added" => {
                let oi = v["output_index"].as_u64().unwrap_or(u64::MAX) as usize;
                ensure!(
                    oi == items.len(),
                    "output_index order",
                    "{oi} added, expected {}",
                    items.len()
                );
                let it = &v["item"];
                ensure!(!s(it, "id").is_empty(), "item id", "{}", snippet(&ev.data));
                if s(it, "type") == "function_call" {
                    ensure!(
                        !s(it, "call_id").is_empty() && !s(it, "name").is_empty(),
                        "function_call call_id and name",
                        "{}",
                        snippet(&ev.data)
                    );
                }
                items.push(RespItem {
                    id: s(it, "id").to_string(),
                    kind: s(it, "type").to_string(),
                    done: false,
                    text: String::new(),
                    args: String::new(),
                    parts_open: Vec::new(),
                });
            }
            "response.content_part.added" => {
                let oi = item_at(&v, &mut items)?;
                let ci = v["content_index"].as_u64().unwrap_or(u64::MAX) as usize;
                let it = &mut items[oi];
                ensure!(ci == it.parts_open.len(), "content_index order", "{ci}");
                it.parts_open.push(true);
            }
            "response.output_text.delta"
            | "response.output_text.done"
            | "response.refusal.delta"
            | "response.output_text.annotation.added" => {
                let oi = item_at(&v, &mut items)?;
                let ci = v["content_index"].as_u64().unwrap_or(u64::MAX) as usize;
                let it = &mut items[oi];
                ensure!(
                    it.kind == "message",
                    "text in a message item",
                    "{name} in {}",
                    it.kind
                );
                ensure!(
                    it.parts_open.get(ci) == Some(&true),
                    "content_part.added before output_text.delta",
                    "{name} content_index {ci} of {}",
                    it.id
                );
                if name == "response.output_text.delta" {
                    it.text.push_str(s(&v, "delta"));
                }
                if name == "response.output_text.done" {
                    ensure!(
                        s(&v, "text") == it.text,
                        "output_text.done has the full text",
                        "{}",
                        snippet(&ev.data)
                    );
                }
            }
            "response.content_part.done" => {
                let oi = item_at(&v, &mut items)?;
                let ci = v["content_index"].as_u64().unwrap_or(u64::MAX) as usize;
                let it = &mut items[oi];
                ensure!(
                    it.parts_open.get(ci) == Some(&true),
                    "content_part.done for an open part",
                    "{ci}"
                );
                it.parts_open[ci] = false;
            }
            "response.function_call_arguments.delta" | "response.function_call_arguments.done" => {
                let oi = item_at(&v, &mut items)?;
                let it = &mut items[oi];
                ensure!(
                    it.kind == "function_call",
                    "arguments in a function_call item",
                    "{}",
                    it.kind
                );
                if name.ends_with("delta") {
                    it.args.push_str(s(&v, "delta"));
                } else {
                    ensure!(
                        s(&v, "arguments") == it.args,
                        "arguments.done has the full arguments",
                        "{}",
                        snippet(&ev.data)
                    );
                }
            }
            "response.reasoning_summary_part.added"
            | "response.reasoning_summary_part.done"
            | "response.reasoning_summary_text.delta"
            | "response.reasoning_summary_text.done"
            | "response.reasoning_text.delta"
            | "response.reasoning_text.done" => {
                let oi = item_at(&v, &mut items)?;
                let it = &mut items[oi];
                ensure!(
                    it.kind == "reasoning",
                    "summary in a reasoning item",
                    "{}",
                    it.kind
                );
                if let Some(si) = v["summary_index"].as_u64() {
                    let si = si as usize;
                    if name == "response.reasoning_summary_part.added" {
                        ensure!(si == it.parts_open.len(), "summary_index order", "{si}");
                        it.parts_open.push(false);
                    } else {
                        ensure!(
                            si < it.parts_open.len(),
                            "reasoning_summary_part.added before its text",
                            "{name} summary_index {si} of {}",
                            it.id
                        );
                    }
                }
            }
            "response.output_item.done" => {
                let oi = item_at(&v, &mut items)?;
                let it = &mut items[oi];
                let item = &v["item"];
                ensure!(
                    s(item, "id") == it.id,
                    "consistent item ids",
                    "done {} vs added {}",
                    s(item, "id"),
                    it.id
                );
                ensure!(
                    it.parts_open.iter().all(|o| !o),
                    "content parts done before item done",
                    "{}",
                    it.id
                );
                if it.kind == "message" {
                    let text: String = item["content"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| s(p, "text"))
                        .collect();
                    ensure!(
                        text == it.text,
                        "output_item.done has the full text",
                        "{} vs deltas {}",
                        snippet(&text),
                        snippet(&it.text)
                    );
                }
                if it.kind == "function_call" {
                    ensure!(
                        s(item, "arguments") == it.args,
                        "output_item.done has the full arguments",
                        "{}",
                        snippet(&ev.data)
                    );
                    let args = if it.args.is_empty() { "{}" } else { &it.args };
                    ensure!(
                        serde_json::from_str::<Value>(args).is_ok_and(|v| v.is_object()),
                        "arguments are a JSON object",
                        "{}",
                        snippet(args)
                    );
                }
                it.done = true;
            }
            "response.completed" | "response.incomplete" => {
                let r = &v["response"];
                ensure!(
                    s(r, "status") == name.trim_start_matches("response."),
                    "terminal status",
                    "{name} with status {:?}",
                    s(r, "status")
                );
                ensure!(
                    s(r, "id") == resp_id,
                    "consistent response id",
                    "{} vs {resp_id}",
                    s(r, "id")
                );
                ensure!(
                    items.iter().all(|i| i.done),
                    "output_item.done for every item",
                    "{:?}",
                    items
                        .iter()
                        .filter(|i| !i.done)
                        .map(|i| &i.id)
                        .collect::<Vec<_>>()
                );
                let out: Vec<&str> = r["output"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| s(o, "id"))
                    .collect();
                let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
                ensure!(
                    out == ids,
                    "terminal output lists the items",
                    "{out:?} vs {ids:?}"
                );
                ensure!(
                    r["usage"].is_object(),
                    "terminal usage",
                    "{}",
                    snippet(&ev.data)
                );
                terminal = true;
            }
            "response.failed" | "error" => {
                if name == "error" {
                    ensure!(
                        v["message"].is_string(),
                        "error shape",
                        "{}",
                        snippet(&ev.data)
                    );
                } else {
                    ensure!(
                        v["response"]["error"].is_object(),
                        "response.failed error",
                        "{}",
                        snippet(&ev.data)
                    );
                }
                let rest = &events[i + 1..];
                ensure!(
                    rest.iter()
                        .all(|e| e.event.as_deref() == Some("response.failed")),
                    "error ends stream",
                    "events after {name}"
                );
                return Ok(());
            }
            other => {
                ensure!(other.starts_with("response."), "known event", "{other}");
            }
        }
    }
    ensure!(
        terminal,
        "response.completed",
        "stream ended without a terminal event"
    );
    Ok(())
}

fn responses_response(v: &Value) -> Check {
    ensure!(
        s(v, "object") == "response",
        "object",
        "{}",
        snippet(&v.to_string())
    );
    ensure!(!s(v, "id").is_empty(), "id", "missing");
    ensure!(!s(v, "model").is_empty(), "model", "missing");
    ensure!(
        matches!(s(v, "status"), "completed" | "incomplete"),
        "status",
        "{}",
        s(v, "status")
    );
    for o in v["output"].as_array().into_iter().flatten() {
        ensure!(!s(o, "id").is_empty(), "item id", "{o}");
        if s(o, "type") == "function_call" {
            ensure!(o["arguments"].is_string(), "arguments string", "{o}");
            ensure!(!s(o, "call_id").is_empty(), "call_id", "{o}");
        }
    }
    ensure!(v["usage"]["input_tokens"].is_u64(), "usage", "missing");
    Ok(())
}

// -------------------------------------------------------------------------------- Gemini

/// Gemini `:streamGenerateContent?alt=sse`: `data: ` framing (with the space) and no event
/// names, every chunk a `GenerateContentResponse`, `finishReason` on the last chunk and on no
/// earlier one, function calls with object `args`; or an error object ending the stream.
pub fn gemini_stream(body: &[u8]) -> Check {
    framing_lines(body, false)?;
    let events = sse_events(body)?;
    ensure!(!events.is_empty(), "non-empty", "no events");
    for (i, ev) in events.iter().enumerate() {
        ensure!(ev.event.is_none(), "data-only", "event line {:?}", ev.event);
        let v = json(ev.data.as_bytes())?;
        let last = i + 1 == events.len();
        if v.get("error").is_some() {
            let e = &v["error"];
            ensure!(
                e["code"].is_u64() && e["message"].is_string() && e["status"].is_string(),
                "error object shape",
                "{}",
                snippet(&ev.data)
            );
            ensure!(last, "error ends stream", "events after the error");
            return Ok(());
        }
        let c = &v["candidates"][0];
        ensure!(c.is_object(), "candidates[0]", "{}", snippet(&ev.data));
        for p in c["content"]["parts"].as_array().into_iter().flatten() {
            if let Some(fc) = p.get("functionCall") {
                ensure!(
                    !s(fc, "name").is_empty(),
                    "functionCall name",
                    "{}",
                    snippet(&ev.data)
                );
                ensure!(
                    fc.get("args").is_none_or(Value::is_object),
                    "functionCall args object",
                    "{}",
                    snippet(&ev.data)
                );
            }
        }
        let has_finish = c["finishReason"].is_string();
        if last {
            ensure!(
                has_finish,
                "finishReason on the last chunk",
                "{}",
                snippet(&ev.data)
            );
            ensure!(
                v["usageMetadata"].is_object(),
                "usageMetadata on the last chunk",
                "{}",
                snippet(&ev.data)
            );
        } else {
            ensure!(
                !has_finish,
                "finishReason only on the last chunk",
                "chunk {i}: {}",
                snippet(&ev.data)
            );
        }
    }
    Ok(())
}

fn gemini_response(v: &Value) -> Check {
    let c = &v["candidates"][0];
    ensure!(
        c.is_object(),
        "candidates[0]",
        "{}",
        snippet(&v.to_string())
    );
    ensure!(c["content"]["parts"].is_array(), "content.parts", "{c}");
    ensure!(c["finishReason"].is_string(), "finishReason", "{c}");
    ensure!(v["usageMetadata"].is_object(), "usageMetadata", "missing");
    Ok(())
}

// ------------------------------------------------------------------------------ requests

/// An upstream request body has what the provider requires: Anthropic `model`, `max_tokens`
/// and non-empty `messages` whose first non-system turn is the user's (consecutive turns of
/// one role are allowed: the API merges them; `system` turns inside `messages` are what Claude
/// Code itself sends); Chat `model` and `messages`; Responses `model` and `input`; Gemini
/// `contents` (roles `user`/`model`) and no `model` (it is in the URL). Replayed reasoning
/// must be acceptable: Anthropic thinking blocks signed, Gemini function calls with a
/// `thoughtSignature` (Gemini 3 requires one; Google documents a dummy for calls from
/// elsewhere), Responses reasoning items with `encrypted_content` when `store` is false (the
/// API cannot look them up).
pub fn request(upstream: Protocol, body: &[u8]) -> Check {
    let v = json(body)?;
    match upstream {
        Protocol::Anthropic => {
            ensure!(v["model"].is_string(), "model", "missing");
            ensure!(v["max_tokens"].is_u64(), "max_tokens required", "missing");
            let msgs = v["messages"].as_array().cloned().unwrap_or_default();
            ensure!(!msgs.is_empty(), "messages", "none");
            for m in &msgs {
                ensure!(
                    matches!(s(m, "role"), "user" | "assistant" | "system"),
                    "message roles",
                    "{}",
                    s(m, "role")
                );
            }
            for b in msgs
                .iter()
                .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
            {
                match s(&b, "type") {
                    "thinking" => ensure!(
                        !s(&b, "signature").is_empty(),
                        "thinking blocks are signed",
                        "the API rejects unsigned thinking: {}",
                        snippet(&b.to_string())
                    ),
                    "redacted_thinking" => {
                        ensure!(!s(&b, "data").is_empty(), "redacted_thinking data", "{b}")
                    }
                    _ => {}
                }
            }
            let first = msgs.iter().find(|m| m["role"] != "system");
            ensure!(
                first.is_some_and(|m| m["role"] == "user"),
                "first turn is the user's",
                "{:?}",
                first.map(|m| &m["role"])
            );
        }
        Protocol::OpenAiChat => {
            ensure!(v["model"].is_string(), "model", "missing");
            ensure!(
                v["messages"].as_array().is_some_and(|m| !m.is_empty()),
                "messages",
                "none"
            );
        }
        Protocol::OpenAiResponses => {
            ensure!(v["model"].is_string(), "model", "missing");
            ensure!(
                v["input"].is_array() || v["input"].is_string(),
                "input",
                "missing"
            );
            for it in v["input"].as_array().into_iter().flatten() {
                if s(it, "type") == "reasoning" && v["store"] == Value::Bool(false) {
                    ensure!(
                        it["encrypted_content"].is_string(),
                        "reasoning items carry encrypted_content",
                        "without it (store: false) the API looks the id up and fails: {}",
                        snippet(&it.to_string())
                    );
                }
            }
        }
        Protocol::Gemini => {
            ensure!(
                v.get("model").is_none(),
                "no model in the body",
                "{}",
                v["model"]
            );
            let c = v["contents"].as_array().cloned().unwrap_or_default();
            ensure!(!c.is_empty(), "contents", "none");
            for m in &c {
                ensure!(
                    matches!(s(m, "role"), "user" | "model"),
                    "content roles",
                    "{}",
                    s(m, "role")
                );
                if s(m, "role") != "model" {
                    continue;
                }
                for p in m["parts"].as_array().into_iter().flatten() {
                    ensure!(
                        p.get("functionCall").is_none() || p["thoughtSignature"].is_string(),
                        "function calls carry a thoughtSignature",
                        "Gemini 3 rejects a replayed call without one: {}",
                        snippet(&p.to_string())
                    );
                }
            }
        }
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    //! Each validator rejects the mistakes the peers make (cliproxyapi.md §12, CLIENTS.md),
    //! naming the rule: a validator that accepts everything would make the matrix worthless.
    use super::*;

    fn sse(events: &[(Option<&str>, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (e, d) in events {
            switchyard_translators::sse::encode_event(*e, d, &mut out);
        }
        out
    }

    fn rule(r: Check) -> String {
        let e = r.expect_err("the validator accepted a broken stream");
        e.split(':').next().unwrap_or("").to_string()
    }

    const START: (Option<&str>, &str) = (
        Some("message_start"),
        r#"{"type":"message_start","message":{"id":"m","role":"assistant","model":"x","content":[],"usage":{"input_tokens":1,"output_tokens":0}}}"#,
    );
    const TEXT0: (Option<&str>, &str) = (
        Some("content_block_start"),
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    );
    const DELTA0: (Option<&str>, &str) = (
        Some("content_block_delta"),
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#,
    );
    const STOP0: (Option<&str>, &str) = (
        Some("content_block_stop"),
        r#"{"type":"content_block_stop","index":0}"#,
    );
    const MDELTA: (Option<&str>, &str) = (
        Some("message_delta"),
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#,
    );
    const MSTOP: (Option<&str>, &str) = (Some("message_stop"), r#"{"type":"message_stop"}"#);

    #[test]
    fn anthropic_rules() {
        let good = [START, TEXT0, DELTA0, STOP0, MDELTA, MSTOP];
        anthropic_stream(&sse(&good)).unwrap();
        let no_event = [START, (None, DELTA0.1)];
        assert_eq!(rule(anthropic_stream(&sse(&no_event))), "event line");
        let delta_first = [START, DELTA0, STOP0, MDELTA, MSTOP];
        assert_eq!(
            rule(anthropic_stream(&sse(&delta_first))),
            "block open before delta"
        );
        let unclosed = [START, TEXT0, DELTA0, MDELTA, MSTOP];
        assert_eq!(
            rule(anthropic_stream(&sse(&unclosed))),
            "blocks closed before message_delta"
        );
        let no_stop = [START, TEXT0, DELTA0, STOP0, MDELTA];
        assert_eq!(rule(anthropic_stream(&sse(&no_stop))), "message_stop last");
        let late_start = [TEXT0, START];
        assert_eq!(
            rule(anthropic_stream(&sse(&late_start))),
            "message_start first"
        );
        let thinking_in_text = [
            START,
            TEXT0,
            (
                Some("content_block_delta"),
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}"#,
            ),
        ];
        assert_eq!(
            rule(anthropic_stream(&sse(&thinking_in_text))),
            "delta matches block"
        );
        let err = [
            START,
            (
                Some("error"),
                r#"{"type":"error","error":{"type":"overloaded_error","message":"o"}}"#,
            ),
        ];
        anthropic_stream(&sse(&err)).unwrap();
    }

    fn chat(id: &str, delta: &str, finish: &str) -> String {
        format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        )
    }

    #[test]
    fn chat_rules() {
        let a = chat("c1", r#"{"content":"hi"}"#, "null");
        let f = chat("c1", "{}", r#""stop""#);
        chat_stream(&sse(&[(None, &a), (None, &f), (None, "[DONE]")]), false).unwrap();
        let no_finish = sse(&[(None, &a), (None, "[DONE]")]);
        assert_eq!(rule(chat_stream(&no_finish, false)), "finish_reason chunk");
        let no_done = sse(&[(None, &a), (None, &f)]);
        assert_eq!(rule(chat_stream(&no_done, false)), "[DONE] last");
        let other_id = chat("c2", "{}", r#""stop""#);
        let ids = sse(&[(None, &a), (None, &other_id), (None, "[DONE]")]);
        assert_eq!(rule(chat_stream(&ids, false)), "consistent id");
        let nameless = chat(
            "c1",
            r#"{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}"#,
            "null",
        );
        let t = sse(&[(None, &nameless), (None, &f), (None, "[DONE]")]);
        assert_eq!(
            rule(chat_stream(&t, false)),
            "first tool call delta has id and name"
        );
        let plain = sse(&[(None, &a), (None, &f), (None, "[DONE]")]);
        assert_eq!(
            rule(chat_stream(&plain, true)),
            "usage chunk when include_usage"
        );
    }

    fn resp(ty: &str, seq: u32, rest: &str) -> (Option<String>, String) {
        (
            Some(ty.to_string()),
            format!(r#"{{"type":"{ty}","sequence_number":{seq}{rest}}}"#),
        )
    }

    fn resp_sse(events: &[(Option<String>, String)]) -> Vec<u8> {
        let v: Vec<(Option<&str>, &str)> = events
            .iter()
            .map(|(e, d)| (e.as_deref(), d.as_str()))
            .collect();
        sse(&v)
    }

    #[test]
    fn responses_rules() {
        let created = resp(
            "response.created",
            0,
            r#","response":{"id":"r","model":"m","output":[]}"#,
        );
        let added = resp(
            "response.output_item.added",
            1,
            r#","output_index":0,"item":{"id":"i","type":"message","content":[]}"#,
        );
        let part = resp(
            "response.content_part.added",
            2,
            r#","item_id":"i","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}"#,
        );
        let delta = resp(
            "response.output_text.delta",
            3,
            r#","item_id":"i","output_index":0,"content_index":0,"delta":"hi""#,
        );
        let part_done = resp(
            "response.content_part.done",
            4,
            r#","item_id":"i","output_index":0,"content_index":0"#,
        );
        let done = resp(
            "response.output_item.done",
            5,
            r#","output_index":0,"item":{"id":"i","type":"message","content":[{"type":"output_text","text":"hi"}]}"#,
        );
        let completed = resp(
            "response.completed",
            6,
            r#","response":{"id":"r","model":"m","status":"completed","output":[{"id":"i"}],"usage":{}}"#,
        );
        let good = [
            created.clone(),
            added.clone(),
            part.clone(),
            delta.clone(),
            part_done.clone(),
            done.clone(),
            completed.clone(),
        ];
        responses_stream(&resp_sse(&good)).unwrap();
        let no_part = [created.clone(), added.clone(), delta.clone()];
        assert_eq!(
            rule(responses_stream(&resp_sse(&no_part))),
            "content_part.added before output_text.delta"
        );
        let no_item = [created.clone(), part.clone()];
        assert_eq!(
            rule(responses_stream(&resp_sse(&no_item))),
            "output_item.added before content"
        );
        let no_completed = [
            created.clone(),
            added.clone(),
            part.clone(),
            delta.clone(),
            part_done.clone(),
            done.clone(),
        ];
        assert_eq!(
            rule(responses_stream(&resp_sse(&no_completed))),
            "response.completed"
        );
        let no_done = [
            created.clone(),
            added.clone(),
            part.clone(),
            delta.clone(),
            part_done.clone(),
            completed.clone(),
        ];
        assert_eq!(
            rule(responses_stream(&resp_sse(&no_done))),
            "output_item.done for every item"
        );
        let late_created = [added.clone(), created.clone()];
        assert_eq!(
            rule(responses_stream(&resp_sse(&late_created))),
            "response.created first"
        );
        let mut backwards = good.clone();
        backwards[2] = resp(
            "response.content_part.added",
            0,
            r#","item_id":"i","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}"#,
        );
        assert_eq!(
            rule(responses_stream(&resp_sse(&backwards))),
            "increasing sequence_number"
        );
    }

    #[test]
    fn gemini_rules() {
        let chunk = r#"{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}"#;
        let last = r#"{"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{}}"#;
        gemini_stream(&sse(&[(None, chunk), (None, last)])).unwrap();
        assert_eq!(
            rule(gemini_stream(&sse(&[(None, chunk)]))),
            "finishReason on the last chunk"
        );
        assert_eq!(
            rule(gemini_stream(&sse(&[(None, last), (None, last)]))),
            "finishReason only on the last chunk"
        );
        assert_eq!(
            rule(gemini_stream(format!("data:{last}\n\n").as_bytes())),
            "framing"
        );
        assert_eq!(rule(gemini_stream(&sse(&[(Some("x"), last)]))), "framing");
    }
}
