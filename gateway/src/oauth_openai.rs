//! Account builders for the OpenAI-Chat channels of Kimi and iFlow (on
//! [`crate::oauth::file_account`]; Qwen's builder stays in `oauth.rs`).
//!
//! Contract: built off the hot path from one auth file; the credential is never copied into
//! the account (Kimi's access token comes from the refresh service on every attempt; iFlow's
//! `api_key` is the account key, re-read when its file changes).

use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind, Secret};

/// A Kimi account: OpenAI Chat at `https://api.kimi.com/coding/v1` (`base-url` overridable)
/// with Bearer and the `X-Msh-*` device headers of the login that made the file.
pub fn kimi_account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let mut a =
        crate::oauth::file_account(file, record, ProviderKind::OpenAiCompat, &provider.base_url);
    a.provider_name = ProviderId::Kimi.name().into();
    let device_id = record
        .raw()
        .get("device_id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    for (k, v) in switchyard_auth::login::kimi::device_headers(device_id) {
        a.headers.entry(k.to_owned()).or_insert(v);
    }
    a
}

/// An iFlow account: OpenAI Chat at `https://apis.iflow.cn/v1` with the file's `api_key` as
/// Bearer (refresh re-fetches the key into the file).
pub fn iflow_account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let mut a =
        crate::oauth::file_account(file, record, ProviderKind::OpenAiCompat, &provider.base_url);
    a.provider_name = ProviderId::Iflow.name().into();
    a.api_key = Secret::new(record.api_key().unwrap_or_default());
    a
}
