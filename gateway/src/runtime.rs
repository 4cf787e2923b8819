//! The runtime snapshot: everything a request needs that comes from config (accounts, client
//! keys, model routing, limits), built off the hot path and shared behind an `Arc`.
//!
//! Each request loads the snapshot once in `new_ctx` and keeps it (STYLE 10), so a later hot
//! reload can swap a new one in without a request ever seeing a mix.

use crate::accounts::Account;
use crate::client_auth::ClientKeys;
use crate::health::CoolingPolicy;
use crate::routing::Router;
use crate::upstream_proxy::AccountProxy;
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
        let global = AccountProxy::parse(config.proxy_url.as_deref()).unwrap_or_else(|e| {
            problems.push(format!("proxy-url: {e}"));
            AccountProxy::Direct
        });
        let mut accounts = Vec::with_capacity(config.accounts.len());
        for a in &config.accounts {
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
        let t = &config.upstream_timeouts;
        Ok(Arc::new(Self {
            router: Router::build(config.routing_strategy, &config.accounts),
            accounts,
            keys: ClientKeys::new(&config.api_keys),
            max_body_bytes: config.max_body_bytes,
            connect_timeout: Duration::from_secs(t.connect_secs),
            read_timeout: Duration::from_secs(t.first_byte_secs.max(t.idle_secs)),
            cooling: CoolingPolicy {
                disabled: config.disable_cooling,
                transient: config.transient_cooldown_secs.map(Duration::from_secs),
            },
        }))
    }
}
