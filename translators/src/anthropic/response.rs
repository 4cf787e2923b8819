//! Anthropic whole responses, usage, stop reasons and error bodies ↔ IR. Pure.
//!
//! Usage: IR `input_tokens` = Anthropic `input_tokens` + `cache_read_input_tokens` +
//! `cache_creation_input_tokens`; the encoder subtracts them again. Stop reasons and error
//! classes follow the tables on [`crate::ir::StopReason`] and [`crate::ir::ErrorKind`]
//! (`overloaded_error` is 529; `Timeout` goes out as Anthropic's `timeout_error` / 504, not
//! the table's `api_error`, so that an in-stream error, which has no status, keeps its class;
//! `timeout_error` and `api_error` with status 504 decode as `Timeout`; `request_too_large`
//! and `billing_error` keep their 413 / 402 status).

use super::blocks::{block_to_part, part_to_block};
use super::wire::*;
use crate::ir::{EncodeContext, ErrorKind, Part, Response, StopReason, StreamError, Usage};
use crate::TranslateError;

/// Decode an upstream's non-stream `message` body.
pub fn decode_response(body: &[u8]) -> Result<Response, TranslateError> {
    let msg: AnthropicMessagesResponse =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidBody {
            protocol: "anthropic",
            message: e.to_string(),
        })?;
    Ok(Response {
        id: msg.id,
        model: msg.model,
        parts: msg.content.into_iter().map(block_to_part).collect(),
        stop: stop_in(msg.stop_reason.as_deref(), msg.stop_sequence),
        usage: usage_in(&msg.usage),
    })
}

/// Encode a whole response for an Anthropic client.
pub fn encode_response(resp: &Response, ctx: &mut EncodeContext) -> Vec<u8> {
    let content: Vec<AnthropicContentBlock> =
        resp.parts.iter().filter_map(response_block).collect();
    let has_tool_use = resp.parts.iter().any(|p| matches!(p, Part::ToolCall(_)));
    let (stop_reason, stop_sequence) = stop_out(&resp.stop, has_tool_use);
    let msg = AnthropicMessagesResponse {
        id: if resp.id.is_empty() {
            ctx.next_id("msg")
        } else {
            resp.id.clone()
        },
        kind: "message".into(),
        role: "assistant".into(),
        model: resp.model.clone(),
        content,
        stop_reason: Some(stop_reason.into()),
        stop_sequence,
        usage: usage_out(&resp.usage),
        extra: Default::default(),
    };
    serde_json::to_vec(&msg).unwrap_or_default()
}

/// A response part as a block: thinking keeps a `signature` field (empty when the upstream
/// gave none) because Anthropic's SDKs expect one.
pub(crate) fn response_block(part: &Part) -> Option<AnthropicContentBlock> {
    match part {
        Part::Thinking {
            text,
            signature: None,
        } => Some(Lenient::Known(AnthropicKnownBlock::Thinking {
            thinking: text.clone(),
            signature: Some(String::new()),
        })),
        // Tool results and inputs never appear in a response.
        Part::ToolResult(_) => None,
        other => part_to_block(other),
    }
}

/// Stop reason table (see [`StopReason`]).
pub(crate) fn stop_in(reason: Option<&str>, sequence: Option<String>) -> StopReason {
    match reason {
        None | Some("end_turn") => StopReason::EndTurn,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("stop_sequence") => StopReason::StopSequence(sequence),
        Some("tool_use") => StopReason::ToolUse,
        Some("refusal") => StopReason::ContentFilter,
        Some("pause_turn") => StopReason::PauseTurn,
        Some(other) => StopReason::Other(other.into()),
    }
}

/// `(stop_reason, stop_sequence)`. A turn that called tools says `tool_use` whatever the
/// upstream said (Gemini says `STOP`), or the client would not run them.
pub(crate) fn stop_out(stop: &StopReason, has_tool_use: bool) -> (&'static str, Option<String>) {
    match stop {
        _ if has_tool_use && matches!(stop, StopReason::EndTurn | StopReason::Other(_)) => {
            ("tool_use", None)
        }
        StopReason::EndTurn => ("end_turn", None),
        StopReason::MaxTokens => ("max_tokens", None),
        StopReason::StopSequence(s) => ("stop_sequence", s.clone()),
        StopReason::ToolUse => ("tool_use", None),
        StopReason::ContentFilter => ("refusal", None),
        StopReason::PauseTurn => ("pause_turn", None),
        StopReason::Other(_) => ("end_turn", None),
    }
}

pub(crate) fn usage_in(u: &AnthropicUsage) -> Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let write = u.cache_creation_input_tokens.unwrap_or(0);
    Usage {
        input_tokens: u.input_tokens.unwrap_or(0) + read + write,
        output_tokens: u.output_tokens.unwrap_or(0),
        cache_read_tokens: read,
        cache_write_tokens: write,
        reasoning_tokens: 0,
    }
}

pub(crate) fn usage_out(u: &Usage) -> AnthropicUsage {
    AnthropicUsage {
        input_tokens: Some(
            u.input_tokens
                .saturating_sub(u.cache_read_tokens)
                .saturating_sub(u.cache_write_tokens),
        ),
        cache_creation_input_tokens: Some(u.cache_write_tokens),
        cache_read_input_tokens: Some(u.cache_read_tokens),
        output_tokens: Some(u.output_tokens),
    }
}

// ------------------------------------------------------------------------------------- errors

fn kind_in(error_type: &str, status: u16) -> ErrorKind {
    match error_type {
        "invalid_request_error" | "request_too_large" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" | "billing_error" => ErrorKind::Permission,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimit,
        "overloaded_error" => ErrorKind::Overloaded,
        "timeout_error" => ErrorKind::Timeout,
        "api_error" if status == 504 => ErrorKind::Timeout,
        "api_error" => ErrorKind::Server,
        _ => kind_from_status(status),
    }
}

fn kind_from_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Authentication,
        402 | 403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimit,
        503 | 529 => ErrorKind::Overloaded,
        504 => ErrorKind::Timeout,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Server,
    }
}

/// `(error.type, HTTP status)` per the [`ErrorKind`] table.
pub(crate) fn kind_out(kind: ErrorKind) -> (&'static str, u16) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", 400),
        ErrorKind::Authentication => ("authentication_error", 401),
        ErrorKind::Permission => ("permission_error", 403),
        ErrorKind::NotFound => ("not_found_error", 404),
        ErrorKind::RateLimit => ("rate_limit_error", 429),
        ErrorKind::Overloaded => ("overloaded_error", 529),
        ErrorKind::Server => ("api_error", 500),
        // Anthropic's own type for 504 (the IR table says api_error, which a stream, having
        // no status, could not tell from Server).
        ErrorKind::Timeout => ("timeout_error", 504),
    }
}

/// An upstream error body (any status). A body that is not Anthropic's error JSON is kept as
/// the message (at most 512 bytes) and classified by status.
pub fn decode_error(status: u16, body: &[u8]) -> StreamError {
    match serde_json::from_slice::<AnthropicErrorBody>(body) {
        Ok(b) => StreamError {
            status: Some(status),
            kind: kind_in(&b.error.kind, status),
            message: b.error.message,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let mut end = text.len().min(512);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            StreamError {
                status: Some(status),
                kind: kind_from_status(status),
                message: text[..end].trim().to_string(),
            }
        }
    }
}

pub(crate) fn error_body(err: &StreamError) -> AnthropicErrorBody {
    AnthropicErrorBody {
        kind: "error".into(),
        error: AnthropicErrorDetail {
            kind: kind_out(err.kind).0.into(),
            message: err.message.clone(),
        },
        extra: Default::default(),
    }
}

/// A client error body and its status. The status follows the kind (an OpenAI 503 overload
/// is a 529 here); a 4xx the upstream gave for an invalid request or permission problem (413,
/// 402, 422) is kept.
pub fn encode_error(err: &StreamError) -> (u16, Vec<u8>) {
    let (_, default_status) = kind_out(err.kind);
    let status = match (err.kind, err.status) {
        (ErrorKind::InvalidRequest | ErrorKind::Permission, Some(s)) if (400..500).contains(&s) => {
            s
        }
        _ => default_status,
    };
    (
        status,
        serde_json::to_vec(&error_body(err)).unwrap_or_default(),
    )
}
