//! Value checks through `load_str` / `load_file`: sizes, proxy URLs, TLS files, YAML syntax
//! errors, unreadable files, and secrets kept out of `Debug` and of problem messages.
#![expect(clippy::panic, reason = "a test fails by panicking")]

mod common;

use common::{ok, problems};
use switchyard_conf::load_file;

#[test]
fn max_body_size_forms() {
    let size = |v: &str| ok(&format!("max-body-size: {v}\n")).config.max_body_bytes;
    assert_eq!(size("1048576"), 1 << 20);
    assert_eq!(size("32MiB"), 32 << 20);
    assert_eq!(size("512KiB"), 512 << 10);
    assert_eq!(size("1GiB"), 1 << 30);
    assert_eq!(size("10MB"), 10_000_000);
    assert_eq!(size("\"1 KiB\""), 1024);
    assert_eq!(
        problems("max-body-size: 100\n"),
        ["max-body-size: must be between 1KiB and 1GiB, got 100"]
    );
    assert_eq!(
        problems("max-body-size: lots\n"),
        [
            r#"max-body-size: expected a size in bytes or a string like "32MiB" (units B, KB, MB, GB, KiB, MiB, GiB), got "lots""#
        ]
    );
}
#[test]
fn connection_memory_and_client_timeout_limits() {
    let c = ok("").config;
    assert_eq!(
        (c.max_connections, c.max_in_flight_memory),
        (10_000, 1 << 30)
    );
    assert_eq!(
        (
            c.client_timeouts.header_secs,
            c.client_timeouts.body_secs,
            c.client_timeouts.write_secs
        ),
        (30, 300, 120)
    );
    let memory = |v: &str| {
        ok(&format!("max-in-flight-memory: {v}\n"))
            .config
            .max_in_flight_memory
    };
    assert_eq!(memory("0"), 0);
    assert_eq!(memory("64MiB"), 64 << 20);
    assert_eq!(memory("1000GB"), 1_000_000_000_000);
    assert_eq!(
        problems("max-in-flight-memory: 4KiB\n"),
        [r#"max-in-flight-memory: must be 0 (no limit) or between 1MiB and 1TiB, got "4KiB""#]
    );
    assert_eq!(ok("max-connections: 0\n").config.max_connections, 0);
    assert_eq!(
        problems("client-timeouts: {header-seconds: 0, body-secs: 5}\n"),
        [
            "client-timeouts.header-seconds: expected an integer >= 1, got 0",
            "client-timeouts.body-secs: unknown key"
        ]
    );
}

#[test]
fn proxy_url_validation() {
    let proxy = |v: &str| ok(&format!("proxy-url: {v}\n")).config.proxy_url;
    assert_eq!(proxy("\"\""), None);
    assert_eq!(proxy("direct"), Some("direct".into()));
    assert_eq!(proxy("None"), Some("none".into()));
    assert_eq!(proxy("http://proxy:3128"), Some("http://proxy:3128".into()));
    assert_eq!(proxy("https://proxy"), Some("https://proxy".into()));
    assert_eq!(
        proxy("socks5h://[::1]:1080"),
        Some("socks5h://[::1]:1080".into())
    );
    assert_eq!(
        problems("proxy-url: proxy.local:3128\n"),
        ["proxy-url: expected an http, https, socks5 or socks5h URL, or direct or none (missing scheme, like https://)"]
    );
    assert_eq!(
        problems("claude-api-key: [{api-key: k, proxy-url: \"socks5://u:hunter2@p:99999\"}]\n"),
        ["claude-api-key[0].proxy-url: expected an http, https, socks5 or socks5h URL, or direct or none (invalid port)"]
    );
}
#[test]
fn tls_enabled_needs_existing_files() {
    assert_eq!(
        problems("tls:\n  enable: true\n"),
        [
            "tls.cert: required when tls.enable is true",
            "tls.key: required when tls.enable is true",
        ]
    );
    assert_eq!(
        problems("tls: {enable: true, cert: /nonexistent/c.pem, key: /nonexistent/k.pem}\n"),
        [
            r#"tls.cert: file "/nonexistent/c.pem" does not exist"#,
            r#"tls.key: file "/nonexistent/k.pem" does not exist"#,
        ]
    );
    // Disabled TLS does not look at the paths.
    assert!(
        !ok("tls: {enable: false, cert: /nonexistent/c.pem}\n")
            .config
            .tls
            .enable
    );
}
#[test]
fn syntax_error_is_one_problem_with_position() {
    assert_eq!(
        problems("port: 8317\napi-keys: [a, b\nhost: x\n"),
        ["invalid YAML at line 3, column 5: illegal placement of ':' indicator"]
    );
    assert_eq!(
        problems("- a\n- b\n"),
        ["expected a mapping of keys at the top level, got a list"]
    );
}
#[test]
fn load_file_reads_and_reports_missing_files() {
    let path = std::env::temp_dir().join(format!("switchyard-conf-{}.yaml", std::process::id()));
    std::fs::write(&path, "port: 8400\n").unwrap();
    assert_eq!(load_file(&path).unwrap().config.port, 8400);
    std::fs::remove_file(&path).unwrap();
    let err = load_file(&path).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].path, "");
    assert!(err[0].message.starts_with("cannot read "), "{}", err[0]);
}
#[test]
fn secrets_never_appear_in_debug_or_problems() {
    let yaml = r#"
api-keys: ["client-secret-1"]
proxy-url: "socks5://proxyuser:proxy-secret-2@proxy:1080"
claude-api-key:
  - api-key: "account-secret-3"
    headers:
      Authorization: "Bearer header-secret-4"
openai-compatibility:
  - name: p
    base-url: https://p.example.com/v1
    api-key-entries:
      - api-key: "compat-secret-5"
        proxy-url: "http://u:proxy-secret-6@proxy:3128"
"#;
    let loaded = ok(yaml);
    let shown = format!("{loaded:?} {loaded:#?} {:?}", loaded.config.accounts);
    for secret in [
        "client-secret-1",
        "proxy-secret-2",
        "account-secret-3",
        "header-secret-4",
        "compat-secret-5",
        "proxy-secret-6",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("Secret(<redacted>)"));
    assert!(shown.contains("socks5://<redacted>@proxy:1080"));
    assert_eq!(loaded.config.api_keys[0].expose(), "client-secret-1");

    // A wrong-typed secret is described by kind, not value.
    assert_eq!(
        problems("api-keys: [123456789]\nclaude-api-key: [{api-key: 987654321}]\n"),
        [
            "api-keys[0]: expected a string, got an integer",
            "claude-api-key[0].api-key: expected a string, got an integer",
        ]
    );
}

#[test]
fn misplaced_secrets_are_described_by_kind() {
    assert_eq!(
        problems("api-keys: sk-client-secret\nclaude-api-key: sk-account-secret\n"),
        [
            "api-keys: expected a list, got a string",
            "claude-api-key: expected a list, got a string"
        ]
    );
    assert_eq!(
        problems("claude-api-key: [{api-key: k, headers: \"Authorization: Bearer x\"}]\n"),
        ["claude-api-key[0].headers: expected a mapping, got a string"]
    );
}

#[test]
fn shared_state_keys() {
    assert_eq!(ok("port: 1\n").config.shared_state, None, "absent: alone");
    let c = ok("shared-state: {redis-url: \"redis://:pw@10.0.0.5:6379/2\"}\n").config;
    let s = c.shared_state.expect("shared-state");
    assert_eq!(s.redis_url.expose(), "redis://:pw@10.0.0.5:6379/2");
    assert!(!format!("{s:?}").contains("pw"), "the URL is a secret");
    assert_eq!(
        (
            s.key_prefix.as_str(),
            s.write_queue,
            s.flush_interval_ms,
            s.timeout_ms
        ),
        ("switchyard:", 10_000, 100, 1_000)
    );
    let c = ok(concat!(
        "shared-state:\n  redis-url: unix:///run/redis.sock\n  key-prefix: \"team-a:\"\n",
        "  write-queue: 50\n  flush-interval-ms: 250\n  timeout-ms: 300\n",
    ))
    .config;
    let s = c.shared_state.expect("shared-state");
    assert_eq!(
        (
            s.key_prefix.as_str(),
            s.write_queue,
            s.flush_interval_ms,
            s.timeout_ms
        ),
        ("team-a:", 50, 250, 300)
    );
    assert_eq!(
        problems("shared-state: {key-prefix: x}\n"),
        ["shared-state.redis-url: required (a redis:// URL) when shared-state is set"]
    );
    assert_eq!(
        problems("shared-state: {redis-url: \"http://:secret@h\", flush-interval: 5}\n"),
        [
            "shared-state.redis-url: expected a redis:// or unix:// URL",
            "shared-state.flush-interval: unknown key",
        ]
    );
}

#[test]
fn observability_keys() {
    let c = ok(concat!(
        "metrics: {listen: \"127.0.0.1:9464\", account-labels: true}\n",
        "log-format: json\nserver-timing: false\nrequest-log: true\n",
        "logging-to-file: true\nlogs-dir: /var/log/sy\nlogs-max-total-size-mb: 50\n",
        "error-logs-max-files: -1\nusage-statistics-enabled: true\n",
        "usage-statistics-file: /var/lib/sy/usage.json\n",
    ))
    .config;
    assert_eq!(c.metrics.listen.as_deref(), Some("127.0.0.1:9464"));
    assert!(c.metrics.account_labels);
    assert_eq!(c.log_format, switchyard_conf::LogFormat::Json);
    assert!(!c.server_timing && c.request_log && c.logging_to_file);
    assert_eq!(c.logs_dir.as_deref(), Some("/var/log/sy"));
    assert_eq!(c.logs_max_total_size_mb, 50);
    assert_eq!(c.error_logs_max_files, 10, "negative means the default");
    assert!(c.usage_statistics_enabled);
    assert_eq!(
        c.usage_statistics_file.as_deref(),
        Some("/var/lib/sy/usage.json")
    );
    assert_eq!(
        problems("metrics: {listen: nowhere}\nlog-format: xml\n"),
        [
            r#"metrics.listen: expected an address like 127.0.0.1:9464, got "nowhere""#,
            r#"log-format: expected text or json, got "xml""#
        ]
    );
}
