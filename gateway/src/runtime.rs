//! The runtime snapshot: everything a request needs that comes from config (accounts, client
//! keys, model routing, limits), built off the hot path and shared behind an `Arc`.
//!
//! Each request loads the snapshot once in `new_ctx` and keeps it (STYLE 10), so a later hot
//! reload can swap a new one in without a request ever seeing a mix.

use crate::accounts::Account;
use crate::client_auth::ClientKeys;
use crate::health::CoolingPolicy;
use crate::payload::Payload;
use crate::routing::Router;
use crate::upstream_proxy::AccountProxy;
use std::sync::Arc;
use std::time::Duration;
use switchyard_auth::catalog::Catalog;
use switchyard_conf::Config;

#[derive(Debug)]
pub struct Runtime {
    pub accounts: Vec<Account>,
    pub router: Router,
    pub keys: ClientKeys,
    pub max_body_bytes: usize,
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
    /// `enable-gemini-cli-endpoint` (`codeassist/local.rs`).
    pub gemini_cli_endpoint: bool,
}

impl Runtime {
    /// The cooldown policy for one account.
    pub fn cooling_for(&self, account: usize) -> CoolingPolicy {
        let mut p = self.cooling;
        p.disabled |= self.accounts[account].disable_cooling;
        p
    }

    /// The effective `request-retry` of one account.
    pub fn request_retry_for(&self, account: usize) -> u32 {
        self.accounts[account]
            .request_retry
            .unwrap_or(self.request_retry)
    }
}

impl Runtime {
    /// Build the snapshot with a new OAuth refresh service; every problem is returned at once.
    pub fn build(config: &Config) -> Result<Arc<Self>, Vec<String>> {
        let refresher = crate::oauth::new_refresher(config).map_err(|e| vec![e])?;
        Self::build_with(config, refresher)
    }

    /// Build the snapshot around an existing refresh service (a reload keeps its tokens and
    /// refreshes in flight). Re-reads `auth-dir` and the `model-catalog` file.
    pub fn build_with(
        config: &Config,
        refresher: Arc<switchyard_auth::refresh::Refresher>,
    ) -> Result<Arc<Self>, Vec<String>> {
        let mut problems = Vec::new();
        let global = AccountProxy::parse(config.proxy_url.as_deref()).unwrap_or_else(|e| {
            problems.push(format!("proxy-url: {e}"));
            AccountProxy::Direct
        });
        let catalog = Catalog::load(config.model_catalog.as_deref().map(std::path::Path::new))
            .unwrap_or_else(|p| {
                problems.extend(p);
                Catalog::embedded().unwrap_or_default()
            });
        let oauth = crate::oauth::load(config, &refresher, &catalog);
        let mut configs = config.accounts.clone();
        configs.extend(oauth.iter().map(|(a, _)| a.clone()));
        let mut accounts = Vec::with_capacity(configs.len());
        for a in &configs {
            match Account::from_config(a) {
                Ok(mut acc) => {
                    acc.proxy = std::mem::take(&mut acc.proxy).or(&global);
                    accounts.push(acc);
                }
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let links = oauth.into_iter().map(|(_, link)| Some(link));
        let skip = config.accounts.len();
        for (account, link) in accounts.iter_mut().skip(skip).zip(links) {
            account.oauth = link;
        }
        let mut router = Router::from_config(config, &configs);
        router.describe(|account, upstream| {
            let link = accounts.get(account)?.oauth.as_ref()?;
            let models = catalog.channel(link.channel);
            models.iter().find(|m| m.id == upstream).cloned()
        });
        let t = &config.upstream_timeouts;
        Ok(Arc::new(Self {
            router,
            accounts,
            keys: ClientKeys::new(&config.api_keys),
            max_body_bytes: config.max_body_bytes,
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
        }))
    }
}
