//! Full CLIProxyAPI configs load with warnings only: a v6.9.25-style `config.yaml`
//! (tests/fixtures/cliproxyapi-v6.yaml: every key of its `config.example.yaml`, commented
//! sections filled in) and the keys HEAD added (tests/fixtures/cliproxyapi-head.yaml).
#![expect(clippy::panic, reason = "a test fails by panicking")]

use std::path::Path;

use switchyard_conf::{load_file, Loaded, ProviderKind, RoutingStrategy};

fn load_fixture(name: &str) -> Loaded {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    match load_file(&path) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("errors: {problems:#?}"),
    }
}

#[test]
fn cliproxyapi_v6_config_loads_with_warnings_only() {
    let loaded = load_fixture("cliproxyapi-v6.yaml");
    let suffix = ": accepted but not supported by Switchyard yet; ignored";
    let warned: Vec<&str> = loaded
        .warnings
        .iter()
        .map(|w| {
            let shown = w.to_string();
            assert!(shown.ends_with(suffix), "{shown}");
            w.path.as_str()
        })
        .collect();
    assert_eq!(
        warned,
        [
            "remote-management.disable-auto-update-panel",
            "remote-management.panel-github-repository",
            "pprof",
            "auth-auto-refresh-workers",
            "quota-exceeded",
            "ws-auth",
            "streaming.bootstrap-retries",
            "antigravity-signature-cache-enabled",
            "antigravity-signature-bypass-strict",
            "codex-api-key[0].websockets",
            "claude-api-key[1].cloak",
            "claude-api-key[1].experimental-cch-signing",
            "claude-header-defaults",
            "codex-header-defaults",
            "openai-compatibility[0].models[0].thinking",
            "vertex-api-key",
            "ampcode",
        ]
    );
    let c = &loaded.config;
    // The OAuth channel keys are read (CLIProxyAPI's `gemini-cli` is our `gemini`).
    let aliases: Vec<(&str, &str, &str, bool)> = c
        .oauth_model_alias
        .iter()
        .flat_map(|(ch, list)| {
            list.iter()
                .map(move |a| (ch.as_str(), a.name.as_str(), a.alias.as_str(), a.fork))
        })
        .collect();
    assert_eq!(
        aliases,
        [
            ("claude", "claude-sonnet-4-5-20250929", "cs4.5", true),
            ("gemini", "gemini-2.5-pro", "g2.5p", false),
        ]
    );
    assert_eq!(c.oauth_excluded_models["gemini"], ["gemini-2.5-pro"]);
    assert_eq!(c.oauth_excluded_models["codex"], ["gpt-5-codex-mini"]);
    assert_eq!(c.port, 8317);
    assert_eq!(c.api_keys.len(), 3);
    assert_eq!(c.request_retry, 3);
    assert_eq!(c.max_retry_interval_secs, 30);
    assert_eq!(c.routing_strategy, RoutingStrategy::RoundRobin);
    let p = &c.payload;
    let lens = [
        p.default.len(),
        p.default_raw.len(),
        p.overrides.len(),
        p.override_raw.len(),
        p.filter.len(),
    ];
    assert_eq!(lens, [1, 1, 1, 1, 1], "every payload rule kind is read");
    let kinds: Vec<(ProviderKind, &str)> =
        c.accounts.iter().map(|a| (a.kind, a.id.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (ProviderKind::Gemini, "gemini-api-key[0]"),
            (ProviderKind::Gemini, "gemini-api-key[1]"),
            (ProviderKind::Claude, "claude-api-key[0]"),
            (ProviderKind::Claude, "claude-api-key[1]"),
            (ProviderKind::Codex, "codex-api-key[0]"),
            (
                ProviderKind::OpenAiCompat,
                "openai-compatibility[0].api-key-entries[0]"
            ),
            (
                ProviderKind::OpenAiCompat,
                "openai-compatibility[0].api-key-entries[1]"
            ),
        ]
    );
}

#[test]
fn cliproxyapi_head_keys_load_with_warnings_only() {
    let loaded = load_fixture("cliproxyapi-head.yaml");
    let warned: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let ignored = |p: &str| format!("{p}: accepted but not supported by Switchyard yet; ignored");
    let mut expected: Vec<String> = [
        "ws-auth",
        "save-cooldown-status",
        "redis-usage-queue-retention-seconds",
        "disable-claude-cloak-mode",
        "disable-image-generation",
        "gpt-image-2-base-model",
        "video-result-auth-cache-ttl",
        "plugins",
        "credential-concurrency",
        "credential-in-flight",
        "claude-code",
    ]
    .map(ignored)
    .to_vec();
    expected.extend(
        [
            "codex",
            "antigravity",
            "xai",
            "gemini-api-key[0].request-scoped-errors",
            "gemini-api-key[0].models[0].display-name",
            "gemini-api-key[0].models[0].max-context-length",
            "gemini-api-key[0].models[0].is-compat",
            "gemini-api-key[0].models[0].thinking",
            "interactions-api-key",
            "codex-api-key[0].alpha-search",
            "codex-api-key[0].models[0].force-mapping",
            "xai-api-key",
            "claude-api-key[0].rebuild-mid-system-message",
            "claude-api-key[0].fingerprint-profile",
            "claude-api-key[0].experimental-cch-signing",
            "claude-header-defaults",
            "openai-compatibility[0].support-prompt-cache-key",
            "openai-compatibility[0].request-scoped-errors",
            "openai-compatibility[0].models[0].image",
            "openai-compatibility[0].models[0].input-modalities",
            "openai-compatibility[0].models[0].output-modalities",
            "oauth-request-scoped-errors",
        ]
        .map(ignored),
    );
    assert_eq!(warned, expected);
    assert_eq!(
        loaded.config.routing_strategy,
        RoutingStrategy::WeightedRoundRobin
    );
    assert_eq!(loaded.config.accounts.len(), 4);
}
