//! `upstream-timeouts`: `first-byte-seconds` bounds the wait for the response header (and fails
//! over), `idle-seconds` bounds each silence inside the body, and an established stream has no
//! other deadline. Short configured values (1–3 s) and the mock's delays, no sleeps.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test timeouts`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

fn config(mock: &Mock, timeouts: &str, keys: &[&str]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("{{api-key: {k}}}")).collect();
    format!(
        "routing: {{strategy: fill-first}}\ndisable-cooling: true\nupstream-timeouts: {{{timeouts}}}\nopenai-compatibility:\n  - name: m\n    base-url: {}/v1\n    api-key-entries: [{}]\n    models: [{{name: om}}]\n",
        mock.url(),
        keys.join(", ")
    )
}

fn chat(stream: bool, reply: &str) -> Vec<u8> {
    json!({"model": "om", "stream": stream, "messages": [{"role": "user", "content": format!("MOCK_REPLY[{reply}]")}]})
        .to_string()
        .into_bytes()
}

fn content(body: &str) -> String {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_slow_first_byte_fails_over_to_the_next_account() {
    let mock = Mock::start();
    let gw = Gateway::start(&config(
        &mock,
        "first-byte-seconds: 1, idle-seconds: 30",
        &["slow", "fast"],
    ));
    mock.schedule("slow", json!([{"delay_ms": 3000}]), json!("ok"));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(false, "from fast"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], "from fast");
    assert_eq!((mock.calls("slow"), mock.calls("fast")), (1, 1));
}

#[test]
fn a_stream_longer_than_every_timeout_completes_while_it_keeps_talking() {
    // 12 chunks 400 ms apart: ~5 s in all, past both the 1 s first-byte and 2 s idle bounds.
    let mock = Mock::start_with(&["--chunk-delay-ms", "400"]);
    let gw = Gateway::start(&config(
        &mock,
        "first-byte-seconds: 1, idle-seconds: 2",
        &["a"],
    ));
    let words: Vec<String> = (0..12).map(|i| format!("w{i}")).collect();
    let reply = words.join(" ");
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(true, &reply));
    assert_eq!(r.status, 200);
    assert_eq!(content(&r.text()), reply);
    assert!(
        r.text().trim_end().ends_with("data: [DONE]"),
        "{}",
        r.text()
    );
}

#[test]
fn a_silence_longer_than_idle_seconds_ends_the_stream_with_an_error_event() {
    // The header comes at once; then the first chunk takes 2.5 s: longer than idle-seconds (1)
    // but shorter than first-byte-seconds (10), which no longer applies.
    let mock = Mock::start_with(&["--chunk-delay-ms", "2500"]);
    let gw = Gateway::start(&config(
        &mock,
        "first-byte-seconds: 10, idle-seconds: 1",
        &["a", "b"],
    ));
    let r = gw.post("/v1/chat/completions", &[JSON], &chat(true, "never whole"));
    let body = r.text();
    let last = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .next_back()
        .unwrap_or_default()
        .to_owned();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap_or_default();
    assert!(v["error"]["message"].is_string(), "{body:?}");
    assert_ne!(content(&body), "never whole");
}
