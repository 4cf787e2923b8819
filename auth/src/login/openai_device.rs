//! `switchyard login codex --device` against OpenAI: its own device login, which is not RFC
//! 8628 (what the Codex CLI's `codex login --device-auth` does; CLIProxyAPI
//! `-codex-device-login`).
//!
//! 1. `POST {accounts}/deviceauth/usercode` `{"client_id"}` gives `device_auth_id`, `user_code`
//!    and `interval` (seconds, a number or a string; 5 when absent).
//! 2. The user opens `{issuer}/codex/device` and enters the code.
//! 3. `POST {accounts}/deviceauth/token` `{"device_auth_id", "user_code"}` answers 403 or 404
//!    while the code is not approved yet (poll again after `interval`), then
//!    `{"authorization_code", "code_verifier", ...}`.
//! 4. That code is exchanged at the token endpoint like a browser login's (authorization code
//!    with PKCE), with the redirect URI `{issuer}/deviceauth/callback`.
//!
//! `{accounts}` is the device URL without `/deviceauth/usercode` (default
//! `https://auth.openai.com/api/accounts`) and `{issuer}` that without `/api/accounts`, so
//! `oauth-overrides.codex.device-url` moves all of it. A device URL that does not end in
//! `/deviceauth/usercode` is an RFC 8628 endpoint (`device.rs`). The login gives up after 15
//! minutes, as the Codex CLI does; the caller's own timeout usually comes first.

use crate::egress::Route;
use crate::error::AuthError;
use crate::oauth;
use crate::provider::Provider;
use crate::record::TokenSet;
use oauth2::{AuthorizationCode, PkceCodeVerifier, RedirectUrl};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

/// The path that marks a device URL as OpenAI's own flow.
pub const USERCODE_PATH: &str = "/deviceauth/usercode";
const ACCOUNTS_PATH: &str = "/api/accounts";
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const GIVE_UP_AFTER: Duration = Duration::from_secs(15 * 60);

/// Whether `device_url` is OpenAI's device login rather than an RFC 8628 endpoint.
pub fn is_openai(device_url: &str) -> bool {
    device_url.trim_end_matches('/').ends_with(USERCODE_PATH)
}

/// Runs the device login of `p` (Codex). `sleep` waits between polls.
pub async fn run<S, SF>(
    p: &Provider,
    route: &Route,
    out: &mut (dyn Write + Send),
    sleep: S,
) -> Result<TokenSet, AuthError>
where
    S: Fn(Duration) -> SF,
    SF: std::future::Future<Output = ()>,
{
    let accounts = p
        .device_url
        .trim_end_matches('/')
        .trim_end_matches(USERCODE_PATH)
        .to_owned();
    let issuer = accounts.trim_end_matches(ACCOUNTS_PATH).to_owned();
    let http = crate::egress::client(route, &[])?;

    let code = post(
        &http,
        &format!("{accounts}{USERCODE_PATH}"),
        &json!({ "client_id": p.client_id }),
    )
    .await?
    .ok_or_else(|| AuthError::Protocol("device code request refused".into()))?;
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let device_auth_id = field(&code, "device_auth_id")
        .ok_or_else(|| AuthError::Protocol("no device_auth_id in the device code answer".into()))?;
    let user_code = field(&code, "user_code")
        .or_else(|| field(&code, "usercode"))
        .ok_or_else(|| AuthError::Protocol("no user_code in the device code answer".into()))?;
    let interval = interval(code.get("interval"));

    let _ = writeln!(out, "To log in to codex, open this URL:");
    let _ = writeln!(out, "{issuer}/codex/device");
    let _ = writeln!(out, "User code: {user_code}");
    let _ = writeln!(out, "Waiting for approval ...");
    let _ = out.flush();

    let poll_url = format!("{accounts}/deviceauth/token");
    let poll_body = json!({ "device_auth_id": device_auth_id, "user_code": user_code });
    let mut waited = Duration::ZERO;
    let approved = loop {
        if let Some(v) = post(&http, &poll_url, &poll_body).await? {
            break v;
        }
        if waited >= GIVE_UP_AFTER {
            return Err(AuthError::DeviceCodeExpired);
        }
        sleep(interval).await;
        waited += interval;
    };
    let auth_code = field(&approved, "authorization_code")
        .ok_or_else(|| AuthError::Protocol("no authorization_code after approval".into()))?;
    let verifier = field(&approved, "code_verifier")
        .ok_or_else(|| AuthError::Protocol("no code_verifier after approval".into()))?;

    let redirect = format!("{issuer}/deviceauth/callback");
    let client = oauth::client(p)?.set_redirect_uri(
        RedirectUrl::new(redirect.clone())
            .map_err(|_| AuthError::Config(format!("bad redirect URI {redirect:?}")))?,
    );
    let t = client
        .exchange_code(AuthorizationCode::new(auth_code))
        .map_err(|e| AuthError::Config(format!("codex: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .map_err(oauth::request_error)?;
    Ok(oauth::token_set(&t))
}

/// POSTs JSON; `Ok(None)` for 403/404 (not approved yet), the JSON answer for a success.
async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<Option<Value>, AuthError> {
    let resp = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    let status = resp.status().as_u16();
    if matches!(status, 403 | 404) {
        return Ok(None);
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    if !(200..300).contains(&status) {
        return Err(AuthError::Protocol(format!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(200)
                .collect::<String>()
        )));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| AuthError::Protocol(format!("{url}: {e}")))
}

/// `interval` as a number or a numeric string, in seconds.
fn interval(v: Option<&Value>) -> Duration {
    let secs = match v {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    secs.map_or(DEFAULT_INTERVAL, Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_device_urls_are_openai_style() {
        assert!(is_openai(
            "https://auth.openai.com/api/accounts/deviceauth/usercode"
        ));
        assert!(is_openai(
            "http://127.0.0.1:9/x/api/accounts/deviceauth/usercode/"
        ));
        assert!(!is_openai("http://127.0.0.1:9/device/auth"));
        assert!(!is_openai(""));
    }

    #[test]
    fn interval_shapes() {
        assert_eq!(interval(Some(&json!(3))), Duration::from_secs(3));
        assert_eq!(interval(Some(&json!("7"))), Duration::from_secs(7));
        assert_eq!(interval(Some(&json!("x"))), DEFAULT_INTERVAL);
        assert_eq!(interval(None), DEFAULT_INTERVAL);
    }
}
