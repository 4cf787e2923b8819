//! `upstream_peer`, `upstream_request_filter`, `request_body_filter` and the failover hooks:
//! pick the next account, rewrite path, credentials and model for it, replay the body.

use crate::body;
use crate::client_auth::strip_credential_params;
use crate::ctx::Ctx;
use crate::dns::Resolver;
use crate::errors::GatewayError;
use crate::health::Outcome;
use crate::payload;
use crate::protocol::Endpoint;
use crate::translate::{self, Pair, ResponseMode};
use bytes::Bytes;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::RequestHeader;
use pingora_proxy::{FailToProxy, Session};
use switchyard_auth::ProviderId;
use switchyard_conf::ProviderKind;

/// Default `anthropic-version` when the client sends none.
const ANTHROPIC_VERSION: &str = "2023-06-01";

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

pub async fn upstream_peer(resolver: &Resolver, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
    let mut next = ctx.current.map_or(0, |i| i + 1);
    if next >= ctx.candidates.len() {
        // This round is used up: another one, after waiting for the nearest account.
        if let Some(wait) = ctx.next_round_wait() {
            if !wait.is_zero() {
                tokio::time::sleep(wait + std::time::Duration::from_millis(1)).await;
            }
            ctx.round += 1;
            ctx.candidates = crate::pool::round_candidates(
                &ctx.rt,
                &ctx.health,
                &ctx.plan,
                ctx.round,
                std::time::Instant::now(),
            );
            next = 0;
        }
    }
    let Some(candidate) = ctx.candidates.get(next) else {
        return Error::e_explain(ErrorType::InternalError, "no account left to try");
    };
    ctx.current = Some(next);
    ctx.retry_status = None;
    ctx.splice = None;
    ctx.pair = None;
    ctx.translated = None;
    ctx.response = ResponseMode::Passthrough;
    ctx.bootstrap = crate::bootstrap::Bootstrap::Off;
    ctx.held_tasks.clear();
    ctx.codeassist.begin();
    let account_index = candidate.account;
    if let Some(oauth) = ctx.rt.accounts[account_index].oauth.clone() {
        crate::oauth::before_attempt(&oauth, &mut ctx.oauth_retry).await;
    }
    ctx.attempts.push(crate::ctx::Attempt {
        account: account_index,
        status: 0,
        cause: None,
    });
    let rt = ctx.rt.clone();
    let account = &*crate::codeassist::for_host(&rt.accounts[account_index], ctx.codeassist.host);
    let t = &account.target;
    // The proxy's host when the account has one (upstream_proxy.rs).
    let (hop_host, hop_port) = crate::upstream_proxy::first_hop(account);
    let addr = match resolver.resolve(hop_host, hop_port).await {
        Ok(a) => a,
        Err(e) => {
            let mut err = Error::explain(
                ErrorType::ConnectNoRoute,
                format!("resolving {hop_host}: {e}"),
            );
            ctx.record_cause(&err);
            ctx.record_outcome(Outcome::Transport);
            err.set_retry(ctx.has_next());
            return Err(err);
        }
    };
    let mut peer = HttpPeer::new(addr, t.tls, t.host.clone());
    let o = &mut peer.options;
    o.connection_timeout = Some(ctx.rt.connect_timeout);
    o.total_connection_timeout = Some(ctx.rt.connect_timeout);
    // Until the response header; body reads then use `idle_timeout`
    // (`upstream_body_read_timeout`, the patched pingora-proxy hook).
    o.read_timeout = Some(ctx.rt.first_byte_timeout);
    crate::upstream_proxy::route(&mut peer, account, ctx.rt.connect_timeout);
    Ok(Box::new(peer))
}

pub fn upstream_request_filter(
    session: &Session,
    req: &mut RequestHeader,
    ctx: &mut Ctx,
) -> Result<()> {
    let (Some(endpoint), Some(candidate)) = (ctx.endpoint.as_ref(), ctx.candidate()) else {
        return Error::e_explain(ErrorType::InternalError, "upstream request without a route");
    };
    let account = &ctx.rt.accounts[candidate.account];
    let upstream_model = candidate.upstream_model.clone();
    if ctx.force_ir
        || !endpoint.passthrough_to(account.kind)
        || (account.streams_only() && !ctx.stream)
        || crate::codeassist::enveloped(account)
    {
        return translated_request(req, ctx);
    }

    let mut path = String::with_capacity(64);
    path.push_str(&account.target.base_path);
    path.push_str(&crate::vertex::suffix(account, endpoint.upstream_suffix()));
    if let Endpoint::Gemini { method, .. } = endpoint {
        path.push_str(&encode_path_segment(&upstream_model));
        path.push(':');
        path.push_str(method.as_str());
    }
    let query = session
        .req_header()
        .uri
        .query()
        .map(strip_credential_params)
        .unwrap_or_default();
    let query = crate::claude_oauth::query(account, query);
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
    let uri: http::Uri = path
        .parse()
        .map_err(|_| Error::explain(ErrorType::InternalError, "invalid upstream path"))?;
    req.set_uri(uri);

    for h in DROPPED_HEADERS {
        req.remove_header(*h);
    }
    set_credentials(req, account)?;

    // Only the model name changes; the rest of the body goes through byte for byte.
    let mut len = ctx.body_len;
    ctx.splice = None;
    if let (Some(span), Some(asked)) = (&ctx.model_span, &ctx.model) {
        if endpoint.model_in_body() && *asked != upstream_model {
            let literal = body::model_literal(&upstream_model);
            len = len - span.len() + literal.len();
            ctx.splice = Some(literal);
        }
    }
    // Payload rules (payload.rs): only when one matches is the body copied and edited.
    let asked = ctx.model.as_deref().unwrap_or_default();
    let target = payload::Target::new(account.kind, endpoint, &upstream_model, asked);
    if ctx.rt.payload.applies(&target) {
        let body = outgoing_body(session, ctx);
        let out = Bytes::from(
            ctx.rt
                .payload
                .apply(&target, &body)
                .unwrap_or_else(|| body.to_vec()),
        );
        len = out.len();
        ctx.splice = None;
        ctx.translated = Some(out); // sent whole by `request_body_filter`
    }
    // Claude OAuth: Claude Code's identity for other clients (claude_oauth.rs).
    if account.oauth_provider() == Some(ProviderId::Claude) {
        let body = ctx
            .translated
            .clone()
            .unwrap_or_else(|| outgoing_body(session, ctx));
        let client = session.req_header();
        if let Some(out) = crate::claude_oauth::cloak(&body, client, account, endpoint) {
            len = out.len();
            ctx.splice = None;
            ctx.translated = Some(out);
        }
    }
    req.insert_header("content-length", len.to_string())?;
    Ok(())
}

/// The same-protocol body as it will go upstream: the client's bytes (Pingora's retry buffer)
/// with the model name spliced in when it changes. Copied only by the callers that edit it.
fn outgoing_body(session: &Session, ctx: &Ctx) -> Bytes {
    let raw = session.as_ref().get_retry_buffer().unwrap_or_default();
    match (&ctx.splice, &ctx.model_span) {
        (Some(literal), Some(span)) => body::splice(&raw, span, literal),
        _ => raw,
    }
}

/// Path, headers and body for an account of another protocol.
fn translated_request(req: &mut RequestHeader, ctx: &mut Ctx) -> Result<()> {
    let (Some(endpoint), Some(candidate)) = (ctx.endpoint.as_ref(), ctx.candidate()) else {
        return Error::e_explain(
            ErrorType::InternalError,
            "translated request without a route",
        );
    };
    let Some(client) = translate::client_wire(endpoint) else {
        return Error::e_explain(ErrorType::InternalError, "endpoint has no translator");
    };
    let rt = ctx.rt.clone();
    let account = &rt.accounts[candidate.account];
    let upstream_model = candidate.upstream_model.clone();
    let stream = ctx.stream || account.streams_only();
    let Some(ir) = ctx.ir.as_mut() else {
        return Error::e_explain(
            ErrorType::InternalError,
            "translated request without its IR",
        );
    };
    let pair = Pair {
        client,
        upstream: translate::upstream_wire(account.kind),
    };
    let (suffix, query) = translate::upstream_path(account.kind, &upstream_model, stream);
    let query = crate::claude_oauth::query(account, query.to_owned());
    let suffix = crate::vertex::suffix(account, &suffix);
    let mut path = format!("{}{suffix}", account.target.base_path);
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query);
    }
    let body = match translate::encode_request(ir, pair, &upstream_model, stream) {
        Ok(b) => b,
        Err(e) => {
            // Content the account's protocol cannot express (a URL document to a Chat
            // upstream, ...): the client's request, not the gateway, is at fault.
            let msg = format!("this request cannot be sent to the model's upstream: {e}");
            ctx.local_error = Some(GatewayError::MalformedBody(msg.clone()));
            return Error::e_explain(ErrorType::InternalError, msg);
        }
    };
    let asked = ctx.model.as_deref().unwrap_or_default();
    let target = payload::Target::new(account.kind, endpoint, &upstream_model, asked);
    let body = match rt.payload.apply(&target, &body) {
        Some(edited) => Bytes::from(edited),
        None => body,
    };
    let messages = Endpoint::AnthropicMessages;
    let body = crate::claude_oauth::cloak(&body, req, account, &messages).unwrap_or(body);
    let (path, body) = match crate::codeassist::channel(account) {
        Some(ch) => {
            let call = if translate::is_count_tokens(endpoint) {
                crate::codeassist::Call::CountTokens
            } else if stream {
                crate::codeassist::Call::Stream
            } else {
                crate::codeassist::Call::Generate
            };
            crate::codeassist::request(ch, ctx.codeassist.host, &upstream_model, call, &body)
                .map_err(|e| Error::explain(ErrorType::InternalError, e))?
        }
        None => (path, body),
    };
    let uri: http::Uri = path
        .parse()
        .map_err(|_| Error::explain(ErrorType::InternalError, "invalid upstream path"))?;
    req.set_uri(uri);
    for h in DROPPED_HEADERS {
        req.remove_header(*h);
    }
    if account.kind != ProviderKind::Claude {
        req.remove_header("anthropic-version");
        req.remove_header("anthropic-beta");
    }
    set_credentials(req, account)?;
    crate::codeassist::headers(req, account, ctx.codeassist.host, &upstream_model)?;
    req.insert_header("content-type", "application/json")?;
    req.insert_header(
        "accept",
        if stream {
            "text/event-stream"
        } else {
            "application/json"
        },
    )?;
    req.insert_header("content-length", body.len().to_string())?;
    ctx.translated = Some(body);
    ctx.pair = Some(pair);
    Ok(())
}

fn set_credentials(req: &mut RequestHeader, account: &crate::accounts::Account) -> Result<()> {
    let oauth_token = account.oauth.as_ref().and_then(|o| o.current());
    let key = oauth_token.as_ref().unwrap_or(&account.key).expose();
    match account.kind {
        ProviderKind::Claude if account.oauth.is_some() => {
            crate::claude_oauth::set_headers(req, key)?;
        }
        ProviderKind::Claude => {
            req.insert_header("x-api-key", key)?;
            if !req.headers.contains_key("anthropic-version") {
                req.insert_header("anthropic-version", ANTHROPIC_VERSION)?;
            }
        }
        ProviderKind::Gemini if account.oauth_provider() == Some(ProviderId::Vertex) => {
            crate::vertex::set_headers(req, key)?;
        }
        // Code Assist (Gemini OAuth) accounts send their token as a Bearer.
        ProviderKind::Gemini if oauth_token.is_some() => {
            req.insert_header("authorization", format!("Bearer {key}"))?
        }
        ProviderKind::Gemini => req.insert_header("x-goog-api-key", key)?,
        ProviderKind::Codex | ProviderKind::OpenAiCompat => {
            if !key.is_empty() {
                req.insert_header("authorization", format!("Bearer {key}"))?;
            }
        }
    }
    for (name, value) in &account.headers {
        req.insert_header(name.clone(), value.clone())?;
    }
    req.insert_header("host", account.target.authority.as_str())?;
    Ok(())
}

/// The pre-read body arrives here in one piece from Pingora's retry buffer, on the first
/// attempt and again on every failover.
pub fn request_body_filter(body: &mut Option<Bytes>, end_of_stream: bool, ctx: &Ctx) -> Result<()> {
    if let Some(translated) = &ctx.translated {
        *body = Some(if end_of_stream {
            translated.clone()
        } else {
            Bytes::new()
        });
        return Ok(());
    }
    if let (Some(literal), Some(span), Some(raw)) = (&ctx.splice, &ctx.model_span, body.as_ref()) {
        if !end_of_stream || raw.len() != ctx.body_len {
            return Error::e_explain(
                ErrorType::InternalError,
                "pre-read body was not replayed whole",
            );
        }
        *body = Some(body::splice(raw, span, literal));
    }
    Ok(())
}

pub fn fail_to_connect(ctx: &mut Ctx, mut e: Box<Error>) -> Box<Error> {
    ctx.record_cause(&e);
    if !crate::codeassist::next_host(None, ctx) {
        ctx.record_outcome(Outcome::Transport);
    }
    // Nothing reached the upstream: always safe to try the next account.
    e.set_retry(ctx.has_next());
    e
}

pub fn error_while_proxy(ctx: &mut Ctx, mut e: Box<Error>) -> Box<Error> {
    if ctx.retry_status.take().is_some() {
        e.set_retry(ctx.has_next());
        return e;
    }
    let upstream_side = matches!(e.esource(), pingora_error::ErrorSource::Upstream);
    if upstream_side {
        ctx.record_cause(&e);
        ctx.record_outcome(Outcome::Transport);
    }
    // A transport failure before anything reached the client fails over too: LLM calls are
    // POSTs, but resending one to another account is what users of a gateway want.
    e.set_retry(upstream_side && ctx.downstream.can_fail_over() && ctx.has_next());
    e
}

/// Map Pingora's final error to a gateway error rendered in the client's protocol.
pub async fn fail_to_proxy(session: &mut Session, e: &Error, ctx: &mut Ctx) -> FailToProxy {
    // Which side failed comes first: a client that went away is not an upstream failure.
    if matches!(e.esource(), pingora_error::ErrorSource::Downstream) {
        ctx.local_error = Some(GatewayError::ClientClosed);
        return FailToProxy {
            error_code: 0,
            can_reuse_downstream: false,
        };
    }
    let gateway_error = match e.etype() {
        // `translated_request` found content the upstream protocol cannot express.
        _ if matches!(ctx.local_error, Some(GatewayError::MalformedBody(_))) => {
            ctx.local_error.take().unwrap_or(GatewayError::Internal)
        }
        ErrorType::ReadTimedout | ErrorType::WriteTimedout => GatewayError::UpstreamTimeout,
        _ if matches!(e.esource(), pingora_error::ErrorSource::Upstream) => {
            GatewayError::UpstreamUnreachable
        }
        ErrorType::ConnectTimedout
        | ErrorType::ConnectRefused
        | ErrorType::ConnectNoRoute
        | ErrorType::ConnectError
        | ErrorType::TLSHandshakeFailure
        | ErrorType::TLSHandshakeTimedout
        | ErrorType::InvalidCert
        | ErrorType::HandshakeError
        | ErrorType::ConnectProxyFailure => GatewayError::UpstreamUnreachable,
        _ => GatewayError::Internal,
    };
    let code = gateway_error.status();
    if session.response_written().is_none() {
        session.set_keepalive(None);
        let body = gateway_error.body(ctx.protocol);
        if super::write_json(session, code, body, &[]).await.is_err() {
            return FailToProxy {
                error_code: 0,
                can_reuse_downstream: false,
            };
        }
    } else if !ctx.stream && ctx.downstream != crate::bootstrap::Downstream::Committed {
        // A keep-alive header went out and nothing else: the error body still can.
        let body = Bytes::from(gateway_error.body(ctx.protocol));
        let _ = session.write_response_body(Some(body), true).await;
    } else if let Some(event) = closing_error_event(ctx, &gateway_error) {
        // A stream is under way: end it with the client protocol's error event, never a
        // silent truncation.
        let _ = session.write_response_body(Some(event), true).await;
    }
    ctx.local_error = Some(gateway_error);
    FailToProxy {
        error_code: code,
        can_reuse_downstream: false,
    }
}

/// The bytes that end a started stream with an error in the client's protocol: the stream
/// translator's own ending when the attempt was translated (it knows which blocks are open),
/// otherwise one error event, after a blank line that terminates any event the upstream left
/// half-written.
fn closing_error_event(ctx: &mut Ctx, e: &GatewayError) -> Option<Bytes> {
    if !ctx.stream {
        return None;
    }
    if let ResponseMode::Stream(state) = &mut ctx.response {
        return Some(Bytes::from(state.feed(&[], true)));
    }
    if ctx.gemini_array {
        return None;
    }
    let client = translate::client_wire(ctx.endpoint.as_ref()?)?;
    let err = switchyard_translators::ir::StreamError {
        status: Some(e.status()),
        kind: match e {
            GatewayError::UpstreamTimeout => switchyard_translators::ir::ErrorKind::Timeout,
            _ => switchyard_translators::ir::ErrorKind::Server,
        },
        message: e.to_string(),
    };
    let mut out = b"\n\n".to_vec();
    out.extend(translate::stream_error_event(client, false, &err));
    Some(Bytes::from(out))
}

/// Percent-encode a model name for use as one path segment.
pub(crate) fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
