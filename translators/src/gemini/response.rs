//! Gemini whole responses and error bodies ↔ IR, and the stop-reason, usage and error tables
//! the stream codecs share. Pure.
//!
//! - `responseId` ↔ id, `modelVersion` ↔ model, `candidates[0].content.parts` ↔ parts (see
//!   [`super::parts`]); other candidates are ignored (the IR has one).
//! - Stop reasons ([`decode_stop`] / [`encode_stop`], the IR table): `STOP` → EndTurn, or
//!   ToolUse when the candidate has a function call; `MAX_TOKENS` → MaxTokens; `SAFETY`,
//!   `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`,
//!   `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION` and a `promptFeedback.blockReason` →
//!   ContentFilter; anything else → Other(reason). Encoding: ContentFilter → `SAFETY`,
//!   MaxTokens → `MAX_TOKENS`, Other(r) → r when it is a Gemini-style reason (`A_Z_`), else
//!   `OTHER`; the rest → `STOP`.
//! - Usage ([`decode_usage`] / [`encode_usage`]): input = promptTokenCount +
//!   toolUsePromptTokenCount; output = candidatesTokenCount + thoughtsTokenCount; cache read =
//!   cachedContentTokenCount; reasoning = thoughtsTokenCount. Encoding writes
//!   candidatesTokenCount = output − reasoning and totalTokenCount = input + output.
//! - Errors: `{"error":{"code","message","status"}}` with the `status` column of the IR table;
//!   a body without a known `status` is classified by its HTTP status.

use serde_json::Value;

use super::parts::{decode_parts, encode_parts, CallIds, EncodeParts};
use super::request::invalid;
use super::wire::{GeminiCandidate, GeminiContent, GeminiErrorBody, GeminiErrorEnvelope};
use super::wire::{GeminiResponse, GeminiUsage};
use crate::ir::{EncodeContext, ErrorKind, Part, Response, StopReason, StreamError, Usage};
use crate::TranslateError;

/// Decode a whole `generateContent` response.
pub fn decode_response(body: &[u8]) -> Result<Response, TranslateError> {
    let wire: GeminiResponse = serde_json::from_slice(body).map_err(invalid)?;
    if let Some(err) = wire.error {
        return Err(invalid(format!("error body: {}", err.message)));
    }
    let mut parts = Vec::new();
    let mut finish = None;
    if let Some(candidate) = wire.candidates.into_iter().next() {
        if let Some(content) = candidate.content {
            let mut ids = CallIds::for_response_id(wire.response_id.as_deref().unwrap_or(""));
            decode_parts(content.parts, &mut ids, &mut parts);
        }
        finish = candidate.finish_reason;
    }
    let has_call = parts.iter().any(|p| matches!(p, Part::ToolCall(_)));
    let blocked = wire
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_ref())
        .is_some();
    let stop = match finish.as_deref() {
        Some(reason) => decode_stop(reason, has_call),
        None if blocked => StopReason::ContentFilter,
        None if has_call => StopReason::ToolUse,
        None => StopReason::EndTurn,
    };
    Ok(Response {
        id: wire.response_id.unwrap_or_default(),
        model: wire.model_version.unwrap_or_default(),
        parts,
        stop,
        usage: wire.usage_metadata.map(decode_usage).unwrap_or_default(),
    })
}

/// Encode a whole response as Gemini sends it.
pub fn encode_response(resp: &Response, _ctx: &mut EncodeContext) -> Vec<u8> {
    let opts = EncodeParts {
        dummy_signatures: false,
        call_names: &[],
    };
    let wire = GeminiResponse {
        candidates: vec![GeminiCandidate {
            content: Some(GeminiContent {
                role: Some("model".into()),
                parts: encode_parts(&resp.parts, &opts),
                extra: Default::default(),
            }),
            finish_reason: Some(encode_stop(&resp.stop).to_string()),
            index: Some(0),
            extra: Default::default(),
        }],
        usage_metadata: Some(encode_usage(&resp.usage)),
        model_version: Some(resp.model.clone()).filter(|m| !m.is_empty()),
        response_id: Some(resp.id.clone()).filter(|id| !id.is_empty()),
        ..GeminiResponse::default()
    };
    serde_json::to_vec(&wire).unwrap_or_default()
}

// ---------------------------------------------------------------------------- stop and usage

const FILTERED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

pub fn decode_stop(reason: &str, has_call: bool) -> StopReason {
    match reason {
        "STOP" if has_call => StopReason::ToolUse,
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        r if FILTERED.contains(&r) => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

pub fn encode_stop(stop: &StopReason) -> &str {
    match stop {
        StopReason::MaxTokens => "MAX_TOKENS",
        StopReason::ContentFilter => "SAFETY",
        StopReason::Other(r)
            if !r.is_empty() && r.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
        {
            r
        }
        StopReason::Other(_) => "OTHER",
        StopReason::EndTurn
        | StopReason::StopSequence(_)
        | StopReason::ToolUse
        | StopReason::PauseTurn => "STOP",
    }
}

pub fn decode_usage(u: GeminiUsage) -> Usage {
    let thoughts = u.thoughts_token_count.unwrap_or(0);
    Usage {
        input_tokens: u.prompt_token_count.unwrap_or(0)
            + u.tool_use_prompt_token_count.unwrap_or(0),
        output_tokens: u.candidates_token_count.unwrap_or(0) + thoughts,
        cache_read_tokens: u.cached_content_token_count.unwrap_or(0),
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
    }
}

pub fn encode_usage(u: &Usage) -> GeminiUsage {
    GeminiUsage {
        prompt_token_count: Some(u.input_tokens),
        candidates_token_count: Some(u.output_tokens.saturating_sub(u.reasoning_tokens)),
        total_token_count: Some(u.total()),
        cached_content_token_count: (u.cache_read_tokens > 0).then_some(u.cache_read_tokens),
        thoughts_token_count: (u.reasoning_tokens > 0).then_some(u.reasoning_tokens),
        tool_use_prompt_token_count: None,
    }
}

// ------------------------------------------------------------------------------------ errors

fn kind_from_status(status: &str) -> Option<ErrorKind> {
    Some(match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::Permission,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimit,
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" | "CANCELLED" => ErrorKind::Server,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        _ => return None,
    })
}

fn kind_from_http(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimit,
        503 | 529 => ErrorKind::Overloaded,
        504 => ErrorKind::Timeout,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::InvalidRequest,
    }
}

fn status_of(kind: ErrorKind) -> (u16, &'static str) {
    match kind {
        ErrorKind::InvalidRequest => (400, "INVALID_ARGUMENT"),
        ErrorKind::Authentication => (401, "UNAUTHENTICATED"),
        ErrorKind::Permission => (403, "PERMISSION_DENIED"),
        ErrorKind::NotFound => (404, "NOT_FOUND"),
        ErrorKind::RateLimit => (429, "RESOURCE_EXHAUSTED"),
        ErrorKind::Overloaded => (503, "UNAVAILABLE"),
        ErrorKind::Server => (500, "INTERNAL"),
        ErrorKind::Timeout => (504, "DEADLINE_EXCEEDED"),
    }
}

/// The error object inside a body or stream chunk, as an IR error.
pub fn error_from_body(err: &GeminiErrorBody, http: Option<u16>) -> StreamError {
    let http = http.or(err.code);
    let kind = err
        .status
        .as_deref()
        .and_then(kind_from_status)
        .or_else(|| http.map(kind_from_http))
        .unwrap_or(ErrorKind::Server);
    StreamError {
        status: http,
        kind,
        message: err.message.clone(),
    }
}

/// Decode an upstream error body (`{"error":{...}}`, also wrapped in an array as the non-SSE
/// stream sends it). A body of another shape keeps its text as the message.
pub fn decode_error(status: u16, body: &[u8]) -> StreamError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let object = match parsed {
        Some(Value::Array(mut items)) if !items.is_empty() => Some(items.swap_remove(0)),
        other => other,
    };
    if let Some(env) = object.and_then(|v| serde_json::from_value::<GeminiErrorEnvelope>(v).ok()) {
        return error_from_body(&env.error, Some(status));
    }
    let text = String::from_utf8_lossy(body).trim().to_string();
    StreamError {
        status: Some(status),
        kind: kind_from_http(status),
        message: if text.is_empty() {
            format!("upstream returned HTTP {status}")
        } else {
            text
        },
    }
}

/// The error object for a client, and its HTTP status.
pub fn error_body(err: &StreamError) -> (u16, GeminiErrorEnvelope) {
    let (default_code, status) = status_of(err.kind);
    let code = err.status.unwrap_or(default_code);
    let env = GeminiErrorEnvelope {
        error: GeminiErrorBody {
            code: Some(code),
            message: err.message.clone(),
            status: Some(status.to_string()),
            extra: Default::default(),
        },
    };
    (code, env)
}

/// Encode an error body for a Gemini client.
pub fn encode_error(err: &StreamError) -> (u16, Vec<u8>) {
    let (code, env) = error_body(err);
    (code, serde_json::to_vec(&env).unwrap_or_default())
}
