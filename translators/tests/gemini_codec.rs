//! Hand-written IR through the Gemini request and response codecs: request round trips over
//! every feature Gemini can express, the normalisations the encoder applies on purpose, and
//! response round trips. Streams, errors and arbitrary input: `gemini_codec_streams.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test gemini_codec`
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed expectation is a failed test"
)]

use serde_json::{json, Map, Value};
use switchyard_translators::gemini;
use switchyard_translators::ir::*;

fn text(t: &str) -> Part {
    Part::Text {
        text: t.into(),
        cache_control: None,
    }
}

fn b64(media_type: &str, data: &str) -> Media {
    Media {
        source: MediaSource::Base64 {
            media_type: media_type.into(),
            data: data.into(),
        },
        cache_control: None,
        title: None,
    }
}

fn call(id: &str, name: &str, args: &str, sig: Option<&str>) -> Part {
    Part::ToolCall(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.into(),
        signature: sig.map(Into::into),
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

fn function(name: &str, parameters: Value) -> Tool {
    Tool::Function(FunctionTool {
        name: name.into(),
        description: Some(format!("{name} tool")),
        parameters,
        strict: None,
        cache_control: None,
    })
}

fn msg(role: Role, parts: Vec<Part>) -> Message {
    Message { role, parts }
}

fn ctx() -> EncodeContext {
    EncodeContext::new(1_764_000_000, "sy")
}

/// Everything Gemini can express, in a form the decoder gives back unchanged.
fn full_request() -> Request {
    let mut extra = Map::new();
    extra.insert(
        "safetySettings".into(),
        json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]),
    );
    extra.insert("cachedContent".into(), json!("cachedContents/abc"));
    extra.insert("labels".into(), json!({"team": "core"}));
    Request {
        model: String::new(),
        system: vec![text("You are terse."), text("Answer in English.")],
        messages: vec![
            msg(
                Role::User,
                vec![
                    text("What is in these?"),
                    Part::Image(b64("image/png", "iVBORw0KGgo=")),
                    Part::Image(Media {
                        source: MediaSource::Url {
                            url: "https://example.com/cat.jpg".into(),
                            media_type: Some("image/jpeg".into()),
                        },
                        cache_control: None,
                        title: None,
                    }),
                    Part::Document(b64("application/pdf", "JVBERi0xLjQ=")),
                    Part::Document(Media {
                        source: MediaSource::File {
                            id: "https://generativelanguage.googleapis.com/v1beta/files/abc".into(),
                            media_type: Some("application/pdf".into()),
                        },
                        cache_control: None,
                        title: None,
                    }),
                ],
            ),
            msg(
                Role::Assistant,
                vec![
                    Part::Thinking {
                        text: "Need the weather and the time.".into(),
                        signature: Some("c2lnMQ==".into()),
                    },
                    text("Let me check."),
                    call(
                        "toolu_1",
                        "get_weather",
                        r#"{"city":"Paris","days":2}"#,
                        Some("c2lnMg=="),
                    ),
                    call("toolu_2", "get_time", "{}", None),
                    call("toolu_3", "screenshot", r#"{"full":true}"#, None),
                ],
            ),
            msg(
                Role::User,
                vec![
                    result("toolu_1", "get_weather", vec![text("18C, sunny")], false),
                    result("toolu_2", "get_time", vec![text("clock is broken")], true),
                    result(
                        "toolu_3",
                        "screenshot",
                        vec![text("here"), Part::Image(b64("image/png", "AAAA"))],
                        false,
                    ),
                ],
            ),
            msg(Role::Assistant, vec![text("Sunny, 18C.")]),
            msg(Role::User, vec![text("Thanks!")]),
        ],
        tools: vec![
            function(
                "get_weather",
                json!({"type": "object", "properties": {"city": {"type": "string", "description": "City"}, "days": {"type": ["integer", "null"]}}, "required": ["city"]}),
            ),
            function("get_time", json!({"type": "object", "properties": {}})),
            function(
                "screenshot",
                json!({"type": "object", "properties": {"full": {"type": "boolean"}}}),
            ),
            Tool::Unknown {
                protocol: Protocol::Gemini,
                value: json!({"googleSearch": {}}),
            },
        ],
        tool_choice: Some(ToolChoice::Tool("get_weather".into())),
        parallel_tool_calls: None,
        sampling: Sampling {
            temperature: Some(0.5),
            top_p: Some(0.9),
            top_k: Some(40),
            max_tokens: Some(1024),
            stop: vec!["END".into(), "STOP!".into()],
            seed: Some(7),
            presence_penalty: Some(0.1),
            frequency_penalty: Some(-0.2),
        },
        output_format: Some(OutputFormat::JsonSchema {
            name: None,
            schema: json!({"type": "object", "properties": {"answer": {"type": "string"}, "kind": {"type": "string", "enum": ["a", "b"]}}, "required": ["answer"]}),
            strict: None,
        }),
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Budget(2048),
            include_thoughts: Some(true),
            summary: None,
        }),
        stream: false,
        include_usage: false,
        user_id: None,
        cache_key: None,
        extra: Some((Protocol::Gemini, extra)),
    }
}

fn round_trip(req: &Request) -> Request {
    let body = gemini::encode_request(req).unwrap();
    gemini::decode_request(&body).unwrap()
}

#[test]
fn every_expressible_request_feature_round_trips() {
    let req = full_request();
    assert_eq!(round_trip(&req), req);
}

#[test]
fn tool_choice_output_format_and_reasoning_variants_round_trip() {
    let base = full_request();
    for choice in [
        ToolChoice::Auto,
        ToolChoice::None,
        ToolChoice::Required,
        ToolChoice::Tool("get_time".into()),
    ] {
        let req = Request {
            tool_choice: Some(choice),
            ..base.clone()
        };
        assert_eq!(round_trip(&req), req);
    }
    for format in [
        None,
        Some(OutputFormat::Text),
        Some(OutputFormat::JsonObject),
    ] {
        let req = Request {
            output_format: format,
            ..base.clone()
        };
        assert_eq!(round_trip(&req), req);
    }
    for (mode, include) in [
        (ReasoningMode::Adaptive, Some(true)),
        (ReasoningMode::Disabled, None),
        (ReasoningMode::Disabled, Some(false)),
        (ReasoningMode::Effort(Effort::Minimal), Some(true)),
        (ReasoningMode::Effort(Effort::Low), Some(false)),
        (ReasoningMode::Effort(Effort::Medium), Some(true)),
        (ReasoningMode::Effort(Effort::High), Some(true)),
        (ReasoningMode::Default, Some(true)),
    ] {
        let req = Request {
            reasoning: Some(Reasoning {
                mode,
                include_thoughts: include,
                summary: None,
            }),
            ..base.clone()
        };
        assert_eq!(round_trip(&req), req, "{mode:?}");
    }
}

fn encoded(req: &Request) -> Value {
    serde_json::from_slice(&gemini::encode_request(req).unwrap()).unwrap()
}

#[test]
fn request_encoding_on_purpose() {
    let req = Request {
        model: "gemini-2.5-pro".into(),
        system: vec![],
        messages: vec![
            msg(Role::Developer, vec![text("Be brief.")]),
            msg(Role::User, vec![text("hi")]),
            msg(
                Role::Assistant,
                vec![
                    Part::RedactedThinking {
                        data: "opaque".into(),
                    },
                    Part::Thinking {
                        text: String::new(),
                        signature: Some("gemini-sig".into()),
                    },
                    call("call_lookup_0", "lookup", r#"{"q":"x"}"#, None),
                    call("toolu_9", "lookup", "", None),
                    Part::Unknown {
                        protocol: Protocol::Anthropic,
                        value: json!({"type": "server_tool_use"}),
                    },
                ],
            ),
            // A system message inside the conversation (Claude Code sends one).
            msg(Role::System, vec![text("Mid-conversation note.")]),
            msg(
                Role::User,
                vec![Part::ToolResult(ToolResult {
                    call_id: "toolu_9".into(),
                    name: None,
                    content: vec![text("found")],
                    is_error: false,
                })],
            ),
            msg(
                Role::User,
                vec![Part::ToolResult(ToolResult {
                    call_id: "call_other_tool_3".into(),
                    name: None,
                    content: vec![],
                    is_error: false,
                })],
            ),
        ],
        tools: vec![
            function(
                "lookup",
                json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false, "properties": {"q": {"type": "string", "format": "email", "default": "a"}}}),
            ),
            Tool::Unknown {
                protocol: Protocol::Anthropic,
                value: json!({"type": "web_search_20250305"}),
            },
        ],
        parallel_tool_calls: Some(false),
        output_format: Some(OutputFormat::JsonSchema {
            name: Some("answer".into()),
            schema: json!({"type": "object", "properties": {"n": {"const": 1}}, "additionalProperties": false}),
            strict: Some(true),
        }),
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Effort(Effort::XHigh),
            include_thoughts: None,
            summary: Some("auto".into()),
        }),
        user_id: Some("user-1".into()),
        cache_key: Some("k".into()),
        extra: Some((
            Protocol::Anthropic,
            Map::from_iter([("metadata".into(), json!({}))]),
        )),
        ..Request::default()
    };
    let v = encoded(&req);
    assert_eq!(
        v,
        json!({
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"id": "call_lookup_0", "name": "lookup", "args": {"q": "x"}}, "thoughtSignature": "gemini-sig"},
                    {"functionCall": {"id": "toolu_9", "name": "lookup", "args": {}}, "thoughtSignature": gemini::DUMMY_SIGNATURE}
                ]},
                {"role": "user", "parts": [
                    {"text": "Mid-conversation note."},
                    {"functionResponse": {"id": "toolu_9", "name": "lookup", "response": {"output": "found"}}},
                    {"functionResponse": {"id": "call_other_tool_3", "name": "other_tool", "response": {}}}
                ]}
            ],
            "tools": [{"functionDeclarations": [{"name": "lookup", "description": "lookup tool", "parameters": {
                "type": "object",
                "properties": {"q": {"type": "string", "description": "default: a (format: email)"}}
            }}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": {"type": "object", "properties": {"n": {"type": "string", "enum": ["1"]}}},
                "thinkingConfig": {"thinkingLevel": "high", "includeThoughts": true}
            }
        })
    );
    // The dummy signature is Google's documented placeholder: decoded back as none.
    let back = gemini::decode_request(&serde_json::to_vec(&v).unwrap()).unwrap();
    let Part::ToolCall(c) = &back.messages[1].parts[1] else {
        panic!()
    };
    assert_eq!((c.id.as_str(), c.signature.as_deref()), ("toolu_9", None));
    let Part::ToolCall(c) = &back.messages[1].parts[0] else {
        panic!()
    };
    assert_eq!(c.signature.as_deref(), Some("gemini-sig"));
}

#[test]
fn function_responses_without_ids_match_calls_by_name_in_order() {
    let body = json!({"contents": [
        {"role": "model", "parts": [
            {"functionCall": {"name": "a", "args": {}}},
            {"functionCall": {"name": "b", "args": {}}},
            {"functionCall": {"name": "a", "args": {"n": 2}}}
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "a", "response": {"content": {"k": 1}}}},
            {"functionResponse": {"name": "a", "response": {"result": "second"}}},
            {"functionResponse": {"name": "b", "response": {"x": 1, "y": 2}}},
            {"functionResponse": {"name": "c", "response": {"error": {"code": 3}}}}
        ]}
    ]});
    let req = gemini::decode_request(&serde_json::to_vec(&body).unwrap()).unwrap();
    let ids: Vec<_> = req.messages[0]
        .parts
        .iter()
        .map(|p| match p {
            Part::ToolCall(c) => c.id.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(ids, ["call_a_0", "call_b_1", "call_a_2"]);
    let results: Vec<_> = req.messages[1]
        .parts
        .iter()
        .map(|p| match p {
            Part::ToolResult(r) => (r.call_id.clone(), r.content.clone(), r.is_error),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        results,
        vec![
            ("call_a_0".into(), vec![text(r#"{"k":1}"#)], false),
            ("call_a_2".into(), vec![text("second")], false),
            ("call_b_1".into(), vec![text(r#"{"x":1,"y":2}"#)], false),
            ("call_c_3".into(), vec![text(r#"{"code":3}"#)], true),
        ]
    );
}

// ------------------------------------------------------------------------------- responses

#[test]
fn responses_round_trip() {
    let parts = [
        Part::Thinking {
            text: "Thinking about it.".into(),
            signature: Some("c2ln".into()),
        },
        text("Here you go."),
        Part::Thinking {
            text: String::new(),
            signature: Some("dGV4dHNpZw==".into()),
        },
        call("call_f_0", "f", r#"{"a":[1,2]}"#, Some("Y2FsbA==")),
        call("call_g_1", "g", "{}", None),
        Part::Image(b64("image/png", "iVBORw0KGgo=")),
        Part::Unknown {
            protocol: Protocol::Gemini,
            value: json!({"executableCode": {"code": "print(1)", "language": "PYTHON"}}),
        },
    ];
    for stop in [
        StopReason::ToolUse,
        StopReason::EndTurn,
        StopReason::MaxTokens,
        StopReason::ContentFilter,
        StopReason::Other("MALFORMED_FUNCTION_CALL".into()),
    ] {
        let has_calls = stop == StopReason::ToolUse;
        let resp = Response {
            id: "resp-1".into(),
            model: "gemini-2.5-pro".into(),
            parts: parts
                .iter()
                .filter(|p| has_calls || !matches!(p, Part::ToolCall(_)))
                .cloned()
                .collect(),
            stop,
            usage: Usage {
                input_tokens: 100,
                output_tokens: 50,
                cache_read_tokens: 80,
                cache_write_tokens: 0,
                reasoning_tokens: 30,
            },
        };
        let body = gemini::encode_response(&resp, &mut ctx());
        assert_eq!(gemini::decode_response(&body).unwrap(), resp);
    }
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}});
    let r = gemini::decode_response(&serde_json::to_vec(&blocked).unwrap()).unwrap();
    assert_eq!((r.stop, r.parts.len()), (StopReason::ContentFilter, 0));
}

#[test]
fn generated_call_ids_are_unique_per_response_and_id_safe() {
    let id_of = |rid: &str| {
        let body = json!({"responseId": rid, "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "mcp.fs:read", "args": {}}}
        ]}, "finishReason": "STOP"}]});
        let r = gemini::decode_response(&serde_json::to_vec(&body).unwrap()).unwrap();
        match &r.parts[0] {
            Part::ToolCall(c) => c.id.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(id_of("r1"), "call_mcp_fs_read_0_r1");
    assert_eq!(id_of("a/b"), "call_mcp_fs_read_0_a_b");
    assert_eq!(id_of(""), "call_mcp_fs_read_0");
}

#[test]
fn a_streamed_thought_sent_back_part_by_part_is_one_thinking_part() {
    // google-genai keeps one part per stream chunk; the signature comes on the last one.
    let body = json!({"contents": [
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": [
            {"text": "Let me ", "thought": true},
            {"text": "think.", "thought": true},
            {"text": "", "thought": true, "thoughtSignature": "c2ln"},
            {"text": "Hello."},
            {"text": "Again", "thought": true}
        ]}
    ]});
    let req = gemini::decode_request(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(
        req.messages[1].parts,
        [
            Part::Thinking {
                text: "Let me think.".into(),
                signature: Some("c2ln".into())
            },
            Part::Text {
                text: "Hello.".into(),
                cache_control: None
            },
            Part::Thinking {
                text: "Again".into(),
                signature: None
            },
        ]
    );
}
