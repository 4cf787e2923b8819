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
//! Contract: accounts are built off the hot path ([`accounts`]). Per attempt: [`shape`] and
//! [`set_credentials`] in `upstream_request_filter`, [`response_envelope`] and [`next_host`]
//! in `upstream_response_filter` (and `fail_to_connect`), [`Rewrap::apply`] first in
//! `response_body_filter` (synchronous). [`Rewrap`] also wraps the answers of the local Gemini
//! CLI endpoint (`gemini_cli_endpoint.rs`).

use super::{Call, Draft};
use crate::accounts::{CodeAssistSite, Flavor, UpstreamTarget};
use crate::errors::GatewayError;
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
const ANTIGRAVITY_HOSTS: [&str; 3] = [
    "https://cloudcode-pa.googleapis.com",
    "https://daily-cloudcode-pa.googleapis.com",
    "https://daily-cloudcode-pa.sandbox.googleapis.com",
];

/// The pool accounts of one Gemini CLI or Antigravity auth file (none when it cannot be
/// served: a Gemini CLI file without `project_id`, or an unusable `base-url`).
pub fn accounts(
    file: &str,
    record: &AuthRecord,
    provider: &Provider,
) -> Vec<(ApiKeyAccount, Arc<CodeAssistSite>)> {
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
                super::oauth::file_account(file, record, ProviderKind::Gemini, &first);
            account.id = id;
            let site = CodeAssistSite {
                flavor,
                project,
                hosts: hosts.clone(),
            };
            (account, Arc::new(site))
        })
        .collect()
}

/// The state of a response body that travels in an envelope: unwrapped from a Code Assist
/// account's answer, or wrapped for a local Gemini CLI caller.
#[derive(Debug, Default)]
pub enum Rewrap {
    #[default]
    Off,
    /// A whole JSON body, collected until its end.
    Whole(Direction, Vec<u8>),
    /// An SSE stream, event by event.
    Stream(Box<StreamRewrap>),
}

impl Rewrap {
    /// The state for a body of this content type going `direction`.
    pub fn new(direction: Direction, sse: bool) -> Self {
        if sse {
            Self::Stream(Box::new(StreamRewrap::new(direction)))
        } else {
            Self::Whole(direction, Vec::new())
        }
    }

    /// Rewrites one chunk in place (a whole body is held back until its end).
    pub fn apply(&mut self, body: &mut Option<bytes::Bytes>, end_of_stream: bool) {
        match self {
            Self::Off => {}
            Self::Whole(direction, buf) => {
                if let Some(chunk) = body.take() {
                    buf.extend_from_slice(&chunk);
                }
                *body = Some(match (end_of_stream, direction) {
                    (false, _) => bytes::Bytes::new(),
                    (true, Direction::Unwrap) => bytes::Bytes::from(envelope::unwrap_response(buf)),
                    (true, Direction::Wrap) => bytes::Bytes::from(envelope::wrap_response(buf)),
                });
            }
            Self::Stream(r) => {
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
}

/// Which Code Assist method an attempt calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Generate,
    Stream,
    /// `countTokens`: answered `{"totalTokens": n}`, not wrapped.
    CountTokens,
}

/// The encoded Gemini body in the envelope, and the `v1internal` method as the path.
pub fn shape(
    site: &CodeAssistSite,
    draft: &mut Draft<'_>,
    call: &Call<'_>,
) -> Result<(), GatewayError> {
    let method = if call.count_tokens {
        Method::CountTokens
    } else if call.stream {
        Method::Stream
    } else {
        Method::Generate
    };
    let inner = draft.body.clone().unwrap_or_else(|| (draft.client_body)());
    let (suffix, query, body) = request(site, call.upstream_model, method, &inner)?;
    draft.suffix = suffix.into();
    draft.query = query.into();
    draft.body = Some(body);
    Ok(())
}

/// Path after the host's base, query and body of a request: the encoded Gemini `inner` body
/// in the envelope (a count: its `contents` in Gemini CLI's `countTokens` envelope).
fn request(
    site: &CodeAssistSite,
    model: &str,
    method: Method,
    inner: &[u8],
) -> Result<(&'static str, &'static str, bytes::Bytes), GatewayError> {
    let (path, query) = match method {
        Method::Stream => ("/v1internal:streamGenerateContent", "alt=sse"),
        Method::Generate => ("/v1internal:generateContent", ""),
        Method::CountTokens => {
            // Gemini CLI's shape: `{"request": {"model": "models/<m>", "contents": [...]}}`
            // (the contents only, as a Gemini `countTokens` body has them).
            let mut counted = serde_json::Map::new();
            if let Ok(serde_json::Value::Object(mut m)) = serde_json::from_slice(inner) {
                if let Some(contents) = m.remove("contents") {
                    counted.insert("contents".into(), contents);
                }
            }
            let counted = serde_json::Value::Object(counted).to_string();
            let body = envelope::wrap_count_tokens(counted.as_bytes(), model)?;
            return Ok(("/v1internal:countTokens", "", bytes::Bytes::from(body)));
        }
    };
    let (request_id, session_id);
    let antigravity = match site.flavor {
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
        project: &site.project,
        antigravity,
    };
    let body = envelope::wrap_request(inner, &env)?;
    Ok((path, query, bytes::Bytes::from(body)))
}

/// Bearer token and the real client's identity headers.
pub fn set_credentials(
    req: &mut pingora_http::RequestHeader,
    site: &CodeAssistSite,
    token: &str,
    model: &str,
) -> pingora_error::Result<()> {
    req.insert_header("authorization", format!("Bearer {token}"))?;
    let (os, arch) = super::node_platform();
    match site.flavor {
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
    Ok(())
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

/// The upstream answered: its body is unwrapped, as a stream or whole.
pub fn response_envelope(resp: &pingora_http::ResponseHeader) -> Rewrap {
    let sse = resp
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    Rewrap::new(Direction::Unwrap, sse)
}

/// An attempt on `host` failed (`status`: its answer; `None`: no connection): the next host,
/// if the site has one. Antigravity fails over between hosts on 429, 5xx and transport errors
/// (CLIProxyAPI's `antigravity_executor`), before the account itself counts as failed.
pub fn next_host(site: &CodeAssistSite, status: Option<u16>, host: usize) -> Option<usize> {
    if status.is_some_and(|s| s != 429 && s < 500) {
        return None;
    }
    let next = host + 1;
    (next < site.hosts.len()).then_some(next)
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
    fn next_host_on_quota_server_errors_and_transport_only() {
        let site = |n: usize| CodeAssistSite {
            flavor: Flavor::Antigravity,
            project: String::new(),
            hosts: (0..n)
                .map(|i| UpstreamTarget::parse(&format!("http://127.0.0.1:{}", 9 + i)).unwrap())
                .collect(),
        };
        assert_eq!(next_host(&site(3), Some(429), 0), Some(1));
        assert_eq!(next_host(&site(3), None, 1), Some(2));
        assert_eq!(next_host(&site(3), Some(503), 2), None);
        assert_eq!(next_host(&site(3), Some(400), 0), None);
        assert_eq!(next_host(&site(1), Some(500), 0), None);
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
        let channel = CodeAssistSite {
            flavor: Flavor::GeminiCli,
            project: "p".into(),
            hosts: vec![UpstreamTarget::parse("http://127.0.0.1:9/base").unwrap()],
        };
        let (path, query, body) =
            request(&channel, "m", Method::Stream, br#"{"contents":[]}"#).unwrap();
        assert_eq!(
            (path, query),
            ("/v1internal:streamGenerateContent", "alt=sse")
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"model": "m", "project": "p", "request": {"contents": []}})
        );
        let (path, query, _) = request(&channel, "m", Method::Generate, b"{}").unwrap();
        assert_eq!((path, query), ("/v1internal:generateContent", ""));
        let inner =
            br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{}}"#;
        let (path, _, body) = request(&channel, "m", Method::CountTokens, inner).unwrap();
        assert_eq!(path, "/v1internal:countTokens");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"request": {"model": "models/m",
                               "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}})
        );

        let ag = CodeAssistSite {
            flavor: Flavor::Antigravity,
            ..channel
        };
        let (_, _, a) = request(&ag, "m", Method::Generate, br#"{"contents":[1]}"#).unwrap();
        let (_, _, b) = request(&ag, "m", Method::Generate, br#"{"contents":[1]}"#).unwrap();
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_slice(&a).unwrap(),
            serde_json::from_slice(&b).unwrap(),
        );
        assert_ne!(a["requestId"], b["requestId"]);
        assert_eq!(a["request"]["sessionId"], b["request"]["sessionId"]);
        assert_eq!(a["requestType"], "agent");
    }
}
