//! Error bodies in each provider's shape, for schedule steps and bad requests.
//!
//! | status | OpenAI `type` / `code` | Anthropic `error.type` | Gemini `status` |
//! |---|---|---|---|
//! | 400 | `invalid_request_error` / null | `invalid_request_error` | `INVALID_ARGUMENT` |
//! | 401 | `invalid_request_error` / `invalid_api_key` | `authentication_error` | `UNAUTHENTICATED` |
//! | 402 | `insufficient_quota` / `insufficient_quota` | `billing_error` | `FAILED_PRECONDITION` |
//! | 403 | `request_forbidden` / null | `permission_error` | `PERMISSION_DENIED` |
//! | 404 | `invalid_request_error` / `model_not_found` | `not_found_error` | `NOT_FOUND` |
//! | 413 | `invalid_request_error` / `request_too_large` | `request_too_large` | `INVALID_ARGUMENT` |
//! | 429 | `requests` / `rate_limit_exceeded` | `rate_limit_error` | `RESOURCE_EXHAUSTED` |
//! | 500 | `server_error` / null | `api_error` | `INTERNAL` |
//! | 503 | `server_error` / `server_is_overloaded` | `api_error` | `UNAVAILABLE` |
//! | 504 | `server_error` / `timeout` | `timeout_error` | `DEADLINE_EXCEEDED` |
//! | 529 | `server_error` / `server_is_overloaded` | `overloaded_error` | `UNAVAILABLE` |
//! | other 4xx / 5xx | `invalid_request_error` / `server_error` | `invalid_request_error` / `api_error` | `INVALID_ARGUMENT` / `INTERNAL` |

use crate::ordered;
use crate::ordered::Ordered;
use crate::routes::Protocol;
use crate::schedule::InbandKind;

/// OpenAI `(type, code, message)` for a status.
pub fn openai_kind(status: u16) -> (&'static str, Option<&'static str>, &'static str) {
    match status {
        401 => (
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided (mock).",
        ),
        402 => (
            "insufficient_quota",
            Some("insufficient_quota"),
            "You exceeded your current quota (mock).",
        ),
        403 => ("request_forbidden", None, "Request forbidden (mock)."),
        404 => (
            "invalid_request_error",
            Some("model_not_found"),
            "The model does not exist (mock).",
        ),
        413 => (
            "invalid_request_error",
            Some("request_too_large"),
            "Request too large (mock).",
        ),
        429 => (
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached for requests (mock).",
        ),
        503 | 529 => (
            "server_error",
            Some("server_is_overloaded"),
            "The server is overloaded, please try again later (mock).",
        ),
        504 => ("server_error", Some("timeout"), "Request timed out (mock)."),
        s if s >= 500 => (
            "server_error",
            None,
            "The server had an error while processing your request (mock).",
        ),
        _ => ("invalid_request_error", None, "Invalid request (mock)."),
    }
}

fn anthropic_kind(status: u16) -> (&'static str, &'static str) {
    match status {
        401 => ("authentication_error", "invalid x-api-key (mock)"),
        402 => ("billing_error", "Your credit balance is too low (mock)"),
        403 => (
            "permission_error",
            "Your API key does not have permission (mock)",
        ),
        404 => ("not_found_error", "Not found (mock)"),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed size (mock)",
        ),
        429 => (
            "rate_limit_error",
            "Number of requests has exceeded your rate limit (mock)",
        ),
        504 => ("timeout_error", "Request timed out (mock)"),
        529 => ("overloaded_error", "Overloaded"),
        s if s >= 500 => ("api_error", "Internal server error (mock)"),
        _ => ("invalid_request_error", "Invalid request (mock)"),
    }
}

fn gemini_kind(status: u16) -> (&'static str, &'static str) {
    match status {
        401 => (
            "UNAUTHENTICATED",
            "API key not valid. Please pass a valid API key. (mock)",
        ),
        402 => ("FAILED_PRECONDITION", "Billing required (mock)."),
        403 => ("PERMISSION_DENIED", "Permission denied (mock)."),
        404 => ("NOT_FOUND", "Model not found (mock)."),
        429 => (
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota). (mock)",
        ),
        503 | 529 => (
            "UNAVAILABLE",
            "The model is overloaded. Please try again later. (mock)",
        ),
        504 => ("DEADLINE_EXCEEDED", "Deadline exceeded (mock)."),
        s if s >= 500 => ("INTERNAL", "An internal error has occurred. (mock)"),
        _ => (
            "INVALID_ARGUMENT",
            "Request contains an invalid argument. (mock)",
        ),
    }
}

/// The HTTP status an in-band error stands for, per protocol.
pub fn inband_status(kind: InbandKind, protocol: Protocol) -> u16 {
    kind.http_status(protocol == Protocol::Anthropic)
}

/// OpenAI's `error` object (the value of the top-level `error` key).
pub fn openai_error(status: u16, message: Option<&str>) -> Ordered {
    let (kind, code, default) = openai_kind(status);
    ordered!({"message": (message.unwrap_or(default)), "type": kind, "param": null, "code": code})
}

/// Anthropic's `error` object.
pub fn anthropic_error(status: u16, message: Option<&str>) -> Ordered {
    let (kind, default) = anthropic_kind(status);
    ordered!({"type": kind, "message": (message.unwrap_or(default))})
}

/// Gemini's `error` object.
pub fn gemini_error(status: u16, message: Option<&str>) -> Ordered {
    let (kind, default) = gemini_kind(status);
    ordered!({"code": status, "message": (message.unwrap_or(default)), "status": kind})
}

/// The whole default error body for `status` in `protocol`.
pub fn error_body(
    protocol: Protocol,
    status: u16,
    request_id: &str,
    message: Option<&str>,
) -> Ordered {
    match protocol {
        Protocol::OpenAi => ordered!({"error": (openai_error(status, message))}),
        Protocol::Anthropic => {
            ordered!({"type": "error", "error": (anthropic_error(status, message)), "request_id": request_id})
        }
        Protocol::Gemini => ordered!({"error": (gemini_error(status, message))}),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::Value;

    #[test]
    fn shapes() {
        let v: Value =
            serde_json::from_str(&error_body(Protocol::OpenAi, 429, "r", None).compact()).unwrap();
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert!(v["error"]["message"].is_string());
        let v: Value =
            serde_json::from_str(&error_body(Protocol::Anthropic, 529, "r", None).compact())
                .unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "overloaded_error");
        let v: Value =
            serde_json::from_str(&error_body(Protocol::Gemini, 429, "r", Some("x")).compact())
                .unwrap();
        assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(v["error"]["code"], 429);
        assert_eq!(v["error"]["message"], "x");
        assert_eq!(
            inband_status(InbandKind::Overloaded, Protocol::Anthropic),
            529
        );
        assert_eq!(inband_status(InbandKind::Overloaded, Protocol::Gemini), 503);
    }
}
