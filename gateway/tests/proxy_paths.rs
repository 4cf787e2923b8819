//! The request path end to end: real gateway binary, real mock upstream, counted calls.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test proxy_paths`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::{json, Value};

const JSON: (&str, &str) = ("content-type", "application/json");

fn chat(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "MOCK_REPLY[pong]"}]})
        .to_string()
        .into_bytes()
}

#[test]
fn client_keys_are_checked_like_cliproxyapi() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, r#"["sk-client"]"#));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat("gpt-4o-mini", false));
    assert_eq!(
        (r.status, r.json()),
        (401, json!({"error": "Missing API key"}))
    );
    let r = gw.post(
        "/v1/messages",
        &[JSON, ("x-api-key", "wrong")],
        &chat("claude-sonnet-4-5", false),
    );
    assert_eq!(
        (r.status, r.json()),
        (401, json!({"error": "Invalid API key"}))
    );
    let r = gw.get("/v1/models", &[]);
    assert_eq!(r.status, 401);
    assert!(
        mock.journal().is_empty(),
        "no upstream call for unauthorised requests"
    );

    for (h, v, path) in [
        ("authorization", "Bearer sk-client", "/v1/chat/completions"),
        ("authorization", "sk-client", "/v1/chat/completions"),
        ("x-api-key", "sk-client", "/v1/chat/completions"),
        ("x-goog-api-key", "sk-client", "/v1/chat/completions"),
        ("x-unused", "x", "/v1/chat/completions?key=sk-client"),
        ("x-unused", "x", "/v1/chat/completions?auth_token=sk-client"),
    ] {
        let r = gw.post(path, &[JSON, (h, v)], &chat("gpt-4o-mini", false));
        assert_eq!(r.status, 200, "{h} {path}: {}", r.text());
    }
    let j = mock.journal();
    assert_eq!(j.len(), 6);
    for e in &j {
        assert_eq!(e["account"], "acct-oai");
        assert_eq!(e["headers"]["authorization"], "Bearer acct-oai");
        let all = e.to_string();
        assert!(!all.contains("sk-client"), "client key forwarded: {all}");
        assert_eq!(e["query"].as_str().unwrap_or(""), "");
    }
}

#[test]
fn local_answers_need_no_upstream() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, "[]"));
    let r = gw.get("/healthz", &[]);
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));
    let r = request(&gw.addr, "HEAD", "/", &[], b"");
    assert_eq!(r.status, 200);

    let ids = |v: &Value, list: &str, field: &str| -> Vec<String> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[field].as_str().unwrap().to_owned())
            .collect()
    };
    // Every model is listed to every protocol (translation serves the others).
    let all = [
        "gemini-2.5-flash",
        "claude-sonnet-4-5",
        "gpt-5-codex",
        "gpt-4o-mini",
        "fast",
    ];
    let openai = gw.get("/v1/models", &[]).json();
    assert_eq!(openai["object"], "list");
    assert_eq!(ids(&openai, "data", "id"), all);
    let anthropic = gw
        .get("/v1/models", &[("anthropic-version", "2023-06-01")])
        .json();
    assert_eq!(ids(&anthropic, "data", "id"), all);
    assert_eq!(anthropic["data"][0]["type"], "model");
    let names: Vec<String> = all.iter().map(|m| format!("models/{m}")).collect();
    let gemini = gw.get("/v1beta/models", &[]).json();
    assert_eq!(ids(&gemini, "models", "name"), names);
    let gemini_v1 = gw.get("/v1/models?key=anything", &[]).json();
    assert_eq!(ids(&gemini_v1, "models", "name"), names);
    assert!(mock.journal().is_empty());
}

#[test]
fn bad_input_is_refused_in_the_callers_protocol_without_upstream_calls() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, "[]"));
    let r = gw.post(
        "/v1/chat/completions",
        &[JSON],
        b"{\"model\": \"gpt-4o-mini\", ",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert_eq!(r.json()["error"]["code"], "invalid_json");
    let r = gw.post("/v1/messages", &[JSON], b"not json");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["type"], "error");
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    let r = gw.post(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        &[JSON],
        b"[",
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(r.json()["error"]["code"], 400);

    let r = gw.post(
        "/v1/chat/completions",
        &[JSON],
        &chat("no-such-model", false),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": {"message": "unknown model no-such-model", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})
    );
    let r = gw.post("/v1/messages", &[JSON], br#"{"messages":[]}"#);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"]["message"],
        "request body has no `model` field"
    );
    let r = gw.post("/v1beta/models/nope:generateContent", &[JSON], b"{}");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["status"], "NOT_FOUND");

    let r = gw.post("/v2/unknown", &[JSON], b"{}");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/v2/unknown"));

    // Legacy completions have no translator: a model only another protocol serves is refused.
    let r = gw.post(
        "/v1/completions",
        &[JSON],
        br#"{"model":"claude-sonnet-4-5","prompt":"x"}"#,
    );
    assert_eq!(r.status, 501);
    assert_eq!(r.json()["error"]["code"], "unsupported_protocol_pair");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Claude"));
    assert!(mock.journal().is_empty());
}

#[test]
fn body_over_the_limit_gets_413_and_reaches_no_upstream() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "max-body-size: 4KiB\n{}",
        four_accounts(&mock, "[]")
    ));
    let big = json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "x".repeat(5000)}]}).to_string();
    let r = gw.post("/v1/messages", &[JSON], big.as_bytes());
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["type"], "request_too_large");
    // Chunked upload with no Content-Length: refused while reading.
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(big.as_bytes());
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let r = gw.post(
        "/v1/chat/completions",
        &[JSON, ("transfer-encoding", "chunked")],
        &chunked,
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "request_too_large");
    assert!(mock.journal().is_empty());
}

#[test]
fn same_protocol_passes_through_with_only_the_model_changed() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, "[]"));
    // Alias `fast` -> upstream `gpt-4o-mini`: exactly the model bytes change.
    let sent = br#"{ "messages":[{"role":"user","content":"MOCK_REPLY[pong]"}],  "model" :"fast","stream":false}"#;
    let r = gw.post(
        "/v1/chat/completions",
        &[JSON, ("accept-encoding", "gzip")],
        sent,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], "pong");
    let expected = br#"{ "messages":[{"role":"user","content":"MOCK_REPLY[pong]"}],  "model" :"gpt-4o-mini","stream":false}"#;
    let e = &mock.journal()[0];
    assert_eq!(e["path"], "/v1/chat/completions");
    assert_eq!(e["model"], "gpt-4o-mini");
    assert_eq!(e["body_sha256"], sha256_hex(expected));
    assert_eq!(e["headers"]["content-length"], expected.len().to_string());
    assert!(e["headers"].get("accept-encoding").is_none());
    assert_eq!(e["headers"]["host"], mock.addr);

    // Streams arrive as the mock sent them.
    let r = gw.post("/v1/chat/completions", &[JSON], &chat("gpt-4o-mini", true));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let text = r.text();
    assert!(text.contains("\"content\":\"pong\""), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}

#[test]
fn each_provider_gets_its_path_and_credentials() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, r#"["sk-client"]"#));
    let auth = ("authorization", "Bearer sk-client");
    let r = gw.post(
        "/v1/messages?beta=true",
        &[JSON, auth, ("anthropic-beta", "x")],
        &chat("claude-sonnet-4-5", false),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = gw.post(
        "/v1/messages/count_tokens",
        &[JSON, auth],
        &chat("claude-sonnet-4-5", false),
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["input_tokens"].as_u64().unwrap() > 0);
    let r = gw.post(
        "/v1/responses",
        &[JSON, auth],
        br#"{"model":"gpt-5-codex","input":"MOCK_REPLY[ok]"}"#,
    );
    assert_eq!(r.status, 200);
    let r = gw.post(
        "/v1/completions",
        &[JSON, auth],
        br#"{"model":"gpt-4o-mini","prompt":"hi"}"#,
    );
    assert_eq!(r.status, 200);
    let g = br#"{"contents":[{"role":"user","parts":[{"text":"MOCK_REPLY[g]"}]}]}"#;
    let r = gw.post(
        "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=sk-client",
        &[JSON],
        g,
    );
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("data: "), "{}", r.text());
    let r = gw.post(
        "/v1beta/models/gemini-2.5-flash:countTokens",
        &[JSON, ("x-goog-api-key", "sk-client")],
        g,
    );
    assert_eq!(r.status, 200);

    let j = mock.journal();
    let row = |i: usize| (&j[i]["account"], &j[i]["path"], &j[i]["query"]);
    assert_eq!(j.len(), 6);
    assert_eq!(j[0]["headers"]["x-api-key"], "acct-claude");
    assert_eq!(j[0]["headers"]["anthropic-version"], "2023-06-01");
    assert_eq!(j[0]["headers"]["anthropic-beta"], "x");
    assert!(j[0]["headers"].get("authorization").is_none());
    assert_eq!(
        row(0),
        (
            &json!("acct-claude"),
            &json!("/v1/messages"),
            &json!("beta=true")
        )
    );
    assert_eq!(
        row(1),
        (
            &json!("acct-claude"),
            &json!("/v1/messages/count_tokens"),
            &json!("")
        )
    );
    assert_eq!(
        row(2),
        (&json!("acct-codex"), &json!("/v1/responses"), &json!(""))
    );
    assert_eq!(j[2]["headers"]["authorization"], "Bearer acct-codex");
    assert_eq!(
        row(3),
        (&json!("acct-oai"), &json!("/v1/completions"), &json!(""))
    );
    assert_eq!(
        row(4),
        (
            &json!("acct-gemini"),
            &json!("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
            &json!("alt=sse")
        )
    );
    assert_eq!(j[4]["headers"]["x-goog-api-key"], "acct-gemini");
    assert_eq!(
        row(5),
        (
            &json!("acct-gemini"),
            &json!("/v1beta/models/gemini-2.5-flash:countTokens"),
            &json!("")
        )
    );
}

#[test]
fn round_robin_splits_and_fill_first_does_not() {
    let mock = Mock::start();
    let two = |strategy: &str| {
        format!(
            "routing: {{strategy: {strategy}}}\nclaude-api-key:\n  - api-key: a1\n    base-url: {u}\n    models: [{{name: m}}]\n  - api-key: a2\n    base-url: {u}\n    models: [{{name: m}}]\n",
            u = mock.url()
        )
    };
    let gw = Gateway::start(&two("round-robin"));
    for _ in 0..10 {
        assert_eq!(
            gw.post("/v1/messages", &[JSON], &chat("m", false)).status,
            200
        );
    }
    assert_eq!((mock.calls("a1"), mock.calls("a2")), (5, 5));
    drop(gw);
    let before = (mock.calls("a1"), mock.calls("a2"));
    let gw = Gateway::start(&two("fill-first"));
    for _ in 0..4 {
        assert_eq!(
            gw.post("/v1/messages", &[JSON], &chat("m", false)).status,
            200
        );
    }
    assert_eq!(
        (mock.calls("a1") - before.0, mock.calls("a2") - before.1),
        (4, 0)
    );
}

#[test]
fn gemini_stream_without_alt_sse_is_a_json_array_also_when_translated() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, "[]"));
    let g = br#"{"contents":[{"role":"user","parts":[{"text":"MOCK_REPLY[array reply]"}]}]}"#;
    for model in ["gemini-2.5-flash", "claude-sonnet-4-5", "gpt-4o-mini"] {
        let r = gw.post(
            &format!("/v1beta/models/{model}:streamGenerateContent"),
            &[JSON],
            g,
        );
        assert_eq!(r.status, 200, "{model}: {}", r.text());
        let chunks: Vec<Value> = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{model}: not a JSON array ({e}): {}", r.text()));
        let text: String = chunks
            .iter()
            .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
            .collect();
        assert_eq!(text, "array reply", "{model}");
        assert_eq!(
            chunks.last().unwrap()["candidates"][0]["finishReason"],
            "STOP",
            "{model}"
        );
    }
}
