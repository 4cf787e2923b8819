//! Kimi OAuth accounts (auth files of `type: kimi`): OpenAI Chat Completions at
//! `https://api.kimi.com/coding/v1` (`base-url` overridable) with a Bearer token and the
//! `X-Msh-*` device headers of the login that made the file. Pure; no I/O.

use super::oauth::file_account;
use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind};

/// The pool account for a Kimi auth file.
pub fn account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let mut a = file_account(file, record, ProviderKind::OpenAiCompat, &provider.base_url);
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
