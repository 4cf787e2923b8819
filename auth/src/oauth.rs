//! The `oauth2` crate configured for one [`Provider`]: the client, and the conversion of token
//! responses and errors into [`TokenSet`] and [`AuthError`]. The HTTP clients it is given come
//! from [`crate::egress`] (proxy and CA certificates).
//!
//! Contract: every token endpoint call of login and refresh goes through here, so the
//! provider's `oauth-overrides` apply to both, and no error message ever carries a response
//! body (which could hold a token).

use crate::error::AuthError;
use crate::provider::Provider;
use crate::record::TokenSet;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AsyncHttpClient, AuthUrl, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointMaybeSet,
    EndpointNotSet, ErrorResponse, ExtraTokenFields, RefreshToken, RequestTokenError,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use switchyard_conf::Secret;

/// Non-standard fields some token endpoints add.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct ExtraFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Qwen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_url: Option<String>,
}

impl fmt::Debug for ExtraFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraFields")
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field("resource_url", &self.resource_url)
            .finish()
    }
}

impl ExtraTokenFields for ExtraFields {}

pub type Tokens = StandardTokenResponse<ExtraFields, BasicTokenType>;

/// The client type: every endpoint "maybe set", checked at use.
pub type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
>;

/// Sends a token-endpoint request (`accept: application/json` added) and returns the body of
/// a 2xx answer; any other status is [`AuthError::Rejected`] with the answer's OAuth `error`
/// (else `http_<status>`) and the start of its `error_description`. For the grants the
/// `oauth2` crate does not make (Claude's form fallback, iFlow's, the JWT bearer grant).
pub async fn token_post(req: reqwest::RequestBuilder) -> Result<Vec<u8>, AuthError> {
    let resp = req
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| AuthError::Transport(e.to_string()))?;
    if (200..300).contains(&status) {
        return Ok(bytes.to_vec());
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    Err(AuthError::Rejected {
        code: text("error").map_or_else(|| format!("http_{status}"), str::to_owned),
        description: text("error_description").map(|d| d.chars().take(200).collect()),
    })
}

/// The oauth2 client for `p` (endpoints left empty in the registry are not set).
pub fn client(p: &Provider) -> Result<OAuthClient, AuthError> {
    let bad = |what: &str, url: &str| {
        AuthError::Config(format!("{} {what} {url:?} is not a valid URL", p.id.name()))
    };
    let auth = non_empty(&p.auth_url)
        .map(|u| AuthUrl::new(u.to_owned()).map_err(|_| bad("auth-url", u)))
        .transpose()?;
    let token = non_empty(&p.token_url)
        .map(|u| TokenUrl::new(u.to_owned()).map_err(|_| bad("token-url", u)))
        .transpose()?;
    let device = non_empty(&p.device_url)
        .map(|u| DeviceAuthorizationUrl::new(u.to_owned()).map_err(|_| bad("device-url", u)))
        .transpose()?;
    let mut c = oauth2::Client::new(ClientId::new(p.client_id.clone()))
        .set_auth_uri_option(auth)
        .set_device_authorization_url_option(device)
        .set_token_uri_option(token);
    if let Some(secret) = &p.client_secret {
        c = c.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    // Public clients send client_id in the body (RFC 6749 §2.3.1 allows it; the CLIs do so).
    Ok(c.set_auth_type(oauth2::AuthType::RequestBody))
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// A token response as a [`TokenSet`].
pub fn token_set(t: &Tokens) -> TokenSet {
    TokenSet {
        access_token: Secret::new(t.access_token().secret().clone()),
        refresh_token: t.refresh_token().map(|r| Secret::new(r.secret().clone())),
        id_token: t.extra_fields().id_token.clone().map(Secret::new),
        expires_in_secs: t.expires_in().map(|d| d.as_secs()),
        token_type: Some(
            match t.token_type() {
                BasicTokenType::Bearer => "Bearer",
                BasicTokenType::Mac => "mac",
                BasicTokenType::Extension(e) => e.as_str(),
            }
            .to_owned(),
        ),
        scope: t
            .scopes()
            .map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
        resource_url: t.extra_fields().resource_url.clone(),
        email: None,
        api_key: None,
    }
}

/// An oauth2 request error as an [`AuthError`], without any response body.
pub fn request_error<RE, TE>(e: RequestTokenError<RE, TE>) -> AuthError
where
    RE: std::error::Error + 'static,
    TE: ErrorResponse + 'static,
{
    match e {
        RequestTokenError::ServerResponse(r) => {
            // The error code as JSON is `"invalid_grant"`; strip the quotes.
            let code = serde_json::to_value(&r)
                .ok()
                .and_then(|v| v.get("error").and_then(|c| c.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "unknown_error".to_owned());
            let description = serde_json::to_value(&r).ok().and_then(|v| {
                v.get("error_description")
                    .and_then(|d| d.as_str())
                    .map(|d| d.chars().take(200).collect())
            });
            AuthError::Rejected { code, description }
        }
        RequestTokenError::Request(re) => AuthError::Transport(error_chain(&re)),
        RequestTokenError::Parse(e, _body) => {
            AuthError::Protocol(format!("bad JSON at `{}`", e.path()))
        }
        RequestTokenError::Other(s) => AuthError::Protocol(s.chars().take(200).collect()),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// One standard (form-encoded, RFC 6749 §6) refresh-token grant against `p`'s token
/// endpoint. Claude's JSON grant is `login::claude::refresh`; `refresh::grant` picks.
pub async fn refresh(
    p: &Provider,
    http: &reqwest::Client,
    refresh_token: &str,
) -> Result<TokenSet, AuthError> {
    refresh_with_headers(p, http, refresh_token, &[]).await
}

/// [`refresh`] with `headers` added to the request (Kimi's device headers), so the shared
/// client of the account's route serves every account.
pub async fn refresh_with_headers(
    p: &Provider,
    http: &reqwest::Client,
    refresh_token: &str,
    headers: &[(&str, String)],
) -> Result<TokenSet, AuthError> {
    let extra = crate::egress::header_map(headers)?;
    let c = client(p)?;
    let rt = RefreshToken::new(refresh_token.to_owned());
    let req = c
        .exchange_refresh_token(&rt)
        .map_err(|e| AuthError::Config(format!("{}: {e}", p.id.name())))?;
    let send = WithHeaders { http, extra };
    let t = req.request_async(&send).await.map_err(request_error)?;
    Ok(token_set(&t))
}

/// A client adding headers to each request (a named type: a closure here makes the refresh
/// future's `Send` bound fail to generalise over lifetimes).
struct WithHeaders<'a> {
    http: &'a reqwest::Client,
    extra: reqwest::header::HeaderMap,
}

impl<'c> AsyncHttpClient<'c> for WithHeaders<'_> {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<oauth2::HttpResponse, Self::Error>>
                + Send
                + Sync
                + 'c,
        >,
    >;

    fn call(&'c self, mut request: oauth2::HttpRequest) -> Self::Future {
        request.headers_mut().extend(self.extra.clone());
        self.http.call(request)
    }
}
