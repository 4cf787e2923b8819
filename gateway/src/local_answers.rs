//! Answers the gateway gives without an upstream: health, banner, model lists.
//!
//! Pure body builders; `phases/request.rs` writes them.

use crate::routing::ListedModel;
use serde_json::{json, Value};
use switchyard_conf::ProviderKind;
use switchyard_translators::ir::Protocol;

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

/// Fixed `created` stamp for models without catalog metadata: the list must not change
/// between calls (clients cache it).
const CREATED: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// The model list in the caller's protocol. Catalog metadata (OAuth channels) fills the
/// fields each shape has: OpenAI `created`/`owned_by`; Anthropic `display_name`/`created_at`;
/// Gemini `displayName`/`inputTokenLimit`/`outputTokenLimit`.
pub fn models(protocol: Protocol, models: &[&ListedModel]) -> Value {
    match protocol {
        Protocol::OpenAiChat | Protocol::OpenAiResponses => json!({
            "object": "list",
            "data": models.iter().map(|m| openai_model(m)).collect::<Vec<_>>()
        }),
        Protocol::Anthropic => json!({
            "data": models.iter().map(|m| anthropic_model(m)).collect::<Vec<_>>(),
            "has_more": false,
            "first_id": models.first().map(|m| m.id.as_str()),
            "last_id": models.last().map(|m| m.id.as_str()),
        }),
        Protocol::Gemini => json!({
            "models": models.iter().map(|m| gemini_model(m)).collect::<Vec<_>>()
        }),
    }
}

fn openai_model(m: &ListedModel) -> Value {
    let (created, owned_by) = match &m.meta {
        Some(c) => (c.created, c.owned_by.as_str()),
        None => (CREATED, owner(m.kind)),
    };
    json!({"id": m.id, "object": "model", "created": created, "owned_by": owned_by})
}

fn anthropic_model(m: &ListedModel) -> Value {
    let (name, created) = match &m.meta {
        Some(c) => (c.display_name.as_str(), c.created),
        None => (m.id.as_str(), CREATED),
    };
    json!({
        "type": "model", "id": m.id, "display_name": name,
        "created_at": switchyard_auth::timefmt::format_rfc3339(created)
    })
}

pub fn gemini_model(m: &ListedModel) -> Value {
    let mut v = json!({
        "name": format!("models/{}", m.id),
        "displayName": m.meta.as_ref().map_or(m.id.as_str(), |c| c.display_name.as_str()),
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"]
    });
    if let Some(c) = &m.meta {
        if let Some(n) = c.context_length {
            v["inputTokenLimit"] = json!(n);
        }
        if let Some(n) = c.max_output_tokens {
            v["outputTokenLimit"] = json!(n);
        }
    }
    v
}

/// Who is asking for `GET /v1/models`: Gemini callers send `x-goog-api-key` or `?key=`;
/// Anthropic callers send `anthropic-version` or `x-api-key`, or are Claude Code
/// (`User-Agent: claude-cli/...`, CLIProxyAPI's rule); everyone else gets the OpenAI list.
pub fn models_caller(req: &http::request::Parts) -> Protocol {
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
        Protocol::Gemini
    } else if has("anthropic-version") || has("x-api-key") || ua_claude {
        Protocol::Anthropic
    } else {
        Protocol::OpenAiChat
    }
}
