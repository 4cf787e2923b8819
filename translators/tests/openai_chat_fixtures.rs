//! Golden tests for the OpenAI Chat codecs over real recorded provider traffic
//! (`shared/fixtures/upstream/openai-chat`, see its README): every non-stream body, every
//! stream (`*.chunks.txt` replayed as `data: <line>\n\n` + `data: [DONE]\n\n`, cassette SSE
//! bodies as recorded) decodes into IR with concrete facts asserted; responses and streams survive decode → encode → decode. Cassettes (answers and
//! requests): `openai_chat_cassettes.rs`. Every stream split at every byte offset:
//! `stream_splits.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test openai_chat_fixtures`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod openai_chat_support;

use openai_chat_support::{
    assert_matches_oracle, body, cassette, cassette_names, chunks_to_sse, decode_stream, oracle,
    read, summarize, usage,
};
use serde_json::Value;
use switchyard_translators::ir::{
    BlockStart, EncodeContext, ErrorKind, Part, StopReason, StreamEvent, Usage,
};
use switchyard_translators::openai_chat as chat;
use switchyard_translators::StreamOptions;

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

// ---------------------------------------------------------------------------- every stream

fn all_streams() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for case in chunk_cases() {
        out.push((case.file.to_owned(), chunks_to_sse(&read(case.file))));
    }
    for name in cassette_names() {
        for (n, it) in cassette(&name).into_iter().enumerate() {
            if let Err(sse) = body(&it) {
                out.push((format!("{name} #{n}"), sse.into_bytes()));
            }
        }
    }
    assert_eq!(out.len(), 7 + 8);
    out
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
