//! Upstream request bodies: what each provider requires before it answers.

use serde_json::Value;

use super::{json, s, snippet, Check};
use switchyard_translators::ir::Protocol;

// ------------------------------------------------------------------------------ requests

/// An upstream request body has what the provider requires: Anthropic `model`, `max_tokens`
/// and non-empty `messages` whose first non-system turn is the user's (consecutive turns of
/// one role are allowed: the API merges them; `system` turns inside `messages` are what Claude
/// Code itself sends); Chat `model` and `messages`; Responses `model` and `input`; Gemini
/// `contents` (roles `user`/`model`) and no `model` (it is in the URL). Replayed reasoning
/// must be acceptable: Anthropic thinking blocks signed, Gemini function calls with a
/// `thoughtSignature` (Gemini 3 requires one; Google documents a dummy for calls from
/// elsewhere), Responses reasoning items with `encrypted_content` when `store` is false (the
/// API cannot look them up).
pub fn request(upstream: Protocol, body: &[u8]) -> Check {
    let v = json(body)?;
    match upstream {
        Protocol::Anthropic => {
            ensure!(v["model"].is_string(), "model", "missing");
            ensure!(v["max_tokens"].is_u64(), "max_tokens required", "missing");
            let msgs = v["messages"].as_array().cloned().unwrap_or_default();
            ensure!(!msgs.is_empty(), "messages", "none");
            for m in &msgs {
                ensure!(
                    matches!(s(m, "role"), "user" | "assistant" | "system"),
                    "message roles",
                    "{}",
                    s(m, "role")
                );
            }
            for b in msgs
                .iter()
                .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
            {
                match s(&b, "type") {
                    "thinking" => ensure!(
                        !s(&b, "signature").is_empty(),
                        "thinking blocks are signed",
                        "the API rejects unsigned thinking: {}",
                        snippet(&b.to_string())
                    ),
                    "redacted_thinking" => {
                        ensure!(!s(&b, "data").is_empty(), "redacted_thinking data", "{b}")
                    }
                    _ => {}
                }
            }
            let first = msgs.iter().find(|m| m["role"] != "system");
            ensure!(
                first.is_some_and(|m| m["role"] == "user"),
                "first turn is the user's",
                "{:?}",
                first.map(|m| &m["role"])
            );
        }
        Protocol::OpenAiChat => {
            ensure!(v["model"].is_string(), "model", "missing");
            ensure!(
                v["messages"].as_array().is_some_and(|m| !m.is_empty()),
                "messages",
                "none"
            );
        }
        Protocol::OpenAiResponses => {
            ensure!(v["model"].is_string(), "model", "missing");
            ensure!(
                v["input"].is_array() || v["input"].is_string(),
                "input",
                "missing"
            );
            for it in v["input"].as_array().into_iter().flatten() {
                if s(it, "type") == "reasoning" && v["store"] == Value::Bool(false) {
                    ensure!(
                        it["encrypted_content"].is_string(),
                        "reasoning items carry encrypted_content",
                        "without it (store: false) the API looks the id up and fails: {}",
                        snippet(&it.to_string())
                    );
                }
            }
        }
        Protocol::Gemini => {
            ensure!(
                v.get("model").is_none(),
                "no model in the body",
                "{}",
                v["model"]
            );
            let c = v["contents"].as_array().cloned().unwrap_or_default();
            ensure!(!c.is_empty(), "contents", "none");
            for m in &c {
                ensure!(
                    matches!(s(m, "role"), "user" | "model"),
                    "content roles",
                    "{}",
                    s(m, "role")
                );
                if s(m, "role") != "model" {
                    continue;
                }
                for p in m["parts"].as_array().into_iter().flatten() {
                    ensure!(
                        p.get("functionCall").is_none() || p["thoughtSignature"].is_string(),
                        "function calls carry a thoughtSignature",
                        "Gemini 3 rejects a replayed call without one: {}",
                        snippet(&p.to_string())
                    );
                }
            }
        }
    }
    Ok(())
}
