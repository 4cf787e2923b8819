//! Qwen OAuth accounts (auth files of `type: qwen`): OpenAI Chat Completions at
//! `oauth-overrides.qwen.base-url` when set, else the token's `resource_url`
//! (`https://<resource_url>/v1`), else the portal; Bearer token and Qwen Code's DashScope
//! headers. Pure; no I/O.

use super::oauth::file_account;
use switchyard_auth::{AuthRecord, Provider, ProviderId};
use switchyard_conf::{ApiKeyAccount, ProviderKind};

/// The Qwen Code release whose headers Qwen OAuth requests carry (the pinned test client's).
const QWEN_CODE_VERSION: &str = "0.15.10";

/// The pool account for a Qwen auth file.
pub fn account(file: &str, record: &AuthRecord, provider: &Provider) -> ApiKeyAccount {
    let overridden = provider.base_url != Provider::builtin(ProviderId::Qwen).base_url;
    let base_url = match record.resource_url().filter(|_| !overridden) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => u.to_owned(),
        Some(host) => format!("https://{}/v1", host.trim_end_matches('/')),
        None => provider.base_url.clone(),
    };
    let mut a = file_account(file, record, ProviderKind::OpenAiCompat, &base_url);
    a.provider_name = ProviderId::Qwen.name().into();
    // What Qwen Code sends with its OAuth token (its DashScope provider's `buildHeaders`);
    // the file's own `headers` win.
    let (os, arch) = super::node_platform();
    let ua = format!("QwenCode/{QWEN_CODE_VERSION} ({os}; {arch})");
    for (name, value) in [
        ("user-agent", ua.as_str()),
        ("x-dashscope-cachecontrol", "enable"),
        ("x-dashscope-useragent", ua.as_str()),
        ("x-dashscope-authtype", "qwen-oauth"),
    ] {
        if !a.headers.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            a.headers.insert(name.into(), value.into());
        }
    }
    a
}
