//! The one builder of an attempt's upstream request, for the same-protocol and the translated
//! path alike: path and query, body, payload rules, the channel's rewrites, dropped headers,
//! credentials, the account's headers, `Host` and `Content-Length`.
//!
//! | step | same protocol | translated |
//! |---|---|---|
//! | path | the client endpoint's, Gemini's model re-encoded | the upstream protocol's (`translate::upstream_path`) |
//! | query | the client's, without credential parameters | the upstream protocol's |
//! | body | the client's bytes, the model name spliced in (not copied) | the IR encoded for the account |
//! | payload rules | only when one matches is the body copied and edited | on the encoded body |
//! | channel | `Channel::shape` (Claude cloak, Vertex path, Code Assist envelope) | same |
//! | headers | dropped list, `Channel::set_credentials`, account headers, `Host` | same, plus `content-type` and `accept`; `anthropic-*` only to Claude |
//!
//! Runs in `upstream_request_filter`; `request_body_filter` then sends [`OutBody`].

use crate::accounts::Account;
use crate::body;
use crate::channels::{self, Call, Draft};
use crate::client_auth::strip_credential_params;
use crate::errors::GatewayError;
use crate::payload::{self, Payload};
use crate::protocol::{encode_path_segment, Endpoint};
use crate::translate::{self, Pair};
use bytes::Bytes;
use pingora_http::RequestHeader;
use switchyard_conf::ProviderKind;
use switchyard_translators::ir;

/// Headers never forwarded: the client's own credentials, hop-by-hop and framing headers the
/// gateway recomputes, and `accept-encoding` (upstream bodies stay uncompressed so the gateway
/// can read them; pingora.md §5).
const DROPPED_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "accept-encoding",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "upgrade",
];

/// The body `request_body_filter` sends for an attempt.
#[derive(Debug, Default)]
pub enum OutBody {
    /// The client's bytes, as Pingora replays them from its retry buffer.
    #[default]
    Client,
    /// The client's bytes with this `model` literal over the request's model span.
    Spliced(Vec<u8>),
    /// A body of the gateway's own: translated, or edited by payload rules or the channel.
    Replaced(Bytes),
}

/// The client side of an attempt: what the request asked (`ctx.req`).
pub struct Asked<'a> {
    pub endpoint: &'a Endpoint,
    pub model: &'a str,
    /// Where the `model` value sits in the client's body (quotes included).
    pub model_span: Option<&'a std::ops::Range<usize>>,
    pub body_len: usize,
    pub stream: bool,
    /// Every attempt goes through the IR.
    pub force_ir: bool,
    /// The client asked for Chat's `stream_options.include_usage`.
    pub include_usage: bool,
    /// The body has a top-level `stream_options` member.
    pub stream_options: bool,
}

/// The account side of an attempt.
pub struct Attempt<'a> {
    pub account: &'a Account,
    pub upstream_model: &'a str,
    /// Index into the account's hosts.
    pub host: usize,
}

/// What the builder decided besides the header.
pub struct Outgoing {
    pub body: OutBody,
    /// The protocol pair, when the attempt is translated.
    pub pair: Option<Pair>,
    /// `stream_options.include_usage` was added to a same-protocol Chat stream request: the
    /// usage chunk it brings is not the client's.
    pub asked_usage: bool,
}

/// Rewrites `req` (the client's header, as Pingora will send it) into the attempt's upstream
/// request and returns its body. `client` is the client's header as it arrived; `client_body`
/// reads the client's bytes (a copy: called only when something edits them).
pub fn build(
    req: &mut RequestHeader,
    client: &RequestHeader,
    client_body: &dyn Fn() -> Bytes,
    asked: &Asked<'_>,
    ir: Option<&mut ir::Request>,
    payload: &Payload,
    attempt: &Attempt<'_>,
) -> Result<Outgoing, GatewayError> {
    let endpoint = asked.endpoint;
    let Attempt {
        account,
        upstream_model,
        host,
    } = *attempt;
    let translated = asked.force_ir || !channels::passes_through(endpoint, account, asked.stream);
    let stream = asked.stream || (translated && account.channel.streams_only());
    let target = payload::Target::new(account.kind, endpoint, upstream_model, asked.model);

    let (suffix, query, mut body, pair) = if translated {
        let client_wire = endpoint.wire().ok_or(GatewayError::Internal)?;
        let pair = Pair {
            client: client_wire,
            upstream: translate::upstream_wire(account.kind),
        };
        let ir = ir.ok_or(GatewayError::Internal)?;
        let encoded = translate::encode_request(ir, pair, upstream_model, stream)?;
        let edited = payload.apply(&target, &encoded).map(Bytes::from);
        let (suffix, query) = translate::upstream_path(account.kind, upstream_model, stream);
        let body = OutBody::Replaced(edited.unwrap_or(encoded));
        (suffix, query.to_owned(), body, Some(pair))
    } else {
        let body = match (asked.model_span, endpoint.model_in_body()) {
            (Some(_), true) if asked.model != upstream_model => {
                OutBody::Spliced(body::model_literal(upstream_model))
            }
            _ => OutBody::Client,
        };
        let query = client
            .uri
            .query()
            .map(strip_credential_params)
            .unwrap_or_default();
        (
            same_protocol_suffix(endpoint, upstream_model),
            query,
            body,
            None,
        )
    };

    // The client's bytes as they would go upstream; read only by what edits them.
    let spliced = |literal: &Option<Vec<u8>>| {
        let raw = client_body();
        match (literal, asked.model_span) {
            (Some(literal), Some(span)) => body::splice(&raw, span, literal),
            _ => raw,
        }
    };
    let literal = match &body {
        OutBody::Spliced(l) => Some(l.clone()),
        OutBody::Client | OutBody::Replaced(_) => None,
    };
    let read_client = || spliced(&literal);
    // Tokens are counted on every stream: an OpenAI-compatible upstream reports them only
    // when asked (the translated path asks in `translate::encode_request`).
    let asked_usage = !translated
        && asked.stream
        && !asked.include_usage
        && matches!(endpoint, Endpoint::OpenAiChat);
    if asked_usage {
        let raw = read_client();
        let edited = if asked.stream_options {
            let keys = ["stream_options".to_owned(), "include_usage".to_owned()];
            crate::json_path::set(&raw, &keys, "true")
        } else {
            // The common case, and the cheap one: no walk of the body.
            crate::json_path::append_member(&raw, br#""stream_options":{"include_usage":true}"#)
        };
        body = OutBody::Replaced(edited.map_or(raw, Bytes::from));
    }
    if !translated && payload.applies(&target) {
        let raw = match &body {
            OutBody::Replaced(b) => b.clone(),
            OutBody::Client | OutBody::Spliced(_) => read_client(),
        };
        let edited = payload.apply(&target, &raw).map(Bytes::from);
        body = OutBody::Replaced(edited.unwrap_or(raw));
    }

    let mut draft = Draft {
        suffix,
        query,
        body: match &body {
            OutBody::Replaced(b) => Some(b.clone()),
            OutBody::Client | OutBody::Spliced(_) => None,
        },
        client_body: &read_client,
    };
    let call = Call {
        client,
        count_tokens: endpoint.is_count_tokens(),
        upstream_model,
        stream,
    };
    account.channel.shape(account, &mut draft, &call)?;
    if let Some(b) = draft.body {
        body = OutBody::Replaced(b);
    }

    let target = account.channel.target(account, host);
    let mut path = String::with_capacity(target.base_path.len() + draft.suffix.len() + 16);
    path.push_str(&target.base_path);
    path.push_str(&draft.suffix);
    if !draft.query.is_empty() {
        path.push('?');
        path.push_str(&draft.query);
    }
    let uri: http::Uri = path.parse().map_err(|_| GatewayError::Internal)?;
    req.set_uri(uri);

    let len = match &body {
        OutBody::Client => asked.body_len,
        OutBody::Spliced(literal) => {
            let span = asked.model_span.map_or(0, |s| s.len());
            asked.body_len - span + literal.len()
        }
        OutBody::Replaced(b) => b.len(),
    };
    let authority = target.authority.clone();
    set_headers(
        req,
        account,
        upstream_model,
        &authority,
        translated.then_some(stream),
        len,
    )
    .map_err(|_| GatewayError::Internal)?;
    Ok(Outgoing {
        body,
        pair,
        asked_usage,
    })
}

/// The path after the base for a same-protocol request.
fn same_protocol_suffix(endpoint: &Endpoint, upstream_model: &str) -> String {
    let mut path = String::with_capacity(64);
    path.push_str(endpoint.upstream_suffix());
    if let Endpoint::Gemini { method, .. } = endpoint {
        path.push_str(&encode_path_segment(upstream_model));
        path.push(':');
        path.push_str(method.as_str());
    }
    path
}

/// Headers of the attempt. `translated`: `Some(stream)` when the body is the gateway's own
/// encoding (its content type and accept are set).
fn set_headers(
    req: &mut RequestHeader,
    account: &Account,
    upstream_model: &str,
    authority: &str,
    translated: Option<bool>,
    len: usize,
) -> pingora_error::Result<()> {
    for h in DROPPED_HEADERS {
        req.remove_header(*h);
    }
    if translated.is_some() && account.kind != ProviderKind::Claude {
        req.remove_header("anthropic-version");
        req.remove_header("anthropic-beta");
    }
    account
        .channel
        .set_credentials(req, account, upstream_model)?;
    for (name, value) in &account.headers {
        req.insert_header(name.clone(), value.clone())?;
    }
    req.insert_header("host", authority)?;
    if let Some(stream) = translated {
        req.insert_header("content-type", "application/json")?;
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        req.insert_header("accept", accept)?;
    }
    req.insert_header("content-length", len.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Channel, CodeAssistSite, Flavor, OAuthLink, UpstreamTarget};
    use crate::protocol::GeminiMethod;
    use std::sync::Arc;
    use switchyard_translators::any;

    /// The first account of a config snippet.
    fn account(yaml: &str) -> Account {
        let config = switchyard_conf::load_str(yaml).unwrap().config;
        Account::from_config(&config.accounts[0]).unwrap()
    }

    /// An OAuth channel's account (no key of its own) of `kind` at `base`.
    fn oauth_account(section: &str, base: &str, channel: Channel) -> Account {
        let mut a = account(&format!(
            "{section}:\n  - api-key: k\n    base-url: {base}\n"
        ));
        a.key = switchyard_conf::Secret::default();
        a.channel = channel;
        a
    }

    /// An OAuth link whose refresh service has no files (no token: the key stays empty).
    fn link() -> OAuthLink {
        let dir = std::env::temp_dir().join(format!("switchyard-out-{}", std::process::id()));
        let config = switchyard_conf::Config {
            auth_dir: dir.display().to_string(),
            ..Default::default()
        };
        OAuthLink {
            file: "f.json".into(),
            catalog: "",
            refresher: crate::channels::oauth::new_refresher(&config).unwrap(),
        }
    }

    fn client(path: &str, headers: &[(&str, &str)]) -> RequestHeader {
        let mut h = RequestHeader::build("POST", path.as_bytes(), None).unwrap();
        for (k, v) in headers {
            h.insert_header(k.to_string(), v.to_string()).unwrap();
        }
        h
    }

    struct Built {
        req: RequestHeader,
        out: Outgoing,
        /// Whether the client's bytes were read.
        read: bool,
    }

    /// Builds the request for `account`; `raw` is the client's body.
    fn build_for(
        account: &Account,
        endpoint: &Endpoint,
        client_req: &RequestHeader,
        raw: &'static [u8],
        upstream_model: &str,
        ir: Option<&mut ir::Request>,
        host: usize,
    ) -> Result<Built, GatewayError> {
        let facts = body::inspect(raw).unwrap();
        let stream = facts.stream;
        let asked = Asked {
            endpoint,
            model: facts.model.as_deref().unwrap_or("m"),
            model_span: facts.model_span.as_ref(),
            body_len: raw.len(),
            stream,
            force_ir: false,
            include_usage: facts.include_usage,
            stream_options: facts.stream_options,
        };
        let read = std::cell::Cell::new(false);
        let client_body = || {
            read.set(true);
            Bytes::from_static(raw)
        };
        let mut req = client_req.clone();
        let attempt = Attempt {
            account,
            upstream_model,
            host,
        };
        let payload = Payload::default();
        let out = build(
            &mut req,
            client_req,
            &client_body,
            &asked,
            ir,
            &payload,
            &attempt,
        )?;
        Ok(Built {
            req,
            out,
            read: read.get(),
        })
    }

    fn header<'a>(req: &'a RequestHeader, name: &str) -> Option<&'a str> {
        req.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn same_protocol_splices_the_model_without_reading_the_body() {
        let a = account(
            "openai-compatibility:\n  - name: x\n    base-url: http://127.0.0.1:9/v1\n    api-key-entries: [{api-key: up}]\n",
        );
        let raw: &[u8] = br#"{"model":"alias","messages":[]}"#;
        let c = client(
            "/v1/chat/completions?key=client&x=1",
            &[
                ("authorization", "Bearer client"),
                ("accept-encoding", "gzip"),
            ],
        );
        let b = build_for(&a, &Endpoint::OpenAiChat, &c, raw, "real", None, 0).unwrap();
        assert!(!b.read, "a same-protocol body is never copied");
        assert!(matches!(&b.out.body, OutBody::Spliced(l) if l == br#""real""#));
        assert!(b.out.pair.is_none());
        assert_eq!(b.req.uri.to_string(), "/v1/chat/completions?x=1");
        assert_eq!(header(&b.req, "authorization"), Some("Bearer up"));
        assert_eq!(header(&b.req, "accept-encoding"), None);
        assert_eq!(header(&b.req, "host"), Some("127.0.0.1:9"));
        let len = raw.len() - r#""alias""#.len() + r#""real""#.len();
        assert_eq!(
            header(&b.req, "content-length"),
            Some(len.to_string().as_str())
        );
    }

    #[test]
    fn a_chat_stream_is_asked_for_usage_by_appending_or_editing_stream_options() {
        let a = account(
            "openai-compatibility:\n  - name: x\n    base-url: http://127.0.0.1:9/v1\n    api-key-entries: [{api-key: up}]\n",
        );
        let c = client("/v1/chat/completions", &[]);
        let cases: [(&'static [u8], Option<&[u8]>); 4] = [
            // No `stream_options`: appended, the model spliced as usual.
            (
                br#"{"model":"alias","stream":true,"messages":[]} "#,
                Some(br#"{"model":"real","stream":true,"messages":[],"stream_options":{"include_usage":true}} "#),
            ),
            // Present without `include_usage`: edited in place.
            (
                br#"{"model":"alias","stream":true,"stream_options":{"x":1}}"#,
                Some(br#"{"model":"real","stream":true,"stream_options":{"x":1,"include_usage":true}}"#),
            ),
            (
                br#"{"stream_options":null,"model":"alias","stream":true}"#,
                Some(br#"{"stream_options":{"include_usage":true},"model":"real","stream":true}"#),
            ),
            // The client asked itself: its bytes go as they are.
            (
                br#"{"model":"alias","stream":true,"stream_options":{"include_usage":true}}"#,
                None,
            ),
        ];
        for (raw, want) in cases {
            let b = build_for(&a, &Endpoint::OpenAiChat, &c, raw, "real", None, 0).unwrap();
            assert_eq!(
                b.out.asked_usage,
                want.is_some(),
                "{}",
                String::from_utf8_lossy(raw)
            );
            match (want, &b.out.body) {
                (Some(want), OutBody::Replaced(got)) => {
                    assert_eq!(&got[..], want, "{}", String::from_utf8_lossy(got))
                }
                (None, OutBody::Spliced(l)) => assert_eq!(l, br#""real""#),
                (_, other) => panic!("{}: {other:?}", String::from_utf8_lossy(raw)),
            }
        }
    }

    #[test]
    fn gemini_model_names_are_one_encoded_path_segment() {
        let a = account("gemini-api-key:\n  - api-key: g\n    base-url: http://127.0.0.1:9\n");
        let ep = Endpoint::Gemini {
            model: "a/b".into(),
            method: GeminiMethod::GenerateContent,
        };
        let c = client("/v1beta/models/a%2Fb:generateContent", &[]);
        let b = build_for(&a, &ep, &c, br#"{"contents":[]}"#, "a/b", None, 0).unwrap();
        assert_eq!(b.req.uri.path(), "/v1beta/models/a%2Fb:generateContent");
        assert_eq!(header(&b.req, "x-goog-api-key"), Some("g"));
        assert!(matches!(b.out.body, OutBody::Client));
    }

    #[test]
    fn another_protocol_gets_the_encoded_ir_and_its_own_headers() {
        let a = account(
            "openai-compatibility:\n  - name: x\n    base-url: http://127.0.0.1:9/v1\n    api-key-entries: [{api-key: up}]\n",
        );
        let raw: &[u8] = br#"{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let mut ir =
            any::decode_request(switchyard_translators::ir::Protocol::Anthropic, raw).unwrap();
        let c = client("/v1/messages", &[("anthropic-version", "2023-06-01")]);
        let ep = Endpoint::AnthropicMessages;
        let b = build_for(&a, &ep, &c, raw, "gpt", Some(&mut ir), 0).unwrap();
        assert_eq!(b.req.uri.path(), "/v1/chat/completions");
        assert_eq!(header(&b.req, "anthropic-version"), None);
        assert_eq!(header(&b.req, "content-type"), Some("application/json"));
        assert_eq!(header(&b.req, "accept"), Some("text/event-stream"));
        let OutBody::Replaced(body) = &b.out.body else {
            panic!("a translated body is the gateway's own")
        };
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            (v["model"].as_str(), v["stream"].as_bool()),
            (Some("gpt"), Some(true))
        );
        assert_eq!(ir.model, "m", "the IR is restored for the next attempt");
    }

    #[test]
    fn claude_oauth_adds_beta_and_cloaks_other_clients_only() {
        let a = oauth_account(
            "claude-api-key",
            "http://127.0.0.1:9",
            Channel::ClaudeOAuth(link()),
        );
        let raw: &[u8] = br#"{"model":"m","max_tokens":5,"messages":[]}"#;
        let ep = Endpoint::AnthropicMessages;
        let sdk = client("/v1/messages", &[("x-api-key", "client")]);
        let b = build_for(&a, &ep, &sdk, raw, "m", None, 0).unwrap();
        assert_eq!(b.req.uri.to_string(), "/v1/messages?beta=true");
        assert_eq!(header(&b.req, "x-api-key"), None);
        assert_eq!(
            header(&b.req, "user-agent"),
            Some("claude-cli/2.1.81 (external, cli)")
        );
        let OutBody::Replaced(body) = &b.out.body else {
            panic!("cloaked")
        };
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert!(v["system"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("You are Claude Code"));
        assert!(v["metadata"]["user_id"]
            .as_str()
            .unwrap()
            .starts_with("user_"));

        let cli = client(
            "/v1/messages?beta=true",
            &[("user-agent", "claude-cli/2.0.0")],
        );
        let b = build_for(&a, &ep, &cli, raw, "m", None, 0).unwrap();
        assert!(!b.read && matches!(b.out.body, OutBody::Client));
        assert_eq!(b.req.uri.to_string(), "/v1/messages?beta=true");
        assert_eq!(header(&b.req, "user-agent"), Some("claude-cli/2.0.0"));
    }

    #[test]
    fn vertex_and_code_assist_shape_their_paths() {
        let v = oauth_account(
            "gemini-api-key",
            "http://127.0.0.1:9/v1/projects/p/locations/l/publishers/google",
            Channel::Vertex(link()),
        );
        let ep = Endpoint::Gemini {
            model: "g".into(),
            method: GeminiMethod::GenerateContent,
        };
        let c = client("/v1beta/models/g:generateContent", &[]);
        let b = build_for(&v, &ep, &c, br#"{"contents":[]}"#, "g", None, 0).unwrap();
        assert_eq!(
            b.req.uri.path(),
            "/v1/projects/p/locations/l/publishers/google/models/g:generateContent"
        );

        let hosts = ["http://127.0.0.1:9", "http://127.0.0.1:10/second"];
        let site = CodeAssistSite {
            flavor: Flavor::Antigravity,
            project: "p".into(),
            hosts: hosts
                .iter()
                .map(|h| UpstreamTarget::parse(h).unwrap())
                .collect(),
        };
        let channel = Channel::CodeAssist(link(), Arc::new(site));
        let ca = oauth_account("gemini-api-key", hosts[0], channel);
        let raw: &[u8] = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;
        let mut ir =
            any::decode_request(switchyard_translators::ir::Protocol::Gemini, raw).unwrap();
        let b = build_for(&ca, &ep, &c, raw, "g", Some(&mut ir), 1).unwrap();
        assert_eq!(b.req.uri.path(), "/second/v1internal:generateContent");
        assert_eq!(header(&b.req, "host"), Some("127.0.0.1:10"));
        assert!(header(&b.req, "user-agent")
            .unwrap()
            .starts_with("antigravity/"));
        let OutBody::Replaced(body) = &b.out.body else {
            panic!("enveloped")
        };
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            (v["model"].as_str(), v["project"].as_str()),
            (Some("g"), Some("p"))
        );
    }
}
