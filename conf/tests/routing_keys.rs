//! `payload`, `force-model-prefix`, `passthrough-headers` and `model-fallback` through
//! `load_str`: typed values, defaults, and every mistake reported with its path.
#![expect(clippy::panic, reason = "a test fails by panicking")]

mod common;

use common::{ok, problems};
use switchyard_conf::{ModelFallback, PayloadModelMatch};

const ACCOUNT: &str = "claude-api-key: [{api-key: k, prefix: team, models: [{name: claude-sonnet-4-5, alias: sonnet}]}]\n";

#[test]
fn defaults_are_off_and_empty() {
    let c = ok("").config;
    assert!(!c.force_model_prefix);
    assert!(!c.passthrough_headers);
    assert!(c.payload.is_empty());
    assert!(c.model_fallback.is_empty());
    let c = ok("force-model-prefix: true\npassthrough-headers: true\n").config;
    assert!(c.force_model_prefix && c.passthrough_headers);
}

#[test]
fn payload_rules_are_typed_with_json_values_in_file_order() {
    let loaded = ok(r#"
payload:
  default:
    - models: [{name: "gemini-2.5-pro", protocol: Gemini}]
      params: {"generationConfig.thinkingConfig.thinkingBudget": 32768, "b": {z: 1, a: [x, true, null, 1.5]}}
  default-raw:
    - models: [{name: "*"}]
      params: {"response_format": "{\"type\": \"json_object\"}", "n": 3}
  override:
    - models: [{name: "gpt-*", protocol: codex, from-protocol: responses}]
      params: {"reasoning.effort": "high"}
  override-raw:
    - models: [{name: "gpt-*", headers: {x-a: "*"}}]
      params: {"x": "[1, 2]"}
  filter:
    - models: [{name: "*"}]
      params: ["generationConfig.thinkingConfig.thinkingBudget", "metadata"]
"#);
    let p = &loaded.config.payload;
    assert_eq!(
        p.default[0].models,
        [PayloadModelMatch {
            name: "gemini-2.5-pro".into(),
            protocol: Some("gemini".into()),
            from_protocol: None,
            never: false
        }]
    );
    assert_eq!(
        p.default[0].params,
        [
            (
                "generationConfig.thinkingConfig.thinkingBudget".into(),
                "32768".into()
            ),
            ("b".into(), r#"{"z":1,"a":["x",true,null,1.5]}"#.into())
        ]
    );
    assert_eq!(
        p.default_raw[0].params,
        [
            (
                "response_format".into(),
                r#"{"type": "json_object"}"#.into()
            ),
            ("n".into(), "3".into())
        ]
    );
    assert_eq!(
        p.overrides[0].params,
        [("reasoning.effort".into(), r#""high""#.into())]
    );
    assert_eq!(
        p.overrides[0].models[0].from_protocol.as_deref(),
        Some("responses")
    );
    assert!(
        p.override_raw[0].models[0].never,
        "an unevaluated HEAD condition never matches"
    );
    assert_eq!(
        p.filter[0].paths,
        ["generationConfig.thinkingConfig.thinkingBudget", "metadata"]
    );
    let warned: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warned,
        ["payload.override-raw[0].models[0].headers: condition not evaluated by Switchyard yet: this models entry never matches"]
    );
}

#[test]
fn payload_mistakes_are_reported_with_paths() {
    assert_eq!(
        problems(
            r#"
payload:
  override-raw:
    - models: [{name: "*"}]
      params: {"a": "{not json"}
  override:
    - models: [{name: "*", protocol: grpc}]
      params: {"a": 1}
    - params: {"a": 1}
  filter:
    - models: [{protocol: gemini}]
      params: ["a", 3]
  defualt: []
"#
        ),
        [
            "payload.override-raw[0].params.a: not valid JSON (key must be a string at line 1 column 2); -raw values are JSON text",
            r#"payload.override[0].models[0].protocol: expected one of openai, gemini, claude, codex, antigravity, got "grpc""#,
            "payload.override[1].models: a rule needs at least one models entry",
            "payload.filter[0].models[0].name: required: a model name or wildcard",
            "payload.filter[0].models: a rule needs at least one models entry",
            "payload.defualt: unknown key; did you mean default?",
        ]
    );
}

#[test]
fn model_fallback_targets_must_be_served() {
    let c = ok(&format!(
        "{ACCOUNT}model-fallback:\n  - {{from: \"claude-haiku-*\", to: sonnet}}\n  - {{from: \"*\", to: team/sonnet}}\n"
    ))
    .config;
    assert_eq!(
        c.model_fallback,
        [
            ModelFallback {
                from: "claude-haiku-*".into(),
                to: "sonnet".into()
            },
            ModelFallback {
                from: "*".into(),
                to: "team/sonnet".into()
            }
        ]
    );
    assert_eq!(
        problems(&format!(
            "{ACCOUNT}force-model-prefix: true\nmodel-fallback:\n  - {{from: \"a*\", to: sonnet}}\n  - {{from: b, to: \"x*\"}}\n  - {{to: team/sonnet}}\n"
        )),
        [
            "model-fallback[1].to: must name one model, not a wildcard (\"x*\")",
            "model-fallback[2].from: required key is missing",
        ]
    );
    // A target no configured account serves is a warning: an auth-dir (OAuth) account may
    // serve it, as with a config that has no accounts at all.
    for config in [
        format!(
            "{ACCOUNT}force-model-prefix: true\nmodel-fallback: [{{from: \"a*\", to: sonnet}}]\n"
        ),
        "model-fallback: [{from: \"*\", to: gpt-5-codex}]\n".to_owned(),
    ] {
        let warned: Vec<String> = ok(&config)
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0].starts_with("model-fallback[0].to: no account in this file serves"),
            "{warned:?}"
        );
    }
}
