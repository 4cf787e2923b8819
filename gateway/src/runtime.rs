//! The runtime snapshot: everything a request needs that comes from config (accounts, client
//! keys, model routing, limits), built off the hot path and shared behind an `Arc`.
//!
//! Each request loads the snapshot once in `new_ctx` and keeps it (STYLE 10), so a later hot
//! reload can swap a new one in without a request ever seeing a mix.

use crate::accounts::Account;
use crate::client_auth::ClientKeys;
use crate::health::CoolingPolicy;
use crate::routing::Router;
use std::sync::Arc;
use std::time::Duration;
use switchyard_conf::Config;

#[derive(Debug)]
pub struct Runtime {
    pub accounts: Vec<Account>,
    pub router: Router,
    pub keys: ClientKeys,
    pub max_body_bytes: usize,
    pub connect_timeout: Duration,
    /// Longest wait for any single upstream read (first byte or inside a stream).
    pub read_timeout: Duration,
    /// Global cooldown settings; accounts may disable cooling for themselves.
    pub cooling: CoolingPolicy,
    /// The OAuth refresh service, when `auth-dir` holds OAuth accounts.
    pub oauth: Option<Arc<switchyard_auth::refresh::Refresher>>,
}

impl Runtime {
    /// The cooldown policy for one account.
    pub fn cooling_for(&self, account: usize) -> CoolingPolicy {
        let mut p = self.cooling;
        p.disabled |= self.accounts[account].disable_cooling;
        p
    }
}

impl Runtime {
    /// Build the snapshot; every problem is returned at once.
    pub fn build(config: &Config) -> Result<Arc<Self>, Vec<String>> {
        let mut problems = Vec::new();
        let oauth = crate::oauth::load(config).map_err(|e| vec![e])?;
        let mut configs = config.accounts.clone();
        configs.extend(oauth.accounts.iter().map(|(a, _)| a.clone()));
        let mut accounts = Vec::with_capacity(configs.len());
        for a in &configs {
            match Account::from_config(a) {
                Ok(acc) => accounts.push(acc),
                Err(e) => problems.push(e),
            }
            if let Some(p) = a.proxy_url.as_deref().filter(|p| !is_direct(p)) {
                problems.push(format!(
                    "{}.proxy-url {p:?}: upstream proxies are not supported yet; remove it or use `direct`",
                    a.id
                ));
            }
        }
        if let Some(p) = config.proxy_url.as_deref().filter(|p| !is_direct(p)) {
            problems.push(format!(
                "proxy-url {p:?}: upstream proxies are not supported yet; remove it or use `direct`"
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let links = oauth.accounts.into_iter().map(|(_, link)| Some(link));
        let skip = config.accounts.len();
        for (account, link) in accounts.iter_mut().skip(skip).zip(links) {
            account.oauth = link;
        }
        let t = &config.upstream_timeouts;
        Ok(Arc::new(Self {
            router: Router::build(config.routing_strategy, &configs),
            accounts,
            keys: ClientKeys::new(&config.api_keys),
            max_body_bytes: config.max_body_bytes,
            connect_timeout: Duration::from_secs(t.connect_secs),
            read_timeout: Duration::from_secs(t.first_byte_secs.max(t.idle_secs)),
            cooling: CoolingPolicy {
                disabled: config.disable_cooling,
                transient: config.transient_cooldown_secs.map(Duration::from_secs),
            },
            oauth: oauth.refresher,
        }))
    }
}

fn is_direct(p: &str) -> bool {
    p.is_empty() || p.eq_ignore_ascii_case("direct") || p.eq_ignore_ascii_case("none")
}
