//! Helpers for the Anthropic tests: the recorded fixtures (chunk files, JSON bodies, VCR
//! cassettes), stream decoding at any split, and a validator of the rules Anthropic's stream
//! parsers enforce (CLIENTS.md).
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns: a fixture they cannot read must fail loudly"
)]

#[path = "../common/cassette.rs"]
pub mod cassette;

use std::path::PathBuf;

use serde_json::Value;
use switchyard_translators::anthropic::{StreamDecoder, StreamEncoder};
use switchyard_translators::ir::{EncodeContext, StreamEvent};
use switchyard_translators::sse::{SseDecoder, SseEvent};
use switchyard_translators::StreamOptions;

pub fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/upstream/anthropic-messages");
    assert!(d.is_dir(), "fixture dir {} missing", d.display());
    d
}

pub fn read(name: &str) -> Vec<u8> {
    let p = dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// Every file name in the fixture directory (README excluded), sorted.
pub fn all_files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    v.sort();
    v
}

/// A `*.chunks.txt` file as the SSE the provider sent (`event: <type>\ndata: <line>\n\n`).
pub fn replay_chunks(name: &str) -> Vec<u8> {
    let raw = String::from_utf8(read(name)).expect("utf-8");
    let mut out = Vec::new();
    for line in raw.split('\n').filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("chunk line is JSON");
        let ty = v["type"].as_str().expect("chunk type");
        out.extend_from_slice(format!("event: {ty}\ndata: {line}\n\n").as_bytes());
    }
    out
}

pub use cassette::Interaction;

/// Every interaction of a cassette (`common/cassette.rs`).
pub fn cassette(name: &str) -> Vec<Interaction> {
    cassette::load(&dir().join(name))
}

/// SSE bytes in chunks → IR events.
pub fn decode_chunks(chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::default();
    let mut dec = StreamDecoder::new();
    let mut events: Vec<SseEvent> = Vec::new();
    let mut out = Vec::new();
    for c in chunks {
        sse.feed(c, &mut events).expect("sse");
        for e in events.drain(..) {
            dec.feed(&e, &mut out);
        }
    }
    sse.finish(&mut events);
    for e in events.drain(..) {
        dec.feed(&e, &mut out);
    }
    dec.finish(&mut out);
    out
}

pub fn decode(body: &[u8]) -> Vec<StreamEvent> {
    decode_chunks(&[body])
}

pub fn ctx() -> EncodeContext {
    EncodeContext::new(1_764_000_000, "sy")
}

pub fn encode(events: &[StreamEvent], opts: StreamOptions) -> Vec<u8> {
    let mut enc = StreamEncoder::new(ctx(), opts);
    let mut out = Vec::new();
    for e in events {
        enc.encode(e, &mut out);
    }
    out
}

/// What a client assembles from an Anthropic stream: (block type, text / thinking / input
/// JSON / signature) per block, the stop reason, the final usage, the error type.
#[derive(Debug, Default, PartialEq)]
pub struct Assembled {
    pub id: String,
    pub model: String,
    pub blocks: Vec<(String, String, String)>,
    pub stop_reason: Option<String>,
    pub usage: Value,
    pub error: Option<String>,
}

/// Parse an Anthropic stream the way `messages.stream()` does and check its rules: every
/// event has an `event:` line naming its `data.type`; `message_start` first and once; block
/// indexes contiguous from 0; a block opened before its deltas, deltas matching its type
/// (no thinking in text blocks), closed once; nothing after `message_stop`; `message_delta`
/// with a stop reason and usage before `message_stop`; `error` ends the stream; `tool_use`
/// input JSON complete at close.
pub fn validate(body: &[u8]) -> Result<Assembled, String> {
    let mut sse = SseDecoder::default();
    let mut evs = Vec::new();
    sse.feed(body, &mut evs).map_err(|e| e.to_string())?;
    sse.finish(&mut evs);
    if evs.is_empty() {
        return Err("no events".into());
    }
    let mut a = Assembled::default();
    // Per block: (type, open)
    let mut state: Vec<(String, bool)> = Vec::new();
    let mut started = false;
    let mut delta_seen = false;
    let mut stopped = false;
    for (i, ev) in evs.iter().enumerate() {
        let v: Value =
            serde_json::from_str(&ev.data).map_err(|e| format!("event {i} not JSON: {e}"))?;
        let ty = v["type"].as_str().unwrap_or_default().to_string();
        let name = ev
            .event
            .clone()
            .ok_or(format!("event {i} ({ty}) has no event: line"))?;
        if name != ty {
            return Err(format!("event line {name} but data.type {ty}"));
        }
        if stopped {
            return Err(format!("{ty} after message_stop"));
        }
        if ty == "error" {
            if i + 1 != evs.len() {
                return Err("events after error".into());
            }
            let e = &v["error"];
            if !e["type"].is_string() || !e["message"].is_string() {
                return Err(format!("bad error event {v}"));
            }
            a.error = e["type"].as_str().map(String::from);
            return Ok(a);
        }
        if i == 0 && ty != "message_start" {
            return Err(format!("first event is {ty}"));
        }
        let index = v["index"].as_u64().map(|n| n as usize);
        match ty.as_str() {
            "message_start" => {
                if started {
                    return Err("second message_start".into());
                }
                started = true;
                let m = &v["message"];
                a.id = m["id"].as_str().unwrap_or_default().into();
                a.model = m["model"].as_str().unwrap_or_default().into();
                if a.id.is_empty() || m["role"] != "assistant" || !m["usage"].is_object() {
                    return Err(format!("bad message_start {m}"));
                }
                a.usage = m["usage"].clone();
            }
            "ping" => {}
            "content_block_start" => {
                let idx = index.ok_or("start without index")?;
                if idx != state.len() {
                    return Err(format!("block {idx} started, expected {}", state.len()));
                }
                if state.iter().any(|(_, open)| *open) {
                    return Err(format!("block {idx} started while another is open"));
                }
                if delta_seen {
                    return Err("block after message_delta".into());
                }
                let cb = &v["content_block"];
                let kind = cb["type"].as_str().unwrap_or_default().to_string();
                let initial = match kind.as_str() {
                    "text" => cb["text"]
                        .as_str()
                        .ok_or("text block without text")?
                        .to_string(),
                    "thinking" => cb["thinking"]
                        .as_str()
                        .ok_or("thinking block without thinking")?
                        .to_string(),
                    "tool_use" => {
                        if cb["id"].as_str().unwrap_or("").is_empty()
                            || cb["name"].as_str().unwrap_or("").is_empty()
                        {
                            return Err(format!("tool_use without id/name: {cb}"));
                        }
                        if !cb["input"].is_object() {
                            return Err("tool_use input not an object".into());
                        }
                        String::new()
                    }
                    _ => String::new(),
                };
                state.push((kind.clone(), true));
                a.blocks.push((kind, initial, String::new()));
            }
            "content_block_delta" => {
                let idx = index.ok_or("delta without index")?;
                let (kind, open) = state
                    .get(idx)
                    .ok_or(format!("delta for unopened block {idx}"))?;
                if !open {
                    return Err(format!("delta for closed block {idx}"));
                }
                let d = &v["delta"];
                let dt = d["type"].as_str().unwrap_or_default();
                let ok = matches!(
                    (kind.as_str(), dt),
                    ("text", "text_delta" | "citations_delta")
                        | ("thinking", "thinking_delta" | "signature_delta")
                        | (
                            "tool_use" | "server_tool_use" | "mcp_tool_use",
                            "input_json_delta"
                        )
                );
                if !ok {
                    return Err(format!("{dt} in a {kind} block"));
                }
                let b = &mut a.blocks[idx];
                match dt {
                    "text_delta" => b.1.push_str(d["text"].as_str().unwrap_or_default()),
                    "thinking_delta" => b.1.push_str(d["thinking"].as_str().unwrap_or_default()),
                    "input_json_delta" => {
                        b.1.push_str(d["partial_json"].as_str().unwrap_or_default())
                    }
                    "signature_delta" => b.2.push_str(d["signature"].as_str().unwrap_or_default()),
                    _ => {}
                }
            }
            "content_block_stop" => {
                let idx = index.ok_or("stop without index")?;
                let st = state
                    .get_mut(idx)
                    .ok_or(format!("stop for unopened block {idx}"))?;
                if !st.1 {
                    return Err(format!("block {idx} closed twice"));
                }
                st.1 = false;
                let b = &a.blocks[idx];
                if b.0 == "tool_use" && !b.1.trim().is_empty() {
                    serde_json::from_str::<Value>(&b.1)
                        .map_err(|e| format!("tool input JSON: {e}: {}", b.1))?;
                }
            }
            "message_delta" => {
                if state.iter().any(|(_, open)| *open) {
                    return Err("message_delta with a block open".into());
                }
                delta_seen = true;
                a.stop_reason = v["delta"]["stop_reason"].as_str().map(String::from);
                if let Some(u) = v["usage"].as_object() {
                    for (k, val) in u {
                        a.usage[k] = val.clone();
                    }
                }
            }
            "message_stop" => {
                if !delta_seen || a.stop_reason.is_none() {
                    return Err("message_stop without a message_delta stop_reason".into());
                }
                stopped = true;
            }
            other => return Err(format!("unknown event {other}")),
        }
    }
    if !stopped {
        return Err("no message_stop".into());
    }
    Ok(a)
}
