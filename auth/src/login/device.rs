//! The RFC 8628 device authorization grant through the `oauth2` crate: request a device code
//! (with a PKCE challenge for Qwen), print the verification URL (the complete one with the code
//! in it when the provider gives it) and the user code, then poll the token endpoint at the
//! given interval: `authorization_pending` waits, `slow_down` adds 5 s, `expired_token` (or the
//! code's own expiry) ends the login, `access_denied` is a refusal.

use crate::egress::{self, Route};
use crate::error::AuthError;
use crate::oauth;
use crate::provider::Provider;
use crate::record::TokenSet;
use oauth2::{DeviceCodeErrorResponseType, StandardDeviceAuthorizationResponse};
use oauth2::{PkceCodeChallenge, RequestTokenError, Scope};
use std::io::Write;

/// The device login of `p` through `route`. `headers` go with every request (Kimi's device
/// identity);
/// `sleep` waits between polls (`tokio::time::sleep`; a test passes one that records the
/// intervals and returns at once).
pub async fn run<S, SF>(
    p: &Provider,
    pkce: bool,
    route: &Route,
    headers: &[(&str, String)],
    out: &mut (dyn Write + Send),
    sleep: S,
) -> Result<TokenSet, AuthError>
where
    S: Fn(std::time::Duration) -> SF,
    SF: std::future::Future<Output = ()>,
{
    if p.device_url.is_empty() {
        return Err(AuthError::Unsupported(format!(
            "{} device login without oauth-overrides.{}.device-url (the provider's own device \
             endpoint is not RFC 8628)",
            p.id.name(),
            p.id.name()
        )));
    }
    let client = oauth::client(p)?;
    let http = egress::client(route, headers)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .exchange_device_code()
        .map_err(|e| AuthError::Config(format!("{}: {e}", p.id.name())))?
        .add_scopes(p.scopes.iter().cloned().map(Scope::new));
    if pkce {
        req = req
            .add_extra_param("code_challenge", challenge.as_str().to_owned())
            .add_extra_param("code_challenge_method", "S256");
    }
    let details: StandardDeviceAuthorizationResponse = req
        .request_async(&http)
        .await
        .map_err(oauth::request_error)?;
    let _ = writeln!(out, "To log in to {}, open this URL:", p.id.name());
    match details.verification_uri_complete() {
        Some(complete) => {
            let _ = writeln!(out, "{}", complete.secret());
            let _ = writeln!(
                out,
                "(or open {} and enter the code)",
                details.verification_uri().as_str()
            );
        }
        None => {
            let _ = writeln!(out, "{}", details.verification_uri().as_str());
        }
    }
    let _ = writeln!(out, "User code: {}", details.user_code().secret());
    let _ = writeln!(out, "Waiting for approval ...");
    let _ = out.flush();
    let mut poll = client
        .exchange_device_access_token(&details)
        .map_err(|e| AuthError::Config(format!("{}: {e}", p.id.name())))?;
    if pkce {
        poll = poll.add_extra_param("code_verifier", verifier.secret().clone());
    }
    let t = poll
        .request_async(&http, sleep, None)
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => match r.error() {
                DeviceCodeErrorResponseType::ExpiredToken => AuthError::DeviceCodeExpired,
                DeviceCodeErrorResponseType::AccessDenied => {
                    AuthError::Denied("access_denied".into())
                }
                _ => oauth::request_error(RequestTokenError::<
                    oauth2::HttpClientError<reqwest::Error>,
                    _,
                >::ServerResponse(r)),
            },
            other => oauth::request_error(other),
        })?;
    Ok(oauth::token_set(&t))
}
