//! Round trips through the OpenAI Responses codecs: decode → encode → decode gives the same IR
//! for every recorded response body and request, a Codex-shaped request, and a hand-built IR
//! request using every feature Responses can express; what it cannot express is dropped on
//! purpose (asserted here); error bodies keep their class.
//!
//! Run: `cargo test -p switchyard-translators --test openai_responses_roundtrip`

mod openai_responses_support;

use openai_responses_support as s;
use serde_json::{json, Value};
use switchyard_translators::ir::{
    CacheControl, Effort, ErrorKind, FunctionTool, Media, MediaSource, Message, OutputFormat, Part,
    Protocol, Reasoning, ReasoningItem, ReasoningMode, Request, Response, Role, Sampling,
    StopReason, StreamError, Tool, ToolCall, ToolChoice, ToolResult, Usage,
};
use switchyard_translators::openai_responses as r;

#[expect(clippy::unwrap_used, reason = "test helper: a failure fails the test")]
fn body(req: &Request) -> Value {
    serde_json::from_slice(&r::encode_request(req).unwrap()).unwrap()
}

#[expect(clippy::unwrap_used, reason = "test helper: a failure fails the test")]
fn request_round_trip(req: &Request) -> Request {
    let bytes = r::encode_request(req).unwrap();
    r::decode_request(&bytes).unwrap()
}

#[expect(clippy::unwrap_used, reason = "test helper: a failure fails the test")]
fn response_round_trip(resp: &Response) -> (Value, Response) {
    let bytes = r::encode_response(resp, &mut s::ctx());
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    (v, r::decode_response(&bytes).unwrap())
}

#[test]
fn recorded_responses_round_trip() {
    let mut n = 0;
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for f in s::all_files() {
        if f.ends_with(".json") && f != "openai-error.1.json" {
            bodies.push((f.clone(), s::read(&f)));
        } else if f.ends_with(".yaml") {
            for (i, it) in s::cassette(&f).into_iter().enumerate() {
                if let (Some(j), 200) = (it.json, it.status) {
                    bodies.push((format!("{f}#{i}"), j.to_string().into_bytes()));
                }
            }
        }
    }
    for (label, b) in bodies {
        let ir = r::decode_response(&b).unwrap();
        let (v, back) = response_round_trip(&ir);
        assert_eq!(back, ir, "{label}");
        assert_eq!(v["object"], "response");
        assert_eq!(v["usage"]["total_tokens"], ir.usage.total(), "{label}");
        for item in v["output"].as_array().unwrap() {
            assert!(
                item["id"].is_string(),
                "{label}: every output item has an id"
            );
        }
        n += 1;
    }
    assert_eq!(n, 11);
}

#[test]
fn response_stop_reasons_and_foreign_parts() {
    let resp = Response {
        id: "msg_01".into(),
        model: "claude-sonnet".into(),
        parts: vec![
            Part::Thinking {
                text: "hmm".into(),
                signature: Some("sig".into()),
            },
            Part::RedactedThinking {
                data: "opaque".into(),
            },
            Part::Text {
                text: "a".into(),
                cache_control: None,
            },
            Part::Text {
                text: "b".into(),
                cache_control: None,
            },
            Part::ToolCall(ToolCall {
                id: "toolu_1".into(),
                name: "Bash".into(),
                arguments: "{\"command\":\"ls\"}".into(),
                signature: None,
            }),
            Part::Unknown {
                protocol: Protocol::Anthropic,
                value: json!({"type": "server_tool_use"}),
            },
        ],
        stop: StopReason::ToolUse,
        usage: Usage {
            input_tokens: 100,
            output_tokens: 20,
            cache_read_tokens: 80,
            cache_write_tokens: 10,
            reasoning_tokens: 5,
        },
    };
    let (v, back) = response_round_trip(&resp);
    let types: Vec<&str> = v["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["reasoning", "reasoning", "message", "function_call"],
        "consecutive texts share one message; a foreign unknown block is dropped"
    );
    assert_eq!(v["output"][0]["encrypted_content"], "sig");
    assert_eq!(v["output"][1]["encrypted_content"], "opaque");
    assert_eq!(v["output"][2]["content"].as_array().unwrap().len(), 2);
    assert_eq!(v["output"][3]["call_id"], "toolu_1");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 80);
    assert_eq!(back.stop, StopReason::ToolUse);
    assert_eq!(
        back.usage.cache_write_tokens, 0,
        "OpenAI has no cache-write count"
    );
    // Claude thinking and redacted thinking come back as they were (marked item ids).
    assert_eq!(back.parts[..5], resp.parts[..5]);

    for (stop, status, reason) in [
        (
            StopReason::MaxTokens,
            "incomplete",
            Some("max_output_tokens"),
        ),
        (
            StopReason::ContentFilter,
            "incomplete",
            Some("content_filter"),
        ),
        (StopReason::EndTurn, "completed", None),
        (StopReason::StopSequence(None), "completed", None),
        (StopReason::PauseTurn, "completed", None),
    ] {
        let resp = Response {
            stop: stop.clone(),
            parts: vec![],
            ..resp.clone()
        };
        let (v, back) = response_round_trip(&resp);
        assert_eq!(v["status"], status);
        assert_eq!(v["incomplete_details"]["reason"].as_str(), reason);
        if status == "incomplete" {
            assert_eq!(back.stop, stop);
        } else {
            assert_eq!(back.stop, StopReason::EndTurn);
        }
    }
}

#[test]
fn recorded_requests_round_trip() {
    let mut n = 0;
    for f in s::all_files().into_iter().filter(|f| f.ends_with(".yaml")) {
        for (i, it) in s::cassette(&f).into_iter().enumerate() {
            let original = it.request.unwrap();
            let ir = r::decode_request(original.to_string().as_bytes()).unwrap();
            assert_eq!(request_round_trip(&ir), ir, "{f}#{i}");
            // Top-level fields we do not model come back as they were.
            let again = body(&ir);
            for key in ["include", "store", "previous_response_id", "service_tier"] {
                assert_eq!(again.get(key), original.get(key), "{f}#{i}: {key}");
            }
            n += 1;
        }
    }
    assert_eq!(n, 17);
}

/// What Codex CLI sends (CLIENTS.md): instructions, developer and user messages, function
/// tools next to built-ins, reasoning with encrypted content, `store: false`, `include`,
/// `prompt_cache_key`; plus a previous turn's reasoning, call and output.
const CODEX: &str = r#"{
  "model": "gpt-5-codex",
  "instructions": "You are Codex, based on GPT-5.",
  "input": [
    {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions instructions>"}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>cwd</environment_context>"}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list the files"}]},
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "**Listing**"}], "encrypted_content": "gAAAA1"},
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell", "arguments": "{\"command\":[\"ls\"]}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "a.txt\nb.txt"},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Two files."}]},
    {"role": "user", "content": [
      {"type": "input_text", "text": "and these?"},
      {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"},
      {"type": "input_file", "filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"},
      {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "wav"}}
    ]},
    {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch"},
    {"type": "custom_tool_call_output", "call_id": "call_2", "output": "Done"}
  ],
  "tools": [
    {"type": "function", "name": "shell", "description": "Runs a shell command", "strict": false,
     "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}, "required": ["command"]}},
    {"type": "web_search"},
    {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}}
  ],
  "tool_choice": "auto",
  "parallel_tool_calls": false,
  "reasoning": {"effort": "high", "summary": "auto"},
  "store": false,
  "stream": true,
  "include": ["reasoning.encrypted_content"],
  "prompt_cache_key": "019a8f3e-uuid",
  "text": {"verbosity": "low"}
}"#;

#[test]
fn codex_request() {
    let req = r::decode_request(CODEX.as_bytes()).unwrap();
    assert_eq!(req.model, "gpt-5-codex");
    assert_eq!(
        req.system,
        [Part::Text {
            text: "You are Codex, based on GPT-5.".into(),
            cache_control: None
        }]
    );
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::Developer,
            Role::User,
            Role::User,
            Role::Assistant,
            Role::User,
            Role::Assistant,
            Role::User,
            Role::Assistant,
            Role::User
        ]
    );
    let turn = &req.messages[3].parts;
    assert_eq!(
        turn[0],
        Part::Reasoning(ReasoningItem {
            id: Some("rs_1".into()),
            summary: vec!["**Listing**".into()],
            encrypted_content: Some("gAAAA1".into()),
        })
    );
    assert!(matches!(&turn[1], Part::ToolCall(c) if c.id == "call_1" && c.name == "shell"));
    let Part::ToolResult(res) = &req.messages[4].parts[0] else {
        panic!("tool result")
    };
    assert_eq!(res.call_id, "call_1");
    assert_eq!(res.name.as_deref(), Some("shell"));
    assert_eq!(
        res.content,
        [Part::Text {
            text: "a.txt\nb.txt".into(),
            cache_control: None
        }]
    );
    let user = &req.messages[6].parts;
    assert!(
        matches!(&user[1], Part::Image(Media { source: MediaSource::Base64 { media_type, data }, .. })
        if media_type == "image/png" && data == "iVBORw0KGgo=")
    );
    assert!(
        matches!(&user[2], Part::Document(Media { source: MediaSource::Base64 { media_type, .. }, title, .. })
        if media_type == "application/pdf" && title.as_deref() == Some("spec.pdf"))
    );
    assert!(matches!(
        &user[3],
        Part::Unknown {
            protocol: Protocol::OpenAiResponses,
            ..
        }
    ));
    assert!(
        matches!(&req.messages[7].parts[0], Part::Unknown { value, .. } if value["type"] == "custom_tool_call")
    );
    assert!(
        matches!(&req.messages[8].parts[0], Part::Unknown { value, .. } if value["type"] == "custom_tool_call_output")
    );
    assert!(
        matches!(&req.tools[0], Tool::Function(f) if f.name == "shell" && f.strict == Some(false))
    );
    assert!(matches!(&req.tools[1], Tool::Unknown { value, .. } if value["type"] == "web_search"));
    assert!(matches!(&req.tools[2], Tool::Unknown { value, .. } if value["type"] == "custom"));
    assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(req.parallel_tool_calls, Some(false));
    let rs = req.reasoning.as_ref().unwrap();
    assert_eq!(rs.mode, ReasoningMode::Effort(Effort::High));
    assert_eq!(rs.summary.as_deref(), Some("auto"));
    assert!(req.stream);
    assert_eq!(req.cache_key.as_deref(), Some("019a8f3e-uuid"));
    let (p, extra) = req.extra.as_ref().unwrap();
    assert_eq!(*p, Protocol::OpenAiResponses);
    assert_eq!(extra["store"], false);
    assert_eq!(extra["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(extra["text"], json!({"verbosity": "low"}));

    assert_eq!(request_round_trip(&req), req);
    let v = body(&req);
    assert_eq!(v["store"], false);
    assert_eq!(v["text"], json!({"verbosity": "low"}));
    assert_eq!(v["input"][3]["encrypted_content"], "gAAAA1");
    assert_eq!(v["input"][4]["call_id"], "call_1");
    assert_eq!(v["input"][5]["output"], "a.txt\nb.txt");
    assert_eq!(
        v["input"][7]["content"][3]["type"], "input_audio",
        "unknown part kept in place"
    );
    assert_eq!(v["input"][8]["type"], "custom_tool_call");
    assert_eq!(v["tools"][2]["format"]["syntax"], "lark");
}

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
