//! iFlow: its token endpoint takes a form with HTTP Basic client authentication
//! (`client_id:client_secret`, the secret from `oauth-overrides.iflow.client-secret`), and the
//! account's credential is not the access token but an API key fetched afterwards from
//! `GET {origin}/api/oauth/getUserInfo?accessToken=..` (`data.apiKey`, with `data.email` or
//! `data.phone` naming the file). A browser cookie can stand in for the OAuth step:
//! `{platform}/api/openapi/apikey` answers the key (masked on GET; a POST with the key's
//! `name` returns it whole), as CLIProxyAPI's `iflow_cookie.go` does.
//!
//! Endpoints derive from `token-url`: `https://iflow.cn/oauth/token` gives the user-info URL
//! `https://iflow.cn/api/oauth/getUserInfo`; an overridden `X/oauth/token` gives
//! `X/api/oauth/getUserInfo` and the cookie API `X/api/openapi/apikey` (the real cookie API
//! lives on `platform.iflow.cn`). Contract: no error carries a response body or a key.

use crate::error::AuthError;
use crate::provider::{Provider, ProviderId};
use crate::record::TokenSet;
use base64::Engine;
use serde::Deserialize;
use switchyard_conf::Secret;

const REAL_COOKIE_API: &str = "https://platform.iflow.cn/api/openapi/apikey";

/// The authorization-request parameters iFlow's login page reads (besides the standard ones).
pub fn auth_params(redirect_uri: &str) -> [(&'static str, String); 3] {
    [
        ("loginMethod", "phone".to_owned()),
        ("type", "phone".to_owned()),
        ("redirect", redirect_uri.to_owned()),
    ]
}

fn origin(p: &Provider) -> &str {
    p.token_url
        .strip_suffix("/oauth/token")
        .unwrap_or(p.token_url.as_str())
}

fn cookie_api(p: &Provider) -> String {
    if p.token_url == Provider::builtin(ProviderId::Iflow).token_url {
        REAL_COOKIE_API.to_owned()
    } else {
        format!("{}/api/openapi/apikey", origin(p))
    }
}

/// The code grant, then the API key.
pub async fn exchange(
    p: &Provider,
    http: &reqwest::Client,
    code: &str,
    redirect_uri: &str,
) -> Result<TokenSet, AuthError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    let t = token_request(p, http, &form).await?;
    with_key(p, http, t).await
}

/// The refresh grant, then the API key again (it may have been rotated).
pub async fn refresh(
    p: &Provider,
    http: &reqwest::Client,
    refresh_token: &str,
) -> Result<TokenSet, AuthError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let t = token_request(p, http, &form).await?;
    with_key(p, http, t).await
}

#[derive(Deserialize)]
struct IflowTokens {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

async fn token_request(
    p: &Provider,
    http: &reqwest::Client,
    form: &[(&str, &str)],
) -> Result<TokenSet, AuthError> {
    let Some(secret) = &p.client_secret else {
        return Err(AuthError::Config(
            "iflow needs oauth-overrides.iflow.client-secret (its token endpoint authenticates \
             the client)"
                .into(),
        ));
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        p.client_id,
        secret.expose()
    ));
    let mut body: Vec<(&str, &str)> = form.to_vec();
    body.push(("client_id", &p.client_id));
    body.push(("client_secret", secret.expose()));
    let bytes = crate::oauth::token_post(
        http.post(&p.token_url)
            .header("authorization", format!("Basic {basic}"))
            .form(&body),
    )
    .await?;
    let t: IflowTokens = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Protocol("iflow token response without access_token".into()))?;
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: t.refresh_token.map(Secret::new),
        expires_in_secs: t.expires_in,
        token_type: t.token_type,
        scope: t.scope,
        ..TokenSet::default()
    })
}

#[derive(Deserialize)]
struct IflowUserInfo {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    data: Option<IflowUserData>,
}

#[derive(Deserialize)]
struct IflowUserData {
    #[serde(default, rename = "apiKey")]
    api_key: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

async fn with_key(
    p: &Provider,
    http: &reqwest::Client,
    mut t: TokenSet,
) -> Result<TokenSet, AuthError> {
    let url = format!("{}/api/oauth/getUserInfo", origin(p));
    let resp = http
        .get(&url)
        .query(&[("accessToken", t.access_token.expose())])
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    let data = user_data(resp, "user info").await?;
    t.email = [data.email, data.phone]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty());
    t.api_key = Some(Secret::new(data.api_key));
    Ok(t)
}

async fn user_data(resp: reqwest::Response, what: &str) -> Result<IflowUserData, AuthError> {
    let status = resp.status().as_u16();
    let info: IflowUserInfo = resp
        .json()
        .await
        .map_err(|_| AuthError::Protocol(format!("iflow {what}: not JSON (HTTP {status})")))?;
    match info.data {
        Some(d) if info.success && !d.api_key.is_empty() => Ok(d),
        _ => Err(AuthError::Protocol(format!(
            "iflow {what}: no API key in the answer (HTTP {status})"
        ))),
    }
}

/// The part of a browser cookie kept in the file (`BXAuth=..;`), as CLIProxyAPI keeps it.
pub fn kept_cookie(cookie: &str) -> Option<String> {
    cookie
        .split(';')
        .map(str::trim)
        .find_map(|c| c.strip_prefix("BXAuth="))
        .filter(|v| !v.is_empty())
        .map(|bx| format!("BXAuth={bx};"))
}

/// `--cookie`: the API key behind a logged-in browser session (the account name as email).
pub async fn cookie_login(
    p: &Provider,
    http: &reqwest::Client,
    cookie: &str,
) -> Result<TokenSet, AuthError> {
    if kept_cookie(cookie).is_none() {
        return Err(AuthError::Config("the cookie has no BXAuth value".into()));
    }
    let url = cookie_api(p);
    let send = |req: reqwest::RequestBuilder| async move {
        req.header("cookie", cookie)
            .header("accept", "application/json, text/plain, */*")
            .send()
            .await
            .map_err(|e| AuthError::Transport(e.to_string()))
    };
    let first = user_data(send(http.get(&url)).await?, "cookie key").await?;
    let name = first.name.clone().unwrap_or_default();
    // GET shows the key masked; POST with its name returns it whole.
    let full = user_data(
        send(http.post(&url).json(&serde_json::json!({ "name": name }))).await?,
        "cookie key",
    )
    .await?;
    let t = TokenSet {
        access_token: Secret::new(String::new()),
        api_key: Some(Secret::new(full.api_key)),
        email: full.name.or(first.name).filter(|n| !n.is_empty()),
        ..TokenSet::default()
    };
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_token_url() {
        let real = Provider::builtin(ProviderId::Iflow);
        assert_eq!(origin(&real), "https://iflow.cn");
        assert_eq!(cookie_api(&real), REAL_COOKIE_API);
        let mut local = real.clone();
        local.token_url = "http://127.0.0.1:9/_auth/oauth/token".into();
        assert_eq!(origin(&local), "http://127.0.0.1:9/_auth");
        assert_eq!(
            cookie_api(&local),
            "http://127.0.0.1:9/_auth/api/openapi/apikey"
        );
    }
}
