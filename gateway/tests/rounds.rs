//! Retry rounds (`request-retry`, `max-retry-interval`, per-account `request-retry`), the
//! per-round cap `max-retry-credentials`, and session affinity, by exact upstream call counts.
//! Waits are made short with `Retry-After: 1`; nothing sleeps to synchronise.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test rounds`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

fn accounts(mock: &Mock, keys: &[&str], top: &str, per_account: &str) -> String {
    let mut s = format!("routing: {{strategy: fill-first}}\n{top}claude-api-key:\n");
    for k in keys {
        s.push_str(&format!(
            "  - api-key: {k}\n    base-url: {}\n    models: [{{name: up, alias: claude}}]\n{per_account}",
            mock.url()
        ));
    }
    s
}

fn msg(stream: bool) -> Vec<u8> {
    json!({"model": "claude", "stream": stream, "max_tokens": 10, "messages": [{"role": "user", "content": "MOCK_REPLY[fine]"}]})
        .to_string()
        .into_bytes()
}

#[test]
fn a_second_round_waits_for_retry_after_and_then_succeeds() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(
        &mock,
        &["a", "b"],
        "request-retry: 1\nmax-retry-interval: 5\n",
        "",
    ));
    // Both answer 429 with Retry-After: 1 once, then succeed: round 1 fails on both, the
    // gateway waits ~1 s for the nearest account and round 2 succeeds on `a`.
    for k in ["a", "b"] {
        mock.schedule(k, json!([{"status": 429, "retry_after": "1"}]), json!("ok"));
    }
    for stream in [false, true] {
        let r = gw.post("/v1/messages", &[JSON], &msg(stream));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("fine"));
        if !stream {
            assert_eq!((mock.calls("a"), mock.calls("b")), (2, 1));
        }
    }
}

#[test]
fn no_second_round_when_the_wait_exceeds_max_retry_interval_or_retry_is_off() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(
        &mock,
        &["a", "b"],
        "request-retry: 3\nmax-retry-interval: 1\n",
        "",
    ));
    for k in ["a", "b"] {
        mock.schedule(
            k,
            json!([{"status": 429, "retry_after": "30"}]),
            json!("ok"),
        );
    }
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!((mock.calls("a"), mock.calls("b")), (1, 1));
    drop(gw);

    // request-retry 0 (the default): one round only, even with disable-cooling (no wait).
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(
        &mock,
        &["a", "b"],
        "max-retry-interval: 30\ndisable-cooling: true\n",
        "",
    ));
    for k in ["a", "b"] {
        mock.schedule(k, json!([{"status": 503}]), json!("ok"));
    }
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 503);
    assert_eq!((mock.calls("a"), mock.calls("b")), (1, 1));
}

#[test]
fn rounds_admit_only_accounts_whose_request_retry_reaches_them() {
    let mock = Mock::start();
    // Global request-retry 2, but `b` overrides it with 0: rounds 2 and 3 try `a` only.
    let cfg = format!(
        "routing: {{strategy: fill-first}}\nrequest-retry: 2\nmax-retry-interval: 5\ndisable-cooling: true\nclaude-api-key:\n  - api-key: a\n    base-url: {u}\n    models: [{{name: up, alias: claude}}]\n  - api-key: b\n    base-url: {u}\n    request-retry: 0\n    models: [{{name: up, alias: claude}}]\n",
        u = mock.url()
    );
    let gw = Gateway::start(&cfg);
    mock.schedule("a", json!([]), json!({"status": 503}));
    mock.schedule("b", json!([]), json!({"status": 503}));
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 503);
    assert_eq!((mock.calls("a"), mock.calls("b")), (3, 1));
}

#[test]
fn max_retry_credentials_caps_the_accounts_of_a_round() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(
        &mock,
        &["a", "b", "c"],
        "max-retry-credentials: 2\ndisable-cooling: true\n",
        "",
    ));
    for k in ["a", "b"] {
        mock.schedule(k, json!([]), json!({"status": 503}));
    }
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 503);
    assert_eq!(
        (mock.calls("a"), mock.calls("b"), mock.calls("c")),
        (1, 1, 0)
    );
}

#[test]
fn every_account_cooling_waits_for_a_retry_round_within_max_retry_interval() {
    let mock = Mock::start();
    let gw = Gateway::start(&accounts(
        &mock,
        &["a"],
        "request-retry: 1\nmax-retry-interval: 5\n",
        "",
    ));
    mock.schedule(
        "a",
        json!([{"status": 429, "retry_after": "1"}]),
        json!("ok"),
    );
    // First request: 429, `a` cools for 1 s; no account left in round 1, round 2 waits 1 s.
    let r = gw.post("/v1/messages", &[JSON], &msg(false));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(mock.calls("a"), 2);
}

fn session_msg(session: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    (
        vec![("x-claude-code-session-id", session.to_owned())],
        msg(false),
    )
}

#[test]
fn session_affinity_keeps_a_session_on_one_account_and_moves_it_on_failure() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "routing: {{strategy: round-robin, session-affinity: true, session-affinity-ttl: 1h}}\ndisable-cooling: true\nclaude-api-key:\n  - api-key: a\n    base-url: {u}\n    models: [{{name: up, alias: claude}}]\n  - api-key: b\n    base-url: {u}\n    models: [{{name: up, alias: claude}}]\n  - api-key: c\n    base-url: {u}\n    models: [{{name: up, alias: claude}}]\n",
        u = mock.url()
    ));
    let send = |session: &str| {
        let (h, body) = session_msg(session);
        let headers: Vec<(&str, &str)> = vec![JSON, (h[0].0, h[0].1.as_str())];
        let before: Vec<usize> = ["a", "b", "c"].iter().map(|k| mock.calls(k)).collect();
        let r = gw.post("/v1/messages", &headers, &body);
        assert_eq!(r.status, 200, "{}", r.text());
        let after: Vec<usize> = ["a", "b", "c"].iter().map(|k| mock.calls(k)).collect();
        let served: Vec<&str> = ["a", "b", "c"]
            .iter()
            .zip(before.iter().zip(&after))
            .filter(|(_, (b, a))| a > b)
            .map(|(k, _)| *k)
            .collect();
        served
    };
    // Round-robin would rotate; the session sticks to its first account.
    let first = send("s-1");
    assert_eq!(first.len(), 1);
    let home = first[0];
    for _ in 0..6 {
        assert_eq!(send("s-1"), vec![home]);
    }
    // Another session is not pinned to the same account by s-1's binding.
    let other: Vec<&str> = (0..3).flat_map(|i| send(&format!("t-{i}"))).collect();
    assert!(other.iter().any(|k| *k != home), "{other:?}");

    // The home account fails once: the request fails over and the session moves for good.
    mock.schedule(home, json!([{"status": 503}]), json!("ok"));
    let moved = send("s-1");
    assert_eq!(moved.len(), 2, "{moved:?}");
    let new_home = *moved.iter().find(|k| **k != home).unwrap();
    for _ in 0..4 {
        assert_eq!(send("s-1"), vec![new_home]);
    }
}

#[test]
fn session_affinity_uses_prompt_cache_key_from_the_body() {
    let mock = Mock::start();
    let gw = Gateway::start(&format!(
        "routing: {{strategy: round-robin, session-affinity: true}}\ncodex-api-key:\n  - api-key: a\n    base-url: {u}/v1\n    models: [{{name: up, alias: gpt}}]\n  - api-key: b\n    base-url: {u}/v1\n    models: [{{name: up, alias: gpt}}]\n",
        u = mock.url()
    ));
    let body =
        json!({"model": "gpt", "input": "MOCK_REPLY[ok]", "prompt_cache_key": "pck-1"}).to_string();
    for _ in 0..5 {
        let r = gw.post("/v1/responses", &[JSON], body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let (a, b) = (mock.calls("a"), mock.calls("b"));
    assert!((a, b) == (5, 0) || (a, b) == (0, 5), "{a} {b}");
}
