//! Anthropic requests: every request recorded in the cassettes and a hand-written one using
//! every field decode → encode → decode to the same IR; the IR carries what it should; the
//! encoder writes what the Anthropic API accepts for IR that came from other protocols.
//!
//! Run: `cargo test -p switchyard-translators --test anthropic_requests`

#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers outside #[test] fns fail loudly on bad fixtures"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod anthropic_support;

use anthropic_support as sup;
use serde_json::{json, Value};
use switchyard_translators::anthropic;
use switchyard_translators::ir::*;

fn round_trip(label: &str, body: &[u8]) -> Request {
    let first = anthropic::decode_request(body).unwrap_or_else(|e| panic!("{label}: {e}"));
    let encoded = anthropic::encode_request(&first).expect("encodes");
    let second = anthropic::decode_request(&encoded).expect("re-decodes");
    assert_eq!(
        second,
        first,
        "{label}: {}",
        String::from_utf8_lossy(&encoded)
    );
    first
}

fn encode(req: &Request) -> Value {
    serde_json::from_slice(&anthropic::encode_request(req).expect("encodes")).expect("json")
}

#[test]
fn every_recorded_request_round_trips() {
    let mut n = 0;
    for f in sup::all_files()
        .into_iter()
        .filter(|f| f.ends_with(".yaml"))
    {
        for (i, it) in sup::cassette(&f).into_iter().enumerate() {
            let req = it
                .request
                .unwrap_or_else(|| panic!("{f}#{i}: no request body"));
            round_trip(&format!("{f}#{i}"), req.to_string().as_bytes());
            n += 1;
        }
    }
    assert_eq!(n, 19);
}

fn recorded(file: &str, i: usize) -> Request {
    let it = sup::cassette(file).into_iter().nth(i).expect("interaction");
    round_trip(file, it.request.expect("request").to_string().as_bytes())
}

#[test]
fn recorded_requests_carry_their_features() {
    // Top-level automatic cache_control stays in extra for an Anthropic upstream.
    let r = recorded("test_anthropic_cache_real_api.yaml", 0);
    let (p, extra) = r.extra.clone().expect("extra");
    assert_eq!(p, Protocol::Anthropic);
    assert_eq!(
        extra["cache_control"],
        json!({"ttl": "5m", "type": "ephemeral"})
    );
    assert_eq!(
        encode(&r)["cache_control"],
        json!({"ttl": "5m", "type": "ephemeral"})
    );

    // Assistant thinking with signature, tool_use, tool_result (name filled from the call).
    let r = recorded("test_anthropic_tool_with_thinking.yaml", 1);
    assert_eq!(
        r.reasoning.as_ref().map(|r| r.mode),
        Some(ReasoningMode::Budget(3000))
    );
    assert_eq!(r.tool_choice, Some(ToolChoice::Auto));
    let assistant = &r.messages[1];
    assert!(
        matches!(&assistant.parts[0], Part::Thinking { signature: Some(s), .. } if s.starts_with("EqEECkYICxgCKkAo3UA4"))
    );
    let Part::ToolResult(res) = &r.messages[2].parts[0] else {
        panic!("tool result expected")
    };
    assert_eq!(res.name.as_deref(), Some("get_user_country"));
    assert_eq!(
        res.content,
        vec![Part::Text {
            text: "Mexico".into(),
            cache_control: None
        }]
    );
    assert!(!res.is_error);

    // Images: base64 and URL.
    let r = recorded("test_image_prompt.yaml", 0);
    assert!(r.messages[0].parts.iter().any(|p| matches!(p, Part::Image(Media { source: MediaSource::Base64 { media_type, .. }, .. }) if media_type == "image/png")));
    let r = recorded("test_image_url_input.yaml", 0);
    assert!(r.messages[0].parts.iter().any(|p| matches!(
        p,
        Part::Image(Media {
            source: MediaSource::Url { .. },
            ..
        })
    )));

    // Prefill and stop sequences; mcp_servers kept in extra; typed server tools Unknown.
    let r = recorded("test_prompt_with_prefill_and_stop_sequences.yaml", 0);
    assert_eq!(r.messages.last().map(|m| m.role), Some(Role::Assistant));
    assert_eq!(r.sampling.stop, vec!["```".to_string()]);
    let r = recorded("test_anthropic_mcp_servers_stream.yaml", 0);
    assert!(r
        .extra
        .as_ref()
        .is_some_and(|(_, e)| e["mcp_servers"].is_array()));
    let r = recorded("test_anthropic_web_fetch_tool_stream.yaml", 0);
    assert!(
        matches!(&r.tools[0], Tool::Unknown { protocol: Protocol::Anthropic, value } if value["type"].as_str().is_some_and(|t| t.starts_with("web_fetch")))
    );

    // Adaptive thinking; effort without adaptive thinking stays in output_config.
    let r = recorded("test_opus_46_adaptive_thinking.yaml", 0);
    assert_eq!(r.reasoning.map(|r| r.mode), Some(ReasoningMode::Adaptive));
    let r = recorded(
        "test_anthropic_explicit_effort_xhigh_unsupported_model_errors.yaml",
        0,
    );
    assert_eq!(r.reasoning, None);
    assert_eq!(encode(&r)["output_config"], json!({"effort": "xhigh"}));
}

/// A Claude-Code-shaped request using every field.
fn everything() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Be brief."}
        ],
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "plan", "signature": "sig1"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"path": "a.txt"}},
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt\nb.txt"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": [
                    {"type": "text", "text": "denied"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
                ], "cache_control": {"type": "ephemeral"}},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "tool_reference", "tool_name": "Bash"}]},
                {"type": "text", "text": "and these", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
                {"type": "document", "title": "spec", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
                {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
                {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "x"}]}}
            ]},
            {"role": "system", "content": "mid-conversation reminder"},
            {"role": "user", "content": [{"type": "text", "text": "go on"}]}
        ],
        "tools": [
            {"name": "Bash", "description": "run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}, "cache_control": {"type": "ephemeral"}},
            {"type": "custom", "name": "Read", "input_schema": {"type": "object"}, "strict": true},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            {"type": "bash_20250124", "name": "bash"},
            {"type": "memory_20250818", "name": "memory"}
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "medium", "format": {"type": "json_schema", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "metadata": {"user_id": "user_abc_account_x_session_y"},
        "stop_sequences": ["END"],
        "temperature": 1.0,
        "top_p": 0.99,
        "stream": true,
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
        "anthropic_beta": ["interleaved-thinking-2025-05-14"]
    })
}

#[test]
fn a_request_with_every_field() {
    let body = everything().to_string();
    let r = round_trip("everything", body.as_bytes());
    assert_eq!(r.model, "claude-sonnet-4-5");
    assert_eq!(r.system.len(), 2);
    assert!(
        matches!(&r.system[0], Part::Text { cache_control: Some(c), .. } if c.0 == json!({"type": "ephemeral"}))
    );
    let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        vec![
            Role::User,
            Role::Assistant,
            Role::User,
            Role::System,
            Role::User
        ]
    );

    let a = &r.messages[1].parts;
    assert_eq!(
        a[0],
        Part::Thinking {
            text: "plan".into(),
            signature: Some("sig1".into())
        }
    );
    assert_eq!(
        a[1],
        Part::RedactedThinking {
            data: "opaque".into()
        }
    );
    assert!(
        matches!(&a[3], Part::ToolCall(c) if c.id == "toolu_1" && c.name == "Bash" && c.arguments == r#"{"command":"ls"}"#)
    );
    assert!(
        matches!(&a[5], Part::Unknown { protocol: Protocol::Anthropic, value } if value["type"] == "server_tool_use")
    );
    assert!(
        matches!(&a[6], Part::Unknown { value, .. } if value["type"] == "web_search_tool_result")
    );

    let u = &r.messages[2].parts;
    assert!(
        matches!(&u[2], Part::ToolResult(t) if matches!(&t.content[..], [Part::Unknown { value, .. }] if value["type"] == "tool_reference"))
    );
    assert!(
        matches!(&u[0], Part::ToolResult(t) if t.call_id == "toolu_1" && t.name.as_deref() == Some("Bash") && !t.is_error)
    );
    let Part::ToolResult(t) = &u[1] else { panic!() };
    assert!(t.is_error);
    assert!(matches!(&t.content[1], Part::Image(_)));
    assert!(matches!(&u[3], Part::Text { cache_control: Some(c), .. } if c.0["ttl"] == "1h"));
    assert!(
        matches!(&u[4], Part::Image(Media { source: MediaSource::Url { url, .. }, .. }) if url == "https://example.com/a.png")
    );
    assert!(
        matches!(&u[5], Part::Image(Media { source: MediaSource::File { id, .. }, .. }) if id == "file_1")
    );
    assert!(
        matches!(&u[6], Part::Document(Media { source: MediaSource::Base64 { media_type, .. }, title: Some(t), .. }) if media_type == "application/pdf" && t == "spec")
    );
    assert!(matches!(
        &u[7],
        Part::Document(Media {
            source: MediaSource::Url { .. },
            ..
        })
    ));
    // Plain-text documents travel as base64 text/plain in the IR.
    assert!(
        matches!(&u[8], Part::Document(Media { source: MediaSource::Base64 { media_type, data }, .. }) if media_type == "text/plain" && data == "cGxhaW4gd29yZHM=")
    );
    assert!(matches!(&u[9], Part::Unknown { value, .. } if value["source"]["type"] == "content"));

    assert!(
        matches!(&r.tools[0], Tool::Function(f) if f.name == "Bash" && f.cache_control.is_some() && f.description.as_deref() == Some("run"))
    );
    assert!(matches!(&r.tools[1], Tool::Function(f) if f.name == "Read" && f.strict == Some(true)));
    for t in &r.tools[2..] {
        assert!(
            matches!(
                t,
                Tool::Unknown {
                    protocol: Protocol::Anthropic,
                    ..
                }
            ),
            "{t:?}"
        );
    }
    assert_eq!(r.tool_choice, Some(ToolChoice::Required));
    assert_eq!(r.parallel_tool_calls, Some(false));
    assert_eq!(
        r.reasoning.as_ref().map(|r| r.mode),
        Some(ReasoningMode::Effort(Effort::Medium))
    );
    assert!(
        matches!(&r.output_format, Some(OutputFormat::JsonSchema { schema, .. }) if schema["properties"]["a"]["type"] == "string")
    );
    assert_eq!(r.user_id.as_deref(), Some("user_abc_account_x_session_y"));
    assert_eq!(r.sampling.stop, vec!["END".to_string()]);
    assert_eq!(
        (
            r.sampling.temperature,
            r.sampling.top_p,
            r.sampling.max_tokens
        ),
        (Some(1.0), Some(0.99), Some(32000))
    );
    assert!(r.stream && r.include_usage);
    let (_, extra) = r.extra.as_ref().expect("extra");
    assert!(extra.contains_key("context_management") && extra.contains_key("anthropic_beta"));

    // Re-encoded for Anthropic: the same meaning in the current spellings.
    let out = encode(&r);
    assert_eq!(out["output_config"]["effort"], "medium");
    assert_eq!(out["output_config"]["format"]["type"], "json_schema");
    assert_eq!(out["thinking"], json!({"type": "adaptive"}));
    assert_eq!(
        out["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
    assert_eq!(out["messages"][3]["role"], "system");
    assert_eq!(
        out["messages"][2]["content"][8]["source"],
        json!({"type": "text", "media_type": "text/plain", "data": "plain words"})
    );
    assert_eq!(
        out["context_management"],
        everything()["context_management"]
    );
    assert_eq!(
        out["metadata"],
        json!({"user_id": "user_abc_account_x_session_y"})
    );
}

#[test]
fn tool_choice_and_thinking_variants() {
    let base = |extra: Value| {
        let mut v = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}]});
        for (k, val) in extra.as_object().expect("object") {
            v[k] = val.clone();
        }
        round_trip(&v.to_string(), v.to_string().as_bytes())
    };
    let r = base(json!({"tool_choice": {"type": "auto"}}));
    assert_eq!(
        (r.tool_choice, r.parallel_tool_calls),
        (Some(ToolChoice::Auto), None)
    );
    let r = base(json!({"tool_choice": {"type": "auto", "disable_parallel_tool_use": false}}));
    assert_eq!(r.parallel_tool_calls, Some(true));
    let r = base(json!({"tool_choice": {"type": "tool", "name": "f"}}));
    assert_eq!(r.tool_choice, Some(ToolChoice::Tool("f".into())));
    let r = base(json!({"tool_choice": {"type": "none"}}));
    assert_eq!(r.tool_choice, Some(ToolChoice::None));
    // An unknown shape is kept for an Anthropic upstream, not a failed request.
    let r = base(json!({"tool_choice": {"type": "future_mode"}}));
    assert_eq!(r.tool_choice, None);
    assert_eq!(encode(&r)["tool_choice"], json!({"type": "future_mode"}));

    let r = base(json!({"thinking": {"type": "enabled", "budget_tokens": 2048}}));
    assert_eq!(
        r.reasoning.map(|r| r.mode),
        Some(ReasoningMode::Budget(2048))
    );
    let r = base(json!({"thinking": {"type": "disabled"}}));
    assert_eq!(r.reasoning.map(|r| r.mode), Some(ReasoningMode::Disabled));
    for (effort, ir) in [
        ("low", Effort::Low),
        ("high", Effort::High),
        ("max", Effort::XHigh),
        ("xhigh", Effort::XHigh),
    ] {
        let r =
            base(json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": effort}}));
        assert_eq!(
            r.reasoning.map(|r| r.mode),
            Some(ReasoningMode::Effort(ir)),
            "{effort}"
        );
    }
    // Legacy beta spelling of structured outputs is read and written the current way.
    let r = base(json!({"output_format": {"type": "json_schema", "schema": {"type": "object"}}}));
    assert!(matches!(
        r.output_format,
        Some(OutputFormat::JsonSchema { .. })
    ));
    let out = encode(&r);
    assert!(out.get("output_format").is_none());
    assert_eq!(
        out["output_config"]["format"],
        json!({"type": "json_schema", "schema": {"type": "object"}})
    );
}

fn text(t: &str) -> Part {
    Part::Text {
        text: t.into(),
        cache_control: None,
    }
}

#[test]
fn ir_from_other_protocols_is_encoded_the_way_anthropic_accepts_it() {
    let req = Request {
        model: "claude-sonnet-4-5".into(),
        system: vec![text("sys")],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![text("q"), text("")],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    // Gemini/OpenAI thinking without a signature: Anthropic would reject it.
                    Part::Thinking {
                        text: "unsigned".into(),
                        signature: None,
                    },
                    Part::ToolCall(ToolCall {
                        id: "call_1".into(),
                        name: "f".into(),
                        arguments: "".into(),
                        signature: None,
                    }),
                    Part::Unknown {
                        protocol: Protocol::Gemini,
                        value: json!({"executableCode": {}}),
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    text("after the result"),
                    Part::ToolResult(ToolResult {
                        call_id: "call_1".into(),
                        name: Some("f".into()),
                        content: vec![text("ok")],
                        is_error: false,
                    }),
                ],
            },
            Message {
                role: Role::Developer,
                parts: vec![text("dev note")],
            },
        ],
        tools: vec![
            Tool::Function(FunctionTool {
                name: "f".into(),
                description: None,
                parameters: json!({"type": "object"}),
                strict: None,
                cache_control: None,
            }),
            Tool::Unknown {
                protocol: Protocol::OpenAiResponses,
                value: json!({"type": "web_search_preview"}),
            },
        ],
        tool_choice: None,
        parallel_tool_calls: Some(false),
        sampling: Sampling {
            temperature: Some(0.2),
            top_p: Some(0.5),
            top_k: Some(40),
            max_tokens: None,
            stop: vec![],
            seed: Some(7),
            presence_penalty: Some(0.1),
            frequency_penalty: None,
        },
        output_format: Some(OutputFormat::JsonObject),
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Effort(Effort::XHigh),
            include_thoughts: Some(true),
            summary: None,
        }),
        stream: true,
        include_usage: true,
        user_id: Some("u1".into()),
        cache_key: Some("ck".into()),
        extra: Some((
            Protocol::OpenAiChat,
            serde_json::Map::from_iter([("logprobs".to_string(), json!(true))]),
        )),
    };
    let out = encode(&req);
    assert_eq!(
        out,
        json!({
            "model": "claude-sonnet-4-5",
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "q"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "f", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "ok"}]},
                    {"type": "text", "text": "after the result"}
                ]},
                {"role": "system", "content": [{"type": "text", "text": "dev note"}]}
            ],
            "max_tokens": 32000,
            "stream": true,
            "tools": [{"name": "f", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "metadata": {"user_id": "u1"},
            // The tool loop carries no signed thinking: thinking is left off (see
            // thinking_is_left_off_when_the_tool_loop_has_no_signed_thinking), so sampling
            // goes through.
            "temperature": 0.2,
            "top_p": 0.5,
            "top_k": 40
        })
    );

    // Without a tool loop, thinking is on: effort goes to output_config, sampling that
    // thinking rejects is dropped.
    let mut fresh = req.clone();
    fresh.messages.truncate(1);
    let out = encode(&fresh);
    assert_eq!(out["thinking"], json!({"type": "adaptive"}));
    assert_eq!(out["output_config"], json!({"effort": "max"}));
    assert!(
        out.get("temperature").is_none()
            && out.get("top_p").is_none()
            && out.get("top_k").is_none()
    );

    // A budget raises a default max_tokens above it.
    let mut plain = fresh.clone();
    plain.reasoning = Some(Reasoning {
        mode: ReasoningMode::Budget(40_000),
        include_thoughts: None,
        summary: None,
    });
    let out = encode(&plain);
    assert_eq!(
        out["thinking"],
        json!({"type": "enabled", "budget_tokens": 40000})
    );
    assert_eq!(out["max_tokens"], 48_192);
    plain.reasoning = None;
    plain.model = "claude-3-5-haiku-20241022".into();
    let out = encode(&plain);
    assert_eq!(
        (
            out["temperature"].clone(),
            out["top_p"].clone(),
            out["top_k"].clone()
        ),
        (json!(0.2), json!(0.5), json!(40))
    );
    assert_eq!(out["max_tokens"], 8192);
}

#[test]
fn malformed_requests_are_errors_not_panics() {
    for body in [
        &b"not json"[..],
        b"{}",
        b"{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
        b"[]",
    ] {
        assert!(
            anthropic::decode_request(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn a_conversation_without_a_first_user_turn_gets_one() {
    // Gemini allows only a systemInstruction, or contents that start with the model's calls.
    let mut req = Request {
        model: "claude-sonnet-4-5".into(),
        system: vec![text("Tell three jokes.")],
        ..Request::default()
    };
    let continue_turn =
        json!({"role": "user", "content": [{"type": "text", "text": anthropic::CONTINUE_TEXT}]});
    assert_eq!(encode(&req)["messages"], json!([continue_turn.clone()]));
    req.messages = vec![
        Message {
            role: Role::System,
            parts: vec![text("reminder")],
        },
        Message {
            role: Role::Assistant,
            parts: vec![Part::ToolCall(ToolCall {
                id: "c1".into(),
                name: "f".into(),
                arguments: "{}".into(),
                signature: None,
            })],
        },
    ];
    let msgs = encode(&req)["messages"].clone();
    assert_eq!(msgs[0]["role"], "system");
    assert_eq!(msgs[1], continue_turn);
    assert_eq!(msgs[2]["role"], "assistant");
    // A tool_choice without tools is not sent.
    req.tool_choice = Some(ToolChoice::Required);
    assert!(encode(&req).get("tool_choice").is_none());
}

#[test]
fn thinking_is_left_off_when_the_tool_loop_has_no_signed_thinking() {
    let call = Part::ToolCall(ToolCall {
        id: "c1".into(),
        name: "f".into(),
        arguments: "{}".into(),
        signature: None,
    });
    let result = Part::ToolResult(ToolResult {
        call_id: "c1".into(),
        name: None,
        content: vec![text("ok")],
        is_error: false,
    });
    let mut req = Request {
        model: "claude-sonnet-4-5".into(),
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![text("q")],
            },
            Message {
                role: Role::Assistant,
                parts: vec![call.clone()],
            },
            Message {
                role: Role::User,
                parts: vec![result.clone()],
            },
        ],
        reasoning: Some(Reasoning {
            mode: ReasoningMode::Budget(2048),
            include_thoughts: None,
            summary: None,
        }),
        sampling: Sampling {
            temperature: Some(0.3),
            ..Sampling::default()
        },
        ..Request::default()
    };
    let out = encode(&req);
    assert!(out.get("thinking").is_none(), "{out}");
    assert_eq!(out["temperature"], 0.3);
    // With the signed thinking block carried back, thinking stays on.
    req.messages[1].parts.insert(
        0,
        Part::Thinking {
            text: "t".into(),
            signature: Some("sig".into()),
        },
    );
    assert_eq!(
        encode(&req)["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    // A finished loop (a new user question after the result) does not need one.
    req.messages[1].parts.remove(0);
    req.messages.push(Message {
        role: Role::Assistant,
        parts: vec![text("done")],
    });
    req.messages.push(Message {
        role: Role::User,
        parts: vec![text("next")],
    });
    assert_eq!(
        encode(&req)["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
}

#[test]
fn an_openai_reasoning_item_in_a_thinking_signature_comes_back_as_the_item() {
    // What an Anthropic client was shown for an OpenAI reasoning item, sent back.
    let body = serde_json::json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "plan", "signature": "openai-reasoning:rs_1:gAAAA"},
                {"type": "text", "text": "ok"}
            ]},
            {"role": "user", "content": "again"}
        ]
    });
    let req =
        switchyard_translators::anthropic::decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        req.messages[1].parts[0],
        switchyard_translators::ir::Part::Reasoning(switchyard_translators::ir::ReasoningItem {
            id: Some("rs_1".into()),
            summary: vec!["plan".into()],
            encrypted_content: Some("gAAAA".into()),
        })
    );
    // A Claude upstream never gets it (it cannot verify OpenAI's content) ...
    let claude: serde_json::Value =
        serde_json::from_slice(&switchyard_translators::anthropic::encode_request(&req).unwrap())
            .unwrap();
    assert_eq!(
        claude["messages"][1]["content"],
        serde_json::json!([{"type": "text", "text": "ok"}])
    );
    // ... an OpenAI Responses upstream gets its item back.
    let openai: serde_json::Value = serde_json::from_slice(
        &switchyard_translators::openai_responses::encode_request(&req).unwrap(),
    )
    .unwrap();
    let item = openai["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "reasoning")
        .unwrap()
        .clone();
    assert_eq!(item["id"], "rs_1");
    assert_eq!(item["encrypted_content"], "gAAAA");
}
