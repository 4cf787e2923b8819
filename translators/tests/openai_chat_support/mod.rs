//! Helpers for the OpenAI Chat fixture tests: the recorded files under
//! `../shared/fixtures/upstream/openai-chat/` and their cassettes (`common/cassette.rs`), stream
//! decoding, and a summary of a stream checked for IR well-formedness, with an independent
//! reading of the raw chunks to compare it with.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns: a fixture they cannot read must fail loudly"
)]

#[path = "../common/cassette.rs"]
pub mod cassette;

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_translators::ir::{BlockStart, Delta, ErrorKind, StopReason, StreamEvent, Usage};
use switchyard_translators::openai_chat as chat;
use switchyard_translators::sse::SseDecoder;

pub fn dir() -> PathBuf {
    let d =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/upstream/openai-chat");
    assert!(d.is_dir(), "fixture directory missing: {}", d.display());
    d
}

pub fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A `*.chunks.txt` file framed as the provider sent it.
pub fn chunks_to_sse(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

pub fn decode_stream(chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::default();
    let mut dec = chat::StreamDecoder::new();
    let mut events = Vec::new();
    let mut out = Vec::new();
    for c in chunks {
        sse.feed(c, &mut events).unwrap();
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

/// What a stream said, with its IR well-formedness checked on the way.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub id: String,
    pub model: String,
    pub text: String,
    pub thinking: String,
    /// (id, name, arguments) in block order.
    pub tools: Vec<(String, String, String)>,
    pub stop: Option<StopReason>,
    pub usage: Option<Usage>,
    pub error: Option<(ErrorKind, String)>,
    pub ended: bool,
    /// Number of argument fragments seen (forwarded as they arrive, not held).
    pub arg_fragments: usize,
}

pub fn summarize(events: &[StreamEvent]) -> Summary {
    let mut s = Summary::default();
    let mut open: Vec<(usize, &BlockStart)> = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    let mut started = false;
    for (n, e) in events.iter().enumerate() {
        assert!(!s.ended && s.error.is_none(), "event after the end: {e:?}");
        match e {
            StreamEvent::Start { id, model } => {
                assert!(!started && n == 0, "Start must come first, once");
                started = true;
                s.id = id.clone();
                s.model = model.clone();
            }
            StreamEvent::Error(err) => s.error = Some((err.kind, err.message.clone())),
            other => {
                assert!(started, "{other:?} before Start");
                match other {
                    StreamEvent::BlockStart { index, block } => {
                        assert!(!seen.contains(index), "block {index} opened twice");
                        assert!(s.stop.is_none(), "block after Finish");
                        seen.push(*index);
                        open.push((*index, block));
                        if let BlockStart::ToolCall { id, name } = block {
                            s.tools.push((id.clone(), name.clone(), String::new()));
                        }
                    }
                    StreamEvent::Delta { index, delta } => {
                        let (_, block) = open
                            .iter()
                            .find(|(i, _)| i == index)
                            .unwrap_or_else(|| panic!("delta for closed block {index}"));
                        match (block, delta) {
                            (BlockStart::Text, Delta::Text(t)) => s.text.push_str(t),
                            (BlockStart::Thinking, Delta::Thinking(t)) => s.thinking.push_str(t),
                            (BlockStart::ToolCall { id, .. }, Delta::ToolArguments(a)) => {
                                s.arg_fragments += 1;
                                let tool = s.tools.iter_mut().find(|t| t.0 == *id).unwrap();
                                tool.2.push_str(a);
                            }
                            other => panic!("delta of the wrong kind: {other:?}"),
                        }
                    }
                    StreamEvent::BlockStop { index } => {
                        let before = open.len();
                        open.retain(|(i, _)| i != index);
                        assert_eq!(open.len() + 1, before, "stop of a block not open: {index}");
                    }
                    StreamEvent::Usage(u) => s.usage = Some(*u),
                    StreamEvent::Finish { stop } => {
                        assert!(open.is_empty(), "Finish with open blocks {open:?}");
                        assert!(s.stop.is_none(), "two Finish events");
                        s.stop = Some(stop.clone());
                    }
                    StreamEvent::End => {
                        assert!(s.stop.is_some(), "End without Finish");
                        s.ended = true;
                    }
                    StreamEvent::Start { .. } | StreamEvent::Error(_) => unreachable!(),
                }
            }
        }
    }
    assert!(
        s.ended || s.error.is_some(),
        "stream neither ended nor failed"
    );
    s
}

/// An independent reading of the raw chunk JSON: what any client would concatenate.
pub fn oracle(payloads: &[Value]) -> Summary {
    let mut s = Summary::default();
    let mut by_index: Vec<(u64, String, String, String)> = Vec::new();
    for o in payloads {
        if s.id.is_empty() && !o["id"].as_str().unwrap_or("").is_empty() {
            s.id = o["id"].as_str().unwrap().to_owned();
            s.model = o["model"].as_str().unwrap_or("").to_owned();
        }
        for c in o["choices"].as_array().into_iter().flatten() {
            let d = &c["delta"];
            s.text.push_str(d["content"].as_str().unwrap_or(""));
            s.thinking.push_str(
                d["reasoning_content"]
                    .as_str()
                    .or(d["reasoning"].as_str())
                    .unwrap_or(""),
            );
            for t in d["tool_calls"].as_array().into_iter().flatten() {
                let idx = t["index"].as_u64().unwrap();
                if !by_index.iter().any(|e| e.0 == idx) {
                    by_index.push((idx, String::new(), String::new(), String::new()));
                }
                let e = by_index.iter_mut().find(|e| e.0 == idx).unwrap();
                if e.1.is_empty() {
                    e.1 = t["id"].as_str().unwrap_or("").to_owned();
                }
                if let Some(n) = t["function"]["name"].as_str() {
                    e.2 = n.to_owned();
                }
                e.3.push_str(t["function"]["arguments"].as_str().unwrap_or(""));
            }
        }
    }
    s.tools = by_index.into_iter().map(|e| (e.1, e.2, e.3)).collect();
    s
}

pub fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: reasoning,
    })
}

/// Content comparison with the oracle (ids, text, thinking, tools).
pub fn assert_matches_oracle(name: &str, got: &Summary, want: &Summary) {
    assert_eq!(got.id, want.id, "{name}: id");
    assert_eq!(got.model, want.model, "{name}: model");
    assert_eq!(got.text, want.text, "{name}: text");
    assert_eq!(got.thinking, want.thinking, "{name}: thinking");
    assert_eq!(got.tools, want.tools, "{name}: tools");
}

// ------------------------------------------------------------------------------ cassettes

pub use cassette::Interaction;

pub fn cassette(name: &str) -> Vec<Interaction> {
    cassette::load(&dir().join(name))
}

/// A non-stream body, or the raw SSE text.
pub fn body(it: &Interaction) -> Result<Value, String> {
    match &it.raw {
        Some(raw) => Err(String::from_utf8(raw.clone()).unwrap()),
        None => Ok(it.json.clone().unwrap_or_default()),
    }
}

pub fn request(it: &Interaction) -> &Value {
    it.request.as_ref().unwrap()
}

pub fn cassette_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 9, "{names:?}");
    names
}

pub fn sse_payloads(sse: &str) -> Vec<Value> {
    let mut dec = SseDecoder::default();
    let mut events = Vec::new();
    dec.feed(sse.as_bytes(), &mut events).unwrap();
    dec.finish(&mut events);
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
        .filter(|v| v.get("error").is_none())
        .collect()
}
