//! Answers the gateway gives without an upstream: health, banner, model lists.
//!
//! Pure body builders; `phases/request.rs` writes them.

use crate::protocol::ClientProtocol;
use crate::routing::ListedModel;
use serde_json::{json, Value};
use switchyard_conf::ProviderKind;

pub fn health() -> Value {
    json!({"status": "ok"})
}

pub fn banner() -> Value {
    json!({
        "message": "Switchyard LLM API gateway",
        "endpoints": [
            "POST /v1/chat/completions", "POST /v1/completions", "POST /v1/responses",
            "POST /v1/messages", "POST /v1/messages/count_tokens", "GET /v1/models",
            "POST /v1beta/models/{model}:generateContent",
            "POST /v1beta/models/{model}:streamGenerateContent",
            "POST /v1beta/models/{model}:countTokens", "GET /v1beta/models"
        ]
    })
}

fn owner(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Gemini => "google",
        ProviderKind::Claude => "anthropic",
        ProviderKind::Codex => "openai",
        ProviderKind::OpenAiCompat => "openai-compatible",
    }
}

/// Fixed `created` stamp: the list must not change between calls (clients cache it).
const CREATED: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// The model list in the caller's protocol.
pub fn models(protocol: ClientProtocol, models: &[&ListedModel]) -> Value {
    match protocol {
        ClientProtocol::OpenAi => json!({
            "object": "list",
            "data": models.iter().map(|m| json!({
                "id": m.id, "object": "model", "created": CREATED, "owned_by": owner(m.kind)
            })).collect::<Vec<_>>()
        }),
        ClientProtocol::Anthropic => json!({
            "data": models.iter().map(|m| json!({
                "type": "model", "id": m.id, "display_name": m.id,
                "created_at": "2026-01-01T00:00:00Z"
            })).collect::<Vec<_>>(),
            "has_more": false,
            "first_id": models.first().map(|m| m.id.as_str()),
            "last_id": models.last().map(|m| m.id.as_str()),
        }),
        ClientProtocol::Gemini => json!({
            "models": models.iter().map(|m| gemini_model(m)).collect::<Vec<_>>()
        }),
    }
}

pub fn gemini_model(m: &ListedModel) -> Value {
    json!({
        "name": format!("models/{}", m.id),
        "displayName": m.id,
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"]
    })
}

/// Who is asking for `GET /v1/models`: Gemini callers send `x-goog-api-key` or `?key=`;
/// Anthropic callers send `anthropic-version` or `x-api-key`, or are Claude Code
/// (`User-Agent: claude-cli/...`, CLIProxyAPI's rule); everyone else gets the OpenAI list.
pub fn models_caller(req: &http::request::Parts) -> ClientProtocol {
    let has = |h: &str| req.headers.contains_key(h);
    let ua_claude = req
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("claude-cli"));
    let query_key = req
        .uri
        .query()
        .is_some_and(|q| crate::client_auth::query_param(q, "key").is_some());
    if has("x-goog-api-key") || query_key {
        ClientProtocol::Gemini
    } else if has("anthropic-version") || has("x-api-key") || ua_claude {
        ClientProtocol::Anthropic
    } else {
        ClientProtocol::OpenAi
    }
}
