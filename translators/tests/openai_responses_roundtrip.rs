//! Round trips through the OpenAI Responses codecs over recorded traffic: decode → encode →
//! decode gives the same IR for every recorded response body and request, and a Codex-shaped
//! request. Hand-built IR: `openai_responses_ir_roundtrip.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test openai_responses_roundtrip`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod openai_responses_support;

use openai_responses_support as s;
use openai_responses_support::{body, request_round_trip, response_round_trip};
use serde_json::json;
use switchyard_translators::ir::{
    Effort, Media, MediaSource, Part, Protocol, ReasoningItem, ReasoningMode, Response, Role,
    StopReason, Tool, ToolCall, ToolChoice, Usage,
};
use switchyard_translators::openai_responses as r;

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
