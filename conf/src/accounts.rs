//! Walks the four account lists into [`ApiKeyAccount`]s.
//!
//! `gemini-api-key[]`, `claude-api-key[]` and `codex-api-key[]` entries become one account each
//! (id `<list>[<i>]`). Each `openai-compatibility[i].api-key-entries[j]` becomes one account
//! (id `openai-compatibility[i].api-key-entries[j]`) carrying the provider's name, base URL,
//! prefix, models and headers plus the entry's own proxy; a provider without entries yields one
//! keyless account (id `openai-compatibility[i]`), as CLIProxyAPI allows for local servers. A
//! provider with `disabled: true` is validated but yields no account.
//!
//! Pure; no I/O. Problems land in the [`Walker`]; an entry with an error yields no account.

use std::collections::BTreeMap;

use crate::node::Node;
use crate::schema::{self, Section};
use crate::values;
use crate::walk::{index_path, key_path, Walker};
use crate::{ApiKeyAccount, ModelAlias, ProviderKind, Secret};

/// Fields shared by every kind of entry.
#[derive(Default)]
struct Common {
    base_url: Option<String>,
    prefix: Option<String>,
    headers: BTreeMap<String, String>,
    models: Vec<ModelAlias>,
}

impl Common {
    /// Reads `key` if it is one of the shared fields; `false` if the caller must handle it.
    fn read(
        &mut self,
        w: &mut Walker,
        key: &str,
        value: &Node,
        path: &str,
        models: &Section,
    ) -> bool {
        match key {
            "base-url" => self.base_url = base_url(w, value, path),
            "prefix" => self.prefix = prefix(w, value, path),
            "headers" => self.headers = headers(w, value, path),
            "models" => self.models = model_list(w, value, path, models),
            _ => return false,
        }
        true
    }
}

/// `gemini-api-key`, `claude-api-key` or `codex-api-key`.
pub(crate) fn key_list(
    w: &mut Walker,
    value: &Node,
    path: &str,
    kind: ProviderKind,
    out: &mut Vec<ApiKeyAccount>,
) {
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        if let Some(account) = key_entry(w, entry, &index_path(path, i), kind) {
            out.push(account);
        }
    }
}

fn key_entry(
    w: &mut Walker,
    entry: &Node,
    path: &str,
    kind: ProviderKind,
) -> Option<ApiKeyAccount> {
    let section = match kind {
        ProviderKind::Gemini => &schema::GEMINI_ENTRY,
        ProviderKind::Claude => &schema::CLAUDE_ENTRY,
        ProviderKind::Codex => &schema::CODEX_ENTRY,
        ProviderKind::OpenAiCompat => &schema::COMPAT_ENTRY,
    };
    let errors_before = w.errors.len();
    let entries = w.map(entry, path)?;
    let mut common = Common::default();
    let mut api_key = None;
    let mut proxy = None;
    let mut excluded = Vec::new();
    let mut disable_cooling = false;
    let mut priority = 0;
    let mut weight = 1;
    let mut request_retry = None;
    for (key, value) in entries {
        let p = key_path(path, key);
        if common.read(w, key, value, &p, &schema::MODEL) {
            continue;
        }
        match key.as_str() {
            "api-key" => api_key = Some(w.text(value, &p, true)),
            "proxy-url" => proxy = w.proxy_url(value, &p),
            "excluded-models" => excluded = w.string_list(value, &p),
            "disable-cooling" => disable_cooling = w.bool(value, &p).unwrap_or(false),
            "priority" => priority = read_priority(w, value, &p),
            "weight" => weight = read_weight(w, value, &p),
            "request-retry" => request_retry = read_request_retry(w, value, &p),
            other => w.other_key(section, other, &p),
        }
    }
    let api_key = w.require(api_key, &key_path(path, "api-key"));
    if w.errors.len() > errors_before {
        return None;
    }
    let base_url = common
        .base_url
        .or_else(|| kind.default_base_url().map(str::to_owned))
        .unwrap_or_default();
    Some(ApiKeyAccount {
        kind,
        id: path.to_owned(),
        provider_name: String::new(),
        api_key: Secret::new(api_key.unwrap_or_default()),
        base_url,
        prefix: common.prefix,
        headers: common.headers,
        proxy_url: proxy,
        models: common.models,
        excluded_models: excluded,
        disable_cooling,
        priority,
        weight,
        request_retry,
    })
}

/// Per-account `request-retry`: an integer >= 0.
fn read_request_retry(w: &mut Walker, value: &Node, path: &str) -> Option<u32> {
    w.int(value, path, 0, Some(i128::from(u32::MAX)))
        .and_then(|n| u32::try_from(n).ok())
}

/// `openai-compatibility`.
pub(crate) fn compat_list(w: &mut Walker, value: &Node, path: &str, out: &mut Vec<ApiKeyAccount>) {
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        compat_entry(w, entry, &index_path(path, i), out);
    }
}

/// One `api-key-entries[]` item: id, key, proxy, weight.
type KeyEntry = (String, String, Option<String>, u32);

/// `priority`: any integer (CLIProxyAPI sorts descending).
fn read_priority(w: &mut Walker, value: &Node, path: &str) -> i64 {
    w.int(
        value,
        path,
        i128::from(i64::MIN),
        Some(i128::from(i64::MAX)),
    )
    .and_then(|n| i64::try_from(n).ok())
    .unwrap_or(0)
}

/// `weight`: 0..=1,000,000; CLIProxyAPI treats non-positive as "exclude", so negatives read as 0.
fn read_weight(w: &mut Walker, value: &Node, path: &str) -> u32 {
    match w.int(value, path, i128::from(i64::MIN), Some(1_000_000)) {
        Some(n) => u32::try_from(n.max(0)).unwrap_or(0),
        None => 1,
    }
}

fn compat_entry(w: &mut Walker, entry: &Node, path: &str, out: &mut Vec<ApiKeyAccount>) {
    let errors_before = w.errors.len();
    let Some(entries) = w.map(entry, path) else {
        return;
    };
    let mut common = Common::default();
    let mut name = None;
    let mut disabled = false;
    let mut disable_cooling = false;
    let mut priority = 0;
    let mut request_retry = None;
    let mut keys: Vec<KeyEntry> = Vec::new();
    for (key, value) in entries {
        let p = key_path(path, key);
        if common.read(w, key, value, &p, &schema::COMPAT_MODEL) {
            continue;
        }
        match key.as_str() {
            "name" => name = Some(w.text(value, &p, false)),
            "disabled" => disabled = w.bool(value, &p).unwrap_or(false),
            "disable-cooling" => disable_cooling = w.bool(value, &p).unwrap_or(false),
            "priority" => priority = read_priority(w, value, &p),
            "request-retry" => request_retry = read_request_retry(w, value, &p),
            "api-key-entries" => keys = compat_keys(w, value, &p),
            other => w.other_key(&schema::COMPAT_ENTRY, other, &p),
        }
    }
    let name = w.require(name, &key_path(path, "name")).unwrap_or_default();
    let base_path = key_path(path, "base-url");
    if common.base_url.is_none() && !w.errors.iter().any(|e| e.path == base_path) {
        w.error(&base_path, "required for openai-compatibility providers");
    }
    if w.errors.len() > errors_before || disabled {
        return;
    }
    if keys.is_empty() {
        keys.push((path.to_owned(), String::new(), None, 1));
    }
    for (id, key, proxy, weight) in keys {
        out.push(ApiKeyAccount {
            kind: ProviderKind::OpenAiCompat,
            id,
            provider_name: name.clone(),
            api_key: Secret::new(key),
            base_url: common.base_url.clone().unwrap_or_default(),
            prefix: common.prefix.clone(),
            headers: common.headers.clone(),
            proxy_url: proxy,
            models: common.models.clone(),
            excluded_models: Vec::new(),
            disable_cooling,
            priority,
            weight,
            request_retry,
        });
    }
}

/// `api-key-entries[]`. A missing or empty `api-key` is allowed: a keyless entry that only
/// sets a proxy.
fn compat_keys(w: &mut Walker, value: &Node, path: &str) -> Vec<KeyEntry> {
    let mut out = Vec::new();
    for (j, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, j);
        let Some(fields) = w.map(entry, &p) else {
            continue;
        };
        let mut key = String::new();
        let mut proxy = None;
        let mut weight = 1;
        for (k, v) in fields {
            let kp = key_path(&p, k);
            match k.as_str() {
                "api-key" => key = w.secret(v, &kp).unwrap_or_default(),
                "proxy-url" => proxy = w.proxy_url(v, &kp),
                "weight" => weight = read_weight(w, v, &kp),
                other => w.other_key(&schema::COMPAT_KEY_ENTRY, other, &kp),
            }
        }
        out.push((p, key, proxy, weight));
    }
    out
}

/// `base-url`; empty or absent is `None` (the kind's default, or an error for compat).
fn base_url(w: &mut Walker, value: &Node, path: &str) -> Option<String> {
    let text = w.string(value, path).filter(|t| !t.is_empty())?;
    w.checked(path, values::base_url(&text))
}

fn prefix(w: &mut Walker, value: &Node, path: &str) -> Option<String> {
    let text = w.string(value, path)?;
    w.checked(path, values::prefix(&text)).flatten()
}

/// `headers`: header name to value. Values are never echoed (they may hold credentials).
fn headers(w: &mut Walker, value: &Node, path: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, v) in w.map(value, path).unwrap_or_default() {
        let p = key_path(path, name);
        if !values::header_name_ok(name) {
            w.error(&p, "not a valid HTTP header name");
            continue;
        }
        match v {
            Node::Str(s) if values::header_value_ok(s) => {
                out.insert(name.clone(), s.trim().to_owned());
            }
            Node::Str(_) => w.error(&p, "the value must not contain line breaks or NUL"),
            other => w.error(&p, format!("expected a string, got {}", other.kind())),
        }
    }
    out
}

/// `models[]`: `{name, alias}`; an empty alias means the name itself.
fn model_list(w: &mut Walker, value: &Node, path: &str, section: &Section) -> Vec<ModelAlias> {
    let mut out = Vec::new();
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        let Some(fields) = w.map(entry, &p) else {
            continue;
        };
        let mut name = None;
        let mut alias = None;
        for (k, v) in fields {
            let kp = key_path(&p, k);
            match k.as_str() {
                "name" => name = Some(w.text(v, &kp, false)),
                "alias" => alias = w.string(v, &kp),
                other => w.other_key(section, other, &kp),
            }
        }
        if let Some(name) = w.require(name, &key_path(&p, "name")) {
            let alias = alias
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| name.clone());
            out.push(ModelAlias { name, alias });
        }
    }
    out
}
