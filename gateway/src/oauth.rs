//! OAuth accounts from `auth-dir` in the pool: the usable Codex auth files become Codex
//! accounts (ChatGPT backend `/responses`, `base-url` from `oauth-overrides.codex`), Qwen
//! files OpenAI-compatible accounts (`resource_url` or the portal), Gemini CLI and Antigravity
//! files Code Assist accounts (`codeassist.rs`, one per project), with
//! their file metadata (prefix, headers, priority, weight, excluded models, cooling), the
//! `chatgpt-account-id` and `originator` headers, and a link to the refresh service that holds
//! their current access token. Claude (`claude_oauth.rs`), Kimi and iFlow (`oauth_openai.rs`)
//! and Vertex (`vertex.rs`) files are built by their own modules. Each account serves its
//! channel's catalog models (`oauth_models.rs`: `oauth-model-alias`, `oauth-excluded-models`,
//! the file's `excluded_models`).
//!
//! Contract: built with the runtime snapshot, off the hot path. Per attempt, `upstream_peer`
//! awaits [`OAuthLink::ready`] (so a request that arrives during a refresh waits for it) and
//! `set_credentials` sends [`OAuthLink::current`] as `Authorization: Bearer`. The refresh
//! service runs on its own thread ([`spawn_refresh`]); it re-reads `auth-dir` every tick, so a
//! token rewritten by `switchyard refresh` or a new login of the same file is used without a
//! restart (files added, changed or removed rebuild the accounts: `reload.rs`).
//!
//! An upstream 401 on an OAuth account ([`retry_after_401`], from `upstream_response_filter`)
//! puts the same account once more right after the current attempt; before that attempt
//! ([`before_attempt`], in `upstream_peer`) the token that got the 401 is refreshed (single
//! flight: concurrent requests that saw the same token share one grant). At most one such
//! retry per request; a second 401 fails over as usual.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use switchyard_auth::catalog::Catalog;
use switchyard_auth::refresh::{Refresher, SystemClock};
use switchyard_auth::{Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, Config, ProviderKind, Secret};

/// `originator` sent with Codex OAuth requests, as the Codex CLI does.
const CODEX_ORIGINATOR: &str = "codex_cli_rs";
/// The Qwen Code release whose headers Qwen OAuth requests carry (the pinned test client's).
const QWEN_CODE_VERSION: &str = "0.15.10";
/// Background refresh workers (CLIProxyAPI's default is 16; a gateway has few accounts).
const REFRESH_WORKERS: usize = 4;
/// How often the refresh service re-reads `auth-dir` and checks what is due.
const REFRESH_TICK: Duration = Duration::from_secs(1);

/// An account's link to its token in the refresh service.
#[derive(Clone)]
pub struct OAuthLink {
    /// The file id in `auth-dir`.
    pub file: String,
    /// Whose file it is: decides the path, headers and envelope of the account's requests.
    pub provider: ProviderId,
    /// The catalog channel its models come from (`codex-plus`, `qwen`, ...).
    pub channel: &'static str,
    /// Gemini CLI and Antigravity accounts: project, hosts and envelope (`codeassist.rs`).
    pub codeassist: Option<Arc<crate::codeassist::Channel>>,
    refresher: Arc<Refresher>,
}

impl fmt::Debug for OAuthLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthLink")
            .field("file", &self.file)
            .field("provider", &self.provider)
            .field("channel", &self.channel)
            .finish()
    }
}

impl OAuthLink {
    /// Waits while this account's token is being refreshed.
    pub async fn ready(&self) {
        let _ = self.refresher.token(&self.file).await;
    }

    /// The current access token (`None`: unusable or gone).
    pub fn current(&self) -> Option<Secret> {
        self.refresher.current_token(&self.file)
    }
}

/// The per-request state of the 401 retry (one field of `Ctx`).
#[derive(Debug, Default)]
pub enum OAuthRetry {
    #[default]
    None,
    /// The next attempt refreshes first; the token that got the 401.
    Pending(Secret),
    /// The one retry of this request is used.
    Done,
}

/// Called with each upstream status: on a 401 from an OAuth account, when this request has not
/// retried yet, schedules the retry and returns true (the caller turns the response into a
/// retryable error before anything reaches the client).
pub fn retry_after_401(status: u16, ctx: &mut crate::ctx::Ctx) -> bool {
    if status != 401 || !matches!(ctx.oauth_retry, OAuthRetry::None) {
        return false;
    }
    let Some(i) = ctx.current else { return false };
    let Some(candidate) = ctx.candidates.get(i).cloned() else {
        return false;
    };
    let Some(seen) = ctx.rt.accounts[candidate.account]
        .oauth
        .as_ref()
        .and_then(OAuthLink::current)
    else {
        return false;
    };
    ctx.candidates.insert(i + 1, candidate);
    ctx.oauth_retry = OAuthRetry::Pending(seen);
    true
}

/// Before an attempt on an OAuth account: refresh after a 401, or wait for a refresh another
/// caller started.
pub async fn before_attempt(link: &OAuthLink, retry: &mut OAuthRetry) {
    match std::mem::take(retry) {
        OAuthRetry::Pending(seen) => {
            *retry = OAuthRetry::Done;
            if let Err(e) = link
                .refresher
                .refresh_after_401(&link.file, seen.expose())
                .await
            {
                tracing::warn!(account = %link.file, "OAuth refresh after a 401 failed: {e}");
            }
        }
        other => {
            *retry = other;
            link.ready().await;
        }
    }
}

/// The refresh service for `auth-dir` (one per process: reloads reuse it, so tokens and
/// refreshes in flight survive them).
pub fn new_refresher(config: &Config) -> Result<Arc<Refresher>, String> {
    Refresher::new(config, REFRESH_WORKERS, Arc::new(SystemClock))
        .map_err(|e| format!("auth-dir: {e}"))
}

/// Re-reads `auth-dir` into `refresher` and builds an account for each usable file, with its
/// models from `catalog` ([`crate::oauth_models::apply`]): the accounts to append to the
/// configured ones, each with its link to the refresh service.
pub fn load(
    config: &Config,
    refresher: &Arc<Refresher>,
    catalog: &Catalog,
) -> Vec<(ApiKeyAccount, OAuthLink)> {
    let ids = refresher.reload();
    let mut accounts = Vec::new();
    for file in ids {
        let (Some(record), Some(provider)) = (refresher.record(&file), refresher.provider(&file))
        else {
            continue;
        };
        let built: Vec<(ApiKeyAccount, Option<Arc<crate::codeassist::Channel>>)> = match provider.id
        {
            ProviderId::Codex => vec![(codex_account(&file, &record, &provider), None)],
            ProviderId::Qwen => vec![(qwen_account(&file, &record, &provider), None)],
            ProviderId::Claude => {
                vec![(
                    crate::claude_oauth::account(&file, &record, &provider),
                    None,
                )]
            }
            ProviderId::Kimi => {
                vec![(
                    crate::oauth_openai::kimi_account(&file, &record, &provider),
                    None,
                )]
            }
            ProviderId::Iflow => {
                vec![(
                    crate::oauth_openai::iflow_account(&file, &record, &provider),
                    None,
                )]
            }
            ProviderId::Vertex => vec![(crate::vertex::account(&file, &record, &provider), None)],
            // One account per project of the file.
            ProviderId::Gemini | ProviderId::Antigravity => {
                crate::codeassist::accounts(&file, &record, &provider)
                    .into_iter()
                    .map(|(a, ch)| (a, Some(ch)))
                    .collect()
            }
        };
        for (mut account, codeassist) in built {
            let Some(channel) =
                crate::oauth_models::apply(&mut account, provider.id, &record, catalog, config)
            else {
                tracing::info!(file = %file, provider = provider.id.name(), "auth file skipped: no catalog model left after the exclusions");
                continue;
            };
            let link = OAuthLink {
                file: file.clone(),
                provider: provider.id,
                channel,
                codeassist,
                refresher: refresher.clone(),
            };
            accounts.push((account, link));
        }
    }
    accounts
}

fn codex_account(
    file: &str,
    record: &switchyard_auth::AuthRecord,
    provider: &Provider,
) -> ApiKeyAccount {
    let mut a = file_account(file, record, ProviderKind::Codex, &provider.base_url);
    a.headers
        .insert("originator".into(), CODEX_ORIGINATOR.into());
    if let Some(id) = record.account_id() {
        a.headers.insert("chatgpt-account-id".into(), id.to_owned());
    }
    a
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

/// A Qwen account: OpenAI Chat Completions at `oauth-overrides.qwen.base-url` when set, else
/// the token's `resource_url` (`https://<resource_url>/v1`), else the portal.
fn qwen_account(
    file: &str,
    record: &switchyard_auth::AuthRecord,
    provider: &Provider,
) -> ApiKeyAccount {
    let overridden = provider.base_url != Provider::builtin(ProviderId::Qwen).base_url;
    let base_url = match record.resource_url().filter(|_| !overridden) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => u.to_owned(),
        Some(host) => format!("https://{}/v1", host.trim_end_matches('/')),
        None => provider.base_url.clone(),
    };
    let mut a = file_account(file, record, ProviderKind::OpenAiCompat, &base_url);
    a.provider_name = "qwen".into();
    // What Qwen Code sends with its OAuth token (its DashScope provider's `buildHeaders`);
    // the file's own `headers` win.
    let ua = format!(
        "QwenCode/{QWEN_CODE_VERSION} ({}; {})",
        node_platform(),
        node_arch()
    );
    for (name, value) in [
        ("user-agent", ua.as_str()),
        ("x-dashscope-cachecontrol", "enable"),
        ("x-dashscope-useragent", ua.as_str()),
        ("x-dashscope-authtype", "qwen-oauth"),
    ] {
        if !a.headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            a.headers.insert(name.into(), value.into());
        }
    }
    a
}

/// `process.platform` as Node names it.
fn node_platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

/// `process.arch` as Node names it.
fn node_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
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
