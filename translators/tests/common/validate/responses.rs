//! OpenAI Responses: the stream rules of `responses.stream()` (and Codex) and the response shape.

use serde_json::Value;

use super::{framing_lines, json, s, snippet, sse_events, Check};

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

pub(super) fn responses_response(v: &Value) -> Check {
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
