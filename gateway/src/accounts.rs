//! Upstream accounts as the request path uses them: parsed base URL, credentials, headers, and
//! the [`Channel`] that says how the account is reached, with each channel's own state.
//!
//! The bottom of the crate's module graph (STYLE 19): these are types, built once per config
//! snapshot off the hot path; what a channel *does* lives in `channels/`, which imports them.

use crate::upstream_proxy::AccountProxy;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use switchyard_auth::refresh::Refresher;
use switchyard_auth::ProviderId;
use switchyard_conf::{ApiKeyAccount, Problem, ProviderKind, Secret};

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadUrl {
    #[error("base-url {0:?} must start with http:// or https://")]
    Scheme(String),
    #[error("base-url {0:?} has no usable host")]
    Host(String),
    #[error("bad port in {0:?}")]
    Port(String),
}

/// Where an account's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTarget {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix from the base URL without trailing `/` (`/v1`, or empty).
    pub base_path: String,
    /// Value for the `Host` header (`host` or `host:port` when the port is not the default).
    pub authority: String,
}

impl UpstreamTarget {
    /// Parse an absolute `http(s)://host[:port][/path]` URL.
    pub fn parse(url: &str) -> Result<Self, BadUrl> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(BadUrl::Scheme(url.to_owned()));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| BadUrl::Host(url.to_owned()))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| BadUrl::Port(url.to_owned()))?,
                None => default_port,
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_owned(),
                    p.parse().map_err(|_| BadUrl::Port(url.to_owned()))?,
                ),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(BadUrl::Host(url.to_owned()));
        }
        Ok(Self {
            tls,
            host,
            port,
            base_path: path.trim_end_matches('/').to_owned(),
            authority: authority.to_owned(),
        })
    }
}

/// One upstream account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Stable id (`claude-api-key[0]`, `auth-dir/<file>`), used in logs and for state that
    /// outlives reloads.
    pub id: String,
    /// The config section it came from, which fixes its wire protocol (`translate::upstream_wire`).
    pub kind: ProviderKind,
    /// The configured key (empty for OAuth channels, whose token comes from their link).
    pub key: Secret,
    pub target: UpstreamTarget,
    /// Extra headers from config, already validated as header names/values.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// `disable-cooling` on this account.
    pub disable_cooling: bool,
    /// Higher is tried first.
    pub priority: i64,
    /// Share under `weighted-round-robin`.
    pub weight: u32,
    /// Per-account `request-retry` (overrides the global value).
    pub request_retry: Option<u32>,
    /// How the account is reached.
    pub channel: Channel,
    /// `proxy-url` of this account (or of its auth file). `Runtime::build` replaces `Inherit`
    /// with the global `proxy-url`, so on the request path it is `Direct` or `Via`.
    pub proxy: AccountProxy,
    /// Requests in flight on this account (`in_flight.rs`): the counter of its id, shared
    /// by every snapshot.
    pub in_flight: Arc<AtomicU64>,
}

/// How an account is reached: one arm per provider channel, each implemented by its module in
/// `channels/` and called through exhaustive matches there, so a new provider does not compile
/// until every part of it is written.
#[derive(Debug, Clone)]
pub enum Channel {
    /// A configured API key (`gemini-api-key`, `claude-api-key`, `codex-api-key`,
    /// `openai-compatibility`): the provider's own API with its own credential header.
    ApiKey,
    /// A Claude subscription, reached the way Claude Code reaches it.
    ClaudeOAuth(OAuthLink),
    /// ChatGPT's Codex backend (Responses, streams only).
    Codex(OAuthLink),
    /// Qwen's portal (Chat Completions).
    Qwen(OAuthLink),
    /// Kimi's coding API (Chat Completions) with its device headers.
    Kimi(OAuthLink),
    /// iFlow (Chat Completions) with the API key its login fetched.
    Iflow(OAuthLink),
    /// Vertex AI with a service account's JWT-bearer token.
    Vertex(OAuthLink),
    /// Google Code Assist (`v1internal`) as Gemini CLI or Antigravity, one account per project.
    CodeAssist(OAuthLink, Arc<CodeAssistSite>),
}

/// An OAuth account's link to its token in the refresh service.
#[derive(Clone)]
pub struct OAuthLink {
    /// The file id in `auth-dir`.
    pub file: String,
    /// The catalog channel its models come from (`codex-plus`, `qwen`, ...).
    pub catalog: &'static str,
    pub refresher: Arc<Refresher>,
}

impl fmt::Debug for OAuthLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthLink")
            .field("file", &self.file)
            .field("catalog", &self.catalog)
            .finish()
    }
}

impl OAuthLink {
    /// The current access token (`None`: unusable or gone).
    pub fn current(&self) -> Option<Secret> {
        self.refresher.current_token(&self.file)
    }

    /// Why the account cannot serve until a new login (its refresh token was rejected), if
    /// it cannot.
    pub fn login_problem(&self) -> Option<String> {
        match self.refresher.status(&self.file)? {
            switchyard_auth::refresh::AccountStatus::Unusable(why) => Some(why),
            switchyard_auth::refresh::AccountStatus::Active => None,
        }
    }
}

/// Which Code Assist client an account poses as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GeminiCli,
    Antigravity,
}

/// Where one Code Assist pool account's requests go.
#[derive(Debug, Clone)]
pub struct CodeAssistSite {
    pub flavor: Flavor,
    /// The Google Cloud project of this pool account (may be empty for Antigravity).
    pub project: String,
    /// Hosts in the order they are tried (the first is the account's own `target`).
    pub hosts: Vec<UpstreamTarget>,
}

impl Channel {
    /// The OAuth provider behind the channel (`None`: a configured API key).
    pub fn provider(&self) -> Option<ProviderId> {
        match self {
            Self::ApiKey => None,
            Self::ClaudeOAuth(_) => Some(ProviderId::Claude),
            Self::Codex(_) => Some(ProviderId::Codex),
            Self::Qwen(_) => Some(ProviderId::Qwen),
            Self::Kimi(_) => Some(ProviderId::Kimi),
            Self::Iflow(_) => Some(ProviderId::Iflow),
            Self::Vertex(_) => Some(ProviderId::Vertex),
            Self::CodeAssist(_, site) => Some(match site.flavor {
                Flavor::GeminiCli => ProviderId::Gemini,
                Flavor::Antigravity => ProviderId::Antigravity,
            }),
        }
    }

    /// The link to the refresh service (`None`: a configured API key).
    pub fn oauth(&self) -> Option<&OAuthLink> {
        match self {
            Self::ApiKey => None,
            Self::ClaudeOAuth(l)
            | Self::Codex(l)
            | Self::Qwen(l)
            | Self::Kimi(l)
            | Self::Iflow(l)
            | Self::Vertex(l)
            | Self::CodeAssist(l, _) => Some(l),
        }
    }
}

impl Channel {
    /// The link, to fill in its catalog channel once the account's models are known.
    pub fn oauth_mut(&mut self) -> Option<&mut OAuthLink> {
        match self {
            Self::ApiKey => None,
            Self::ClaudeOAuth(l)
            | Self::Codex(l)
            | Self::Qwen(l)
            | Self::Kimi(l)
            | Self::Iflow(l)
            | Self::Vertex(l)
            | Self::CodeAssist(l, _) => Some(l),
        }
    }
}

impl Account {
    /// The account for a configured key (or an auth file's account, whose `channel` the
    /// caller sets); a problem names the config path it comes from.
    pub fn from_config(a: &ApiKeyAccount) -> Result<Self, Problem> {
        let problem = |path: String, message: String| Problem { path, message };
        let target = UpstreamTarget::parse(&a.base_url)
            .map_err(|e| problem(format!("{}.base-url", a.id), e.to_string()))?;
        let mut headers = Vec::with_capacity(a.headers.len());
        for (k, v) in &a.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                problem(
                    format!("{}.headers", a.id),
                    format!("bad header name {k:?}"),
                )
            })?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|_| problem(format!("{}.headers.{k}", a.id), "bad header value".into()))?;
            headers.push((name, value));
        }
        let proxy = AccountProxy::parse(a.proxy_url.as_deref())
            .map_err(|e| problem(format!("{}.proxy-url", a.id), e.to_string()))?;
        Ok(Self {
            id: a.id.clone(),
            kind: a.kind,
            key: a.api_key.clone(),
            target,
            headers,
            disable_cooling: a.disable_cooling,
            priority: a.priority,
            weight: a.weight,
            request_retry: a.request_retry,
            channel: Channel::ApiKey,
            proxy,
            in_flight: Arc::default(),
        })
    }
}

/// Human name of a provider kind, for errors and logs.
pub fn kind_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Gemini => "Gemini",
        ProviderKind::Claude => "Claude",
        ProviderKind::Codex => "Codex (OpenAI Responses)",
        ProviderKind::OpenAiCompat => "OpenAI-compatible",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base_urls() {
        let t = UpstreamTarget::parse("https://api.openai.com/v1/").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.base_path.as_str()),
            (true, "api.openai.com", 443, "/v1")
        );
        assert_eq!(t.authority, "api.openai.com");
        let t = UpstreamTarget::parse("http://127.0.0.1:18317").unwrap();
        assert_eq!(
            (t.tls, t.port, t.base_path.as_str(), t.authority.as_str()),
            (false, 18317, "", "127.0.0.1:18317")
        );
        let t = UpstreamTarget::parse("http://[::1]:9/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9));
        assert!(UpstreamTarget::parse("ftp://x").is_err());
        assert!(UpstreamTarget::parse("http://:80").is_err());
    }
}
