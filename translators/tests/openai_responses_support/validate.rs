//! A validator of Responses streams with the rules the real parsers enforce:
//! - openai-python `responses.stream()` (`lib/streaming/responses/_responses.py`):
//!   `response.created` first; one lifecycle response id; `output_item.added` before any
//!   event of its `output_index`, indexes unique; `content_part.added` before
//!   `output_text.delta` of that content index; `output_item.done` with the same type, id
//!   and call id as the added item; no item left unfinished at `response.completed`, whose
//!   output must agree with the finished items; a top-level `error` object in any event's data
//!   raises (the `error` event).
//! - Codex (`codex-api/src/sse/responses.rs`): reads the answer from `output_item.done`,
//!   requires `response.completed` with `id` and a usage that has `input_tokens`,
//!   `output_tokens`, `total_tokens` and both details objects; reads `response.failed`'s
//!   `response.error`.
//! - SSE: every event has an `event:` line equal to its `type`, and `sequence_number` counts
//!   0, 1, 2, ...
//!
//! Returns what a client assembles, so tests can compare it with the IR that went in.

use serde_json::Value;
use switchyard_translators::sse::{SseDecoder, SseEvent};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Assembled {
    pub id: String,
    pub model: String,
    /// The `output_item.done` items in output-index order.
    pub items: Vec<Value>,
    /// `response.completed`, `response.incomplete` or `response.failed`.
    pub terminal: String,
    /// The terminal event's `response` object.
    pub response: Value,
    /// The `error` event's message (the SDK raises with it).
    pub error: Option<String>,
    /// Event types in order.
    pub types: Vec<String>,
}

#[derive(Debug, Default)]
struct Item {
    kind: String,
    id: String,
    call_id: Option<String>,
    /// content index → (text so far, part done)
    parts: Vec<(String, bool)>,
    arguments: String,
    summary: Vec<String>,
    done: bool,
    done_item: Value,
}

fn s(v: &Value, k: &str) -> Result<String, String> {
    v.get(k)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| format!("missing string {k} in {v}"))
}

fn n(v: &Value, k: &str) -> Result<usize, String> {
    v.get(k)
        .and_then(Value::as_u64)
        .map(|x| x as usize)
        .ok_or_else(|| format!("missing number {k} in {v}"))
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

pub fn parse_sse(body: &[u8]) -> Result<Vec<(Option<String>, Value)>, String> {
    let mut d = SseDecoder::default();
    let mut evs: Vec<SseEvent> = Vec::new();
    d.feed(body, &mut evs).map_err(|e| e.to_string())?;
    d.finish(&mut evs);
    evs.into_iter()
        .map(|e| {
            let v: Value = serde_json::from_str(&e.data)
                .map_err(|err| format!("data is not JSON ({err}): {}", e.data))?;
            Ok((e.event, v))
        })
        .collect()
}

pub fn validate(body: &[u8]) -> Result<Assembled, String> {
    let events = parse_sse(body)?;
    let mut a = Assembled::default();
    let mut items: Vec<Item> = Vec::new();
    let mut started = false;
    for (seq, (name, data)) in events.iter().enumerate() {
        let ty = s(data, "type")?;
        check(name.as_deref() == Some(ty.as_str()), || {
            format!("event line {name:?} != type {ty}")
        })?;
        check(n(data, "sequence_number")? == seq, || {
            format!(
                "sequence_number of event {seq} ({ty}) is {}",
                data["sequence_number"]
            )
        })?;
        check(a.terminal.is_empty(), || {
            format!("{ty} after {}", a.terminal)
        })?;
        a.types.push(ty.clone());
        if ty == "error" {
            let msg = data["error"]["message"].as_str();
            check(msg.is_some(), || {
                format!("error event without error.message: {data}")
            })?;
            check(
                data.get("message").is_some() && data.get("code").is_some(),
                || format!("error event without top-level code/message: {data}"),
            )?;
            a.error = msg.map(String::from);
            continue;
        }
        check(a.error.is_none(), || {
            format!("{ty} after error: only response.failed may follow")
        })
        .or_else(|e| {
            if ty == "response.failed" {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        if !started {
            check(ty == "response.created" || ty == "response.failed", || {
                format!("first event is {ty}, not response.created")
            })?;
        }
        if let Some(r) = data.get("response") {
            let id = s(r, "id")?;
            if !started {
                started = true;
                a.id = id.clone();
                a.model = s(r, "model")?;
                if ty == "response.created" {
                    check(r["status"] == "in_progress", || {
                        format!("created status {r}")
                    })?;
                    check(r["output"] == Value::Array(vec![]), || {
                        "created output".into()
                    })?;
                    check(r["created_at"].is_i64(), || "created_at".into())?;
                }
            }
            check(id == a.id, || {
                format!("response id changed: {id} vs {}", a.id)
            })?;
        }
        match ty.as_str() {
            "response.created" | "response.in_progress" => {}
            "response.output_item.added" => {
                let oi = n(data, "output_index")?;
                check(oi == items.len(), || format!("output_index {oi} not next"))?;
                let item = &data["item"];
                let kind = s(item, "type")?;
                let id = s(item, "id")?;
                check(!id.is_empty(), || "empty item id".into())?;
                if kind == "function_call" {
                    check(item["arguments"] == "", || {
                        "added arguments not empty".into()
                    })?;
                    s(item, "name")?;
                }
                if kind == "message" {
                    check(item["content"] == Value::Array(vec![]), || {
                        "added content".into()
                    })?;
                    check(item["role"] == "assistant", || "role".into())?;
                }
                items.push(Item {
                    kind,
                    id,
                    call_id: item["call_id"].as_str().map(String::from),
                    ..Item::default()
                });
            }
            "response.output_item.done" => {
                let oi = n(data, "output_index")?;
                let it = items
                    .get_mut(oi)
                    .ok_or(format!("done for unknown item {oi}"))?;
                check(!it.done, || format!("item {oi} done twice"))?;
                let item = &data["item"];
                check(
                    s(item, "type")? == it.kind && s(item, "id")? == it.id,
                    || format!("done item identity changed: {item}"),
                )?;
                check(
                    item["call_id"].as_str().map(String::from) == it.call_id,
                    || "call_id changed".into(),
                )?;
                match it.kind.as_str() {
                    "message" => {
                        let texts: Vec<String> = item["content"]
                            .as_array()
                            .ok_or("content")?
                            .iter()
                            .map(|c| c["text"].as_str().unwrap_or_default().to_string())
                            .collect();
                        let streamed: Vec<String> = it.parts.iter().map(|p| p.0.clone()).collect();
                        check(texts == streamed, || {
                            format!("done text {texts:?} != {streamed:?}")
                        })?;
                        check(it.parts.iter().all(|p| p.1), || {
                            "content part not done".into()
                        })?;
                    }
                    "function_call" => {
                        check(item["arguments"] == it.arguments.as_str(), || {
                            format!("done arguments {} != {}", item["arguments"], it.arguments)
                        })?;
                        check(item["status"] == "completed", || "fc status".into())?;
                    }
                    "reasoning" => {
                        let texts: Vec<String> = item["summary"]
                            .as_array()
                            .ok_or("summary")?
                            .iter()
                            .map(|c| c["text"].as_str().unwrap_or_default().to_string())
                            .collect();
                        check(texts == it.summary, || format!("summary {texts:?}"))?;
                    }
                    _ => {}
                }
                it.done = true;
                it.done_item = item.clone();
            }
            "response.content_part.added" | "response.content_part.done" => {
                let it = open_item(&mut items, data, "message")?;
                let ci = n(data, "content_index")?;
                if ty.ends_with("added") {
                    check(ci == it.parts.len(), || {
                        format!("content_index {ci} not next")
                    })?;
                    check(data["part"]["type"] == "output_text", || "part type".into())?;
                    check(data["part"]["annotations"].is_array(), || {
                        "annotations".into()
                    })?;
                    it.parts.push((String::new(), false));
                } else {
                    let p = it
                        .parts
                        .get_mut(ci)
                        .ok_or("content_part.done before added")?;
                    check(data["part"]["text"] == p.0.as_str(), || {
                        "part.done text".into()
                    })?;
                    p.1 = true;
                }
            }
            "response.output_text.delta" | "response.output_text.done" => {
                let it = open_item(&mut items, data, "message")?;
                let ci = n(data, "content_index")?;
                let p = it
                    .parts
                    .get_mut(ci)
                    .ok_or(format!("{ty} before content_part.added"))?;
                check(!p.1, || format!("{ty} after content_part.done"))?;
                check(data["logprobs"].is_array(), || "logprobs".into())?;
                if ty.ends_with("delta") {
                    p.0.push_str(&s(data, "delta")?);
                } else {
                    check(s(data, "text")? == p.0, || "output_text.done text".into())?;
                }
            }
            "response.function_call_arguments.delta" => {
                let it = open_item(&mut items, data, "function_call")?;
                it.arguments.push_str(&s(data, "delta")?);
            }
            "response.function_call_arguments.done" => {
                let it = open_item(&mut items, data, "function_call")?;
                check(s(data, "arguments")? == it.arguments, || {
                    "arguments.done".into()
                })?;
            }
            "response.reasoning_summary_part.added" => {
                let it = open_item(&mut items, data, "reasoning")?;
                check(n(data, "summary_index")? == it.summary.len(), || {
                    "summary_index".into()
                })?;
                it.summary.push(String::new());
            }
            "response.reasoning_summary_text.delta"
            | "response.reasoning_summary_text.done"
            | "response.reasoning_summary_part.done" => {
                let it = open_item(&mut items, data, "reasoning")?;
                let si = n(data, "summary_index")?;
                let text = it.summary.get_mut(si).ok_or("summary part not added")?;
                match ty.rsplit('.').next() {
                    Some("delta") => text.push_str(&s(data, "delta")?),
                    _ if ty.contains("text") => {
                        check(s(data, "text")? == *text, || "summary done text".into())?
                    }
                    _ => check(data["part"]["text"] == text.as_str(), || {
                        "summary part".into()
                    })?,
                }
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                let r = &data["response"];
                a.terminal = ty.clone();
                a.response = r.clone();
                if ty == "response.failed" {
                    check(r["status"] == "failed", || "failed status".into())?;
                    s(&r["error"], "message")?;
                    continue;
                }
                check(items.iter().all(|i| i.done), || {
                    "unfinished items at completion".into()
                })?;
                let done: Vec<Value> = items.iter().map(|i| i.done_item.clone()).collect();
                check(r["output"] == Value::Array(done), || {
                    format!("final output != done items: {}", r["output"])
                })?;
                let u = &r["usage"];
                for k in ["input_tokens", "output_tokens", "total_tokens"] {
                    n(u, k)?;
                }
                n(&u["input_tokens_details"], "cached_tokens")?;
                n(&u["output_tokens_details"], "reasoning_tokens")?;
                let want = if ty == "response.completed" {
                    "completed"
                } else {
                    "incomplete"
                };
                check(r["status"] == want, || {
                    format!("terminal status {}", r["status"])
                })?;
                if ty == "response.incomplete" {
                    s(&r["incomplete_details"], "reason")?;
                }
            }
            other => return Err(format!("unexpected event type {other}")),
        }
    }
    check(!a.terminal.is_empty(), || "no terminal event".into())?;
    a.items = items
        .into_iter()
        .filter(|i| i.done)
        .map(|i| i.done_item)
        .collect();
    Ok(a)
}

fn open_item<'a>(items: &'a mut [Item], data: &Value, kind: &str) -> Result<&'a mut Item, String> {
    let oi = n(data, "output_index")?;
    let it = items.get_mut(oi).ok_or(format!(
        "event for output index {oi} before its output_item.added"
    ))?;
    check(it.kind == kind, || {
        format!("{} on a {} item", data["type"], it.kind)
    })?;
    check(!it.done, || {
        format!("{} after output_item.done", data["type"])
    })?;
    check(data["item_id"] == it.id.as_str(), || {
        format!("item_id mismatch: {data}")
    })?;
    Ok(it)
}
