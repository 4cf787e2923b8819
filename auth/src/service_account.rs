//! Vertex accounts: a Google service-account key (the `service_account` object of a
//! `vertex-*.json` file) exchanged for an access token by the JWT-bearer grant (RFC 7523):
//! an RS256-signed assertion `{iss: client_email, scope, aud: token_uri, iat, exp}` posted as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=..`.
//!
//! The token endpoint is `oauth-overrides.vertex.token-url` when set, else the key's own
//! `token_uri`, else Google's. The key must be PKCS#8 PEM (what Google issues); signing is
//! `ring`'s. Contract: neither the key nor the assertion nor a token reaches an error message.

use crate::error::AuthError;
use crate::provider::{Provider, ProviderId};
use crate::record::{AuthRecord, TokenSet};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use switchyard_conf::Secret;

/// The grant type of RFC 7523 §2.1.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime asked for in the assertion (Google's maximum).
const LIFETIME_SECS: i64 = 3600;

/// The token endpoint for `record`'s key.
pub fn token_url(p: &Provider, record: &AuthRecord) -> String {
    let builtin = Provider::builtin(ProviderId::Vertex).token_url;
    if p.token_url != builtin {
        return p.token_url.clone();
    }
    sa_field(record, "token_uri").unwrap_or(builtin)
}

fn sa_field(record: &AuthRecord, name: &str) -> Option<String> {
    record
        .raw()
        .get("service_account")?
        .get(name)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The signed assertion for `record`'s key at `now` (Unix seconds) for `aud`.
pub fn assertion(
    record: &AuthRecord,
    scope: &str,
    aud: &str,
    now: i64,
) -> Result<String, AuthError> {
    let (Some(email), Some(pem)) = (
        sa_field(record, "client_email"),
        sa_field(record, "private_key"),
    ) else {
        return Err(AuthError::Config(format!(
            "{}: the service account lacks client_email or private_key",
            record.id
        )));
    };
    let bad_key = || AuthError::Config(format!("{}: the private key is not PKCS#8 RSA", record.id));
    let der = pem_der(&pem).ok_or_else(bad_key)?;
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|_| bad_key())?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
    let claims = b64.encode(
        json!({"iss": email, "scope": scope, "aud": aud, "iat": now, "exp": now + LIFETIME_SECS})
            .to_string(),
    );
    let signing_input = format!("{header}.{claims}");
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| AuthError::Config(format!("{}: signing the assertion failed", record.id)))?;
    Ok(format!("{signing_input}.{}", b64.encode(sig)))
}

/// The DER bytes of a `-----BEGIN PRIVATE KEY-----` block.
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

#[derive(Deserialize)]
struct GoogleTokens {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    token_type: Option<String>,
}

/// One JWT-bearer grant for `record`.
pub async fn grant(
    p: &Provider,
    http: &reqwest::Client,
    record: &AuthRecord,
    now: i64,
) -> Result<TokenSet, AuthError> {
    let url = token_url(p, record);
    let scope = p.scopes.join(" ");
    let jwt = assertion(record, &scope, &url, now)?;
    let bytes = crate::oauth::token_post(
        http.post(&url)
            .form(&[("grant_type", JWT_BEARER), ("assertion", jwt.as_str())]),
    )
    .await?;
    let t: GoogleTokens = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Protocol("token response without access_token".into()))?;
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        expires_in_secs: t.expires_in,
        token_type: t.token_type,
        ..TokenSet::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_decode() {
        let pem = "junk\n-----BEGIN PRIVATE KEY-----\nAAEC\nAw==\n-----END PRIVATE KEY-----\n";
        assert_eq!(pem_der(pem), Some(vec![0, 1, 2, 3]));
        assert_eq!(pem_der("no block"), Some(Vec::new()));
    }

    #[test]
    fn a_bad_key_is_a_config_error_without_the_key() {
        let rec = AuthRecord::from_map(
            "vertex-p.json",
            serde_json::from_value(json!({"type": "vertex", "service_account": {
                "client_email": "sa@p.iam", "private_key": "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----"}}))
            .unwrap_or_default(),
        );
        let err = rec
            .map(|r| assertion(&r, "s", "a", 0))
            .and_then(Result::err)
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("vertex-p.json: the private key is not PKCS#8 RSA")
        );
    }
}
