//! `upstream_response_filter` and `response_body_filter`: the upstream answered.
//!
//! A failover-worthy status (429, 408, 5xx, 529) with another account left becomes a
//! retryable error before anything reaches the client; everything else passes through
//! unchanged (status, headers, body, `retry-after`) or is translated. A streaming attempt is
//! held back until its first content event (`crate::bootstrap`), so an in-band failure before
//! that fails over too.

use crate::bootstrap::{error_status, Bootstrap, Downstream, Step};
use crate::ctx::Ctx;
use crate::health::{classify_client_error, judged_by_body, parse_retry_after, Outcome};
use crate::protocol::Endpoint;
use crate::translate::{self, finish_aggregate, translate_whole, ResponseMode, StreamState};
use bytes::Bytes;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::Session;
use switchyard_translators::ir::Protocol;

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
    ctx.record_status(status);
    if ctx.downstream.can_fail_over() && crate::oauth::retry_after_401(status, ctx) {
        return fail_over(ctx, status, "OAuth 401: refresh and retry");
    }
    if crate::codeassist::next_host(Some(status), ctx) {
        return fail_over(ctx, status, "Code Assist host failed: next host");
    }
    crate::codeassist::on_response_header(resp, ctx);
    crate::codeassist::local::on_response_header(ctx);
    ctx.judge = None;
    if judged_by_body(status) {
        // Recorded once the body says whose problem it is (`response_body_filter`).
        ctx.judge = Some((status, Vec::new()));
    } else {
        record_header_outcome(ctx, resp, status);
    }
    if fails_over(status) && ctx.has_next() && ctx.downstream.can_fail_over() {
        return fail_over(ctx, status, "upstream status triggers failover");
    }
    crate::response_headers::filter(resp, ctx.rt.passthrough_headers);
    let upstream_streams = resp
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if status >= 400 && ctx.stream && ctx.downstream == Downstream::StreamHeader {
        // An earlier attempt's stream header is already out: this error can only be told to
        // the client as its protocol's stream error event.
        if let Some((client, upstream)) = wires(ctx) {
            ctx.response = ResponseMode::ErrorEvent {
                buf: Vec::new(),
                status,
                client,
                upstream,
            };
        }
        return Ok(());
    }
    if let Some(pair) = ctx.pair {
        translated_mode(resp, ctx, pair, status, upstream_streams)?;
    }
    if status < 400 && ctx.stream && upstream_streams {
        if let Some((_, upstream)) = wires(ctx).filter(|_| bootstraps(ctx)) {
            // The header is held with the stream's first events (`hold_response_tasks`).
            ctx.bootstrap = Bootstrap::hold(upstream);
            return Ok(());
        }
    }
    if ctx.judge.is_none() {
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

/// Whether this request's streams are bootstrapped: every generation stream except Gemini's
/// JSON-array framing passed through (not SSE) and legacy completions (no IR decoder).
fn bootstraps(ctx: &Ctx) -> bool {
    match ctx.endpoint {
        Some(Endpoint::OpenAiCompletions) | None => false,
        Some(_) => ctx.pair.is_some() || !ctx.gemini_array,
    }
}

/// (client wire, upstream wire) of the attempt in flight.
fn wires(ctx: &Ctx) -> Option<(Protocol, Protocol)> {
    if let Some(pair) = ctx.pair {
        return Some((pair.client, pair.upstream));
    }
    let client = translate::client_wire(ctx.endpoint.as_ref()?)?;
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
    let stream_ct = if ctx.gemini_array {
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
    } else if ctx.stream && !upstream_streams {
        // Asked to stream, answered with one body: replay it as the client's stream.
        resp.insert_header("cache-control", "no-cache")?;
        let mode = ResponseMode::Whole {
            buf: Vec::new(),
            error_status: None,
            as_stream: true,
        };
        (mode, stream_ct)
    } else if ctx.stream {
        let model = ctx.model.as_deref().unwrap_or_default();
        let state = StreamState::new(pair, model, ctx.gemini_array);
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
    ctx.response = mode;
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
    crate::codeassist::unwrap_body(body, end_of_stream, ctx);
    if ctx.judge.is_some() {
        judge(body.as_deref(), end_of_stream, header_out, ctx)?;
    }
    // While a stream is bootstrapping the probe reads the upstream's own bytes; the output
    // (translated or not) stays in its tasks, which `hold_response_tasks` keeps back.
    let raw = match ctx.bootstrap {
        Bootstrap::Holding(_) => body.clone().unwrap_or_default(),
        Bootstrap::Off => Bytes::new(),
    };
    translate_chunk(body, end_of_stream, ctx);
    crate::codeassist::local::wrap_body(body, end_of_stream, ctx);
    if let Bootstrap::Off = ctx.bootstrap {
        if body.as_ref().is_some_and(|b| !b.is_empty()) {
            ctx.downstream = Downstream::Committed;
        }
        return Ok(());
    }
    let mut bootstrap = std::mem::take(&mut ctx.bootstrap);
    let step = bootstrap.step(&raw, end_of_stream, || ctx.has_next());
    ctx.bootstrap = bootstrap;
    match step {
        Step::Hold => Ok(()),
        Step::Release => {
            ctx.downstream = Downstream::Committed;
            Ok(())
        }
        Step::FailOver(err) => {
            let status = error_status(&err);
            if let Some(a) = ctx.attempts.last_mut() {
                a.status = status;
                a.cause = Some("in-band error before content");
            }
            ctx.record_outcome(Outcome::Status {
                status,
                retry_after: None,
            });
            fail_over(
                ctx,
                status,
                format!(
                    "in-band upstream error before the first content: {}",
                    err.message
                ),
            )
        }
    }
}

/// Collect a 400/404/422 body and, at its end, record what it says about the account; a
/// "model not supported" answer fails over when another account is left and the client has not
/// been sent this answer's header yet (Pingora filters a header and the body that came with it
/// before writing either).
fn judge(chunk: Option<&[u8]>, eos: bool, header_out: bool, ctx: &mut Ctx) -> Result<()> {
    const KEEP: usize = 64 * 1024;
    if let (Some((_, buf)), Some(c)) = (ctx.judge.as_mut(), chunk) {
        let room = KEEP.saturating_sub(buf.len());
        buf.extend_from_slice(&c[..c.len().min(room)]);
    }
    if !eos {
        return Ok(());
    }
    let Some((status, buf)) = ctx.judge.take() else {
        return Ok(());
    };
    let outcome = classify_client_error(status, &buf);
    ctx.record_outcome(outcome);
    if matches!(outcome, Outcome::ModelNotSupported { .. })
        && !header_out
        && ctx.has_next()
        && ctx.downstream.can_fail_over()
    {
        if let Some(a) = ctx.attempts.last_mut() {
            a.cause = Some("model not supported");
        }
        return fail_over(ctx, status, "upstream does not serve this model");
    }
    Ok(())
}

fn translate_chunk(body: &mut Option<Bytes>, end_of_stream: bool, ctx: &mut Ctx) {
    let model = ctx.model.as_deref().unwrap_or_default();
    match &mut ctx.response {
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
                if let (ResponseMode::Aggregate(agg), Some(pair)) = (
                    std::mem::replace(&mut ctx.response, ResponseMode::Passthrough),
                    ctx.pair,
                ) {
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
                .endpoint
                .as_ref()
                .is_some_and(crate::translate::is_count_tokens);
            *body = Some(match (end_of_stream, ctx.pair) {
                (true, Some(pair)) if counting && error_status.is_none() => {
                    Bytes::from(crate::translate::translate_count(pair.client, buf))
                }
                (true, Some(pair)) => Bytes::from(translate_whole(
                    pair,
                    buf,
                    *error_status,
                    model,
                    *as_stream,
                    ctx.gemini_array,
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
                    ctx.gemini_array,
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
    let holding = matches!(ctx.bootstrap, Bootstrap::Holding(_)) || ctx.judge.is_some();
    if holding && !ends {
        ctx.held_tasks.append(tasks);
    } else if !ctx.held_tasks.is_empty() {
        let mut all = std::mem::take(&mut ctx.held_tasks);
        all.append(tasks);
        *tasks = all;
    }
}

/// How long the upstream may stay silent before the client gets a keep-alive: an SSE comment
/// on streams (`streaming.keepalive-seconds`; not for Gemini's JSON-array framing), a blank line
/// before a JSON body (`nonstream-keepalive-interval`). Called by the patched proxy loop.
pub fn idle_interval(ctx: &Ctx) -> Option<std::time::Duration> {
    ctx.endpoint.as_ref()?;
    if ctx.stream {
        ctx.rt.stream_keepalive.filter(|_| !ctx.gemini_array)
    } else {
        ctx.rt.nonstream_keepalive
    }
}

/// The upstream was silent for [`idle_interval`]: send the keep-alive, after a 200 header of
/// the gateway's own if none went out yet. Like a held stream's header, it commits the status
/// but not the content: failover continues behind it (`crate::bootstrap`).
pub async fn keep_alive(session: &mut Session, ctx: &mut Ctx) -> Result<()> {
    if session.response_written().is_none() {
        let mut h = ResponseHeader::build(200, Some(4))?;
        let ct = if ctx.stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        h.insert_header("content-type", ct)?;
        if ctx.stream {
            h.insert_header("cache-control", "no-cache")?;
        }
        h.insert_header("transfer-encoding", "chunked")?;
        session.write_response_header(Box::new(h), false).await?;
        if ctx.downstream == Downstream::Nothing {
            ctx.downstream = Downstream::StreamHeader;
        }
    }
    let bytes: &'static [u8] = if ctx.stream {
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
fn fail_over(ctx: &mut Ctx, status: u16, why: impl Into<pingora_error::ImmutStr>) -> Result<()> {
    ctx.retry_status = Some(status);
    let mut e = Error::explain(ErrorType::HTTPStatus(status), why);
    e.set_retry(true);
    Err(e)
}

/// Statuses that move a request to the next account (client errors never do).
pub fn fails_over(status: u16) -> bool {
    matches!(status, 401 | 402 | 403 | 408 | 429) || status >= 500
}
