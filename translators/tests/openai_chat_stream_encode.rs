//! The OpenAI Chat stream encoder against what Chat clients' parsers need (CLIENTS.md: data-only
//! lines, a `finish_reason` chunk, a usage chunk when asked, `[DONE]`; the openai SDK raises on
//! a data-only `{"error":...}` event), checked by a validator over the emitted bytes for the
//! scenarios text, thinking then text, one tool call in fragments, two parallel tool calls and
//! an error mid-stream; exact bytes for the text case; arbitrary bytes and random chunk
//! sequences into the decoder.
//!
//! Run: `cargo test -p switchyard-translators --test openai_chat_stream_encode`

#![expect(
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

use serde_json::Value;
use switchyard_translators::ir::{
    BlockStart, Delta, EncodeContext, ErrorKind, StopReason, StreamError, StreamEvent, Usage,
};
use switchyard_translators::openai_chat as chat;
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::StreamOptions;

fn encode(events: &[StreamEvent], opts: StreamOptions) -> Vec<u8> {
    let mut enc = chat::StreamEncoder::new(EncodeContext::new(1_700_000_000, "s"), opts);
    let mut out = Vec::new();
    for e in events {
        enc.encode(e, &mut out);
    }
    out
}

fn opts(include_usage: bool) -> StreamOptions {
    StreamOptions {
        client_model: Some("client-model".into()),
        include_usage,
    }
}

/// What a client assembles from the stream.
#[derive(Debug, Default)]
struct Seen {
    text: String,
    reasoning: String,
    /// (id, name, arguments) by Chat index.
    tools: Vec<(String, String, String)>,
    finish: Option<String>,
    usage: Option<Value>,
    done: bool,
    error: Option<Value>,
}

/// Parse the bytes the way the openai SDK does and enforce the rules a Chat client needs.
fn validate(bytes: &[u8], include_usage: bool) -> Seen {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with("\n\n"), "the last event is terminated");
    let mut seen = Seen::default();
    let mut ident: Option<(Value, Value, Value)> = None;
    let mut first = true;
    for raw in text[..text.len() - 2].split("\n\n") {
        assert!(!seen.done, "nothing after [DONE]");
        assert!(seen.error.is_none(), "nothing after an error");
        // Data-only: exactly one `data: ` line per event, no `event:`/`id:` fields.
        assert!(
            raw.starts_with("data: ") && !raw.contains('\n'),
            "not one data line: {raw:?}"
        );
        let data = &raw[6..];
        if data == "[DONE]" {
            assert!(
                seen.finish.is_some(),
                "[DONE] before the finish_reason chunk"
            );
            assert_eq!(seen.usage.is_some(), include_usage, "usage chunk iff asked");
            seen.done = true;
            continue;
        }
        let v: Value = serde_json::from_str(data).expect("JSON payload");
        if let Some(err) = v.get("error") {
            assert!(err["message"].is_string() && err["type"].is_string(), "{v}");
            seen.error = Some(err.clone());
            continue;
        }
        assert_eq!(v["object"], "chat.completion.chunk");
        let id = (v["id"].clone(), v["created"].clone(), v["model"].clone());
        assert!(id.0.as_str().is_some_and(|s| !s.is_empty()), "id: {v}");
        match &ident {
            None => ident = Some(id),
            Some(prev) => assert_eq!(*prev, id, "same id, created and model on every chunk"),
        }
        let choices = v["choices"].as_array().expect("choices");
        if choices.is_empty() {
            assert!(seen.finish.is_some(), "usage chunk after the finish chunk");
            assert!(v["usage"].is_object(), "{v}");
            assert!(seen.usage.is_none(), "one usage chunk");
            seen.usage = Some(v["usage"].clone());
            continue;
        }
        assert_eq!(choices.len(), 1);
        let c = &choices[0];
        assert_eq!(c["index"], 0);
        assert!(
            c.get("finish_reason").is_some(),
            "finish_reason key on every chunk"
        );
        let d = &c["delta"];
        if first {
            assert_eq!(d["role"], "assistant", "the first chunk carries the role");
            first = false;
        }
        if let Some(f) = c["finish_reason"].as_str() {
            assert!(seen.finish.is_none(), "one finish_reason chunk");
            assert_eq!(d, &serde_json::json!({}));
            seen.finish = Some(f.to_owned());
            continue;
        }
        assert!(seen.finish.is_none(), "content after finish_reason: {v}");
        if let Some(t) = d["content"].as_str() {
            seen.text.push_str(t);
        }
        if let Some(t) = d["reasoning_content"].as_str() {
            seen.reasoning.push_str(t);
        }
        for tc in d["tool_calls"].as_array().into_iter().flatten() {
            let idx = tc["index"].as_u64().expect("index") as usize;
            let args = tc["function"]["arguments"]
                .as_str()
                .expect("arguments string");
            if idx == seen.tools.len() {
                // First fragment: id, type and name.
                let id = tc["id"].as_str().expect("id on the first fragment");
                assert!(!id.is_empty());
                assert_eq!(tc["type"], "function");
                let name = tc["function"]["name"]
                    .as_str()
                    .expect("name on the first fragment");
                seen.tools
                    .push((id.to_owned(), name.to_owned(), args.to_owned()));
            } else {
                assert!(idx < seen.tools.len(), "tool indices are dense from 0");
                assert!(tc.get("id").is_none() && tc["function"].get("name").is_none());
                seen.tools[idx].2.push_str(args);
            }
        }
    }
    assert!(!first || seen.error.is_some(), "at least the role chunk");
    match &seen.error {
        Some(_) => assert!(!seen.done, "no [DONE] after an error"),
        None => assert!(seen.done, "[DONE] ends a clean stream"),
    }
    seen
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: "chatcmpl-1".into(),
        model: "upstream-model".into(),
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

fn usage() -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: 10,
        output_tokens: 2,
        cache_read_tokens: 4,
        cache_write_tokens: 0,
        reasoning_tokens: 1,
    })
}

fn text_stream() -> Vec<StreamEvent> {
    vec![
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Hel".into())),
        d(0, Delta::Text("lo".into())),
        stop(0),
        usage(),
        StreamEvent::Finish {
            stop: StopReason::EndTurn,
        },
        StreamEvent::End,
    ]
}

#[test]
fn plain_text_exact_bytes() {
    let out = encode(&text_stream(), opts(true));
    let head = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"client-model","choices":"#;
    let want = [
        format!(r#"{head}[{{"index":0,"delta":{{"role":"assistant","content":""}},"finish_reason":null}}]}}"#),
        format!(r#"{head}[{{"index":0,"delta":{{"content":"Hel"}},"finish_reason":null}}]}}"#),
        format!(r#"{head}[{{"index":0,"delta":{{"content":"lo"}},"finish_reason":null}}]}}"#),
        format!(r#"{head}[{{"index":0,"delta":{{}},"finish_reason":"stop"}}]}}"#),
        format!(
            r#"{head}[],"usage":{{"completion_tokens":2,"completion_tokens_details":{{"reasoning_tokens":1}},"prompt_tokens":10,"prompt_tokens_details":{{"cached_tokens":4}},"total_tokens":12}}}}"#
        ),
        "[DONE]".to_owned(),
    ]
    .iter()
    .map(|p| format!("data: {p}\n\n"))
    .collect::<String>();
    assert_eq!(String::from_utf8(out.clone()).unwrap(), want);
    let seen = validate(&out, true);
    assert_eq!(seen.text, "Hello");
    assert_eq!(seen.finish.as_deref(), Some("stop"));
}

#[test]
fn without_include_usage_there_is_no_usage_chunk_and_the_upstream_model_is_kept() {
    let out = encode(
        &text_stream(),
        StreamOptions {
            client_model: None,
            include_usage: false,
        },
    );
    let seen = validate(&out, false);
    assert_eq!(seen.text, "Hello");
    assert!(String::from_utf8(out)
        .unwrap()
        .contains(r#""model":"upstream-model""#));
}

#[test]
fn thinking_then_text() {
    let events = vec![
        start(),
        bs(0, BlockStart::Thinking),
        d(0, Delta::Thinking("Let me ".into())),
        d(0, Delta::Thinking("think.".into())),
        d(0, Delta::Signature("sig-dropped".into())),
        stop(0),
        bs(1, BlockStart::Text),
        d(1, Delta::Text("Answer.".into())),
        stop(1),
        usage(),
        StreamEvent::Finish {
            stop: StopReason::EndTurn,
        },
        StreamEvent::End,
    ];
    let out = encode(&events, opts(true));
    let seen = validate(&out, true);
    assert_eq!(seen.reasoning, "Let me think.");
    assert_eq!(seen.text, "Answer.");
    assert!(!String::from_utf8(out).unwrap().contains("sig-dropped"));
}

#[test]
fn one_tool_call_in_fragments() {
    let events = vec![
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Checking.".into())),
        stop(0),
        bs(
            1,
            BlockStart::ToolCall {
                id: "toolu_1".into(),
                name: "get_weather".into(),
            },
        ),
        d(1, Delta::ToolArguments("{\"ci".into())),
        d(1, Delta::ToolArguments("ty\": \"Pa".into())),
        d(1, Delta::ToolArguments("ris\"}".into())),
        stop(1),
        usage(),
        StreamEvent::Finish {
            stop: StopReason::ToolUse,
        },
        StreamEvent::End,
    ];
    let out = encode(&events, opts(true));
    let seen = validate(&out, true);
    assert_eq!(seen.text, "Checking.");
    assert_eq!(
        seen.tools,
        [(
            "toolu_1".into(),
            "get_weather".into(),
            r#"{"city": "Paris"}"#.into()
        )]
    );
    assert_eq!(seen.finish.as_deref(), Some("tool_calls"));
    // Fragments are forwarded one chunk each, not held to the end.
    assert_eq!(
        String::from_utf8(out)
            .unwrap()
            .matches("\"arguments\":")
            .count(),
        4
    );
}

#[test]
fn two_parallel_tool_calls_even_interleaved() {
    let events = vec![
        start(),
        bs(
            0,
            BlockStart::ToolCall {
                id: "call_a".into(),
                name: "a".into(),
            },
        ),
        bs(
            1,
            BlockStart::ToolCall {
                id: "call_b".into(),
                name: "b".into(),
            },
        ),
        d(0, Delta::ToolArguments("{\"x\":".into())),
        d(1, Delta::ToolArguments("{\"y\":2}".into())),
        d(0, Delta::ToolArguments("1}".into())),
        stop(0),
        stop(1),
        // The upstream said "stop" (Gemini does): a Chat client still needs tool_calls.
        StreamEvent::Finish {
            stop: StopReason::EndTurn,
        },
        usage(),
        StreamEvent::End,
    ];
    let out = encode(&events, opts(true));
    let seen = validate(&out, true);
    assert_eq!(
        seen.tools,
        [
            ("call_a".into(), "a".into(), r#"{"x":1}"#.into()),
            ("call_b".into(), "b".into(), r#"{"y":2}"#.into())
        ]
    );
    assert_eq!(seen.finish.as_deref(), Some("tool_calls"));
    // Usage that arrives after Finish is still reported.
    assert_eq!(seen.usage.unwrap()["prompt_tokens"], 10);
    // One call after the other: the openai SDK's `.stream()` finalises (and JSON-parses) a
    // call's arguments as soon as a delta for another index arrives.
    let indexes: Vec<u64> = String::from_utf8(out)
        .unwrap()
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .flat_map(|v| {
            v["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|t| t["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 0, 0, 1, 1]);
}

#[test]
fn error_mid_stream_is_an_error_chunk_without_done() {
    let events = vec![
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Partial".into())),
        StreamEvent::Error(StreamError {
            status: Some(529),
            kind: ErrorKind::Overloaded,
            message: "Overloaded".into(),
        }),
        // Anything after the error is ignored.
        d(0, Delta::Text("late".into())),
        StreamEvent::End,
    ];
    let out = encode(&events, opts(true));
    let seen = validate(&out, true);
    assert_eq!(seen.text, "Partial");
    let err = seen.error.unwrap();
    assert_eq!(err["type"], "server_error");
    assert_eq!(err["code"], "server_is_overloaded");
    assert_eq!(err["message"], "Overloaded");
    // And our own decoder reads it back as the same error class.
    let mut sse = SseDecoder::default();
    let mut evs = Vec::new();
    sse.feed(&out, &mut evs).unwrap();
    let mut dec = chat::StreamDecoder::new();
    let mut ir = Vec::new();
    for e in &evs {
        dec.feed(e, &mut ir);
    }
    assert!(matches!(ir.last(), Some(StreamEvent::Error(e)) if e.kind == ErrorKind::Overloaded));
}

#[test]
fn error_before_start_and_missing_finish() {
    let out = encode(
        &[StreamEvent::Error(StreamError {
            status: Some(429),
            kind: ErrorKind::RateLimit,
            message: "slow down".into(),
        })],
        opts(false),
    );
    let seen = validate(&out, false);
    assert_eq!(seen.error.unwrap()["code"], "rate_limit_exceeded");

    // An upstream that ended without a stop reason still gives the client a finish chunk.
    let out = encode(
        &[
            start(),
            bs(0, BlockStart::Text),
            d(0, Delta::Text("x".into())),
            stop(0),
            StreamEvent::End,
        ],
        opts(false),
    );
    assert_eq!(validate(&out, false).finish.as_deref(), Some("stop"));
}

#[test]
fn dropped_blocks_leave_a_valid_stream() {
    let events = vec![
        start(),
        bs(
            0,
            BlockStart::RedactedThinking {
                data: "opaque".into(),
            },
        ),
        stop(0),
        bs(
            1,
            BlockStart::Reasoning {
                id: Some("rs_1".into()),
            },
        ),
        d(1, Delta::EncryptedReasoning("enc".into())),
        d(1, Delta::Thinking("summary".into())),
        stop(1),
        bs(2, BlockStart::Text),
        d(2, Delta::Text("ok".into())),
        stop(2),
        StreamEvent::Finish {
            stop: StopReason::MaxTokens,
        },
        StreamEvent::End,
    ];
    let out = encode(&events, opts(false));
    let seen = validate(&out, false);
    assert_eq!(seen.reasoning, "summary");
    assert_eq!(seen.finish.as_deref(), Some("length"));
    let s = String::from_utf8(out).unwrap();
    assert!(!s.contains("opaque") && !s.contains("enc\""));
}

// ------------------------------------------------------------------------------ decoder fuzz

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let alphabet: &[u8] = b"data: event:error\r\n{}[]\":,0123 choices delta content tool_calls index id finish_reason usage [DONE] \xe6\x97\xa5\xff";
    for _ in 0..3000 {
        let len = (next() % 256) as usize;
        let input: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let cut = if len == 0 { 0 } else { (next() as usize) % len };
        let mut sse = SseDecoder::new(1024);
        let mut dec = chat::StreamDecoder::new();
        let mut evs = Vec::new();
        let mut out = Vec::new();
        let _ = sse.feed(&input[..cut], &mut evs);
        let _ = sse.feed(&input[cut..], &mut evs);
        sse.finish(&mut evs);
        for e in &evs {
            dec.feed(e, &mut out);
        }
        dec.finish(&mut out);
    }
}

/// Random sequences of plausible chunks (any order a buggy upstream could produce) always
/// give a well-formed IR stream, and re-encoding it always satisfies the client rules.
#[test]
fn random_chunk_sequences_give_well_formed_ir() {
    let templates = [
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"reasoning":"hm"}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1","function":{"name":"g","arguments":"{}"}}]}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"function":{"arguments":"1}"}}]}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_other","function":{"name":"h","arguments":"{}"}}]}}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#,
        r#"{"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
        r#"{"id":"","model":"","choices":[],"prompt_filter_results":[]}"#,
        r#"{"error":{"message":"boom","type":"server_error"}}"#,
        "[DONE]",
        "not json",
    ];
    let mut next = xorshift(0x1234_5678_9abc_def1);
    for _ in 0..3000 {
        let n = (next() % 12) as usize;
        let mut bytes = Vec::new();
        for _ in 0..n {
            let t = templates[(next() % templates.len() as u64) as usize];
            bytes.extend_from_slice(format!("data: {t}\n\n").as_bytes());
        }
        let mut sse = SseDecoder::default();
        let mut evs = Vec::new();
        sse.feed(&bytes, &mut evs).unwrap();
        sse.finish(&mut evs);
        let mut dec = chat::StreamDecoder::new();
        let mut ir = Vec::new();
        for e in &evs {
            dec.feed(e, &mut ir);
        }
        dec.finish(&mut ir);
        check_well_formed(&ir);
        let include_usage = next().is_multiple_of(2);
        let out = encode(&ir, opts(include_usage));
        validate(&out, include_usage);
    }
}

fn check_well_formed(ir: &[StreamEvent]) {
    let mut open: Vec<usize> = Vec::new();
    let mut opened: Vec<usize> = Vec::new();
    let mut finished = false;
    for (n, e) in ir.iter().enumerate() {
        let last = n + 1 == ir.len();
        match e {
            StreamEvent::Start { .. } => assert_eq!(n, 0, "{ir:?}"),
            StreamEvent::Error(_) | StreamEvent::End => assert!(last, "{ir:?}"),
            _ => assert!(matches!(ir[0], StreamEvent::Start { .. }), "{ir:?}"),
        }
        match e {
            StreamEvent::BlockStart { index, .. } => {
                assert!(!finished && !opened.contains(index), "{ir:?}");
                opened.push(*index);
                open.push(*index);
            }
            StreamEvent::Delta { index, .. } => assert!(open.contains(index), "{ir:?}"),
            StreamEvent::BlockStop { index } => {
                assert!(open.contains(index), "{ir:?}");
                open.retain(|i| i != index);
            }
            StreamEvent::Finish { .. } => {
                assert!(open.is_empty() && !finished, "{ir:?}");
                finished = true;
            }
            StreamEvent::End => assert!(finished, "{ir:?}"),
            _ => {}
        }
    }
    assert!(
        matches!(ir.last(), Some(StreamEvent::End | StreamEvent::Error(_))),
        "{ir:?}"
    );
}
