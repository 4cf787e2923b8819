//! Round trips of hand-built IR through the OpenAI Responses codecs: a request using every
//! feature Responses can express comes back unchanged; what it cannot express is dropped on
//! purpose (asserted here); error bodies keep their class. Recorded traffic:
//! `openai_responses_roundtrip.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test openai_responses_ir_roundtrip`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod openai_responses_support;

use openai_responses_support as s;
use openai_responses_support::{body, request_round_trip, response_round_trip};
use serde_json::{json, Value};
use switchyard_translators::ir::{
    CacheControl, Effort, ErrorKind, FunctionTool, Media, MediaSource, Message, OutputFormat, Part,
    Protocol, Reasoning, ReasoningItem, ReasoningMode, Request, Response, Role, Sampling,
    StopReason, StreamError, Tool, ToolCall, ToolChoice, ToolResult, Usage,
};
use switchyard_translators::openai_responses as r;

fn text(t: &str) -> Part {
    Part::Text {
        text: t.into(),
        cache_control: None,
    }
}

fn media(source: MediaSource, title: Option<&str>) -> Media {
    Media {
        source,
        cache_control: None,
        title: title.map(String::from),
    }
}

/// Every IR feature Responses can express, in one request.
fn full_request() -> Request {
    let call = |id: &str, city: &str| {
        Part::ToolCall(ToolCall {
            id: id.into(),
            name: "get_weather".into(),
            arguments: format!("{{\"city\":\"{city}\"}}"),
            signature: None,
        })
    };
    let result = |id: &str, content: Vec<Part>| {
        Part::ToolResult(ToolResult {
            call_id: id.into(),
            name: Some("get_weather".into()),
            content,
            is_error: false,
        })
    };
    Request {
        model: "gpt-5".into(),
        system: vec![text("Be brief.")],
        messages: vec![
            Message {
                role: Role::Developer,
                parts: vec![text("dev note")],
            },
            Message {
                role: Role::User,
                parts: vec![
                    text("Weather in Paris and Oslo? See the picture and the docs."),
                    Part::Image(media(
                        MediaSource::Base64 {
                            media_type: "image/jpeg".into(),
                            data: "/9j/4AAQ".into(),
                        },
                        None,
                    )),
                    Part::Image(media(
                        MediaSource::Url {
                            url: "https://example.com/a.png".into(),
                            media_type: None,
                        },
                        None,
                    )),
                    Part::Image(media(
                        MediaSource::File {
                            id: "file-img".into(),
                            media_type: None,
                        },
                        None,
                    )),
                    Part::Document(media(
                        MediaSource::Base64 {
                            media_type: "application/pdf".into(),
                            data: "JVBERi0x".into(),
                        },
                        Some("a.pdf"),
                    )),
                    Part::Document(media(
                        MediaSource::Url {
                            url: "https://example.com/b.pdf".into(),
                            media_type: None,
                        },
                        None,
                    )),
                    Part::Document(media(
                        MediaSource::File {
                            id: "file-doc".into(),
                            media_type: None,
                        },
                        Some("c.pdf"),
                    )),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Reasoning(ReasoningItem {
                        id: Some("rs_9".into()),
                        summary: vec!["first".into(), "second".into()],
                        encrypted_content: Some("enc".into()),
                    }),
                    text("Checking both."),
                    call("call_p", "Paris"),
                    call("call_o", "Oslo"),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    result("call_p", vec![text("18C")]),
                    result(
                        "call_o",
                        vec![
                            text("chart:"),
                            Part::Image(media(
                                MediaSource::Base64 {
                                    media_type: "image/png".into(),
                                    data: "iVBOR".into(),
                                },
                                None,
                            )),
                        ],
                    ),
                ],
            },
            // Claude Code sends a system message in the middle of the conversation.
            Message {
                role: Role::System,
                parts: vec![text("mid-conversation reminder")],
            },
            Message {
                role: Role::User,
                parts: vec![text("thanks")],
            },
        ],
        tools: vec![
            Tool::Function(FunctionTool {
                name: "get_weather".into(),
                description: Some("Weather by city".into()),
                parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
                strict: Some(true),
                cache_control: None,
            }),
            Tool::Function(FunctionTool {
                name: "noop".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {}}),
                strict: None,
                cache_control: None,
            }),
        ],
        tool_choice: Some(ToolChoice::Tool("get_weather".into())),
        parallel_tool_calls: Some(true),
        sampling: Sampling {
            temperature: Some(0.2),
            top_p: Some(0.9),
            max_tokens: Some(2048),
            ..Sampling::default()
        },
        output_format: Some(OutputFormat::JsonSchema {
            name: Some("weather".into()),
            schema: json!({"type": "object", "properties": {"t": {"type": "number"}}}),
            strict: Some(true),
        }),
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Effort(Effort::Medium),
            include_thoughts: None,
            summary: Some("detailed".into()),
        }),
        stream: true,
        include_usage: false,
        user_id: Some("user-42".into()),
        cache_key: Some("conv-1".into()),
        extra: None,
    }
}

#[test]
fn full_ir_request_round_trips() {
    let req = full_request();
    assert_eq!(request_round_trip(&req), req);
    let v = body(&req);
    assert_eq!(v["instructions"], "Be brief.");
    assert_eq!(v["max_output_tokens"], 2048);
    assert_eq!(
        v["tool_choice"],
        json!({"type": "function", "name": "get_weather"})
    );
    assert_eq!(v["text"]["format"]["type"], "json_schema");
    assert_eq!(v["text"]["format"]["name"], "weather");
    assert_eq!(
        v["reasoning"],
        json!({"effort": "medium", "summary": "detailed"})
    );
    assert_eq!(v["user"], "user-42");
    assert_eq!(v["prompt_cache_key"], "conv-1");
    let types: Vec<&str> = v["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "message",
            "message",
            "reasoning",
            "message",
            "function_call",
            "function_call",
            "function_call_output",
            "function_call_output",
            "message",
            "message"
        ]
    );
    assert_eq!(
        v["input"][1]["content"][1]["image_url"],
        "data:image/jpeg;base64,/9j/4AAQ"
    );
    assert_eq!(
        v["input"][1]["content"][4]["file_data"],
        "data:application/pdf;base64,JVBERi0x"
    );
    assert_eq!(v["input"][7]["output"][1]["type"], "input_image");
    assert_eq!(v["input"][8]["role"], "system");
}

#[test]
fn tool_choice_output_format_and_reasoning_variants() {
    for choice in [ToolChoice::Auto, ToolChoice::None, ToolChoice::Required] {
        let req = Request {
            tool_choice: Some(choice),
            ..full_request()
        };
        assert_eq!(request_round_trip(&req), req);
    }
    for format in [OutputFormat::Text, OutputFormat::JsonObject] {
        let req = Request {
            output_format: Some(format),
            ..full_request()
        };
        assert_eq!(request_round_trip(&req), req);
    }
    for effort in [Effort::Minimal, Effort::Low, Effort::High, Effort::XHigh] {
        let req = Request {
            reasoning: Some(Reasoning {
                mode: ReasoningMode::Effort(effort),
                include_thoughts: None,
                summary: None,
            }),
            ..full_request()
        };
        assert_eq!(request_round_trip(&req), req);
    }
    let disabled = Request {
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Disabled,
            ..Reasoning::default()
        }),
        ..full_request()
    };
    assert_eq!(body(&disabled)["reasoning"], json!({"effort": "none"}));
    assert_eq!(request_round_trip(&disabled), disabled);

    // Budgets (Claude, Gemini) become the nearest effort, CLIProxyAPI's thresholds.
    for (budget, effort) in [
        (0, "none"),
        (512, "minimal"),
        (1024, "low"),
        (8192, "medium"),
        (16384, "high"),
        (24576, "high"),
        (32768, "xhigh"),
    ] {
        let req = Request {
            reasoning: Some(Reasoning {
                mode: ReasoningMode::Budget(budget),
                include_thoughts: Some(true),
                summary: None,
            }),
            ..full_request()
        };
        let v = body(&req);
        assert_eq!(v["reasoning"]["effort"], effort, "budget {budget}");
        assert_eq!(
            v["reasoning"]["summary"], "auto",
            "thoughts asked for: a summary"
        );
    }
    let adaptive = Request {
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Adaptive,
            ..Reasoning::default()
        }),
        ..full_request()
    };
    assert_eq!(body(&adaptive)["reasoning"], json!({}), "the model decides");
}

#[test]
fn what_responses_cannot_express_is_dropped() {
    let mut req = full_request();
    req.sampling.top_k = Some(40);
    req.sampling.stop = vec!["END".into()];
    req.sampling.seed = Some(7);
    req.sampling.presence_penalty = Some(0.5);
    req.sampling.frequency_penalty = Some(0.5);
    req.include_usage = true;
    req.extra = Some((
        Protocol::Anthropic,
        serde_json::Map::from_iter([("thinking".to_string(), json!({}))]),
    ));
    req.system = vec![
        Part::Text {
            text: "sys".into(),
            cache_control: Some(CacheControl(json!({"type": "ephemeral"}))),
        },
        text("more"),
    ];
    req.tools.push(Tool::Unknown {
        protocol: Protocol::Anthropic,
        value: json!({"type": "web_search_20250305", "name": "web_search"}),
    });
    req.messages.push(Message {
        role: Role::Assistant,
        parts: vec![
            Part::Thinking {
                text: "claude thoughts".into(),
                signature: Some("sig".into()),
            },
            Part::RedactedThinking { data: "x".into() },
            Part::ToolCall(ToolCall {
                id: "toolu_9".into(),
                name: "noop".into(),
                arguments: "{}".into(),
                signature: None,
            }),
        ],
    });
    req.messages.push(Message {
        role: Role::User,
        parts: vec![Part::ToolResult(ToolResult {
            call_id: "toolu_9".into(),
            name: None,
            content: vec![text("boom")],
            is_error: true,
        })],
    });
    let v = body(&req);
    for key in [
        "top_k",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "thinking",
        "stream_options",
    ] {
        assert!(v.get(key).is_none(), "{key} has no Responses spelling");
    }
    assert_eq!(v["instructions"], "sys\n\nmore", "system parts joined");
    assert_eq!(
        v["tools"].as_array().unwrap().len(),
        2,
        "a foreign built-in tool is dropped"
    );
    let input = v["input"].as_array().unwrap();
    let n = input.len();
    assert_eq!(
        input[n - 2]["type"],
        "function_call",
        "foreign thinking is not sent upstream"
    );
    assert_eq!(input[n - 1]["output"], "boom", "is_error has no spelling");
    let back = r::decode_request(&r::encode_request(&req).unwrap()).unwrap();
    let Some(Message { parts, .. }) = back.messages.last() else {
        panic!()
    };
    assert!(
        matches!(&parts[0], Part::ToolResult(t) if !t.is_error && t.name.as_deref() == Some("noop"))
    );
}

#[test]
fn plain_string_input_and_named_tool_choice() {
    let req = r::decode_request(br#"{"model":"m","input":"hi","tool_choice":{"type":"function","name":"f"},"max_output_tokens":5,"user":"u","safety_identifier":"s","stream":false}"#).unwrap();
    assert_eq!(
        req.messages,
        [Message {
            role: Role::User,
            parts: vec![text("hi")]
        }]
    );
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool("f".into())));
    assert_eq!(req.sampling.max_tokens, Some(5));
    assert_eq!(req.user_id.as_deref(), Some("u"));
    assert_eq!(req.extra.as_ref().unwrap().1["safety_identifier"], "s");
    assert_eq!(request_round_trip(&req), req);
    // An object tool_choice we do not model passes through.
    let req = r::decode_request(br#"{"model":"m","input":"hi","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}"#).unwrap();
    assert_eq!(req.tool_choice, None);
    assert_eq!(body(&req)["tool_choice"]["type"], "allowed_tools");
    // Instructions given as message items.
    let req = r::decode_request(
        br#"{"model":"m","input":"hi","instructions":[{"role":"developer","content":[{"type":"input_text","text":"a"}]},{"role":"developer","content":"b"}]}"#,
    )
    .unwrap();
    assert_eq!(req.system, [text("a"), text("b")]);
    assert_eq!(body(&req)["instructions"], "a\n\nb");
    assert!(r::decode_request(b"not json").is_err());
    assert!(r::decode_request(b"[1]").is_err());
}

#[test]
fn errors_round_trip_with_their_class() {
    for (kind, status, code) in [
        (ErrorKind::InvalidRequest, 400, Value::Null),
        (ErrorKind::Authentication, 401, json!("invalid_api_key")),
        (ErrorKind::Permission, 403, Value::Null),
        (ErrorKind::NotFound, 404, json!("model_not_found")),
        (ErrorKind::RateLimit, 429, json!("rate_limit_exceeded")),
        (ErrorKind::Overloaded, 503, json!("server_is_overloaded")),
        (ErrorKind::Server, 500, Value::Null),
        (ErrorKind::Timeout, 504, json!("timeout")),
    ] {
        let e = StreamError {
            status: Some(529),
            kind,
            message: format!("{kind:?} happened"),
        };
        let (got, bytes) = r::encode_error(&e);
        assert_eq!(got, status, "{kind:?}");
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["error"]["code"], code, "{kind:?}");
        assert!(v["error"]["type"].is_string());
        assert!(v["error"].get("param").is_some());
        let back = r::decode_error(got, &bytes);
        assert_eq!(back.kind, kind);
        assert_eq!(back.message, e.message);
    }
    // A 4xx invalid request keeps its status.
    let e = StreamError {
        status: Some(413),
        kind: ErrorKind::InvalidRequest,
        message: "too large".into(),
    };
    assert_eq!(r::encode_error(&e).0, 413);
}

#[test]
fn raw_reasoning_text_is_thinking_when_there_is_no_summary() {
    let body = json!({
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
        "model": "gpt-oss-120b",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": [],
             "content": [{"type": "reasoning_text", "text": "raw thoughts"}]},
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "hi", "annotations": []}]}
        ],
        "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    });
    let resp = r::decode_response(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        resp.parts[0],
        Part::Reasoning(ReasoningItem {
            id: Some("rs_1".into()),
            summary: vec!["raw thoughts".into()],
            encrypted_content: None,
        })
    );
    assert_eq!(response_round_trip(&resp).1, resp);
}

/// Codex returns the reasoning items it was shown: the ones made from Claude or Gemini
/// thinking decode to the original parts, signatures byte for byte.
#[test]
fn foreign_thinking_comes_back_from_the_client() {
    let shown = Response {
        id: "msg_1".into(),
        model: "claude".into(),
        parts: vec![
            Part::Thinking {
                text: "step one\n\nstep two".into(),
                signature: Some("EqQBCkgIARABGAIiQL".into()),
            },
            Part::RedactedThinking {
                data: "EmwKAhgBEgy3va".into(),
            },
            Part::Thinking {
                text: String::new(),
                signature: Some("gemini-sig".into()),
            },
            Part::ToolCall(ToolCall {
                id: "toolu_1".into(),
                name: "Bash".into(),
                arguments: "{}".into(),
                signature: None,
            }),
        ],
        stop: StopReason::ToolUse,
        usage: Usage::default(),
    };
    let out: Value = serde_json::from_slice(&r::encode_response(&shown, &mut s::ctx())).unwrap();
    let mut input: Vec<Value> = out["output"].as_array().unwrap().clone();
    input.insert(0, json!({"role": "user", "content": "go"}));
    input.push(json!({"type": "function_call_output", "call_id": "toolu_1", "output": "ok"}));
    let req =
        r::decode_request(json!({"model": "m", "input": input}).to_string().as_bytes()).unwrap();
    assert_eq!(req.messages[1].parts, shown.parts);
}
