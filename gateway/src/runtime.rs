//! The runtime snapshot: everything a request needs that comes from config (accounts, client
//! keys, model routing, limits), built off the hot path and shared behind an `Arc`.
//!
//! Each request loads the snapshot once in `new_ctx` and keeps it (STYLE 10), so a later hot
//! reload can swap a new one in without a request ever seeing a mix.

use crate::accounts::Account;
use crate::channels;
use crate::client_auth::ClientKeys;
use crate::health::CoolingPolicy;
use crate::in_flight::InFlight;
use crate::payload::Payload;
use crate::routing::Router;
use crate::upstream_proxy::AccountProxy;
use std::sync::Arc;
use std::time::Duration;
use switchyard_auth::catalog::Catalog;
use switchyard_conf::{Config, Problem};

#[derive(Debug)]
pub struct Runtime {
    pub accounts: Vec<Account>,
    pub router: Router,
    pub keys: ClientKeys,
    pub max_body_bytes: usize,
    /// `max-concurrent-requests` (0: no limit).
    pub max_concurrent_requests: u64,
    /// `max-connections` (0: no limit; admission.rs).
    pub max_connections: u64,
    /// `max-in-flight-memory` in bytes (0: no limit).
    pub max_in_flight_memory: u64,
    /// `client-timeouts`: a request header block (admission.rs), a whole request body, one
    /// write of the response to a client that does not read.
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub write_timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest wait for the upstream's response header (`first-byte-seconds`).
    pub first_byte_timeout: Duration,
    /// Longest silence inside an upstream response body (`idle-seconds`); an established
    /// stream has no other deadline.
    pub idle_timeout: Duration,
    /// Global cooldown settings; accounts may disable cooling for themselves.
    pub cooling: CoolingPolicy,
    /// Global `request-retry` (accounts may override it).
    pub request_retry: u32,
    /// `max-retry-interval`: the longest wait before another retry round.
    pub max_retry_interval: Duration,
    /// `max-retry-credentials` (0: every account).
    pub max_retry_credentials: usize,
    /// `routing.session-affinity-ttl` when session affinity is on.
    pub session_affinity: Option<Duration>,
    /// `streaming.keepalive-seconds`, when on.
    pub stream_keepalive: Option<Duration>,
    /// `nonstream-keepalive-interval`, when on.
    pub nonstream_keepalive: Option<Duration>,
    /// `payload:` rules for upstream request bodies.
    pub payload: Payload,
    /// `passthrough-headers`: forward the upstream's response headers (filtered).
    pub passthrough_headers: bool,
    /// `enable-gemini-cli-endpoint` (`gemini_cli_endpoint.rs`).
    pub gemini_cli_endpoint: bool,
    /// `server-timing`.
    pub server_timing: bool,
    /// `commercial-mode`: no request or error logs, no usage details (docs/commercial-mode.md).
    pub commercial: bool,
}

impl Runtime {
    /// The cooldown policy for one account.
    pub fn cooling_for(&self, account: usize) -> CoolingPolicy {
        let mut p = self.cooling;
        p.disabled |= self.accounts[account].disable_cooling;
        p
    }

    /// The `model` label of metrics: a model name the config lists, else `other` (a client
    /// sending random names grows no series).
    pub fn model_label<'a>(&self, model: &'a str) -> &'a str {
        if self.router.is_named(model) {
            model
        } else {
            "other"
        }
    }

    /// The effective `request-retry` of one account.
    pub fn request_retry_for(&self, account: usize) -> u32 {
        self.accounts[account]
            .request_retry
            .unwrap_or(self.request_retry)
    }
}

impl Runtime {
    /// Build the snapshot with a new OAuth refresh service; every problem is returned at once,
    /// each with the config path it concerns.
    pub fn build(config: &Config) -> Result<Arc<Self>, Vec<Problem>> {
        let refresher = channels::oauth::new_refresher(config).map_err(|e| {
            vec![Problem {
                path: "auth-dir".into(),
                message: e.to_string(),
            }]
        })?;
        Self::build_with(config, refresher)
    }

    /// Build the snapshot around an existing refresh service (a reload keeps its tokens and
    /// refreshes in flight). Re-reads `auth-dir` and the `model-catalog` file.
    pub fn build_with(
        config: &Config,
        refresher: Arc<switchyard_auth::refresh::Refresher>,
    ) -> Result<Arc<Self>, Vec<Problem>> {
        Self::build_counted(config, refresher, &InFlight::default())
    }

    /// [`Runtime::build_with`], each account counting its requests in flight on the counter
    /// `in_flight` keeps for its id (the same counter in every snapshot).
    pub(crate) fn build_counted(
        config: &Config,
        refresher: Arc<switchyard_auth::refresh::Refresher>,
        in_flight: &InFlight,
    ) -> Result<Arc<Self>, Vec<Problem>> {
        let mut problems = Vec::new();
        let global = AccountProxy::parse(config.proxy_url.as_deref()).unwrap_or_else(|e| {
            problems.push(Problem {
                path: "proxy-url".into(),
                message: e.to_string(),
            });
            AccountProxy::Direct
        });
        let catalog = Catalog::load(config.model_catalog.as_deref().map(std::path::Path::new))
            .unwrap_or_else(|p| {
                problems.extend(p);
                Catalog::embedded().unwrap_or_default()
            });
        let oauth = channels::oauth::load(config, &refresher, &catalog);
        let mut configs = config.accounts.clone();
        configs.reserve(oauth.len());
        let mut channels = Vec::with_capacity(oauth.len());
        for (account, channel) in oauth {
            configs.push(account);
            channels.push(channel);
        }
        let mut accounts = Vec::with_capacity(configs.len());
        for a in &configs {
            match Account::from_config(a) {
                Ok(mut acc) => {
                    acc.proxy = std::mem::take(&mut acc.proxy).or(&global);
                    acc.in_flight = in_flight.counter(&acc.id);
                    accounts.push(acc);
                }
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let skip = config.accounts.len();
        for (account, channel) in accounts.iter_mut().skip(skip).zip(channels) {
            account.channel = channel;
        }
        let mut router = Router::from_config(config, &configs);
        router.describe(|account, upstream| {
            let link = accounts.get(account)?.channel.oauth()?;
            let models = catalog.channel(link.catalog);
            models.iter().find(|m| m.id == upstream).cloned()
        });
        let t = &config.upstream_timeouts;
        Ok(Arc::new(Self {
            router,
            accounts,
            keys: ClientKeys::new(&config.api_keys),
            max_body_bytes: config.max_body_bytes,
            max_concurrent_requests: config.max_concurrent_requests,
            max_connections: config.max_connections,
            max_in_flight_memory: config.max_in_flight_memory,
            header_timeout: Duration::from_secs(config.client_timeouts.header_secs),
            body_timeout: Duration::from_secs(config.client_timeouts.body_secs),
            write_timeout: Duration::from_secs(config.client_timeouts.write_secs),
            connect_timeout: Duration::from_secs(t.connect_secs),
            first_byte_timeout: Duration::from_secs(t.first_byte_secs),
            idle_timeout: Duration::from_secs(t.idle_secs),
            cooling: CoolingPolicy {
                disabled: config.disable_cooling,
                transient: config.transient_cooldown_secs.map(Duration::from_secs),
            },
            request_retry: config.request_retry,
            max_retry_interval: Duration::from_secs(config.max_retry_interval_secs),
            max_retry_credentials: config.max_retry_credentials,
            session_affinity: config
                .session_affinity
                .then(|| Duration::from_secs(config.session_affinity_ttl_secs)),
            stream_keepalive: (config.stream_keepalive_secs > 0)
                .then(|| Duration::from_secs(config.stream_keepalive_secs)),
            nonstream_keepalive: (config.nonstream_keepalive_secs > 0)
                .then(|| Duration::from_secs(config.nonstream_keepalive_secs)),
            payload: Payload::new(&config.payload),
            passthrough_headers: config.passthrough_headers,
            gemini_cli_endpoint: config.enable_gemini_cli_endpoint,
            server_timing: config.server_timing && !config.commercial_mode,
            commercial: config.commercial_mode,
        }))
    }
}
