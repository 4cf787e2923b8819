//! The STYLE 13 scenario list as IR streams, independent of any upstream: every encoder must
//! turn each into output its client accepts, and its decoder must read back the same meaning.
//! Whole responses are the same streams aggregated ([`super::summary::aggregate`]).

use serde_json::json;
use switchyard_translators::ir::{
    BlockStart, Delta, ErrorKind, Protocol, StopReason, StreamError, StreamEvent, Usage,
};

use BlockStart as B;
use StreamEvent as E;

fn start() -> E {
    E::Start {
        id: "msg_upstream_1".into(),
        model: "upstream-model-1".into(),
    }
}

fn block(index: usize, b: B) -> E {
    E::BlockStart { index, block: b }
}

fn delta(index: usize, d: Delta) -> E {
    E::Delta { index, delta: d }
}

fn stop(index: usize) -> E {
    E::BlockStop { index }
}

fn text_block(index: usize, pieces: &[&str]) -> Vec<E> {
    let mut v = vec![block(index, B::Text)];
    v.extend(
        pieces
            .iter()
            .map(|t| delta(index, Delta::Text((*t).into()))),
    );
    v.push(stop(index));
    v
}

fn tool(index: usize, id: &str, name: &str, fragments: &[&str]) -> Vec<E> {
    let mut v = vec![block(
        index,
        B::ToolCall {
            id: id.into(),
            name: name.into(),
        },
    )];
    v.extend(
        fragments
            .iter()
            .map(|f| delta(index, Delta::ToolArguments((*f).into()))),
    );
    v.push(stop(index));
    v
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    }
}

fn finish(s: StopReason, u: Usage) -> Vec<E> {
    vec![E::Usage(u), E::Finish { stop: s }, E::End]
}

fn error(kind: ErrorKind, status: u16, message: &str) -> E {
    E::Error(StreamError {
        status: Some(status),
        kind,
        message: message.into(),
    })
}

pub fn text() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(text_block(0, &["Hello", ", wörld ", "日本"]));
    v.extend(finish(StopReason::EndTurn, usage(12, 5)));
    v
}

pub fn thinking_then_text() -> Vec<E> {
    let mut v = vec![
        start(),
        block(0, B::Thinking),
        delta(0, Delta::Thinking("Let me think".into())),
        delta(0, Delta::Thinking(" about it.".into())),
        delta(0, Delta::Signature("c2lnbmF0dXJl".into())),
        stop(0),
    ];
    v.extend(text_block(1, &["The answer", " is 4."]));
    let mut u = usage(20, 40);
    u.reasoning_tokens = 30;
    v.extend(finish(StopReason::EndTurn, u));
    v
}

pub fn one_tool_call() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(text_block(0, &["Checking."]));
    v.extend(tool(
        1,
        "toolu_01",
        "get_weather",
        &["{\"city\":", " \"Paris\",", " \"days\": 3}"],
    ));
    v.extend(finish(StopReason::ToolUse, usage(30, 12)));
    v
}

pub fn parallel_tool_calls() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(tool(0, "toolu_a", "get_weather", &["{\"city\":\"Paris\"}"]));
    v.extend(tool(1, "toolu_b", "get_time", &["{\"tz\":", "\"CET\"}"]));
    v.extend(tool(2, "toolu_c", "no_args", &[]));
    v.extend(finish(StopReason::ToolUse, usage(30, 25)));
    v
}

/// OpenAI Chat upstreams interleave the argument fragments of parallel calls.
pub fn parallel_tool_calls_interleaved() -> Vec<E> {
    let a = B::ToolCall {
        id: "call_a".into(),
        name: "get_weather".into(),
    };
    let b = B::ToolCall {
        id: "call_b".into(),
        name: "get_time".into(),
    };
    let mut v = vec![
        start(),
        block(0, a),
        block(1, b),
        delta(0, Delta::ToolArguments("{\"city\":".into())),
        delta(1, Delta::ToolArguments("{\"tz\":".into())),
        delta(0, Delta::ToolArguments("\"Rome\"}".into())),
        delta(1, Delta::ToolArguments("\"UTC\"}".into())),
        stop(0),
        stop(1),
    ];
    v.extend(finish(StopReason::ToolUse, usage(30, 25)));
    v
}

pub fn usage_with_cache() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(text_block(0, &["cached"]));
    let u = Usage {
        input_tokens: 1000,
        output_tokens: 50,
        cache_read_tokens: 800,
        cache_write_tokens: 100,
        reasoning_tokens: 10,
    };
    v.extend(finish(StopReason::EndTurn, u));
    v
}

pub fn max_tokens() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(text_block(0, &["truncat"]));
    v.extend(finish(StopReason::MaxTokens, usage(5, 7)));
    v
}

pub fn unknown_block() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(text_block(0, &["Searching. "]));
    v.push(block(
        1,
        B::Unknown {
            protocol: Protocol::Anthropic,
            value: json!({"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}),
        },
    ));
    v.push(stop(1));
    v.extend(text_block(2, &["Found it."]));
    v.extend(finish(StopReason::EndTurn, usage(40, 9)));
    v
}

/// No content at all (a safety block): every client still needs a complete, terminated stream.
pub fn empty_content_filtered() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(finish(StopReason::ContentFilter, usage(9, 0)));
    v
}

pub fn stop_sequence() -> Vec<E> {
    let mut v = vec![start()];
    v.extend(text_block(0, &["one, two, "]));
    v.extend(finish(
        StopReason::StopSequence(Some("three".into())),
        usage(8, 4),
    ));
    v
}

/// Claude redacted thinking (opaque, only Anthropic clients can carry it) before text.
pub fn redacted_thinking() -> Vec<E> {
    let mut v = vec![
        start(),
        block(
            0,
            B::RedactedThinking {
                data: "EqkECkYIBxgCKkA8".into(),
            },
        ),
        stop(0),
    ];
    v.extend(text_block(1, &["Done."]));
    v.extend(finish(StopReason::EndTurn, usage(10, 3)));
    v
}

/// An OpenAI reasoning item: summary streamed as thinking, then `encrypted_content`.
pub fn reasoning_item() -> Vec<E> {
    let mut v = vec![
        start(),
        block(
            0,
            B::Reasoning {
                id: Some("rs_1".into()),
            },
        ),
        delta(0, Delta::Thinking("**Plan**\n\nAdd them.".into())),
        delta(0, Delta::EncryptedReasoning("gAAAAB-opaque".into())),
        stop(0),
    ];
    v.extend(text_block(1, &["3"]));
    let mut u = usage(11, 20);
    u.reasoning_tokens = 18;
    v.extend(finish(StopReason::EndTurn, u));
    v
}

/// The upstream failed after `Start`, before any block.
pub fn error_before_content() -> Vec<E> {
    vec![start(), error(ErrorKind::Overloaded, 529, "Overloaded")]
}

/// The upstream's stream opened with an error (no `Start` at all).
pub fn error_as_first_event() -> Vec<E> {
    vec![error(ErrorKind::RateLimit, 429, "rate limited")]
}

pub fn error_mid_stream() -> Vec<E> {
    vec![
        start(),
        block(0, B::Text),
        delta(0, Delta::Text("partial".into())),
        error(ErrorKind::Server, 500, "internal error"),
    ]
}

/// Upstream errors before a stream, by class (STYLE 13: 400/401/429/500/529).
pub fn error_bodies() -> Vec<StreamError> {
    [
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::Permission),
        (404, ErrorKind::NotFound),
        (429, ErrorKind::RateLimit),
        (500, ErrorKind::Server),
        (529, ErrorKind::Overloaded),
        (504, ErrorKind::Timeout),
    ]
    .into_iter()
    .map(|(status, kind)| StreamError {
        status: Some(status),
        kind,
        message: format!("upstream said {status}"),
    })
    .collect()
}
