//! Keep-alives while the upstream is silent (`streaming.keepalive-seconds`,
//! `nonstream-keepalive-interval`), written through the patched Pingora proxy loop's idle hook,
//! and failover still working behind a keep-alive. Intervals are 1 s (the unit is seconds); the
//! mock's delays make the upstream silent for 2.5 s.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test keepalive`
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

fn config(mock: &Mock, top: &str, keys: &[&str]) -> String {
    let mut s = format!("routing: {{strategy: fill-first}}\ndisable-cooling: true\n{top}openai-compatibility:\n  - name: m\n    base-url: {}/v1\n    api-key-entries: [", mock.url());
    s.push_str(
        &keys
            .iter()
            .map(|k| format!("{{api-key: {k}}}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    s.push_str("]\n    models: [{name: om}]\n");
    s
}

fn chat(stream: bool) -> Vec<u8> {
    json!({"model": "om", "stream": stream, "messages": [{"role": "user", "content": "MOCK_REPLY[late but fine]"}]})
        .to_string()
        .into_bytes()
}

/// The content of every `data:` line of an SSE body, in order.
fn data_lines(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

/// The text of a Chat stream's content deltas.
fn streamed_text(body: &str) -> String {
    data_lines(body)
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            v["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_silent_stream_gets_sse_comments_and_then_its_events() {
    let mock = Mock::start();
    let gw = Gateway::start(&config(
        &mock,
        "streaming: {keepalive-seconds: 1}\n",
        &["a"],
    ));
    mock.schedule("a", json!([{"delay_ms": 2500}]), json!("ok"));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(true));
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(body.starts_with(": keep-alive\n\n"), "{body:?}");
    let n = body.matches(": keep-alive\n\n").count();
    assert!((1..=3).contains(&n), "{n} keep-alives in {body:?}");
    assert_eq!(streamed_text(&body), "late but fine");
    assert_eq!(data_lines(&body).last().map(String::as_str), Some("[DONE]"));
}

#[test]
fn failover_continues_behind_a_keep_alive() {
    let mock = Mock::start();
    let gw = Gateway::start(&config(
        &mock,
        "streaming: {keepalive-seconds: 1}\n",
        &["a", "b"],
    ));
    // `a` is silent past one keep-alive, then answers 503: the client already has a 200
    // header and a comment, and gets `b`'s stream in the same response.
    mock.schedule("a", json!([{"delay_ms": 1500, "status": 503}]), json!("ok"));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(true));
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(body.starts_with(": keep-alive\n\n"), "{body:?}");
    assert_eq!(streamed_text(&body), "late but fine");
    assert_eq!(data_lines(&body).last().map(String::as_str), Some("[DONE]"));
    assert_eq!((mock.calls("a"), mock.calls("b")), (1, 1));

    // Both fail after the keep-alive: the stream ends with the protocol's error chunk.
    mock.schedule("a", json!([{"delay_ms": 1500, "status": 503}]), json!("ok"));
    mock.schedule("b", json!([{"status": 429}]), json!("ok"));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(true));
    assert_eq!(r.status, 200);
    let last = data_lines(&r.text()).last().cloned().unwrap();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert!(v["error"]["message"].is_string(), "{last}");
}

#[test]
fn a_slow_non_stream_answer_gets_blank_lines_before_its_json() {
    let mock = Mock::start();
    let gw = Gateway::start(&config(&mock, "nonstream-keepalive-interval: 1\n", &["a"]));
    mock.schedule("a", json!([{"delay_ms": 2500}]), json!("ok"));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(false));
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(body.starts_with('\n'), "{body:?}");
    let v: serde_json::Value = serde_json::from_str(body.trim_start()).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "late but fine");
}

#[test]
fn keep_alives_are_off_by_default() {
    let mock = Mock::start();
    let gw = Gateway::start(&config(&mock, "", &["a"]));
    mock.schedule("a", json!([{"delay_ms": 1500}]), json!("ok"));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(true));
    assert!(r.text().starts_with("data: "), "{:?}", r.text());
}
