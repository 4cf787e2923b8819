//! Hand-written IR through the Gemini stream codecs: the stream encoder against the Gemini
//! client rules of ../shared/CLIENTS.md (a validator below), the JSON-array framing, error
//! bodies, and arbitrary input that must never panic. Requests and responses:
//! `gemini_codec.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test gemini_codec_streams`
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

use serde_json::{json, Value};
use switchyard_translators::gemini::{self, ArrayStreamDecoder, StreamDecoder, StreamEncoder};
use switchyard_translators::ir::*;
use switchyard_translators::sse::{SseDecoder, SseEvent};
use switchyard_translators::StreamOptions;

fn ctx() -> EncodeContext {
    EncodeContext::new(1_764_000_000, "sy")
}

// --------------------------------------------------------------------------------- streams

const ID: &str = "resp_1";
const MODEL: &str = "gemini-2.5-flash";

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: ID.into(),
        model: MODEL.into(),
    }
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
fn tool(id: &str, name: &str) -> BlockStart {
    BlockStart::ToolCall {
        id: id.into(),
        name: name.into(),
    }
}
fn usage_ev() -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: 5,
        output_tokens: 9,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 4,
    })
}

fn encode_stream(events: &[StreamEvent], opts: StreamOptions) -> Vec<u8> {
    let mut enc = StreamEncoder::new(ctx(), opts);
    let mut out = Vec::new();
    for e in events {
        enc.encode(e, &mut out);
    }
    out
}

/// The Gemini client rules (CLIENTS.md): `data: {json}` with the space, no event names, every
/// chunk with the response id and model, `finishReason` and `usageMetadata` on the last chunk
/// and only there, function calls whole (name, object args); or an error object, last.
fn validate(body: &[u8], model: &str) -> Vec<Value> {
    let text = std::str::from_utf8(body).unwrap();
    assert!(text.ends_with("\r\n\r\n"), "{text:?}");
    let chunks: Vec<Value> = text
        .split_terminator("\r\n\r\n")
        .map(|frame| {
            let json = frame
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("framing: {frame:?}"));
            assert!(!json.contains('\n'), "one line per chunk");
            serde_json::from_str(json).unwrap()
        })
        .collect();
    assert!(!chunks.is_empty());
    let n = chunks.len();
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == n;
        if let Some(e) = c.get("error") {
            assert!(last, "the error ends the stream");
            assert!(
                e["code"].is_u64() && e["message"].is_string() && e["status"].is_string(),
                "{e}"
            );
            continue;
        }
        assert_eq!(c["responseId"], ID, "{c}");
        assert_eq!(c["modelVersion"], model, "{c}");
        let cand = &c["candidates"][0];
        assert_eq!(cand["content"]["role"], "model");
        for p in cand["content"]["parts"].as_array().unwrap() {
            if let Some(fc) = p.get("functionCall") {
                assert!(!fc["name"].as_str().unwrap().is_empty());
                assert!(fc["args"].is_object(), "{fc}");
                assert!(!fc["id"].as_str().unwrap().is_empty());
            }
        }
        assert_eq!(
            cand["finishReason"].is_string(),
            last,
            "finishReason on the last chunk only: {c}"
        );
        assert_eq!(
            c["usageMetadata"].is_object(),
            last,
            "usageMetadata on the last chunk only"
        );
    }
    chunks
}

fn decode_back(body: &[u8]) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::default();
    let mut events = Vec::new();
    sse.feed(body, &mut events).unwrap();
    sse.finish(&mut events);
    let mut dec = StreamDecoder::new();
    let mut out = Vec::new();
    for e in &events {
        dec.feed(e, &mut out);
    }
    dec.finish(&mut out);
    out
}

#[test]
fn plain_text_stream_exact_bytes() {
    let events = [
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Hel".into())),
        d(0, Delta::Text("lo".into())),
        stop(0),
        StreamEvent::Usage(Usage {
            input_tokens: 5,
            output_tokens: 2,
            ..Usage::default()
        }),
        StreamEvent::Finish {
            stop: StopReason::EndTurn,
        },
        StreamEvent::End,
    ];
    let body = encode_stream(&events, StreamOptions::default());
    let expected = concat!(
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"modelVersion":"gemini-2.5-flash","responseId":"resp_1"}"#,
        "\r\n\r\n",
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]}}],"modelVersion":"gemini-2.5-flash","responseId":"resp_1"}"#,
        "\r\n\r\n",
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash","responseId":"resp_1"}"#,
        "\r\n\r\n",
    );
    assert_eq!(String::from_utf8(body.clone()).unwrap(), expected);
    validate(&body, MODEL);
    assert_eq!(decode_back(&body), events);
}

#[test]
fn thinking_then_text_stream() {
    let events = [
        start(),
        bs(0, BlockStart::Thinking),
        d(0, Delta::Thinking("Let me ".into())),
        d(0, Delta::Thinking("think.".into())),
        d(0, Delta::Signature("c2ln".into())),
        stop(0),
        bs(1, BlockStart::Text),
        d(1, Delta::Text("Answer.".into())),
        stop(1),
        usage_ev(),
        StreamEvent::Finish {
            stop: StopReason::EndTurn,
        },
        StreamEvent::End,
    ];
    let body = encode_stream(&events, StreamOptions::default());
    let chunks = validate(&body, MODEL);
    assert_eq!(
        chunks[0]["candidates"][0]["content"]["parts"][0],
        json!({"text": "Let me ", "thought": true})
    );
    assert_eq!(
        chunks[2]["candidates"][0]["content"]["parts"][0],
        json!({"text": "", "thought": true, "thoughtSignature": "c2ln"})
    );
    assert_eq!(
        chunks.last().unwrap()["usageMetadata"]["thoughtsTokenCount"],
        4
    );
    assert_eq!(decode_back(&body), events);
}

#[test]
fn tool_call_with_fragmented_arguments_is_sent_whole() {
    let events = [
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Checking.".into())),
        stop(0),
        bs(1, tool("toolu_1", "get_weather")),
        d(1, Delta::ToolArguments("{\"ci".into())),
        d(1, Delta::ToolArguments("ty\":\"Pa".into())),
        d(1, Delta::Signature("c2ln".into())),
        d(1, Delta::ToolArguments("ris\"}".into())),
        stop(1),
        usage_ev(),
        StreamEvent::Finish {
            stop: StopReason::ToolUse,
        },
        StreamEvent::End,
    ];
    let body = encode_stream(&events, StreamOptions::default());
    let chunks = validate(&body, MODEL);
    assert_eq!(chunks.len(), 3);
    assert_eq!(
        chunks[1]["candidates"][0]["content"]["parts"][0],
        json!({"functionCall": {"id": "toolu_1", "name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"})
    );
    assert_eq!(chunks[2]["candidates"][0]["finishReason"], "STOP");
    let back = decode_back(&body);
    assert_eq!(
        back[4..9],
        [
            bs(1, tool("toolu_1", "get_weather")),
            d(1, Delta::Signature("c2ln".into())),
            d(1, Delta::ToolArguments(r#"{"city":"Paris"}"#.into())),
            stop(1),
            usage_ev(),
        ]
    );
    assert_eq!(
        back[9],
        StreamEvent::Finish {
            stop: StopReason::ToolUse
        }
    );
}

#[test]
fn two_parallel_tool_calls_interleaved() {
    let events = [
        start(),
        bs(0, tool("call_a", "a")),
        bs(1, tool("call_b", "b")),
        d(0, Delta::ToolArguments("{\"x\":".into())),
        d(1, Delta::ToolArguments("{}".into())),
        d(0, Delta::ToolArguments("1}".into())),
        stop(1),
        stop(0),
        StreamEvent::Finish {
            stop: StopReason::ToolUse,
        },
        StreamEvent::End,
    ];
    let body = encode_stream(&events, StreamOptions::default());
    let chunks = validate(&body, MODEL);
    let calls: Vec<Value> = chunks
        .iter()
        .filter_map(|c| {
            c["candidates"][0]["content"]["parts"][0]
                .get("functionCall")
                .cloned()
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            json!({"id": "call_b", "name": "b", "args": {}}),
            json!({"id": "call_a", "name": "a", "args": {"x": 1}}),
        ]
    );
    assert_eq!(
        chunks.last().unwrap()["usageMetadata"]["totalTokenCount"],
        0,
        "zeros when no usage came"
    );
}

#[test]
fn error_mid_stream_ends_with_an_error_object() {
    let events = [
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("partial".into())),
        StreamEvent::Error(StreamError {
            status: Some(429),
            kind: ErrorKind::RateLimit,
            message: "slow down".into(),
        }),
        // Nothing after the error is written.
        StreamEvent::End,
    ];
    let body = encode_stream(&events, StreamOptions::default());
    let chunks = validate(&body, MODEL);
    assert_eq!(
        chunks.last().unwrap(),
        &json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}})
    );
    let back = decode_back(&body);
    assert_eq!(
        back.last().unwrap(),
        &StreamEvent::Error(StreamError {
            status: Some(429),
            kind: ErrorKind::RateLimit,
            message: "slow down".into()
        })
    );
}

#[test]
fn client_model_unknown_blocks_and_missing_finish() {
    let events = [
        start(),
        bs(0, BlockStart::RedactedThinking { data: "x".into() }),
        stop(0),
        bs(
            1,
            BlockStart::Unknown {
                protocol: Protocol::Gemini,
                value: json!({"executableCode": {"code": "1+1", "language": "PYTHON"}}),
            },
        ),
        stop(1),
        bs(2, BlockStart::Reasoning { id: None }),
        d(2, Delta::Thinking("summary".into())),
        d(2, Delta::EncryptedReasoning("opaque".into())),
        stop(2),
        StreamEvent::End,
    ];
    let opts = StreamOptions {
        client_model: Some("my-alias".into()),
        include_usage: false,
    };
    let body = encode_stream(&events, opts);
    let chunks = validate(&body, "my-alias");
    assert_eq!(chunks.len(), 3);
    assert!(chunks[0]["candidates"][0]["content"]["parts"][0]["executableCode"].is_object());
    assert_eq!(
        chunks[1]["candidates"][0]["content"]["parts"][0],
        json!({"text": "summary", "thought": true})
    );
    assert_eq!(chunks[2]["candidates"][0]["finishReason"], "STOP");
}

#[test]
fn json_array_framing_round_trips() {
    let events = [
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("a \"quoted\" {brace} [x] \\ é".into())),
        stop(0),
        bs(1, tool("c1", "f")),
        d(1, Delta::ToolArguments(r#"{"s":"}]"}"#.into())),
        stop(1),
        usage_ev(),
        StreamEvent::Finish {
            stop: StopReason::ToolUse,
        },
        StreamEvent::End,
    ];
    let mut enc = StreamEncoder::json_array(ctx(), StreamOptions::default());
    let mut body = Vec::new();
    for e in &events {
        enc.encode(e, &mut body);
    }
    assert!(body.starts_with(b"[{") && body.ends_with(b"}]"));
    let parsed: Value = serde_json::from_slice(&body).expect("the whole body is one JSON array");
    assert_eq!(parsed.as_array().unwrap().len(), 3);
    for i in 0..=body.len() {
        let mut framing = ArrayStreamDecoder::default();
        let mut sse = Vec::new();
        framing.feed(&body[..i], &mut sse).unwrap();
        framing.feed(&body[i..], &mut sse).unwrap();
        let mut dec = StreamDecoder::new();
        let mut out = Vec::new();
        for e in &sse {
            dec.feed(e, &mut out);
        }
        dec.finish(&mut out);
        assert_eq!(out, events, "split at {i}");
    }
    // An error before anything else: still a valid array.
    let mut enc = StreamEncoder::json_array(ctx(), StreamOptions::default());
    let mut body = Vec::new();
    enc.encode(
        &StreamEvent::Error(StreamError {
            status: None,
            kind: ErrorKind::Overloaded,
            message: "busy".into(),
        }),
        &mut body,
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!([{"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}])
    );
}

#[test]
fn array_decoder_is_string_and_escape_aware_at_every_split() {
    let body =
        "[{\"a\":\"}\\\"{[\",\"b\":[1,{\"c\":\"\\\\\"}]}\n,\r\n{\"d\":\"日本\"}\n]".as_bytes();
    let expected = vec![
        "{\"a\":\"}\\\"{[\",\"b\":[1,{\"c\":\"\\\\\"}]}".to_string(),
        "{\"d\":\"日本\"}".to_string(),
    ];
    for i in 0..=body.len() {
        for j in i..=body.len() {
            let mut d = ArrayStreamDecoder::default();
            let mut out = Vec::new();
            for part in [&body[..i], &body[i..j], &body[j..]] {
                d.feed(part, &mut out).unwrap();
            }
            let got: Vec<String> = out.into_iter().map(|e| e.data).collect();
            assert_eq!(got, expected, "split at {i},{j}");
        }
    }
    let mut d = ArrayStreamDecoder::new(8);
    assert!(d
        .feed(b"[{\"a\":\"0123456789\"}]", &mut Vec::new())
        .is_err());
}

/// Vertex's streamed arguments name array elements by index. An index past the next element
/// or a path deeper than 128 segments is dropped: before, `$.a[300000000]` (a 160-byte chunk)
/// allocated 300 million nulls (about 15 GB) and took minutes. The index here is smaller, so
/// that a regression fails on the result instead of exhausting the machine.
#[test]
fn streamed_arguments_bound_what_a_path_creates() {
    let chunk = |args: &str, more: bool| SseEvent {
        event: None,
        data: format!(
            r#"{{"candidates":[{{"content":{{"parts":[{{"functionCall":{{"partialArgs":[{args}],"willContinue":{more}}}}}]}}}}]}}"#
        ),
        id: None,
    };
    let arg = |path: &str, v: &str| format!(r#"{{"jsonPath":"{path}","stringValue":"{v}"}}"#);
    let deep = format!("$.{}", vec!["d"; 129].join("."));
    let events = [
        SseEvent {
            event: None,
            data: r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","willContinue":true}}]}}],"responseId":"r"}"#.into(),
            id: None,
        },
        chunk(&arg("$.a[0]", "x"), true),
        chunk(&arg("$.a[0]", "y"), true),
        chunk(&arg("$.a[1]", "z"), true),
        chunk(&arg("$.a[3000000]", "far"), true),
        chunk(&arg("$.a[3]", "gap"), true),
        chunk(&arg(&deep, "deep"), true),
        chunk(&arg(&format!("$.{}", vec!["e"; 64].join(".")), "ok"), true),
        chunk(&arg("$.b", "w"), false),
    ];
    let mut dec = StreamDecoder::new();
    let mut out = Vec::new();
    for e in &events {
        dec.feed(e, &mut out);
    }
    let args: Vec<&String> = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta {
                delta: Delta::ToolArguments(a),
                ..
            } => Some(a),
            _ => None,
        })
        .collect();
    let [args] = &args[..] else { panic!("{out:?}") };
    let mut v: Value = serde_json::from_str(args).unwrap();
    let mut node = v["e"].take();
    for _ in 1..64 {
        node = node["e"].take();
    }
    assert_eq!(node, "ok");
    v.as_object_mut().unwrap().remove("e");
    assert_eq!(v, json!({"a": ["xy", "z"], "b": "w"}));
}

#[test]
fn stream_decoder_edge_cases() {
    let feed = |chunks: &[&str]| {
        let mut dec = StreamDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            dec.feed(
                &SseEvent {
                    event: None,
                    data: (*c).into(),
                    id: None,
                },
                &mut out,
            );
        }
        dec.finish(&mut out);
        out
    };
    // Cut off before the finishReason: an error, not a fake success.
    let out = feed(&[r#"{"candidates":[{"content":{"parts":[{"text":"hi"}]}}],"responseId":"r"}"#]);
    assert!(
        matches!(out.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::Server),
        "{out:?}"
    );
    // An error chunk mid-stream.
    let out = feed(&[
        r#"{"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}"#,
        r#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#,
    ]);
    assert_eq!(
        out.last(),
        Some(&StreamEvent::Error(StreamError {
            status: Some(503),
            kind: ErrorKind::Overloaded,
            message: "overloaded".into()
        }))
    );
    // A blocked prompt.
    let out =
        feed(&[r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"responseId":"r"}"#]);
    assert_eq!(
        out[out.len() - 2],
        StreamEvent::Finish {
            stop: StopReason::ContentFilter
        }
    );
    // Empty stream.
    assert!(matches!(feed(&[])[..], [StreamEvent::Error(_)]));
}

// ----------------------------------------------------------------------------------- errors

#[test]
fn error_bodies_follow_the_table() {
    for (kind, code, status) in [
        (ErrorKind::InvalidRequest, 400, "INVALID_ARGUMENT"),
        (ErrorKind::Authentication, 401, "UNAUTHENTICATED"),
        (ErrorKind::Permission, 403, "PERMISSION_DENIED"),
        (ErrorKind::NotFound, 404, "NOT_FOUND"),
        (ErrorKind::RateLimit, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind::Overloaded, 503, "UNAVAILABLE"),
        (ErrorKind::Server, 500, "INTERNAL"),
        (ErrorKind::Timeout, 504, "DEADLINE_EXCEEDED"),
    ] {
        let err = StreamError {
            status: None,
            kind,
            message: "m".into(),
        };
        let (got, body) = gemini::encode_error(&err);
        assert_eq!(got, code);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"error": {"code": code, "message": "m", "status": status}})
        );
        let back = gemini::decode_error(code, &body);
        assert_eq!((back.kind, back.status), (kind, Some(code)));
    }
    // Wrapped in an array (the non-SSE stream), and a body that is not JSON.
    let e = gemini::decode_error(
        400,
        br#"[{"error":{"code":400,"message":"bad","status":"FAILED_PRECONDITION"}}]"#,
    );
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::InvalidRequest, "bad")
    );
    let e = gemini::decode_error(502, b"<html>bad gateway</html>");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Server, "<html>bad gateway</html>")
    );
}

// ------------------------------------------------------------------------- never panic

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let pieces: &[&[u8]] = &[
        b"data: ",
        b"\r\n\r\n",
        b"{\"candidates\":[{\"content\":{\"parts\":[",
        b"{\"text\":\"x\",\"thought\":true}",
        b"{\"functionCall\":{\"name\":\"f\",\"willContinue\":true}}",
        b"{\"functionCall\":{\"partialArgs\":[{\"jsonPath\":\"$.a[3].b\",\"stringValue\":\"v\"}]}}",
        b"{\"functionCall\":{}}",
        b"{\"thoughtSignature\":\"s\",\"text\":\"\"}",
        b"]},\"finishReason\":\"STOP\"}]",
        b",\"usageMetadata\":{\"promptTokenCount\":1}}",
        b"{\"error\":{\"code\":1}}",
        b"[",
        b",",
        b"]",
        b"\"",
        b"\\",
        b"\xe6\x97",
        b"\xff",
        b"}",
        b"{",
    ];
    for _ in 0..3000 {
        let n = (rng.next() % 12) as usize;
        let mut input = Vec::new();
        for _ in 0..n {
            input.extend_from_slice(pieces[(rng.next() % pieces.len() as u64) as usize]);
        }
        let cut = if input.is_empty() {
            0
        } else {
            (rng.next() as usize) % input.len()
        };
        let mut sse = SseDecoder::new(256);
        let mut array = ArrayStreamDecoder::new(256);
        let mut events = Vec::new();
        let _ = sse.feed(&input[..cut], &mut events);
        let _ = array.feed(&input[..cut], &mut events);
        let _ = sse.feed(&input[cut..], &mut events);
        let _ = array.feed(&input[cut..], &mut events);
        sse.finish(&mut events);
        array.finish(&mut events);
        let mut dec = StreamDecoder::new();
        let mut out = Vec::new();
        for e in &events {
            dec.feed(e, &mut out);
        }
        dec.finish(&mut out);
        let mut enc = StreamEncoder::new(ctx(), StreamOptions::default());
        let mut bytes = Vec::new();
        for e in &out {
            enc.encode(e, &mut bytes);
        }
        let _ = gemini::decode_request(&input);
        let _ = gemini::decode_response(&input);
        let _ = gemini::decode_error(500, &input);
    }
}
