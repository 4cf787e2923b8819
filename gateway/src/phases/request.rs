//! `request_filter`: route, client auth, local answers, and the body pre-read that lets the
//! gateway route by `model`, reject bad input before any upstream is contacted, and replay the
//! body on failover (docs/request-bodies.md).

use crate::body;
use crate::client_auth::presented_key;
use crate::codeassist::local::Call as CodeAssist;
use crate::ctx::Ctx;
use crate::errors::GatewayError;
use crate::local;
use crate::protocol::{self, ClientProtocol, Endpoint, GeminiMethod, Route};
use crate::routing::{Candidate, Plan, Via};
use crate::translate;
use bytes::Bytes;
use pingora_proxy::Session;
use std::time::{Instant, SystemTime};
use switchyard_translators::any;
use switchyard_translators::ir::{Protocol, ReasoningMode};
use switchyard_translators::reasoning;
use switchyard_translators::tokens::estimate_input_tokens;

/// Bodies above this are validated on the blocking pool, not on a proxy worker.
const INLINE_VALIDATE_LIMIT: usize = 1 << 20;

/// Returns `Ok(true)` when the response was written here.
pub async fn request_filter(session: &mut Session, ctx: &mut Ctx) -> pingora_error::Result<bool> {
    let code_assist = crate::codeassist::local::call(session.req_header());
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
        Route::ModelsGemini | Route::ModelInfo { gemini: true, .. } => ClientProtocol::Gemini,
        Route::MethodNotAllowed(p) | Route::NotFound(p) => *p,
        Route::Health | Route::Root | Route::ModelsV1 | Route::ModelInfo { .. } => {
            local::models_caller(session.req_header())
        }
    };
    match route {
        Route::Health => return answer(session, 200, local::health()).await,
        Route::Root => return answer(session, 200, local::banner()).await,
        _ => {}
    }
    let presented = presented_key(session.req_header()).map(|k| k.into_owned());
    // The local Gemini CLI endpoint takes no API key: it serves loopback callers only.
    let local = code_assist.is_some();
    let admitted = match &code_assist {
        Some(CodeAssist::Refuse(e)) => Err(e.clone()),
        Some(_) => crate::codeassist::local::admit(session, ctx),
        None => ctx.rt.keys.check(presented.as_deref()),
    };
    if let Err(e) = admitted {
        if local {
            ctx.protocol = ClientProtocol::Gemini;
        }
        return fail(session, ctx, e).await;
    }
    ctx.codeassist.local = local;
    if let Some(CodeAssist::Account(method)) = code_assist {
        return match read_body(session, ctx.rt.max_body_bytes).await {
            Ok(body) => {
                answer(
                    session,
                    200,
                    crate::codeassist::local::answer(method, &body),
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
            return answer(session, 200, local::models(p, &listed)).await;
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
                Some(m) if ctx.protocol == ClientProtocol::Gemini => {
                    answer(session, 200, local::gemini_model(&m)).await
                }
                Some(m) => {
                    answer(
                        session,
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
    match prepare(session, ctx, endpoint).await {
        Ok(None) => Ok(false),
        Ok(Some(local)) => answer(session, 200, local).await,
        Err(e) => fail(session, ctx, e).await,
    }
}

/// Pre-read and inspect the body, resolve the model to candidate accounts, and decode the
/// request into the IR when some candidate speaks another protocol. `Ok(Some(json))` is a
/// local answer (a token count no upstream can give).
async fn prepare(
    session: &mut Session,
    ctx: &mut Ctx,
    endpoint: Endpoint,
) -> Result<Option<serde_json::Value>, GatewayError> {
    let raw = Bytes::from(read_body(session, ctx.rt.max_body_bytes).await?);
    let (raw, endpoint) = match ctx.codeassist.local {
        true => crate::codeassist::local::unwrap(raw, endpoint)?,
        false => (raw, endpoint),
    };
    ctx.body_len = raw.len();
    if raw.is_empty() {
        return Err(GatewayError::MalformedBody(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let facts = off_worker(&raw, body::inspect)
        .await?
        .map_err(|e| GatewayError::MalformedBody(e.to_string()))?;
    let (model, stream) = match &endpoint {
        Endpoint::Gemini { model, method } => (
            Some(model.clone()),
            *method == GeminiMethod::StreamGenerateContent,
        ),
        _ => (facts.model, facts.stream),
    };
    let model = model
        .filter(|m| !m.is_empty())
        .ok_or(GatewayError::MissingModel)?;
    // CLIProxyAPI's reasoning suffix: route by the base name; the suffix becomes the IR's
    // reasoning setting (only when the full name is not itself a configured model).
    let (base, suffix_mode) = reasoning::parse_model_suffix(&model);
    let suffix = (suffix_mode != ReasoningMode::Default
        && ctx.rt.router.listed().iter().all(|m| m.id != model))
    .then(|| (base.to_owned(), suffix_mode));
    let model = match &suffix {
        Some((base, _)) => base.clone(),
        None => model,
    };
    ctx.stream = stream;
    ctx.model_span = facts.model_span;
    ctx.gemini_array = stream
        && matches!(endpoint, Endpoint::Gemini { .. })
        && !session
            .req_header()
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "alt=sse"));
    let wire = translate::client_wire(&endpoint);
    let now = Instant::now();
    let resolved = ctx.rt.router.resolve(
        &model,
        &ctx.rt.accounts,
        |k| endpoint.passthrough_to(k) || wire.is_some(),
        |c| {
            let id = &ctx.rt.accounts[c.account].id;
            ctx.health
                .cooling_until(id, &c.upstream_model, now)
                .is_none()
        },
    );
    // `auto` and a fallback route like an alias: the client's name stays the request's model
    // (spliced out of same-protocol bodies, shown in translated answers) and the candidates
    // carry the upstream names. A fallback's attempts also go through the IR, so that every
    // answer, same-protocol ones included, reports the name the client asked for.
    let fallback = resolved.via == Via::Fallback && wire.is_some();
    let mut candidates = match resolved.plan {
        Plan::Candidates(c) => c,
        Plan::Unknown => return Err(GatewayError::UnknownModel(model)),
        Plan::Incompatible(kinds) => {
            return Err(GatewayError::UnsupportedPair {
                model,
                client: client_api_name(&endpoint),
                upstream: kinds
                    .first()
                    .map_or("other", |k| crate::accounts::kind_name(*k)),
            })
        }
    };
    let accounts = &ctx.rt.accounts;
    let forced = ((suffix.is_some() || fallback) && !translate::is_count_tokens(&endpoint))
        || ctx.codeassist.local;
    let passthrough = |c: &Candidate| {
        let a = &accounts[c.account];
        !forced
            && endpoint.passthrough_to(a.kind)
            && (stream || !a.streams_only())
            && !crate::codeassist::enveloped(a)
    };
    if let (Some(wire), false) = (wire, candidates.iter().all(passthrough)) {
        let has_passthrough = candidates.iter().any(passthrough);
        if translate::is_count_tokens(&endpoint) && has_passthrough {
            // A real count beats an estimate.
            candidates.retain(passthrough);
        } else {
            match off_worker(&raw, move |b| any::decode_request(wire, b)).await? {
                // Code Assist counts (`v1internal:countTokens`): a real count again.
                Ok(ir)
                    if translate::is_count_tokens(&endpoint)
                        && !forced
                        && candidates
                            .iter()
                            .any(|c| crate::codeassist::enveloped(&accounts[c.account])) =>
                {
                    candidates.retain(|c| crate::codeassist::enveloped(&accounts[c.account]));
                    ctx.ir = Some(ir);
                }
                Ok(ir) if translate::is_count_tokens(&endpoint) => {
                    let n = estimate_input_tokens(&ir);
                    ctx.model = Some(model);
                    return Ok(Some(match wire {
                        Protocol::Gemini => serde_json::json!({ "totalTokens": n }),
                        _ => serde_json::json!({ "input_tokens": n }),
                    }));
                }
                Ok(mut ir) => {
                    if let Some((_, mode)) = suffix {
                        ir.reasoning.get_or_insert_with(Default::default).mode = mode;
                    }
                    ctx.force_ir = forced;
                    ctx.ir = Some(ir);
                }
                Err(e) if has_passthrough => {
                    tracing::debug!(error = %e, "request not translatable; same-protocol accounts only");
                    candidates.retain(passthrough);
                }
                Err(e) => return Err(GatewayError::MalformedBody(e.to_string())),
            }
        }
    }
    ctx.plan = candidates;
    if ctx.rt.session_affinity.is_some() {
        let session = crate::pool::SESSION_HEADERS
            .iter()
            .find_map(|h| session.req_header().headers.get(*h))
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .or(facts.session_hint);
        if let Some(session) = session {
            let key = crate::pool::affinity_key(&session, &model);
            if let Some(bound) = ctx.health.affinity.get(&key, Instant::now()) {
                let rt = ctx.rt.clone();
                crate::pool::apply_affinity(&rt, &mut ctx.plan, &bound);
            }
            ctx.affinity_key = Some(key);
        }
    }
    ctx.candidates = first_round(ctx, &model).await?;
    ctx.model = Some(model);
    ctx.endpoint = Some(endpoint);
    Ok(None)
}

/// The first round's accounts. When every account is cooling, a retry round may still wait for
/// the nearest one (`max-retry-interval`); otherwise the client gets 429 `model_cooldown`.
async fn first_round(ctx: &mut Ctx, model: &str) -> Result<Vec<Candidate>, GatewayError> {
    let rt = ctx.rt.clone();
    let first = crate::pool::round_candidates(&rt, &ctx.health, &ctx.plan, 0, Instant::now());
    if !first.is_empty() {
        return Ok(first);
    }
    if let Some(wait) = ctx.next_round_wait() {
        tokio::time::sleep(wait + std::time::Duration::from_millis(1)).await;
        ctx.round = 1;
        let next = crate::pool::round_candidates(&rt, &ctx.health, &ctx.plan, 1, Instant::now());
        if !next.is_empty() {
            return Ok(next);
        }
    }
    without_cooling(ctx, model, ctx.plan.clone())
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

/// Drop accounts that are cooling down for their upstream model; if all are, the client gets
/// 429 `model_cooldown` with the earliest reset.
fn without_cooling(
    ctx: &Ctx,
    model: &str,
    mut all: Vec<Candidate>,
) -> Result<Vec<Candidate>, GatewayError> {
    let now = Instant::now();
    let mut earliest: Option<Instant> = None;
    all.retain(|c| {
        let id = &ctx.rt.accounts[c.account].id;
        match ctx.health.cooling_until(id, &c.upstream_model, now) {
            Some(until) => {
                earliest = Some(earliest.map_or(until, |e| e.min(until)));
                false
            }
            None => true,
        }
    });
    match earliest {
        Some(until) if all.is_empty() => {
            let wait = until.saturating_duration_since(now);
            let reset_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Err(GatewayError::ModelCooldown {
                model: model.to_owned(),
                reset_seconds,
                reset_time: crate::time::rfc3339(SystemTime::now() + wait),
            })
        }
        _ => Ok(all),
    }
}

/// Read the whole request body into memory, enforcing `limit`. Pingora's retry buffer keeps its
/// own copy, which is what gets forwarded (and replayed on failover).
async fn read_body(session: &mut Session, limit: usize) -> Result<Vec<u8>, GatewayError> {
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
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

fn client_api_name(e: &Endpoint) -> &'static str {
    match e {
        Endpoint::OpenAiChat => "OpenAI Chat Completions",
        Endpoint::OpenAiCompletions => "OpenAI Completions",
        Endpoint::OpenAiResponses => "OpenAI Responses",
        Endpoint::AnthropicMessages | Endpoint::AnthropicCountTokens => "Anthropic Messages",
        Endpoint::Gemini { .. } => "Gemini",
    }
}

async fn answer(
    session: &mut Session,
    status: u16,
    body: serde_json::Value,
) -> pingora_error::Result<bool> {
    super::write_json(
        session,
        status,
        serde_json::to_vec(&body).unwrap_or_default(),
        &[],
    )
    .await?;
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
    super::write_json(session, e.status(), e.body(ctx.protocol), &extra).await?;
    ctx.local_error = Some(e);
    Ok(true)
}
