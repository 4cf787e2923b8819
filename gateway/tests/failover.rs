//! Failover and upstream errors: counted upstream calls, statuses and bodies the client sees.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test failover`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

fn two_claude(mock_url: &str, second_url: &str, extra: &str) -> String {
    format!(
        "routing: {{strategy: fill-first}}\n{extra}claude-api-key:\n  - api-key: first\n    base-url: {mock_url}\n    models: [{{name: claude-up, alias: claude}}]\n  - api-key: second\n    base-url: {second_url}\n    models: [{{name: claude-up, alias: claude}}]\n"
    )
}

fn msg(stream: bool) -> Vec<u8> {
    json!({"model": "claude", "stream": stream, "max_tokens": 10, "messages": [{"role": "user", "content": "MOCK_REPLY[fine]"}]})
        .to_string()
        .into_bytes()
}

#[test]
fn a_429_fails_over_invisibly_and_the_last_answer_passes_through() {
    let mock = Mock::start();
    let gw = Gateway::start(&two_claude(&mock.url(), &mock.url(), ""));
    mock.schedule(
        "first",
        json!([{"status": 429, "retry_after": "7"}]),
        json!("ok"),
    );
    for stream in [false, true] {
        let r = gw.post("/v1/messages", &[JSON], &msg(stream));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("fine"));
    }
    // `first` answered 429 once and now cools for its Retry-After (7 s): the second request
    // goes straight to `second`, although the strategy is fill-first.
    assert_eq!((mock.calls("first"), mock.calls("second")), (1, 2));

    // Every account failing: the client sees the last upstream answer unchanged.
    mock.schedule("first", json!([]), json!({"status": 503}));
    mock.schedule("second", json!([]), json!({"status": 429, "retry_after": "9", "body": {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}}));
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("9"));
    assert_eq!(
        r.json(),
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
    );
}

#[test]
fn client_errors_go_back_unchanged_without_trying_another_account() {
    let mock = Mock::start();
    let gw = Gateway::start(&two_claude(&mock.url(), &mock.url(), ""));
    let body = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too big"}});
    mock.schedule("first", json!([{"status": 400, "body": body}]), json!("ok"));
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!((r.status, r.json()), (400, body));
    assert_eq!((mock.calls("first"), mock.calls("second")), (1, 0));
}

#[test]
fn connection_failures_fail_over_and_end_in_a_protocol_shaped_502() {
    let mock = Mock::start();
    let closed = format!("http://127.0.0.1:{}", free_port());
    let gw = Gateway::start(&two_claude(&closed, &mock.url(), ""));
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(mock.calls("second"), 1);
    drop(gw);

    let gw = Gateway::start(&format!(
        "openai-compatibility:\n  - name: dead\n    base-url: {closed}/v1\n    api-key-entries: [{{api-key: k}}]\n    models: [{{name: m}}]\n"
    ));
    let r = gw.post(
        "/v1/chat/completions",
        &[JSON],
        br#"{"model":"m","messages":[]}"#,
    );
    assert_eq!(r.status, 502);
    assert_eq!(
        r.json(),
        json!({"error": {"message": "upstream unreachable", "type": "server_error", "param": null, "code": null}})
    );
}

#[test]
fn a_silent_upstream_times_out_as_504() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "upstream-timeouts: {{connect-seconds: 2, first-byte-seconds: 1, idle-seconds: 1}}\ngemini-api-key:\n  - api-key: g\n    base-url: {}\n    models: [{{name: gm}}]\n",
        mock.url()
    ));
    mock.schedule("g", json!([{"hang": true}]), json!("ok"));
    let r = gw.post(
        "/v1beta/models/gm:generateContent",
        &[JSON],
        br#"{"contents":[]}"#,
    );
    assert_eq!(r.status, 504);
    assert_eq!(r.json()["error"]["status"], "DEADLINE_EXCEEDED");
}

#[test]
fn ten_mib_body_is_routed_delivered_intact_and_replayed_on_failover() {
    let mock = Mock::start();
    let gw = Gateway::start(&two_claude(&mock.url(), &mock.url(), ""));
    mock.schedule(
        "first",
        json!([{"status": 429, "retry_after": "30"}]),
        json!("ok"),
    );
    let filler = "y".repeat(10 * 1024 * 1024);
    let sent = format!(
        r#"{{"model":"claude","max_tokens":5,"messages":[{{"role":"user","content":"MOCK_REPLY[big] {filler}"}}]}}"#
    );
    let expected = sent.replacen(r#""model":"claude""#, r#""model":"claude-up""#, 1);
    let r = gw.post("/v1/messages", &[JSON], sent.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["content"][0]["text"], "big");
    let j = mock.journal();
    assert_eq!(j.len(), 2);
    assert_eq!(
        (&j[0]["account"], &j[0]["outcome"]),
        (&json!("first"), &json!("status:429"))
    );
    assert_eq!(j[1]["account"], "second");
    for e in &j {
        assert_eq!(e["body_len"], expected.len());
        assert_eq!(e["body_sha256"], sha256_hex(expected.as_bytes()));
    }
}

#[test]
fn a_model_not_supported_answer_fails_over_and_cools_that_model_for_12_hours() {
    let mock = Mock::start();
    let gw = Gateway::start(&two_claude(&mock.url(), &mock.url(), ""));
    let body = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "claude-up is not available for your plan"}});
    mock.schedule("first", json!([{"status": 400, "body": body}]), json!("ok"));
    for _ in 0..3 {
        let r = gw.post("/v1/messages", &[JSON], &msg(false));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("fine"));
    }
    // `first` was asked once: its answer moved the request on and cooled it (fill-first would
    // otherwise start every request there).
    assert_eq!((mock.calls("first"), mock.calls("second")), (1, 3));
}

#[test]
fn a_request_scoped_404_goes_back_unchanged_and_cools_nothing() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "routing: {{strategy: fill-first}}\ncodex-api-key:\n  - api-key: first\n    base-url: {u}/v1\n    models: [{{name: up, alias: gpt}}]\n  - api-key: second\n    base-url: {u}/v1\n    models: [{{name: up, alias: gpt}}]\n",
        u = mock.url()
    ));
    let scoped = json!({"error": {"message": "Item with id 'rs_1' not found. Items are not persisted when `store` is set to false.", "type": "invalid_request_error", "param": "input", "code": null}});
    mock.schedule(
        "first",
        json!([{"status": 404, "body": scoped}]),
        json!("ok"),
    );
    let req = br#"{"model":"gpt","input":"MOCK_REPLY[ok]"}"#;
    let r = gw.post("/v1/responses", &[JSON], req);
    assert_eq!((r.status, r.json()), (404, scoped));
    // No cooldown: the next request starts at `first` again and it answers.
    let r = gw.post("/v1/responses", &[JSON], req);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((mock.calls("first"), mock.calls("second")), (2, 0));
}

#[test]
fn content_the_upstream_protocol_cannot_express_is_a_400_in_the_clients_protocol() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "openai-compatibility:\n  - name: m\n    base-url: {}/v1\n    api-key-entries: [{{api-key: k}}]\n    models: [{{name: om}}]\n",
        mock.url()
    ));
    // A PDF by URL: Chat `file` parts take inline data or a file id only.
    let body = json!({"model": "om", "max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        {"type": "text", "text": "summarise"}]}]});
    let r = gw.post("/v1/messages", &[JSON], body.to_string().as_bytes());
    assert_eq!(r.status, 400, "{}", r.text());
    let v = r.json();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be sent"),
        "{v}"
    );
    assert_eq!(mock.calls("k"), 0);
}
