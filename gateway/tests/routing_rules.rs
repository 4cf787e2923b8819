//! Model routing rules and request/response rewriting end to end, judged by what the mock
//! upstream received (its journal): `payload` rules on same-protocol and translated bodies,
//! `force-model-prefix`, model `auto`, `model-fallback` for names clients hard-code, and
//! `passthrough-headers`.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test routing_rules`
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

mod harness;
use harness::*;
use serde_json::{json, Value};

const JSON: (&str, &str) = ("content-type", "application/json");

fn last_body(mock: &Mock) -> Value {
    let j = mock.journal();
    let last = j.last().expect("an upstream call");
    serde_json::from_str(last["body"].as_str().unwrap()).unwrap()
}

fn chat(model: &str, extra: Value) -> Vec<u8> {
    let mut b = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b.to_string().into_bytes()
}

const PAYLOAD: &str = r#"
payload:
  default:
    - models: [{name: "gpt-4o-*", protocol: openai}]
      params: {"temperature": 0.5, "top_p": 0.9}
    - models: [{name: "gemini-*", protocol: gemini}]
      params: {"generationConfig.thinkingConfig.thinkingBudget": 1024}
  default-raw:
    - models: [{name: "fast"}]
      params: {"user": "\"from-default-raw\""}
  override:
    - models: [{name: "gpt-4o-*", protocol: openai}]
      params: {"max_tokens": 77}
    - models: [{name: "gemini-*", protocol: gemini}]
      params: {"generationConfig.temperature": 0.25}
    - models: [{name: "gemini-*", protocol: openai}]
      params: {"never": "the rule's protocol is the upstream's"}
  override-raw:
    - models: [{name: "gpt-4o-*", protocol: openai}]
      params: {"response_format": "{\"type\":\"json_object\"}"}
    - models: [{name: "gemini-*", protocol: gemini}]
      params: {"safetySettings": "[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"BLOCK_NONE\"}]"}
  filter:
    - models: [{name: "gpt-4o-*"}]
      params: ["metadata", "stream_options"]
    - models: [{name: "gemini-*", protocol: gemini}]
      params: ["generationConfig.maxOutputTokens"]
"#;

#[test]
fn payload_rules_edit_same_protocol_bodies_and_leave_others_byte_for_byte() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!("{}{PAYLOAD}", four_accounts(&mock, "[]")));

    // OpenAI client, OpenAI-compatible account: the alias `fast` is spliced to gpt-4o-mini and
    // every rule kind applies to the client's bytes.
    let sent = chat(
        "fast",
        json!({"top_p": 1, "metadata": {"a": 1}, "stream_options": null}),
    );
    let r = gw.post("/v1/chat/completions", &[JSON], &sent);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = mock.journal();
    let e = j.last().unwrap();
    assert_eq!(e["account"], "acct-oai");
    assert_eq!(
        e["body"].as_str().unwrap(),
        r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o-mini","top_p":1,"temperature":0.5,"user":"from-default-raw","max_tokens":77,"response_format":{"type":"json_object"}}"#,
        "defaults only where absent (top_p kept), override and raw values set, filtered paths gone"
    );

    // A model no rule names: the client's bytes arrive unchanged.
    let sent = chat(
        "claude-sonnet-4-5",
        json!({"max_tokens": 10, "metadata": {"a": 1}}),
    );
    let r = gw.post("/v1/messages", &[JSON], &sent);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = mock.journal();
    assert_eq!(j.last().unwrap()["body_sha256"], sha256_hex(&sent));
}

#[test]
fn payload_rules_apply_to_the_translated_body_by_upstream_protocol() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!("{}{PAYLOAD}", four_accounts(&mock, "[]")));
    // OpenAI client, Gemini account: rules for `gemini` see the Gemini body the translator built.
    let sent = chat(
        "gemini-2.5-flash",
        json!({"max_tokens": 300, "temperature": 1}),
    );
    let r = gw.post("/v1/chat/completions", &[JSON], &sent);
    assert_eq!(r.status, 200, "{}", r.text());
    let b = last_body(&mock);
    let gc = &b["generationConfig"];
    assert_eq!(gc["thinkingConfig"]["thinkingBudget"], 1024, "{b}");
    assert_eq!(
        gc["temperature"], 0.25,
        "override beats the client's value: {b}"
    );
    assert!(gc.get("maxOutputTokens").is_none(), "filtered: {b}");
    assert_eq!(
        b["safetySettings"],
        json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}])
    );
    assert!(
        b.get("never").is_none(),
        "an `openai` rule does not touch a Gemini body: {b}"
    );

    // A Gemini client on the same account (no translation): the same rules, on its own bytes.
    let g = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                   "generationConfig": {"thinkingConfig": {"thinkingBudget": 64}}});
    let r = gw.post(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        &[JSON],
        g.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = last_body(&mock);
    assert_eq!(
        b["generationConfig"],
        json!({"thinkingConfig": {"thinkingBudget": 64}, "temperature": 0.25}),
        "the client's budget is kept (default), the override added"
    );
}

fn prefixed(mock: &Mock, force: bool) -> String {
    let u = mock.url();
    format!(
        "force-model-prefix: {force}\nopenai-compatibility:\n  - name: team\n    prefix: team\n    base-url: {u}/v1\n    api-key-entries: [{{api-key: acct-team}}]\n    models: [{{name: m}}, {{name: team}}]\n  - name: plain\n    base-url: {u}/v1\n    api-key-entries: [{{api-key: acct-plain}}]\n    models: [{{name: other}}]\n"
    )
}

#[test]
fn force_model_prefix_serves_prefixed_accounts_only_by_prefixed_names() {
    let mock = Mock::start();
    let gw = Gateway::start(&prefixed(&mock, true));
    let post = |m: &str| gw.post("/v1/chat/completions", &[JSON], &chat(m, json!({})));
    let r = post("m");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "model_not_found");
    assert_eq!(post("team/m").status, 200);
    assert_eq!(
        post("team").status,
        200,
        "the bare name equal to the prefix stays"
    );
    assert_eq!(
        post("other").status,
        200,
        "accounts without a prefix are unaffected"
    );
    let models: Vec<String> = mock
        .journal()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["account"].as_str().unwrap(),
                e["model"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        models,
        ["acct-team:m", "acct-team:team", "acct-plain:other"]
    );
    let listed = gw.get("/v1/models", &[]).json();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["team/m", "team", "team/team", "other"]);

    // Without the flag the bare name reaches the prefixed account too.
    let mock = Mock::start();
    let gw = Gateway::start(&prefixed(&mock, false));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat("m", json!({})));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(mock.calls("acct-team"), 1);
}

#[test]
fn auto_is_the_first_listed_model_with_an_account_ready() {
    let mock = Mock::start();
    let u = mock.url();
    let gw = Gateway::start(&format!(
        "openai-compatibility:\n  - name: a\n    base-url: {u}/v1\n    api-key-entries: [{{api-key: acct-first}}]\n    models: [{{name: first-model}}]\n  - name: b\n    base-url: {u}/v1\n    api-key-entries: [{{api-key: acct-second}}]\n    models: [{{name: second-model}}]\n"
    ));
    let post = || gw.post("/v1/chat/completions", &[JSON], &chat("auto", json!({})));
    let r = post();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(mock.journal().last().unwrap()["model"], "first-model");

    // The first model's only account answers 429 and cools down: `auto` moves on.
    mock.schedule(
        "acct-first",
        json!([{"status": 429, "retry_after": "600"}]),
        json!("ok"),
    );
    assert_eq!(post().status, 429);
    let r = post();
    assert_eq!(r.status, 200, "{}", r.text());
    let models: Vec<Value> = mock.journal().iter().map(|e| e["model"].clone()).collect();
    assert_eq!(models, ["first-model", "first-model", "second-model"]);
}

#[test]
fn fallback_routes_the_models_opencode_hard_codes_and_reports_the_asked_name() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "{}model-fallback:\n  - {{from: \"claude-haiku-*\", to: claude-sonnet-4-5}}\n  - {{from: \"gpt-5*-nano\", to: gpt-5-codex}}\n  - {{from: \"gemini-*-flash\", to: gemini-2.5-flash}}\n",
        four_accounts(&mock, "[]")
    ));

    let r = gw.post(
        "/v1/messages",
        &[JSON],
        json!({"model": "claude-haiku-4-5-20251001", "max_tokens": 32,
               "messages": [{"role": "user", "content": "title"}]})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["model"], "claude-haiku-4-5-20251001");
    let e = mock.journal().last().unwrap().clone();
    assert_eq!(
        (e["account"].as_str(), e["model"].as_str()),
        (Some("acct-claude"), Some("claude-sonnet-4-5"))
    );

    let r = gw.post(
        "/v1/responses",
        &[JSON],
        json!({"model": "gpt-5.4-nano", "input": "title"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["model"], "gpt-5.4-nano");
    let e = mock.journal().last().unwrap().clone();
    assert_eq!(
        (e["account"].as_str(), e["model"].as_str()),
        (Some("acct-codex"), Some("gpt-5-codex"))
    );

    let r = gw.post(
        "/v1beta/models/gemini-3.8-flash:generateContent",
        &[JSON],
        json!({"contents": [{"role": "user", "parts": [{"text": "title"}]}]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["modelVersion"], "gemini-3.8-flash");
    let e = mock.journal().last().unwrap().clone();
    assert_eq!(e["path"], "/v1beta/models/gemini-2.5-flash:generateContent");

    // A name no entry matches is still unknown, and nothing was sent for it.
    let r = gw.post(
        "/v1/chat/completions",
        &[JSON],
        &chat("mistral-large", json!({})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(mock.journal().len(), 3);
}

#[test]
fn passthrough_headers_off_keeps_rate_limit_headers_only() {
    for on in [false, true] {
        let mock = Mock::start();
        let gw = Gateway::start(&format!(
            "passthrough-headers: {on}\n{}",
            four_accounts(&mock, "[]")
        ));
        let r = gw.post(
            "/v1/chat/completions",
            &[JSON],
            &chat("gpt-4o-mini", json!({})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.header("x-upstream-request-id").is_some(),
            on,
            "passthrough-headers: {on}"
        );
        assert!(
            r.header("x-request-id").is_some(),
            "the gateway's own id is always there"
        );

        mock.schedule(
            "acct-oai",
            json!([{"status": 429, "retry_after": "7"}]),
            json!("ok"),
        );
        let r = gw.post(
            "/v1/chat/completions",
            &[JSON],
            &chat("gpt-4o-mini", json!({})),
        );
        assert_eq!(r.status, 429);
        assert_eq!(
            r.header("retry-after"),
            Some("7"),
            "passthrough-headers: {on}"
        );
    }
}
