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

// ------------------------------------------------------------------------------- requests

pub mod requests {
    //! STYLE 13's request scenarios as IR requests: each goes to every upstream encoder, must be
    //! accepted (`validate::request`) and decode back to the same meaning.
    use serde_json::json;
    use switchyard_translators::ir::{
        Effort, FunctionTool, Media, MediaSource, Message, OutputFormat, Part, Reasoning,
        ReasoningMode, Request, Role, Sampling, Tool, ToolCall, ToolChoice, ToolResult,
    };

    fn text(t: &str) -> Part {
        Part::Text {
            text: t.into(),
            cache_control: None,
        }
    }

    fn msg(role: Role, parts: Vec<Part>) -> Message {
        Message { role, parts }
    }

    fn base(messages: Vec<Message>) -> Request {
        Request {
            model: "model-x".into(),
            system: vec![text("You are terse.")],
            messages,
            sampling: Sampling {
                max_tokens: Some(1024),
                ..Sampling::default()
            },
            ..Request::default()
        }
    }

    fn weather_tool() -> Tool {
        Tool::Function(FunctionTool {
            name: "get_weather".into(),
            description: Some("Weather for a city".into()),
            parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
            strict: None,
            cache_control: None,
        })
    }

    fn time_tool() -> Tool {
        Tool::Function(FunctionTool {
            name: "get_time".into(),
            description: None,
            parameters: json!({"type":"object","properties":{}}),
            strict: None,
            cache_control: None,
        })
    }

    fn call(id: &str, name: &str, args: &str) -> Part {
        Part::ToolCall(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: args.into(),
            signature: None,
        })
    }

    fn result(id: &str, name: &str, content: Vec<Part>, is_error: bool) -> Part {
        Part::ToolResult(ToolResult {
            call_id: id.into(),
            name: Some(name.into()),
            content,
            is_error,
        })
    }

    fn image_b64() -> Part {
        Part::Image(Media {
            source: MediaSource::Base64 {
                media_type: "image/png".into(),
                data: "iVBORw0KGgo=".into(),
            },
            cache_control: None,
            title: None,
        })
    }

    fn image_url() -> Part {
        Part::Image(Media {
            source: MediaSource::Url {
                url: "https://example.com/cat.png".into(),
                media_type: Some("image/png".into()),
            },
            cache_control: None,
            title: None,
        })
    }

    pub fn system_and_sampling() -> Request {
        let mut r = base(vec![msg(Role::User, vec![text("Hi")])]);
        r.sampling.temperature = Some(0.5);
        r.sampling.top_p = Some(0.9);
        r.sampling.stop = vec!["END".into()];
        r
    }

    pub fn multi_turn() -> Request {
        base(vec![
            msg(Role::User, vec![text("What is 2+2?")]),
            msg(Role::Assistant, vec![text("4")]),
            msg(Role::User, vec![text("And 3+3?")]),
        ])
    }

    /// Claude Code sends a `system` message inside `messages`.
    pub fn mid_conversation_system() -> Request {
        base(vec![
            msg(Role::User, vec![text("Start.")]),
            msg(Role::Assistant, vec![text("OK.")]),
            msg(Role::System, vec![text("Reminder: be brief.")]),
            msg(Role::User, vec![text("Go on.")]),
        ])
    }

    pub fn developer_first() -> Request {
        let mut r = base(vec![
            msg(Role::Developer, vec![text("Use metric units.")]),
            msg(Role::User, vec![text("How far?")]),
        ]);
        r.system.clear();
        r
    }

    fn tool_request(choice: Option<ToolChoice>) -> Request {
        let mut r = base(vec![msg(Role::User, vec![text("Weather in Paris?")])]);
        r.tools = vec![weather_tool(), time_tool()];
        r.tool_choice = choice;
        r
    }

    pub fn tool_choice_auto() -> Request {
        tool_request(Some(ToolChoice::Auto))
    }

    pub fn tool_choice_none() -> Request {
        tool_request(Some(ToolChoice::None))
    }

    pub fn tool_choice_required() -> Request {
        tool_request(Some(ToolChoice::Required))
    }

    pub fn tool_choice_named() -> Request {
        tool_request(Some(ToolChoice::Tool("get_weather".into())))
    }

    /// The tool result round trip, with two parallel calls, one failing.
    pub fn tool_round_trip() -> Request {
        let mut r = tool_request(None);
        r.messages.push(msg(
            Role::Assistant,
            vec![
                text("Checking both."),
                call("call_1", "get_weather", r#"{"city":"Paris"}"#),
                call("call_2", "get_time", "{}"),
            ],
        ));
        r.messages.push(msg(
            Role::User,
            vec![
                result("call_1", "get_weather", vec![text("18C, cloudy")], false),
                result("call_2", "get_time", vec![text("clock unavailable")], true),
            ],
        ));
        r
    }

    pub fn images() -> Request {
        base(vec![msg(
            Role::User,
            vec![text("What is in these?"), image_b64(), image_url()],
        )])
    }

    pub fn tool_result_with_image() -> Request {
        let mut r = tool_request(None);
        r.messages.push(msg(
            Role::Assistant,
            vec![call("call_9", "get_weather", r#"{"city":"Oslo"}"#)],
        ));
        r.messages.push(msg(
            Role::User,
            vec![result(
                "call_9",
                "get_weather",
                vec![text("radar:"), image_b64()],
                false,
            )],
        ));
        r
    }

    fn reasoning(mode: ReasoningMode) -> Request {
        let mut r = base(vec![msg(Role::User, vec![text("Think.")])]);
        r.sampling.max_tokens = Some(64_000);
        r.reasoning = Some(Reasoning {
            mode,
            include_thoughts: None,
            summary: None,
        });
        r
    }

    pub fn reasoning_disabled() -> Request {
        reasoning(ReasoningMode::Disabled)
    }

    pub fn reasoning_adaptive() -> Request {
        reasoning(ReasoningMode::Adaptive)
    }

    pub fn reasoning_budget() -> Request {
        reasoning(ReasoningMode::Budget(16_384))
    }

    pub fn reasoning_effort() -> Request {
        reasoning(ReasoningMode::Effort(Effort::High))
    }

    pub fn structured_output() -> Request {
        let mut r = base(vec![msg(Role::User, vec![text("A city, as JSON.")])]);
        r.output_format = Some(OutputFormat::JsonSchema {
            name: Some("city".into()),
            schema: json!({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}),
            strict: Some(true),
        });
        r
    }

    pub fn streaming() -> Request {
        let mut r = base(vec![msg(Role::User, vec![text("Stream it.")])]);
        r.stream = true;
        r.include_usage = true;
        r
    }
}
