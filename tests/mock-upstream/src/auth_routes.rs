//! Scripted OAuth endpoints under `/_auth/` for the login tests (every request is journaled
//! with account `auth:<route>` so a test can read its headers and form):
//!
//! | request | answer |
//! |---|---|
//! | `POST /_auth/device/code` (form `client_id`) | RFC 8628 device authorization, `interval` 2 s, `device_code` `dc-<client_id>` |
//! | `POST /_auth/device/token` | by `client_id`: `slow` answers `authorization_pending`, then `slow_down`, then tokens; `expire` answers `expired_token`; anything else tokens at once. A `refresh_token` grant answers rotated tokens |
//! | `POST /_auth/oauth/token` | iFlow's code and refresh grants; requires HTTP Basic `client_id:client_secret` (else 401 `invalid_client`) |
//! | `GET /_auth/api/oauth/getUserInfo?accessToken=T` | `{"success":true,"data":{"apiKey":"sk-iflow-<T>","email":..}}` |
//! | `GET/POST /_auth/api/openapi/apikey` with `Cookie: BXAuth=..` | iFlow's cookie key API: GET masks the key, POST `{"name"}` returns it whole |
//! | `POST /_auth/api/accounts/deviceauth/usercode` `{"client_id"}` | OpenAI's device login: `device_auth_id` `da-<client_id>`, `user_code` `OPEN-AI42`, `interval` `"0"` |
//! | `POST /_auth/api/accounts/deviceauth/token` `{"device_auth_id","user_code"}` | 403 on the first poll of a code, then `authorization_code` `ac-<id>` and `code_verifier` `ver-<id>` |
//! | `POST /_auth/openai/token` | that code's exchange: needs the matching `code_verifier` and a redirect URI ending in `/_auth/deviceauth/callback`, else `invalid_grant` |
//! | `POST /_auth/google/keys` `{"client_email","n","e"}` (base64url big-endian) | registers a service account's RSA public key (kept in the journal) |
//! | `POST /_auth/google/token` (RFC 7523 JWT-bearer grant) | verifies the RS256 assertion with the key registered for its `iss`, and its `aud`: `{"access_token":"ya29.<iss>-<n>","expires_in":3600}`, else 400 `invalid_grant` |
//!
//! Tokens are `at-<client_id>-<n>` / `rt-<client_id>-<n>` (`<client_id>-refreshed` for a
//! refresh grant) with `n` counting the grants of that route since the last reset.

use crate::journal::journal_plain;
use crate::plan::{Planned, JSON};
use crate::routes::query_param;
use crate::state::State;
use serde_json::{json, Value};

/// Answers one `/_auth/` request.
pub fn handle(state: &State, parts: &http::request::Parts, body: &[u8]) -> Planned {
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let text = String::from_utf8_lossy(body);
    let form = |k: &str| query_param(&text, k).unwrap_or_default();
    let client_id = form("client_id");
    let route = format!("auth:{}", path.trim_start_matches("/_auth/"));
    journal_plain(state, parts, &route, body);
    // Requests of this route so far, this one included.
    let seen = |route: &str, needle: &str| {
        state
            .journal(Some(&format!("auth:{route}")))
            .iter()
            .filter(|e| e.body.as_deref().is_some_and(|b| b.contains(needle)))
            .count()
    };
    match (parts.method.as_str(), path) {
        ("POST", "/_auth/device/code") => ok(json!({
            "device_code": format!("dc-{client_id}"),
            "user_code": "MOCK-CODE",
            "verification_uri": "http://127.0.0.1/verify",
            "verification_uri_complete": "http://127.0.0.1/verify?user_code=MOCK-CODE",
            "expires_in": 600,
            "interval": 2,
        })),
        ("POST", "/_auth/device/token") => {
            let grants = seen("device/token", &format!("client_id={client_id}"));
            if form("grant_type") == "refresh_token" {
                return tokens(&format!("{client_id}-refreshed"), grants);
            }
            match (client_id.as_str(), grants) {
                ("slow", 1) => oauth_error("authorization_pending"),
                ("slow", 2) => oauth_error("slow_down"),
                ("expire", _) => oauth_error("expired_token"),
                _ => tokens(&client_id, grants),
            }
        }
        ("POST", "/_auth/oauth/token") => {
            let Some((id, _secret)) = basic_auth(parts) else {
                return Planned::json(401, JSON, json!({"error": "invalid_client"}).to_string());
            };
            let grants = seen("oauth/token", "grant_type=");
            match form("grant_type").as_str() {
                "refresh_token" => tokens(&format!("{id}-refreshed"), grants),
                _ => tokens(&id, grants),
            }
        }
        ("GET", "/_auth/api/oauth/getUserInfo") => {
            let token = query_param(query, "accessToken").unwrap_or_default();
            ok(json!({"success": true, "data": {
                "apiKey": format!("sk-iflow-{token}"),
                "email": "user@iflow.test",
                "phone": "",
            }}))
        }
        (method, "/_auth/api/openapi/apikey") => {
            let cookie = parts
                .headers
                .get("cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !cookie.contains("BXAuth=") {
                return ok(json!({"success": false, "message": "not logged in"}));
            }
            let key = if method == "POST" {
                "sk-iflow-from-cookie"
            } else {
                "sk-if****ookie"
            };
            ok(json!({"success": true, "data": {
                "name": "cookie-user", "apiKey": key, "expireTime": "2099-01-01 00:00",
            }}))
        }
        ("POST", "/_auth/api/accounts/deviceauth/usercode") => {
            let v: Value = serde_json::from_slice(body).unwrap_or_default();
            let id = v
                .get("client_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            ok(
                json!({"device_auth_id": format!("da-{id}"), "user_code": "OPEN-AI42",
                      "interval": "0"}),
            )
        }
        ("POST", "/_auth/api/accounts/deviceauth/token") => {
            let v: Value = serde_json::from_slice(body).unwrap_or_default();
            let id = v
                .get("device_auth_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if v.get("user_code").and_then(Value::as_str) != Some("OPEN-AI42") {
                return Planned::json(400, JSON, json!({"error": "bad user code"}).to_string());
            }
            // The first poll of a device code is not approved yet.
            if seen("api/accounts/deviceauth/token", id) < 2 {
                return Planned::json(403, JSON, json!({"error": "pending"}).to_string());
            }
            ok(json!({"authorization_code": format!("ac-{id}"),
                      "code_challenge": "unused", "code_verifier": format!("ver-{id}")}))
        }
        ("POST", "/_auth/openai/token") => {
            let grants = seen("openai/token", "grant_type=");
            let code = form("code");
            let redirect = form("redirect_uri");
            let good = form("grant_type") == "authorization_code"
                && code.strip_prefix("ac-").map(|id| format!("ver-{id}"))
                    == Some(form("code_verifier"))
                && redirect.ends_with("/_auth/deviceauth/callback");
            if !good {
                return oauth_error("invalid_grant");
            }
            tokens(&client_id, grants)
        }
        ("POST", "/_auth/google/keys") => ok(json!({"ok": true})),
        ("POST", "/_auth/google/token") => {
            google_token(state, &form("grant_type"), &form("assertion"))
        }
        _ => Planned::json(
            404,
            JSON,
            json!({"error": "unknown /_auth/ route"}).to_string(),
        ),
    }
}

fn ok(v: Value) -> Planned {
    Planned::json(200, JSON, v.to_string())
}

fn oauth_error(code: &str) -> Planned {
    Planned::json(400, JSON, json!({"error": code}).to_string())
}

fn tokens(client_id: &str, n: usize) -> Planned {
    ok(json!({
        "access_token": format!("at-{client_id}-{n}"),
        "refresh_token": format!("rt-{client_id}-{n}"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "mock",
    }))
}

/// `Authorization: Basic base64(id:secret)` decoded.
fn basic_auth(parts: &http::request::Parts) -> Option<(String, String)> {
    let v = parts.headers.get("authorization")?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let raw = decode_base64(b64.trim())?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The JWT-bearer grant: the assertion must verify with the key registered for its `iss`.
fn google_token(state: &State, grant_type: &str, assertion: &str) -> Planned {
    if grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return oauth_error("unsupported_grant_type");
    }
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return oauth_error("invalid_grant");
    };
    let json_part = |p: &str| -> Value {
        decode_base64(p)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    };
    let (header, claims) = (json_part(h), json_part(c));
    let iss = claims["iss"].as_str().unwrap_or_default().to_owned();
    let key = state
        .journal(Some("auth:google/keys"))
        .into_iter()
        .rev()
        .filter_map(|e| serde_json::from_str::<Value>(e.body.as_deref().unwrap_or("")).ok())
        .find(|k| k["client_email"] == iss.as_str());
    let (Some(key), Some(sig)) = (key, decode_base64(sig)) else {
        return oauth_error("invalid_grant");
    };
    let field = |k: &str| decode_base64(key[k].as_str().unwrap_or_default()).unwrap_or_default();
    let public = ring::signature::RsaPublicKeyComponents {
        n: field("n"),
        e: field("e"),
    };
    let verified = public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{h}.{c}").as_bytes(),
            &sig,
        )
        .is_ok();
    let aud_ok = claims["aud"]
        .as_str()
        .is_some_and(|a| a.ends_with("/_auth/google/token"));
    if !verified || header["alg"] != "RS256" || !aud_ok || claims["scope"].as_str().is_none() {
        return oauth_error("invalid_grant");
    }
    let n = state.journal(Some("auth:google/token")).len();
    ok(json!({
        "access_token": format!("ya29.{iss}-{n}"),
        "expires_in": 3600,
        "token_type": "Bearer",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic_credentials() {
        assert_eq!(
            decode_base64("aWQ6c2VjcmV0").as_deref(),
            Some(&b"id:secret"[..])
        );
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(decode_base64("!"), None);
    }
}
