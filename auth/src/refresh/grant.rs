//! One renewal of an account's credential, by provider: the refresh-token grant (JSON for
//! Claude, see `login/claude.rs`), then iFlow's API-key re-fetch, or Vertex's JWT-bearer
//! grant from the service-account key in the file.
//!
//! Contract: returns the tokens to write into the file; touches neither the file nor the
//! service's state (the caller does both, after a successful write).

use crate::error::AuthError;
use crate::oauth;
use crate::provider::{Provider, ProviderId};
use crate::record::{AuthRecord, TokenSet};

pub(crate) async fn renew(
    p: &Provider,
    http: &reqwest::Client,
    record: &AuthRecord,
    now: i64,
) -> Result<TokenSet, AuthError> {
    if p.id == ProviderId::Vertex {
        return crate::service_account::grant(p, http, record, now).await;
    }
    let Some(refresh_token) = record.refresh_token() else {
        return Err(AuthError::Config(format!(
            "account {} has no refresh token",
            record.id
        )));
    };
    match p.id {
        ProviderId::Kimi => {
            let device_id = record
                .raw()
                .get("device_id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let headers = crate::login::kimi::device_headers(device_id);
            oauth::refresh_with_headers(p, http, refresh_token, &headers).await
        }
        ProviderId::Claude => crate::login::claude::refresh(p, http, refresh_token).await,
        ProviderId::Iflow => crate::login::iflow::refresh(p, http, refresh_token).await,
        _ => oauth::refresh(p, http, refresh_token).await,
    }
}
