//! OpenAI Chat Completions: the stream rules of `.stream()` and the response shape.

use serde_json::Value;

use super::{framing_lines, json, s, snippet, sse_events, Check};

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

pub(super) fn chat_response(v: &Value) -> Check {
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
