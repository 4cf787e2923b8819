//! Responses response object and error bodies ↔ IR; the stop-reason, usage and error-kind
//! tables the stream codecs share.
//!
//! Pure. Stop reasons (the IR table, Responses column): `completed` is `EndTurn`, or `ToolUse`
//! when the output has a `function_call` item; `incomplete` with `max_output_tokens` is
//! `MaxTokens`, with `content_filter` `ContentFilter`, any other reason `Other(reason)`; a
//! `failed` body is `Other("failed")` (its `error` is an HTTP error in practice). Encoding:
//! `MaxTokens` and `ContentFilter` give `incomplete`, everything else `completed`.
//! Usage: `input_tokens` (cached included), `input_tokens_details.cached_tokens` → cache
//! reads, `output_tokens` (reasoning included), `output_tokens_details.reasoning_tokens`.
//! Output text annotations (citations) are dropped: the IR has no place for them.

use serde_json::{json, Map, Value};

use crate::ir::{EncodeContext, ErrorKind, Response, StopReason, StreamError, Usage};
use crate::TranslateError;

use super::items::{output_to_parts, parts_to_output};
use super::wire::{
    ResponsesErrorBody, ResponsesErrorEnvelope, ResponsesIncompleteDetails,
    ResponsesInputTokensDetails, ResponsesOutputTokensDetails, ResponsesResponse, ResponsesUsage,
};

/// A whole response body into the IR.
pub fn decode_response(body: &[u8]) -> Result<Response, TranslateError> {
    let r: ResponsesResponse =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidBody {
            protocol: "OpenAI Responses",
            message: e.to_string(),
        })?;
    if r.status.is_none() && r.output.is_empty() && r.error.is_some() {
        return Err(TranslateError::InvalidBody {
            protocol: "OpenAI Responses",
            message: "an error body, not a response object".into(),
        });
    }
    let stop = stop_from(
        r.status.as_deref(),
        r.incomplete_details.as_ref(),
        r.output
            .iter()
            .any(|i| matches!(i, super::wire::ResponsesItem::FunctionCall(_))),
    );
    Ok(Response {
        id: r.id,
        model: r.model,
        parts: output_to_parts(r.output),
        stop,
        usage: r.usage.map(usage_from).unwrap_or_default(),
    })
}

pub(crate) fn stop_from(
    status: Option<&str>,
    incomplete: Option<&ResponsesIncompleteDetails>,
    has_tool_call: bool,
) -> StopReason {
    match status {
        Some("incomplete") => match incomplete.and_then(|d| d.reason.as_deref()) {
            Some("max_output_tokens") => StopReason::MaxTokens,
            Some("content_filter") => StopReason::ContentFilter,
            Some(other) => StopReason::Other(other.to_string()),
            None => StopReason::Other("incomplete".into()),
        },
        Some("failed") => StopReason::Other("failed".into()),
        Some("cancelled") => StopReason::Other("cancelled".into()),
        _ if has_tool_call => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

/// `(status, incomplete_details)` for an IR stop reason.
pub(crate) fn status_for(stop: &StopReason) -> (&'static str, Option<ResponsesIncompleteDetails>) {
    let incomplete = |reason: &str| {
        (
            "incomplete",
            Some(ResponsesIncompleteDetails {
                reason: Some(reason.to_string()),
            }),
        )
    };
    match stop {
        StopReason::MaxTokens => incomplete("max_output_tokens"),
        StopReason::ContentFilter => incomplete("content_filter"),
        StopReason::EndTurn
        | StopReason::StopSequence(_)
        | StopReason::ToolUse
        | StopReason::PauseTurn
        | StopReason::Other(_) => ("completed", None),
    }
}

pub(crate) fn usage_from(u: ResponsesUsage) -> Usage {
    Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_tokens: u.input_tokens_details.map_or(0, |d| d.cached_tokens),
        cache_write_tokens: 0,
        reasoning_tokens: u.output_tokens_details.map_or(0, |d| d.reasoning_tokens),
    }
}

/// Always with both details objects and `total_tokens`: Codex refuses a usage without them.
pub(crate) fn usage_to(u: &Usage) -> ResponsesUsage {
    ResponsesUsage {
        input_tokens: u.input_tokens,
        input_tokens_details: Some(ResponsesInputTokensDetails {
            cached_tokens: u.cache_read_tokens,
        }),
        output_tokens: u.output_tokens,
        output_tokens_details: Some(ResponsesOutputTokensDetails {
            reasoning_tokens: u.reasoning_tokens,
        }),
        total_tokens: u.total(),
    }
}

/// The fields every response object we emit carries besides id, model, status and output.
pub(crate) fn response_object(
    id: &str,
    model: &str,
    created_at: i64,
    status: &str,
) -> ResponsesResponse {
    let mut extra = Map::new();
    extra.insert("parallel_tool_calls".into(), json!(true));
    extra.insert("tool_choice".into(), json!("auto"));
    extra.insert("tools".into(), json!([]));
    ResponsesResponse {
        id: id.to_string(),
        object: "response".into(),
        created_at,
        status: Some(status.to_string()),
        error: None,
        incomplete_details: None,
        model: model.to_string(),
        output: Vec::new(),
        usage: None,
        extra,
    }
}

/// An IR response as a Responses body.
pub fn encode_response(resp: &Response, ctx: &mut EncodeContext) -> Vec<u8> {
    let (status, incomplete) = status_for(&resp.stop);
    let mut r = response_object(&resp.id, &resp.model, ctx.created, status);
    r.incomplete_details = incomplete;
    r.output = parts_to_output(&resp.parts, ctx);
    r.usage = Some(usage_to(&resp.usage));
    serde_json::to_vec(&r).unwrap_or_default()
}

fn code_str(e: &ResponsesErrorBody) -> Option<&str> {
    e.code.as_ref().and_then(Value::as_str)
}

/// Error kind from an OpenAI `code` or `type` string.
pub(crate) fn kind_from_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "server_is_overloaded"
        | "overloaded"
        | "overloaded_error"
        | "service_unavailable"
        | "slow_down" => ErrorKind::Overloaded,
        "rate_limit_exceeded"
        | "rate_limit_error"
        | "insufficient_quota"
        | "requests"
        | "tokens"
        | "usage_limit_reached" => ErrorKind::RateLimit,
        "invalid_api_key" | "authentication_error" | "invalid_authentication" => {
            ErrorKind::Authentication
        }
        "permission_error" | "permission_denied" | "unsupported_country_region_territory" => {
            ErrorKind::Permission
        }
        "model_not_found" | "not_found_error" | "not_found" => ErrorKind::NotFound,
        "invalid_request_error" | "context_length_exceeded" | "invalid_prompt" | "bad_request" => {
            ErrorKind::InvalidRequest
        }
        "timeout" | "request_timeout" => ErrorKind::Timeout,
        "server_error" | "internal_error" | "api_error" => ErrorKind::Server,
        _ => return None,
    })
}

fn kind_from_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimit,
        503 | 529 => ErrorKind::Overloaded,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Server,
    }
}

/// An error object (from a body, `response.error` or an `error` event) into the IR.
pub(crate) fn error_from(e: &ResponsesErrorBody, status: Option<u16>) -> StreamError {
    let by_code = code_str(e)
        .and_then(kind_from_code)
        .or_else(|| e.kind.as_deref().and_then(kind_from_code));
    let kind = by_code.unwrap_or_else(|| kind_from_status(status.unwrap_or(500)));
    StreamError {
        status,
        kind,
        message: e.message.clone().unwrap_or_default(),
    }
}

/// An upstream error body (any status) into the IR.
pub fn decode_error(status: u16, body: &[u8]) -> StreamError {
    match serde_json::from_slice::<ResponsesErrorEnvelope>(body) {
        Ok(env) => error_from(&env.error, Some(status)),
        Err(_) => StreamError {
            status: Some(status),
            kind: kind_from_status(status),
            message: String::from_utf8_lossy(body).into_owned(),
        },
    }
}

/// `(status, type, code)` for an error kind (the IR table, OpenAI column).
pub(crate) fn error_fields(kind: ErrorKind) -> (u16, &'static str, Option<&'static str>) {
    match kind {
        ErrorKind::InvalidRequest => (400, "invalid_request_error", None),
        ErrorKind::Authentication => (401, "authentication_error", Some("invalid_api_key")),
        ErrorKind::Permission => (403, "permission_error", None),
        ErrorKind::NotFound => (404, "invalid_request_error", Some("model_not_found")),
        ErrorKind::RateLimit => (429, "rate_limit_error", Some("rate_limit_exceeded")),
        ErrorKind::Overloaded => (503, "server_error", Some("server_is_overloaded")),
        ErrorKind::Server => (500, "server_error", None),
        ErrorKind::Timeout => (504, "server_error", Some("timeout")),
    }
}

pub(crate) fn error_body(e: &StreamError) -> ResponsesErrorBody {
    let (_, kind, code) = error_fields(e.kind);
    ResponsesErrorBody {
        message: Some(e.message.clone()),
        kind: Some(kind.to_string()),
        param: Some(Value::Null),
        code: Some(code.map_or(Value::Null, |c| Value::String(c.to_string()))),
    }
}

/// A client error body: `{"error":{"message","type","param","code"}}` and its status. A 4xx
/// status of an invalid-request error is kept (413, 422); otherwise the kind decides.
pub fn encode_error(e: &StreamError) -> (u16, Vec<u8>) {
    let (status, _, _) = error_fields(e.kind);
    let status = match (e.kind, e.status) {
        (ErrorKind::InvalidRequest, Some(s)) if (400..500).contains(&s) => s,
        _ => status,
    };
    let body = ResponsesErrorEnvelope {
        error: error_body(e),
    };
    (status, serde_json::to_vec(&body).unwrap_or_default())
}
