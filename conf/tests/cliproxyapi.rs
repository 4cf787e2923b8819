//! A full CLIProxyAPI v6-style `config.yaml` (tests/fixtures/cliproxyapi-v6.yaml: every key of
//! its `config.example.yaml`, commented sections filled in) loads with warnings only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use switchyard_conf::{load_file, ProviderKind, RoutingStrategy};

#[test]
fn cliproxyapi_v6_config_loads_with_warnings_only() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cliproxyapi-v6.yaml");
    let loaded = match load_file(&path) {
        Ok(loaded) => loaded,
        Err(problems) => panic!("errors: {problems:#?}"),
    };
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
            "remote-management",
            "pprof",
            "commercial-mode",
            "logging-to-file",
            "logs-max-total-size-mb",
            "error-logs-max-files",
            "usage-statistics-enabled",
            "force-model-prefix",
            "passthrough-headers",
            "max-retry-credentials",
            "disable-cooling",
            "auth-auto-refresh-workers",
            "quota-exceeded",
            "ws-auth",
            "enable-gemini-cli-endpoint",
            "nonstream-keepalive-interval",
            "streaming",
            "antigravity-signature-cache-enabled",
            "antigravity-signature-bypass-strict",
            "request-log",
            "gemini-api-key[1].priority",
            "codex-api-key[0].websockets",
            "claude-api-key[1].cloak",
            "claude-api-key[1].experimental-cch-signing",
            "claude-header-defaults",
            "codex-header-defaults",
            "openai-compatibility[0].models[0].thinking",
            "vertex-api-key",
            "ampcode",
            "oauth-model-alias",
            "oauth-excluded-models",
            "payload",
        ]
    );
    let c = &loaded.config;
    assert_eq!(c.port, 8317);
    assert_eq!(c.api_keys.len(), 3);
    assert_eq!(c.request_retry, 3);
    assert_eq!(c.max_retry_interval_secs, 30);
    assert_eq!(c.routing_strategy, RoutingStrategy::RoundRobin);
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
