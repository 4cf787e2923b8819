//! `upstream_response_filter` and `response_body_filter`: the upstream answered.
//!
//! A failover-worthy status (429, 408, 5xx, 529) with another account left becomes a
//! retryable error before anything reaches the client; everything else passes through
//! unchanged (status, headers, body, `retry-after`) or is translated. A streaming attempt is
//! held back until its first content event (`crate::stream_hold`), so an in-band failure before
//! that fails over too.

use super::upstream::next_host;
use crate::ctx::{Ctx, Judged};
use crate::errors::AttemptFailure;
use crate::failover::Repeat;
use crate::gemini_cli_endpoint;
use crate::health::{
    classify_client_error, error_message, judged_by_body, parse_retry_after, Outcome,
};
use crate::metrics::Phase;
use crate::protocol::Endpoint;
use crate::stream_hold::{error_status, Downstream, Step, StreamHold};
use crate::translate::{self, finish_aggregate, translate_whole, ResponseMode, StreamState};
use bytes::Bytes;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::Session;
use std::time::Instant;
use switchyard_translators::ir::Protocol;
use switchyard_translators::openai_chat::usage_chunk::UsageChunkFilter;
use switchyard_translators::usage::UsageScanner;

pub fn upstream_response_filter(
    session: &Session,
    resp: &mut ResponseHeader,
    ctx: &mut Ctx,
) -> Result<()> {
    if ctx.downstream == Downstream::StreamHeader && session.response_written().is_none() {
        // The failed attempt's header never left: Pingora drops a whole batch of tasks
        // (header and first events) when a filter fails on it.
        ctx.downstream = Downstream::Nothing;
    }
    let status = resp.status.as_u16();
    ctx.failover.record_status(status);
    if let Some(capture) = ctx.capture.as_mut() {
        capture.upstream_response(ctx.failover.attempts.len().saturating_sub(1), resp);
    }
    ctx.obs.upstream = ctx.obs.sent.map(|sent| sent.elapsed());
    let rt = ctx.rt.clone();
    let Some(candidate) = ctx.failover.candidate() else {
        return Error::e_explain(
            ErrorType::InternalError,
            "upstream response without a route",
        );
    };
    let channel = &rt.accounts[candidate.account].channel;
    if status == 401 && ctx.downstream.can_fail_over() {
        if let Some(seen) = channel.retry_after_401() {
            if ctx.failover.repeat(Repeat::Refresh(seen)) {
                return fail_over(
                    ctx,
                    AttemptFailure::Status,
                    status,
                    "OAuth 401: refresh and retry",
                );
            }
        }
    }
    if next_host(Some(status), ctx) {
        return fail_over(
            ctx,
            AttemptFailure::Status,
            status,
            "host failed: next host",
        );
    }
    ctx.attempt.unwrap = channel.response_envelope(resp);
    if ctx.req.gemini_cli_local {
        ctx.attempt.wrap =
            gemini_cli_endpoint::answer_envelope(ctx.req.stream, ctx.req.gemini_array);
    }
    ctx.attempt.judged = None;
    if judged_by_body(status) {
        // Recorded once the body says whose problem it is (`response_body_filter`).
        ctx.attempt.judged = Some(Judged {
            status,
            body: Vec::new(),
        });
    } else {
        record_header_outcome(ctx, resp, status);
    }
    if fails_over(status) && ctx.has_next() && ctx.downstream.can_fail_over() {
        return fail_over(
            ctx,
            AttemptFailure::Status,
            status,
            "upstream status triggers failover",
        );
    }
    crate::response_headers::filter(resp, ctx.rt.passthrough_headers);
    super::observed_headers(resp, &ctx.obs)?;
    if let Some(capture) = ctx.capture.as_mut() {
        capture.client_response(resp);
    }
    let upstream_streams = resp
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if status < 400 {
        ctx.attempt.usage = usage_scanner(ctx, upstream_streams).map(Box::new);
        if ctx.attempt.asked_usage && upstream_streams {
            ctx.attempt.usage_chunk = Some(UsageChunkFilter::new());
        }
    }
    if status >= 400 && ctx.req.stream && ctx.downstream == Downstream::StreamHeader {
        // An earlier attempt's stream header is already out: this error can only be told to
        // the client as its protocol's stream error event.
        if let Some((client, upstream)) = wires(ctx) {
            ctx.attempt.response = ResponseMode::ErrorEvent {
                buf: Vec::new(),
                status,
                client,
                upstream,
            };
        }
        return Ok(());
    }
    if let Some(pair) = ctx.attempt.pair {
        translated_mode(resp, ctx, pair, status, upstream_streams)?;
    }
    if status < 400 && ctx.req.stream && upstream_streams {
        if let Some((_, upstream)) = wires(ctx).filter(|_| holds_streams(ctx)) {
            // The header is held with the stream's first events (`hold_response_tasks`).
            ctx.attempt.hold = StreamHold::hold(upstream);
            return Ok(());
        }
    }
    if ctx.attempt.judged.is_none() {
        ctx.downstream = Downstream::Committed;
    }
    Ok(())
}

fn record_header_outcome(ctx: &Ctx, resp: &ResponseHeader, status: u16) {
    ctx.record_outcome(if status < 400 {
        Outcome::Success
    } else {
        let retry_after = resp
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        Outcome::Status {
            status,
            retry_after,
        }
    });
}

/// Reads the usage of the attempt's answer from the upstream's bytes: every answer, translated
/// or passed through (`None`: a token count, which reports none).
fn usage_scanner(ctx: &Ctx, upstream_streams: bool) -> Option<UsageScanner> {
    let endpoint = ctx.req.endpoint.as_ref()?;
    if endpoint.is_count_tokens() {
        return None;
    }
    let upstream = match ctx.attempt.pair {
        Some(pair) => pair.upstream,
        // Legacy completions report usage as Chat does.
        None => endpoint.wire().unwrap_or(Protocol::OpenAiChat),
    };
    let gemini_array = upstream == Protocol::Gemini && ctx.req.stream && !upstream_streams;
    Some(if gemini_array && ctx.attempt.pair.is_none() {
        UsageScanner::gemini_json_array()
    } else {
        UsageScanner::new(upstream, upstream_streams)
    })
}

/// Whether this request's streams are held until their first content: every generation
/// stream except Gemini's JSON-array framing passed through (not SSE) and legacy completions
/// (no IR decoder).
fn holds_streams(ctx: &Ctx) -> bool {
    match ctx.req.endpoint {
        Some(Endpoint::OpenAiCompletions) | None => false,
        Some(_) => ctx.attempt.pair.is_some() || !ctx.req.gemini_array,
    }
}

/// (client wire, upstream wire) of the attempt in flight.
fn wires(ctx: &Ctx) -> Option<(Protocol, Protocol)> {
    if let Some(pair) = ctx.attempt.pair {
        return Some((pair.client, pair.upstream));
    }
    let client = ctx.req.endpoint.as_ref()?.wire()?;
    Some((client, client))
}

fn translated_mode(
    resp: &mut ResponseHeader,
    ctx: &mut Ctx,
    pair: translate::Pair,
    status: u16,
    upstream_streams: bool,
) -> Result<()> {
    // A translated answer: the body changes length and type.
    resp.remove_header("content-length");
    resp.remove_header("content-encoding");
    let stream_ct = if ctx.req.gemini_array {
        "application/json"
    } else {
        "text/event-stream"
    };
    let (mode, content_type) = if status >= 400 {
        // 529 is Anthropic's "overloaded"; other protocols say 503 (the IR's error table).
        if status == 529 && pair.client != Protocol::Anthropic {
            resp.set_status(503)?;
        }
        let mode = ResponseMode::Whole {
            buf: Vec::new(),
            error_status: Some(status),
            as_stream: false,
        };
        (mode, "application/json")
    } else if ctx.req.stream && !upstream_streams {
        // Asked to stream, answered with one body: replay it as the client's stream.
        resp.insert_header("cache-control", "no-cache")?;
        let mode = ResponseMode::Whole {
            buf: Vec::new(),
            error_status: None,
            as_stream: true,
        };
        (mode, stream_ct)
    } else if ctx.req.stream {
        let model = ctx.req.model.as_deref().unwrap_or_default();
        let state = StreamState::new(pair, model, ctx.req.gemini_array);
        resp.insert_header("cache-control", "no-cache")?;
        (ResponseMode::Stream(Box::new(state)), stream_ct)
    } else if upstream_streams {
        // Asked for one body, answered with a stream: collect it into one response.
        let agg = switchyard_translators::any::StreamAggregator::new(pair.upstream);
        (ResponseMode::Aggregate(Box::new(agg)), "application/json")
    } else {
        let mode = ResponseMode::Whole {
            buf: Vec::new(),
            error_status: None,
            as_stream: false,
        };
        (mode, "application/json")
    };
    resp.insert_header("content-type", content_type)?;
    ctx.attempt.response = mode;
    Ok(())
}

/// `response_body_filter`: translate the body of a translated attempt (synchronous, O(chunk)
/// for streams), then let the bootstrap hold, release or fail the attempt over. Same-protocol
/// bodies are not copied once the stream is committed.
pub fn response_body_filter(
    body: &mut Option<Bytes>,
    end_of_stream: bool,
    header_out: bool,
    ctx: &mut Ctx,
) -> Result<()> {
    ctx.attempt.unwrap.apply(body, end_of_stream);
    if let (Some(capture), Some(chunk)) = (ctx.capture.as_mut(), body.as_deref()) {
        capture.upstream_body(ctx.failover.attempts.len().saturating_sub(1), chunk);
    }
    if let Some(scanner) = ctx.attempt.usage.as_mut() {
        if let Some(chunk) = body.as_deref() {
            scanner.feed(chunk);
        }
        if end_of_stream {
            if let Some(u) = scanner.finish() {
                ctx.obs.add_usage(u);
            }
        }
    }
    if ctx.attempt.judged.is_some() {
        judge(body.as_deref(), end_of_stream, header_out, ctx)?;
    }
    // While a stream is held the probe reads the upstream's own bytes; the output (translated
    // or not) stays in its tasks, which `hold_response_tasks` keeps back.
    let raw = match ctx.attempt.hold {
        StreamHold::Holding(_) => body.clone().unwrap_or_default(),
        StreamHold::Off => Bytes::new(),
    };
    if let Some(filter) = ctx.attempt.usage_chunk.as_mut() {
        let mut out = Vec::new();
        if let Some(chunk) = body.take() {
            filter.feed(&chunk, &mut out);
        }
        if end_of_stream {
            filter.finish(&mut out);
        }
        *body = Some(Bytes::from(out));
    } else if matches!(ctx.attempt.response, ResponseMode::Passthrough) {
        translate_chunk(body, end_of_stream, ctx);
    } else {
        let started = Instant::now();
        translate_chunk(body, end_of_stream, ctx);
        let took = started.elapsed();
        ctx.obs.translate_response += took;
        if end_of_stream {
            let total = ctx.obs.translate_response;
            ctx.shared
                .metrics
                .overhead(Phase::ResponseTranslation, total);
        }
    }
    ctx.attempt.wrap.apply(body, end_of_stream);
    ctx.obs.bytes_out += body.as_ref().map_or(0, |b| b.len() as u64);
    if let (Some(capture), Some(chunk)) = (ctx.capture.as_mut(), body.as_deref()) {
        capture.client_body(chunk);
    }
    if let StreamHold::Off = ctx.attempt.hold {
        if body.as_ref().is_some_and(|b| !b.is_empty()) {
            commit(ctx);
        }
        return Ok(());
    }
    let mut hold = std::mem::take(&mut ctx.attempt.hold);
    let step = hold.step(&raw, end_of_stream, || ctx.has_next());
    ctx.attempt.hold = hold;
    match step {
        Step::Hold => Ok(()),
        Step::Release => {
            commit(ctx);
            Ok(())
        }
        Step::FailOver(err) => {
            let status = error_status(&err);
            ctx.failover
                .record_failure(Some(status), "in-band error before content");
            ctx.record_outcome(Outcome::Status {
                status,
                retry_after: None,
            });
            fail_over(
                ctx,
                AttemptFailure::InBand,
                status,
                format!(
                    "in-band upstream error before the first content: {}",
                    err.message
                ),
            )
        }
    }
}

/// The client has bytes of this attempt: the request is committed to it. A stream's first
/// content is timed (`gen_ai_client_operation_time_to_first_chunk_seconds`) and the stream is
/// counted open until the `logging` phase.
fn commit(ctx: &mut Ctx) {
    ctx.downstream = Downstream::Committed;
    if ctx.req.stream && !ctx.obs.stream_open {
        ctx.obs.first_chunk = Some(ctx.started.elapsed());
        ctx.obs.stream_open = true;
        ctx.shared.metrics.open_streams(1);
    }
}

/// Collect a 400/404/422 body and, at its end, record what it says about the account; a
/// "model not supported" answer fails over when another account is left and the client has not
/// been sent this answer's header yet (Pingora filters a header and the body that came with it
/// before writing either).
fn judge(chunk: Option<&[u8]>, eos: bool, header_out: bool, ctx: &mut Ctx) -> Result<()> {
    const KEEP: usize = 64 * 1024;
    if let (Some(judged), Some(c)) = (ctx.attempt.judged.as_mut(), chunk) {
        let room = KEEP.saturating_sub(judged.body.len());
        judged.body.extend_from_slice(&c[..c.len().min(room)]);
    }
    if !eos {
        return Ok(());
    }
    let Some(Judged { status, body }) = ctx.attempt.judged.take() else {
        return Ok(());
    };
    let outcome = classify_client_error(status, &body);
    ctx.record_outcome(outcome);
    if matches!(
        outcome,
        Outcome::ModelNotSupported { .. } | Outcome::Status { status: 404, .. }
    ) {
        if let Some(message) = error_message(&body) {
            ctx.explain_cooldown(&message);
        }
    }
    if matches!(outcome, Outcome::ModelNotSupported { .. })
        && !header_out
        && ctx.has_next()
        && ctx.downstream.can_fail_over()
    {
        ctx.failover.record_failure(None, "model not supported");
        return fail_over(
            ctx,
            AttemptFailure::InBand,
            status,
            "upstream does not serve this model",
        );
    }
    Ok(())
}

fn translate_chunk(body: &mut Option<Bytes>, end_of_stream: bool, ctx: &mut Ctx) {
    let model = ctx.req.model.as_deref().unwrap_or_default();
    let pair = ctx.attempt.pair;
    match &mut ctx.attempt.response {
        ResponseMode::Passthrough => {}
        ResponseMode::Stream(state) => {
            let chunk = body.take().unwrap_or_default();
            *body = Some(Bytes::from(state.feed(&chunk, end_of_stream)));
        }
        ResponseMode::Aggregate(agg) => {
            if let Some(chunk) = body.take() {
                agg.feed(&chunk);
            }
            *body = Some(Bytes::new());
            if end_of_stream {
                if let (ResponseMode::Aggregate(agg), Some(pair)) =
                    (std::mem::take(&mut ctx.attempt.response), pair)
                {
                    *body = Some(Bytes::from(finish_aggregate(pair, *agg, model)));
                }
            }
        }
        ResponseMode::Whole {
            buf,
            error_status,
            as_stream,
        } => {
            if let Some(chunk) = body.take() {
                buf.extend_from_slice(&chunk);
            }
            let counting = ctx
                .req
                .endpoint
                .as_ref()
                .is_some_and(Endpoint::is_count_tokens);
            *body = Some(match (end_of_stream, pair) {
                (true, Some(pair)) if counting && error_status.is_none() => {
                    Bytes::from(crate::translate::translate_count(pair.client, buf))
                }
                (true, Some(pair)) => Bytes::from(translate_whole(
                    pair,
                    buf,
                    *error_status,
                    model,
                    *as_stream,
                    ctx.req.gemini_array,
                )),
                _ => Bytes::new(),
            });
        }
        ResponseMode::ErrorEvent {
            buf,
            status,
            client,
            upstream,
        } => {
            if let Some(chunk) = body.take() {
                buf.extend_from_slice(&chunk);
            }
            *body = Some(if end_of_stream {
                let err = switchyard_translators::any::decode_error(*upstream, *status, buf);
                Bytes::from(translate::stream_error_event(
                    *client,
                    ctx.req.gemini_array,
                    &err,
                ))
            } else {
                Bytes::new()
            });
        }
    }
}

/// Called by the patched proxy loop with each batch of filtered response tasks: while the
/// attempt's stream is bootstrapping or its error body is being judged, its tasks (the response
/// header first) are held, so a failover before the first content byte sends nothing at all
/// and the next attempt's own header is the one the client gets.
pub fn hold_response_tasks(
    tasks: &mut Vec<pingora_core::protocols::http::HttpTask>,
    ends: bool,
    ctx: &mut Ctx,
) {
    let holding =
        matches!(ctx.attempt.hold, StreamHold::Holding(_)) || ctx.attempt.judged.is_some();
    if holding && !ends {
        ctx.attempt.held_tasks.append(tasks);
    } else if !ctx.attempt.held_tasks.is_empty() {
        let mut all = std::mem::take(&mut ctx.attempt.held_tasks);
        all.append(tasks);
        *tasks = all;
    }
}

/// How long the upstream may stay silent before the client gets a keep-alive: an SSE comment
/// on streams (`streaming.keepalive-seconds`; not for Gemini's JSON-array framing), a blank line
/// before a JSON body (`nonstream-keepalive-interval`). Called by the patched proxy loop.
pub fn idle_interval(ctx: &Ctx) -> Option<std::time::Duration> {
    ctx.req.endpoint.as_ref()?;
    if ctx.req.stream {
        ctx.rt.stream_keepalive.filter(|_| !ctx.req.gemini_array)
    } else {
        ctx.rt.nonstream_keepalive
    }
}

/// The upstream was silent for [`idle_interval`]: send the keep-alive, after a 200 header of
/// the gateway's own if none went out yet. Like a held stream's header, it commits the status
/// but not the content: failover continues behind it (`crate::stream_hold`).
pub async fn keep_alive(session: &mut Session, ctx: &mut Ctx) -> Result<()> {
    if session.response_written().is_none() {
        let mut h = ResponseHeader::build(200, Some(4))?;
        let ct = if ctx.req.stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        h.insert_header("content-type", ct)?;
        if ctx.req.stream {
            h.insert_header("cache-control", "no-cache")?;
        }
        h.insert_header("transfer-encoding", "chunked")?;
        super::observed_headers(&mut h, &ctx.obs)?;
        session.write_response_header(Box::new(h), false).await?;
        if ctx.downstream == Downstream::Nothing {
            ctx.downstream = Downstream::StreamHeader;
        }
    }
    let bytes: &'static [u8] = if ctx.req.stream {
        b": keep-alive\n\n"
    } else {
        b"\n"
    };
    session
        .write_response_body(Some(Bytes::from_static(bytes)), false)
        .await
}

/// Turn the attempt in flight into a retryable error: nothing of it reaches the client and
/// `error_while_proxy` lets Pingora call `upstream_peer` for the next account.
fn fail_over(
    ctx: &mut Ctx,
    failure: AttemptFailure,
    status: u16,
    why: impl Into<pingora_error::ImmutStr>,
) -> Result<()> {
    ctx.attempt.retry_status = Some(status);
    let e = Error::explain(ErrorType::HTTPStatus(status), why);
    Err(failure.mark(e, true))
}

/// Statuses that move a request to the next account (client errors never do).
pub fn fails_over(status: u16) -> bool {
    matches!(status, 401 | 402 | 403 | 408 | 429) || status >= 500
}
