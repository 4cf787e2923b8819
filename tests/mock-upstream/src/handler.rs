//! One provider request: read the body, take the account's schedule step, journal it, answer.
//!
//! Order of decisions: unknown paths get a 404 (OpenAI error shape) and consume no step; a
//! `status` step answers that error; an `inband_error` step starts a 200 stream with the error
//! (non-stream requests get the matching HTTP error instead); a body that is not JSON where
//! one is required gets a 400; then the normal answer, cut short for `drop_after_events`.
//! Latency (`--latency-ms` plus the step's `delay_ms`) is spent after journaling, before the
//! headers, so the journal shows a request as soon as it has arrived.

use crate::body::{PacedBody, Pacing};
use crate::errors::{error_body, inband_status};
use crate::extras::{Extras, Usage};
use crate::journal::{headers_map, journal_plain, sha256_hex};
use crate::plan::{Planned, GEMINI_JSON, JSON};
use crate::reply::{pieces, reply_override, ReplyCtx};
use crate::routes::{self, Protocol, Route};
use crate::schedule::{Action, Step};
use crate::state::{Entry, State, JOURNAL_BODY_MAX};
use crate::{anthropic, codeassist, control, gemini, openai, tools};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The hyper service function.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<PacedBody>, io::Error> {
    let (parts, body) = req.into_parts();
    let body: Bytes = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    if path.starts_with("/_mock/") {
        return Ok(control::handle(&state, &parts.method, path, query, &body)
            .into_response(Pacing::default()));
    }
    if path.starts_with("/_auth/") {
        let planned = crate::auth_routes::handle(&state, &parts, &body);
        return Ok(planned.into_response(Pacing::default()));
    }

    let account = routes::account(&parts.headers, query);
    let request: Option<Value> = serde_json::from_slice(&body).ok();
    // Code Assist: an enveloped Gemini request (answered enveloped), or an onboarding call.
    let code_assist = codeassist::route(&parts.method, path, request.as_ref());
    if code_assist.is_none() {
        let onboarding = &state.onboarding;
        if let Some(p) =
            codeassist::onboarding(onboarding, &parts.method, path, &account, request.as_ref())
        {
            journal_plain(&state, &parts, &account, &body);
            return Ok(p.into_response(Pacing::default()));
        }
    }
    let inner = code_assist
        .as_ref()
        .and_then(|_| codeassist::inner(request.as_ref()));
    let route = code_assist
        .clone()
        .unwrap_or_else(|| Route::classify(&parts.method, path, &parts.headers, query));
    let request_ref = inner.as_ref().or(request.as_ref()).unwrap_or(&Value::Null);
    let model = route
        .path_model()
        .or_else(|| request_ref.get("model").and_then(Value::as_str))
        .map(str::to_owned);
    let stream = match route {
        Route::GeminiStream(_) => true,
        Route::Chat | Route::Completions | Route::Responses | Route::Messages => {
            request_ref.get("stream").and_then(Value::as_bool) == Some(true)
        }
        _ => false,
    };
    let step = if route == Route::NotFound {
        Step::OK
    } else {
        state.next_step(&account)
    };

    // MOCK_TOOL: a tool call until the request carries a tool result, then text about it.
    let tool_result = tools::tool_result(&route, request_ref);
    let markers = if tools::route_calls_tools(&route) {
        tools::tool_markers(&body)
    } else {
        Vec::new()
    };
    let (calls, echo): (&[tools::ToolCall], _) = match (markers.is_empty(), &tool_result) {
        (false, None) => (&markers, None),
        (false, Some(result)) => (&[], Some(tools::result_echo(result))),
        (true, _) => (&[], None),
    };
    let extras = Extras::parse(&body);
    let text = reply_override(&body)
        .or(echo)
        .unwrap_or_else(|| state.opts.reply.clone());
    let pieces = pieces(&text, state.opts.words_per_event);
    let input_tokens = body.len() as u64 / 4;
    let output_tokens = if calls.is_empty() {
        pieces.len()
    } else {
        calls.iter().map(|t| t.fragments.len()).sum()
    } as u64;
    let ctx = ReplyCtx {
        model: model.as_deref().unwrap_or(""),
        text: &text,
        pieces: &pieces,
        input_tokens,
        output_tokens,
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        ids: &state.ids,
        request: request_ref,
        tools: calls,
        extras: &extras,
        usage: Usage::new(&extras, input_tokens, output_tokens),
    };
    let sse = routes::query_param(query, "alt").as_deref() == Some("sse");
    let (planned, outcome) = plan(&route, &step.action, &ctx, stream, sse, request.is_some());
    let planned = match code_assist {
        Some(_) => codeassist::wrap(planned, &route),
        None => planned,
    };

    // Registered before journaling, so a reset that follows the journal entry releases it.
    let released = state.reset.notified();
    state.record(Entry {
        seq: 0,
        account,
        method: parts.method.to_string(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: headers_map(&parts.headers),
        body_len: body.len(),
        body_sha256: sha256_hex(&body),
        model,
        stream,
        outcome,
        has_tool_result: tool_result.is_some(),
        body: (body.len() <= JOURNAL_BODY_MAX).then(|| String::from_utf8_lossy(&body).into_owned()),
    });

    let delay = state.opts.latency_ms + step.delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if step.action == Action::Hang {
        released.await;
        return Err(io::Error::other("hung request released by /_mock/reset"));
    }
    let pacing = Pacing {
        delay: Duration::from_millis(state.opts.chunk_delay_ms),
        chunk_size: state.opts.chunk_size,
        abort_after: None,
    };
    let response = planned.into_response(pacing);
    Ok(match step.action {
        Action::Hold(n) => response.map(|b| b.hold_after(n, state.holds.gate())),
        _ => response,
    })
}

/// The response and the journal outcome for a request.
fn plan(
    route: &Route,
    action: &Action,
    ctx: &ReplyCtx<'_>,
    stream: bool,
    sse: bool,
    body_ok: bool,
) -> (Planned, String) {
    let protocol = route.protocol();
    if *route == Route::NotFound {
        return (
            error(protocol, 404, ctx, Some("Unknown path (switchyard-mock).")),
            "status:404".into(),
        );
    }
    match action {
        Action::Status {
            status,
            retry_after,
            body,
        } => {
            let mut p = match body {
                Some(b) => Planned::json(*status, content_type(protocol), b.to_string()),
                None => error(protocol, *status, ctx, None),
            };
            if let Some(r) = retry_after {
                p = p.with_header("retry-after", r.clone());
            }
            return (p, format!("status:{status}"));
        }
        Action::Inband(kind) | Action::InbandAfter(kind, _) if !stream => {
            let status = inband_status(*kind, protocol);
            return (
                error(protocol, status, ctx, None),
                format!("status:{status}"),
            );
        }
        Action::Inband(kind) => {
            let p = match route {
                Route::Messages => anthropic::inband(ctx, *kind),
                Route::Responses => openai::responses_inband(ctx, *kind),
                Route::GeminiStream(_) => gemini::inband(*kind, sse),
                _ => openai::chat_inband(*kind),
            };
            return (p, "inband_error".into());
        }
        Action::InbandAfter(kind, n) => {
            let mut p = ok(route, ctx, stream, sse);
            p.events.truncate(*n);
            let n = p.events.len();
            p.events.push(match route {
                Route::Messages => anthropic::error_event(ctx, *kind),
                Route::Responses => openai::responses_error_event(*kind, n),
                Route::GeminiStream(_) => gemini::error_event(*kind, sse, n),
                _ => openai::chat_error_event(*kind),
            });
            return (p, "inband_error".into());
        }
        Action::Ok | Action::Drop(_) | Action::Hang | Action::Hold(_) => {}
    }
    if route.needs_json_body() && !body_ok {
        return (
            error(
                protocol,
                400,
                ctx,
                Some("The request body is not valid JSON (switchyard-mock)."),
            ),
            "status:400".into(),
        );
    }
    let p = ok(route, ctx, stream, sse);
    match action {
        Action::Drop(n) => (p.drop_after(*n), "drop".into()),
        Action::Hang => (p, "hang".into()),
        Action::Hold(_) => (p, "hold".into()),
        _ => (p, "ok".into()),
    }
}

fn ok(route: &Route, ctx: &ReplyCtx<'_>, stream: bool, sse: bool) -> Planned {
    match route {
        Route::Chat => openai::chat(ctx, stream).with_header("x-request-id", ctx.ids.request()),
        Route::Completions => {
            openai::completions(ctx, stream).with_header("x-request-id", ctx.ids.request())
        }
        Route::Responses => {
            openai::responses(ctx, stream).with_header("x-request-id", ctx.ids.request())
        }
        Route::Models(Protocol::OpenAi) => openai::models(),
        Route::Models(Protocol::Anthropic) => anthropic::models(),
        Route::Models(Protocol::Gemini) => gemini::models(),
        Route::Messages => anthropic::messages(ctx, stream),
        Route::CountTokens => anthropic::count_tokens(ctx),
        Route::GeminiGenerate(_) => gemini::generate(ctx),
        Route::GeminiStream(_) => gemini::stream(ctx, sse),
        Route::GeminiCountTokens(_) => gemini::count_tokens(ctx),
        Route::NotFound => error(Protocol::OpenAi, 404, ctx, None),
    }
}

fn content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Gemini => GEMINI_JSON,
        Protocol::OpenAi | Protocol::Anthropic => JSON,
    }
}

fn error(protocol: Protocol, status: u16, ctx: &ReplyCtx<'_>, message: Option<&str>) -> Planned {
    let request_id = ctx.ids.request();
    let body = error_body(protocol, status, &request_id, message);
    let text = if protocol == Protocol::Gemini {
        body.pretty()
    } else {
        body.compact()
    };
    let header = if protocol == Protocol::Anthropic {
        "request-id"
    } else {
        "x-request-id"
    };
    Planned::json(status, content_type(protocol), text).with_header(header, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
