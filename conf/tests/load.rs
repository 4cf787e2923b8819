//! `load_str` end to end: defaults, every supported key, problem collection, warnings and
//! suggestions. Messages are compared exactly: they are the user interface of the config file.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{ok, problems};
use switchyard_conf::{
    ApiKeyAccount, ClientTimeouts, Config, ModelAlias, ProviderKind, RoutingStrategy, Secret,
    SharedStateConfig, TlsConfig, UpstreamTimeouts,
};

fn warnings(yaml: &str) -> Vec<String> {
    ok(yaml).warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn empty_file_gives_documented_defaults() {
    let loaded = ok("# nothing set\n");
    assert!(loaded.warnings.is_empty());
    let c = loaded.config;
    assert_eq!(c, Config::default());
    assert_eq!(c.host, "");
    assert_eq!(c.port, 8317);
    assert_eq!(c.tls, TlsConfig::default());
    assert!(c.api_keys.is_empty());
    assert_eq!(c.auth_dir, "~/.cli-proxy-api");
    assert!(!c.debug);
    assert_eq!(c.request_retry, 0);
    assert_eq!(c.max_retry_interval_secs, 0);
    assert_eq!(c.routing_strategy, RoutingStrategy::RoundRobin);
    assert_eq!(c.proxy_url, None);
    assert!(c.accounts.is_empty());
    assert_eq!(c.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(c.workers, None);
    assert_eq!(
        c.upstream_timeouts,
        UpstreamTimeouts {
            connect_secs: 10,
            first_byte_secs: 300,
            idle_secs: 600
        }
    );
    assert_eq!(c.shutdown_grace_secs, 5);
}
#[test]
fn empty_values_mean_defaults() {
    let c =
        ok("host:\nport:\nauth-dir: \"\"\nproxy-url: \"\"\nrouting:\n  strategy: \"\"\n").config;
    assert_eq!(c, Config::default());
}

#[test]
fn yaml_1_1_booleans_where_a_boolean_is_expected() {
    // Go's yaml.v3 (CLIProxyAPI) accepts them for bool fields; elsewhere they stay strings.
    assert!(ok("debug: yes\n").config.debug);
    assert!(!ok("debug: off\n").config.debug);
    assert_eq!(ok("host: on\n").config.host, "on");
}

/// Two files in the temp dir that stand in for a TLS certificate and key.
fn tls_files() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("switchyard-conf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, "cert").unwrap();
    std::fs::write(&key, "key").unwrap();
    (cert, key)
}
#[test]
fn every_supported_key() {
    let (cert, key) = tls_files();
    let yaml = format!(
        r#"
host: 127.0.0.1
port: 9000
tls:
  enable: true
  cert: {cert:?}
  key: {key:?}
api-keys: ["client-1", "client-2"]
auth-dir: /var/lib/switchyard/auth
debug: true
request-retry: 3
max-retry-interval: 30
max-retry-credentials: 2
routing:
  strategy: fill-first
  session-affinity: true
  session-affinity-ttl: 30m
streaming:
  keepalive-seconds: 15
nonstream-keepalive-interval: 20
proxy-url: socks5://proxy.internal:1080
gemini-api-key:
  - api-key: g-key
claude-api-key:
  - api-key: c-key
    base-url: https://claude.example.com/
    prefix: /team/
    headers:
      X-Custom: v
    proxy-url: direct
    models:
      - name: claude-sonnet-4-5-20250929
        alias: sonnet
      - name: claude-haiku-4-5
        alias: ""
    excluded-models: ["claude-3-*", "*-thinking"]
codex-api-key:
  - api-key: x-key
    proxy-url: none
    request-retry: 1
openai-compatibility:
  - name: local
    base-url: http://127.0.0.1:11434/v1
max-body-size: 64MiB
max-concurrent-requests: 100
max-connections: 500
max-in-flight-memory: 2GiB
client-timeouts:
  header-seconds: 10
  body-seconds: 60
  write-seconds: 30
workers: 4
upstream-timeouts:
  connect-seconds: 5
  first-byte-seconds: 60
  idle-seconds: 120
shutdown-grace-seconds: 10
shared-state:
  redis-url: redis://redis.internal:6379/1
  key-prefix: "team:"
  write-queue: 500
  flush-interval-ms: 200
  timeout-ms: 700
  auth-store: true
"#,
        cert = cert.display().to_string(),
        key = key.display().to_string(),
    );
    let loaded = ok(&yaml);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let account = |kind, id: &str, key: &str, base: &str| ApiKeyAccount {
        kind,
        id: id.into(),
        provider_name: String::new(),
        api_key: Secret::new(key),
        base_url: base.into(),
        prefix: None,
        headers: BTreeMap::new(),
        proxy_url: None,
        models: vec![],
        excluded_models: vec![],
        disable_cooling: false,
        priority: 0,
        weight: 1,
        request_retry: None,
    };
    let expected = Config {
        host: "127.0.0.1".into(),
        port: 9000,
        tls: TlsConfig {
            enable: true,
            cert: cert.display().to_string(),
            key: key.display().to_string(),
        },
        api_keys: vec![Secret::new("client-1"), Secret::new("client-2")],
        auth_dir: "/var/lib/switchyard/auth".into(),
        debug: true,
        request_retry: 3,
        max_retry_interval_secs: 30,
        max_retry_credentials: 2,
        routing_strategy: RoutingStrategy::FillFirst,
        session_affinity: true,
        session_affinity_ttl_secs: 1800,
        stream_keepalive_secs: 15,
        nonstream_keepalive_secs: 20,
        disable_cooling: false,
        transient_cooldown_secs: Some(60),
        force_model_prefix: false,
        enable_gemini_cli_endpoint: false,
        passthrough_headers: false,
        payload: Default::default(),
        model_fallback: vec![],
        oauth_overrides: BTreeMap::new(),
        model_catalog: None,
        oauth_model_alias: BTreeMap::new(),
        oauth_excluded_models: BTreeMap::new(),
        metrics: Default::default(),
        shared_state: Some(SharedStateConfig {
            redis_url: Secret::new("redis://redis.internal:6379/1"),
            key_prefix: "team:".into(),
            write_queue: 500,
            flush_interval_ms: 200,
            timeout_ms: 700,
            auth_store: true,
        }),
        server_timing: true,
        commercial_mode: false,
        log_format: Default::default(),
        logging_to_file: false,
        logs_dir: None,
        logs_max_total_size_mb: 0,
        request_log: false,
        error_logs_max_files: 10,
        usage_statistics_enabled: false,
        usage_statistics_file: None,
        remote_management: Default::default(),
        proxy_url: Some("socks5://proxy.internal:1080".into()),
        accounts: vec![
            account(
                ProviderKind::Gemini,
                "gemini-api-key[0]",
                "g-key",
                "https://generativelanguage.googleapis.com",
            ),
            ApiKeyAccount {
                prefix: Some("team".into()),
                headers: BTreeMap::from([("X-Custom".into(), "v".into())]),
                proxy_url: Some("direct".into()),
                models: vec![
                    ModelAlias {
                        name: "claude-sonnet-4-5-20250929".into(),
                        alias: "sonnet".into(),
                    },
                    ModelAlias {
                        name: "claude-haiku-4-5".into(),
                        alias: "claude-haiku-4-5".into(),
                    },
                ],
                excluded_models: vec!["claude-3-*".into(), "*-thinking".into()],
                ..account(
                    ProviderKind::Claude,
                    "claude-api-key[0]",
                    "c-key",
                    "https://claude.example.com",
                )
            },
            ApiKeyAccount {
                proxy_url: Some("none".into()),
                request_retry: Some(1),
                ..account(
                    ProviderKind::Codex,
                    "codex-api-key[0]",
                    "x-key",
                    "https://api.openai.com/v1",
                )
            },
            ApiKeyAccount {
                provider_name: "local".into(),
                ..account(
                    ProviderKind::OpenAiCompat,
                    "openai-compatibility[0]",
                    "",
                    "http://127.0.0.1:11434/v1",
                )
            },
        ],
        max_body_bytes: 64 * 1024 * 1024,
        max_concurrent_requests: 100,
        max_connections: 500,
        max_in_flight_memory: 2 << 30,
        client_timeouts: ClientTimeouts {
            header_secs: 10,
            body_secs: 60,
            write_secs: 30,
        },
        workers: Some(4),
        upstream_timeouts: UpstreamTimeouts {
            connect_secs: 5,
            first_byte_secs: 60,
            idle_secs: 120,
        },
        shutdown_grace_secs: 10,
    };
    assert_eq!(loaded.config, expected);
}
#[test]
fn accounts_are_ordered_by_kind_whatever_the_file_order() {
    let c = ok("codex-api-key: [{api-key: x}]\nclaude-api-key: [{api-key: c}]\ngemini-api-key: [{api-key: g}]\n")
        .config;
    let ids: Vec<&str> = c.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        ["gemini-api-key[0]", "claude-api-key[0]", "codex-api-key[0]"]
    );
}
#[test]
fn three_mistakes_give_exactly_three_problems_in_file_order() {
    let yaml = r#"
port: abc
claude-api-key:
  - api-key: sk-real
    api_kye: sk-typo
proxy-url: ftp://proxy.example.com
"#;
    assert_eq!(
        problems(yaml),
        [
            r#"port: expected an integer 1-65535, got "abc""#,
            "claude-api-key[0].api_kye: unknown key; did you mean api-key?",
            r#"proxy-url: expected an http, https, socks5 or socks5h URL, or direct or none (scheme "ftp" is not supported)"#,
        ]
    );
}
#[test]
fn problems_across_sections_are_all_reported() {
    let yaml = r#"
prot: 8317
tls: {enable: maybe}
debug: 1
request-retry: -1
routing: {strategy: random}
workers: 0
max-body-size: 2GiB
upstream-timeouts: {connect-seconds: 0}
shutdown-grace-seconds: "5"
gemini-api-key:
  - {api-key: ""}
  - base-url: generativelanguage.googleapis.com
codex-api-key: {api-key: x}
openai-compatibility:
  - api-key-entries: [{api-key: k, proxy-url: "socks5://u:pw@"}]
    models: [{alias: a}]
    headers: {"Bad Name": x, X-Ok: 1}
"#;
    assert_eq!(
        problems(yaml),
        [
            "prot: unknown key; did you mean port?",
            r#"tls.enable: expected true or false, got "maybe""#,
            "debug: expected true or false, got 1",
            "request-retry: expected an integer >= 0, got -1",
            r#"routing.strategy: expected round-robin, fill-first or weighted-round-robin, got "random""#,
            "workers: expected an integer 1-256, got 0",
            r#"max-body-size: must be between 1KiB and 1GiB, got "2GiB""#,
            "upstream-timeouts.connect-seconds: expected an integer >= 1, got 0",
            r#"shutdown-grace-seconds: expected an integer >= 0, got "5""#,
            "gemini-api-key[0].api-key: must not be empty",
            r#"gemini-api-key[1].base-url: expected an absolute http(s) URL, got "generativelanguage.googleapis.com" (missing scheme, like https://)"#,
            "gemini-api-key[1].api-key: required key is missing",
            "codex-api-key: expected a list, got a mapping",
            "openai-compatibility[0].api-key-entries[0].proxy-url: expected an http, https, socks5 or socks5h URL, or direct or none (missing host)",
            "openai-compatibility[0].models[0].name: required key is missing",
            "openai-compatibility[0].headers.Bad Name: not a valid HTTP header name",
            "openai-compatibility[0].headers.X-Ok: expected a string, got an integer",
            "openai-compatibility[0].name: required key is missing",
            "openai-compatibility[0].base-url: required for openai-compatibility providers",
        ]
    );
}
#[test]
fn known_but_unsupported_keys_warn_once_per_occurrence() {
    let yaml = r#"
remote-management:
  allow-remote: false
  secret-key: ""
commercial-mode: false
routing:
  strategy: round-robin
  session-affinity-subagents: true
streaming:
  bootstrap-retries: 1
claude-api-key:
  - api-key: a
    priority: 1
    cloak: {mode: auto}
  - api-key: b
    priority: 2
    models: [{name: m, thinking: {levels: [low]}}]
openai-compatibility:
  - name: p
    base-url: https://p.example.com/v1
    support-prompt-cache-key: true
    api-key-entries: [{api-key: k, weight: 3}]
"#;
    let suffix = ": accepted but not supported by Switchyard yet; ignored";
    let expected: Vec<String> = [
        "routing.session-affinity-subagents",
        "streaming.bootstrap-retries",
        "claude-api-key[0].cloak",
        "claude-api-key[1].models[0].thinking",
        "openai-compatibility[0].support-prompt-cache-key",
    ]
    .iter()
    .map(|p| format!("{p}{suffix}"))
    .collect();
    assert_eq!(warnings(yaml), expected);
    assert_eq!(
        warnings("remote-management:\n  secret-key: x\n  disable-control-panel: true\n  disable-auto-update-panel: true\n"),
        ["remote-management.disable-auto-update-panel: accepted but not supported by Switchyard yet; ignored"]
    );
}
#[test]
fn weighted_round_robin_priority_and_weight() {
    let loaded = ok("routing:\n  strategy: wrr\nclaude-api-key:\n  - api-key: a\n    priority: 5\n    weight: 3\n  - api-key: b\n    weight: -2\nopenai-compatibility:\n  - name: o\n    base-url: http://h/v1\n    priority: -1\n    api-key-entries:\n      - {api-key: k1, weight: 7}\n      - {api-key: k2}\n");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        loaded.config.routing_strategy,
        RoutingStrategy::WeightedRoundRobin
    );
    let pw: Vec<(i64, u32)> = loaded
        .config
        .accounts
        .iter()
        .map(|a| (a.priority, a.weight))
        .collect();
    assert_eq!(pw, [(5, 3), (0, 0), (-1, 7), (-1, 1)]);
    let errs = switchyard_conf::load_str("claude-api-key:\n  - api-key: a\n    weight: 2000000\n")
        .unwrap_err();
    assert_eq!(errs[0].path, "claude-api-key[0].weight");
    assert_eq!(
        ok("routing: {strategy: FF}").config.routing_strategy,
        RoutingStrategy::FillFirst
    );
}
#[test]
fn unknown_keys_with_and_without_suggestion() {
    assert_eq!(
        problems("claude-api-key:\n  - api_kye: sk-1\n"),
        [
            "claude-api-key[0].api_kye: unknown key; did you mean api-key?",
            "claude-api-key[0].api-key: required key is missing",
        ]
    );
    assert_eq!(
        problems("flux-capacitor: 1\n"),
        ["flux-capacitor: unknown key"]
    );
    assert_eq!(
        problems("remote-managment: {}\n"),
        ["remote-managment: unknown key; did you mean remote-management?"]
    );
    assert_eq!(
        problems("tls: {enabled: true}\n"),
        ["tls.enabled: unknown key; did you mean enable?"]
    );
    // `cloak` is a Claude-only key: under gemini it is unknown, not merely unsupported.
    assert_eq!(
        problems("gemini-api-key: [{api-key: k, cloak: {}}]\n"),
        ["gemini-api-key[0].cloak: unknown key"]
    );
}

#[test]
fn cooling_keys() {
    let loaded = ok("disable-cooling: true\ntransient-error-cooldown-seconds: -1\nclaude-api-key:\n  - api-key: k\n    disable-cooling: true\nopenai-compatibility:\n  - name: x\n    base-url: http://h/v1\n    disable-cooling: yes\n");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.config.disable_cooling);
    assert_eq!(loaded.config.transient_cooldown_secs, None);
    assert!(loaded.config.accounts.iter().all(|a| a.disable_cooling));
    assert_eq!(
        ok("transient-error-cooldown-seconds: 0\n")
            .config
            .transient_cooldown_secs,
        Some(60)
    );
    assert_eq!(
        ok("transient-error-cooldown-seconds: 5\n")
            .config
            .transient_cooldown_secs,
        Some(5)
    );
    assert_eq!(ok("").config.transient_cooldown_secs, Some(60));
    let errs = switchyard_conf::load_str("transient-error-cooldown-seconds: -2\n").unwrap_err();
    assert_eq!(errs[0].path, "transient-error-cooldown-seconds");
}

#[test]
fn remote_management_secret_and_allow_remote() {
    let loaded = ok("remote-management:\n  secret-key: \" s3cret \"\n  allow-remote: true\n");
    let rm = &loaded.config.remote_management;
    assert_eq!(rm.secret_key.as_ref().map(|s| s.expose()), Some("s3cret"));
    assert!(rm.allow_remote);
    assert!(!rm.secret_is_hashed());
    let hash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
    let loaded = ok(&format!("remote-management:\n  secret-key: \"{hash}\"\n"));
    assert!(loaded.config.remote_management.secret_is_hashed());
    assert!(!loaded.config.remote_management.allow_remote);
    let empty = ok("remote-management:\n  secret-key: \"\"\n");
    assert_eq!(empty.config.remote_management.secret_key, None);
    assert_eq!(
        problems("remote-management:\n  secret-key: 12345\n  allow-remote: maybe\n"),
        [
            "remote-management.secret-key: expected a string, got an integer",
            "remote-management.allow-remote: expected true or false, got \"maybe\""
        ]
    );
}
