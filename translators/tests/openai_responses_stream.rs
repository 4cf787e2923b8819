//! The Responses stream encoder against the client rules (CLIENTS.md, and the validator in
//! `openai_responses_support/validate.rs`): plain text (exact bytes), thinking then text, one
//! tool call in several fragments, parallel tool calls, errors before and during a stream,
//! incomplete stops; every recorded stream re-encoded and decoded back; robustness against
//! arbitrary bytes and shuffled real events.
//!
//! Run: `cargo test -p switchyard-translators --test openai_responses_stream`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod openai_responses_support;

use openai_responses_support::validate::{parse_sse, validate};
use openai_responses_support::{self as s};
use serde_json::{json, Value};
use switchyard_translators::ir::{
    BlockStart, Delta, ErrorKind, Protocol, StopReason, StreamError, StreamEvent, Usage,
};
use switchyard_translators::openai_responses::{StreamDecoder, StreamEncoder};
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::StreamOptions;

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: "resp_up1".into(),
        model: "claude-x".into(),
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
        input_tokens: 12,
        output_tokens: 7,
        cache_read_tokens: 4,
        cache_write_tokens: 0,
        reasoning_tokens: 2,
    })
}

fn finish(stop: StopReason) -> Vec<StreamEvent> {
    vec![usage(), StreamEvent::Finish { stop }, StreamEvent::End]
}

fn text_stream() -> Vec<StreamEvent> {
    let mut v = vec![
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("Hel".into())),
        d(0, Delta::Text("lo".into())),
        stop(0),
    ];
    v.extend(finish(StopReason::EndTurn));
    v
}

fn enc(events: &[StreamEvent]) -> Vec<u8> {
    s::encode(events, StreamOptions::default())
}

#[expect(clippy::unwrap_used, reason = "test helper: a failure fails the test")]
fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

const PLAIN_TEXT: &str = r#"event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_up1","object":"response","created_at":1700000000,"status":"in_progress","error":null,"incomplete_details":null,"model":"claude-x","output":[],"usage":null,"parallel_tool_calls":true,"tool_choice":"auto","tools":[]}}

event: response.in_progress
data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_up1","object":"response","created_at":1700000000,"status":"in_progress","error":null,"incomplete_details":null,"model":"claude-x","output":[],"usage":null,"parallel_tool_calls":true,"tool_choice":"auto","tools":[]}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_t1","type":"message","status":"in_progress","role":"assistant","content":[]}}

event: response.content_part.added
data: {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_t1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_t1","output_index":0,"content_index":0,"delta":"Hel","logprobs":[]}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_t1","output_index":0,"content_index":0,"delta":"lo","logprobs":[]}

event: response.output_text.done
data: {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_t1","output_index":0,"content_index":0,"text":"Hello","logprobs":[]}

event: response.content_part.done
data: {"type":"response.content_part.done","sequence_number":7,"item_id":"msg_t1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hello","annotations":[]}}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":{"id":"msg_t1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}}

event: response.completed
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_up1","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,"model":"claude-x","output":[{"id":"msg_t1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}],"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":4},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":2},"total_tokens":19},"parallel_tool_calls":true,"tool_choice":"auto","tools":[]}}

"#;

#[test]
fn plain_text_exact_bytes() {
    let out = enc(&text_stream());
    assert_eq!(text(&out), PLAIN_TEXT);
    let a = validate(&out).unwrap();
    assert_eq!(a.terminal, "response.completed");
    assert_eq!(a.items[0]["content"][0]["text"], "Hello");
    // And back: the same IR.
    assert_eq!(s::decode(&out), text_stream());
}

#[test]
fn client_model_is_echoed() {
    let opts = StreamOptions {
        client_model: Some("gpt-5-codex".into()),
        include_usage: false,
    };
    let out = s::encode(&text_stream(), opts);
    let a = validate(&out).unwrap();
    assert_eq!(a.model, "gpt-5-codex");
    assert_eq!(a.response["model"], "gpt-5-codex");
}

#[test]
fn thinking_then_text() {
    let mut ev = vec![
        start(),
        bs(0, BlockStart::Thinking),
        d(0, Delta::Thinking("Let me ".into())),
        d(0, Delta::Thinking("think.".into())),
        d(0, Delta::Signature("sig-abc".into())),
        stop(0),
        bs(1, BlockStart::Text),
        d(1, Delta::Text("Answer".into())),
        stop(1),
    ];
    ev.extend(finish(StopReason::EndTurn));
    let out = enc(&ev);
    let a = validate(&out).unwrap();
    assert_eq!(a.items.len(), 2);
    let r = &a.items[0];
    assert_eq!(r["type"], "reasoning");
    assert_eq!(
        r["summary"],
        json!([{"type": "summary_text", "text": "Let me think."}])
    );
    assert_eq!(
        r["encrypted_content"], "sig-abc",
        "the signature rides along"
    );
    assert_eq!(a.items[1]["content"][0]["text"], "Answer");
    let types = &a.types;
    let pos = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(
        pos("response.reasoning_summary_part.added") < pos("response.reasoning_summary_text.delta")
    );
    assert!(pos("response.reasoning_summary_part.done") < pos("response.content_part.added"));
    // Decoded back: a reasoning block with the same text and the signature as encrypted content.
    let f = s::facts_of_events(&s::decode(&out));
    assert_eq!(f.thinking, "Let me think.");
    assert_eq!(f.text, "Answer");
    assert_eq!(f.encrypted, 1);
}

#[test]
fn redacted_thinking_and_openai_reasoning() {
    let mut ev = vec![
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
                id: Some("rs_up".into()),
            },
        ),
        d(1, Delta::EncryptedReasoning("gAAA".into())),
        stop(1),
    ];
    ev.extend(finish(StopReason::EndTurn));
    let a = validate(&enc(&ev)).unwrap();
    assert_eq!(a.items[0]["encrypted_content"], "opaque");
    assert_eq!(a.items[0]["summary"], json!([]));
    assert_eq!(a.items[1]["id"], "rs_up");
    assert_eq!(a.items[1]["encrypted_content"], "gAAA");
    assert!(
        !a.types.iter().any(|t| t.contains("summary")),
        "no empty summary parts"
    );
}

fn tool_call_stream() -> Vec<StreamEvent> {
    let mut v = vec![
        start(),
        bs(
            0,
            BlockStart::ToolCall {
                id: "toolu_1".into(),
                name: "Bash".into(),
            },
        ),
        d(0, Delta::ToolArguments("{\"comm".into())),
        d(0, Delta::ToolArguments("and\": \"l".into())),
        d(0, Delta::ToolArguments("s\"}".into())),
        stop(0),
    ];
    v.extend(finish(StopReason::ToolUse));
    v
}

#[test]
fn one_tool_call_arguments_forwarded_as_they_arrive() {
    let events = tool_call_stream();
    let mut e = StreamEncoder::new(s::ctx(), StreamOptions::default());
    let mut out = Vec::new();
    for ev in &events {
        let before = out.len();
        e.encode(ev, &mut out);
        if let StreamEvent::Delta {
            delta: Delta::ToolArguments(frag),
            ..
        } = ev
        {
            let new = parse_sse(&out[before..]).unwrap();
            assert_eq!(new.len(), 1, "one event per fragment, at once");
            assert_eq!(new[0].1["type"], "response.function_call_arguments.delta");
            assert_eq!(new[0].1["delta"], frag.as_str());
        }
    }
    let a = validate(&out).unwrap();
    let item = &a.items[0];
    assert_eq!(item["type"], "function_call");
    assert_eq!(
        item["call_id"], "toolu_1",
        "the client sees the upstream's call id"
    );
    assert_eq!(item["name"], "Bash");
    assert_eq!(item["arguments"], "{\"command\": \"ls\"}");
    assert_eq!(a.terminal, "response.completed");
    assert_eq!(s::decode(&out), events, "round trip");
}

#[test]
fn tool_call_without_arguments_gets_an_empty_object() {
    let ev = vec![
        start(),
        bs(
            0,
            BlockStart::ToolCall {
                id: "c1".into(),
                name: "now".into(),
            },
        ),
        stop(0),
        StreamEvent::Finish {
            stop: StopReason::ToolUse,
        },
        StreamEvent::End,
    ];
    let a = validate(&enc(&ev)).unwrap();
    assert_eq!(a.items[0]["arguments"], "{}");
}

#[test]
fn two_parallel_tool_calls_interleaved() {
    let call = |i: usize, id: &str| {
        bs(
            i,
            BlockStart::ToolCall {
                id: id.into(),
                name: "get_weather".into(),
            },
        )
    };
    let mut ev = vec![
        start(),
        call(0, "call_a"),
        call(1, "call_b"),
        d(0, Delta::ToolArguments("{\"city\":".into())),
        d(1, Delta::ToolArguments("{\"city\":\"Oslo\"}".into())),
        d(0, Delta::ToolArguments("\"Paris\"}".into())),
        stop(1),
        stop(0),
    ];
    ev.extend(finish(StopReason::ToolUse));
    let out = enc(&ev);
    let a = validate(&out).unwrap();
    let got: Vec<(Value, Value)> = a.response["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["call_id"].clone(), i["arguments"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (json!("call_a"), json!("{\"city\":\"Paris\"}")),
            (json!("call_b"), json!("{\"city\":\"Oslo\"}"))
        ]
    );
    let f = s::facts_of_events(&s::decode(&out));
    assert_eq!(f.tools.len(), 2);
    assert_eq!(f.stop, Some(StopReason::ToolUse));
}

fn overloaded() -> StreamError {
    StreamError {
        status: Some(529),
        kind: ErrorKind::Overloaded,
        message: "Overloaded".into(),
    }
}

#[test]
fn error_mid_stream_fails_the_response() {
    let ev = vec![
        start(),
        bs(0, BlockStart::Text),
        d(0, Delta::Text("partial".into())),
        StreamEvent::Error(overloaded()),
        // Anything after the error is ignored.
        stop(0),
        StreamEvent::End,
    ];
    let out = enc(&ev);
    let a = validate(&out).unwrap();
    assert_eq!(
        a.error.as_deref(),
        Some("Overloaded"),
        "the SDK raises on the error event"
    );
    assert_eq!(a.terminal, "response.failed");
    assert_eq!(a.response["error"]["code"], "server_is_overloaded");
    assert_eq!(a.response["error"]["message"], "Overloaded");
    let tail: Vec<&str> = a.types.iter().rev().take(2).map(String::as_str).collect();
    assert_eq!(tail, ["response.failed", "error"]);
    let back = s::decode(&out);
    let Some(StreamEvent::Error(e)) = back.last() else {
        panic!("{back:?}")
    };
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(e.message, "Overloaded");
    assert_eq!(s::facts_of_events(&back).text, "partial");
}

#[test]
fn error_before_start() {
    let e = StreamError {
        status: Some(429),
        kind: ErrorKind::RateLimit,
        message: "slow down".into(),
    };
    let out = enc(&[StreamEvent::Error(e)]);
    let a = validate(&out).unwrap();
    assert_eq!(a.types, ["error", "response.failed"]);
    assert_eq!(a.response["error"]["code"], "rate_limit_exceeded");
    assert!(a.id.starts_with("resp_"), "an invented id: {}", a.id);
}

#[test]
fn max_tokens_and_content_filter_are_incomplete() {
    for (stop, reason) in [
        (StopReason::MaxTokens, "max_output_tokens"),
        (StopReason::ContentFilter, "content_filter"),
    ] {
        let mut ev = text_stream();
        ev.truncate(5);
        ev.extend(finish(stop.clone()));
        let out = enc(&ev);
        let a = validate(&out).unwrap();
        assert_eq!(a.terminal, "response.incomplete");
        assert_eq!(a.response["incomplete_details"]["reason"], reason);
        assert_eq!(s::facts_of_events(&s::decode(&out)).stop, Some(stop));
    }
    for stop in [
        StopReason::EndTurn,
        StopReason::StopSequence(Some("END".into())),
        StopReason::PauseTurn,
        StopReason::Other("x".into()),
    ] {
        let mut ev = text_stream();
        ev.truncate(5);
        ev.extend(finish(stop));
        assert_eq!(validate(&enc(&ev)).unwrap().terminal, "response.completed");
    }
}

#[test]
fn open_blocks_are_closed_at_end_and_foreign_unknown_blocks_dropped() {
    let ev = vec![
        start(),
        bs(
            0,
            BlockStart::Unknown {
                protocol: Protocol::Anthropic,
                value: json!({"type": "server_tool_use", "id": "srvtoolu_1"}),
            },
        ),
        stop(0),
        bs(
            1,
            BlockStart::Unknown {
                protocol: Protocol::OpenAiResponses,
                value: json!({"type": "web_search_call", "id": "ws_1", "status": "completed"}),
            },
        ),
        stop(1),
        bs(2, BlockStart::Text),
        d(2, Delta::Text("cut".into())),
        // No BlockStop, no Finish: the upstream just ended.
        StreamEvent::End,
    ];
    let a = validate(&enc(&ev)).unwrap();
    assert_eq!(a.items.len(), 2);
    assert_eq!(a.items[0]["type"], "web_search_call");
    assert_eq!(a.items[1]["content"][0]["text"], "cut");
    assert_eq!(a.terminal, "response.completed");
}

#[test]
fn events_before_start_get_one() {
    let ev = vec![
        bs(0, BlockStart::Text),
        d(0, Delta::Text("x".into())),
        stop(0),
        StreamEvent::End,
    ];
    let a = validate(&enc(&ev)).unwrap();
    assert!(a.id.starts_with("resp_"));
}

/// Every recorded stream, decoded, re-encoded: valid for the clients, and decoding it again
/// gives the same IR (ids, text, reasoning, encrypted content, arguments, unknown items,
/// usage, stop, errors).
#[test]
fn recorded_streams_round_trip() {
    for (label, body) in s::all_streams() {
        let ir = s::decode(&body);
        let out = enc(&ir);
        let a = validate(&out).unwrap_or_else(|e| panic!("{label}: {e}\n{}", text(&out)));
        assert_eq!(s::decode(&out), ir, "{label}");
        if matches!(ir.last(), Some(StreamEvent::End)) {
            assert_ne!(a.terminal, "response.failed", "{label}");
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] =
        b"data: event:response.output_item.added{}\"type\":,[]0\n\r\xe6\x97\xa5\xff ";
    for _ in 0..3000 {
        let len = (next() % 200) as usize;
        let input: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let cut = if len == 0 { 0 } else { (next() as usize) % len };
        let mut sse = SseDecoder::new(64);
        let mut dec = StreamDecoder::new();
        let mut events = Vec::new();
        let mut out = Vec::new();
        let _ = sse.feed(&input[..cut], &mut events);
        let _ = sse.feed(&input[cut..], &mut events);
        sse.finish(&mut events);
        for e in &events {
            dec.feed(e, &mut out);
        }
        dec.finish(&mut out);
    }
}

/// Real events in a random order, some dropped or repeated: the decoder never panics, every
/// block it opens it closes, the stream ends in `End` or `Error`; the encoder turns whatever
/// came out into a valid stream.
#[test]
fn shuffled_real_events_stay_well_formed() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (label, body) in s::all_streams() {
        let text = text(&body);
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        for round in 0..20 {
            let mut picked: Vec<&str> = Vec::new();
            for _ in 0..events.len() {
                let e = events[(next() as usize) % events.len()];
                if next() % 4 != 0 {
                    picked.push(e);
                }
            }
            let stream = picked.join("\n\n") + "\n\n";
            let ir = s::decode(stream.as_bytes());
            let f = std::panic::catch_unwind(|| s::facts_of_events(&ir));
            assert!(f.is_ok(), "{label} round {round}: {ir:?}");
            assert!(
                matches!(ir.last(), Some(StreamEvent::End | StreamEvent::Error(_))),
                "{label} round {round}"
            );
            validate(&enc(&ir)).unwrap_or_else(|e| panic!("{label} round {round}: {e}"));
        }
    }
}
