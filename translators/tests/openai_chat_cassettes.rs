//! The OpenAI Chat cassettes under `../shared/fixtures/upstream/openai-chat/`: every recorded
//! answer (JSON body, error body, SSE stream) and every request decodes into IR with concrete
//! facts asserted; requests survive decode → encode → decode.
//!
//! Run: `cargo test -p switchyard-translators --test openai_chat_cassettes`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod openai_chat_support;

use openai_chat_support::{
    assert_matches_oracle, body, cassette, cassette_names, decode_stream, oracle, request,
    sse_payloads, summarize, usage,
};
use serde_json::Value;
use switchyard_translators::ir::{
    ErrorKind, MediaSource, Part, Role, StopReason, StreamEvent, ToolChoice, Usage,
};
use switchyard_translators::openai_chat as chat;

/// (file, interaction) → expected (text, tools, stop, usage) or error kind.
#[test]
fn cassette_responses_decode_with_concrete_facts() {
    type Tools = &'static [(&'static str, &'static str)];
    type Fact = (
        &'static str,
        usize,
        &'static str,
        Tools,
        Option<StopReason>,
        Option<Usage>,
    );
    let expect: &[Fact] = &[
        (
            "test_complex_agent_run.yaml",
            0,
            "",
            &[("get_country", "{}"), ("get_product_name", "{}")],
            Some(StopReason::ToolUse),
            usage(364, 40, 0, 0),
        ),
        (
            "test_complex_agent_run.yaml",
            1,
            "",
            &[("get_weather", r#"{"city":"Mexico City"}"#)],
            Some(StopReason::ToolUse),
            usage(423, 15, 0, 0),
        ),
        (
            "test_dbos_agent_with_hitl_tool.yaml",
            0,
            "",
            &[
                ("delete_file", r#"{"path": ".env"}"#),
                ("create_file", r#"{"path": "test.txt"}"#),
            ],
            Some(StopReason::ToolUse),
            usage(71, 46, 0, 0),
        ),
        (
            "test_dbos_agent_with_hitl_tool.yaml",
            1,
            "The file `.env` has been deleted",
            &[],
            Some(StopReason::EndTurn),
            usage(133, 19, 0, 0),
        ),
        (
            "test_image_url_tool_response.yaml",
            0,
            "",
            &[("get_image", "{}")],
            Some(StopReason::ToolUse),
            usage(46, 11, 0, 0),
        ),
        (
            "test_image_url_tool_response.yaml",
            1,
            "The image shows a potato.",
            &[],
            Some(StopReason::EndTurn),
            usage(503, 8, 0, 0),
        ),
        (
            "test_max_completion_tokens[o3-mini].yaml",
            0,
            "Hello there! How can I help you today?",
            &[],
            Some(StopReason::EndTurn),
            usage(7, 87, 0, 64),
        ),
        (
            "test_openai_chat_prompt_cache_e2e.yaml",
            1,
            "OK",
            &[],
            Some(StopReason::EndTurn),
            usage(4020, 4, 4012, 0),
        ),
        (
            "test_run_stream_sync_streams_real_model.yaml",
            0,
            "",
            &[("get_capital", r#"{"country":"UK"}"#)],
            Some(StopReason::ToolUse),
            usage(53, 15, 0, 0),
        ),
        (
            "test_run_stream_sync_streams_real_model.yaml",
            1,
            "The capital of the UK is London.",
            &[],
            Some(StopReason::EndTurn),
            usage(78, 9, 0, 0),
        ),
        (
            "test_tool_use_failed_error_streaming.yaml",
            1,
            "",
            &[("get_something_by_name", r#"{"name":"example"}"#)],
            Some(StopReason::ToolUse),
            usage(304, 49, 0, 23),
        ),
        (
            "test_tool_use_failed_error_streaming.yaml",
            2,
            "The tool returned the expected result for the valid call.",
            &[],
            Some(StopReason::EndTurn),
            usage(339, 58, 0, 38),
        ),
    ];
    let mut checked = 0;
    for name in cassette_names() {
        for (n, it) in cassette(&name).into_iter().enumerate() {
            let fact = expect.iter().find(|e| e.0 == name && e.1 == n);
            match (&body(&it), it.status) {
                (Ok(body), 200) => {
                    let r = chat::decode_response(body.to_string().as_bytes()).unwrap();
                    let text: String = r
                        .parts
                        .iter()
                        .filter_map(|p| match p {
                            Part::Text { text, .. } => Some(text.as_str()),
                            _ => None,
                        })
                        .collect();
                    let tools: Vec<(String, String)> = r
                        .parts
                        .iter()
                        .filter_map(|p| match p {
                            Part::ToolCall(c) => Some((c.name.clone(), c.arguments.clone())),
                            _ => None,
                        })
                        .collect();
                    let calls = body["choices"][0]["message"]["tool_calls"]
                        .as_array()
                        .map_or(0, Vec::len);
                    assert_eq!(tools.len(), calls, "{name} #{n}");
                    if let Some((_, _, t, tl, stop, u)) = fact {
                        assert!(text.starts_with(t), "{name} #{n}: {text}");
                        let want: Vec<(String, String)> = tl
                            .iter()
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .collect();
                        assert_eq!(tools, want, "{name} #{n}");
                        assert_eq!(Some(r.stop.clone()), *stop, "{name} #{n}");
                        assert_eq!(Some(r.usage), *u, "{name} #{n}");
                        checked += 1;
                    }
                }
                (Ok(body), status) => {
                    let e = chat::decode_error(status, body.to_string().as_bytes());
                    assert_eq!(e.status, Some(status), "{name} #{n}");
                    let want = match status {
                        400 => ErrorKind::InvalidRequest,
                        429 => ErrorKind::RateLimit,
                        other => panic!("{name}: unexpected status {other}"),
                    };
                    assert_eq!(e.kind, want, "{name} #{n}");
                    assert!(!e.message.is_empty());
                    checked += 1;
                }
                (Err(sse), _) => {
                    let events = decode_stream(&[sse.as_bytes()]);
                    let s = summarize(&events);
                    assert_matches_oracle(&format!("{name} #{n}"), &s, &oracle(&sse_payloads(sse)));
                    if let Some((_, _, t, tl, stop, u)) = fact {
                        assert!(s.text.starts_with(t), "{name} #{n}");
                        let tools: Vec<(String, String)> =
                            s.tools.iter().map(|t| (t.1.clone(), t.2.clone())).collect();
                        let want: Vec<(String, String)> = tl
                            .iter()
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .collect();
                        assert_eq!(tools, want, "{name} #{n}");
                        assert_eq!(s.stop, *stop, "{name} #{n}");
                        assert_eq!(s.usage, *u, "{name} #{n}");
                        assert!(s.ended);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(
        checked,
        expect.len() + 4,
        "every listed fact and the four error bodies checked"
    );
}

#[test]
fn groq_mid_stream_error_event() {
    let it = cassette("test_tool_use_failed_error_streaming.yaml").remove(0);
    let sse = body(&it).unwrap_err();
    let events = decode_stream(&[sse.as_bytes()]);
    let s = summarize(&events);
    assert!(s
        .thinking
        .starts_with("We need to call the tool with invalid parameters"));
    let (kind, message) = s.error.unwrap();
    assert_eq!(
        kind,
        ErrorKind::InvalidRequest,
        "status_code 400 in the event"
    );
    assert!(message.starts_with("Tool call validation failed"));
    assert!(!s.ended);
    assert!(matches!(events.last(), Some(StreamEvent::Error(e)) if e.status == Some(400)));
}

#[test]
fn cassette_requests_decode_and_round_trip() {
    let mut n_requests = 0;
    for name in cassette_names() {
        for it in cassette(&name) {
            let body = request(&it).to_string();
            let first =
                chat::decode_request(body.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!first.model.is_empty(), "{name}");
            let wire_msgs = request(&it)["messages"].as_array().unwrap();
            let tool_msgs = wire_msgs.iter().filter(|m| m["role"] == "tool").count();
            let results = first
                .messages
                .iter()
                .flat_map(|m| &m.parts)
                .filter(|p| matches!(p, Part::ToolResult(_)))
                .count();
            assert_eq!(
                results, tool_msgs,
                "{name}: every tool message is a ToolResult"
            );
            let encoded = chat::encode_request(&first).unwrap();
            let mut second = chat::decode_request(&encoded).unwrap();
            // By design the encoder always asks a streaming upstream for usage.
            let mut first = first;
            first.include_usage |= first.stream;
            second.include_usage |= second.stream;
            assert_eq!(second, first, "{name}");
            n_requests += 1;
        }
    }
    assert_eq!(n_requests, 19);
}

#[test]
fn cassette_request_specifics() {
    // Consecutive tool messages merge into one user message, in order, with the names of the
    // calls they answer; the following user message keeps its image URL.
    let reqs = cassette("test_image_url_tool_response.yaml");
    let r = chat::decode_request(request(&reqs[1]).to_string().as_bytes()).unwrap();
    assert_eq!(r.tool_choice, Some(ToolChoice::Auto));
    let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User, Role::User]);
    match &r.messages[2].parts[..] {
        [Part::ToolResult(t)] => {
            assert_eq!(t.call_id, "call_4hrT4QP9jfojtK69vGiFCFjG");
            assert_eq!(t.name.as_deref(), Some("get_image"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&r.messages[3].parts[1], Part::Image(m) if matches!(&m.source, MediaSource::Url { url, .. } if url.starts_with("https://t3.ftcdn.net/")))
    );
    assert_eq!(r.extra.as_ref().unwrap().1.get("n"), Some(&Value::from(1)));

    let reqs = cassette("test_complex_agent_run.yaml");
    let r = chat::decode_request(request(&reqs[2]).to_string().as_bytes()).unwrap();
    assert!(r.stream && r.include_usage);
    assert_eq!(r.tool_choice, Some(ToolChoice::Required));
    let results: Vec<usize> = r
        .messages
        .iter()
        .map(|m| {
            m.parts
                .iter()
                .filter(|p| matches!(p, Part::ToolResult(_)))
                .count()
        })
        .collect();
    assert_eq!(results, [0, 0, 2, 0, 1]);

    let reqs = cassette("test_dbos_agent_with_hitl_tool.yaml");
    let r = chat::decode_request(request(&reqs[0]).to_string().as_bytes()).unwrap();
    assert_eq!(
        r.system.len(),
        1,
        "the leading system message is Request::system"
    );
    assert_eq!(r.messages[0].role, Role::User);

    let reqs = cassette("test_openai_o1_mini_system_role[developer].yaml");
    let r = chat::decode_request(request(&reqs[0]).to_string().as_bytes()).unwrap();
    assert_eq!(
        r.system.len(),
        1,
        "a leading developer message is Request::system too"
    );

    let reqs = cassette("test_openai_chat_prompt_cache_e2e.yaml");
    let r = chat::decode_request(request(&reqs[0]).to_string().as_bytes()).unwrap();
    assert!(r.cache_key.is_some());

    let reqs = cassette("test_max_completion_tokens[o3-mini].yaml");
    let r = chat::decode_request(request(&reqs[0]).to_string().as_bytes()).unwrap();
    assert!(r.sampling.max_tokens.is_some());
}
