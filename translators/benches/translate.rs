//! CPU cost of protocol translation, per client -> upstream pair (all 4x4, the diagonal being
//! same-protocol decode + encode as a reference). See `README.md` beside this file.
//!
//! Inputs are built once, outside the timed loops: an `ir::Request` / `ir::Response` / IR event
//! list encoded with each protocol's own encoder. Every pair is run once and checked before it
//! is timed, so a broken pair panics instead of benchmarking an error path.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "bench setup outside #[test] fns: a fixture that does not translate must abort the bench"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use serde_json::{json, Value};
use switchyard_translators::ir::{
    self, BlockStart, Delta, EncodeContext, FunctionTool, Message, Part, Protocol, Role,
    StopReason, StreamEvent, Tool, ToolCall, ToolResult, Usage,
};
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::{
    anthropic, any, gemini, openai_chat, openai_responses, StreamOptions,
};

const PROTOCOLS: [(Protocol, &str); 4] = [
    (Protocol::OpenAiChat, "chat"),
    (Protocol::OpenAiResponses, "responses"),
    (Protocol::Anthropic, "anthropic"),
    (Protocol::Gemini, "gemini"),
];

fn cx() -> EncodeContext {
    EncodeContext::new(1_764_000_000, "bench")
}

fn text(t: impl Into<String>) -> Part {
    Part::Text {
        text: t.into(),
        cache_control: None,
    }
}

// ------------------------------------------------------------------------------- request body

const SYSTEM: &str = "You are a coding agent working in the user's repository. Read files \
before editing them, keep changes minimal and focused, and run the tests after every change. \
Prefer the edit_file tool over rewriting whole files. Never commit secrets. When a command \
fails, read its output and fix the cause instead of retrying blindly. Explain what you changed \
and why in a short summary at the end, with the paths of the files you touched.";

fn schema(props: &[(&str, &str, &str)], required: &[&str]) -> Value {
    let mut p = serde_json::Map::new();
    for (name, ty, desc) in props {
        p.insert((*name).into(), json!({"type": ty, "description": desc}));
    }
    json!({"type": "object", "properties": p, "required": required})
}

fn tools() -> Vec<Tool> {
    let defs: [(&str, &str, Value); 10] = [
        (
            "read_file",
            "Read a file of the workspace.",
            schema(
                &[
                    ("path", "string", "Path relative to the root"),
                    ("offset", "integer", "First line"),
                ],
                &["path"],
            ),
        ),
        (
            "write_file",
            "Create or overwrite a file.",
            schema(
                &[
                    ("path", "string", "Path relative to the root"),
                    ("content", "string", "Whole new content"),
                ],
                &["path", "content"],
            ),
        ),
        (
            "edit_file",
            "Replace one exact string in a file.",
            schema(
                &[
                    ("path", "string", "File to edit"),
                    ("old", "string", "Exact text to replace"),
                    ("new", "string", "Replacement"),
                ],
                &["path", "old", "new"],
            ),
        ),
        (
            "list_dir",
            "List a directory.",
            schema(&[("path", "string", "Directory")], &["path"]),
        ),
        (
            "grep",
            "Search file contents with a regex.",
            schema(
                &[
                    ("pattern", "string", "Regex"),
                    ("glob", "string", "Files to search"),
                ],
                &["pattern"],
            ),
        ),
        (
            "glob",
            "Find files by name pattern.",
            schema(
                &[("pattern", "string", "Glob such as **/*.rs")],
                &["pattern"],
            ),
        ),
        (
            "run_shell",
            "Run a shell command and return its output.",
            schema(
                &[
                    ("command", "string", "Command line"),
                    ("timeout_ms", "integer", "Time limit"),
                ],
                &["command"],
            ),
        ),
        (
            "web_fetch",
            "Fetch a URL as text.",
            schema(&[("url", "string", "Absolute URL")], &["url"]),
        ),
        (
            "todo_write",
            "Replace the task list.",
            json!({"type": "object", "properties": {"todos": {"type": "array", "items": {"type": "object", "properties": {"content": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "in_progress", "done"]}}, "required": ["content", "status"]}}}, "required": ["todos"]}),
        ),
        (
            "ask_user",
            "Ask the user a question and wait.",
            schema(&[("question", "string", "The question")], &["question"]),
        ),
    ];
    defs.into_iter()
        .map(|(name, desc, parameters)| {
            Tool::Function(FunctionTool {
                name: name.into(),
                description: Some(desc.into()),
                parameters,
                strict: None,
                cache_control: None,
            })
        })
        .collect()
}

/// Source-like text of about `bytes` bytes (quotes, newlines and tabs, as tool results have).
fn file_content(seed: usize, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 80);
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(&format!(
            "{:>4}\t    let value_{seed}_{i} = parse(\"field_{i}\", &input[{i}..]).map_err(|e| Error::new(e, \"at {i}\"))?;\n",
            i + 1
        ));
        i += 1;
    }
    s
}

/// One tool round of the conversation: the assistant calls a tool, the result comes back,
/// the assistant comments and the user answers.
fn round(n: usize, result_bytes: usize, out: &mut Vec<Message>) {
    let id = format!("call_{n:04}");
    out.push(Message {
        role: Role::Assistant,
        parts: vec![
            text(format!("Let me look at src/module_{n}.rs first.")),
            Part::ToolCall(ToolCall {
                id: id.clone(),
                name: "read_file".into(),
                arguments: format!("{{\"path\":\"src/module_{n}.rs\",\"offset\":1}}"),
                signature: None,
            }),
        ],
    });
    out.push(Message {
        role: Role::User,
        parts: vec![Part::ToolResult(ToolResult {
            call_id: id,
            name: Some("read_file".into()),
            content: vec![text(file_content(n, result_bytes))],
            is_error: false,
        })],
    });
    out.push(Message {
        role: Role::Assistant,
        parts: vec![text(format!(
            "module_{n} parses each field with `parse` and maps the error with its offset. \
             The off-by-one is in the slice start: it should skip the separator."
        ))],
    });
    out.push(Message {
        role: Role::User,
        parts: vec![text(format!(
            "Good. Fix it in module_{n} and check the callers in src/lib.rs as well."
        ))],
    });
}

fn request(rounds: usize, result_bytes: usize) -> ir::Request {
    let mut messages = vec![Message {
        role: Role::User,
        parts: vec![text(
            "The parser tests fail on inputs with a trailing separator. Find the cause and fix it.",
        )],
    }];
    for n in 0..rounds {
        round(n, result_bytes, &mut messages);
    }
    ir::Request {
        model: "bench-model".into(),
        system: vec![text(SYSTEM)],
        messages,
        tools: tools(),
        sampling: ir::Sampling {
            max_tokens: Some(8192),
            temperature: Some(0.2),
            ..ir::Sampling::default()
        },
        stream: true,
        ..ir::Request::default()
    }
}

// ------------------------------------------------------------------------------ response body

fn response() -> ir::Response {
    let mut t = String::new();
    let mut i = 0;
    while t.len() < 2048 {
        t.push_str(&format!(
            "Step {i}: the parser reads a field, then \"skips\" the separator; the slice starts one byte early.\n"
        ));
        i += 1;
    }
    ir::Response {
        id: "msg_upstream_1".into(),
        model: "bench-model".into(),
        parts: vec![
            text(t),
            Part::ToolCall(ToolCall {
                id: "call_fix_1".into(),
                name: "edit_file".into(),
                arguments:
                    r#"{"path":"src/module_3.rs","old":"&input[i..]","new":"&input[i + 1..]"}"#
                        .into(),
                signature: None,
            }),
        ],
        stop: StopReason::ToolUse,
        usage: Usage {
            input_tokens: 12_000,
            output_tokens: 640,
            cache_read_tokens: 8_000,
            ..Usage::default()
        },
    }
}

// ---------------------------------------------------------------------------------- streams

/// 200 IR events: start, 150 text deltas, a tool call in 42 argument fragments, usage, finish,
/// end.
fn stream_events() -> Vec<StreamEvent> {
    let mut v = vec![
        StreamEvent::Start {
            id: "msg_upstream_1".into(),
            model: "bench-model".into(),
        },
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Text,
        },
    ];
    let words = [
        "The ",
        "parser ",
        "reads ",
        "a \"field\", ",
        "then ",
        "skips ",
        "the separator; ",
        "fix:\n",
    ];
    for i in 0..150 {
        v.push(StreamEvent::Delta {
            index: 0,
            delta: Delta::Text(format!(
                "{}{}",
                words[i % words.len()],
                if i % 7 == 0 { "step " } else { "" }
            )),
        });
    }
    v.push(StreamEvent::BlockStop { index: 0 });
    v.push(StreamEvent::BlockStart {
        index: 1,
        block: BlockStart::ToolCall {
            id: "call_fix_1".into(),
            name: "edit_file".into(),
        },
    });
    v.push(StreamEvent::Delta {
        index: 1,
        delta: Delta::ToolArguments("{\"path\":\"src/module_3.rs\",\"new\":\"".into()),
    });
    for i in 0..40 {
        v.push(StreamEvent::Delta {
            index: 1,
            delta: Delta::ToolArguments(format!("line {i}\\n")),
        });
    }
    v.push(StreamEvent::Delta {
        index: 1,
        delta: Delta::ToolArguments("\"}".into()),
    });
    v.push(StreamEvent::BlockStop { index: 1 });
    v.push(StreamEvent::Usage(Usage {
        input_tokens: 12_000,
        output_tokens: 640,
        ..Usage::default()
    }));
    v.push(StreamEvent::Finish {
        stop: StopReason::ToolUse,
    });
    v.push(StreamEvent::End);
    assert_eq!(v.len(), 200);
    v
}

macro_rules! dispatch {
    ($p:expr, $m:ident => $body:expr) => {
        match $p {
            Protocol::OpenAiChat => {
                use openai_chat as $m;
                $body
            }
            Protocol::OpenAiResponses => {
                use openai_responses as $m;
                $body
            }
            Protocol::Anthropic => {
                use anthropic as $m;
                $body
            }
            Protocol::Gemini => {
                use gemini as $m;
                $body
            }
        }
    };
}

fn encode_stream(p: Protocol, events: &[StreamEvent]) -> Vec<u8> {
    dispatch!(p, m => {
        let mut enc = m::StreamEncoder::new(cx(), StreamOptions::default());
        let mut out = Vec::new();
        for e in events {
            enc.encode(e, &mut out);
        }
        out
    })
}

fn decode_stream(p: Protocol, bytes: &[u8]) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::default();
    let mut raw = Vec::new();
    sse.feed(bytes, &mut raw).expect("sse");
    sse.finish(&mut raw);
    dispatch!(p, m => {
        let mut dec = m::StreamDecoder::new();
        let mut out = Vec::new();
        for e in &raw {
            dec.feed(e, &mut out);
        }
        dec.finish(&mut out);
        out
    })
}

/// Chunk lengths of 100..=500 bytes, deterministic (a small LCG), as a network would cut them.
fn chunk_bounds(len: usize) -> Vec<(usize, usize)> {
    let mut state: u32 = 0x2545_f491;
    let mut at = 0;
    let mut v = Vec::new();
    while at < len {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n = 100 + (state >> 8) as usize % 401;
        let end = (at + n).min(len);
        v.push((at, end));
        at = end;
    }
    v
}

fn translate_stream(
    upstream: Protocol,
    client: Protocol,
    bytes: &[u8],
    chunks: &[(usize, usize)],
    out: &mut Vec<u8>,
) -> usize {
    let mut t = any::StreamTranslator::new(upstream, client, cx(), StreamOptions::default());
    let mut total = 0;
    for &(a, b) in chunks {
        out.clear();
        t.feed(&bytes[a..b], out);
        total += out.len();
    }
    out.clear();
    t.finish(out);
    total + out.len()
}

// ------------------------------------------------------------------------------- benchmarks

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

fn check_request(client: Protocol, upstream: Protocol, body: &[u8], min_messages: usize) {
    let req = any::decode_request(client, body)
        .unwrap_or_else(|e| panic!("{client:?} decode_request: {e}"));
    let out = any::encode_request(upstream, &req)
        .unwrap_or_else(|e| panic!("{client:?} -> {upstream:?} encode_request: {e}"));
    let back = any::decode_request(upstream, &out)
        .unwrap_or_else(|e| panic!("{client:?} -> {upstream:?}: output does not decode: {e}"));
    assert_eq!(
        back.tools.len(),
        10,
        "{client:?} -> {upstream:?}: tools lost"
    );
    assert!(
        back.messages.len() >= min_messages,
        "{client:?} -> {upstream:?}: history lost"
    );
}

fn bench_requests(c: &mut Criterion, group: &str, ir: &ir::Request, min_messages: usize) {
    let bodies: Vec<Vec<u8>> = PROTOCOLS
        .iter()
        .map(|&(p, _)| any::encode_request(p, ir).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .collect();
    let mut g = configure(c, group);
    for (ci, &(client, cname)) in PROTOCOLS.iter().enumerate() {
        let body = &bodies[ci];
        eprintln!("{group}: {cname} client body = {} bytes", body.len());
        for &(upstream, uname) in &PROTOCOLS {
            check_request(client, upstream, body, min_messages);
            g.throughput(Throughput::Bytes(body.len() as u64));
            g.bench_function(format!("{cname}->{uname}"), |b| {
                b.iter(|| {
                    let req = any::decode_request(client, black_box(body)).ok()?;
                    any::encode_request(upstream, &req).ok()
                })
            });
        }
    }
    g.finish();
}

fn requests_4k(c: &mut Criterion) {
    bench_requests(c, "request_4k", &request(1, 350), 5);
}

/// The fixed part of every request: system prompt, one user message and the 10 tools (~2.3
/// KB), to tell per-request cost (tool schemas) from per-byte cost (history).
fn requests_tools_only(c: &mut Criterion) {
    bench_requests(c, "request_tools_only", &request(0, 0), 1);
}

fn requests_100k(c: &mut Criterion) {
    bench_requests(c, "request_100k", &request(33, 2_200), 5);
}

fn responses(c: &mut Criterion) {
    let resp = response();
    let mut g = configure(c, "response");
    for &(upstream, uname) in &PROTOCOLS {
        let body = any::encode_response(upstream, &resp, &mut cx());
        eprintln!("response: {uname} upstream body = {} bytes", body.len());
        for &(client, cname) in &PROTOCOLS {
            // The check: decode, encode for the client, and the client's decoder reads it back.
            let r = any::decode_response(upstream, &body)
                .unwrap_or_else(|e| panic!("{upstream:?} decode_response: {e}"));
            let out = any::encode_response(client, &r, &mut cx());
            let back = any::decode_response(client, &out).unwrap_or_else(|e| {
                panic!("{upstream:?} -> {client:?}: output does not decode: {e}")
            });
            assert!(
                back.parts.iter().any(|p| matches!(p, Part::ToolCall(_))),
                "{upstream:?} -> {client:?}: tool call lost"
            );
            g.throughput(Throughput::Bytes(body.len() as u64));
            g.bench_function(format!("{cname}->{uname}"), |b| {
                b.iter(|| {
                    let r = any::decode_response(upstream, black_box(&body)).ok()?;
                    Some(any::encode_response(client, &r, &mut cx()))
                })
            });
        }
    }
    g.finish();
}

fn streams(c: &mut Criterion) {
    let events = stream_events();
    let mut g = configure(c, "stream_200");
    for &(upstream, uname) in &PROTOCOLS {
        let bytes = encode_stream(upstream, &events);
        let chunks = chunk_bounds(bytes.len());
        eprintln!(
            "stream_200: {uname} upstream stream = {} bytes in {} chunks",
            bytes.len(),
            chunks.len()
        );
        for &(client, cname) in &PROTOCOLS {
            // The check: the whole client stream, decoded by the client's own decoder, ends
            // cleanly and carries the tool call.
            let mut t =
                any::StreamTranslator::new(upstream, client, cx(), StreamOptions::default());
            let mut all = Vec::new();
            for &(a, b) in &chunks {
                t.feed(&bytes[a..b], &mut all);
            }
            t.finish(&mut all);
            let back = decode_stream(client, &all);
            assert!(
                !back.iter().any(|e| matches!(e, StreamEvent::Error(_))),
                "{uname} -> {cname}: stream error: {back:?}"
            );
            assert_eq!(
                back.last(),
                Some(&StreamEvent::End),
                "{uname} -> {cname}: no clean end"
            );
            assert!(
                back.iter().any(|e| matches!(
                    e,
                    StreamEvent::BlockStart {
                        block: BlockStart::ToolCall { .. },
                        ..
                    }
                )),
                "{uname} -> {cname}: tool call lost"
            );
            let mut out = Vec::with_capacity(4096);
            g.throughput(Throughput::Bytes(bytes.len() as u64));
            g.bench_function(format!("{cname}->{uname}"), |b| {
                b.iter(|| translate_stream(upstream, client, black_box(&bytes), &chunks, &mut out))
            });
        }
    }
    g.finish();
}

criterion_group!(
    benches,
    requests_4k,
    requests_tools_only,
    requests_100k,
    responses,
    streams
);
criterion_main!(benches);
