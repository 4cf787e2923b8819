//! `upstream_response_filter`: the upstream answered. A failover-worthy status (429, 408,
//! 5xx, 529) with another account left becomes a retryable error before anything reaches the
//! client; everything else passes through unchanged (status, headers, body, `retry-after`).

use crate::ctx::Ctx;
use crate::health::{parse_retry_after, Outcome};
use crate::translate::{finish_aggregate, translate_whole, ResponseMode, StreamState};
use bytes::Bytes;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::Session;

pub fn upstream_response_filter(
    session: &Session,
    resp: &mut ResponseHeader,
    ctx: &mut Ctx,
) -> Result<()> {
    let status = resp.status.as_u16();
    ctx.record_status(status);
    if session.response_written().is_none() && crate::oauth::retry_after_401(status, ctx) {
        ctx.retry_status = Some(status);
        let mut e = Error::explain(
            ErrorType::HTTPStatus(status),
            "OAuth 401: refresh and retry",
        );
        e.set_retry(true);
        return Err(e);
    }
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
    if fails_over(status) && ctx.has_next() && session.response_written().is_none() {
        ctx.retry_status = Some(status);
        let mut e = Error::explain(
            ErrorType::HTTPStatus(status),
            "upstream status triggers failover",
        );
        e.set_retry(true);
        return Err(e);
    }
    if let Some(pair) = ctx.pair {
        // A translated answer: the body changes length and type.
        resp.remove_header("content-length");
        resp.remove_header("content-encoding");
        let upstream_streams = resp
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        let (mode, content_type) = if status >= 400 {
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
            let ct = if ctx.gemini_array {
                "application/json"
            } else {
                "text/event-stream"
            };
            (mode, ct)
        } else if ctx.stream {
            let model = ctx.model.as_deref().unwrap_or_default();
            let state = StreamState::new(pair, model, ctx.gemini_array);
            let ct = if ctx.gemini_array {
                "application/json"
            } else {
                "text/event-stream"
            };
            resp.insert_header("cache-control", "no-cache")?;
            (ResponseMode::Stream(Box::new(state)), ct)
        } else if upstream_streams {
            // Asked for one body, answered with a stream: collect it into one response.
            let agg = switchyard_translators::any::StreamAggregator::new(pair.upstream);
            (ResponseMode::Aggregate(Box::new(agg)), "application/json")
        } else {
            (
                ResponseMode::Whole {
                    buf: Vec::new(),
                    error_status: None,
                    as_stream: false,
                },
                "application/json",
            )
        };
        resp.insert_header("content-type", content_type)?;
        ctx.response = mode;
    }
    Ok(())
}

/// `response_body_filter`: translate the body of a translated attempt; synchronous, O(chunk)
/// for streams. Same-protocol bodies are not touched.
pub fn response_body_filter(body: &mut Option<Bytes>, end_of_stream: bool, ctx: &mut Ctx) {
    let Some(pair) = ctx.pair else { return };
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
                let model = ctx.model.as_deref().unwrap_or_default();
                if let ResponseMode::Aggregate(agg) =
                    std::mem::replace(&mut ctx.response, ResponseMode::Passthrough)
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
            *body = Some(if end_of_stream {
                let model = ctx.model.as_deref().unwrap_or_default();
                Bytes::from(translate_whole(
                    pair,
                    buf,
                    *error_status,
                    model,
                    *as_stream,
                    ctx.gemini_array,
                ))
            } else {
                Bytes::new()
            });
        }
    }
}

/// Statuses that move a request to the next account (client errors never do).
pub fn fails_over(status: u16) -> bool {
    matches!(status, 401 | 402 | 403 | 408 | 429) || status >= 500
}
