//! The Anthropic stream encoder against the rules Anthropic's stream parsers enforce
//! (CLIENTS.md): exact bytes for plain text, the scenarios other upstreams produce (thinking,
//! fragmented and interleaved tool calls, errors, missing events), random IR event sequences,
//! arbitrary bytes into the decoder, and the error-body table.
//!
//! Run: `cargo test -p switchyard-translators --test anthropic_stream_encode`

#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers outside #[test] fns fail loudly"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod anthropic_support;

use anthropic_support as sup;
use serde_json::json;
use switchyard_translators::anthropic::{self, StreamEncoder};
use switchyard_translators::ir::*;
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::StreamOptions;

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: "msg_1".into(),
        model: "claude-x".into(),
    }
}

fn usage(input: u64, output: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    })
}

fn bs(index: usize, block: BlockStart) -> StreamEvent {
    StreamEvent::BlockStart { index, block }
}

fn d(index: usize, delta: Delta) -> StreamEvent {
    StreamEvent::Delta { index, delta }
}

fn stop(index: usize) -> StreamEvent {
    StreamEvent::BlockStop { index }
}

fn finish(s: StopReason) -> StreamEvent {
    StreamEvent::Finish { stop: s }
}

fn tool(id: &str, name: &str) -> BlockStart {
    BlockStart::ToolCall {
        id: id.into(),
        name: name.into(),
    }
}

fn run(events: &[StreamEvent]) -> (String, sup::Assembled) {
    let out = sup::encode(events, StreamOptions::default());
    let text = String::from_utf8(out.clone()).expect("utf-8");
    let a = sup::validate(&out).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, a)
}

#[test]
fn plain_text_exact_bytes() {
    let (text, _) = run(&[
        start(),
        usage(10, 1),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Hel".into())),
        d(0, Delta::Text("lo\n".into())),
        stop(0),
        usage(10, 5),
        finish(StopReason::EndTurn),
        StreamEvent::End,
    ]);
    let expected = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
        "\n\n",
        "event: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
        "\n\n",
        "event: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo\n"}}"#,
        "\n\n",
        "event: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":0}"#,
        "\n\n",
        "event: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":5}}"#,
        "\n\n",
        "event: message_stop\n",
        r#"data: {"type":"message_stop"}"#,
        "\n\n",
    );
    assert_eq!(text, expected);
}

#[test]
fn thinking_then_text_keeps_them_apart_with_one_signature() {
    let (_, a) = run(&[
        start(),
        bs(0, BlockStart::Thinking),
        d(0, Delta::Thinking("let me ".into())),
        d(0, Delta::Thinking("think".into())),
        d(0, Delta::Signature("sig-".into())),
        d(0, Delta::Signature("part2".into())),
        stop(0),
        bs(1, BlockStart::Text),
        d(1, Delta::Text("answer".into())),
        stop(1),
        finish(StopReason::EndTurn),
        StreamEvent::End,
    ]);
    assert_eq!(
        a.blocks,
        vec![
            ("thinking".into(), "let me think".into(), "sig-part2".into()),
            ("text".into(), "answer".into(), String::new())
        ]
    );
    assert_eq!(a.stop_reason.as_deref(), Some("end_turn"));
}

#[test]
fn thinking_deltas_never_land_in_a_text_block() {
    // A sloppy upstream decoder sends thinking and text under one index.
    let (_, a) = run(&[
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Thinking("hmm".into())),
        d(0, Delta::Text("hi".into())),
        stop(0),
        StreamEvent::End,
    ]);
    let kinds: Vec<&str> = a.blocks.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(kinds, vec!["text", "thinking", "text"]);
    assert_eq!(a.blocks[1].1, "hmm");
    assert_eq!(a.blocks[2].1, "hi");
}

#[test]
fn tool_arguments_stream_as_they_arrive() {
    let events = [
        start(),
        bs(0, tool("toolu_1", "Bash")),
        d(0, Delta::ToolArguments("{\"comm".into())),
        d(0, Delta::ToolArguments("and\":\"ls\"}".into())),
        stop(0),
        finish(StopReason::ToolUse),
        StreamEvent::End,
    ];
    let mut enc = StreamEncoder::new(sup::ctx(), StreamOptions::default());
    let mut out = Vec::new();
    for e in &events[..3] {
        enc.encode(e, &mut out);
    }
    let so_far = String::from_utf8(out.clone()).unwrap();
    assert!(
        so_far.contains(r#""partial_json":"{\"comm""#),
        "first fragment not forwarded: {so_far}"
    );
    for e in &events[3..] {
        enc.encode(e, &mut out);
    }
    let a = sup::validate(&out).unwrap();
    assert_eq!(
        a.blocks,
        vec![(
            "tool_use".into(),
            r#"{"command":"ls"}"#.into(),
            String::new()
        )]
    );
    assert_eq!(a.stop_reason.as_deref(), Some("tool_use"));
}

#[test]
fn interleaved_parallel_tool_calls_are_serialised() {
    // OpenAI Chat may interleave argument fragments of two calls.
    let (_, a) = run(&[
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("two calls".into())),
        bs(1, tool("call_a", "f")),
        d(1, Delta::ToolArguments("{\"x\":".into())),
        bs(2, tool("call_b", "g")),
        d(2, Delta::ToolArguments("{\"y\":2}".into())),
        d(1, Delta::ToolArguments("1}".into())),
        usage(50, 20),
        finish(StopReason::ToolUse),
        StreamEvent::End,
    ]);
    assert_eq!(
        a.blocks,
        vec![
            ("text".into(), "two calls".into(), String::new()),
            ("tool_use".into(), r#"{"x":1}"#.into(), String::new()),
            ("tool_use".into(), r#"{"y":2}"#.into(), String::new()),
        ]
    );
    assert_eq!(a.usage["output_tokens"], 20);
}

#[test]
fn errors_end_the_stream_with_event_error() {
    let (text, a) = run(&[
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("partial".into())),
        StreamEvent::Error(StreamError {
            status: Some(529),
            kind: ErrorKind::Overloaded,
            message: "Overloaded".into(),
        }),
        stop(0),
        StreamEvent::End,
    ]);
    assert_eq!(a.error.as_deref(), Some("overloaded_error"));
    assert!(text.ends_with(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
    ));
    // Before anything else: the error alone.
    let out = sup::encode(
        &[StreamEvent::Error(StreamError {
            status: Some(429),
            kind: ErrorKind::RateLimit,
            message: "slow down".into(),
        })],
        StreamOptions::default(),
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}\n\n"
    );
}

#[test]
fn what_other_upstreams_leave_out_is_filled_in() {
    let opts = StreamOptions {
        client_model: Some("claude-sonnet-4-5".into()),
        include_usage: false,
    };
    // No id, a delta without its block start, usage after Finish (OpenAI Chat order), a
    // Gemini block the client cannot use, tool calls with a plain STOP, no BlockStops.
    let events = [
        StreamEvent::Start {
            id: String::new(),
            model: "gemini-2.5-pro".into(),
        },
        d(0, Delta::Text("hi".into())),
        bs(
            1,
            BlockStart::Unknown {
                protocol: Protocol::Gemini,
                value: json!({"executableCode": {}}),
            },
        ),
        d(1, Delta::Text("dropped with its block".into())),
        bs(2, tool("fc_1", "Read")),
        d(2, Delta::ToolArguments("{}".into())),
        finish(StopReason::EndTurn),
        StreamEvent::Usage(Usage {
            input_tokens: 100,
            output_tokens: 7,
            cache_read_tokens: 60,
            cache_write_tokens: 10,
            reasoning_tokens: 3,
        }),
        StreamEvent::End,
    ];
    let out = sup::encode(&events, opts);
    let a = sup::validate(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.id, "msg_sy1");
    assert_eq!(a.model, "claude-sonnet-4-5");
    assert_eq!(
        a.blocks,
        vec![
            ("text".into(), "hi".into(), String::new()),
            ("tool_use".into(), "{}".into(), String::new())
        ]
    );
    assert_eq!(a.stop_reason.as_deref(), Some("tool_use"));
    // IR input includes cache; Anthropic's does not.
    assert_eq!(
        a.usage,
        json!({"input_tokens": 30, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 60, "output_tokens": 7})
    );
}

#[test]
fn openai_reasoning_and_redacted_thinking_become_thinking_blocks() {
    let (_, a) = run(&[
        start(),
        bs(
            0,
            BlockStart::Reasoning {
                id: Some("rs_1".into()),
            },
        ),
        d(0, Delta::Thinking("summary".into())),
        d(0, Delta::EncryptedReasoning("gAAAA".into())),
        stop(0),
        bs(
            1,
            BlockStart::RedactedThinking {
                data: "opaque".into(),
            },
        ),
        stop(1),
        StreamEvent::End,
    ]);
    // The item id and encrypted content ride in the signature, so the next turn can give an
    // OpenAI upstream its reasoning item back.
    assert_eq!(
        a.blocks[0],
        (
            "thinking".into(),
            "summary".into(),
            "openai-reasoning:rs_1:gAAAA".into()
        )
    );
    assert_eq!(a.blocks[1].0, "redacted_thinking");
    assert_eq!(a.stop_reason.as_deref(), Some("end_turn"));
}

#[test]
fn max_tokens_stop_sequence_refusal_pause() {
    for (ir, wire, seq) in [
        (StopReason::MaxTokens, "max_tokens", None),
        (
            StopReason::StopSequence(Some("END".into())),
            "stop_sequence",
            Some("END"),
        ),
        (StopReason::ContentFilter, "refusal", None),
        (StopReason::PauseTurn, "pause_turn", None),
        (StopReason::Other("OTHER".into()), "end_turn", None),
    ] {
        let out = sup::encode(
            &[start(), finish(ir), StreamEvent::End],
            StreamOptions::default(),
        );
        let a = sup::validate(&out).unwrap();
        assert_eq!(a.stop_reason.as_deref(), Some(wire));
        let text = String::from_utf8(out).unwrap();
        match seq {
            Some(s) => assert!(text.contains(&format!("\"stop_sequence\":\"{s}\""))),
            None => assert!(text.contains("\"stop_sequence\":null")),
        }
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Any sequence of IR events, ended by `End`, gives a stream the client accepts.
#[test]
fn random_ir_event_sequences_always_give_a_valid_stream() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let mut events = Vec::new();
        let mut args_sent: Vec<usize> = Vec::new();
        let n = rng.below(25);
        for _ in 0..n {
            let idx = rng.below(4) as usize;
            let e = match rng.below(12) {
                0 => start(),
                1 => bs(idx, BlockStart::Text),
                2 => bs(idx, BlockStart::Thinking),
                3 => bs(idx, tool(&format!("call_{idx}"), "f")),
                4 => d(idx, Delta::Text("t".into())),
                5 => d(idx, Delta::Thinking("th".into())),
                6 => {
                    // One JSON object per tool block: later fragments are whitespace.
                    let first = !args_sent.contains(&idx);
                    args_sent.push(idx);
                    d(
                        idx,
                        Delta::ToolArguments(if first { "{\"a\":1}" } else { " " }.into()),
                    )
                }
                7 => d(idx, Delta::Signature("s".into())),
                8 => stop(idx),
                9 => usage(rng.below(100), rng.below(100)),
                10 => finish(StopReason::EndTurn),
                _ => bs(
                    idx,
                    BlockStart::Unknown {
                        protocol: Protocol::Anthropic,
                        value: json!({"type": "server_tool_use", "id": "s", "name": "web_search", "input": {"q": idx}}),
                    },
                ),
            };
            events.push(e);
        }
        let ending = if rng.below(5) == 0 {
            StreamEvent::Error(StreamError {
                status: None,
                kind: ErrorKind::Server,
                message: "x".into(),
            })
        } else {
            StreamEvent::End
        };
        events.push(ending);
        let out = sup::encode(&events, StreamOptions::default());
        if let Err(e) = sup::validate(&out) {
            panic!(
                "round {round}: {e}\nevents: {events:?}\n{}",
                String::from_utf8_lossy(&out)
            );
        }
        // And it decodes back without an error (the encoder ended it properly).
        let back = sup::decode(&out);
        assert!(
            matches!(back.last(), Some(StreamEvent::End | StreamEvent::Error(_))),
            "round {round}"
        );
    }
}

/// Arbitrary bytes into SseDecoder + StreamDecoder never panic.
#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let pieces: [&[u8]; 12] = [
        b"event: content_block_delta\n",
        b"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}\n\n",
        b"data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"x\",\"content\":[{\"type\":\"text\",\"text\":\"\"}]}}\n\n",
        b"data: {\"type\":\"content_block_start\",\"index\":3,\"content_block\":{\"type\":\"server_tool_use\"}}\n\n",
        b"data: {\"type\":\"content_block_stop\",\"index\":3}\n\n",
        b"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n",
        b"data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"o\"}}\n\n",
        b"data: {\"type\":\"message_stop\"}\n\n",
        b"\r\n",
        b"data: \xe6\x97",
        b": comment\n",
        b"{]\n\n",
    ];
    for _ in 0..2000 {
        let mut body = Vec::new();
        for _ in 0..rng.below(12) {
            if rng.below(3) == 0 {
                let len = rng.below(40);
                body.extend((0..len).map(|_| rng.next() as u8));
            } else {
                body.extend_from_slice(pieces[rng.below(pieces.len() as u64) as usize]);
            }
        }
        let at = rng.below(body.len() as u64 + 1) as usize;
        let (a, b) = body.split_at(at);
        let events = sup::decode_chunks(&[a, b]);
        // Whatever came in, re-encoding it gives a valid client stream.
        let out = sup::encode(&events, StreamOptions::default());
        sup::validate(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    }
    // A stream cut before message_stop ends in an error, not a silent success.
    let cut = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"x\"}}\n\n";
    let events = sup::decode(cut);
    assert!(matches!(events.last(), Some(StreamEvent::Error(_))));
    let mut sse = SseDecoder::default();
    let mut evs = Vec::new();
    sse.feed(b"data: not json\n\n", &mut evs).unwrap();
    let mut dec = anthropic::StreamDecoder::new();
    let mut out = Vec::new();
    dec.feed(&evs[0], &mut out);
    assert!(matches!(&out[..], [StreamEvent::Error(_)]));
}

#[test]
fn error_bodies_follow_the_error_kind_table() {
    let table = [
        (ErrorKind::InvalidRequest, 400, "invalid_request_error"),
        (ErrorKind::Authentication, 401, "authentication_error"),
        (ErrorKind::Permission, 403, "permission_error"),
        (ErrorKind::NotFound, 404, "not_found_error"),
        (ErrorKind::RateLimit, 429, "rate_limit_error"),
        (ErrorKind::Overloaded, 529, "overloaded_error"),
        (ErrorKind::Server, 500, "api_error"),
        (ErrorKind::Timeout, 504, "timeout_error"),
    ];
    for (kind, status, ty) in table {
        let err = StreamError {
            status: None,
            kind,
            message: "m".into(),
        };
        let (st, body) = anthropic::encode_error(&err);
        assert_eq!(st, status, "{kind:?}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"type": "error", "error": {"type": ty, "message": "m"}})
        );
        assert_eq!(anthropic::decode_error(st, &body).kind, kind, "{kind:?}");
    }
    // An OpenAI 503 overload reaches an Anthropic client as 529; a 413 keeps its status.
    let e = StreamError {
        status: Some(503),
        kind: ErrorKind::Overloaded,
        message: "busy".into(),
    };
    assert_eq!(anthropic::encode_error(&e).0, 529);
    let e = anthropic::decode_error(
        413,
        br#"{"type":"error","error":{"type":"request_too_large","message":"big"}}"#,
    );
    assert_eq!(
        (e.kind, anthropic::encode_error(&e).0),
        (ErrorKind::InvalidRequest, 413)
    );
    let e = anthropic::decode_error(
        529,
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::Overloaded);
    // Not JSON: classified by status, text kept (bounded).
    let e = anthropic::decode_error(502, b"<html>Bad Gateway</html>");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Server, "<html>Bad Gateway</html>")
    );
    let e = anthropic::decode_error(429, &vec![b'x'; 2000]);
    assert_eq!((e.kind, e.message.len()), (ErrorKind::RateLimit, 512));
    let e = anthropic::decode_error(504, b"");
    assert_eq!(e.kind, ErrorKind::Timeout);
    let e = anthropic::decode_error(
        504,
        br#"{"type":"error","error":{"type":"api_error","message":"t"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::Timeout);
}

#[test]
fn whole_responses_from_other_protocols() {
    let resp = Response {
        id: String::new(),
        model: "gpt-5".into(),
        parts: vec![
            Part::Thinking {
                text: "t".into(),
                signature: None,
            },
            Part::Reasoning(ReasoningItem {
                id: Some("rs_1".into()),
                summary: vec!["a".into(), "b".into()],
                encrypted_content: Some("enc".into()),
            }),
            Part::Text {
                text: "x".into(),
                cache_control: None,
            },
            Part::ToolCall(ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: "{\"a\":1}".into(),
                signature: Some("gemini-sig".into()),
            }),
            Part::Unknown {
                protocol: Protocol::OpenAiResponses,
                value: json!({"type": "web_search_call"}),
            },
        ],
        stop: StopReason::EndTurn,
        usage: Usage {
            input_tokens: 20,
            output_tokens: 5,
            cache_read_tokens: 5,
            cache_write_tokens: 0,
            reasoning_tokens: 2,
        },
    };
    let v: serde_json::Value =
        serde_json::from_slice(&anthropic::encode_response(&resp, &mut sup::ctx())).unwrap();
    assert_eq!(
        v,
        json!({
            "id": "msg_sy1", "type": "message", "role": "assistant", "model": "gpt-5",
            "content": [
                {"type": "thinking", "thinking": "t", "signature": ""},
                {"type": "thinking", "thinking": "a\n\nb", "signature": "openai-reasoning:rs_1:enc"},
                {"type": "text", "text": "x"},
                {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 15, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 5, "output_tokens": 5}
        })
    );
}
