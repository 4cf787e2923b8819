//! Google Code Assist accounts (auth files of `type: gemini`/`gemini-cli` and `antigravity`):
//! Gemini requests sent to `cloudcode-pa` `/v1internal:{generateContent,streamGenerateContent}`
//! in the envelope of `switchyard_translators::codeassist`, with a Bearer token and the headers
//! the real clients send, and answers unwrapped before the response translators see them.
//!
//! | | Gemini CLI | Antigravity |
//! |---|---|---|
//! | hosts | `oauth-overrides.gemini.base-url` (default `https://cloudcode-pa.googleapis.com`) | `oauth-overrides.antigravity.base-url`, a comma-separated list tried in order (default: prod, daily, sandbox daily) |
//! | body | `{model, project, request}` | `{model, userAgent, requestType, project, requestId, request{..., sessionId}}` |
//! | headers | `User-Agent: GeminiCLI/<v>/<model> (<os>; <arch>)`, `X-Goog-Api-Client`, `Client-Metadata` | `User-Agent: antigravity/<v> <os>/<arch>` |
//!
//! A comma-separated `project_id` gives one pool account per project (`auth-dir/<file>#<p>`),
//! all sharing the file's token. Every attempt on these accounts goes through the IR (a Gemini
//! client too): the envelope is added to the encoded Gemini body.
//!
//! Contract: accounts are built off the hot path ([`accounts`], from `oauth::load`). Per
//! attempt: [`Attempt::begin`] in `upstream_peer`, [`request`] and [`headers`] in
//! `translated_request`, [`on_response_header`] and [`next_host`] in `upstream_response_filter`
//! (and `fail_to_connect`), [`unwrap_body`] first in `response_body_filter` (synchronous).

pub mod local;

use crate::accounts::{Account, UpstreamTarget};
use crate::ctx::Ctx;
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind};
use switchyard_translators::codeassist::{
    self as envelope, AntigravityIds, Direction, StreamRewrap,
};

/// The Gemini CLI version the headers claim.
const GEMINI_CLI_VERSION: &str = "0.31.0";
const GEMINI_API_CLIENT: &str = "google-genai-sdk/1.41.0 gl-node/v22.19.0";
const GEMINI_CLIENT_METADATA: &str =
    "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI";
/// The Antigravity version the headers claim.
const ANTIGRAVITY_VERSION: &str = "1.104.0";
/// Antigravity's hosts, tried in this order when `base-url` is not overridden.
pub const ANTIGRAVITY_HOSTS: [&str; 3] = [
    "https://cloudcode-pa.googleapis.com",
    "https://daily-cloudcode-pa.googleapis.com",
    "https://daily-cloudcode-pa.sandbox.googleapis.com",
];

/// Which Code Assist client an account poses as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    GeminiCli,
    Antigravity,
}

/// How one Code Assist account's requests are shaped.
#[derive(Debug, Clone)]
pub struct Channel {
    pub flavor: Flavor,
    /// The Google Cloud project of this pool account (may be empty for Antigravity).
    pub project: String,
    /// Hosts in the order they are tried (the first is the account's own `target`).
    pub hosts: Vec<UpstreamTarget>,
}

/// The pool accounts of one Gemini CLI or Antigravity auth file (none when it cannot be
/// served: a Gemini CLI file without `project_id`, or an unusable `base-url`).
pub fn accounts(
    file: &str,
    record: &AuthRecord,
    provider: &Provider,
) -> Vec<(ApiKeyAccount, Arc<Channel>)> {
    let flavor = match provider.id {
        ProviderId::Antigravity => Flavor::Antigravity,
        _ => Flavor::GeminiCli,
    };
    let urls: Vec<String> = if flavor == Flavor::Antigravity
        && provider.base_url == Provider::builtin(ProviderId::Antigravity).base_url
    {
        ANTIGRAVITY_HOSTS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        provider
            .base_url
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let hosts: Result<Vec<_>, _> = urls.iter().map(|u| UpstreamTarget::parse(u)).collect();
    let (hosts, first) = match (hosts, urls.first()) {
        (Ok(h), Some(first)) => (h, first.clone()),
        (Err(e), _) => {
            tracing::warn!(file, "auth file skipped: {e}");
            return Vec::new();
        }
        (Ok(_), None) => {
            tracing::warn!(file, "auth file skipped: no Code Assist base-url");
            return Vec::new();
        }
    };
    let mut projects: Vec<String> = record
        .raw()
        .get("project_id")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .split(',')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if projects.is_empty() {
        if flavor == Flavor::GeminiCli {
            tracing::warn!(
                file,
                "auth file skipped: no project_id (run `switchyard login gemini`)"
            );
            return Vec::new();
        }
        projects.push(String::new());
    }
    let many = projects.len() > 1;
    projects
        .into_iter()
        .map(|project| {
            let id = if many {
                format!("auth-dir/{file}#{project}")
            } else {
                format!("auth-dir/{file}")
            };
            let mut account =
                crate::oauth::file_account(file, record, ProviderKind::Gemini, &first);
            account.id = id;
            let channel = Channel {
                flavor,
                project,
                hosts: hosts.clone(),
            };
            (account, Arc::new(channel))
        })
        .collect()
}

/// The account's Code Assist channel, if it has one.
pub fn channel(account: &Account) -> Option<&Channel> {
    account.oauth.as_ref()?.codeassist.as_deref()
}

/// Whether the account's requests travel in a Code Assist envelope (never passed through).
pub fn enveloped(account: &Account) -> bool {
    channel(account).is_some()
}

/// Code Assist state of a request (one field of `Ctx`).
#[derive(Debug, Default)]
pub struct Attempt {
    /// The request came to the local `/v1internal:*` endpoint (`local.rs`): for the request.
    pub local: bool,
    /// Index into the channel's hosts of the attempt in flight.
    pub host: usize,
    /// The host the next attempt (the same account again) uses.
    next_host: Option<usize>,
    /// How the attempt's response body is unwrapped (an enveloped account's answer).
    unwrap: Unwrap,
    /// How the attempt's answer is wrapped (a local caller's).
    wrap: Unwrap,
}

/// Which way [`rewrap`] goes for a whole body.
#[derive(Debug, Clone, Copy)]
enum WrapState {
    Unwrap,
    Wrap,
}

#[derive(Debug, Default)]
enum Unwrap {
    #[default]
    Off,
    /// A whole JSON body, collected until its end.
    Whole(Vec<u8>),
    /// An SSE stream, event by event.
    Stream(Box<StreamRewrap>),
}

impl Attempt {
    /// A new attempt starts: on the host [`next_host`] chose, else the first.
    pub fn begin(&mut self) {
        self.host = self.next_host.take().unwrap_or(0);
        self.unwrap = Unwrap::Off;
        self.wrap = Unwrap::Off;
    }
}

/// The account as this attempt sees it: its target is the attempt's host.
pub fn for_host(account: &Account, host: usize) -> Cow<'_, Account> {
    match channel(account).and_then(|c| c.hosts.get(host)) {
        Some(t) if host > 0 => {
            let mut a = account.clone();
            a.target = t.clone();
            Cow::Owned(a)
        }
        _ => Cow::Borrowed(account),
    }
}

/// Path and body of a request: the encoded Gemini `inner` body in the envelope (a count: its
/// `contents` in Gemini CLI's `countTokens` envelope).
pub fn request(
    channel: &Channel,
    host: usize,
    model: &str,
    call: Call,
    inner: &[u8],
) -> Result<(String, bytes::Bytes), String> {
    let base = channel.hosts.get(host).map_or("", |t| t.base_path.as_str());
    let path = match call {
        Call::Stream => format!("{base}/v1internal:streamGenerateContent?alt=sse"),
        Call::Generate => format!("{base}/v1internal:generateContent"),
        Call::CountTokens => {
            // Gemini CLI's shape: `{"request": {"model": "models/<m>", "contents": [...]}}`
            // (the contents only, as a Gemini `countTokens` body has them).
            let mut counted: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
            if let Ok(serde_json::Value::Object(mut m)) = serde_json::from_slice(inner) {
                if let Some(contents) = m.remove("contents") {
                    counted.insert("contents".into(), contents);
                }
            }
            let counted = serde_json::to_vec(&counted).map_err(|e| e.to_string())?;
            let body = envelope::wrap_count_tokens(&counted, model).map_err(|e| e.to_string())?;
            return Ok((
                format!("{base}/v1internal:countTokens"),
                bytes::Bytes::from(body),
            ));
        }
    };
    let (request_id, session_id);
    let antigravity = match channel.flavor {
        Flavor::GeminiCli => None,
        Flavor::Antigravity => {
            request_id = format!("agent-{}", unique_hex());
            session_id = session_id_of(inner);
            Some(AntigravityIds {
                request_id: &request_id,
                session_id: &session_id,
            })
        }
    };
    let env = envelope::Envelope {
        model,
        project: &channel.project,
        antigravity,
    };
    let body = envelope::wrap_request(inner, &env).map_err(|e| e.to_string())?;
    Ok((path, bytes::Bytes::from(body)))
}

/// Which Code Assist method an attempt calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Generate,
    Stream,
    /// `countTokens`: answered `{"totalTokens": n}`, not wrapped.
    CountTokens,
}

/// The client's headers (after `set_credentials`): the `Host` of the attempt's host, the real
/// client's identity headers, then the auth file's own headers again (they win).
pub fn headers(
    req: &mut pingora_http::RequestHeader,
    account: &Account,
    host: usize,
    model: &str,
) -> pingora_error::Result<()> {
    let Some(channel) = channel(account) else {
        return Ok(());
    };
    if let Some(t) = channel.hosts.get(host) {
        req.insert_header("host", t.authority.as_str())?;
    }
    let (os, arch) = platform();
    match channel.flavor {
        Flavor::GeminiCli => {
            let ua = format!("GeminiCLI/{GEMINI_CLI_VERSION}/{model} ({os}; {arch})");
            req.insert_header("user-agent", ua)?;
            req.insert_header("x-goog-api-client", GEMINI_API_CLIENT)?;
            req.insert_header("client-metadata", GEMINI_CLIENT_METADATA)?;
        }
        Flavor::Antigravity => {
            let ua = format!("antigravity/{ANTIGRAVITY_VERSION} {os}/{arch}");
            req.insert_header("user-agent", ua)?;
        }
    }
    for (name, value) in &account.headers {
        req.insert_header(name.clone(), value.clone())?;
    }
    Ok(())
}

/// Node-style platform names, as the real clients report them.
fn platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    };
    (os, arch)
}

/// A stable session id for a conversation: a hash of the start of its Gemini body (the system
/// instruction and first turns, which later turns repeat).
fn session_id_of(inner: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    inner[..inner.len().min(512)].hash(&mut h);
    format!("-{}", h.finish())
}

fn unique_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}{n:08x}", now ^ 0x5bd1_e995_u64.rotate_left(29))
}

/// The upstream answered: how its body is unwrapped (enveloped attempts only).
pub fn on_response_header(resp: &pingora_http::ResponseHeader, ctx: &mut Ctx) {
    let Some(c) = ctx.candidate() else { return };
    if !enveloped(&ctx.rt.accounts[c.account]) {
        return;
    }
    let sse = resp
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    ctx.codeassist.unwrap = if sse {
        Unwrap::Stream(Box::new(StreamRewrap::new(Direction::Unwrap)))
    } else {
        Unwrap::Whole(Vec::new())
    };
}

/// Takes the Code Assist envelope off a response chunk, before anything else reads it.
pub fn unwrap_body(body: &mut Option<bytes::Bytes>, end_of_stream: bool, ctx: &mut Ctx) {
    rewrap(
        &mut ctx.codeassist.unwrap,
        WrapState::Unwrap,
        body,
        end_of_stream,
    );
}

fn rewrap(
    state: &mut Unwrap,
    way: WrapState,
    body: &mut Option<bytes::Bytes>,
    end_of_stream: bool,
) {
    match state {
        Unwrap::Off => {}
        Unwrap::Whole(buf) => {
            if let Some(chunk) = body.take() {
                buf.extend_from_slice(&chunk);
            }
            *body = Some(match (end_of_stream, way) {
                (false, _) => bytes::Bytes::new(),
                (true, WrapState::Unwrap) => bytes::Bytes::from(envelope::unwrap_response(buf)),
                (true, WrapState::Wrap) => bytes::Bytes::from(envelope::wrap_response(buf)),
            });
        }
        Unwrap::Stream(r) => {
            let mut out = Vec::new();
            if let Some(chunk) = body.take() {
                r.feed(&chunk, &mut out);
            }
            if end_of_stream {
                r.finish(&mut out);
            }
            *body = Some(bytes::Bytes::from(out));
        }
    }
}

/// An attempt on a host failed (`status`: its answer; `None`: no connection). When the account
/// has another host and the client has seen nothing, the same account goes next, on that host,
/// and true is returned. Antigravity fails over between hosts on 429, 5xx and transport errors
/// (CLIProxyAPI's `antigravity_executor`), before the account itself counts as failed.
pub fn next_host(status: Option<u16>, ctx: &mut Ctx) -> bool {
    if status.is_some_and(|s| s != 429 && s < 500) || !ctx.downstream.can_fail_over() {
        return false;
    }
    let (Some(i), Some(candidate)) = (ctx.current, ctx.candidate().cloned()) else {
        return false;
    };
    let hosts = channel(&ctx.rt.accounts[candidate.account]).map_or(0, |c| c.hosts.len());
    let next = ctx.codeassist.host + 1;
    if next >= hosts {
        return false;
    }
    tracing::info!(
        account = %ctx.rt.accounts[candidate.account].id,
        host = next,
        "Code Assist host failed ({status:?}); trying the next host"
    );
    ctx.candidates.insert(i + 1, candidate);
    ctx.codeassist.next_host = Some(next);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: serde_json::Value) -> AuthRecord {
        AuthRecord::parse("f.json", v.to_string().as_bytes())
            .unwrap()
            .unwrap()
    }

    fn gemini(base: &str) -> Provider {
        let mut p = Provider::builtin(ProviderId::Gemini);
        p.base_url = base.into();
        p
    }

    #[test]
    fn one_account_per_project_with_stable_ids() {
        let r = record(json!({"type": "gemini", "project_id": "a, b,", "token": {}}));
        let accts = accounts("f.json", &r, &gemini("http://127.0.0.1:9/"));
        let ids: Vec<_> = accts.iter().map(|(a, _)| a.id.as_str()).collect();
        assert_eq!(ids, ["auth-dir/f.json#a", "auth-dir/f.json#b"]);
        let projects: Vec<_> = accts.iter().map(|(_, c)| c.project.as_str()).collect();
        assert_eq!(projects, ["a", "b"]);
        assert!(accts.iter().all(|(a, c)| a.kind == ProviderKind::Gemini
            && a.base_url == "http://127.0.0.1:9"
            && c.flavor == Flavor::GeminiCli
            && c.hosts.len() == 1));

        let single = record(json!({"type": "gemini", "project_id": "p", "token": {}}));
        let accts = accounts("f.json", &single, &gemini("http://127.0.0.1:9"));
        assert_eq!(accts.len(), 1);
        assert_eq!(accts[0].0.id, "auth-dir/f.json");
    }

    #[test]
    fn gemini_cli_file_without_project_is_skipped() {
        let r = record(json!({"type": "gemini", "project_id": "", "token": {}}));
        assert!(accounts("f.json", &r, &gemini("http://127.0.0.1:9")).is_empty());
    }

    #[test]
    fn antigravity_hosts_default_and_override() {
        let r = record(json!({"type": "antigravity", "access_token": "t"}));
        let p = Provider::builtin(ProviderId::Antigravity);
        let accts = accounts("f.json", &r, &p);
        assert_eq!(accts.len(), 1);
        let hosts: Vec<_> = accts[0].1.hosts.iter().map(|t| t.host.as_str()).collect();
        assert_eq!(
            hosts,
            [
                "cloudcode-pa.googleapis.com",
                "daily-cloudcode-pa.googleapis.com",
                "daily-cloudcode-pa.sandbox.googleapis.com"
            ]
        );
        assert_eq!(accts[0].1.project, "");
        let mut p = p;
        p.base_url = "http://127.0.0.1:9/x,http://127.0.0.1:10".into();
        let accts = accounts("f.json", &r, &p);
        let c = &accts[0].1;
        assert_eq!((c.hosts[0].port, c.hosts[0].base_path.as_str()), (9, "/x"));
        assert_eq!((c.hosts[1].port, c.hosts[1].base_path.as_str()), (10, ""));
    }

    #[test]
    fn request_paths_and_envelopes() {
        let channel = Channel {
            flavor: Flavor::GeminiCli,
            project: "p".into(),
            hosts: vec![UpstreamTarget::parse("http://127.0.0.1:9/base").unwrap()],
        };
        let (path, body) = request(&channel, 0, "m", Call::Stream, br#"{"contents":[]}"#).unwrap();
        assert_eq!(path, "/base/v1internal:streamGenerateContent?alt=sse");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"model": "m", "project": "p", "request": {"contents": []}})
        );
        let (path, _) = request(&channel, 0, "m", Call::Generate, b"{}").unwrap();
        assert_eq!(path, "/base/v1internal:generateContent");
        let inner =
            br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{}}"#;
        let (path, body) = request(&channel, 0, "m", Call::CountTokens, inner).unwrap();
        assert_eq!(path, "/base/v1internal:countTokens");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"request": {"model": "models/m",
                               "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}})
        );

        let ag = Channel {
            flavor: Flavor::Antigravity,
            ..channel
        };
        let (_, a) = request(&ag, 0, "m", Call::Generate, br#"{"contents":[1]}"#).unwrap();
        let (_, b) = request(&ag, 0, "m", Call::Generate, br#"{"contents":[1]}"#).unwrap();
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_slice(&a).unwrap(),
            serde_json::from_slice(&b).unwrap(),
        );
        assert_ne!(a["requestId"], b["requestId"]);
        assert_eq!(a["request"]["sessionId"], b["request"]["sessionId"]);
        assert_eq!(a["requestType"], "agent");
    }
}
