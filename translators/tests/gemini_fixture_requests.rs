//! The requests recorded in the Gemini cassettes under `../shared/fixtures/upstream/gemini/`:
//! every one decodes into the IR and round-trips through the encoder (modulo the schema
//! cleaning the encoder does on purpose); some with their facts asserted.
//!
//! Run: `cargo test -p switchyard-translators --test gemini_fixture_requests`
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed expectation is a failed test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod gemini_support;

use gemini_support::{cassette, is_generate, FILES};
use serde_json::{json, Value};
use switchyard_translators::gemini::{self, schema};
use switchyard_translators::ir::{MediaSource, Part, Request, Tool};

/// What the encoder does to schemas on purpose: `parametersJsonSchema` keywords Gemini's
/// `parameters` rejects are cleaned away (see `gemini::schema`).
fn cleaned_schemas(mut req: Request) -> Request {
    for tool in &mut req.tools {
        if let Tool::Function(f) = tool {
            f.parameters = schema::from_gemini(&schema::clean_for_gemini(&f.parameters));
        }
    }
    req
}

#[test]
fn every_recorded_request_round_trips() {
    let mut n = 0;
    for name in FILES.iter().filter(|f| f.ends_with(".yaml")) {
        for (i, it) in cassette(name).iter().enumerate() {
            let Some(body) = it.request.as_ref().filter(|_| is_generate(it)) else {
                continue;
            };
            let req: Request = gemini::decode_request(&serde_json::to_vec(body).unwrap())
                .unwrap_or_else(|e| panic!("{name}#{i}: {e}"));
            assert!(req.model.is_empty(), "the model is in the URL");
            assert!(!req.messages.is_empty(), "{name}#{i}");
            let encoded = gemini::encode_request(&req).unwrap();
            let again = gemini::decode_request(&encoded).unwrap();
            assert_eq!(
                again,
                cleaned_schemas(req),
                "{name}#{i}: {}",
                String::from_utf8_lossy(&encoded)
            );
            n += 1;
        }
    }
    assert_eq!(n, 25);
}

fn recorded_request(name: &str, index: usize) -> Request {
    let it = &cassette(name)[index];
    gemini::decode_request(&serde_json::to_vec(it.request.as_ref().unwrap()).unwrap()).unwrap()
}

#[test]
fn recorded_requests_decode_with_their_facts() {
    use switchyard_translators::ir::{Protocol, ReasoningMode, Role, ToolChoice};
    // llm-gemini: snake_case parts, a signed call and its response (no ids: matched by name).
    let req = recorded_request("test_tools_with_gemini_3_thought_signatures.yaml", 1);
    let [user, model, result] = &req.messages[..] else {
        panic!("{req:?}")
    };
    assert_eq!(
        (user.role, model.role, result.role),
        (Role::User, Role::Assistant, Role::User)
    );
    let Part::ToolCall(call) = &model.parts[1] else {
        panic!("{model:?}")
    };
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("call_multiply_0", "multiply")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&call.arguments).unwrap(),
        json!({"x": 5, "y": 3})
    );
    assert!(call.signature.is_some());
    let Part::ToolResult(r) = &result.parts[0] else {
        panic!("{result:?}")
    };
    assert_eq!(
        (r.call_id.as_str(), r.name.as_deref(), r.is_error),
        ("call_multiply_0", Some("multiply"), false)
    );
    assert_eq!(
        r.content,
        vec![Part::Text {
            text: "15".into(),
            cache_control: None
        }]
    );
    let Some((Protocol::Gemini, extra)) = &req.extra else {
        panic!()
    };
    assert_eq!(extra["safetySettings"].as_array().unwrap().len(), 4);

    // pydantic-ai: explicit ids, an `error` response, temperature 0.
    let req = recorded_request("test_google_model_retry.yaml", 2);
    let results: Vec<_> = req
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::ToolResult(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(
        results[0].call_id,
        "pyd_ai_1f2bdea4ea804905a3f05dfe5b96a7fb"
    );
    assert!(results[0].is_error);
    assert!(
        matches!(&results[0].content[0], Part::Text { text, .. } if text.starts_with("The country is not supported."))
    );
    assert_eq!((results[1].is_error, results[1].content.len()), (false, 1));
    assert_eq!(req.sampling.temperature, Some(0.0));
    assert_eq!(
        req.system,
        vec![Part::Text {
            text: "You are a helpful chatbot.".into(),
            cache_control: None
        }]
    );

    let req = recorded_request("test_google_model_image_url_input.yaml", 1);
    assert!(
        matches!(&req.messages[0].parts[1], Part::Image(m) if matches!(&m.source, MediaSource::Base64 { media_type, .. } if media_type == "image/jpeg"))
    );

    let req = recorded_request("test_google_model_cached_content.yaml", 1);
    let Some((Protocol::Gemini, extra)) = &req.extra else {
        panic!()
    };
    assert_eq!(
        extra["cachedContent"],
        "cachedContents/7lf5him5ev4iemi1yjv2gwli5bhpz3yidzejwllo"
    );

    // OpenAPI-style `type: OBJECT` becomes JSON Schema; includeThoughts alone keeps the default.
    let req = recorded_request("test_google_model_thinking_part_iter.yaml", 0);
    let Tool::Function(f) = &req.tools[0] else {
        panic!()
    };
    assert_eq!(f.parameters, json!({"type": "object", "properties": {}}));
    let reasoning = req.reasoning.unwrap();
    assert_eq!(
        (reasoning.mode, reasoning.include_thoughts),
        (ReasoningMode::Default, Some(true))
    );

    let req = recorded_request("test_google_instructions_only_with_tool_calls.yaml", 0);
    assert_eq!(
        req.tool_choice,
        Some(ToolChoice::Required),
        "ANY with two allowed names"
    );
}
