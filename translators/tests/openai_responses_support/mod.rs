//! Helpers for the OpenAI Responses tests: the recorded fixtures (chunk files, JSON bodies,
//! VCR cassettes), stream decoding at any split, IR facts to assert on, and a validator of
//! what the openai SDK's `responses.stream()` and Codex require of a stream (CLIENTS.md).
#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a fixture they cannot read must fail loudly"
)]

#[path = "../common/cassette.rs"]
pub mod cassette;
pub mod validate;

use std::path::PathBuf;

use serde_json::Value;
use switchyard_translators::ir::{
    BlockStart, Delta, EncodeContext, Part, Request, Response, StopReason, StreamError,
    StreamEvent, Usage,
};
use switchyard_translators::openai_responses::{self, StreamDecoder, StreamEncoder};
use switchyard_translators::sse::{SseDecoder, SseEvent};
use switchyard_translators::StreamOptions;

pub fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/upstream/openai-responses");
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

/// A `*.chunks.txt` file as the SSE streams the provider sent, one per `response.created`
/// (several files hold a multi-step run): `event: <type>\ndata: <line>\n\n`.
pub fn chunk_streams(name: &str) -> Vec<Vec<u8>> {
    let raw = String::from_utf8(read(name)).expect("utf-8");
    let mut streams: Vec<Vec<u8>> = Vec::new();
    for line in raw.split('\n').filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).expect("chunk line is JSON");
        let ty = v["type"].as_str().expect("chunk type");
        if ty == "response.created" || streams.is_empty() {
            streams.push(Vec::new());
        }
        let s = streams.last_mut().expect("a stream");
        s.extend_from_slice(format!("event: {ty}\ndata: {line}\n\n").as_bytes());
    }
    streams
}

pub use cassette::Interaction;

/// Every interaction of a cassette (`common/cassette.rs`).
pub fn cassette(name: &str) -> Vec<Interaction> {
    cassette::load(&dir().join(name))
}

/// A request as the encoder sends it, as JSON.
pub fn body(req: &Request) -> Value {
    serde_json::from_slice(&openai_responses::encode_request(req).unwrap()).unwrap()
}

pub fn request_round_trip(req: &Request) -> Request {
    let bytes = openai_responses::encode_request(req).unwrap();
    openai_responses::decode_request(&bytes).unwrap()
}

pub fn response_round_trip(resp: &Response) -> (Value, Response) {
    let bytes = openai_responses::encode_response(resp, &mut ctx());
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    (v, openai_responses::decode_response(&bytes).unwrap())
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
    EncodeContext::new(1_700_000_000, "t")
}

pub fn encode(events: &[StreamEvent], opts: StreamOptions) -> Vec<u8> {
    let mut enc = StreamEncoder::new(ctx(), opts);
    let mut out = Vec::new();
    for e in events {
        enc.encode(e, &mut out);
    }
    out
}

/// What a client would make of a response: the facts the golden tests assert.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub id: String,
    pub model: String,
    pub text: String,
    pub thinking: String,
    /// `(call id, name, argument JSON text)`.
    pub tools: Vec<(String, String, String)>,
    /// Reasoning items (stream: reasoning blocks) and how many carry `encrypted_content`.
    pub reasoning: usize,
    pub encrypted: usize,
    /// `type` of every unknown item.
    pub unknown: Vec<String>,
    pub stop: Option<StopReason>,
    pub usage: Usage,
    pub error: Option<StreamError>,
}

pub fn facts_of_events(events: &[StreamEvent]) -> Facts {
    let mut f = Facts::default();
    let mut args: Vec<(usize, usize)> = Vec::new(); // IR index → position in `tools`
    let mut open = std::collections::BTreeSet::new();
    for e in events {
        match e {
            StreamEvent::Start { id, model } => {
                f.id = id.clone();
                f.model = model.clone();
            }
            StreamEvent::BlockStart { index, block } => {
                assert!(open.insert(*index), "block {index} opened twice");
                match block {
                    BlockStart::ToolCall { id, name } => {
                        args.push((*index, f.tools.len()));
                        f.tools.push((id.clone(), name.clone(), String::new()));
                    }
                    BlockStart::Reasoning { .. } => f.reasoning += 1,
                    BlockStart::Unknown { value, .. } => f
                        .unknown
                        .push(value["type"].as_str().unwrap_or("?").to_string()),
                    _ => {}
                }
            }
            StreamEvent::Delta { index, delta } => {
                assert!(open.contains(index), "delta for block {index} not open");
                match delta {
                    Delta::Text(t) => f.text.push_str(t),
                    Delta::Thinking(t) => f.thinking.push_str(t),
                    Delta::ToolArguments(a) => {
                        let (_, pos) = args.iter().find(|(i, _)| i == index).expect("tool");
                        f.tools[*pos].2.push_str(a);
                    }
                    Delta::EncryptedReasoning(_) | Delta::Signature(_) => f.encrypted += 1,
                }
            }
            StreamEvent::BlockStop { index } => {
                assert!(open.remove(index), "block {index} closed but not open");
            }
            StreamEvent::Usage(u) => f.usage = *u,
            StreamEvent::Finish { stop } => f.stop = Some(stop.clone()),
            StreamEvent::Error(e) => f.error = Some(e.clone()),
            StreamEvent::End => {}
        }
    }
    if f.error.is_none() {
        assert!(open.is_empty(), "blocks left open: {open:?}");
    }
    f
}

pub fn facts_of_response(r: &Response) -> Facts {
    let mut f = Facts {
        id: r.id.clone(),
        model: r.model.clone(),
        stop: Some(r.stop.clone()),
        usage: r.usage,
        ..Facts::default()
    };
    for p in &r.parts {
        match p {
            Part::Text { text, .. } => f.text.push_str(text),
            Part::Reasoning(item) => {
                f.reasoning += 1;
                f.thinking.push_str(&item.summary.join("\n\n"));
                f.encrypted += usize::from(item.encrypted_content.is_some());
            }
            Part::ToolCall(c) => f
                .tools
                .push((c.id.clone(), c.name.clone(), c.arguments.clone())),
            Part::Unknown { value, .. } => f
                .unknown
                .push(value["type"].as_str().unwrap_or("?").to_string()),
            other => panic!("unexpected part {other:?}"),
        }
    }
    f
}

/// Every raw SSE stream in the fixtures: chunk files and cassette bodies, with a label.
pub fn all_streams() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for f in all_files() {
        if f.ends_with(".chunks.txt") {
            for (n, s) in chunk_streams(&f).into_iter().enumerate() {
                v.push((format!("{f}#{n}"), s));
            }
        } else if f.ends_with(".yaml") {
            for (n, it) in cassette(&f).into_iter().enumerate() {
                if let Some(raw) = it.raw {
                    if it.status == 200 {
                        v.push((format!("{f}#{n}"), raw));
                    }
                }
            }
        }
    }
    v
}
