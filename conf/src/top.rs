//! Walks the top level of `config.yaml` into a [`Config`]: server, client keys, retry,
//! routing, proxy and Switchyard's own keys. Account lists are delegated to `accounts.rs`,
//! `payload` and `model-fallback` to `payload.rs`.
//!
//! Contract: keys are visited in file order, so problems come out in the order the user wrote
//! them; every problem is recorded in the [`Walker`] and the walk never stops early. The only
//! I/O is the existence check of `tls.cert` / `tls.key` when TLS is enabled (paths are
//! relative to the working directory, as in CLIProxyAPI).

use crate::accounts;
use crate::node::Node;
use crate::schema;
use crate::values;
use crate::walk::{index_path, key_path, Walker};
use crate::{
    ClientTimeouts, Config, LogFormat, ProviderKind, RoutingStrategy, Secret, SharedStateConfig,
    TlsConfig, UpstreamTimeouts,
};

/// Builds the config from the document root. Problems land in `w`; the returned value is only
/// meaningful when `w.errors` is empty.
pub(crate) fn build(root: &Node, w: &mut Walker) -> Config {
    let mut cfg = Config::default();
    let Node::Map(entries) = root else {
        w.error(
            "",
            format!(
                "expected a mapping of keys at the top level, got {}",
                root.kind()
            ),
        );
        return cfg;
    };
    let mut lists: [Vec<crate::ApiKeyAccount>; 4] = Default::default();
    for (key, value) in entries {
        let p = key_path("", key);
        match key.as_str() {
            "host" => set(&mut cfg.host, w.string(value, &p)),
            "port" => {
                if let Some(port) = w.int(value, &p, 1, Some(65535)) {
                    cfg.port = u16::try_from(port).unwrap_or(cfg.port);
                }
            }
            "tls" => set(&mut cfg.tls, tls(w, value, &p)),
            "api-keys" => cfg.api_keys = client_keys(w, value, &p),
            "auth-dir" => {
                if let Some(dir) = w.string(value, &p).filter(|d| !d.is_empty()) {
                    cfg.auth_dir = dir;
                }
            }
            "debug" => set(&mut cfg.debug, w.bool(value, &p)),
            "request-retry" => {
                if let Some(n) = w.int(value, &p, 0, None) {
                    match u32::try_from(n) {
                        Ok(n) => cfg.request_retry = n,
                        Err(_) => w.expected(&p, "an integer >= 0", value),
                    }
                }
            }
            "max-retry-interval" => set(
                &mut cfg.max_retry_interval_secs,
                w.u64_at_least(value, &p, 0),
            ),
            "max-retry-credentials" => {
                // CLIProxyAPI: negative means 0 (every account).
                if let Some(n) = w.int(value, &p, i128::from(i64::MIN), None) {
                    cfg.max_retry_credentials = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
                }
            }
            "routing" => routing(w, value, &p, &mut cfg),
            "streaming" => {
                if let Some(entries) = w.map(value, &p) {
                    for (key, value) in entries {
                        let kp = key_path(&p, key);
                        match key.as_str() {
                            "keepalive-seconds" => set(
                                &mut cfg.stream_keepalive_secs,
                                w.u64_at_least(value, &kp, 0),
                            ),
                            other => w.other_key(&schema::STREAMING, other, &kp),
                        }
                    }
                }
            }
            "nonstream-keepalive-interval" => set(
                &mut cfg.nonstream_keepalive_secs,
                w.u64_at_least(value, &p, 0),
            ),
            "proxy-url" => cfg.proxy_url = w.proxy_url(value, &p),
            "gemini-api-key" => {
                accounts::key_list(w, value, &p, ProviderKind::Gemini, &mut lists[0])
            }
            "claude-api-key" => {
                accounts::key_list(w, value, &p, ProviderKind::Claude, &mut lists[1])
            }
            "codex-api-key" => accounts::key_list(w, value, &p, ProviderKind::Codex, &mut lists[2]),
            "openai-compatibility" => accounts::compat_list(w, value, &p, &mut lists[3]),
            "max-body-size" => {
                if !matches!(value, Node::Null) {
                    if let Some(bytes) = w.checked(&p, values::body_size(value)) {
                        cfg.max_body_bytes = bytes;
                    }
                }
            }
            "max-concurrent-requests" => set(
                &mut cfg.max_concurrent_requests,
                w.u64_at_least(value, &p, 0),
            ),
            "max-connections" => set(&mut cfg.max_connections, w.u64_at_least(value, &p, 0)),
            "max-in-flight-memory" => {
                if !matches!(value, Node::Null) {
                    if let Some(bytes) = w.checked(&p, values::memory_size(value)) {
                        cfg.max_in_flight_memory = bytes;
                    }
                }
            }
            "client-timeouts" => set(&mut cfg.client_timeouts, client_timeouts(w, value, &p)),
            "workers" => {
                if let Some(n) = w.int(value, &p, 1, Some(256)) {
                    cfg.workers = usize::try_from(n).ok();
                }
            }
            "upstream-timeouts" => set(&mut cfg.upstream_timeouts, timeouts(w, value, &p)),
            "disable-cooling" => set(&mut cfg.disable_cooling, w.bool(value, &p)),
            "transient-error-cooldown-seconds" => {
                if let Some(n) = w.int(value, &p, -1, None) {
                    cfg.transient_cooldown_secs = match n {
                        -1 => None,
                        0 => Some(60),
                        n => u64::try_from(n).ok(),
                    };
                }
            }
            "force-model-prefix" => set(&mut cfg.force_model_prefix, w.bool(value, &p)),
            "passthrough-headers" => set(&mut cfg.passthrough_headers, w.bool(value, &p)),
            "enable-gemini-cli-endpoint" => {
                set(&mut cfg.enable_gemini_cli_endpoint, w.bool(value, &p))
            }
            "payload" => cfg.payload = crate::payload::payload(w, value, &p),
            "model-fallback" => cfg.model_fallback = crate::payload::model_fallback(w, value, &p),
            "shutdown-grace-seconds" => {
                set(&mut cfg.shutdown_grace_secs, w.u64_at_least(value, &p, 0))
            }
            "oauth-overrides" => cfg.oauth_overrides = crate::oauth::overrides(w, value, &p),
            "model-catalog" => {
                cfg.model_catalog = w.string(value, &p).filter(|s| !s.is_empty());
            }
            "oauth-model-alias" => {
                cfg.oauth_model_alias = crate::oauth_models::aliases(w, value, &p);
            }
            "oauth-excluded-models" => {
                cfg.oauth_excluded_models = crate::oauth_models::excluded(w, value, &p);
            }
            "metrics" => metrics(w, value, &p, &mut cfg),
            "shared-state" => cfg.shared_state = shared_state(w, value, &p),
            "remote-management" => remote_management(w, value, &p, &mut cfg),
            "server-timing" => set(&mut cfg.server_timing, w.bool(value, &p)),
            "commercial-mode" => set(&mut cfg.commercial_mode, w.bool(value, &p)),
            "log-format" => match w.string(value, &p).as_deref() {
                Some("text") => cfg.log_format = LogFormat::Text,
                Some("json") => cfg.log_format = LogFormat::Json,
                Some(_) => w.expected(&p, "text or json", value),
                None => {}
            },
            "logging-to-file" => set(&mut cfg.logging_to_file, w.bool(value, &p)),
            "logs-dir" => cfg.logs_dir = w.string(value, &p).filter(|s| !s.is_empty()),
            "logs-max-total-size-mb" => set(
                &mut cfg.logs_max_total_size_mb,
                w.u64_at_least(value, &p, 0),
            ),
            "request-log" => set(&mut cfg.request_log, w.bool(value, &p)),
            "error-logs-max-files" => {
                // CLIProxyAPI: negative means the default, 10.
                if let Some(n) = w.int(value, &p, i128::from(i64::MIN), None) {
                    cfg.error_logs_max_files = u64::try_from(n).unwrap_or(10);
                }
            }
            "usage-statistics-enabled" => set(&mut cfg.usage_statistics_enabled, w.bool(value, &p)),
            "usage-statistics-file" => {
                cfg.usage_statistics_file = w.string(value, &p).filter(|s| !s.is_empty());
            }
            other => w.other_key(&schema::TOP, other, &p),
        }
    }
    cfg.accounts = lists.into_iter().flatten().collect();
    crate::payload::check_fallback_targets(
        w,
        &cfg.model_fallback,
        &cfg.accounts,
        cfg.force_model_prefix,
    );
    cfg
}

/// `metrics: {listen, account-labels}`.
fn metrics(w: &mut Walker, value: &Node, path: &str, cfg: &mut Config) {
    let Some(entries) = w.map(value, path) else {
        return;
    };
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "listen" => match w.string(value, &p).filter(|s| !s.is_empty()) {
                Some(addr) if addr.parse::<std::net::SocketAddr>().is_ok() => {
                    cfg.metrics.listen = Some(addr)
                }
                Some(_) => w.expected(&p, "an address like 127.0.0.1:9464", value),
                None => {}
            },
            "account-labels" => set(&mut cfg.metrics.account_labels, w.bool(value, &p)),
            other => w.other_key(&schema::METRICS, other, &p),
        }
    }
}

/// `shared-state: {redis-url, key-prefix, write-queue, flush-interval-ms, timeout-ms,
/// auth-store}`.
fn shared_state(w: &mut Walker, value: &Node, path: &str) -> Option<SharedStateConfig> {
    let entries = w.map(value, path)?;
    let mut url: Option<String> = None;
    let mut url_given = false;
    let mut c = SharedStateConfig {
        redis_url: Secret::new(""),
        key_prefix: SharedStateConfig::DEFAULT_PREFIX.to_owned(),
        write_queue: SharedStateConfig::DEFAULT_WRITE_QUEUE,
        flush_interval_ms: SharedStateConfig::DEFAULT_FLUSH_INTERVAL_MS,
        timeout_ms: SharedStateConfig::DEFAULT_TIMEOUT_MS,
        auth_store: false,
    };
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "redis-url" => match w.secret(value, &p).inspect(|_| url_given = true) {
                Some(u) if u.starts_with("redis://") || u.starts_with("unix://") => url = Some(u),
                // Not echoed: the URL may hold a password.
                Some(_) => w.error(&p, "expected a redis:// or unix:// URL"),
                None => {}
            },
            "key-prefix" => set(&mut c.key_prefix, w.string(value, &p)),
            "write-queue" => {
                if let Some(n) = w.u64_at_least(value, &p, 1) {
                    c.write_queue = usize::try_from(n).unwrap_or(usize::MAX);
                }
            }
            "flush-interval-ms" => set(&mut c.flush_interval_ms, w.u64_at_least(value, &p, 10)),
            "timeout-ms" => set(&mut c.timeout_ms, w.u64_at_least(value, &p, 10)),
            "auth-store" => set(&mut c.auth_store, w.bool(value, &p)),
            other => w.other_key(&schema::SHARED_STATE, other, &p),
        }
    }
    match url {
        Some(u) => {
            c.redis_url = Secret::new(u);
            Some(c)
        }
        None => {
            if url_given {
                return None;
            }
            w.error(
                &key_path(path, "redis-url"),
                "required (a redis:// URL) when shared-state is set",
            );
            None
        }
    }
}

fn remote_management(w: &mut Walker, value: &Node, path: &str, cfg: &mut Config) {
    let Some(entries) = w.map(value, path) else {
        return;
    };
    let rm = &mut cfg.remote_management;
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "secret-key" => {
                rm.secret_key = w
                    .secret(value, &p)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
            }
            "allow-remote" => set(&mut rm.allow_remote, w.bool(value, &p)),
            "disable-control-panel" => set(&mut rm.disable_control_panel, w.bool(value, &p)),
            other => w.other_key(&schema::REMOTE_MANAGEMENT, other, &p),
        }
    }
}

/// Overwrites the default only when a value was given and valid.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn tls(w: &mut Walker, value: &Node, path: &str) -> Option<TlsConfig> {
    let entries = w.map(value, path)?;
    let mut tls = TlsConfig::default();
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "enable" => set(&mut tls.enable, w.bool(value, &p)),
            "cert" => set(&mut tls.cert, w.string(value, &p)),
            "key" => set(&mut tls.key, w.string(value, &p)),
            other => w.other_key(&schema::TLS, other, &p),
        }
    }
    if tls.enable {
        for (name, file) in [("cert", &tls.cert), ("key", &tls.key)] {
            let p = key_path(path, name);
            if file.is_empty() {
                w.error(&p, format!("required when {path}.enable is true"));
                continue;
            }
            match std::fs::metadata(file) {
                Ok(meta) if meta.is_file() => {}
                Ok(_) => w.error(&p, format!("{file:?} is not a file")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    w.error(&p, format!("file {file:?} does not exist"))
                }
                Err(e) => w.error(&p, format!("cannot read {file:?}: {e}")),
            }
        }
    }
    Some(tls)
}

fn client_keys(w: &mut Walker, value: &Node, path: &str) -> Vec<Secret> {
    let mut keys = Vec::new();
    for (i, item) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        match w.secret(item, &p) {
            Some(k) if !k.is_empty() => keys.push(Secret::new(k)),
            Some(_) => w.error(&p, "must not be empty"),
            None if matches!(item, Node::Null) => w.error(&p, "must not be empty"),
            None => {}
        }
    }
    keys
}

fn routing(w: &mut Walker, value: &Node, path: &str, cfg: &mut Config) {
    let Some(entries) = w.map(value, path) else {
        return;
    };
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "strategy" => set(&mut cfg.routing_strategy, routing_strategy(w, value, &p)),
            "session-affinity" => set(&mut cfg.session_affinity, w.bool(value, &p)),
            "session-affinity-ttl" => set(
                &mut cfg.session_affinity_ttl_secs,
                duration_secs(w, value, &p),
            ),
            other => w.other_key(&schema::ROUTING, other, &p),
        }
    }
}

/// A Go-style duration (`1h`, `30m`, `90s`, `1h30m`) or a number of seconds; at least 1 s.
fn duration_secs(w: &mut Walker, value: &Node, path: &str) -> Option<u64> {
    let text = w.string(value, path)?;
    let parsed = parse_duration_secs(text.trim());
    if parsed.is_none() {
        w.expected(path, "a duration such as 1h, 30m or 90s", value);
    }
    parsed
}

fn parse_duration_secs(s: &str) -> Option<u64> {
    if let Ok(n) = s.parse::<u64>() {
        return (n > 0).then_some(n);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (num.is_empty() && total > 0).then_some(total)
}

/// CLIProxyAPI's names and aliases, case-insensitive.
fn routing_strategy(w: &mut Walker, value: &Node, path: &str) -> Option<RoutingStrategy> {
    let text = w.string(value, path)?;
    match text.to_ascii_lowercase().as_str() {
        "" => None,
        "round-robin" | "roundrobin" | "rr" => Some(RoutingStrategy::RoundRobin),
        "fill-first" | "fillfirst" | "ff" => Some(RoutingStrategy::FillFirst),
        "weighted-round-robin" | "weightedroundrobin" | "wrr" => {
            Some(RoutingStrategy::WeightedRoundRobin)
        }
        _ => {
            w.expected(
                path,
                "round-robin, fill-first or weighted-round-robin",
                value,
            );
            None
        }
    }
}

fn timeouts(w: &mut Walker, value: &Node, path: &str) -> Option<UpstreamTimeouts> {
    let entries = w.map(value, path)?;
    let mut t = UpstreamTimeouts::default();
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "connect-seconds" => set(&mut t.connect_secs, w.u64_at_least(value, &p, 1)),
            "first-byte-seconds" => set(&mut t.first_byte_secs, w.u64_at_least(value, &p, 1)),
            "idle-seconds" => set(&mut t.idle_secs, w.u64_at_least(value, &p, 1)),
            other => w.other_key(&schema::UPSTREAM_TIMEOUTS, other, &p),
        }
    }
    Some(t)
}

fn client_timeouts(w: &mut Walker, value: &Node, path: &str) -> Option<ClientTimeouts> {
    let entries = w.map(value, path)?;
    let mut t = ClientTimeouts::default();
    for (key, value) in entries {
        let p = key_path(path, key);
        match key.as_str() {
            "header-seconds" => set(&mut t.header_secs, w.u64_at_least(value, &p, 1)),
            "body-seconds" => set(&mut t.body_secs, w.u64_at_least(value, &p, 1)),
            "write-seconds" => set(&mut t.write_secs, w.u64_at_least(value, &p, 1)),
            other => w.other_key(&schema::CLIENT_TIMEOUTS, other, &p),
        }
    }
    Some(t)
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration_secs;

    #[test]
    fn go_style_durations() {
        assert_eq!(parse_duration_secs("1h"), Some(3600));
        assert_eq!(parse_duration_secs("1h30m"), Some(5400));
        assert_eq!(parse_duration_secs("90s"), Some(90));
        assert_eq!(parse_duration_secs("120"), Some(120));
        for bad in ["", "0", "1d", "h", "10"[..0].as_ref(), "5m3"] {
            assert_eq!(parse_duration_secs(bad), None, "{bad:?}");
        }
    }
}
