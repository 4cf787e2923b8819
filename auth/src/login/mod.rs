//! `switchyard login <provider>`: runs the provider's flow (authorization code + PKCE with a
//! loopback callback, or the RFC 8628 device grant), turns the tokens into an auth file in
//! CLIProxyAPI's format, and saves it atomically in `auth-dir`. Provider quirks live in their
//! own modules: [`claude`] (JSON token endpoint, `code#state`), [`kimi`] (`X-Msh-*` device
//! headers, `device_id` in the file), [`iflow`] (Basic client auth, the API key from user info,
//! `--cookie`).
//!
//! Contract: user-facing lines go to the `out` writer (stdout in the CLI); nothing else is
//! printed and no token is ever written there or logged. A cancelled (Ctrl-C), timed-out,
//! refused or state-mismatched login returns an error and writes no file.

mod callback;
pub(crate) mod claude;
pub mod device;
pub(crate) mod gemini;
pub(crate) mod iflow;
mod import;
pub mod kimi;
pub(crate) mod openai_device;

pub use import::import_vertex;

pub use callback::{parse_query, CallbackServer};

use crate::egress::{self, Route};
use crate::error::AuthError;
use crate::jwt;
use crate::naming::{file_name, NameParts};
use crate::oauth;
use crate::provider::{Flow, Provider, ProviderId};
use crate::record::{AuthRecord, TokenSet};
use crate::store::{write_atomic, TokenStore};
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Options of one login.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// Print the URL instead of also trying to open a browser.
    pub no_browser: bool,
    /// Overrides the provider's callback port (0: any free port).
    pub callback_port: Option<u16>,
    /// Codex: use the device grant instead of the browser flow.
    pub device: bool,
    /// Gemini: the Google Cloud project to use (`ALL`: every project, one file).
    pub project_id: Option<String>,
    /// Give up after this long.
    pub timeout: Duration,
    /// iFlow: a logged-in browser cookie to exchange for the API key instead of OAuth.
    pub cookie: Option<String>,
}

impl Default for LoginOptions {
    fn default() -> Self {
        Self {
            no_browser: false,
            callback_port: None,
            device: false,
            project_id: None,
            timeout: Duration::from_secs(300),
            cookie: None,
        }
    }
}

/// Runs the login, its HTTP calls going through `route` (the config's global `proxy-url`), and
/// returns the path of the saved file.
pub async fn login(
    provider: &Provider,
    opts: &LoginOptions,
    route: &Route,
    store: &TokenStore,
    out: &mut (dyn Write + Send),
) -> Result<PathBuf, AuthError> {
    let flow = match (provider.flow, opts.device) {
        (Flow::AuthCode, true) if provider.id == ProviderId::Codex => Flow::Device,
        (_, true) => {
            return Err(AuthError::Config(format!(
                "--device is only for codex; {} has one flow",
                provider.id.name()
            )))
        }
        (f, false) => f,
    };
    let cookie = match (&opts.cookie, provider.id) {
        (Some(c), ProviderId::Iflow) => Some(c.as_str()),
        (Some(_), _) => return Err(AuthError::Config("--cookie is only for iflow".into())),
        (None, _) => None,
    };
    // Kimi: one device id for the login, the file and every later request.
    let device_id = (provider.id == ProviderId::Kimi).then(kimi::new_device_id);
    if opts.project_id.is_some() && provider.id != ProviderId::Gemini {
        return Err(AuthError::Config("--project-id is only for gemini".into()));
    }
    if cookie.is_none() {
        missing_client_secret(provider)?;
    }
    let extras = LoginExtras {
        device_id,
        cookie: cookie.and_then(iflow::kept_cookie),
        project_id: opts.project_id.clone(),
    };
    let work = async {
        match flow {
            _ if cookie.is_some() => {
                let http = egress::client(route, &[])?;
                iflow::cookie_login(provider, &http, cookie.unwrap_or_default()).await
            }
            Flow::AuthCode => auth_code(provider, opts, route, out).await,
            Flow::Device | Flow::DevicePkce => {
                device_tokens(provider, flow, &extras, route, out).await
            }
            Flow::Import => Err(AuthError::Config(
                "vertex has no OAuth login; use `switchyard login vertex --import FILE`".into(),
            )),
        }
    };
    // Registered before the flow prints anything, so a Ctrl-C right after the URL is caught.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| AuthError::Config(format!("cannot watch for Ctrl-C: {e}")))?;
    let tokens = tokio::select! {
        biased;
        _ = interrupt.recv() => return Err(AuthError::Cancelled),
        _ = tokio::time::sleep(opts.timeout) => return Err(AuthError::TimedOut(opts.timeout)),
        r = work => r?,
    };
    let path = save_login(provider, &tokens, &extras, route, store, out).await?;
    let _ = writeln!(out, "Saved {}", path.display());
    Ok(path)
}

/// What a login adds to its auth file beyond the tokens.
#[derive(Debug, Clone, Default)]
pub struct LoginExtras {
    /// Kimi's device id (also sent with the login's requests).
    pub device_id: Option<String>,
    /// iFlow: the part of a login cookie kept for later.
    pub cookie: Option<String>,
    /// Gemini: the Google Cloud project (`ALL`: every project).
    pub project_id: Option<String>,
}

impl LoginExtras {
    /// A fresh login's extras: a new device id for Kimi.
    pub fn for_provider(id: ProviderId) -> Self {
        Self {
            device_id: (id == ProviderId::Kimi).then(kimi::new_device_id),
            ..Self::default()
        }
    }
}

/// A device-grant login (`flow` Device or DevicePkce; Codex's device flow when its endpoint is
/// OpenAI's): prints the verification URL and user code to `out`, then polls until approved.
/// Its HTTP calls go through `route`.
pub async fn device_tokens(
    provider: &Provider,
    flow: Flow,
    extras: &LoginExtras,
    route: &Route,
    out: &mut (dyn Write + Send),
) -> Result<TokenSet, AuthError> {
    let headers = extras
        .device_id
        .as_deref()
        .map(kimi::device_headers)
        .unwrap_or_default();
    let sleep = tokio::time::sleep;
    match flow {
        Flow::Device
            if provider.id == ProviderId::Codex
                && openai_device::is_openai(&provider.device_url) =>
        {
            openai_device::run(provider, route, out, sleep).await
        }
        Flow::Device => device::run(provider, false, route, &headers, out, sleep).await,
        Flow::DevicePkce => device::run(provider, true, route, &headers, out, sleep).await,
        Flow::AuthCode | Flow::Import => Err(AuthError::Config(format!(
            "{} has no device login",
            provider.id.name()
        ))),
    }
}

/// Turns a login's tokens into its auth file in `store` (Gemini: after onboarding its
/// project; Antigravity: with its project when one is found, both asked through `route`) and
/// returns the path.
pub async fn save_login(
    provider: &Provider,
    tokens: &TokenSet,
    extras: &LoginExtras,
    route: &Route,
    store: &TokenStore,
    out: &mut (dyn Write + Send),
) -> Result<PathBuf, AuthError> {
    let now = now_secs();
    let (mut name, mut raw) = auth_file(provider, tokens, now);
    if let Some(id) = &extras.device_id {
        raw.insert("device_id".into(), Value::String(id.clone()));
    }
    if let Some(kept) = &extras.cookie {
        raw.insert("cookie".into(), Value::String(kept.clone()));
    }
    if provider.id == ProviderId::Gemini {
        let token = tokens.access_token.expose();
        let project = extras.project_id.as_deref();
        let done = gemini::onboard(provider, route, token, project, out).await?;
        let email = raw.get("email").and_then(Value::as_str).map(str::to_owned);
        name = file_name(
            provider.file_type,
            &NameParts {
                email: email.as_deref(),
                project: Some(if done.all { "all" } else { &done.project_id }),
                now_ms: now.saturating_mul(1000),
                ..NameParts::default()
            },
        );
        raw.insert("project_id".into(), Value::String(done.project_id));
        raw.insert("auto".into(), Value::Bool(done.auto));
        raw.insert("checked".into(), Value::Bool(true));
    }
    if provider.id == ProviderId::Antigravity {
        let token = tokens.access_token.expose();
        if let Some(project) = gemini::antigravity_project(provider, route, token, out).await {
            raw.insert("project_id".into(), Value::String(project));
        }
    }
    let path = store.dir().join(&name);
    let Some(record) = AuthRecord::from_map(&name, raw) else {
        return Err(AuthError::Protocol("no file type".into()));
    };
    write_atomic(&path, &record.to_bytes()).map_err(|source| AuthError::Store {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}

/// Whether `p` can log in as configured: Google's and iFlow's real endpoints need
/// `oauth-overrides.<p>.client-secret`.
pub fn check_ready(p: &Provider) -> Result<(), AuthError> {
    missing_client_secret(p)
}

/// Google's and iFlow's real token endpoints authenticate the client: without
/// `oauth-overrides.<p>.client-secret` the user would log in only to see the exchange fail, so
/// the login stops before it starts. (An overridden `token-url`, a test or corporate provider,
/// decides for itself.)
fn missing_client_secret(p: &Provider) -> Result<(), AuthError> {
    let needs = matches!(
        p.id,
        ProviderId::Gemini | ProviderId::Antigravity | ProviderId::Iflow
    );
    if needs && p.client_secret.is_none() && p.token_url == Provider::builtin(p.id).token_url {
        return Err(AuthError::Config(format!(
            "{name} login needs the OAuth client secret of its official client, which Switchyard \
             does not ship: set oauth-overrides.{name}.client-secret in the config",
            name = p.id.name()
        )));
    }
    Ok(())
}

async fn auth_code(
    p: &Provider,
    opts: &LoginOptions,
    route: &Route,
    out: &mut (dyn Write + Send),
) -> Result<TokenSet, AuthError> {
    let server = CallbackServer::bind(
        opts.callback_port.unwrap_or(p.callback_port),
        p.callback_path,
    )
    .await?;
    let pending = start_auth_code(p, p.redirect_uri(server.port()))?;
    let _ = writeln!(
        out,
        "Open this URL in a browser to log in to {}:",
        p.id.name()
    );
    let _ = writeln!(out, "{}", pending.url);
    let _ = writeln!(out, "Waiting for the callback on {} ...", pending.redirect);
    let _ = out.flush();
    if !opts.no_browser {
        open_browser(&pending.url);
    }
    let code = server.wait(&pending.state).await?;
    finish_auth_code(p, route, pending, &code).await
}

/// An authorization-code login waiting for its callback.
pub struct PendingAuthCode {
    /// The URL the user opens.
    pub url: String,
    /// The `state` the callback must carry.
    pub state: String,
    /// The redirect URI the provider sends the browser to.
    pub redirect: String,
    verifier: PkceCodeVerifier,
}

impl std::fmt::Debug for PendingAuthCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthCode")
            .field("redirect", &self.redirect)
            .finish_non_exhaustive()
    }
}

/// The first half of an authorization-code login: the URL to open (PKCE, a fresh `state`,
/// the provider's scopes and extra parameters) for `redirect`.
pub fn start_auth_code(p: &Provider, redirect: String) -> Result<PendingAuthCode, AuthError> {
    let client = oauth::client(p)?.set_redirect_uri(
        RedirectUrl::new(redirect.clone())
            .map_err(|_| AuthError::Config(format!("bad redirect URI {redirect:?}")))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(CsrfToken::new_random)
        .map_err(|e| AuthError::Config(format!("{}: {e}", p.id.name())))?
        .add_scopes(p.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    for (k, v) in &p.auth_params {
        req = req.add_extra_param(*k, *v);
    }
    if p.id == ProviderId::Iflow {
        for (k, v) in iflow::auth_params(&redirect) {
            req = req.add_extra_param(k, v);
        }
    }
    let (url, state) = req.url();
    Ok(PendingAuthCode {
        url: url.to_string(),
        state: state.secret().clone(),
        redirect,
        verifier,
    })
}

/// The second half: the callback's `code` exchanged for tokens through `route`.
pub async fn finish_auth_code(
    p: &Provider,
    route: &Route,
    pending: PendingAuthCode,
    code: &str,
) -> Result<TokenSet, AuthError> {
    let http = egress::client(route, &[])?;
    let redirect = &pending.redirect;
    if p.id == ProviderId::Iflow {
        return iflow::exchange(p, &http, code, redirect).await;
    }
    if p.id == ProviderId::Claude {
        let code = claude::split_code(code, &pending.state)?;
        return claude::exchange(
            p,
            &http,
            &code,
            &pending.state,
            redirect,
            pending.verifier.secret(),
        )
        .await;
    }
    let client = oauth::client(p)?.set_redirect_uri(
        RedirectUrl::new(redirect.clone())
            .map_err(|_| AuthError::Config(format!("bad redirect URI {redirect:?}")))?,
    );
    let t = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| AuthError::Config(format!("{}: {e}", p.id.name())))?
        .set_pkce_verifier(pending.verifier)
        .request_async(&http)
        .await
        .map_err(oauth::request_error)?;
    Ok(oauth::token_set(&t))
}

/// A random `state` for a login that has no authorization URL of its own (a device login
/// started from the management API).
pub fn new_state() -> String {
    CsrfToken::new_random().secret().clone()
}

fn open_browser(url: &str) {
    for cmd in ["xdg-open", "open"] {
        let spawned = std::process::Command::new(cmd)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        if spawned.is_ok() {
            return;
        }
    }
}

pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The file name and JSON object of a fresh login, in CLIProxyAPI's layout for the provider.
pub fn auth_file(p: &Provider, t: &TokenSet, now: i64) -> (String, Map<String, Value>) {
    let claims = t
        .id_token
        .as_ref()
        .map(|i| jwt::claims(i.expose()))
        .unwrap_or_default();
    let email = jwt::string_claim(&claims, "email").or_else(|| t.email.clone());
    let subject = jwt::string_claim(&claims, "sub");
    let account_id = jwt::openai_auth_claim(&claims, "chatgpt_account_id");
    let plan = jwt::openai_auth_claim(&claims, "chatgpt_plan_type");
    let name = file_name(
        p.file_type,
        &NameParts {
            email: email.as_deref(),
            subject: subject.as_deref(),
            account_id: account_id.as_deref(),
            plan: plan.as_deref(),
            now_ms: now.saturating_mul(1000),
            ..NameParts::default()
        },
    );
    let mut raw = Map::new();
    let s = |v: &str| Value::String(v.to_owned());
    raw.insert("type".into(), s(p.file_type));
    match p.id {
        ProviderId::Gemini => {
            raw.insert("token".into(), Value::Object(Map::new()));
            raw.insert("project_id".into(), s(""));
            raw.insert("auto".into(), Value::Bool(true));
            raw.insert("checked".into(), Value::Bool(false));
        }
        ProviderId::Antigravity => {
            raw.insert("project_id".into(), s(""));
        }
        ProviderId::Codex => {
            raw.insert("account_id".into(), s(account_id.as_deref().unwrap_or("")));
        }
        ProviderId::Kimi => {
            raw.insert(
                "token_type".into(),
                s(t.token_type.as_deref().unwrap_or("Bearer")),
            );
            raw.insert("scope".into(), s(t.scope.as_deref().unwrap_or("")));
        }
        ProviderId::Claude | ProviderId::Qwen | ProviderId::Iflow | ProviderId::Vertex => {}
    }
    if p.id != ProviderId::Kimi {
        raw.insert("email".into(), s(email.as_deref().unwrap_or("")));
    }
    if matches!(p.id, ProviderId::Claude | ProviderId::Codex) {
        raw.insert("id_token".into(), s(""));
    }
    let mut record = match AuthRecord::from_map(&name, raw.clone()) {
        Some(r) => r,
        None => return (name, raw),
    };
    record.apply_tokens(t, now);
    (name, record.raw().clone())
}
