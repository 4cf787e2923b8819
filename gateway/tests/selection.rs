//! Account selection end to end: priority groups and weighted round-robin over real requests.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test selection`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn weights_hold_within_five_percent_over_1000_requests_and_priority_wins() {
    let mock = Mock::start();
    let u = mock.url();
    let gw = Gateway::start(&format!(
        "routing: {{strategy: weighted-round-robin}}\nopenai-compatibility:\n  - name: main\n    base-url: {u}/v1\n    priority: 1\n    api-key-entries: [{{api-key: w3, weight: 3}}, {{api-key: w1, weight: 1}}]\n    models: [{{name: m}}]\n  - name: backup\n    base-url: {u}/v1\n    api-key-entries: [{{api-key: low}}]\n    models: [{{name: m}}]\n"
    ));
    let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    for _ in 0..1000 {
        assert_eq!(gw.post("/v1/chat/completions", &[JSON], body).status, 200);
    }
    let (w3, w1, low) = (mock.calls("w3"), mock.calls("w1"), mock.calls("low"));
    assert_eq!(
        low, 0,
        "a lower-priority account is only used when the higher group fails"
    );
    assert!(
        (700..=800).contains(&w3) && w3 + w1 == 1000,
        "w3={w3} w1={w1}"
    );

    // When the whole higher group fails, the lower-priority account serves.
    mock.schedule("w3", json!([]), json!({"status": 500}));
    mock.schedule("w1", json!([]), json!({"status": 500}));
    assert_eq!(gw.post("/v1/chat/completions", &[JSON], body).status, 200);
    assert_eq!(mock.calls("low"), 1);
}
