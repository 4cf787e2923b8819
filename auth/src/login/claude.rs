//! Claude's token endpoint: `api.anthropic.com/v1/oauth/token` takes a JSON body (the code
//! grant also carries `state`) and answers with the account's email under
//! `account.email_address`; its authorization page may hand back the code as `code#state`.
//!
//! Contract: [`split_code`] checks the `#state` half against the login's state. [`exchange`]
//! and [`refresh`] send JSON first; a server that only takes forms (an RFC 6749 provider such
//! as the test provider: 415, or 400 `invalid_request` about the content type) gets the same
//! grant once more as a form. No error carries a response body.

use crate::error::AuthError;
use crate::provider::Provider;
use crate::record::TokenSet;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_conf::Secret;

/// A callback code that may be `code#state`: the code, after checking the state half.
pub fn split_code(code: &str, expected_state: &str) -> Result<String, AuthError> {
    match code.split_once('#') {
        Some((c, state)) if state == expected_state => Ok(c.to_owned()),
        Some(_) => Err(AuthError::StateMismatch),
        None => Ok(code.to_owned()),
    }
}

/// The authorization-code grant.
pub async fn exchange(
    p: &Provider,
    http: &reqwest::Client,
    code: &str,
    state: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<TokenSet, AuthError> {
    let body = json!({
        "grant_type": "authorization_code",
        "code": code,
        "state": state,
        "client_id": p.client_id,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    });
    token_request(p, http, body).await
}

/// The refresh-token grant.
pub async fn refresh(
    p: &Provider,
    http: &reqwest::Client,
    refresh_token: &str,
) -> Result<TokenSet, AuthError> {
    let body = json!({
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": p.client_id,
    });
    token_request(p, http, body).await
}

#[derive(Deserialize)]
struct ClaudeTokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    account: Option<ClaudeTokenAccount>,
}

#[derive(Deserialize)]
struct ClaudeTokenAccount {
    #[serde(default)]
    email_address: Option<String>,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

async fn token_request(
    p: &Provider,
    http: &reqwest::Client,
    body: Value,
) -> Result<TokenSet, AuthError> {
    let sent = http
        .post(&p.token_url)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await;
    let resp = sent.map_err(|e| AuthError::Transport(e.to_string()))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    if (200..300).contains(&status) {
        return parse_tokens(&bytes);
    }
    let err: OAuthErrorBody = serde_json::from_slice(&bytes).unwrap_or(OAuthErrorBody {
        error: None,
        error_description: None,
    });
    let about_content_type = err.error.as_deref() == Some("invalid_request")
        && err
            .error_description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("content-type"));
    if status == 415 || about_content_type {
        return form_request(p, http, &body).await;
    }
    Err(rejected(status, err))
}

/// The same grant as `application/x-www-form-urlencoded`.
async fn form_request(
    p: &Provider,
    http: &reqwest::Client,
    body: &Value,
) -> Result<TokenSet, AuthError> {
    let mut form: Vec<(String, String)> = Vec::new();
    if let Some(o) = body.as_object() {
        for (k, v) in o {
            // `state` is Claude's own addition to the code grant; RFC 6749 servers reject
            // nothing for it, but it has no meaning there.
            if let (Some(v), false) = (v.as_str(), k == "state") {
                form.push((k.clone(), v.to_owned()));
            }
        }
    }
    let bytes = crate::oauth::token_post(http.post(&p.token_url).form(&form)).await?;
    parse_tokens(&bytes)
}

fn rejected(status: u16, err: OAuthErrorBody) -> AuthError {
    AuthError::Rejected {
        code: err.error.unwrap_or_else(|| format!("http_{status}")),
        description: err.error_description.map(|d| d.chars().take(200).collect()),
    }
}

fn parse_tokens(bytes: &[u8]) -> Result<TokenSet, AuthError> {
    let t: ClaudeTokenResponse = serde_json::from_slice(bytes)
        .map_err(|e| AuthError::Protocol(format!("bad token response at line {}", e.line())))?;
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        refresh_token: t.refresh_token.map(Secret::new),
        id_token: t.id_token.map(Secret::new),
        expires_in_secs: t.expires_in,
        token_type: t.token_type,
        scope: t.scope,
        resource_url: None,
        email: t
            .account
            .and_then(|a| a.email_address)
            .filter(|e| !e.is_empty()),
        api_key: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_with_state_suffix() {
        assert_eq!(split_code("abc#st", "st").ok().as_deref(), Some("abc"));
        assert_eq!(split_code("abc", "st").ok().as_deref(), Some("abc"));
        assert!(matches!(
            split_code("abc#other", "st"),
            Err(AuthError::StateMismatch)
        ));
    }

    #[test]
    fn reads_the_account_email() {
        let t = parse_tokens(
            br#"{"access_token":"a","refresh_token":"r","expires_in":3600,"token_type":"Bearer",
                "account":{"uuid":"u","email_address":"me@x.test"},"organization":{"uuid":"o"}}"#,
        )
        .ok();
        let t = t.as_ref();
        assert_eq!(t.and_then(|t| t.email.as_deref()), Some("me@x.test"));
        assert_eq!(t.and_then(|t| t.expires_in_secs), Some(3600));
        assert!(parse_tokens(b"{}").is_err());
    }
}
