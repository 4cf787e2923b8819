//! Reads the claims of a JWT (an OpenID `id_token`) without verifying it: the token came
//! straight from the provider's token endpoint over TLS, and we only use the claims to name
//! the file and to find the ChatGPT account id, as CLIProxyAPI does.
//!
//! Pure; no I/O. A malformed token yields no claims, never an error: missing claims fall back.

use base64::Engine;
use serde_json::{Map, Value};

/// The payload of `token` as a JSON object, or an empty map.
pub fn claims(token: &str) -> Map<String, Value> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Map::new();
    };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = match engine.decode(payload.trim_end_matches('=')) {
        Ok(b) => b,
        Err(_) => return Map::new(),
    };
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A non-empty string claim.
pub fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// OpenAI's namespaced claim object `https://api.openai.com/auth`, field `name`
/// (`chatgpt_account_id`, `chatgpt_plan_type`).
pub fn openai_auth_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get("https://api.openai.com/auth")
        .and_then(Value::as_object)
        .and_then(|o| string_claim(o, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", e.encode("{}"), e.encode(payload))
    }

    #[test]
    fn reads_claims_and_survives_garbage() {
        let c = claims(&jwt(
            r#"{"email":"a@b.c","https://api.openai.com/auth":{"chatgpt_account_id":"acc-1","chatgpt_plan_type":"plus"}}"#,
        ));
        assert_eq!(string_claim(&c, "email").as_deref(), Some("a@b.c"));
        assert_eq!(
            openai_auth_claim(&c, "chatgpt_account_id").as_deref(),
            Some("acc-1")
        );
        assert_eq!(
            openai_auth_claim(&c, "chatgpt_plan_type").as_deref(),
            Some("plus")
        );
        assert!(claims("not a jwt").is_empty());
        assert!(claims("a.!!!.c").is_empty());
        assert!(claims(&jwt("[1]")).is_empty());
    }
}
