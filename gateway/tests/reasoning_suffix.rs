//! CLIProxyAPI's model-name reasoning suffix (`model(16384)`, `model(high)`, `model(none)`):
//! the request is routed by the base name and the suffix reaches the upstream body as that
//! protocol's reasoning setting, also when client and upstream speak the same protocol.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test reasoning_suffix`
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::{json, Value};

const JSON: (&str, &str) = ("content-type", "application/json");

fn upstream_body(mock: &Mock) -> Value {
    let j = mock.journal();
    let last = j.last().expect("one upstream call");
    serde_json::from_str(last["body"].as_str().unwrap()).unwrap()
}

#[test]
fn suffix_sets_reasoning_for_each_upstream() {
    let mock = Mock::start();
    let gw = Gateway::start(&four_accounts(&mock, "[]"));
    let msg = |model: &str| {
        json!({"model": model, "max_tokens": 4096, "messages": [{"role": "user", "content": "MOCK_REPLY[ok]"}]}).to_string()
    };

    // Anthropic client, Claude account (same protocol): budget from the suffix, base model upstream.
    let r = gw.post(
        "/v1/messages",
        &[JSON],
        msg("claude-sonnet-4-5(2048)").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = upstream_body(&mock);
    assert_eq!(b["model"], "claude-sonnet-4-5");
    assert_eq!(
        b["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );

    // Anthropic client, OpenAI-compatible account: a level.
    let r = gw.post("/v1/messages", &[JSON], msg("gpt-4o-mini(low)").as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let b = upstream_body(&mock);
    assert_eq!(b["model"], "gpt-4o-mini");
    assert_eq!(b["reasoning_effort"], "low");

    // OpenAI client, Gemini account: a level becomes a thinking budget.
    let chat =
        json!({"model": "gemini-2.5-flash(high)", "messages": [{"role": "user", "content": "x"}]})
            .to_string();
    let r = gw.post("/v1/chat/completions", &[JSON], chat.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let j = mock.journal();
    assert_eq!(
        j.last().unwrap()["path"],
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    let b = upstream_body(&mock);
    assert!(
        b["generationConfig"]["thinkingConfig"]["thinkingBudget"]
            .as_u64()
            .unwrap()
            > 0,
        "{b}"
    );

    // `none` disables thinking.
    let r = gw.post(
        "/v1/messages",
        &[JSON],
        msg("claude-sonnet-4-5(none)").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = upstream_body(&mock);
    assert_ne!(b["thinking"]["type"], "enabled", "{b}");

    // A name that is not a valid suffix is just an unknown model.
    let r = gw.post(
        "/v1/messages",
        &[JSON],
        msg("claude-sonnet-4-5(banana)").as_bytes(),
    );
    assert_eq!(r.status, 400);
}
