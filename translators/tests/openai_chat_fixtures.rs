//! Golden tests for the OpenAI Chat codecs over real recorded provider traffic
//! (`shared/fixtures/upstream/openai-chat`, see its README): every non-stream body, every
//! stream (`*.chunks.txt` replayed as `data: <line>\n\n` + `data: [DONE]\n\n`, cassette SSE
//! bodies as recorded) and every cassette request decodes into IR with concrete facts
//! asserted; streams give the same IR split at every byte offset; responses, streams and
//! requests survive decode → encode → decode.
//!
//! Run: `cargo test -p switchyard-translators --test openai_chat_fixtures`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/gzip.rs"]
mod gzip;
#[path = "common/yaml.rs"]
mod yaml;

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_translators::ir::{
    BlockStart, Delta, EncodeContext, ErrorKind, MediaSource, Part, Role, StopReason, StreamEvent,
    ToolChoice, Usage,
};
use switchyard_translators::openai_chat as chat;
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::StreamOptions;

fn dir() -> PathBuf {
    let d =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/upstream/openai-chat");
    assert!(d.is_dir(), "fixture directory missing: {}", d.display());
    d
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A `*.chunks.txt` file framed as the provider sent it.
fn chunks_to_sse(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

fn decode_stream(chunks: &[&[u8]]) -> Vec<StreamEvent> {
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
struct Summary {
    id: String,
    model: String,
    text: String,
    thinking: String,
    /// (id, name, arguments) in block order.
    tools: Vec<(String, String, String)>,
    stop: Option<StopReason>,
    usage: Option<Usage>,
    error: Option<(ErrorKind, String)>,
    ended: bool,
    /// Number of argument fragments seen (forwarded as they arrive, not held).
    arg_fragments: usize,
}

fn summarize(events: &[StreamEvent]) -> Summary {
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
fn oracle(payloads: &[Value]) -> Summary {
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

fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Option<Usage> {
    Some(Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: reasoning,
    })
}

/// Content comparison with the oracle (ids, text, thinking, tools).
fn assert_matches_oracle(name: &str, got: &Summary, want: &Summary) {
    assert_eq!(got.id, want.id, "{name}: id");
    assert_eq!(got.model, want.model, "{name}: model");
    assert_eq!(got.text, want.text, "{name}: text");
    assert_eq!(got.thinking, want.thinking, "{name}: thinking");
    assert_eq!(got.tools, want.tools, "{name}: tools");
}

// --------------------------------------------------------------------------- chunk streams

struct ChunkCase {
    file: &'static str,
    text: &'static str,
    thinking_prefix: &'static str,
    tools: &'static [(&'static str, &'static str, &'static str)],
    stop: StopReason,
    usage: Option<Usage>,
}

fn chunk_cases() -> Vec<ChunkCase> {
    vec![
        ChunkCase {
            file: "alibaba-tool-call.chunks.txt",
            text: "",
            thinking_prefix: "",
            tools: &[(
                "call_eee11723464a4b9eb8cee71d",
                "weather",
                r#"{"location": "San Francisco"}"#,
            )],
            stop: StopReason::ToolUse,
            usage: usage(295, 22, 0, 0),
        },
        ChunkCase {
            file: "azure-model-router.1.chunks.txt",
            text: "Capital of Denmark.",
            thinking_prefix: "",
            tools: &[],
            stop: StopReason::EndTurn,
            usage: usage(15, 78, 0, 64),
        },
        ChunkCase {
            file: "deepseek-tool-call.chunks.txt",
            text: "",
            thinking_prefix: "The user is asking for the weather in San Francisco. I need ",
            tools: &[(
                "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF",
                "weather",
                r#"{"location": "San Francisco"}"#,
            )],
            stop: StopReason::ToolUse,
            usage: usage(339, 83, 320, 39),
        },
        ChunkCase {
            file: "moonshotai-stream.chunks.txt",
            text: "Hello!",
            thinking_prefix: "Thinking aloud. ",
            tools: &[],
            stop: StopReason::EndTurn,
            usage: usage(9, 12, 0, 7),
        },
        ChunkCase {
            file: "openai-text.chunks.txt",
            text: "",
            thinking_prefix: "",
            tools: &[],
            stop: StopReason::EndTurn,
            usage: usage(16, 300, 0, 0),
        },
        ChunkCase {
            file: "xai-text.chunks.txt",
            text: "Hello",
            thinking_prefix: "First, the user said",
            tools: &[],
            stop: StopReason::EndTurn,
            // xAI: completion_tokens 1 excludes the 290 reasoning tokens (total 303).
            usage: usage(12, 291, 11, 290),
        },
        ChunkCase {
            file: "xai-tool-call.chunks.txt",
            text: "",
            thinking_prefix: "First, the user is asking about the weather in San Francisco",
            tools: &[(
                "call_79382389",
                "weather",
                r#"{"location":"San Francisco"}"#,
            )],
            stop: StopReason::ToolUse,
            usage: usage(307, 253, 306, 227),
        },
    ]
}

#[test]
fn chunk_streams_decode_with_concrete_facts() {
    for case in chunk_cases() {
        let raw = read(case.file);
        let payloads: Vec<Value> = raw
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let events = decode_stream(&[&chunks_to_sse(&raw)]);
        let got = summarize(&events);
        let want = oracle(&payloads);
        assert_matches_oracle(case.file, &got, &want);
        if !case.text.is_empty() {
            assert_eq!(got.text, case.text, "{}", case.file);
        }
        assert!(
            got.thinking.starts_with(case.thinking_prefix),
            "{}",
            case.file
        );
        let tools: Vec<(String, String, String)> = case
            .tools
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(got.tools, tools, "{}", case.file);
        assert_eq!(got.stop, Some(case.stop.clone()), "{}", case.file);
        assert_eq!(got.usage, case.usage, "{}", case.file);
        assert!(got.ended, "{}", case.file);
        assert!(!got.id.is_empty() && !got.model.is_empty(), "{}", case.file);
    }
}

#[test]
fn chunk_stream_specifics() {
    // OpenAI: 1724 characters of text, fragments forwarded one per chunk.
    let raw = read("openai-text.chunks.txt");
    let s = summarize(&decode_stream(&[&chunks_to_sse(&raw)]));
    assert_eq!(s.text.chars().count(), 1724);
    assert!(s
        .text
        .starts_with("**Holiday Name:** Harmony Day\n\n**Date:**"));
    assert_eq!(s.model, "gpt-4.1-nano-2025-04-14");

    // Azure: the prompt-filter chunk (empty id and model) does not become the Start.
    let raw = read("azure-model-router.1.chunks.txt");
    let events = decode_stream(&[&chunks_to_sse(&raw)]);
    assert_eq!(
        events[0],
        StreamEvent::Start {
            id: "chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt".into(),
            model: "gpt-5-nano-2025-08-07".into()
        }
    );

    // DeepSeek: thinking then the tool call; arguments arrive in many fragments and are
    // forwarded as they come; usage comes with finish_reason and precedes Finish.
    let raw = read("deepseek-tool-call.chunks.txt");
    let events = decode_stream(&[&chunks_to_sse(&raw)]);
    let s = summarize(&events);
    assert!(s.arg_fragments > 5, "{}", s.arg_fragments);
    assert_eq!(s.thinking.chars().count(), 191);
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::BlockStart {
                block: BlockStart::Thinking,
                ..
            } => Some("thinking"),
            StreamEvent::BlockStart {
                block: BlockStart::ToolCall { .. },
                ..
            } => Some("tool"),
            StreamEvent::Usage(_) => Some("usage"),
            StreamEvent::Finish { .. } => Some("finish"),
            StreamEvent::End => Some("end"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["thinking", "tool", "usage", "finish", "end"]);

    // Alibaba: trailing fragments with `"id": ""` continue the same call.
    let raw = read("alibaba-tool-call.chunks.txt");
    let s = summarize(&decode_stream(&[&chunks_to_sse(&raw)]));
    assert_eq!(s.tools.len(), 1);

    // Without [DONE] (the files as recorded) a stream that saw finish_reason still ends.
    let raw = read("xai-text.chunks.txt");
    let mut bytes = chunks_to_sse(&raw);
    bytes.truncate(bytes.len() - b"data: [DONE]\n\n".len());
    let s = summarize(&decode_stream(&[&bytes]));
    assert!(s.ended);
    assert_eq!(s.text, "Hello");
}

// ------------------------------------------------------------------------- json responses

#[test]
fn non_stream_bodies_decode_with_concrete_facts() {
    let r = chat::decode_response(read("openai-text.json").as_bytes()).unwrap();
    assert_eq!(r.id, "chatcmpl-D8Z5f52zQqikDBEKQMQoYcWMcWPeU");
    assert_eq!(r.model, "gpt-4.1-nano-2025-04-14");
    assert_eq!(r.stop, StopReason::EndTurn);
    assert!(
        matches!(&r.parts[..], [Part::Text { text, .. }] if text.starts_with("**Holiday Name:** Galaxy Day"))
    );

    let r = chat::decode_response(read("deepseek-text.json").as_bytes()).unwrap();
    assert_eq!(r.stop, StopReason::MaxTokens);
    assert!(
        matches!(&r.parts[..], [Part::Text { text, .. }] if text.starts_with("## **Holiday Name: Gratitude of Small Things Day"))
    );

    let r = chat::decode_response(read("deepseek-reasoning.json").as_bytes()).unwrap();
    assert_eq!(r.usage, usage(18, 345, 0, 315).unwrap());
    match &r.parts[..] {
        [Part::Thinking {
            text: t,
            signature: None,
        }, Part::Text { text, .. }] => {
            assert!(t.starts_with("We are asked: \"How many 'r's are in the word 'strawberry'?\""));
            assert!(text.starts_with("The word \"strawberry\" contains three instances"));
        }
        other => panic!("{other:?}"),
    }

    let r = chat::decode_response(read("groq-reasoning.json").as_bytes()).unwrap();
    assert_eq!(r.model, "qwen/qwen3-32b");
    assert_eq!(r.usage, usage(17, 649, 0, 570).unwrap());
    match &r.parts[..] {
        [Part::Thinking { text: t, .. }, Part::Text { text, .. }] => {
            assert!(t.starts_with("Okay, so the user is asking how many times"));
            assert!(text.ends_with("**Answer:** 3."));
        }
        other => panic!("{other:?}"),
    }

    let body = read("reasoning-model-legacy-parameter-error.json");
    assert!(chat::decode_response(body.as_bytes()).is_err());
    let e = chat::decode_error(400, body.as_bytes());
    assert_eq!(e.status, Some(400));
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.starts_with("Unsupported parameter: 'max_tokens'"));
}

#[test]
fn non_stream_bodies_round_trip() {
    for f in [
        "openai-text.json",
        "deepseek-text.json",
        "deepseek-reasoning.json",
        "groq-reasoning.json",
    ] {
        let first = chat::decode_response(read(f).as_bytes()).unwrap();
        let mut ctx = EncodeContext::new(1_700_000_000, "t");
        let again = chat::decode_response(&chat::encode_response(&first, &mut ctx)).unwrap();
        assert_eq!(again, first, "{f}");
    }
}

// ------------------------------------------------------------------------------ cassettes

struct Interaction {
    request: Value,
    status: u16,
    /// Non-stream body, or the raw SSE text.
    body: Result<Value, String>,
}

fn cassette(name: &str) -> Vec<Interaction> {
    let doc = yaml::parse(&read(name));
    doc["interactions"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no interactions"))
        .iter()
        .map(|it| {
            let resp = &it["response"];
            Interaction {
                request: it["request"]["parsed_body"].clone(),
                status: resp["status"]["code"].as_u64().unwrap() as u16,
                body: match resp["body"]["string"].as_str() {
                    Some(s) => Err(s.to_owned()),
                    None => Ok(resp["parsed_body"].clone()),
                },
            }
        })
        .collect()
}

fn cassette_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 9, "{names:?}");
    names
}

fn sse_payloads(sse: &str) -> Vec<Value> {
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

/// (file, interaction) → expected (text, tools, stop, usage) or error kind.
#[test]
fn cassette_responses_decode_with_concrete_facts() {
    type Tools = &'static [(&'static str, &'static str)];
    type Fact = (
        &'static str,
        usize,
        &'static str,
        Tools,
        Option<StopReason>,
        Option<Usage>,
    );
    let expect: &[Fact] = &[
        (
            "test_complex_agent_run.yaml",
            0,
            "",
            &[("get_country", "{}"), ("get_product_name", "{}")],
            Some(StopReason::ToolUse),
            usage(364, 40, 0, 0),
        ),
        (
            "test_complex_agent_run.yaml",
            1,
            "",
            &[("get_weather", r#"{"city":"Mexico City"}"#)],
            Some(StopReason::ToolUse),
            usage(423, 15, 0, 0),
        ),
        (
            "test_dbos_agent_with_hitl_tool.yaml",
            0,
            "",
            &[
                ("delete_file", r#"{"path": ".env"}"#),
                ("create_file", r#"{"path": "test.txt"}"#),
            ],
            Some(StopReason::ToolUse),
            usage(71, 46, 0, 0),
        ),
        (
            "test_dbos_agent_with_hitl_tool.yaml",
            1,
            "The file `.env` has been deleted",
            &[],
            Some(StopReason::EndTurn),
            usage(133, 19, 0, 0),
        ),
        (
            "test_image_url_tool_response.yaml",
            0,
            "",
            &[("get_image", "{}")],
            Some(StopReason::ToolUse),
            usage(46, 11, 0, 0),
        ),
        (
            "test_image_url_tool_response.yaml",
            1,
            "The image shows a potato.",
            &[],
            Some(StopReason::EndTurn),
            usage(503, 8, 0, 0),
        ),
        (
            "test_max_completion_tokens[o3-mini].yaml",
            0,
            "Hello there! How can I help you today?",
            &[],
            Some(StopReason::EndTurn),
            usage(7, 87, 0, 64),
        ),
        (
            "test_openai_chat_prompt_cache_e2e.yaml",
            1,
            "OK",
            &[],
            Some(StopReason::EndTurn),
            usage(4020, 4, 4012, 0),
        ),
        (
            "test_run_stream_sync_streams_real_model.yaml",
            0,
            "",
            &[("get_capital", r#"{"country":"UK"}"#)],
            Some(StopReason::ToolUse),
            usage(53, 15, 0, 0),
        ),
        (
            "test_run_stream_sync_streams_real_model.yaml",
            1,
            "The capital of the UK is London.",
            &[],
            Some(StopReason::EndTurn),
            usage(78, 9, 0, 0),
        ),
        (
            "test_tool_use_failed_error_streaming.yaml",
            1,
            "",
            &[("get_something_by_name", r#"{"name":"example"}"#)],
            Some(StopReason::ToolUse),
            usage(304, 49, 0, 23),
        ),
        (
            "test_tool_use_failed_error_streaming.yaml",
            2,
            "The tool returned the expected result for the valid call.",
            &[],
            Some(StopReason::EndTurn),
            usage(339, 58, 0, 38),
        ),
    ];
    let mut checked = 0;
    for name in cassette_names() {
        for (n, it) in cassette(&name).into_iter().enumerate() {
            let fact = expect.iter().find(|e| e.0 == name && e.1 == n);
            match (&it.body, it.status) {
                (Ok(body), 200) => {
                    let r = chat::decode_response(body.to_string().as_bytes()).unwrap();
                    let text: String = r
                        .parts
                        .iter()
                        .filter_map(|p| match p {
                            Part::Text { text, .. } => Some(text.as_str()),
                            _ => None,
                        })
                        .collect();
                    let tools: Vec<(String, String)> = r
                        .parts
                        .iter()
                        .filter_map(|p| match p {
                            Part::ToolCall(c) => Some((c.name.clone(), c.arguments.clone())),
                            _ => None,
                        })
                        .collect();
                    let calls = body["choices"][0]["message"]["tool_calls"]
                        .as_array()
                        .map_or(0, Vec::len);
                    assert_eq!(tools.len(), calls, "{name} #{n}");
                    if let Some((_, _, t, tl, stop, u)) = fact {
                        assert!(text.starts_with(t), "{name} #{n}: {text}");
                        let want: Vec<(String, String)> = tl
                            .iter()
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .collect();
                        assert_eq!(tools, want, "{name} #{n}");
                        assert_eq!(Some(r.stop.clone()), *stop, "{name} #{n}");
                        assert_eq!(Some(r.usage), *u, "{name} #{n}");
                        checked += 1;
                    }
                }
                (Ok(body), status) => {
                    let e = chat::decode_error(status, body.to_string().as_bytes());
                    assert_eq!(e.status, Some(status), "{name} #{n}");
                    let want = match status {
                        400 => ErrorKind::InvalidRequest,
                        429 => ErrorKind::RateLimit,
                        other => panic!("{name}: unexpected status {other}"),
                    };
                    assert_eq!(e.kind, want, "{name} #{n}");
                    assert!(!e.message.is_empty());
                    checked += 1;
                }
                (Err(sse), _) => {
                    let events = decode_stream(&[sse.as_bytes()]);
                    let s = summarize(&events);
                    assert_matches_oracle(&format!("{name} #{n}"), &s, &oracle(&sse_payloads(sse)));
                    if let Some((_, _, t, tl, stop, u)) = fact {
                        assert!(s.text.starts_with(t), "{name} #{n}");
                        let tools: Vec<(String, String)> =
                            s.tools.iter().map(|t| (t.1.clone(), t.2.clone())).collect();
                        let want: Vec<(String, String)> = tl
                            .iter()
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .collect();
                        assert_eq!(tools, want, "{name} #{n}");
                        assert_eq!(s.stop, *stop, "{name} #{n}");
                        assert_eq!(s.usage, *u, "{name} #{n}");
                        assert!(s.ended);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(
        checked,
        expect.len() + 4,
        "every listed fact and the four error bodies checked"
    );
}

#[test]
fn groq_mid_stream_error_event() {
    let it = cassette("test_tool_use_failed_error_streaming.yaml").remove(0);
    let sse = it.body.unwrap_err();
    let events = decode_stream(&[sse.as_bytes()]);
    let s = summarize(&events);
    assert!(s
        .thinking
        .starts_with("We need to call the tool with invalid parameters"));
    let (kind, message) = s.error.unwrap();
    assert_eq!(
        kind,
        ErrorKind::InvalidRequest,
        "status_code 400 in the event"
    );
    assert!(message.starts_with("Tool call validation failed"));
    assert!(!s.ended);
    assert!(matches!(events.last(), Some(StreamEvent::Error(e)) if e.status == Some(400)));
}

#[test]
fn cassette_requests_decode_and_round_trip() {
    let mut n_requests = 0;
    for name in cassette_names() {
        for it in cassette(&name) {
            let body = it.request.to_string();
            let first =
                chat::decode_request(body.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!first.model.is_empty(), "{name}");
            let wire_msgs = it.request["messages"].as_array().unwrap();
            let tool_msgs = wire_msgs.iter().filter(|m| m["role"] == "tool").count();
            let results = first
                .messages
                .iter()
                .flat_map(|m| &m.parts)
                .filter(|p| matches!(p, Part::ToolResult(_)))
                .count();
            assert_eq!(
                results, tool_msgs,
                "{name}: every tool message is a ToolResult"
            );
            let encoded = chat::encode_request(&first).unwrap();
            let mut second = chat::decode_request(&encoded).unwrap();
            // By design the encoder always asks a streaming upstream for usage.
            let mut first = first;
            first.include_usage |= first.stream;
            second.include_usage |= second.stream;
            assert_eq!(second, first, "{name}");
            n_requests += 1;
        }
    }
    assert_eq!(n_requests, 19);
}

#[test]
fn cassette_request_specifics() {
    // Consecutive tool messages merge into one user message, in order, with the names of the
    // calls they answer; the following user message keeps its image URL.
    let reqs = cassette("test_image_url_tool_response.yaml");
    let r = chat::decode_request(reqs[1].request.to_string().as_bytes()).unwrap();
    assert_eq!(r.tool_choice, Some(ToolChoice::Auto));
    let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User, Role::User]);
    match &r.messages[2].parts[..] {
        [Part::ToolResult(t)] => {
            assert_eq!(t.call_id, "call_4hrT4QP9jfojtK69vGiFCFjG");
            assert_eq!(t.name.as_deref(), Some("get_image"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&r.messages[3].parts[1], Part::Image(m) if matches!(&m.source, MediaSource::Url { url, .. } if url.starts_with("https://t3.ftcdn.net/")))
    );
    assert_eq!(r.extra.as_ref().unwrap().1.get("n"), Some(&Value::from(1)));

    let reqs = cassette("test_complex_agent_run.yaml");
    let r = chat::decode_request(reqs[2].request.to_string().as_bytes()).unwrap();
    assert!(r.stream && r.include_usage);
    assert_eq!(r.tool_choice, Some(ToolChoice::Required));
    let results: Vec<usize> = r
        .messages
        .iter()
        .map(|m| {
            m.parts
                .iter()
                .filter(|p| matches!(p, Part::ToolResult(_)))
                .count()
        })
        .collect();
    assert_eq!(results, [0, 0, 2, 0, 1]);

    let reqs = cassette("test_dbos_agent_with_hitl_tool.yaml");
    let r = chat::decode_request(reqs[0].request.to_string().as_bytes()).unwrap();
    assert_eq!(
        r.system.len(),
        1,
        "the leading system message is Request::system"
    );
    assert_eq!(r.messages[0].role, Role::User);

    let reqs = cassette("test_openai_o1_mini_system_role[developer].yaml");
    let r = chat::decode_request(reqs[0].request.to_string().as_bytes()).unwrap();
    assert_eq!(
        r.system.len(),
        1,
        "a leading developer message is Request::system too"
    );

    let reqs = cassette("test_openai_chat_prompt_cache_e2e.yaml");
    let r = chat::decode_request(reqs[0].request.to_string().as_bytes()).unwrap();
    assert!(r.cache_key.is_some());

    let reqs = cassette("test_max_completion_tokens[o3-mini].yaml");
    let r = chat::decode_request(reqs[0].request.to_string().as_bytes()).unwrap();
    assert!(r.sampling.max_tokens.is_some());
}

// ------------------------------------------------------------------ every stream, every split

fn all_streams() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for case in chunk_cases() {
        out.push((case.file.to_owned(), chunks_to_sse(&read(case.file))));
    }
    for name in cassette_names() {
        for (n, it) in cassette(&name).into_iter().enumerate() {
            if let Err(sse) = it.body {
                out.push((format!("{name} #{n}"), sse.into_bytes()));
            }
        }
    }
    assert_eq!(out.len(), 7 + 8);
    out
}

/// Every stream split into two chunks at every byte offset gives the same IR events.
///
/// Feeding all ~300 KB at each of their ~300 K offsets would take minutes in a debug build, so
/// the replay starts from the decoders' state at the last event boundary before the split
/// (cloned from an event-by-event run) and runs to the next boundary, where the state must
/// equal that run's: from equal states the rest of the stream decodes identically. Small
/// streams are also replayed whole at every offset.
#[test]
fn every_stream_split_at_every_byte_gives_the_same_events() {
    for (name, bytes) in all_streams() {
        let whole = decode_stream(&[&bytes]);
        // Event boundaries: just after each blank line.
        let mut bounds = vec![0];
        for i in 1..bytes.len() {
            if bytes[i] == b'\n' && bytes[i - 1] == b'\n' {
                bounds.push(i + 1);
            }
        }
        if *bounds.last().unwrap() != bytes.len() {
            bounds.push(bytes.len());
        }
        // Event-by-event run with snapshots.
        let mut sse = SseDecoder::default();
        let mut dec = chat::StreamDecoder::new();
        let mut snaps = Vec::new();
        let mut outs: Vec<Vec<StreamEvent>> = Vec::new();
        let mut events = Vec::new();
        for w in bounds.windows(2) {
            snaps.push((sse.clone(), dec.clone()));
            let mut out = Vec::new();
            sse.feed(&bytes[w[0]..w[1]], &mut events).unwrap();
            for e in events.drain(..) {
                dec.feed(&e, &mut out);
            }
            outs.push(out);
        }
        snaps.push((sse.clone(), dec.clone()));
        let mut tail = Vec::new();
        sse.finish(&mut events);
        for e in events.drain(..) {
            dec.feed(&e, &mut tail);
        }
        dec.finish(&mut tail);
        let stitched: Vec<StreamEvent> = outs.iter().flatten().cloned().chain(tail).collect();
        assert_eq!(stitched, whole, "{name}: event-by-event run");

        for (k, w) in bounds.windows(2).enumerate() {
            for split in w[0]..=w[1] {
                let (mut s, mut d) = snaps[k].clone();
                let mut out = Vec::new();
                for part in [&bytes[w[0]..split], &bytes[split..w[1]]] {
                    s.feed(part, &mut events).unwrap();
                    for e in events.drain(..) {
                        d.feed(&e, &mut out);
                    }
                }
                assert_eq!(out, outs[k], "{name}: split at {split}");
                let (ws, wd) = &snaps[k + 1];
                assert_eq!(
                    format!("{s:?}{d:?}"),
                    format!("{ws:?}{wd:?}"),
                    "{name}: state after split at {split}"
                );
            }
        }
        if bytes.len() < 4096 {
            for split in 0..=bytes.len() {
                assert_eq!(
                    decode_stream(&[&bytes[..split], &bytes[split..]]),
                    whole,
                    "{name}: split at {split}"
                );
            }
        }
    }
}

// ------------------------------------------------------------------------ stream round trip

#[test]
fn every_stream_round_trips_through_the_encoder() {
    for (name, bytes) in all_streams() {
        let first = decode_stream(&[&bytes]);
        let had_usage = first.iter().any(|e| matches!(e, StreamEvent::Usage(_)));
        let mut enc = chat::StreamEncoder::new(
            EncodeContext::new(1_700_000_000, "t"),
            StreamOptions {
                client_model: None,
                include_usage: had_usage,
            },
        );
        let mut out = Vec::new();
        for e in &first {
            enc.encode(e, &mut out);
        }
        // An in-stream error keeps kind and message; its HTTP status is not part of Chat's
        // error chunk (Groq's `status_code` is an extension).
        let first: Vec<StreamEvent> = first
            .into_iter()
            .map(|e| match e {
                StreamEvent::Error(mut err) => {
                    err.status = None;
                    StreamEvent::Error(err)
                }
                other => other,
            })
            .collect();
        let again = decode_stream(&[&out]);
        // Usage may be reported several times upstream; the encoder reports the last once.
        let dedup = |events: &[StreamEvent]| -> Vec<StreamEvent> {
            let last = events
                .iter()
                .rev()
                .find(|e| matches!(e, StreamEvent::Usage(_)))
                .cloned();
            let mut v: Vec<StreamEvent> = events
                .iter()
                .filter(|e| !matches!(e, StreamEvent::Usage(_)))
                .cloned()
                .collect();
            if let Some(u) = last {
                let at = v
                    .iter()
                    .position(|e| matches!(e, StreamEvent::Finish { .. }))
                    .unwrap_or(v.len());
                v.insert(at, u);
            }
            v
        };
        assert_eq!(dedup(&again), dedup(&first), "{name}");
        assert_eq!(summarize(&again), summarize(&first), "{name}");
    }
}
