//! OpenAI Chat whole responses (`chat.completion`) and error bodies to and from the IR, plus
//! the stop-reason, usage and error-class mappings the stream codecs share.
//!
//! Pure. Only `choices[0]` is read (the gateway never asks for `n > 1`). Thinking comes from
//! `reasoning_content` (DeepSeek, Moonshot, xAI) or `reasoning` (Groq); Chat cannot carry a
//! thinking signature, so the encoder drops it. Usage follows the IR table: `prompt_tokens`
//! already includes cached tokens (OpenAI's meaning), `completion_tokens` includes reasoning
//! (xAI's does not: recognised by `total_tokens` = prompt + completion + reasoning, and added);
//! cache writes have no Chat field and are dropped (they stay counted in `prompt_tokens`).
//!
//! Stop reasons (IR table): `stop` → EndTurn, `length` → MaxTokens, `tool_calls` /
//! `function_call` → ToolUse, `content_filter` → ContentFilter, anything else → Other. The
//! encoder writes `tool_calls` whenever the answer carries tool calls, even if the upstream
//! said `stop` (clients key their tool loop on it).
//!
//! Errors: `{"error":{"message","type","param","code"}}`; the class comes from the HTTP status
//! first, then `type`/`code` (in-stream errors have no status; Groq adds `status_code`,
//! OpenRouter puts the status in `code`).

use serde_json::{json, Value};

use super::request::{arguments_text, decode_content, decode_tool_call, invalid};
use super::request_encode::non_empty_args;
use super::wire::*;
use crate::ir::{
    EncodeContext, ErrorKind, Part, Response, StopReason, StreamError, ToolCall, Usage,
};
use crate::TranslateError;

/// Decode a `chat.completion` body.
pub fn decode_response(body: &[u8]) -> Result<Response, TranslateError> {
    let wire: OpenAiChatResponse = serde_json::from_slice(body).map_err(invalid)?;
    if wire.choices.is_empty() && wire.extra.contains_key("error") {
        return Err(invalid("an error body, not a response"));
    }
    let mut parts = Vec::new();
    let mut finish = None;
    if let Some(choice) = wire.choices.into_iter().next() {
        let m = choice.message;
        if let Some(text) = m
            .reasoning_content
            .or(m.reasoning)
            .filter(|t| !t.is_empty())
        {
            parts.push(Part::Thinking {
                text,
                signature: None,
            });
        }
        parts.extend(
            decode_content(m.content)
                .into_iter()
                .filter(|p| !matches!(p, Part::Text { text, .. } if text.is_empty())),
        );
        if let Some(r) = m.refusal.filter(|r| !r.is_empty()) {
            parts.push(Part::Text {
                text: r,
                cache_control: None,
            });
        }
        for call in m.tool_calls.unwrap_or_default() {
            parts.push(decode_tool_call(call));
        }
        finish = choice.finish_reason;
    }
    Ok(Response {
        id: wire.id,
        model: wire.model,
        stop: decode_stop(finish.as_deref().unwrap_or("stop")),
        parts,
        usage: wire.usage.as_ref().map(decode_usage).unwrap_or_default(),
    })
}

/// Encode a whole response. `ctx` supplies `created` (and an id if the IR has none).
pub fn encode_response(resp: &Response, ctx: &mut EncodeContext) -> Vec<u8> {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for p in &resp.parts {
        match p {
            Part::Text { text: t, .. } => text.push_str(t),
            Part::Thinking { text: t, .. } => reasoning.push_str(t),
            Part::Reasoning(item) => item.summary.iter().for_each(|s| reasoning.push_str(s)),
            Part::ToolCall(ToolCall {
                id,
                name,
                arguments,
                ..
            }) => calls.push(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": non_empty_args(arguments)},
            })),
            _ => {}
        }
    }
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) },
    });
    if !reasoning.is_empty() {
        message["reasoning_content"] = Value::String(reasoning);
    }
    let has_calls = !calls.is_empty();
    if has_calls {
        message["tool_calls"] = Value::Array(calls);
    }
    let id = if resp.id.is_empty() {
        ctx.next_id("chatcmpl")
    } else {
        resp.id.clone()
    };
    let body = json!({
        "id": id,
        "object": "chat.completion",
        "created": ctx.created,
        "model": resp.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": encode_stop(&resp.stop, has_calls),
        }],
        "usage": encode_usage(&resp.usage),
    });
    body.to_string().into_bytes()
}

/// Finish reason for `stop`; `has_calls` forces `tool_calls`.
pub(crate) fn encode_stop(stop: &StopReason, has_calls: bool) -> &'static str {
    match stop {
        StopReason::MaxTokens => "length",
        StopReason::ContentFilter => "content_filter",
        StopReason::ToolUse => "tool_calls",
        _ if has_calls => "tool_calls",
        StopReason::EndTurn
        | StopReason::StopSequence(_)
        | StopReason::PauseTurn
        | StopReason::Other(_) => "stop",
    }
}

pub(crate) fn decode_stop(s: &str) -> StopReason {
    match s {
        "stop" | "end_turn" => StopReason::EndTurn,
        "length" | "max_tokens" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_owned()),
    }
}

pub(crate) fn decode_usage(u: &OpenAiChatUsage) -> Usage {
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .or(u.prompt_cache_hit_tokens)
        .or(u.cached_tokens)
        .unwrap_or(0);
    let reasoning = u
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0);
    // xAI counts reasoning outside `completion_tokens` (its total is prompt + completion +
    // reasoning); the IR's output includes reasoning, as OpenAI's `completion_tokens` does.
    let excludes_reasoning =
        reasoning > 0 && u.total_tokens == u.prompt_tokens + u.completion_tokens + reasoning;
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens + if excludes_reasoning { reasoning } else { 0 },
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        reasoning_tokens: reasoning,
    }
}

pub(crate) fn encode_usage(u: &Usage) -> Value {
    json!({
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total(),
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    })
}

// ------------------------------------------------------------------------------------- errors

/// An upstream error body (any status) as an IR error.
pub fn decode_error(status: u16, body: &[u8]) -> StreamError {
    match serde_json::from_slice::<OpenAiChatErrorBody>(body) {
        // A 200 carrying an error body (OpenRouter does this) takes the class from the body.
        Ok(b) => error_from_wire(Some(status).filter(|s| *s >= 400), &b.error),
        Err(_) => StreamError {
            status: Some(status),
            kind: kind_from_status(status).unwrap_or(ErrorKind::Server),
            message: String::from_utf8_lossy(body).into_owned(),
        },
    }
}

/// An error object (`{"message","type","code",...}`) with an optional HTTP status.
pub(crate) fn error_from_wire(status: Option<u16>, e: &OpenAiChatError) -> StreamError {
    let status = status
        .or(e.status_code)
        .or_else(|| e.code.as_u64().and_then(|c| u16::try_from(c).ok()));
    let kind = status
        .and_then(kind_from_status)
        .or_else(|| kind_from_type(e.kind.as_str(), e.code.as_str()))
        .unwrap_or(ErrorKind::Server);
    let message = match &e.message {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    StreamError {
        status,
        kind,
        message,
    }
}

fn kind_from_status(status: u16) -> Option<ErrorKind> {
    Some(match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimit,
        503 | 529 => ErrorKind::Overloaded,
        400..=499 => ErrorKind::InvalidRequest,
        500..=599 => ErrorKind::Server,
        _ => return None,
    })
}

fn kind_from_type(kind: Option<&str>, code: Option<&str>) -> Option<ErrorKind> {
    Some(match (kind, code) {
        (_, Some("model_not_found")) => ErrorKind::NotFound,
        (_, Some("invalid_api_key")) | (Some("authentication_error"), _) => {
            ErrorKind::Authentication
        }
        (_, Some("rate_limit_exceeded" | "insufficient_quota"))
        | (Some("rate_limit_error" | "tokens" | "requests"), _) => ErrorKind::RateLimit,
        (_, Some("server_is_overloaded")) | (Some("overloaded_error"), _) => ErrorKind::Overloaded,
        (_, Some("timeout")) => ErrorKind::Timeout,
        (Some("permission_error"), _) => ErrorKind::Permission,
        (Some("not_found_error"), _) => ErrorKind::NotFound,
        (Some("invalid_request_error"), _) => ErrorKind::InvalidRequest,
        (Some("server_error" | "api_error"), _) => ErrorKind::Server,
        _ => return None,
    })
}

/// `type` and `code` per the IR error table.
pub(crate) fn error_type_code(kind: ErrorKind) -> (&'static str, Option<&'static str>) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", None),
        ErrorKind::Authentication => ("authentication_error", Some("invalid_api_key")),
        ErrorKind::Permission => ("permission_error", None),
        ErrorKind::NotFound => ("invalid_request_error", Some("model_not_found")),
        ErrorKind::RateLimit => ("rate_limit_error", Some("rate_limit_exceeded")),
        ErrorKind::Overloaded => ("server_error", Some("server_is_overloaded")),
        ErrorKind::Server => ("server_error", None),
        ErrorKind::Timeout => ("server_error", Some("timeout")),
    }
}

fn default_status(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::InvalidRequest => 400,
        ErrorKind::Authentication => 401,
        ErrorKind::Permission => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::RateLimit => 429,
        ErrorKind::Overloaded => 503,
        ErrorKind::Server => 500,
        ErrorKind::Timeout => 504,
    }
}

/// The `{"error":{...}}` object, for bodies and in-stream error chunks.
pub(crate) fn error_json(e: &StreamError) -> Value {
    let (kind, code) = error_type_code(e.kind);
    json!({"error": {"message": e.message, "type": kind, "param": null, "code": code}})
}

/// A client error body and its status. Overloaded is 503 (529 is Anthropic's); otherwise the
/// upstream's status is kept, or the table's when there was none.
pub fn encode_error(e: &StreamError) -> (u16, Vec<u8>) {
    let status = match (e.kind, e.status) {
        (ErrorKind::Overloaded, _) => 503,
        (_, Some(s)) if (400..=599).contains(&s) => s,
        (kind, _) => default_status(kind),
    };
    (status, error_json(e).to_string().into_bytes())
}

/// Keep `arguments_text` reachable for the stream decoder.
pub(crate) fn fragment_text(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        other => arguments_text(other),
    }
}
