//! OAuth accounts from `auth-dir` in the pool: every usable auth file becomes one or more
//! accounts of its provider's channel (`accounts_of_file`), with the file's metadata (prefix,
//! headers, priority, weight, excluded models, cooling) and a link to the refresh service that
//! holds its current access token. Each account serves its channel's catalog models
//! (`catalog.rs`: `oauth-model-alias`, `oauth-excluded-models`, the file's `excluded_models`).
//!
//! Contract: built with the runtime snapshot, off the hot path. Per attempt, `upstream_peer`
//! calls [`before_attempt`] (so a request that arrives during a refresh waits for it) and the
//! channel sends the link's current token. The refresh service runs on its own thread
//! ([`spawn_refresh`]); it re-reads `auth-dir` every tick, so a token rewritten by
//! `switchyard refresh` or a new login of the same file is used without a restart (files
//! added, changed or removed rebuild the accounts: `reload.rs`).
//!
//! An upstream 401 on an OAuth account puts the same account once more right after the
//! current attempt (`Failover::repeat`); before that attempt [`before_attempt`] refreshes the
//! token that got the 401 (single flight: concurrent requests that saw the same token share
//! one grant). At most one such retry per request; a second 401 fails over as usual.

use crate::accounts::{Channel, OAuthLink};
use std::sync::Arc;
use std::time::Duration;
use switchyard_auth::catalog::Catalog;
use switchyard_auth::refresh::{Refresher, SystemClock};
use switchyard_auth::AuthError;
use switchyard_conf::{ApiKeyAccount, Config, ProviderKind, Secret};

/// Background refresh workers (CLIProxyAPI's default is 16; a gateway has few accounts).
const REFRESH_WORKERS: usize = 4;
/// How often the refresh service re-reads `auth-dir` and checks what is due.
const REFRESH_TICK: Duration = Duration::from_secs(1);

/// Before an attempt on an OAuth account: refresh the token that got a 401 (`seen`), or wait
/// for a refresh another caller started.
pub async fn before_attempt(link: &OAuthLink, seen: Option<Secret>, request_id: &str) {
    match seen {
        Some(seen) => {
            if let Err(e) = link
                .refresher
                .refresh_after_401(&link.file, seen.expose())
                .await
            {
                tracing::warn!(request_id, account = %link.file, "OAuth refresh after a 401 failed: {e}");
            }
        }
        None => {
            let _ = link.refresher.token(&link.file).await;
        }
    }
}

/// The refresh service for `auth-dir` (one per process: reloads reuse it, so tokens and
/// refreshes in flight survive them).
/// With `shared-state`, refreshes are coordinated with the other replicas through a lock in
/// Redis (`shared_state::refresh_lock`; docs/scale-out.md), from the first one on.
pub fn new_refresher(config: &Config) -> Result<Arc<Refresher>, AuthError> {
    let refresher = Refresher::new(config, REFRESH_WORKERS, Arc::new(SystemClock))?;
    if let Some(cfg) = &config.shared_state {
        let lock = crate::shared_state::refresh_lock::RedisRefreshLock::start(cfg)
            .map_err(|e| AuthError::Config(e.to_string()))?;
        refresher.set_coordination(switchyard_auth::refresh::Coordination::new(lock));
    }
    Ok(refresher)
}

/// Re-reads `auth-dir` into `refresher` and builds the accounts of each usable file, with
/// their models from `catalog` ([`super::catalog::apply`]): the accounts to append to the
/// configured ones, each with its channel.
pub fn load(
    config: &Config,
    refresher: &Arc<Refresher>,
    catalog: &Catalog,
) -> Vec<(ApiKeyAccount, Channel)> {
    let ids = refresher.reload();
    let mut accounts = Vec::new();
    for file in ids {
        let (Some(record), Some(provider)) = (refresher.record(&file), refresher.provider(&file))
        else {
            continue;
        };
        let link = OAuthLink {
            file: file.clone(),
            catalog: "",
            refresher: refresher.clone(),
        };
        for (mut account, mut channel) in super::accounts_of_file(&file, &record, &provider, link) {
            let Some(served) =
                super::catalog::apply(&mut account, provider.id, &record, catalog, config)
            else {
                tracing::info!(file = %file, provider = provider.id.name(), "auth file skipped: no catalog model left after the exclusions");
                continue;
            };
            if let Some(link) = channel.oauth_mut() {
                link.catalog = served;
            }
            accounts.push((account, channel));
        }
    }
    accounts
}

/// An account of `kind` at `base_url` with the file's metadata (prefix, headers, priority,
/// weight, excluded models, cooling, retry, proxy) and no key of its own.
pub fn file_account(
    file: &str,
    record: &switchyard_auth::AuthRecord,
    kind: ProviderKind,
    base_url: &str,
) -> ApiKeyAccount {
    let m = &record.meta;
    ApiKeyAccount {
        kind,
        id: format!("auth-dir/{file}"),
        provider_name: String::new(),
        api_key: Secret::default(),
        base_url: base_url.trim_end_matches('/').to_owned(),
        prefix: m.prefix.clone(),
        headers: m.headers.clone(),
        proxy_url: m.proxy_url.clone(),
        models: Vec::new(),
        excluded_models: m.excluded_models.clone(),
        disable_cooling: m.disable_cooling,
        priority: m.priority,
        weight: m.weight.unwrap_or(1),
        request_retry: m.request_retry,
    }
}

/// Runs the refresh service on its own thread (a current-thread tokio runtime), for the life
/// of the process.
pub fn spawn_refresh(refresher: Arc<Refresher>) {
    let spawned = std::thread::Builder::new()
        .name("oauth-refresh".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(refresher.run(REFRESH_TICK)),
                Err(e) => tracing::error!("OAuth refresh service not started: {e}"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!("OAuth refresh service not started: {e}");
    }
}
