//! Codex OAuth accounts (auth files of `type: codex`): the ChatGPT backend's `/responses`
//! (`oauth-overrides.codex.base-url`), Bearer token, and the Codex CLI's `originator` and
//! `chatgpt-account-id` headers. The backend only streams, so a non-stream request is sent as
//! a stream and aggregated. Pure; no I/O.

use super::oauth::file_account;
use switchyard_auth::{AuthRecord, Provider};
use switchyard_conf::{ApiKeyAccount, ProviderKind};

/// `originator` sent with Codex OAuth requests, as the Codex CLI does.
const ORIGINATOR: &str = "codex_cli_rs";

/// The ChatGPT backend answers only streams.
pub const STREAMS_ONLY: bool = true;

/// The pool account for a Codex auth file.
pub fn account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let mut a = file_account(file, record, ProviderKind::Codex, &provider.base_url);
    a.headers.insert("originator".into(), ORIGINATOR.into());
    if let Some(id) = record.account_id() {
        a.headers.insert("chatgpt-account-id".into(), id.to_owned());
    }
    a
}
