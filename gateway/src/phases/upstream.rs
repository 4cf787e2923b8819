//! `upstream_peer`, `upstream_request_filter`, `request_body_filter` and the failover hooks:
//! pick the next account, build its request (`outgoing.rs`), replay the body.

use crate::body;
use crate::channels::oauth;
use crate::ctx::{AttemptState, Ctx};
use crate::dns::Resolver;
use crate::errors::{AttemptFailure, GatewayError};
use crate::failover::Repeat;
use crate::health::Outcome;
use crate::in_flight::InFlightGuard;
use crate::metrics::Phase;
use crate::outgoing::{self, OutBody};
use crate::translate::{self, ResponseMode};
use bytes::Bytes;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::RequestHeader;
use pingora_proxy::{FailToProxy, Session};
use std::time::Instant;

pub async fn upstream_peer(resolver: &Resolver, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
    let rt = ctx.rt.clone();
    let shared = ctx.shared.clone();
    let Some(next) = ctx.failover.advance(&rt, &shared.health).await else {
        return Error::e_explain(ErrorType::InternalError, "no account left to try");
    };
    let (seen, host, tried) = match next.repeat {
        Some(Repeat::Refresh(seen)) => (Some(seen), 0, Vec::new()),
        Some(Repeat::Host(host)) => (None, host, Vec::new()),
        Some(Repeat::Address { host, tried }) => (None, host, tried),
        None => (None, 0, Vec::new()),
    };
    let account = &rt.accounts[next.candidate.account];
    ctx.attempt = AttemptState::new(host, InFlightGuard::enter(&account.in_flight));
    if let Some(link) = account.channel.oauth() {
        oauth::before_attempt(link, seen, &ctx.obs.request_id).await;
        // The refresh that was to follow a 401 was refused (the refresh token is revoked):
        // sending the request without a token helps nobody. The next account takes it, or the
        // client is told a login is needed.
        if let Some(reason) = link.login_problem() {
            ctx.failover.record_cause("login_required");
            let e = GatewayError::LoginRequired {
                model: ctx.req.model.clone().unwrap_or_default(),
                reason,
            }
            .into_pingora();
            return Err(AttemptFailure::Connect.mark(e, ctx.has_next()));
        }
    }
    let target = account.channel.target(account, host);
    // The proxy's host when the account has one (upstream_proxy.rs).
    let (hop_host, hop_port) =
        crate::upstream_proxy::first_hop(&target.host, target.port, &account.proxy);
    let addr = match resolver.resolve(hop_host, hop_port).await {
        Ok(all) => {
            let a = all
                .iter()
                .find(|a| !tried.contains(a))
                .copied()
                .unwrap_or(all[0]);
            ctx.attempt.addr = Some(a);
            ctx.attempt.tried = tried;
            ctx.attempt.addresses = all.len();
            a
        }
        Err(e) => {
            let err = Error::explain(
                ErrorType::ConnectNoRoute,
                format!("resolving {hop_host}: {e}"),
            );
            ctx.failover.record_cause(err.etype().as_str());
            ctx.record_outcome(Outcome::Transport);
            return Err(AttemptFailure::Resolve.mark(err, ctx.has_next()));
        }
    };
    let mut peer = HttpPeer::new(addr, target.tls, target.host.clone());
    let o = &mut peer.options;
    o.connection_timeout = Some(rt.connect_timeout);
    o.total_connection_timeout = Some(rt.connect_timeout);
    // Until the response header; body reads then use `idle_timeout`
    // (`upstream_body_read_timeout`, the patched pingora-proxy hook).
    o.read_timeout = Some(rt.first_byte_timeout);
    let (host, port) = (&target.host, target.port);
    crate::upstream_proxy::route(&mut peer, host, port, &account.proxy, rt.connect_timeout);
    Ok(Box::new(peer))
}

pub fn upstream_request_filter(
    session: &Session,
    req: &mut RequestHeader,
    ctx: &mut Ctx,
) -> Result<()> {
    let Some(candidate) = ctx.failover.candidate().cloned() else {
        return Error::e_explain(ErrorType::InternalError, "upstream request without a route");
    };
    let rt = ctx.rt.clone();
    let attempt = outgoing::Attempt {
        account: &rt.accounts[candidate.account],
        upstream_model: &candidate.upstream_model,
        host: ctx.attempt.host,
    };
    let client_body = || session.as_ref().get_retry_buffer().unwrap_or_default();
    let Some(endpoint) = ctx.req.endpoint.as_ref() else {
        return Error::e_explain(ErrorType::InternalError, "upstream request without a route");
    };
    let asked = outgoing::Asked {
        endpoint,
        model: ctx.req.model.as_deref().unwrap_or_default(),
        model_span: ctx.req.model_span.as_ref(),
        body_len: ctx.req.body_len,
        stream: ctx.req.stream,
        force_ir: ctx.req.force_ir,
        include_usage: ctx.req.include_usage,
        stream_options: ctx.req.stream_options,
    };
    let started = Instant::now();
    let built = outgoing::build(
        req,
        session.req_header(),
        &client_body,
        &asked,
        ctx.req.ir.as_mut(),
        &rt.payload,
        &attempt,
    );
    let now = Instant::now();
    ctx.obs.sent = Some(now);
    match built {
        Ok(out) => {
            if out.pair.is_some() {
                let took = now - started;
                ctx.obs.translate_request += took;
                ctx.shared.metrics.overhead(Phase::RequestTranslation, took);
            }
            ctx.attempt.body = out.body;
            ctx.attempt.pair = out.pair;
            ctx.attempt.asked_usage = out.asked_usage;
            if let Some(capture) = ctx.capture.as_mut() {
                let attempt = ctx.failover.attempts.len().saturating_sub(1);
                let body = match &ctx.attempt.body {
                    OutBody::Replaced(b) => b.clone(),
                    OutBody::Client | OutBody::Spliced(_) => {
                        let raw = client_body();
                        match (&ctx.attempt.body, &ctx.req.model_span) {
                            (OutBody::Spliced(literal), Some(span)) => {
                                body::splice(&raw, span, literal)
                            }
                            _ => raw,
                        }
                    }
                };
                capture.upstream_request(attempt, req, &body);
            }
            Ok(())
        }
        Err(e) => Err(e.into_pingora()),
    }
}

/// The pre-read body arrives here in one piece from Pingora's retry buffer, on the first
/// attempt and again on every failover.
pub fn request_body_filter(body: &mut Option<Bytes>, end_of_stream: bool, ctx: &Ctx) -> Result<()> {
    match &ctx.attempt.body {
        OutBody::Client => Ok(()),
        OutBody::Replaced(out) => {
            *body = Some(if end_of_stream {
                out.clone()
            } else {
                Bytes::new()
            });
            Ok(())
        }
        OutBody::Spliced(literal) => {
            let (Some(span), Some(raw)) = (&ctx.req.model_span, body.as_ref()) else {
                return Ok(());
            };
            if !end_of_stream || raw.len() != ctx.req.body_len {
                return Error::e_explain(
                    ErrorType::InternalError,
                    "pre-read body was not replayed whole",
                );
            }
            *body = Some(body::splice(raw, span, literal));
            Ok(())
        }
    }
}

/// The attempt in flight could not connect. Nothing reached the upstream: always safe to try
/// the next host of the account, or the next account.
pub fn fail_to_connect(resolver: &Resolver, ctx: &mut Ctx, e: Box<Error>) -> Box<Error> {
    ctx.failover.record_cause(e.etype().as_str());
    if let (Some(addr), Some(c)) = (ctx.attempt.addr, ctx.failover.candidate()) {
        let account = &ctx.rt.accounts[c.account];
        let target = account.channel.target(account, ctx.attempt.host);
        let (host, port) =
            crate::upstream_proxy::first_hop(&target.host, target.port, &account.proxy);
        resolver.demote(host, port, addr);
    }
    if !next_address(ctx) && !next_host(None, ctx) {
        ctx.record_outcome(Outcome::Transport);
    }
    AttemptFailure::Connect.mark(e, ctx.has_next())
}

/// When the first hop has an address this request has not tried: the same account goes
/// next, on that address (true). A name with one dead address is no reason to cool an account.
fn next_address(ctx: &mut Ctx) -> bool {
    let Some(addr) = ctx.attempt.addr else {
        return false;
    };
    if ctx.attempt.tried.len() + 1 >= ctx.attempt.addresses || !ctx.downstream.can_fail_over() {
        return false;
    }
    if let Some(c) = ctx.failover.candidate() {
        let account = &ctx.rt.accounts[c.account].id;
        tracing::info!(request_id = %ctx.obs.request_id, account = %account, %addr, "cannot connect; trying the next address");
    }
    let mut tried = std::mem::take(&mut ctx.attempt.tried);
    tried.push(addr);
    ctx.failover.repeat(Repeat::Address {
        host: ctx.attempt.host,
        tried,
    })
}

/// When the account's channel has another host and the client has seen nothing: the same
/// account goes next, on that host (true).
pub fn next_host(status: Option<u16>, ctx: &mut Ctx) -> bool {
    let Some(c) = ctx.failover.candidate() else {
        return false;
    };
    let account = &ctx.rt.accounts[c.account];
    let next = account.channel.next_host(status, ctx.attempt.host);
    let Some(host) = next.filter(|_| ctx.downstream.can_fail_over()) else {
        return false;
    };
    tracing::info!(request_id = %ctx.obs.request_id, account = %account.id, host, "host failed ({status:?}); trying the next host");
    ctx.failover.repeat(Repeat::Host(host))
}

pub fn error_while_proxy(ctx: &mut Ctx, e: Box<Error>) -> Box<Error> {
    if ctx.attempt.retry_status.take().is_some() {
        let another = ctx.has_next();
        return AttemptFailure::Status.mark(e, another);
    }
    let failure = match e.esource() {
        // A transport failure before anything reached the client fails over too: LLM calls are
        // POSTs, but resending one to another account is what users of a gateway want.
        pingora_error::ErrorSource::Upstream => {
            ctx.failover.record_cause(e.etype().as_str());
            ctx.record_outcome(Outcome::Transport);
            AttemptFailure::Transport
        }
        pingora_error::ErrorSource::Downstream
        | pingora_error::ErrorSource::Internal
        | pingora_error::ErrorSource::Unset => AttemptFailure::Downstream,
    };
    let another = ctx.may_fail_over();
    failure.mark(e, another)
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
        // A phase answered with a gateway error of its own (`outgoing.rs`: content the upstream
        // protocol cannot express, ...).
        _ if GatewayError::of(e).is_some() => GatewayError::of(e)
            .cloned()
            .unwrap_or(GatewayError::Internal),
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
        if super::write_json(session, &ctx.obs, code, body, &[])
            .await
            .is_err()
        {
            return FailToProxy {
                error_code: 0,
                can_reuse_downstream: false,
            };
        }
    } else if !ctx.req.stream && ctx.downstream != crate::stream_hold::Downstream::Committed {
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
    if !ctx.req.stream {
        return None;
    }
    if let ResponseMode::Stream(state) = &mut ctx.attempt.response {
        return Some(Bytes::from(state.feed(&[], true)));
    }
    if ctx.req.gemini_array {
        return None;
    }
    let client = ctx.req.endpoint.as_ref()?.wire()?;
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
