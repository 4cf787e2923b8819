//! The management API at `/v0/management/*` on the main port, with CLIProxyAPI's paths,
//! methods and JSON shapes (cliproxyapi.md §7), reached from `request_filter` before anything
//! else (`proxy.rs`). Its requests never reach the request log or usage statistics.
//!
//! `panel.rs`: the control panel page at `/management.html`, which calls this API.
//! `auth.rs`: who may call (404 when off, 401, 403, the ban). `settings.rs`: the config
//! (whole, raw, scalar settings and lists), every write going through `LiveConfig` (one edited
//! node, validated, atomic, applied); `oauth_models.rs`: the OAuth channels' excluded models
//! and aliases. `auth_files.rs`: the auth directory (`multipart.rs` reads uploaded forms).
//! `status.rs`: usage and live account health. `log_files.rs`: the log files.
//! `api_call.rs`: an outbound call with an account's credential. `oauth_login.rs`: OAuth
//! logins and their callbacks (also `/<provider>/callback` on the main port). Handlers are
//! plain functions (async for outbound calls) from a [`Call`] to a [`Reply`].
//! Secrets are masked in every answer (`mask`), except the raw `config.yaml` and an auth
//! file's download, which are the operator's own files.

mod api_call;
mod auth;
mod auth_files;
mod log_files;
mod multipart;
mod oauth_login;
mod oauth_models;
mod panel;
mod settings;
mod status;

use crate::ctx::Ctx;
use crate::live_config::{ConfigError, LiveConfig};
use bytes::Bytes;
use pingora_http::ResponseHeader;
use pingora_proxy::Session;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

pub const PREFIX: &str = "/v0/management";

/// Largest request body a management call reads (a config file, an auth file, a usage
/// export).
const MAX_BODY: usize = 32 << 20;

/// The management API's state: the live config it edits and the guard's memory.
pub struct Management {
    live: Arc<LiveConfig>,
    guard: auth::Guard,
    panel: panel::Panel,
    /// OAuth logins started through the API.
    logins: Arc<oauth_login::Logins>,
}

impl Management {
    /// `env_password`: `MANAGEMENT_PASSWORD`.
    pub fn new(live: Arc<LiveConfig>, env_password: Option<String>) -> Self {
        Self {
            live,
            guard: auth::Guard::new(env_password),
            panel: panel::Panel::new(),
            logins: Arc::default(),
        }
    }
}

/// One management call.
pub(crate) struct Call {
    pub method: http::Method,
    /// The path after `/v0/management` (`/config`, `/auth-files/download`).
    pub route: String,
    pub query: HashMap<String, String>,
    /// The request's `content-type` (multipart uploads).
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Call {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The body as JSON of type `T`; a 400 naming the problem otherwise.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Reply> {
        serde_json::from_slice(&self.body).map_err(|e| Reply::bad(format!("invalid body: {e}")))
    }
}

/// A management answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub extra: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Self {
        Self {
            status,
            body: serde_json::to_vec(&v).unwrap_or_default(),
            content_type: "application/json",
            extra: Vec::new(),
        }
    }
    pub fn ok(v: Value) -> Self {
        Self::json(200, v)
    }
    pub fn done() -> Self {
        Self::ok(json!({"status": "ok"}))
    }
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(status, json!({"error": message.into()}))
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Self::error(400, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::error(404, message)
    }
}

/// What a failed config write answers: 400 naming every problem (nothing was applied).
impl From<ConfigError> for Reply {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid(problems) => Reply::json(
                400,
                json!({
                    "error": problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                    "problems": problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
            ),
            e @ ConfigError::Edit(switchyard_conf::edit::EditError::NotInPlace { .. }) => {
                Reply::error(409, e.to_string())
            }
            e @ ConfigError::Edit(_) => Reply::bad(e.to_string()),
            e @ (ConfigError::Read { .. } | ConfigError::Write { .. } | ConfigError::Hash(_)) => {
                tracing::warn!("management: {e}");
                Reply::error(500, "failed to save config")
            }
        }
    }
}

/// `abcd****wxyz`: enough to tell keys apart, never the key.
pub(crate) fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "****".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Answers the call when the path is the management API's or the control panel's. Returns
/// `None` for every other path.
pub async fn request_filter(
    session: &mut Session,
    ctx: &mut Ctx,
    management: &Management,
) -> Option<pingora_error::Result<bool>> {
    let path = session.req_header().uri.path();
    if path == panel::PATH {
        ctx.req.management = true;
        let rm = &management.live.current().remote_management;
        let on = management.guard.is_on(rm) && !rm.disable_control_panel;
        let reply = management.panel.reply(&session.req_header().method, on);
        return Some(write(session, ctx, reply).await);
    }
    let browser_get = matches!(
        session.req_header().method,
        http::Method::GET | http::Method::HEAD
    );
    if let Some(provider) = oauth_login::sink_route(path).filter(|_| browser_get) {
        // A login's browser redirect: authenticated by its `state`, never logged.
        ctx.req.management = true;
        let query = session
            .req_header()
            .uri
            .query()
            .unwrap_or_default()
            .to_owned();
        let reply = oauth_login::sink(provider, &query, &management.logins);
        return Some(write(session, ctx, reply).await);
    }
    let route = match path.strip_prefix(PREFIX) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_owned(),
        _ => return None,
    };
    ctx.req.management = true;
    let req = session.req_header();
    let ip = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip());
    let presented = presented(req);
    let config = management.live.current();
    let admitted = management.guard.check(
        &config.remote_management,
        ip,
        presented.as_deref(),
        Instant::now(),
    );
    let reply = match admitted {
        Err(auth::Denied::Off) => Reply::not_found("not found"),
        Err(auth::Denied::Forbidden(m)) => Reply::error(403, m),
        Err(auth::Denied::Unauthorized(m)) => Reply::error(401, m),
        Ok(()) => match read_body(session).await {
            Ok(body) => {
                let req = session.req_header();
                let call = Call {
                    method: req.method.clone(),
                    route,
                    query: req.uri.query().map(parse_query).unwrap_or_default(),
                    content_type: req
                        .headers
                        .get(http::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    body,
                };
                let live = management.live.clone();
                let shared = ctx.shared.clone();
                let logins = management.logins.clone();
                let route = call.route.trim_end_matches('/');
                match (route, &call.method) {
                    // Outbound calls: awaited on the worker, never blocking it.
                    ("/api-call", &http::Method::POST) => api_call::call(&call, &live).await,
                    (r, &http::Method::GET) if oauth_login::auth_url_route(r).is_some() => {
                        match oauth_login::auth_url_route(r) {
                            Some(id) => oauth_login::start(id, &call, &live, &logins).await,
                            None => Reply::not_found("not found"),
                        }
                    }
                    ("/get-auth-status", &http::Method::GET) => oauth_login::status(&call, &logins),
                    ("/oauth-callback", &http::Method::POST) => {
                        oauth_login::callback(&call, &logins)
                    }
                    // Config writes hash, fsync and rebuild; file routes read whole files:
                    // off the proxy's worker threads.
                    _ => tokio::task::spawn_blocking(move || dispatch(&call, &live, &shared))
                        .await
                        .unwrap_or_else(|_| Reply::error(500, "internal error")),
                }
            }
            Err(reply) => reply,
        },
    };
    Some(write(session, ctx, reply).await)
}

fn presented(req: &http::request::Parts) -> Option<String> {
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(auth) = header("authorization") {
        let key = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .unwrap_or(auth);
        return Some(key.trim().to_owned());
    }
    header("x-management-key").map(str::to_owned)
}

fn parse_query(q: &str) -> HashMap<String, String> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

async fn read_body(session: &mut Session) -> Result<Vec<u8>, Reply> {
    let mut body = Vec::new();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    session.set_keepalive(None);
                    return Err(Reply::error(413, "request body too large"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(_) => return Err(Reply::bad("could not read the request body")),
        }
    }
}

async fn write(session: &mut Session, ctx: &Ctx, reply: Reply) -> pingora_error::Result<bool> {
    let mut h = ResponseHeader::build(reply.status, Some(6))?;
    h.insert_header("content-type", reply.content_type)?;
    h.insert_header("content-length", reply.body.len().to_string())?;
    h.insert_header("cache-control", "no-store")?;
    h.insert_header("x-cpa-version", env!("CARGO_PKG_VERSION"))?;
    for (k, v) in reply.extra {
        h.insert_header(k, v)?;
    }
    crate::phases::observed_headers(&mut h, &ctx.obs)?;
    let head_only = session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(h), head_only)
        .await?;
    if !head_only {
        session
            .write_response_body(Some(Bytes::from(reply.body)), true)
            .await?;
    }
    Ok(true)
}

/// The body readers of [`dispatch`]'s routes without the config file or the auth directory
/// behind them, for `switchyard-fuzzing`: a `POST /auth-files` form (`multipart.rs` and each
/// file's check), a list `PUT` body and an `api-keys` `PATCH` body. The status it would answer
/// (200 when every reader accepted the body).
#[doc(hidden)]
pub fn fuzz_bodies(content_type: &str, body: &[u8]) -> u16 {
    let call = Call {
        method: http::Method::POST,
        route: "/auth-files".into(),
        query: HashMap::new(),
        content_type: Some(content_type.to_owned()),
        body: body.to_vec(),
    };
    let mut status = 200;
    let mut note = |r: Result<(), Reply>| {
        if let Err(r) = r {
            status = status.max(r.status);
        }
    };
    match multipart::boundary(content_type) {
        None => note(auth_files::check_upload(None, body)),
        Some(Err(_)) => note(Err(Reply::bad("invalid multipart form"))),
        Some(Ok(b)) => match multipart::parts(body, &b) {
            Ok(parts) => {
                for p in parts {
                    let name = p.file_name.unwrap_or_default();
                    note(auth_files::check_upload(Some(name.trim()), p.body));
                }
            }
            Err(e) => note(Err(Reply::bad(e.to_string()))),
        },
    }
    for key in ["api-keys", "openai-compatibility"] {
        note(settings::items_of(&call, key).map(drop));
    }
    if let Ok(patch) = call.json::<serde_json::Map<String, Value>>() {
        let mut items = vec![Value::from("sk-one"), Value::from("sk-two")];
        note(settings::patch_strings(&mut items, &patch));
    }
    status
}

/// The route table: path and method to handler.
fn dispatch(call: &Call, live: &LiveConfig, shared: &crate::shared::Shared) -> Reply {
    use http::Method as M;
    let m = &call.method;
    let route = call.route.trim_end_matches('/');
    if let Some(reply) = settings::scalar(call, live, route) {
        return reply;
    }
    if let Some(reply) = settings::list(call, live, route) {
        return reply;
    }
    if let Some(reply) = oauth_models::route(call, live, route) {
        return reply;
    }
    if let Some(name) = route.strip_prefix("/request-error-logs/") {
        return match m {
            &M::GET => log_files::error_log(name, &shared.logs),
            _ => Reply::error(405, "method not allowed"),
        };
    }
    if let Some(id) = route
        .strip_prefix("/request-log-by-id/")
        .or_else(|| (route == "/request-log-by-id").then_some(""))
    {
        return match m {
            &M::GET => log_files::by_request_id(id, call, &shared.logs),
            _ => Reply::error(405, "method not allowed"),
        };
    }
    match (route, m) {
        ("/config", &M::GET) => settings::get_config(live),
        ("/config.yaml", &M::GET) => settings::get_config_yaml(live),
        ("/config.yaml", &M::PUT) => settings::put_config_yaml(call, live),
        ("/auth-files", &M::GET) => auth_files::list(live, shared),
        ("/auth-files", &M::POST) => auth_files::upload(call, live),
        ("/auth-files", &M::DELETE) => auth_files::delete(call, live),
        ("/auth-files/download", &M::GET) => auth_files::download(call, live),
        ("/auth-files/models", &M::GET) => auth_files::models(call, live),
        ("/logs", &M::GET) => log_files::get_logs(call, live, &shared.logs),
        ("/logs", &M::DELETE) => log_files::delete_logs(live, &shared.logs),
        ("/request-error-logs", &M::GET) => log_files::error_logs(live, &shared.logs),
        ("/auth-files/status", &M::PATCH) => auth_files::set_status(call, live),
        ("/auth-files/fields", &M::PATCH) => auth_files::set_fields(call, live),
        ("/usage", &M::GET) => status::usage(shared),
        ("/usage/export", &M::GET) => status::usage_export(shared),
        ("/usage/import", &M::POST) => status::usage_import(call, shared),
        ("/accounts", &M::GET) => status::accounts(live, shared),
        (
            "/config"
            | "/config.yaml"
            | "/auth-files"
            | "/auth-files/download"
            | "/auth-files/models"
            | "/logs"
            | "/request-error-logs"
            | "/api-call"
            | "/get-auth-status"
            | "/oauth-callback"
            | "/auth-files/status"
            | "/auth-files/fields"
            | "/usage"
            | "/usage/export"
            | "/usage/import"
            | "/accounts",
            _,
        ) => Reply::error(405, "method not allowed"),
        (r, _) if oauth_login::auth_url_route(r).is_some() => {
            Reply::error(405, "method not allowed")
        }
        _ => Reply::not_found("not found"),
    }
}
