//! One auth file as a credential: the file's whole JSON object (so fields we do not model
//! survive a rewrite) with typed accessors for the token fields of each provider
//! (cliproxyapi.md §3.3) and the parsed [`FileMeta`].
//!
//! Pure; no I/O. Field layouts: claude/codex/qwen/iflow/kimi keep `access_token`,
//! `refresh_token`, `expired` (RFC 3339) and `last_refresh` at the top level; gemini and
//! antigravity nest an oauth2 token object under `token` with `expiry`. Writers update the
//! layout the file already has.

use crate::meta::FileMeta;
use crate::provider::ProviderId;
use crate::timefmt::{format_rfc3339, parse_rfc3339};
use serde_json::{Map, Value};
use switchyard_conf::Secret;

/// Tokens returned by a token endpoint (login or refresh).
#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    pub access_token: Secret,
    /// `None`: the provider did not rotate it; keep the old one.
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    pub expires_in_secs: Option<u64>,
    pub token_type: Option<String>,
    pub scope: Option<String>,
    /// Qwen: the API host the account must use.
    pub resource_url: Option<String>,
    /// The account's email when the token response names it (Claude's `account`, iFlow's
    /// user info); otherwise it comes from the `id_token`.
    pub email: Option<String>,
    /// iFlow: the API key the account's requests carry (written as `api_key`).
    pub api_key: Option<Secret>,
}

/// A loaded auth file.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRecord {
    /// The path relative to `auth-dir` with `/` separators: the account's stable id.
    pub id: String,
    /// The file's `type`.
    pub file_type: String,
    /// `None` for a type Switchyard does not serve (kept on disk, never used).
    pub provider: Option<ProviderId>,
    pub meta: FileMeta,
    raw: Map<String, Value>,
}

impl AuthRecord {
    /// Parses a file's bytes. `Ok(None)`: valid JSON without a top-level `type` (not a
    /// credential, as in CLIProxyAPI).
    pub fn parse(id: &str, bytes: &[u8]) -> Result<Option<Self>, serde_json::Error> {
        let raw: Map<String, Value> = serde_json::from_slice(bytes)?;
        Ok(Self::from_map(id, raw))
    }

    /// A record from a JSON object; `None` without a non-empty `type`.
    pub fn from_map(id: &str, raw: Map<String, Value>) -> Option<Self> {
        let file_type = raw.get("type").and_then(Value::as_str)?.trim().to_owned();
        if file_type.is_empty() {
            return None;
        }
        Some(Self {
            id: id.to_owned(),
            provider: ProviderId::from_file_type(&file_type),
            meta: FileMeta::parse(&raw),
            file_type,
            raw,
        })
    }

    /// The JSON object as it will be written.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&self.raw).unwrap_or_default();
        out.push(b'\n');
        out
    }

    fn nested(&self) -> Option<&Map<String, Value>> {
        self.raw.get("token").and_then(Value::as_object)
    }

    fn field(&self, name: &str) -> Option<&str> {
        let top = self.raw.get(name).and_then(Value::as_str);
        top.or_else(|| self.nested()?.get(name)?.as_str())
            .filter(|s| !s.is_empty())
    }

    pub fn access_token(&self) -> Option<&str> {
        self.field("access_token")
    }

    pub fn refresh_token(&self) -> Option<&str> {
        self.field("refresh_token")
    }

    pub fn id_token(&self) -> Option<&str> {
        self.field("id_token")
    }

    pub fn email(&self) -> Option<&str> {
        self.field("email")
    }

    /// Codex: the ChatGPT account id (`chatgpt-account-id` header).
    pub fn account_id(&self) -> Option<&str> {
        self.field("account_id")
    }

    /// Qwen: the API host for this account.
    pub fn resource_url(&self) -> Option<&str> {
        self.field("resource_url")
    }

    /// iFlow: the API key the account's requests carry.
    pub fn api_key(&self) -> Option<&str> {
        self.field("api_key")
    }

    /// What the account's upstream requests carry: iFlow's API key, otherwise the access
    /// token.
    pub fn credential(&self) -> Option<&str> {
        match self.provider {
            Some(ProviderId::Iflow) => self.api_key().or_else(|| self.access_token()),
            _ => self.access_token(),
        }
    }

    /// Whether a new access token can be obtained without the user: a refresh token, or
    /// Vertex's service-account key (a JWT-bearer grant).
    pub fn can_refresh(&self) -> bool {
        self.refresh_token().is_some()
            || (self.provider == Some(ProviderId::Vertex)
                && self
                    .raw
                    .get("service_account")
                    .is_some_and(Value::is_object))
    }

    /// Access-token expiry, Unix seconds: top-level `expired` or nested `token.expiry`.
    pub fn expiry(&self) -> Option<i64> {
        let text = self.raw.get("expired").and_then(Value::as_str);
        let text = text.or_else(|| self.nested()?.get("expiry")?.as_str())?;
        parse_rfc3339(text)
    }

    /// `last_refresh`, Unix seconds.
    pub fn last_refresh(&self) -> Option<i64> {
        parse_rfc3339(self.raw.get("last_refresh")?.as_str()?)
    }

    /// Whether the account may be used: not `disabled`, and a known provider.
    pub fn usable(&self) -> bool {
        !self.meta.disabled && self.provider.is_some()
    }

    /// Writes new tokens into the layout this file has; a refresh token that was not rotated
    /// keeps the old one. `now` is Unix seconds.
    pub fn apply_tokens(&mut self, t: &TokenSet, now: i64) {
        let expiry = t
            .expires_in_secs
            .map(|s| format_rfc3339(now.saturating_add(i64::try_from(s).unwrap_or(i64::MAX / 2))));
        let nested = self.nested().is_some();
        let target = if nested {
            match self.raw.get_mut("token").and_then(Value::as_object_mut) {
                Some(m) => m,
                None => return,
            }
        } else {
            &mut self.raw
        };
        let s = |v: &str| Value::String(v.to_owned());
        target.insert("access_token".into(), s(t.access_token.expose()));
        if let Some(r) = &t.refresh_token {
            target.insert("refresh_token".into(), s(r.expose()));
        }
        if let Some(exp) = &expiry {
            target.insert(if nested { "expiry" } else { "expired" }.into(), s(exp));
        }
        if nested {
            if let Some(tt) = &t.token_type {
                target.insert("token_type".into(), s(tt));
            }
        }
        if let Some(id) = &t.id_token {
            self.raw.insert("id_token".into(), s(id.expose()));
        }
        if let Some(k) = &t.api_key {
            self.raw.insert("api_key".into(), s(k.expose()));
        }
        if let Some(u) = &t.resource_url {
            self.raw.insert("resource_url".into(), s(u));
        }
        self.raw
            .insert("last_refresh".into(), s(&format_rfc3339(now)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> AuthRecord {
        AuthRecord::parse("x.json", &serde_json::to_vec(&v).unwrap())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn flat_layout_rewrite_keeps_unknown_fields() {
        let mut r = rec(
            json!({"type": "codex", "access_token": "a1", "refresh_token": "r1",
            "expired": "2026-01-01T00:00:00Z", "custom": {"x": 1}}),
        );
        assert_eq!(r.expiry(), Some(1_767_225_600));
        r.apply_tokens(
            &TokenSet {
                access_token: Secret::new("a2"),
                expires_in_secs: Some(3600),
                ..TokenSet::default()
            },
            1_767_225_600,
        );
        assert_eq!(r.access_token(), Some("a2"));
        assert_eq!(r.refresh_token(), Some("r1"));
        assert_eq!(r.raw()["expired"], "2026-01-01T01:00:00Z");
        assert_eq!(r.raw()["last_refresh"], "2026-01-01T00:00:00Z");
        assert_eq!(r.raw()["custom"], json!({"x": 1}));
    }

    #[test]
    fn nested_gemini_layout() {
        let mut r = rec(json!({"type": "gemini", "email": "e@x", "project_id": "p",
            "token": {"access_token": "a", "refresh_token": "r", "expiry": "2026-01-01T00:00:00Z"}}));
        assert_eq!(r.provider, Some(ProviderId::Gemini));
        assert_eq!(r.access_token(), Some("a"));
        r.apply_tokens(
            &TokenSet {
                access_token: Secret::new("b"),
                refresh_token: Some(Secret::new("r2")),
                expires_in_secs: Some(60),
                ..TokenSet::default()
            },
            0,
        );
        assert_eq!(r.raw()["token"]["access_token"], "b");
        assert_eq!(r.raw()["token"]["refresh_token"], "r2");
        assert_eq!(r.raw()["token"]["expiry"], "1970-01-01T00:01:00Z");
        assert!(r.raw().get("access_token").is_none());
    }

    #[test]
    fn no_type_is_not_a_credential() {
        assert_eq!(AuthRecord::parse("a", b"{\"x\":1}").ok(), Some(None));
        assert!(AuthRecord::parse("a", b"{").is_err());
    }
}
