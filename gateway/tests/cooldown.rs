//! Cooldowns end to end: a failing account is tried once per cooldown window, and when every
//! account is cooling the client gets CLIProxyAPI's 429 `model_cooldown` in its own protocol,
//! or 404 `model_not_found` when every account said it does not serve the model.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test cooldown`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

fn accounts(mock: &Mock, extra: &str) -> String {
    let u = mock.url();
    format!(
        "{extra}claude-api-key:\n  - api-key: bad\n    base-url: {u}\n    models: [{{name: m}}]\n  - api-key: good\n    base-url: {u}\n    models: [{{name: m}}]\n\
         openai-compatibility:\n  - name: o\n    base-url: {u}/v1\n    api-key-entries: [{{api-key: solo}}]\n    models: [{{name: om}}]\n\
         gemini-api-key:\n  - api-key: gsolo\n    base-url: {u}\n    models: [{{name: gm}}]\n"
    )
}

fn msg(stream: bool) -> Vec<u8> {
    json!({"model": "m", "stream": stream, "max_tokens": 5, "messages": [{"role": "user", "content": "MOCK_REPLY[ok]"}]})
        .to_string()
        .into_bytes()
}

#[test]
fn a_quota_limited_account_is_tried_once_per_cooldown_window() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(&mock, ""));
    mock.schedule(
        "bad",
        json!([]),
        json!({"status": 429, "retry_after": "30"}),
    );
    for i in 0..100 {
        let r = gw.post("/v1/messages", &[JSON], &msg(i % 2 == 0));
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
        assert!(r.text().contains("ok"));
    }
    assert_eq!(mock.calls("bad"), 1);
    assert_eq!(mock.calls("good"), 100);
}

#[test]
fn all_accounts_cooling_gives_429_model_cooldown_in_each_protocol() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(&mock, ""));
    for acct in ["bad", "good", "solo", "gsolo"] {
        mock.schedule(
            acct,
            json!([{"status": 429, "retry_after": "120"}]),
            json!("ok"),
        );
    }
    // First: both Claude accounts answer 429; the last answer passes through unchanged.
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"]["type"], "rate_limit_error");
    // Then: nothing is called while they cool.
    let r = gw.post("/v1/messages", &[JSON], &msg(true));
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((118..=120).contains(&retry), "{retry}");
    let b = r.json();
    assert_eq!(b["type"], "error");
    assert_eq!(b["error"]["code"], "model_cooldown");
    assert_eq!(
        b["error"]["message"],
        "All credentials for model m are cooling down"
    );
    assert_eq!(b["error"]["model"], "m");
    assert_eq!(b["error"]["reset_seconds"], retry);
    assert!(b["error"]["reset_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!((mock.calls("bad"), mock.calls("good")), (1, 1));

    let chat = br#"{"model":"om","messages":[{"role":"user","content":"x"}]}"#;
    assert_eq!(gw.post("/v1/chat/completions", &[JSON], chat).status, 429);
    let r = gw.post("/v1/chat/completions", &[JSON], chat);
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"]["code"], "model_cooldown");
    assert_eq!(r.json()["error"]["type"], "rate_limit_error");
    assert_eq!(mock.calls("solo"), 1);

    let g = br#"{"contents":[{"role":"user","parts":[{"text":"x"}]}]}"#;
    assert_eq!(
        gw.post("/v1beta/models/gm:generateContent", &[JSON], g)
            .status,
        429
    );
    let r = gw.post("/v1beta/models/gm:generateContent", &[JSON], g);
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(r.json()["error"]["code"], 429);
    assert_eq!(
        r.json()["error"]["reset_seconds"],
        r.header("retry-after").unwrap().parse::<u64>().unwrap()
    );
    assert_eq!(mock.calls("gsolo"), 1);
}

#[test]
fn a_model_every_account_says_it_lacks_gets_404_model_not_found_not_429() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(&mock, ""));
    let said = "model: m does not exist";
    mock.schedule(
        "bad",
        json!([]),
        json!({"status": 404, "body": {"type": "error", "error": {"type": "not_found_error", "message": said}}}),
    );
    mock.schedule(
        "good",
        json!([]),
        json!({"status": 400, "body": {"type": "error", "error": {"type": "invalid_request_error", "message": "This model is not supported for your account"}}}),
    );
    // The first requests meet both answers, which pass through to the client.
    for _ in 0..2 {
        if mock.calls("bad") > 0 && mock.calls("good") > 0 {
            break;
        }
        let r = gw.post("/v1/messages", &[JSON], &msg(false));
        assert!(matches!(r.status, 400 | 404), "{}", r.text());
    }
    let calls = (mock.calls("bad"), mock.calls("good"));
    assert_eq!(calls, (1, 1));
    // Then, while both are kept off the model, the client is told the model is not served,
    // in the upstream's words, with no Retry-After and no upstream call.
    for stream in [false, true] {
        let r = gw.post("/v1/messages", &[JSON], &msg(stream));
        assert_eq!(r.status, 404, "{}", r.text());
        assert!(r.header("retry-after").is_none());
        let b = r.json();
        assert_eq!(b["error"]["type"], "not_found_error", "{b}");
        let m = b["error"]["message"].as_str().unwrap();
        assert!(m == said || m.contains("is not supported"), "{m}");
    }
    let r = gw.post(
        "/v1/chat/completions",
        &[JSON],
        br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "model_not_found");
    assert_eq!((mock.calls("bad"), mock.calls("good")), calls);

    // A quota cooldown among them keeps the 429: the model exists, it is only busy.
    let gw2 = Gateway::start(&accounts(&mock, ""));
    mock.schedule("bad", json!([]), json!({"status": 404}));
    mock.schedule(
        "good",
        json!([]),
        json!({"status": 429, "retry_after": "60"}),
    );
    let mut last = None;
    for _ in 0..3 {
        let r = gw2.post("/v1/messages", &[JSON], &msg(false));
        if r.status == 429 && r.json()["error"]["code"] == "model_cooldown" {
            last = Some(r);
            break;
        }
    }
    let r = last.expect("a 429 model_cooldown once both accounts cool");
    assert!(r.header("retry-after").is_some());
}

#[test]
fn success_clears_and_short_cooldowns_expire() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(&mock, "transient-error-cooldown-seconds: 1\n"));
    let chat = br#"{"model":"om","messages":[{"role":"user","content":"x"}]}"#;
    mock.schedule("solo", json!([{"status": 503}]), json!("ok"));
    assert_eq!(gw.post("/v1/chat/completions", &[JSON], chat).status, 503);
    assert_eq!(gw.post("/v1/chat/completions", &[JSON], chat).status, 429);
    // Wait for the configured 1 s window to pass by polling the gateway, not by sleeping blind.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let r = gw.post("/v1/chat/completions", &[JSON], chat);
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(std::time::Instant::now() < deadline, "cooldown never ended");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(mock.calls("solo"), 2);
}

#[test]
fn disable_cooling_keeps_trying_the_account() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(&mock, "disable-cooling: true\n"));
    mock.schedule(
        "solo",
        json!([]),
        json!({"status": 429, "retry_after": "60"}),
    );
    let chat = br#"{"model":"om","messages":[{"role":"user","content":"x"}]}"#;
    for _ in 0..3 {
        let r = gw.post("/v1/chat/completions", &[JSON], chat);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("60"));
    }
    assert_eq!(mock.calls("solo"), 3);
}

#[test]
fn a_client_that_disconnects_mid_stream_does_not_cool_the_account() {
    use std::io::{Read, Write};
    let mock = Mock::start_with(&["--chunk-delay-ms", "300"]);
    let gw = Gateway::start(&accounts(&mock, ""));
    let body = br#"{"model":"om","stream":true,"messages":[{"role":"user","content":"MOCK_REPLY[one two three four five six]"}]}"#;
    let mut s = std::net::TcpStream::connect(&gw.addr).unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut first = [0u8; 64];
    let n = s.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    drop(s);
    // The same single account serves the next request: no cooldown was started.
    let chat = br#"{"model":"om","messages":[{"role":"user","content":"MOCK_REPLY[again]"}]}"#;
    let r = gw.post("/v1/chat/completions", &[JSON], chat);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], "again");
    assert_eq!(mock.calls("solo"), 2);
}
