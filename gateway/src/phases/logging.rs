//! `logging`: the request's outcome, recorded once: the access line, metrics, session binding.

use crate::ctx::Ctx;
use crate::logs::{AccessRecord, AttemptLog, Tokens};
use crate::metrics::{FailoverReason, RequestObservation};
use crate::protocol::{protocol_label, Endpoint};
use crate::translate::upstream_wire;
use crate::usage_stats::{Tokens as UsageTokens, UsageEvent};
use pingora_proxy::Session;

pub fn logging(session: &Session, e: Option<&pingora_error::Error>, ctx: &mut Ctx) {
    if e.is_none() && ctx.local_error.is_none() {
        remember_session(ctx);
    }
    let status = session.response_written().map_or(0, |r| r.status.as_u16());
    observe(ctx, status);
    if ctx.req.management {
        // Management calls carry keys and config: never in any request log.
        return;
    }
    if let Some(stats) = ctx.shared.usage.as_ref().filter(|_| ctx.req.api) {
        let last = ctx
            .failover
            .candidate()
            .map(|c| &ctx.rt.accounts[c.account]);
        let latency = ctx.started.elapsed();
        let event = UsageEvent {
            key_id: ctx.obs.key_id.as_deref().unwrap_or(""),
            model: ctx.req.model.as_deref().unwrap_or(""),
            account: last.map_or("", |a| a.id.as_str()),
            provider: last.map_or("", |a| a.channel.provider_label(a.kind)),
            at: std::time::SystemTime::now() - latency,
            latency,
            failed: status == 0 || status >= 400 || e.is_some(),
            tokens: ctx
                .obs
                .usage
                .as_ref()
                .map(UsageTokens::from)
                .unwrap_or_default(),
        };
        if ctx.rt.commercial {
            stats.count(&event);
        } else {
            stats.record(&event);
        }
        if let Some(replica) = &ctx.shared.replica {
            replica.usage(&event);
        }
    }
    if ctx.shared.logs.access_on() {
        let record = access_record(session, e, ctx, status);
        ctx.shared.logs.access(record);
    }
    let logs = &ctx.shared.logs;
    let failed = status == 0 || status >= 400 || e.is_some();
    let capture = match ctx.capture.take() {
        Some(capture) => Some(capture),
        // An error log: the client's request as Pingora still holds it (nothing was copied
        // while the request was served).
        None if failed && !ctx.rt.commercial => {
            let mut capture = logs.capture();
            let body = session.as_ref().get_retry_buffer().unwrap_or_default();
            capture.client_request(session.req_header(), &body);
            Some(capture)
        }
        None => None,
    };
    if let Some(capture) = capture {
        logs.exchange(&ctx.obs.request_id, status, failed, capture);
    }
}

/// The request's access record (formatted off this thread by `logs`). Takes what the context
/// no longer needs (the model asked, the key id) instead of copying it.
fn access_record(
    session: &Session,
    e: Option<&pingora_error::Error>,
    ctx: &mut Ctx,
    status: u16,
) -> AccessRecord {
    let req = session.req_header();
    let attempts: Vec<AttemptLog> = ctx
        .failover
        .attempts
        .iter()
        .map(|a| AttemptLog {
            account: ctx.rt.accounts[a.account].id.clone(),
            status: a.status,
            cause: a.cause,
        })
        .collect();
    let last = ctx.failover.candidate();
    AccessRecord {
        request_id: ctx.obs.request_id.clone(),
        client_key_id: ctx.obs.key_id.take().unwrap_or_default(),
        client_protocol: ctx
            .req
            .endpoint
            .as_ref()
            .map_or(protocol_label(ctx.protocol), Endpoint::label),
        method: req.method.as_str().to_owned(),
        path: req.uri.path().to_owned(),
        model_asked: ctx.req.model.take().unwrap_or_default(),
        model_sent: last.map(|c| c.upstream_model.clone()).unwrap_or_default(),
        account: last
            .map(|c| ctx.rt.accounts[c.account].id.clone())
            .unwrap_or_default(),
        attempts,
        tokens: ctx.obs.usage.map(|u| Tokens {
            input: u.input_tokens,
            output: u.output_tokens,
            cached: u.cache_read_tokens,
            reasoning: u.reasoning_tokens,
        }),
        ttfb_ms: ctx.obs.upstream.map(|d| d.as_secs_f64() * 1000.0),
        duration_ms: ctx.started.elapsed().as_secs_f64() * 1000.0,
        bytes_in: ctx.req.body_len as u64,
        bytes_out: ctx.obs.bytes_out,
        status,
        error: ctx.local_error.as_ref().map_or("", |e| e.label()),
        cause: e.map(|e| e.to_string()).unwrap_or_default(),
        stream: ctx.req.stream,
    }
}

/// Metrics of the finished request: its count, its attempts and failovers, the GenAI
/// histograms and tokens, and the gauges it held.
fn observe(ctx: &mut Ctx, status: u16) {
    let metrics = &ctx.shared.metrics;
    if std::mem::take(&mut ctx.obs.inflight) {
        metrics.inflight(-1);
    }
    if std::mem::take(&mut ctx.obs.stream_open) {
        metrics.open_streams(-1);
    }
    let attempts = &ctx.failover.attempts;
    for (i, a) in attempts.iter().enumerate() {
        let account = &ctx.rt.accounts[a.account];
        metrics.attempt(
            account.channel.provider_label(account.kind),
            &account.id,
            a.status,
        );
        if i + 1 < attempts.len() {
            metrics.failover(failover_reason(
                a.status,
                a.cause,
                attempts[i + 1].account == a.account,
            ));
        }
    }
    let last = attempts.last().map(|a| &ctx.rt.accounts[a.account]);
    let endpoint = ctx.req.endpoint.as_ref();
    let model = ctx
        .req
        .model
        .as_deref()
        .map_or("other", |m| ctx.rt.model_label(m));
    metrics.request(&RequestObservation {
        client_protocol: endpoint.map_or(protocol_label(ctx.protocol), Endpoint::label),
        upstream_protocol: last.map_or("none", |a| protocol_label(upstream_wire(a.kind))),
        model,
        code: status,
        provider: last.map_or("none", |a| a.channel.provider_label(a.kind)),
        gen_ai_provider: last.map_or("none", |a| a.channel.gen_ai_provider(a.kind)),
        operation: match endpoint {
            Some(Endpoint::OpenAiCompletions) => "text_completion",
            Some(e) if e.is_count_tokens() => "count_tokens",
            _ => "chat",
        },
        duration: ctx.started.elapsed(),
        first_chunk: ctx.obs.first_chunk,
        usage: ctx.obs.usage,
    });
}

/// Why the request moved on from an attempt (`same_account`: the next attempt is the same
/// account again: a refresh after a 401, or the channel's next host).
fn failover_reason(status: u16, cause: Option<&str>, same_account: bool) -> FailoverReason {
    match (status, cause) {
        _ if same_account => FailoverReason::Retry,
        (_, Some("model not supported")) => FailoverReason::ModelNotSupported,
        (_, Some("in-band error before content")) => FailoverReason::InBand,
        (0, _) => FailoverReason::Transport,
        (429, _) => FailoverReason::Quota,
        (401..=403, _) => FailoverReason::Auth,
        _ => FailoverReason::Server,
    }
}

/// After a request succeeded: bind its session to the account that answered.
fn remember_session(ctx: &Ctx) {
    let (Some(key), Some(ttl)) = (&ctx.req.affinity_key, ctx.rt.session_affinity) else {
        return;
    };
    let Some(last) = ctx
        .failover
        .attempts
        .last()
        .filter(|a| (200..300).contains(&a.status))
    else {
        return;
    };
    let id = &ctx.rt.accounts[last.account].id;
    ctx.shared
        .affinity
        .bind(key, id, ttl, std::time::Instant::now());
    if let Some(replica) = &ctx.shared.replica {
        replica.bind(key, id, ttl);
    }
}
