//! OAuth logins started from the management API (CLIProxyAPI's `*-auth-url`,
//! `get-auth-status`, `oauth-callback` and the `/<provider>/callback` sinks), driving the same
//! flows as `switchyard login` (`switchyard_auth::login`).
//!
//! `GET /<p>-auth-url` starts a login and answers `{"status":"ok","url","state"}`:
//! - an authorization-code provider (anthropic, codex, gemini-cli, antigravity, iflow) gets the
//!   provider's own redirect URI (`http://localhost:<its port><its path>`); the code comes back
//!   by `POST /oauth-callback` (a remote user pastes the final redirect URL), by the sink
//!   `GET /<provider>/callback?code&state` on the main port (where a forwarder sends it), or,
//!   with `?is_webui=true`, by a listener on the provider's loopback port when it is free;
//! - a device provider (qwen, kimi) answers the verification URL (with the user code) and
//!   polls the provider in the background.
//!
//! The login then exchanges the code, writes the auth file to `auth-dir` (0600, the CLI's
//! name and layout) and rebuilds the accounts, so the new account serves at once.
//! The login's HTTP calls (code exchange, device polling, onboarding) go through the config's
//! global `proxy-url` (`switchyard_auth::egress`), as `switchyard login` does.
//! `GET /get-auth-status?state=` answers `wait`, `ok` or `error` with the reason. A login gives
//! up after [`LOGIN_TIMEOUT`]; its outcome stays readable for [`KEEP_DONE`]. No token is ever
//! answered or logged.

use super::{Call, Reply};
use crate::live_config::LiveConfig;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use switchyard_auth::egress::Route;
use switchyard_auth::login::{self, LoginExtras, PendingAuthCode};
use switchyard_auth::{Flow, Provider, ProviderId, TokenStore};
use tokio::sync::{mpsc, oneshot};

/// How long a login waits for its callback or approval.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a finished login's status stays readable.
const KEEP_DONE: Duration = Duration::from_secs(30 * 60);
/// How long `*-auth-url` waits for a device login's verification URL.
const DEVICE_URL_WAIT: Duration = Duration::from_secs(30);

/// The providers of the `*-auth-url` routes.
const ROUTES: &[(&str, ProviderId)] = &[
    ("/anthropic-auth-url", ProviderId::Claude),
    ("/codex-auth-url", ProviderId::Codex),
    ("/gemini-cli-auth-url", ProviderId::Gemini),
    ("/antigravity-auth-url", ProviderId::Antigravity),
    ("/qwen-auth-url", ProviderId::Qwen),
    ("/kimi-auth-url", ProviderId::Kimi),
    ("/iflow-auth-url", ProviderId::Iflow),
];

/// The main port's callback sinks (CLIProxyAPI's paths).
const SINKS: &[(&str, ProviderId)] = &[
    ("/anthropic/callback", ProviderId::Claude),
    ("/codex/callback", ProviderId::Codex),
    ("/google/callback", ProviderId::Gemini),
    ("/antigravity/callback", ProviderId::Antigravity),
    ("/iflow/callback", ProviderId::Iflow),
];

/// The provider of a `*-auth-url` route.
pub(super) fn auth_url_route(route: &str) -> Option<ProviderId> {
    ROUTES.iter().find(|(r, _)| *r == route).map(|(_, id)| *id)
}

/// The provider of a main-port callback path.
pub(super) fn sink_route(path: &str) -> Option<ProviderId> {
    SINKS.iter().find(|(p, _)| *p == path).map(|(_, id)| *id)
}

/// `provider` of `POST /oauth-callback`, with CLIProxyAPI's spellings.
fn provider_named(name: &str) -> Option<ProviderId> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "anthropic" | "claude" => ProviderId::Claude,
        "codex" | "openai" => ProviderId::Codex,
        "gemini" | "gemini-cli" | "google" => ProviderId::Gemini,
        "antigravity" => ProviderId::Antigravity,
        "qwen" => ProviderId::Qwen,
        "kimi" => ProviderId::Kimi,
        "iflow" => ProviderId::Iflow,
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Wait,
    Ok,
    Error(String),
}

/// What a callback brought: the code, or the provider's refusal.
#[derive(Debug)]
struct Callback {
    code: Option<String>,
    error: Option<String>,
}

struct Session {
    provider: ProviderId,
    status: Status,
    /// Taken by the first callback (authorization-code logins only).
    callback: Option<oneshot::Sender<Callback>>,
    started: Instant,
    done: Option<Instant>,
}

/// Why a callback was not taken.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    Unknown,
    OtherProvider,
    NotPending,
}

/// The logins in progress and recently finished, by `state`.
#[derive(Default)]
pub struct Logins {
    sessions: Mutex<HashMap<String, Session>>,
}

impl Logins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(
        &self,
        state: String,
        provider: ProviderId,
        callback: Option<oneshot::Sender<Callback>>,
    ) {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| match s.done {
            Some(done) => now.duration_since(done) < KEEP_DONE,
            None => now.duration_since(s.started) < LOGIN_TIMEOUT + KEEP_DONE,
        });
        map.insert(
            state,
            Session {
                provider,
                status: Status::Wait,
                callback,
                started: now,
                done: None,
            },
        );
    }

    fn finish(&self, state: &str, status: Status) {
        if let Some(s) = self.lock().get_mut(state) {
            s.status = status;
            s.callback = None;
            s.done = Some(Instant::now());
        }
    }

    fn status(&self, state: &str) -> Option<Status> {
        self.lock().get(state).map(|s| s.status.clone())
    }

    /// Hands a callback to the login waiting with `state`.
    fn deliver(
        &self,
        state: &str,
        provider: Option<ProviderId>,
        cb: Callback,
    ) -> Result<(), Refused> {
        let mut map = self.lock();
        let s = map.get_mut(state).ok_or(Refused::Unknown)?;
        if provider.is_some_and(|p| p != s.provider) {
            return Err(Refused::OtherProvider);
        }
        let tx = s.callback.take().ok_or(Refused::NotPending)?;
        tx.send(cb).map_err(|_| Refused::NotPending)
    }
}

fn failed(status: u16, message: impl Into<String>) -> Reply {
    Reply::json(status, json!({"status": "error", "error": message.into()}))
}

/// `GET /<p>-auth-url`: starts the login.
pub(super) async fn start(
    id: ProviderId,
    call: &Call,
    live: &Arc<LiveConfig>,
    logins: &Arc<Logins>,
) -> Reply {
    let config = live.current();
    let provider = Provider::resolve(id, &config);
    if let Err(e) = login::check_ready(&provider) {
        return failed(400, e.to_string());
    }
    let route = match Route::global(config.proxy_url.as_deref()) {
        Ok(route) => route,
        Err(e) => return failed(500, e.to_string()),
    };
    let mut extras = LoginExtras::for_provider(id);
    if id == ProviderId::Gemini {
        extras.project_id = call
            .query("project_id")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
    }
    let store = TokenStore::new(switchyard_auth::store::expand_home(&config.auth_dir));
    let job = Job {
        provider,
        route,
        extras,
        store,
        live: live.clone(),
        logins: logins.clone(),
    };
    match job.provider.flow {
        Flow::AuthCode => {
            let webui = call
                .query("is_webui")
                .is_some_and(|v| v == "true" || v == "1");
            job.start_auth_code(webui).await
        }
        Flow::Device | Flow::DevicePkce => job.start_device().await,
        Flow::Import => failed(400, "vertex has no OAuth login; upload its auth file"),
    }
}

/// One login's parts, moved into its task.
struct Job {
    provider: Provider,
    /// Where the login's HTTP calls go (the global `proxy-url`).
    route: Route,
    extras: LoginExtras,
    store: TokenStore,
    live: Arc<LiveConfig>,
    logins: Arc<Logins>,
}

impl Job {
    async fn start_auth_code(self, webui: bool) -> Reply {
        let p = &self.provider;
        let redirect = p.redirect_uri(p.callback_port);
        let pending = match login::start_auth_code(p, redirect) {
            Ok(pending) => pending,
            Err(e) => return failed(500, e.to_string()),
        };
        let (tx, rx) = oneshot::channel();
        let state = pending.state.clone();
        let url = pending.url.clone();
        self.logins.insert(state.clone(), p.id, Some(tx));
        if webui {
            self.listen_on_provider_port(&state).await;
        }
        tokio::spawn(self.finish_auth_code(pending, rx));
        Reply::ok(json!({"status": "ok", "url": url, "state": state}))
    }

    /// CLIProxyAPI's web-UI mode: the browser's redirect lands on the provider's loopback
    /// port when this host is the user's (a busy port is skipped: the other callbacks remain).
    async fn listen_on_provider_port(&self, state: &str) {
        let p = &self.provider;
        match switchyard_auth::login::CallbackServer::bind(p.callback_port, p.callback_path).await {
            Ok(server) => {
                let logins = self.logins.clone();
                let state = state.to_owned();
                tokio::spawn(async move {
                    let got = tokio::time::timeout(LOGIN_TIMEOUT, server.wait(&state)).await;
                    let cb = match got {
                        Ok(Ok(code)) => Callback {
                            code: Some(code),
                            error: None,
                        },
                        Ok(Err(e)) => Callback {
                            code: None,
                            error: Some(e.to_string()),
                        },
                        Err(_) => return,
                    };
                    let _ = logins.deliver(&state, None, cb);
                });
            }
            Err(e) => tracing::info!(
                "management login: {e}; the callback must come through /oauth-callback or /{}/callback",
                p.id.name()
            ),
        }
    }

    async fn finish_auth_code(self, pending: PendingAuthCode, rx: oneshot::Receiver<Callback>) {
        let state = pending.state.clone();
        let work = async {
            let cb = rx.await.map_err(|_| "login cancelled".to_owned())?;
            if let Some(e) = cb.error {
                return Err(format!("login refused: {e}"));
            }
            let code = cb
                .code
                .ok_or_else(|| "callback without a code".to_owned())?;
            login::finish_auth_code(&self.provider, &self.route, pending, &code)
                .await
                .map_err(|e| e.to_string())
        };
        let tokens = tokio::time::timeout(LOGIN_TIMEOUT, work).await;
        self.save(&state, tokens).await;
    }

    async fn start_device(self) -> Reply {
        let state = login::new_state();
        let (lines_tx, mut lines) = mpsc::unbounded_channel();
        self.logins.insert(state.clone(), self.provider.id, None);
        let logins = self.logins.clone();
        let task_state = state.clone();
        tokio::spawn(async move {
            let mut tap = LineTap {
                tx: lines_tx,
                buf: Vec::new(),
            };
            let p = &self.provider;
            let work = login::device_tokens(p, p.flow, &self.extras, &self.route, &mut tap);
            let tokens = tokio::time::timeout(LOGIN_TIMEOUT, async {
                work.await.map_err(|e| e.to_string())
            })
            .await;
            self.save(&task_state, tokens).await;
            // Closed after the outcome is recorded: a login that failed before its URL is
            // answered with the reason.
            drop(tap);
        });
        let url = tokio::time::timeout(DEVICE_URL_WAIT, async {
            while let Some(line) = lines.recv().await {
                if line.starts_with("http") {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match url {
            Ok(Some(url)) => Reply::ok(json!({"status": "ok", "url": url, "state": state})),
            Ok(None) => match logins.status(&state) {
                Some(Status::Error(e)) => failed(502, e),
                _ => failed(502, "the device login ended before it gave a URL"),
            },
            Err(_) => failed(504, "the provider gave no verification URL in time"),
        }
    }

    /// Writes the auth file of a finished login, rebuilds the accounts and records the
    /// outcome.
    async fn save(
        self,
        state: &str,
        tokens: Result<Result<switchyard_auth::TokenSet, String>, tokio::time::error::Elapsed>,
    ) {
        let status = match tokens {
            Err(_) => Status::Error(format!(
                "login timed out after {}s",
                LOGIN_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Status::Error(e),
            Ok(Ok(tokens)) => {
                let saved = login::save_login(
                    &self.provider,
                    &tokens,
                    &self.extras,
                    &self.route,
                    &self.store,
                    &mut std::io::sink(),
                )
                .await;
                match saved {
                    Ok(path) => {
                        let live = self.live.clone();
                        let rebuilt =
                            tokio::task::spawn_blocking(move || live.reloader().rebuild()).await;
                        if let Ok(Err(problems)) = rebuilt {
                            let all: Vec<String> =
                                problems.iter().map(ToString::to_string).collect();
                            tracing::warn!(
                                "login saved but the accounts were not rebuilt: {}",
                                all.join("; ")
                            );
                        }
                        tracing::info!(
                            file = %path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
                            "management login: {} account saved",
                            self.provider.id.name()
                        );
                        Status::Ok
                    }
                    Err(e) => Status::Error(e.to_string()),
                }
            }
        };
        if let Status::Error(e) = &status {
            tracing::warn!("management login ({}) failed: {e}", self.provider.id.name());
        }
        self.logins.finish(state, status);
    }
}

/// Lines written by a device login (its URL and user code), one message per line.
struct LineTap {
    tx: mpsc::UnboundedSender<String>,
    buf: Vec<u8>,
}

impl std::io::Write for LineTap {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        while let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            let _ = self
                .tx
                .send(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `GET /get-auth-status?state=`.
pub(super) fn status(call: &Call, logins: &Logins) -> Reply {
    let Some(state) = call.query("state").map(str::trim).filter(|s| !s.is_empty()) else {
        return failed(400, "missing state");
    };
    match logins.status(state) {
        Some(Status::Wait) => Reply::ok(json!({"status": "wait"})),
        Some(Status::Ok) => Reply::ok(json!({"status": "ok"})),
        Some(Status::Error(e)) => Reply::ok(json!({"status": "error", "error": e})),
        None => failed(404, "unknown or expired state"),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    provider: String,
    #[serde(default)]
    redirect_url: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `POST /oauth-callback {"provider", "redirect_url" | "code" + "state", "error"?}`.
pub(super) fn callback(call: &Call, logins: &Logins) -> Reply {
    let body: CallbackBody = match serde_json::from_slice(&call.body) {
        Ok(b) => b,
        Err(e) => return failed(400, format!("invalid body: {e}")),
    };
    let Some(provider) = provider_named(&body.provider) else {
        return failed(400, format!("unsupported provider {:?}", body.provider));
    };
    let mut state = body
        .state
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let mut code = body
        .code
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let mut error = body
        .error
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(raw) = body
        .redirect_url
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let Some((_, query)) = raw.split_once('?') else {
            return failed(400, "invalid redirect_url: no query");
        };
        let query = query.split('#').next().unwrap_or_default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "state" if state.is_none() => state = Some(v.into_owned()),
                "code" if code.is_none() => code = Some(v.into_owned()),
                "error" | "error_description" if error.is_none() => error = Some(v.into_owned()),
                _ => {}
            }
        }
    }
    let Some(state) = state else {
        return failed(400, "missing state");
    };
    if code.is_none() && error.is_none() {
        return failed(400, "missing code");
    }
    match logins.deliver(&state, Some(provider), Callback { code, error }) {
        Ok(()) => Reply::ok(json!({"status": "ok"})),
        Err(Refused::Unknown) => failed(404, "unknown or expired state"),
        Err(Refused::OtherProvider) => failed(400, "the state belongs to another provider's login"),
        Err(Refused::NotPending) => failed(409, "oauth flow is not pending"),
    }
}

/// `GET /<provider>/callback?code&state` on the main port: an HTML page for the browser.
pub(super) fn sink(provider: ProviderId, query: &str, logins: &Logins) -> Reply {
    let mut state = None;
    let mut code = None;
    let mut error = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "state" => state = Some(v.into_owned()),
            "code" => code = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            _ => {}
        }
    }
    let page = |status: u16, text: &str| Reply {
        status,
        body: format!("<!doctype html><title>switchyard login</title><p>{text}</p>\n").into_bytes(),
        content_type: "text/html; charset=utf-8",
        extra: Vec::new(),
    };
    let Some(state) = state else {
        return page(400, "Login failed: no state in the callback.");
    };
    let refused = error.is_some();
    match logins.deliver(&state, Some(provider), Callback { code, error }) {
        Ok(()) if refused => page(
            200,
            "Login refused by the provider. You can close this tab.",
        ),
        Ok(()) => page(200, "Login received. You can close this tab."),
        Err(Refused::Unknown) => page(404, "No login is waiting for this callback."),
        Err(Refused::OtherProvider | Refused::NotPending) => {
            page(409, "This login is not waiting for a callback.")
        }
    }
}
