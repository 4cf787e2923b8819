//! Claude OAuth accounts (auth files of `type: claude`): a Claude subscription reached the way
//! Claude Code reaches it (cliproxyapi.md §2.1 "Claude cloaking").
//!
//! - Path: `/v1/messages?beta=true`, `/v1/messages/count_tokens?beta=true` ([`shape`]).
//! - Headers ([`set_credentials`]): `Authorization: Bearer <token>` and no
//!   `x-api-key`; `anthropic-beta` = Claude Code's base list (with `oauth-2025-04-20`)
//!   followed by the client's own betas. Clients that are not Claude Code also get Claude
//!   Code's identity headers (`anthropic-version: 2023-06-01`, `User-Agent`, `x-app`,
//!   `anthropic-dangerous-direct-browser-access`, the `X-Stainless-*` set, replacing the
//!   client SDK's own); Claude Code keeps its own (`anthropic-version` defaulted if absent).
//! - Body ([`shape`]): for clients that are not Claude Code, the system prompt starts with
//!   Claude Code's identity line and `/v1/messages` gets a `metadata.user_id` in Claude Code's
//!   format (stable per account) when it has none. Everything else stays byte for byte.
//!
//! A real Claude Code client (`User-Agent: claude-cli/...`) keeps its own headers and body;
//! only the credential and the OAuth beta are added. Pure; no I/O.

use super::oauth::file_account;
use super::{Call, Draft};
use crate::accounts::Account;
use bytes::Bytes;
use pingora_error::Result;
use pingora_http::RequestHeader;
use serde_json::Value;
use sha2::{Digest, Sha256};
use switchyard_auth::{AuthRecord, Provider};
use switchyard_conf::{ApiKeyAccount, ProviderKind};

/// The first line of Claude Code's system prompt.
const IDENTITY: &str = "You are Claude Code, Anthropic's official CLI for Claude.";
/// Claude Code's base `anthropic-beta` list for OAuth (CLIProxyAPI v6 `claude_executor.go`).
const BASE_BETAS: [&str; 4] = [
    "claude-code-20250219",
    "oauth-2025-04-20",
    "interleaved-thinking-2025-05-14",
    "fine-grained-tool-streaming-2025-05-14",
];
use super::api_key::ANTHROPIC_VERSION;
/// Claude Code's identity headers (CLIProxyAPI's template values).
const IDENTITY_HEADERS: [(&str, &str); 13] = [
    ("anthropic-version", ANTHROPIC_VERSION),
    ("user-agent", "claude-cli/2.1.81 (external, cli)"),
    ("x-app", "cli"),
    ("anthropic-dangerous-direct-browser-access", "true"),
    ("x-stainless-retry-count", "0"),
    ("x-stainless-runtime-version", "v24.3.0"),
    ("x-stainless-package-version", "0.74.0"),
    ("x-stainless-runtime", "node"),
    ("x-stainless-lang", "js"),
    ("x-stainless-arch", "arm64"),
    ("x-stainless-os", "MacOS"),
    ("x-stainless-timeout", "600"),
    ("x-stainless-helper-method", "stream"),
];

/// The pool account for a Claude auth file.
pub fn account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    file_account(file, record, ProviderKind::Claude, &provider.base_url)
}

/// Whether the request comes from Claude Code itself.
fn from_claude_code(req: &RequestHeader) -> bool {
    req.headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("claude-cli/"))
}

/// `beta=true` in the query; for clients that are not Claude Code, the body cloaked
/// ([`cloak`]). Claude Code's own body goes unchanged (and unread).
pub fn shape(account: &Account, draft: &mut Draft<'_>, call: &Call<'_>) {
    if !draft.query.split('&').any(|p| p == "beta=true") {
        if !draft.query.is_empty() {
            draft.query.push('&');
        }
        draft.query.push_str("beta=true");
    }
    if from_claude_code(call.client) {
        return;
    }
    let body = draft.body.clone().unwrap_or_else(|| (draft.client_body)());
    if let Some(out) = cloak(&body, &account.id, call.count_tokens) {
        draft.body = Some(out);
    }
}

/// Credential and Claude Code headers (instead of the API key's `x-api-key`).
pub fn set_credentials(req: &mut RequestHeader, token: &str) -> Result<()> {
    req.remove_header("x-api-key");
    req.insert_header("authorization", format!("Bearer {token}"))?;
    if !req.headers.contains_key("anthropic-version") {
        req.insert_header("anthropic-version", ANTHROPIC_VERSION)?;
    }
    let client_betas = req
        .headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>();
    req.insert_header("anthropic-beta", merge_betas(&client_betas))?;
    if !from_claude_code(req) {
        let stainless: Vec<String> = req
            .headers
            .keys()
            .map(|k| k.as_str().to_owned())
            .filter(|k| k.starts_with("x-stainless-"))
            .collect();
        for k in stainless {
            req.remove_header(&k);
        }
        for (k, v) in IDENTITY_HEADERS {
            req.insert_header(k, v)?;
        }
    }
    Ok(())
}

fn merge_betas(client: &[String]) -> String {
    let mut out: Vec<&str> = BASE_BETAS.to_vec();
    for b in client {
        if !out.contains(&b.as_str()) {
            out.push(b);
        }
    }
    out.join(",")
}

/// The body with Claude Code's identity (`None`: not JSON). `count_tokens`: the body goes to
/// `count_tokens`, which takes no metadata; `account`: the account id its user id is derived
/// from.
fn cloak(body: &[u8], account: &str, count_tokens: bool) -> Option<Bytes> {
    let parsed: Value = serde_json::from_slice(body).ok()?;
    let mut out = body.to_vec();
    if let Some(system) = identity_system(parsed.get("system")) {
        out = crate::json_path::set(&out, &["system".to_owned()], &system)?;
    }
    let has_user_id = parsed
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .is_some_and(|u| u.as_str().is_some_and(|s| !s.is_empty()));
    if !has_user_id && !count_tokens {
        let id = Value::String(user_id(account)).to_string();
        out = crate::json_path::set(&out, &["metadata".to_owned(), "user_id".to_owned()], &id)?;
    }
    Some(Bytes::from(out))
}

/// The new `system` value (JSON) with the identity block first; `None` when it already is.
fn identity_system(system: Option<&Value>) -> Option<String> {
    let block = |text: &str| serde_json::json!({"type": "text", "text": text});
    let blocks = match system {
        None | Some(Value::Null) => vec![block(IDENTITY)],
        Some(Value::String(s)) if s.starts_with(IDENTITY) => return None,
        Some(Value::String(s)) if s.is_empty() => vec![block(IDENTITY)],
        Some(Value::String(s)) => vec![block(IDENTITY), block(s)],
        Some(Value::Array(items)) => {
            let first = items
                .first()
                .and_then(|b| b.get("text"))
                .and_then(Value::as_str);
            if first.is_some_and(|t| t.starts_with(IDENTITY)) {
                return None;
            }
            let mut v = vec![block(IDENTITY)];
            v.extend(items.iter().cloned());
            v
        }
        Some(_) => return None,
    };
    Some(Value::Array(blocks).to_string())
}

/// Claude Code's `metadata.user_id`: `user_<64 hex>_account__session_<uuid>`, derived from the
/// account id so one account always presents the same user and session.
fn user_id(account: &str) -> String {
    let user = Sha256::digest(format!("switchyard-user:{account}").as_bytes());
    let session = Sha256::digest(format!("switchyard-session:{account}").as_bytes());
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let s = hex(&session[..16]);
    format!(
        "user_{}_account__session_{}-{}-4{}-a{}-{}",
        hex(&user),
        &s[0..8],
        &s[8..12],
        &s[13..16],
        &s[17..20],
        &s[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_goes_first_once() {
        assert_eq!(
            identity_system(None).as_deref(),
            Some(
                r#"[{"text":"You are Claude Code, Anthropic's official CLI for Claude.","type":"text"}]"#
            )
        );
        let s = identity_system(Some(&Value::String("Be brief.".into()))).unwrap_or_default();
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v[0]["text"], IDENTITY);
        assert_eq!(v[1]["text"], "Be brief.");
        assert_eq!(identity_system(Some(&v)), None);
        assert_eq!(identity_system(Some(&Value::String(IDENTITY.into()))), None);
    }

    #[test]
    fn betas_merge_without_duplicates() {
        assert_eq!(
            merge_betas(&["oauth-2025-04-20".into(), "context-1m-2025-08-07".into()]),
            "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14,context-1m-2025-08-07"
        );
    }

    #[test]
    fn user_id_has_claude_codes_shape() {
        let id = user_id("auth-dir/claude-a.json");
        assert_eq!(id, user_id("auth-dir/claude-a.json"));
        assert_ne!(id, user_id("auth-dir/claude-b.json"));
        let (user, session) = id.split_once("_account__session_").unwrap();
        assert_eq!(user.len(), 5 + 64);
        assert_eq!(session.len(), 36);
        assert_eq!(&session[14..15], "4");
    }
}
