//! Account lists: `openai-compatibility` expansion into one account per key entry, stable ids,
//! defaults per kind, aliases and prefixes.
#![expect(clippy::panic, reason = "a test fails by panicking")]

use std::collections::BTreeMap;

use switchyard_conf::{load_str, ApiKeyAccount, ModelAlias, ProviderKind};

fn accounts(yaml: &str) -> Vec<ApiKeyAccount> {
    match load_str(yaml) {
        Ok(loaded) => loaded.config.accounts,
        Err(problems) => panic!("unexpected problems: {problems:#?}"),
    }
}

#[test]
fn openai_compatibility_expands_one_account_per_key_entry() {
    let yaml = r#"
openai-compatibility:
  - name: local
    base-url: http://127.0.0.1:11434/v1/
  - name: openrouter
    prefix: or
    base-url: https://openrouter.ai/api/v1
    headers: {HTTP-Referer: "https://example.com"}
    api-key-entries:
      - api-key: sk-or-1
        proxy-url: socks5://proxy:1080
      - api-key: sk-or-2
    models:
      - name: moonshotai/kimi-k2:free
        alias: kimi-k2
      - name: deepseek-v3.1
        alias: pool
      - name: glm-5
        alias: pool
  - name: off
    disabled: true
    base-url: https://off.example.com/v1
    api-key-entries: [{api-key: k}]
"#;
    let got = accounts(yaml);
    let summary: Vec<(&str, &str, &str, Option<&str>)> = got
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.provider_name.as_str(),
                a.api_key.expose(),
                a.proxy_url.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("openai-compatibility[0]", "local", "", None),
            (
                "openai-compatibility[1].api-key-entries[0]",
                "openrouter",
                "sk-or-1",
                Some("socks5://proxy:1080")
            ),
            (
                "openai-compatibility[1].api-key-entries[1]",
                "openrouter",
                "sk-or-2",
                None
            ),
        ]
    );
    assert!(got.iter().all(|a| a.kind == ProviderKind::OpenAiCompat));
    assert_eq!(got[0].base_url, "http://127.0.0.1:11434/v1");
    assert!(got[0].models.is_empty());
    for a in &got[1..] {
        assert_eq!(a.base_url, "https://openrouter.ai/api/v1");
        assert_eq!(a.prefix.as_deref(), Some("or"));
        assert_eq!(
            a.headers,
            BTreeMap::from([("HTTP-Referer".into(), "https://example.com".into())])
        );
        assert_eq!(
            a.models,
            [
                ModelAlias {
                    name: "moonshotai/kimi-k2:free".into(),
                    alias: "kimi-k2".into()
                },
                ModelAlias {
                    name: "deepseek-v3.1".into(),
                    alias: "pool".into()
                },
                ModelAlias {
                    name: "glm-5".into(),
                    alias: "pool".into()
                },
            ]
        );
        assert!(a.excluded_models.is_empty());
    }
}

#[test]
fn default_base_urls_per_kind() {
    let got = accounts("gemini-api-key: [{api-key: g}]\nclaude-api-key: [{api-key: c}]\ncodex-api-key: [{api-key: x, base-url: \"\"}]\n");
    let urls: Vec<&str> = got.iter().map(|a| a.base_url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://generativelanguage.googleapis.com",
            "https://api.anthropic.com",
            "https://api.openai.com/v1"
        ]
    );
}

#[test]
fn ids_follow_file_indexes() {
    let got = accounts("claude-api-key:\n  - api-key: a\n  - api-key: b\n  - api-key: c\n");
    let ids: Vec<&str> = got.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "claude-api-key[0]",
            "claude-api-key[1]",
            "claude-api-key[2]"
        ]
    );
    assert_eq!(got[1].api_key.expose(), "b");
}

#[test]
fn keys_are_trimmed_and_prefix_slashes_removed() {
    let got = accounts("codex-api-key:\n  - api-key: \"  sk-1 \"\n    prefix: \"/team/\"\n    models: [{name: gpt-5-codex}]\n");
    assert_eq!(got[0].api_key.expose(), "sk-1");
    assert_eq!(got[0].prefix.as_deref(), Some("team"));
    assert_eq!(
        got[0].models,
        [ModelAlias {
            name: "gpt-5-codex".into(),
            alias: "gpt-5-codex".into()
        }]
    );
}

#[test]
fn bad_prefix_and_disabled_provider_still_validated() {
    let problems: Vec<String> = load_str(
        "claude-api-key: [{api-key: k, prefix: \"a/b\"}]\nopenai-compatibility: [{name: x, disabled: true}]\n",
    )
    .unwrap_err()
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        problems,
        [
            r#"claude-api-key[0].prefix: must not contain "/" or spaces, got "a/b""#,
            "openai-compatibility[0].base-url: required for openai-compatibility providers",
        ]
    );
}
