//! Configured API keys (`gemini-api-key`, `claude-api-key`, `codex-api-key`,
//! `openai-compatibility`): each provider's own API and credential header. Nothing to build
//! from an auth file, no path, body or response rewrite. Pure; no I/O.

use pingora_error::Result;
use pingora_http::RequestHeader;
use switchyard_conf::ProviderKind;

/// Default `anthropic-version` when the client sends none.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The key in the header the provider's API reads.
pub fn set_credentials(req: &mut RequestHeader, kind: ProviderKind, key: &str) -> Result<()> {
    match kind {
        ProviderKind::Claude => {
            req.insert_header("x-api-key", key)?;
            if !req.headers.contains_key("anthropic-version") {
                req.insert_header("anthropic-version", ANTHROPIC_VERSION)?;
            }
            Ok(())
        }
        ProviderKind::Gemini => req.insert_header("x-goog-api-key", key),
        ProviderKind::Codex | ProviderKind::OpenAiCompat => bearer(req, key),
    }
}

/// `Authorization: Bearer <key>` (none for an empty key: a keyless local server).
pub fn bearer(req: &mut RequestHeader, key: &str) -> Result<()> {
    if !key.is_empty() {
        req.insert_header("authorization", format!("Bearer {key}"))?;
    }
    Ok(())
}
