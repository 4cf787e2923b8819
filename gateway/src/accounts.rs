//! Upstream accounts as the request path uses them: parsed base URL, credentials and headers.
//!
//! Built once per config snapshot, off the hot path. Runs nowhere on its own.

use crate::upstream_proxy::AccountProxy;
use switchyard_conf::{ApiKeyAccount, ProviderKind, Secret};

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
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!(
                "base-url {url:?} must start with http:// or https://"
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("bad IPv6 host in {url:?}"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| format!("bad port in {url:?}"))?,
                None => default_port,
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_owned(),
                    p.parse().map_err(|_| format!("bad port in {url:?}"))?,
                ),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("base-url {url:?} has no host"));
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
    /// Stable id (`claude-api-key[0]`), used in logs and for state that outlives reloads.
    pub id: String,
    pub kind: ProviderKind,
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
    /// OAuth accounts from `auth-dir`: where the current access token comes from.
    pub oauth: Option<crate::oauth::OAuthLink>,
    /// `proxy-url` of this account (or of its auth file). `Runtime::build` replaces `Inherit`
    /// with the global `proxy-url`, so on the request path it is `Direct` or `Via`.
    pub proxy: AccountProxy,
}

impl Account {
    /// The ChatGPT backend behind a Codex OAuth account only streams: a non-stream request is
    /// sent as a stream and the answer aggregated (`ResponseMode::Aggregate`).
    pub fn streams_only(&self) -> bool {
        self.oauth_provider() == Some(switchyard_auth::ProviderId::Codex)
    }

    /// The OAuth provider behind this account (`None`: a configured API key).
    pub fn oauth_provider(&self) -> Option<switchyard_auth::ProviderId> {
        self.oauth.as_ref().map(|l| l.provider)
    }
}

impl Account {
    pub fn from_config(a: &ApiKeyAccount) -> Result<Self, String> {
        let target = UpstreamTarget::parse(&a.base_url).map_err(|e| format!("{}: {e}", a.id))?;
        let mut headers = Vec::with_capacity(a.headers.len());
        for (k, v) in &a.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("{}.headers: bad header name {k:?}", a.id))?;
            let value = http::HeaderValue::from_str(v)
                .map_err(|_| format!("{}.headers.{k}: bad header value", a.id))?;
            headers.push((name, value));
        }
        let proxy = AccountProxy::parse(a.proxy_url.as_deref())
            .map_err(|e| format!("{}.proxy-url: {e}", a.id))?;
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
            oauth: None,
            proxy,
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
