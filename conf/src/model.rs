//! The validated configuration types the gateway consumes. Defaults are documented per field.

use std::collections::BTreeMap;
use std::fmt;

/// A secret string (API key, token). `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret value, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `tls:`. Default: disabled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TlsConfig {
    pub enable: bool,
    pub cert: String,
    pub key: String,
}

/// `routing.strategy`. Default `round-robin`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoutingStrategy {
    #[default]
    RoundRobin,
    FillFirst,
    /// `weighted-round-robin`: each account's share follows its `weight`.
    WeightedRoundRobin,
}

/// `models[]` entry of an account: `name` is the upstream model, `alias` what clients ask for
/// (empty alias: the name itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAlias {
    pub name: String,
    pub alias: String,
}

/// Which upstream protocol family an account speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// `gemini-api-key[]`: Gemini generateContent; base-url is the host root.
    Gemini,
    /// `claude-api-key[]`: Anthropic Messages; base-url is the host root.
    Claude,
    /// `codex-api-key[]`: OpenAI Responses; base-url includes `/v1`.
    Codex,
    /// `openai-compatibility[]`: OpenAI Chat Completions; base-url includes `/v1`.
    OpenAiCompat,
}

/// One key-based upstream account, flattened from the four account lists
/// (`openai-compatibility[].api-key-entries[]` each become one account).
///
/// `Debug` (in `redact.rs`) hides the key, header values and proxy credentials.
#[derive(Clone, PartialEq)]
pub struct ApiKeyAccount {
    pub kind: ProviderKind,
    /// Stable id for state that outlives reloads: `"<list>[<index>]"`, e.g. `claude-api-key[0]`
    /// or `openai-compatibility[1].api-key-entries[0]`.
    pub id: String,
    /// For openai-compatibility: the provider `name`; otherwise empty.
    pub provider_name: String,
    pub api_key: Secret,
    /// Absolute URL without trailing slash. Defaults when absent:
    /// Gemini `https://generativelanguage.googleapis.com`, Claude `https://api.anthropic.com`,
    /// Codex `https://api.openai.com/v1`. Required for openai-compatibility.
    pub base_url: String,
    pub prefix: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// Per-account proxy (`http://`, `https://`, `socks5://`, `socks5h://`, `direct`, `none`).
    pub proxy_url: Option<String>,
    pub models: Vec<ModelAlias>,
    pub excluded_models: Vec<String>,
    /// Per-account `disable-cooling`: failures never put this account in cooldown.
    pub disable_cooling: bool,
    /// `priority`, default 0: higher-priority accounts are tried first; lower ones only when
    /// every higher one failed or is cooling.
    pub priority: i64,
    /// `weight` for `weighted-round-robin`, default 1, at most 1,000,000; under that strategy 0
    /// takes the account out of rotation (CLIProxyAPI: non-positive excludes).
    pub weight: u32,
    /// Per-account `request-retry`: overrides the global value for this account's retry rounds.
    pub request_retry: Option<u32>,
}

/// A config problem (fatal) or warning, with the YAML path it concerns (`claude-api-key[0].base-url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Upstream timeouts (`upstream-timeouts:`, a Switchyard key).
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamTimeouts {
    /// `connect-seconds`, default 10: TCP + TLS connect, per account attempt.
    pub connect_secs: u64,
    /// `first-byte-seconds`, default 300: waiting for the response header.
    pub first_byte_secs: u64,
    /// `idle-seconds`, default 600: longest silence inside an established response.
    pub idle_secs: u64,
}

impl Default for UpstreamTimeouts {
    fn default() -> Self {
        Self {
            connect_secs: 10,
            first_byte_secs: 300,
            idle_secs: 600,
        }
    }
}

/// `max-connections` when the file does not say.
pub const DEFAULT_MAX_CONNECTIONS: u64 = 10_000;
/// `max-in-flight-memory` when the file does not say: 1 GiB.
pub const DEFAULT_MAX_IN_FLIGHT_MEMORY: u64 = 1 << 30;

/// Deadlines on what clients send and read (`client-timeouts:`, a Switchyard key).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTimeouts {
    /// `header-seconds`, default 30: a request's header block must be complete this long after
    /// the connection opened (first request) or after its first byte (later requests on a
    /// kept-alive connection). Slowloris clients are cut here.
    pub header_secs: u64,
    /// `body-seconds`, default 300: the whole request body must be in within this long.
    pub body_secs: u64,
    /// `write-seconds`, default 120: one write of the response may wait this long for a client
    /// that does not read.
    pub write_secs: u64,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        Self {
            header_secs: 30,
            body_secs: 300,
            write_secs: 120,
        }
    }
}

/// The validated configuration.
///
/// `Debug` (in `redact.rs`) hides client keys, account secrets and proxy credentials.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// `host`, default `""` (all interfaces).
    pub host: String,
    /// `port`, default 8317.
    pub port: u16,
    pub tls: TlsConfig,
    /// `api-keys`; empty means every client is allowed.
    pub api_keys: Vec<Secret>,
    /// `auth-dir`, default `~/.cli-proxy-api` (not expanded here).
    pub auth_dir: String,
    /// `debug`, default false.
    pub debug: bool,
    /// `request-retry`, default 0.
    pub request_retry: u32,
    /// `max-retry-interval` in seconds, default 0.
    pub max_retry_interval_secs: u64,
    /// `max-retry-credentials`, default 0 (= every account): distinct accounts tried per round.
    pub max_retry_credentials: usize,
    pub routing_strategy: RoutingStrategy,
    /// `routing.session-affinity`, default false: one client session sticks to one account.
    pub session_affinity: bool,
    /// `routing.session-affinity-ttl` in seconds, default 3600 (`1h`).
    pub session_affinity_ttl_secs: u64,
    /// `streaming.keepalive-seconds`, default 0 (off): an SSE comment after this long without
    /// upstream data on a stream.
    pub stream_keepalive_secs: u64,
    /// `nonstream-keepalive-interval`, default 0 (off): a blank line after this long without
    /// an upstream answer on a non-stream request.
    pub nonstream_keepalive_secs: u64,
    /// Global `proxy-url`.
    pub proxy_url: Option<String>,
    /// All key-based accounts in file order: gemini, claude, codex, then openai-compatibility.
    pub accounts: Vec<ApiKeyAccount>,
    /// `max-body-size` (Switchyard key), bytes, default 32 MiB, at most 1 GiB.
    pub max_body_bytes: usize,
    /// `max-concurrent-requests`, default 0 (no limit): API requests served at once; past it
    /// the gateway answers 503 with `Retry-After` in the client's protocol.
    pub max_concurrent_requests: u64,
    /// `max-connections`, default 10,000 (0: no limit): client connections open at once; past
    /// it a new connection is closed as soon as it is accepted.
    pub max_connections: u64,
    /// `max-in-flight-memory`, bytes, default 1 GiB (0: no limit): the memory budget of the
    /// requests in flight (docs/limits.md says what a request reserves); past it new API
    /// requests get 503 with `Retry-After`.
    pub max_in_flight_memory: u64,
    /// `client-timeouts` (Switchyard key).
    pub client_timeouts: ClientTimeouts,
    /// `workers` (Switchyard key): Pingora worker threads, default = available cores.
    pub workers: Option<usize>,
    /// `upstream-timeouts` (Switchyard key).
    pub upstream_timeouts: UpstreamTimeouts,
    /// `shutdown-grace-seconds` (Switchyard key), default 5: in-flight requests get this long on SIGTERM.
    pub shutdown_grace_secs: u64,
    /// `disable-cooling`, default false: failures never put an account in cooldown.
    pub disable_cooling: bool,
    /// `transient-error-cooldown-seconds`: cooldown after 408/5xx/529. CLIProxyAPI's values:
    /// 0 (default) means 60 s, -1 means none (`None` here).
    pub transient_cooldown_secs: Option<u64>,
    /// `force-model-prefix`, default false: an account with a `prefix` serves only
    /// `prefix/<model>` names (the bare name too when it equals the prefix), as CLIProxyAPI's
    /// `applyModelPrefixes`.
    pub force_model_prefix: bool,
    /// `enable-gemini-cli-endpoint`, default false: serve Gemini CLI's Code Assist API
    /// (`POST /v1internal:{generateContent,streamGenerateContent,countTokens}`) to loopback
    /// callers, through the pool (CLIProxyAPI v6).
    pub enable_gemini_cli_endpoint: bool,
    /// `passthrough-headers`, default false: forward the upstream's response headers (minus
    /// hop-by-hop, `Set-Cookie` and gateway-managed ones). Off: only rate-limit headers
    /// (`Retry-After`, `*ratelimit*`, `*rate-limit*`, Codex quota headers) reach the client.
    pub passthrough_headers: bool,
    /// `payload:` rules applied to the body sent upstream.
    pub payload: PayloadRules,
    /// `model-fallback` (Switchyard key): where a model no account serves goes instead of 404.
    pub model_fallback: Vec<ModelFallback>,
    /// `oauth-overrides` (Switchyard key), by provider name (`codex`, `qwen`, ...); default
    /// empty: every provider uses its real endpoints.
    pub oauth_overrides: BTreeMap<String, OAuthOverride>,
    /// `model-catalog` (Switchyard key): a JSON file in the embedded catalog's format whose
    /// channels replace the embedded ones; read at startup and on every reload. Default none.
    pub model_catalog: Option<String>,
    /// `oauth-model-alias`, by channel (`claude`, `codex`, `gemini` (also spelled
    /// `gemini-cli`), `qwen`, `kimi`, `iflow`, `antigravity`, `vertex`), in file order.
    pub oauth_model_alias: BTreeMap<String, Vec<OAuthModelAlias>>,
    /// `oauth-excluded-models`, by channel: wildcards (exact, `prefix-*`, `*-suffix`,
    /// `*substring*`, case-insensitive) of catalog model ids an OAuth channel does not serve.
    pub oauth_excluded_models: BTreeMap<String, Vec<String>>,
    /// `metrics` (Switchyard key): the Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// `shared-state` (Switchyard key): replicas share cooldowns, session bindings and usage
    /// through Redis (docs/scale-out.md). Default none: the replica runs alone.
    pub shared_state: Option<SharedStateConfig>,
    /// `server-timing` (Switchyard key), default true: a `Server-Timing` header (`auth`,
    /// `route`, `translate`, `upstream`) on every response.
    pub server_timing: bool,
    /// `commercial-mode`, default false: every optional per-request filter off (request and
    /// error logs, `Server-Timing`, per-request usage details; the counters stay), as
    /// CLIProxyAPI's key turns its request-logging middleware off. Takes effect on reload.
    pub commercial_mode: bool,
    /// `log-format` (Switchyard key): `text` (default; colour only on a terminal) or `json`.
    pub log_format: LogFormat,
    /// `logging-to-file`, default false: logs go to files under [`Config::logs_dir`]
    /// (rotated) instead of stderr.
    pub logging_to_file: bool,
    /// `logs-dir` (Switchyard key): where log files go; default `logs` beside the config file.
    pub logs_dir: Option<String>,
    /// `logs-max-total-size-mb`, default 0 (no cap): the oldest log files are deleted to stay
    /// under it.
    pub logs_max_total_size_mb: u64,
    /// `request-log`, default false: every request's full exchange (each attempt's headers and
    /// bodies) in a file of its own.
    pub request_log: bool,
    /// `error-logs-max-files`, default 10: failed requests are logged in full even with
    /// `request-log` off, and only the newest N such files are kept (0: no cleanup).
    pub error_logs_max_files: u64,
    /// `usage-statistics-enabled`, default false: per key, model, account and provider.
    pub usage_statistics_enabled: bool,
    /// `usage-statistics-file` (Switchyard key): where usage statistics are saved and loaded;
    /// default `usage-statistics.json` in `auth-dir`.
    pub usage_statistics_file: Option<String>,
    /// `remote-management`: the management API at `/v0/management`.
    pub remote_management: RemoteManagement,
}

/// `remote-management:` (CLIProxyAPI's keys). Without a secret (and without
/// `MANAGEMENT_PASSWORD` in the environment) every management route answers 404.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteManagement {
    /// `secret-key`, default empty (management off): a bcrypt hash (`$2a$`, `$2b$`, `$2y$`),
    /// or a plaintext secret that the gateway hashes and writes back to the file on load.
    pub secret_key: Option<Secret>,
    /// `allow-remote`, default false: callers other than 127.0.0.1 and ::1 get 403.
    pub allow_remote: bool,
    /// `disable-control-panel`, default false: `GET /management.html` answers 404 (the API
    /// stays).
    pub disable_control_panel: bool,
}

impl RemoteManagement {
    /// Whether `secret-key` is already a bcrypt hash (as CLIProxyAPI writes it).
    pub fn secret_is_hashed(&self) -> bool {
        self.secret_key
            .as_ref()
            .is_some_and(|s| is_bcrypt_hash(s.expose()))
    }
}

/// `$2a$`, `$2b$`, `$2x$` or `$2y$`, a two-digit cost and 53 characters of salt and hash.
pub fn is_bcrypt_hash(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 60
        && b[0] == b'$'
        && b[1] == b'2'
        && matches!(b[2], b'a' | b'b' | b'x' | b'y')
        && b[3] == b'$'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && b[7..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'/'))
}

/// `metrics:` (Switchyard key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsConfig {
    /// `listen`: `host:port` of the Prometheus endpoint (`/metrics`); off when absent.
    pub listen: Option<String>,
    /// `account-labels`, default false: per-account series, labelled by the account's id.
    pub account_labels: bool,
}

/// `shared-state:` (Switchyard key; docs/scale-out.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedStateConfig {
    /// `redis-url` (required): `redis://[user:password@]host:port/db` or
    /// `unix:///path/to/redis.sock`; TLS (`rediss://`) is not built in. A secret: it may
    /// carry a password.
    pub redis_url: crate::Secret,
    /// `key-prefix`, default `switchyard:`: put before every key and the pub/sub channel, so
    /// several gateways can share one Redis.
    pub key_prefix: String,
    /// `write-queue`, default 10 000: changes waiting for the writer task; past it a change
    /// is dropped (and counted) instead of waiting.
    pub write_queue: usize,
    /// `flush-interval-ms`, default 100: how often usage deltas are written (and the shared
    /// totals read back).
    pub flush_interval_ms: u64,
    /// `timeout-ms`, default 1 000: connect and command timeout; past it the connection
    /// counts as lost and is made again with backoff.
    pub timeout_ms: u64,
    /// `auth-store`, default false: OAuth token files live in the Redis hash `{prefix}auth`
    /// and each replica's `auth-dir` is a mirror of it (no shared volume needed).
    pub auth_store: bool,
}

impl SharedStateConfig {
    pub const DEFAULT_PREFIX: &'static str = "switchyard:";
    pub const DEFAULT_WRITE_QUEUE: usize = 10_000;
    pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 100;
    pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;
}

/// `log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// One `oauth-model-alias.<channel>[]` entry: the catalog model `name` is served to clients
/// as `alias`; `fork: true` keeps `name` too, `false` (default) renames it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthModelAlias {
    pub name: String,
    pub alias: String,
    pub fork: bool,
}

/// `payload:`: CLIProxyAPI's request-body rules, each list in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadRules {
    /// `default`: set a path only when the body does not have it; the first matching rule
    /// wins per path (shared with `default-raw`, which runs after it).
    pub default: Vec<PayloadRule>,
    /// `default-raw`: as `default`, values given as JSON text.
    pub default_raw: Vec<PayloadRule>,
    /// `override`: always set; the last matching rule wins per path.
    pub overrides: Vec<PayloadRule>,
    /// `override-raw`: as `override`, values given as JSON text; runs after `override`.
    pub override_raw: Vec<PayloadRule>,
    /// `filter`: delete paths; runs last.
    pub filter: Vec<PayloadFilter>,
}

impl PayloadRules {
    pub fn is_empty(&self) -> bool {
        self.default.is_empty()
            && self.default_raw.is_empty()
            && self.overrides.is_empty()
            && self.override_raw.is_empty()
            && self.filter.is_empty()
    }
}

/// One `payload.*[].models[]` entry: the rule applies when any entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadModelMatch {
    /// Model wildcard (`*` anywhere, case-sensitive), matched against the upstream model name
    /// and the name the client asked for.
    pub name: String,
    /// Upstream protocol, lowercase: `openai`, `gemini`, `claude`, `codex`, `antigravity`;
    /// `None` matches any.
    pub protocol: Option<String>,
    /// Client protocol (CLIProxyAPI HEAD), lowercase: `openai`, `responses`, `gemini`,
    /// `claude`; `None` matches any.
    pub from_protocol: Option<String>,
    /// The entry uses a HEAD condition Switchyard does not evaluate (`headers`, `match`,
    /// `not-match`, `exist`, `not-exist`): it never matches, rather than matching too much.
    pub never: bool,
}

/// A `default`/`override` rule (`-raw` ones too): `params` path to JSON value text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadRule {
    pub models: Vec<PayloadModelMatch>,
    /// `(path, JSON text)` in file order; paths are gjson/sjson-style dotted paths.
    pub params: Vec<(String, String)>,
}

/// A `filter` rule: paths to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFilter {
    pub models: Vec<PayloadModelMatch>,
    pub paths: Vec<String>,
}

/// One `model-fallback[]` entry: a request for a model no account serves whose name matches
/// `from` (wildcard `*` anywhere, case-insensitive) is served as `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFallback {
    pub from: String,
    pub to: String,
}

/// `oauth-overrides.<provider>`: each field replaces the provider's built-in default when set.
/// `Debug` shows URLs and the client id (public values) and hides the secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OAuthOverride {
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub device_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// The upstream API base URL the provider's accounts send requests to.
    pub base_url: Option<String>,
}

/// `max-body-size` default: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// `port` default.
pub const DEFAULT_PORT: u16 = 8317;
/// `auth-dir` default (not expanded).
pub const DEFAULT_AUTH_DIR: &str = "~/.cli-proxy-api";
/// `shutdown-grace-seconds` default.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 5;

impl Default for Config {
    /// The documented defaults: what an empty `config.yaml` loads as.
    fn default() -> Self {
        Self {
            host: String::new(),
            port: DEFAULT_PORT,
            tls: TlsConfig::default(),
            api_keys: Vec::new(),
            auth_dir: DEFAULT_AUTH_DIR.to_owned(),
            debug: false,
            request_retry: 0,
            max_retry_interval_secs: 0,
            max_retry_credentials: 0,
            routing_strategy: RoutingStrategy::default(),
            session_affinity: false,
            session_affinity_ttl_secs: 3600,
            stream_keepalive_secs: 0,
            nonstream_keepalive_secs: 0,
            proxy_url: None,
            accounts: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_concurrent_requests: 0,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_in_flight_memory: DEFAULT_MAX_IN_FLIGHT_MEMORY,
            client_timeouts: ClientTimeouts::default(),
            workers: None,
            upstream_timeouts: UpstreamTimeouts::default(),
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            disable_cooling: false,
            transient_cooldown_secs: Some(60),
            force_model_prefix: false,
            enable_gemini_cli_endpoint: false,
            passthrough_headers: false,
            payload: PayloadRules::default(),
            model_fallback: Vec::new(),
            oauth_overrides: BTreeMap::new(),
            model_catalog: None,
            oauth_model_alias: BTreeMap::new(),
            oauth_excluded_models: BTreeMap::new(),
            metrics: MetricsConfig::default(),
            shared_state: None,
            server_timing: true,
            commercial_mode: false,
            log_format: LogFormat::default(),
            logging_to_file: false,
            logs_dir: None,
            logs_max_total_size_mb: 0,
            request_log: false,
            error_logs_max_files: 10,
            usage_statistics_enabled: false,
            usage_statistics_file: None,
            remote_management: RemoteManagement::default(),
        }
    }
}

impl ProviderKind {
    /// The `config.yaml` list this kind's accounts come from.
    pub fn config_key(self) -> &'static str {
        match self {
            ProviderKind::Gemini => "gemini-api-key",
            ProviderKind::Claude => "claude-api-key",
            ProviderKind::Codex => "codex-api-key",
            ProviderKind::OpenAiCompat => "openai-compatibility",
        }
    }

    /// The base URL used when an entry has none (`None`: `base-url` is required).
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
            ProviderKind::Claude => Some("https://api.anthropic.com"),
            ProviderKind::Codex => Some("https://api.openai.com/v1"),
            ProviderKind::OpenAiCompat => None,
        }
    }
}

impl std::error::Error for Problem {}
