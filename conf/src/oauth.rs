//! Walks `oauth-overrides:` (a Switchyard key): per OAuth provider, the endpoints and client id
//! a login and refresh use, and the upstream `base-url` its accounts' requests go to. Tests
//! point them at a loopback OpenID provider and mock upstream; corporate setups at a proxy.
//!
//! Pure; no I/O. Provider names are checked against [`OAUTH_PROVIDERS`]; every URL must be an
//! absolute http(s) URL (`antigravity.base-url` may be a comma-separated list of them: its
//! hosts in the order they are tried). Unknown keys are errors with a suggestion, as everywhere else.

use crate::node::Node;
use crate::schema;
use crate::values;
use crate::walk::{key_path, Walker};
use crate::{OAuthOverride, Secret};
use std::collections::BTreeMap;

/// The providers `switchyard login` knows, in the spelling `oauth-overrides` and the CLI use.
pub const OAUTH_PROVIDERS: &[&str] = &[
    "claude",
    "codex",
    "gemini",
    "qwen",
    "kimi",
    "iflow",
    "antigravity",
    "vertex",
];

/// `oauth-overrides: {<provider>: {...}}`.
pub(crate) fn overrides(
    w: &mut Walker,
    value: &Node,
    path: &str,
) -> BTreeMap<String, OAuthOverride> {
    let mut out = BTreeMap::new();
    for (provider, entry) in w.map(value, path).unwrap_or_default() {
        let p = key_path(path, provider);
        if !OAUTH_PROVIDERS.contains(&provider.as_str()) {
            w.error(
                &p,
                format!(
                    "unknown OAuth provider; expected one of {}",
                    OAUTH_PROVIDERS.join(", ")
                ),
            );
            continue;
        }
        // Antigravity's `base-url` may list fallback hosts, tried in order.
        let hosts = provider == "antigravity";
        out.insert(provider.clone(), one(w, entry, &p, hosts));
    }
    out
}

fn one(w: &mut Walker, value: &Node, path: &str, host_list: bool) -> OAuthOverride {
    let mut o = OAuthOverride::default();
    for (key, value) in w.map(value, path).unwrap_or_default() {
        let p = key_path(path, key);
        match key.as_str() {
            "auth-url" => o.auth_url = url(w, value, &p),
            "token-url" => o.token_url = url(w, value, &p),
            "device-url" => o.device_url = url(w, value, &p),
            "base-url" if host_list => o.base_url = url_list(w, value, &p),
            "base-url" => o.base_url = url(w, value, &p),
            "client-id" => o.client_id = w.string(value, &p).filter(|s| !s.is_empty()),
            "client-secret" => {
                o.client_secret = w
                    .secret(value, &p)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
            }
            other => w.other_key(&schema::OAUTH_OVERRIDE, other, &p),
        }
    }
    o
}

/// A comma-separated list of absolute URLs, each checked; kept joined with `,`.
fn url_list(w: &mut Walker, value: &Node, path: &str) -> Option<String> {
    let text = w.string(value, path)?;
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(w.checked(path, values::base_url(part))?);
    }
    (!out.is_empty()).then(|| out.join(","))
}

fn url(w: &mut Walker, value: &Node, path: &str) -> Option<String> {
    let text = w.string(value, path)?;
    w.checked(path, values::base_url(&text))
}
