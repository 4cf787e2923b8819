//! iFlow accounts (auth files of `type: iflow`): OpenAI Chat Completions at
//! `https://apis.iflow.cn/v1` with the file's `api_key` as Bearer; a refresh re-fetches the
//! key into the file, and the refresh service serves the current one. Pure; no I/O.

use super::oauth::file_account;
use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind, Secret};

/// The pool account for an iFlow auth file.
pub fn account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let mut a = file_account(file, record, ProviderKind::OpenAiCompat, &provider.base_url);
    a.provider_name = ProviderId::Iflow.name().into();
    a.api_key = Secret::new(record.api_key().unwrap_or_default());
    a
}
