//! OpenAI Chat requests, responses and errors: decode → encode → decode gives the same IR for
//! everything Chat can express, and each documented approximation (what Chat cannot carry) is
//! pinned by a test.
//!
//! Run: `cargo test -p switchyard-translators --test openai_chat_roundtrip`

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

use serde_json::{json, Value};
use switchyard_translators::ir::{
    CacheControl, Effort, EncodeContext, ErrorKind, FunctionTool, Media, MediaSource, Message,
    OutputFormat, Part, Protocol, Reasoning, ReasoningMode, Request, Response, Role, Sampling,
    StopReason, StreamError, Tool, ToolCall, ToolChoice, ToolResult, Usage,
};
use switchyard_translators::openai_chat as chat;
use switchyard_translators::TranslateError;

fn decode(v: &Value) -> Request {
    chat::decode_request(v.to_string().as_bytes()).unwrap()
}

fn encode(r: &Request) -> Value {
    serde_json::from_slice(&chat::encode_request(r).unwrap()).unwrap()
}

fn round_trip(r: &Request) -> Request {
    chat::decode_request(&chat::encode_request(r).unwrap()).unwrap()
}

/// A request using every Chat feature the IR carries.
fn full_request() -> Value {
    json!({
        "model": "gpt-5",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
                {"type": "file", "file": {"file_id": "file-abc"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
            ]},
            {"role": "assistant", "content": "Calling both.", "reasoning_content": "Two lookups.",
             "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "time", "arguments": "{}"}}
             ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "12:00"}, {"type": "text", "text": "CET"}]},
            {"role": "system", "content": "Mid-conversation reminder."},
            {"role": "developer", "content": "Developer note."},
            {"role": "user", "content": "Thanks"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_3", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_3", "content": "Rain"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "weather", "description": "Weather by city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, "strict": true}},
            {"type": "function", "function": {"name": "time", "parameters": {"type": "object", "properties": {}}}},
            {"type": "custom", "custom": {"name": "grammar_tool"}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "weather"}},
        "parallel_tool_calls": false,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        "reasoning_effort": "high",
        "max_completion_tokens": 1000,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END", "STOP"],
        "seed": 42,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.3,
        "stream": true,
        "stream_options": {"include_usage": true},
        "user": "user-7",
        "prompt_cache_key": "conv-1",
        "n": 1,
        "logprobs": false,
        "metadata": {"k": "v"}
    })
}

#[test]
fn full_request_decodes_as_expected() {
    let r = decode(&full_request());
    assert_eq!(r.model, "gpt-5");
    assert_eq!(r.system.len(), 2, "leading system + developer");
    let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
    use Role::*;
    assert_eq!(
        roles,
        [User, Assistant, User, System, Developer, User, Assistant, User]
    );
    let user = &r.messages[0].parts;
    assert!(
        matches!(&user[1], Part::Image(Media { source: MediaSource::Base64 { media_type, data }, .. }) if media_type == "image/png" && data == "iVBORw0KGgo=")
    );
    assert!(
        matches!(&user[2], Part::Image(Media { source: MediaSource::Url { url, .. }, .. }) if url == "https://example.com/cat.jpg")
    );
    assert!(
        matches!(&user[3], Part::Document(Media { source: MediaSource::Base64 { media_type, .. }, title: Some(t), .. }) if media_type == "application/pdf" && t == "a.pdf")
    );
    assert!(
        matches!(&user[4], Part::Document(Media { source: MediaSource::File { id, .. }, .. }) if id == "file-abc")
    );
    assert!(matches!(
        &user[5],
        Part::Unknown {
            protocol: Protocol::OpenAiChat,
            ..
        }
    ));
    match &r.messages[1].parts[..] {
        [Part::Thinking {
            text,
            signature: None,
        }, Part::Text { .. }, Part::ToolCall(a), Part::ToolCall(b)] => {
            assert_eq!(text, "Two lookups.");
            assert_eq!(
                (a.id.as_str(), a.arguments.as_str()),
                ("call_1", "{\"city\":\"Paris\"}")
            );
            assert_eq!(b.name, "time");
        }
        other => panic!("{other:?}"),
    }
    match &r.messages[2].parts[..] {
        [Part::ToolResult(a), Part::ToolResult(b)] => {
            assert_eq!(
                (a.call_id.as_str(), a.name.as_deref()),
                ("call_1", Some("weather"))
            );
            assert_eq!(b.content.len(), 2);
            assert!(!a.is_error);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.tools.len(), 3);
    assert!(matches!(
        &r.tools[2],
        Tool::Unknown {
            protocol: Protocol::OpenAiChat,
            ..
        }
    ));
    assert_eq!(r.tool_choice, Some(ToolChoice::Tool("weather".into())));
    assert_eq!(r.parallel_tool_calls, Some(false));
    assert_eq!(
        r.output_format,
        Some(OutputFormat::JsonSchema {
            name: Some("answer".into()),
            schema: json!({"type": "object"}),
            strict: Some(true)
        })
    );
    assert_eq!(
        r.reasoning.as_ref().unwrap().mode,
        ReasoningMode::Effort(Effort::High)
    );
    assert_eq!(
        r.sampling,
        Sampling {
            temperature: Some(0.2),
            top_p: Some(0.9),
            top_k: None,
            max_tokens: Some(1000),
            stop: vec!["END".into(), "STOP".into()],
            seed: Some(42),
            presence_penalty: Some(0.1),
            frequency_penalty: Some(0.3),
        }
    );
    assert!(r.stream && r.include_usage);
    assert_eq!(r.user_id.as_deref(), Some("user-7"));
    assert_eq!(r.cache_key.as_deref(), Some("conv-1"));
    let (p, extra) = r.extra.as_ref().unwrap();
    assert_eq!(*p, Protocol::OpenAiChat);
    let mut keys: Vec<&str> = extra.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["logprobs", "metadata", "n"]);
}

#[test]
fn full_request_round_trips() {
    let first = decode(&full_request());
    assert_eq!(round_trip(&first), first);
    // And the encoded body is what a Chat upstream expects.
    let body = encode(&first);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are terse."})
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "system", "content": "Use tools."})
    );
    assert_eq!(body["messages"][7]["role"], "developer");
    assert_eq!(body["messages"][3]["reasoning_content"], "Two lookups.");
    assert_eq!(
        body["messages"][4],
        json!({"role": "tool", "tool_call_id": "call_1", "content": "Sunny"})
    );
    assert_eq!(body["messages"][9]["content"], Value::Null);
    assert_eq!(body["max_completion_tokens"], 1000);
    assert!(body.get("max_tokens").is_none());
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["n"], 1);
}

fn text(t: &str) -> Part {
    Part::Text {
        text: t.into(),
        cache_control: None,
    }
}

fn base_request() -> Request {
    Request {
        model: "m".into(),
        messages: vec![Message {
            role: Role::User,
            parts: vec![text("hi")],
        }],
        tools: vec![Tool::Function(FunctionTool {
            name: "f".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {}}),
            strict: None,
            cache_control: None,
        })],
        ..Request::default()
    }
}

#[test]
fn ir_requests_round_trip_for_every_choice_format_and_effort() {
    let choices = [
        ToolChoice::Auto,
        ToolChoice::None,
        ToolChoice::Required,
        ToolChoice::Tool("f".into()),
    ];
    for c in choices {
        let r = Request {
            tool_choice: Some(c),
            parallel_tool_calls: Some(true),
            ..base_request()
        };
        assert_eq!(round_trip(&r), r);
    }
    let formats = [
        OutputFormat::Text,
        OutputFormat::JsonObject,
        OutputFormat::JsonSchema {
            name: Some("x".into()),
            schema: json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
            strict: None,
        },
    ];
    for f in formats {
        let r = Request {
            output_format: Some(f),
            ..base_request()
        };
        assert_eq!(round_trip(&r), r);
    }
    for mode in [
        ReasoningMode::Disabled,
        ReasoningMode::Effort(Effort::Minimal),
        ReasoningMode::Effort(Effort::Low),
        ReasoningMode::Effort(Effort::Medium),
        ReasoningMode::Effort(Effort::High),
        ReasoningMode::Effort(Effort::XHigh),
    ] {
        let r = Request {
            reasoning: Some(Reasoning {
                mode,
                ..Reasoning::default()
            }),
            ..base_request()
        };
        assert_eq!(round_trip(&r), r, "{mode:?}");
    }
    let r = Request {
        stream: true,
        include_usage: true,
        user_id: Some("u".into()),
        cache_key: Some("k".into()),
        sampling: Sampling {
            max_tokens: Some(5),
            stop: vec!["x".into()],
            seed: Some(-1),
            ..Sampling::default()
        },
        ..base_request()
    };
    assert_eq!(round_trip(&r), r);
}

#[test]
fn reasoning_settings_become_reasoning_effort() {
    let with = |mode| Request {
        reasoning: Some(Reasoning {
            mode,
            include_thoughts: Some(true),
            summary: None,
        }),
        ..base_request()
    };
    let effort = |r: &Request| encode(r).get("reasoning_effort").cloned();
    assert_eq!(
        effort(&with(ReasoningMode::Budget(16_384))),
        Some(json!("high"))
    );
    assert_eq!(effort(&with(ReasoningMode::Budget(0))), Some(json!("none")));
    assert_eq!(
        effort(&with(ReasoningMode::Adaptive)),
        Some(json!("medium"))
    );
    assert_eq!(effort(&with(ReasoningMode::Default)), None);
    assert_eq!(effort(&base_request()), None);

    // OpenRouter's `reasoning` object is read too; `reasoning_effort` wins.
    let r = decode(
        &json!({"model": "m", "messages": [], "reasoning": {"max_tokens": 2000, "exclude": true}}),
    );
    let reasoning = r.reasoning.unwrap();
    assert_eq!(reasoning.mode, ReasoningMode::Budget(2000));
    assert_eq!(reasoning.include_thoughts, Some(false));
    let r = decode(
        &json!({"model": "m", "messages": [], "reasoning": {"effort": "low"}, "reasoning_effort": "none"}),
    );
    assert_eq!(r.reasoning.unwrap().mode, ReasoningMode::Disabled);
    // An effort the IR does not know stays in extra.
    let r = decode(&json!({"model": "m", "messages": [], "reasoning_effort": "max"}));
    assert!(r.reasoning.is_none());
    assert_eq!(r.extra.unwrap().1["reasoning_effort"], "max");
}

#[test]
fn spellings_and_defaults() {
    // max_tokens alone is read; only max_completion_tokens is written.
    let r = decode(
        &json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 7, "stop": "END", "safety_identifier": "s", "top_k": 5}),
    );
    assert_eq!(r.sampling.max_tokens, Some(7));
    assert_eq!(r.sampling.stop, ["END"]);
    assert_eq!(r.sampling.top_k, Some(5));
    assert_eq!(r.user_id.as_deref(), Some("s"));
    let body = encode(&r);
    assert_eq!(body["max_completion_tokens"], 7);
    assert!(body.get("max_tokens").is_none());
    assert!(body.get("top_k").is_none(), "OpenAI rejects top_k");
    assert_eq!(body["user"], "s");
    // max_completion_tokens wins over max_tokens.
    let r =
        decode(&json!({"model": "m", "messages": [], "max_tokens": 7, "max_completion_tokens": 9}));
    assert_eq!(r.sampling.max_tokens, Some(9));
    // tool_choice and parallel_tool_calls without tools are not sent (OpenAI rejects them).
    let r = Request {
        tools: vec![],
        tool_choice: Some(ToolChoice::Required),
        parallel_tool_calls: Some(true),
        ..base_request()
    };
    let body = encode(&r);
    assert!(body.get("tool_choice").is_none() && body.get("parallel_tool_calls").is_none());
    // A streaming request always asks the upstream for usage.
    let body = encode(&Request {
        stream: true,
        ..base_request()
    });
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    // A tool_choice shape the IR does not model stays in extra.
    let tc = json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}});
    let r = decode(&json!({"model": "m", "messages": [], "tool_choice": tc}));
    assert_eq!(r.tool_choice, None);
    assert_eq!(r.extra.unwrap().1["tool_choice"], tc);
    // `content: ""` beside tool calls is not an (empty) text part.
    let r = decode(
        &json!({"model": "m", "messages": [{"role": "assistant", "content": "",
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}),
    );
    assert!(matches!(&r.messages[0].parts[..], [Part::ToolCall(_)]));
    // Unknown roles are refused.
    assert!(matches!(
        chat::decode_request(br#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#),
        Err(TranslateError::InvalidBody { .. })
    ));
    assert!(chat::decode_request(b"not json").is_err());
}

#[test]
fn what_chat_cannot_carry_is_dropped_or_refused() {
    let cc = Some(CacheControl(json!({"type": "ephemeral"})));
    // cache_control on a text part is read (OpenRouter/LiteLLM clients send it), never written.
    let r = decode(
        &json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "y"}]}]}),
    );
    assert!(
        matches!(&r.messages[0].parts[0], Part::Text { cache_control, .. } if *cache_control == cc)
    );
    assert!(!encode(&r).to_string().contains("cache_control"));

    // A tool result with an image and is_error: the text goes in the tool message, the image in
    // a user message right after it; is_error has no Chat form.
    let png = Media {
        source: MediaSource::Base64 {
            media_type: "image/png".into(),
            data: "AAAA".into(),
        },
        cache_control: None,
        title: None,
    };
    let r = Request {
        messages: vec![
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Thinking {
                        text: "t".into(),
                        signature: Some("sig".into()),
                    },
                    Part::RedactedThinking {
                        data: "opaque".into(),
                    },
                    Part::ToolCall(ToolCall {
                        id: "toolu_1".into(),
                        name: "shot".into(),
                        arguments: "{}".into(),
                        signature: Some("gsig".into()),
                    }),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    Part::ToolResult(ToolResult {
                        call_id: "toolu_1".into(),
                        name: Some("shot".into()),
                        content: vec![text("failed, see image"), Part::Image(png.clone())],
                        is_error: true,
                    }),
                    text("and?"),
                ],
            },
        ],
        ..base_request()
    };
    let body = encode(&r);
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["reasoning_content"], "t");
    assert!(!body.to_string().contains("sig") && !body.to_string().contains("opaque"));
    assert_eq!(
        msgs[1],
        json!({"role": "tool", "tool_call_id": "toolu_1", "content": "failed, see image"})
    );
    assert_eq!(
        msgs[2],
        json!({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "text", "text": "and?"}
        ]})
    );

    // A document by URL cannot be a Chat file part.
    let r = Request {
        messages: vec![Message {
            role: Role::User,
            parts: vec![Part::Document(Media {
                source: MediaSource::Url {
                    url: "https://example.com/a.pdf".into(),
                    media_type: None,
                },
                cache_control: None,
                title: None,
            })],
        }],
        ..base_request()
    };
    assert!(matches!(
        chat::encode_request(&r),
        Err(TranslateError::Unsupported(_))
    ));

    // Other protocols' unknown blocks and tools are dropped; ours are put back verbatim.
    let r = Request {
        messages: vec![Message {
            role: Role::User,
            parts: vec![
                text("a"),
                Part::Unknown {
                    protocol: Protocol::Anthropic,
                    value: json!({"type": "search_result"}),
                },
            ],
        }],
        tools: vec![Tool::Unknown {
            protocol: Protocol::Gemini,
            value: json!({"googleSearch": {}}),
        }],
        ..base_request()
    };
    let body = encode(&r);
    assert!(!body.to_string().contains("search_result") && body.get("tools").is_none());
}

// ---------------------------------------------------------------------------------- responses

#[test]
fn responses_round_trip() {
    let resp = Response {
        id: "msg_01".into(),
        model: "claude-x".into(),
        parts: vec![
            Part::Thinking {
                text: "Plan.".into(),
                signature: None,
            },
            text("Calling."),
            Part::ToolCall(ToolCall {
                id: "toolu_a".into(),
                name: "a".into(),
                arguments: "{\"x\":1}".into(),
                signature: None,
            }),
            Part::ToolCall(ToolCall {
                id: "toolu_b".into(),
                name: "b".into(),
                arguments: "{}".into(),
                signature: None,
            }),
        ],
        stop: StopReason::ToolUse,
        usage: Usage {
            input_tokens: 100,
            output_tokens: 20,
            cache_read_tokens: 60,
            cache_write_tokens: 0,
            reasoning_tokens: 5,
        },
    };
    let mut ctx = EncodeContext::new(1_700_000_000, "r");
    let body = chat::encode_response(&resp, &mut ctx);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["created"], 1_700_000_000);
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["usage"]["total_tokens"], 120);
    assert_eq!(chat::decode_response(&body).unwrap(), resp);

    for (stop, reason) in [
        (StopReason::EndTurn, "stop"),
        (StopReason::MaxTokens, "length"),
        (StopReason::ContentFilter, "content_filter"),
        (StopReason::StopSequence(Some("END".into())), "stop"),
        (StopReason::PauseTurn, "stop"),
        (StopReason::Other("weird".into()), "stop"),
    ] {
        let r = Response {
            id: String::new(),
            model: "m".into(),
            parts: vec![text("x")],
            stop,
            usage: Usage::default(),
        };
        let v: Value = serde_json::from_slice(&chat::encode_response(&r, &mut ctx)).unwrap();
        assert_eq!(v["choices"][0]["finish_reason"], reason);
        assert!(
            v["id"].as_str().unwrap().starts_with("chatcmpl_r"),
            "an id is invented when the IR has none"
        );
    }
    // A tool call under "stop" (Gemini) is still reported as tool_calls.
    let r = Response {
        stop: StopReason::EndTurn,
        ..resp
    };
    let v: Value = serde_json::from_slice(&chat::encode_response(&r, &mut ctx)).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn refusal_and_object_arguments_are_read() {
    let body = json!({"id": "c", "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": null, "refusal": "I can't help with that.",
          "tool_calls": [{"id": "x", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}}]});
    let r = chat::decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!(r.parts[0], text("I can't help with that."));
    assert!(matches!(&r.parts[1], Part::ToolCall(c) if c.arguments == "{\"a\":1}"));
    assert_eq!(r.usage, Usage::default());

    // A call with no argument text (possible from a stream cut short) is written as `{}`.
    let resp = Response {
        id: "c".into(),
        model: "m".into(),
        parts: vec![Part::ToolCall(ToolCall {
            id: "x".into(),
            name: "f".into(),
            arguments: String::new(),
            signature: None,
        })],
        stop: StopReason::ToolUse,
        usage: Usage::default(),
    };
    let v: Value = serde_json::from_slice(&chat::encode_response(
        &resp,
        &mut EncodeContext::new(0, "e"),
    ))
    .unwrap();
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
}

// ------------------------------------------------------------------------------------- errors

#[test]
fn errors_round_trip_by_class() {
    let table = [
        (ErrorKind::InvalidRequest, 400, "invalid_request_error"),
        (ErrorKind::Authentication, 401, "authentication_error"),
        (ErrorKind::Permission, 403, "permission_error"),
        (ErrorKind::NotFound, 404, "invalid_request_error"),
        (ErrorKind::RateLimit, 429, "rate_limit_error"),
        (ErrorKind::Overloaded, 503, "server_error"),
        (ErrorKind::Server, 500, "server_error"),
        (ErrorKind::Timeout, 504, "server_error"),
    ];
    for (kind, status, ty) in table {
        let e = StreamError {
            status: None,
            kind,
            message: format!("{kind:?} happened"),
        };
        let (got_status, body) = chat::encode_error(&e);
        assert_eq!(got_status, status, "{kind:?}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["type"], ty);
        assert_eq!(v["error"]["param"], Value::Null);
        let back = chat::decode_error(got_status, &body);
        assert_eq!(
            back,
            StreamError {
                status: Some(status),
                ..e
            },
            "{kind:?}"
        );
    }
    // Anthropic's 529 becomes 503 for a Chat client; other statuses are kept.
    let (s, _) = chat::encode_error(&StreamError {
        status: Some(529),
        kind: ErrorKind::Overloaded,
        message: String::new(),
    });
    assert_eq!(s, 503);
    let (s, _) = chat::encode_error(&StreamError {
        status: Some(413),
        kind: ErrorKind::InvalidRequest,
        message: String::new(),
    });
    assert_eq!(s, 413);
    // Bodies that are not OpenAI-shaped keep their text; numeric codes (OpenRouter) work.
    let e = chat::decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Server, "<html>Bad gateway</html>")
    );
    let e = chat::decode_error(
        200,
        br#"{"error":{"code":429,"message":"Provider returned error"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::RateLimit);
    let e = chat::decode_error(
        404,
        br#"{"error":{"message":"no","type":"invalid_request_error","code":"model_not_found"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[test]
fn odd_shapes_are_kept_not_refused() {
    let r = decode(&json!({"model": "m", "messages": [
        {"role": "user", "content": [
            {"type": "image_url", "image_url": "https://example.com/x.png"},
            {"type": "text"},
            {"type": "file", "file": 7},
            "bare string part"
        ]},
        {"role": "user", "content": {"unexpected": "object"}},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "ct_1", "type": "custom", "custom": {"name": "grammar", "input": "x"}}
        ]}
    ], "tools": [{"type": "function"}, {"type": "web_search"}], "unknown_top": {"a": [1]}}));
    let parts = &r.messages[0].parts;
    assert!(
        matches!(&parts[0], Part::Image(Media { source: MediaSource::Url { url, .. }, .. }) if url == "https://example.com/x.png")
    );
    for p in &parts[1..] {
        assert!(
            matches!(
                p,
                Part::Unknown {
                    protocol: Protocol::OpenAiChat,
                    ..
                }
            ),
            "{p:?}"
        );
    }
    assert!(matches!(&r.messages[1].parts[..], [Part::Unknown { .. }]));
    let custom = &r.messages[2].parts[0];
    assert!(
        matches!(custom, Part::Unknown { value, .. } if value["custom"]["name"] == "grammar" && value["id"] == "ct_1")
    );
    assert!(r.tools.iter().all(|t| matches!(
        t,
        Tool::Unknown {
            protocol: Protocol::OpenAiChat,
            ..
        }
    )));
    assert_eq!(
        r.extra.as_ref().unwrap().1["unknown_top"],
        json!({"a": [1]})
    );
    // Our own unknowns go back verbatim.
    let body = encode(&r);
    assert_eq!(body["messages"][2]["tool_calls"][0]["custom"]["input"], "x");
    assert_eq!(body["unknown_top"], json!({"a": [1]}));
    assert_eq!(round_trip(&r), r);
    // A tool call that is not an object is a malformed body.
    assert!(chat::decode_request(
        br#"{"model":"m","messages":[{"role":"assistant","tool_calls":[1]}]}"#
    )
    .is_err());
}
