//! `request_filter`: route, client auth, local answers, and the body pre-read that lets the
//! gateway route by `model`, reject bad input before any upstream is contacted, and replay the
//! body on failover (docs/request-bodies.md).

use super::plan;
use crate::affinity;
use crate::body;
use crate::client_auth::presented_key;
use crate::ctx::Ctx;
use crate::errors::GatewayError;
use crate::failover::{self, Failover};
use crate::gemini_cli_endpoint::{self, Call as CodeAssist};
use crate::health::{is_not_served, Health};
use crate::local_answers as local;
use crate::metrics::Phase;
use crate::protocol::{self, Endpoint, Route};
use crate::routing::Candidate;
use crate::runtime::Runtime;
use bytes::Bytes;
use pingora_core::protocols::http::ServerSession;
use pingora_proxy::Session;
use std::time::{Instant, SystemTime};
use switchyard_auth::timefmt::format_rfc3339_system;
use switchyard_translators::any;
use switchyard_translators::ir::Protocol;

/// Bodies above this are validated on the blocking pool, not on a proxy worker.
const INLINE_VALIDATE_LIMIT: usize = 1 << 20;

/// The request starts: its id, and the in-flight gauge (the `logging` phase takes it back).
pub fn begin(session: &Session, ctx: &mut Ctx) {
    ctx.obs.request_id = request_id(session.req_header());
    ctx.obs.server_timing = ctx.rt.server_timing;
    ctx.shared.metrics.inflight(1);
    ctx.obs.inflight = true;
    if !ctx.rt.commercial && ctx.shared.logs.request_log() {
        ctx.capture = Some(ctx.shared.logs.capture());
    }
}

/// The client's `X-Request-Id` when it is well-formed (1 to 128 of `A-Z a-z 0-9 - _ . :`),
/// else a new one.
fn request_id(req: &pingora_http::RequestHeader) -> String {
    let given = req
        .headers
        .get("x-request-id")
        .map(|v| v.as_bytes())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        });
    match given.and_then(|v| std::str::from_utf8(v).ok()) {
        Some(id) => id.to_owned(),
        None => crate::translate::unique_id(),
    }
}

/// Returns `Ok(true)` when the response was written here.
pub async fn request_filter(session: &mut Session, ctx: &mut Ctx) -> pingora_error::Result<bool> {
    let code_assist = gemini_cli_endpoint::call(session.req_header());
    let route = match &code_assist {
        Some(CodeAssist::Generate(method)) => Route::Proxy(Endpoint::Gemini {
            model: String::new(),
            method: *method,
        }),
        _ => {
            let req = session.req_header();
            protocol::route(&req.method, req.uri.path())
        }
    };
    ctx.protocol = match &route {
        Route::Proxy(e) => e.protocol(),
        Route::ModelsGemini | Route::ModelInfo { gemini: true, .. } => Protocol::Gemini,
        Route::MethodNotAllowed(p) | Route::NotFound(p) => *p,
        Route::Health | Route::Root | Route::ModelsV1 | Route::ModelInfo { .. } => {
            local::models_caller(session.req_header())
        }
    };
    // RFC 9112 §9.3.2: requests a client sends before reading the answers are served in
    // order (Pingora drops them and closes unless asked).
    if let ServerSession::H1(h1) = session.as_downstream_mut() {
        h1.set_pipelining_enabled(true);
    }
    // A client that stops reading its answer holds a worker's buffers and the upstream
    // connection: one write may wait this long (`client-timeouts.write-seconds`).
    session
        .as_downstream_mut()
        .set_write_timeout(Some(ctx.rt.write_timeout));
    match route {
        Route::Health => return answer(session, &ctx.obs, 200, local::health()).await,
        Route::Root => return answer(session, &ctx.obs, 200, local::banner()).await,
        _ => {}
    }
    let auth_started = Instant::now();
    let presented = presented_key(session.req_header()).map(|k| k.into_owned());
    // The local Gemini CLI endpoint takes no API key: it serves loopback callers only.
    let local = code_assist.is_some();
    let admitted = match &code_assist {
        Some(CodeAssist::Refuse(e)) => Err(e.clone()),
        Some(_) => gemini_cli_endpoint::admit(session, ctx.rt.gemini_cli_endpoint).map(|()| None),
        None => ctx.rt.keys.check(presented.as_deref()),
    };
    ctx.obs.auth = auth_started.elapsed();
    ctx.shared.metrics.overhead(Phase::ClientAuth, ctx.obs.auth);
    let admitted = admitted.map(|key_id| ctx.obs.key_id = key_id);
    if let Err(e) = admitted {
        if local {
            ctx.protocol = Protocol::Gemini;
        }
        return fail(session, ctx, e).await;
    }
    ctx.req.gemini_cli_local = local;
    if let Some(CodeAssist::Account(method)) = code_assist {
        return match read_body(session, ctx).await {
            Ok(body) => {
                answer(
                    session,
                    &ctx.obs,
                    200,
                    gemini_cli_endpoint::answer(method, &body),
                )
                .await
            }
            Err(e) => fail(session, ctx, e).await,
        };
    }
    let endpoint = match route {
        Route::Health | Route::Root => return Ok(false),
        Route::ModelsV1 | Route::ModelsGemini => {
            let p = ctx.protocol;
            // Every model is usable from every client protocol (translated when needed).
            let listed: Vec<_> = ctx.rt.router.listed().iter().collect();
            return answer(session, &ctx.obs, 200, local::models(p, &listed)).await;
        }
        Route::ModelInfo { model, .. } => {
            let found = ctx
                .rt
                .router
                .listed()
                .iter()
                .find(|m| m.id == model)
                .cloned();
            return match found {
                Some(m) if ctx.protocol == Protocol::Gemini => {
                    answer(session, &ctx.obs, 200, local::gemini_model(&m)).await
                }
                Some(m) => {
                    answer(
                        session,
                        &ctx.obs,
                        200,
                        local::models(ctx.protocol, &[&m])["data"][0].clone(),
                    )
                    .await
                }
                None => fail(session, ctx, GatewayError::UnknownModel(model)).await,
            };
        }
        Route::NotFound(_) => {
            let path = session.req_header().uri.path().to_owned();
            return fail(session, ctx, GatewayError::NotFound(path)).await;
        }
        Route::MethodNotAllowed(_) => {
            let path = session.req_header().uri.path().to_owned();
            return fail(session, ctx, GatewayError::MethodNotAllowed(path)).await;
        }
        Route::Proxy(e) => e,
    };
    let limit = ctx.rt.max_concurrent_requests;
    if limit > 0 && ctx.shared.in_flight.requests() > limit {
        return fail(session, ctx, GatewayError::Overloaded { limit }).await;
    }
    if let Err(e) = reserve_memory(session, ctx) {
        return fail(session, ctx, e).await;
    }
    ctx.req.api = true;
    match prepare(session, ctx, endpoint).await {
        Ok(None) => Ok(false),
        Ok(Some(local)) => answer(session, &ctx.obs, 200, local).await,
        Err(e) => fail(session, ctx, e).await,
    }
}

/// Pre-read and inspect the body, resolve the model to candidate accounts ([`plan::route`]),
/// and decode the request into the IR when some candidate speaks another protocol.
/// `Ok(Some(json))` is a local answer (a token count no upstream can give).
async fn prepare(
    session: &mut Session,
    ctx: &mut Ctx,
    endpoint: Endpoint,
) -> Result<Option<serde_json::Value>, GatewayError> {
    let raw = Bytes::from(read_body(session, ctx).await?);
    if let Some(capture) = ctx.capture.as_mut() {
        capture.client_request(session.req_header(), &raw);
    }
    let routing_started = Instant::now();
    let routed = route(session, ctx, endpoint, raw).await;
    ctx.obs.route = routing_started.elapsed();
    ctx.shared.metrics.overhead(Phase::Routing, ctx.obs.route);
    routed
}

/// [`prepare`] once the body is in.
async fn route(
    session: &mut Session,
    ctx: &mut Ctx,
    endpoint: Endpoint,
    raw: Bytes,
) -> Result<Option<serde_json::Value>, GatewayError> {
    let (raw, endpoint) = match ctx.req.gemini_cli_local {
        true => gemini_cli_endpoint::unwrap(raw, endpoint)?,
        false => (raw, endpoint),
    };
    ctx.req.body_len = raw.len();
    if raw.is_empty() {
        return Err(GatewayError::MalformedBody(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let facts = off_worker(&raw, body::inspect)
        .await?
        .map_err(|e| GatewayError::MalformedBody(e.to_string()))?;
    let session_hint = facts.session_hint.clone();
    ctx.req.model_span = facts.model_span.clone();
    // What the client asked for, for logs and usage even when routing fails.
    ctx.req.model = match &endpoint {
        Endpoint::Gemini { model, .. } => Some(model.clone()),
        _ => facts.model.clone(),
    };
    ctx.req.include_usage = facts.include_usage;
    ctx.req.stream_options = facts.stream_options;
    let asked = plan::Asked {
        endpoint: &endpoint,
        facts,
        alt_sse: session
            .req_header()
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "alt=sse")),
        gemini_cli_local: ctx.req.gemini_cli_local,
    };
    let now = Instant::now();
    let (rt, shared) = (ctx.rt.clone(), ctx.shared.clone());
    let health = &shared.health;
    let cooling = |c: &Candidate| {
        let id = &rt.accounts[c.account].id;
        health.cooling_until(id, &c.upstream_model, now).is_some()
    };
    let mut routed = plan::route(&rt.router, &rt.accounts, cooling, asked)?;
    ctx.req.stream = routed.stream;
    ctx.req.gemini_array = routed.gemini_array;
    if let Some(wire) = routed.decode {
        let decoded = off_worker(&raw, move |b| any::decode_request(wire, b)).await?;
        if let Err(e) = &decoded {
            tracing::debug!(request_id = %ctx.obs.request_id, error = %e, "request not translatable; same-protocol accounts only, if any");
        }
        match plan::after_decode(&mut routed, &rt.accounts, &endpoint, decoded)? {
            plan::Decided::Proxy(ir) => {
                ctx.req.force_ir = routed.forced;
                ctx.req.ir = ir.map(|ir| *ir);
            }
            plan::Decided::LocalCount(answer) => {
                ctx.req.model = Some(routed.model);
                return Ok(Some(answer));
            }
        }
    }
    let model = routed.model;
    let mut plan = routed.candidates;
    let mut affinity_key = None;
    if rt.session_affinity.is_some() {
        let session = affinity::SESSION_HEADERS
            .iter()
            .find_map(|h| session.req_header().headers.get(*h))
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .or(session_hint);
        if let Some(session) = session {
            let key = affinity::affinity_key(&session, &model);
            if let Some(bound) = shared.affinity.get(&key, Instant::now()) {
                affinity::apply(&rt.accounts, &mut plan, &bound);
            }
            affinity_key = Some(key);
        }
    }
    ctx.failover = first_round(&rt, health, plan, &model).await?;
    ctx.req.affinity_key = affinity_key;
    ctx.req.model = Some(model);
    ctx.req.endpoint = Some(endpoint);
    Ok(None)
}

/// The failover queue with the first round's accounts. When every account is cooling, a retry
/// round may still wait for the nearest one (`max-retry-interval`); otherwise the client gets
/// 429 `model_cooldown` with the earliest reset.
async fn first_round(
    rt: &Runtime,
    health: &Health,
    plan: Vec<Candidate>,
    model: &str,
) -> Result<Failover, GatewayError> {
    let first = failover::round_candidates(rt, health, &plan, 0, Instant::now());
    if !first.is_empty() {
        return Ok(Failover::new(plan, 0, first));
    }
    if let Some(wait) = failover::next_round_wait(rt, health, &plan, 0, Instant::now()) {
        tokio::time::sleep(wait + std::time::Duration::from_millis(1)).await;
        let next = failover::round_candidates(rt, health, &plan, 1, Instant::now());
        if !next.is_empty() {
            return Ok(Failover::new(plan, 1, next));
        }
    }
    let now = Instant::now();
    // Accounts that need a new login are out until then, whatever their cooldowns say.
    let mut login_reason = None;
    let mut plan_cooling: Vec<&Candidate> = Vec::with_capacity(plan.len());
    for c in &plan {
        match failover::login_problem(&rt.accounts[c.account]) {
            Some(reason) => {
                login_reason.get_or_insert(reason);
            }
            None => plan_cooling.push(c),
        }
    }
    if let (true, Some(reason)) = (plan_cooling.is_empty(), login_reason) {
        return Err(GatewayError::LoginRequired {
            model: model.to_owned(),
            reason,
        });
    }
    let earliest = plan_cooling
        .iter()
        .filter_map(|c| {
            let id = &rt.accounts[c.account].id;
            health.cooling_until(id, &c.upstream_model, now)
        })
        .min();
    let Some(until) = earliest.filter(|_| {
        plan_cooling.iter().all(|c| {
            let id = &rt.accounts[c.account].id;
            health.cooling_until(id, &c.upstream_model, now).is_some()
        })
    }) else {
        // Something cooled down meanwhile: try what is ready.
        let ready = failover::round_candidates(rt, health, &plan, 0, now);
        return Ok(Failover::new(plan, 0, ready));
    };
    // Every account said it does not serve the model: say that, in the upstream's words.
    let reasons: Vec<_> = plan_cooling
        .iter()
        .filter_map(|c| health.cooling_reason(&rt.accounts[c.account].id, &c.upstream_model, now))
        .collect();
    if reasons.iter().all(|(reason, _)| is_not_served(reason)) {
        let message = reasons
            .iter()
            .find_map(|(_, m)| m.as_deref().map(str::to_owned))
            .unwrap_or_else(|| format!("model {model} is not served by any of its accounts"));
        return Err(GatewayError::ModelNotServed {
            model: model.to_owned(),
            message,
        });
    }
    let wait = until.saturating_duration_since(now);
    let reset_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Err(GatewayError::ModelCooldown {
        model: model.to_owned(),
        reset_seconds,
        reset_time: format_rfc3339_system(SystemTime::now() + wait),
    })
}

/// Run `f` on the body inline when it is small, on the blocking pool when it is not, so a
/// multi-megabyte parse never stalls a proxy worker.
async fn off_worker<T: Send + 'static>(
    raw: &Bytes,
    f: impl FnOnce(&[u8]) -> T + Send + 'static,
) -> Result<T, GatewayError> {
    if raw.len() <= INLINE_VALIDATE_LIMIT {
        return Ok(f(raw));
    }
    let raw = raw.clone();
    tokio::task::spawn_blocking(move || f(&raw))
        .await
        .map_err(|_| GatewayError::Internal)
}

/// What a request holds besides its body: its context, translation state, the buffers of a
/// stream (docs/limits.md).
pub const REQUEST_BASE_BYTES: u64 = 64 << 10;

/// A request's share of `max-in-flight-memory`: [`REQUEST_BASE_BYTES`] and twice the declared
/// body (the raw body, kept for failover, and the one sent upstream). A body without a length
/// is reserved as it is read ([`read_body`]).
fn reserve_memory(session: &Session, ctx: &mut Ctx) -> Result<(), GatewayError> {
    // A body over `max-body-size` gets its 413 from `read_body`, not a 503 from here.
    let declared = declared_length(session)
        .filter(|&n| n <= ctx.rt.max_body_bytes as u64)
        .unwrap_or(0);
    let budget = ctx.rt.max_in_flight_memory;
    let bytes = REQUEST_BASE_BYTES.saturating_add(declared.saturating_mul(2));
    match ctx.shared.in_flight.reserve(bytes, budget) {
        Some(r) => {
            ctx.req.memory = Some(r);
            Ok(())
        }
        None => Err(over_budget(budget)),
    }
}

fn over_budget(budget: u64) -> GatewayError {
    GatewayError::OverBudget {
        budget_mib: budget >> 20,
    }
}

fn declared_length(session: &Session) -> Option<u64> {
    session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The whole body, within `client-timeouts.body-seconds` and `max-body-size`; a body longer
/// than its declared length (or without one) grows the request's memory reservation.
async fn read_body(session: &mut Session, ctx: &mut Ctx) -> Result<Vec<u8>, GatewayError> {
    let deadline = ctx.rt.body_timeout;
    match tokio::time::timeout(deadline, read_body_within(session, ctx)).await {
        Ok(read) => read,
        Err(_) => Err(GatewayError::BodyTimeout {
            secs: deadline.as_secs(),
        }),
    }
}

async fn read_body_within(session: &mut Session, ctx: &mut Ctx) -> Result<Vec<u8>, GatewayError> {
    let declared = declared_length(session);
    let raw = read_body_limited(session, declared, ctx.rt.max_body_bytes).await?;
    let extra = (raw.len() as u64)
        .saturating_sub(declared.unwrap_or(0))
        .saturating_mul(2);
    let budget = ctx.rt.max_in_flight_memory;
    if extra > 0 {
        if let Some(r) = ctx.req.memory.as_mut() {
            if !r.grow(extra, budget) {
                return Err(over_budget(budget));
            }
        }
    }
    Ok(raw)
}

/// Read the whole request body into memory, enforcing `limit`. Pingora's retry buffer keeps its
/// own copy, which is what gets forwarded (and replayed on failover).
async fn read_body_limited(
    session: &mut Session,
    declared: Option<u64>,
    limit: usize,
) -> Result<Vec<u8>, GatewayError> {
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    session.as_mut().enable_retry_buffering();
    let mut raw = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if raw.len() + chunk.len() > limit {
                    return Err(GatewayError::BodyTooLarge { limit });
                }
                raw.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(raw),
            Err(_) => {
                return Err(GatewayError::MalformedBody(
                    "could not read the request body".into(),
                ))
            }
        }
    }
}

async fn answer(
    session: &mut Session,
    obs: &crate::ctx::Observed,
    status: u16,
    body: serde_json::Value,
) -> pingora_error::Result<bool> {
    let body = serde_json::to_vec(&body).unwrap_or_default();
    super::write_json(session, obs, status, body, &[]).await?;
    Ok(true)
}

/// Answer with a gateway error in the client's protocol.
pub async fn fail(
    session: &mut Session,
    ctx: &mut Ctx,
    e: GatewayError,
) -> pingora_error::Result<bool> {
    // The body may be unread (401, 413): do not try to reuse the connection.
    if !session.as_mut().is_body_done() {
        session.set_keepalive(None);
    }
    let retry_after = e.retry_after().map(|s| s.to_string());
    let extra: Vec<(&str, &str)> = retry_after
        .iter()
        .map(|v| ("retry-after", v.as_str()))
        .collect();
    let body = e.body(ctx.protocol);
    super::write_json(session, &ctx.obs, e.status(), body, &extra).await?;
    ctx.local_error = Some(e);
    Ok(true)
}
