//! The config through the management API: the whole config (`/config`, secrets masked), the
//! raw file (`/config.yaml`), scalar settings (`{"value": ...}`) and the lists (`api-keys`
//! and the provider key lists). Every write edits one node of the file
//! (`switchyard_conf::edit`) under `LiveConfig`'s lock, is validated by conf and applied
//! before the answer; bad input is a 400 that names the problem and changes nothing.

use super::{mask, Call, Reply};
use crate::live_config::LiveConfig;
use http::Method as M;
use serde_json::{json, Map, Value};
use switchyard_conf::{Config, RoutingStrategy};

/// What a scalar route holds.
#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Count,
    Text,
}

/// `(route, key path, kind, DELETE allowed)`.
const SCALARS: &[(&str, &[&str], Kind, bool)] = &[
    ("/debug", &["debug"], Kind::Bool, false),
    ("/request-retry", &["request-retry"], Kind::Count, false),
    (
        "/max-retry-interval",
        &["max-retry-interval"],
        Kind::Count,
        false,
    ),
    (
        "/max-retry-credentials",
        &["max-retry-credentials"],
        Kind::Count,
        false,
    ),
    (
        "/routing/strategy",
        &["routing", "strategy"],
        Kind::Text,
        false,
    ),
    ("/proxy-url", &["proxy-url"], Kind::Text, true),
    (
        "/force-model-prefix",
        &["force-model-prefix"],
        Kind::Bool,
        false,
    ),
    ("/request-log", &["request-log"], Kind::Bool, false),
    ("/logging-to-file", &["logging-to-file"], Kind::Bool, false),
    (
        "/logs-max-total-size-mb",
        &["logs-max-total-size-mb"],
        Kind::Count,
        false,
    ),
    (
        "/error-logs-max-files",
        &["error-logs-max-files"],
        Kind::Count,
        false,
    ),
    (
        "/usage-statistics-enabled",
        &["usage-statistics-enabled"],
        Kind::Bool,
        false,
    ),
];

/// The value in effect (defaults included), as CLIProxyAPI shows it.
fn current(route: &str, c: &Config) -> Value {
    match route {
        "/debug" => json!(c.debug),
        "/request-retry" => json!(c.request_retry),
        "/max-retry-interval" => json!(c.max_retry_interval_secs),
        "/max-retry-credentials" => json!(c.max_retry_credentials),
        "/routing/strategy" => json!(match c.routing_strategy {
            RoutingStrategy::RoundRobin => "round-robin",
            RoutingStrategy::FillFirst => "fill-first",
            RoutingStrategy::WeightedRoundRobin => "weighted-round-robin",
        }),
        "/proxy-url" => json!(c.proxy_url.as_deref().map(mask_url).unwrap_or_default()),
        "/force-model-prefix" => json!(c.force_model_prefix),
        "/request-log" => json!(c.request_log),
        "/logging-to-file" => json!(c.logging_to_file),
        "/logs-max-total-size-mb" => json!(c.logs_max_total_size_mb),
        "/error-logs-max-files" => json!(c.error_logs_max_files),
        "/usage-statistics-enabled" => json!(c.usage_statistics_enabled),
        _ => Value::Null,
    }
}

/// A proxy URL with its password masked.
fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:****@{host}")
        }
        None => url.to_owned(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueBody {
    value: Value,
}

/// The scalar routes; `None` when `route` is not one.
pub(super) fn scalar(call: &Call, live: &LiveConfig, route: &str) -> Option<Reply> {
    let &(_, path, kind, deletable) = SCALARS.iter().find(|(r, ..)| *r == route)?;
    let name = path.last().copied().unwrap_or_default();
    Some(match call.method {
        M::GET => Reply::ok(json!({ name: current(route, &live.current()) })),
        M::PUT | M::PATCH => {
            let body: ValueBody = match call.json() {
                Ok(b) => b,
                Err(reply) => return Some(reply),
            };
            let ok = match (kind, &body.value) {
                (Kind::Bool, Value::Bool(_)) | (Kind::Text, Value::String(_)) => true,
                (Kind::Count, Value::Number(n)) => n.is_u64(),
                _ => false,
            };
            if !ok {
                let wanted = match kind {
                    Kind::Bool => "a boolean",
                    Kind::Count => "an integer >= 0",
                    Kind::Text => "a string",
                };
                return Some(Reply::bad(format!("value: expected {wanted}")));
            }
            let value = match (kind, body.value) {
                // An empty proxy-url is no proxy-url.
                (Kind::Text, Value::String(s)) if s.trim().is_empty() && deletable => None,
                (_, v) => Some(v),
            };
            edit(live, path, value.as_ref())
        }
        M::DELETE if deletable => edit(live, path, None),
        _ => Reply::error(405, "method not allowed"),
    })
}

/// Edits one node and applies the file.
fn edit(live: &LiveConfig, path: &[&str], value: Option<&Value>) -> Reply {
    match live.update(|text| switchyard_conf::edit::set(text, path, value)) {
        Ok(Ok(_)) => Reply::done(),
        Ok(Err(e)) => e.into(),
        Err(e) => crate::live_config::ConfigError::from(e).into(),
    }
}

pub(super) fn get_config(live: &LiveConfig) -> Reply {
    let text = match live.read() {
        Ok(t) => t,
        Err(e) => return e.into(),
    };
    match switchyard_conf::edit::document_json(&text) {
        Ok(mut doc) => {
            mask_secrets(&mut doc);
            Reply::ok(doc)
        }
        Err(p) => Reply::error(500, p.to_string()),
    }
}

/// Masks every `api-key`, `secret-key` and `client-secret` value, `api-keys` entries and
/// proxy passwords, at any depth.
fn mask_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match (k.as_str(), &mut *child) {
                    ("api-key" | "secret-key" | "client-secret", Value::String(s)) => *s = mask(s),
                    ("api-keys", Value::Array(items)) => {
                        for item in items {
                            if let Value::String(s) = item {
                                *s = mask(s);
                            }
                        }
                    }
                    ("proxy-url", Value::String(s)) => *s = mask_url(s),
                    _ => mask_secrets(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

pub(super) fn get_config_yaml(live: &LiveConfig) -> Reply {
    match live.read() {
        Ok(text) => Reply {
            status: 200,
            body: text.into_bytes(),
            content_type: "application/yaml; charset=utf-8",
            extra: vec![("x-content-type-options", "nosniff".into())],
        },
        Err(e) => e.into(),
    }
}

/// CLIProxyAPI's answers: 400 `invalid_yaml` for a syntax error, 422 `invalid_config` for a
/// config that parses but is wrong; `{"ok": true, "changed": ["config"]}` when applied.
pub(super) fn put_config_yaml(call: &Call, live: &LiveConfig) -> Reply {
    let Ok(text) = std::str::from_utf8(&call.body) else {
        return Reply::json(
            400,
            json!({"error": "invalid_yaml", "message": "the body is not UTF-8"}),
        );
    };
    match live.write(text) {
        Ok(applied) => Reply::ok(json!({
            "ok": true,
            "changed": ["config"],
            "restart-required": applied.at_restart,
        })),
        Err(crate::live_config::ConfigError::Invalid(problems)) => {
            let syntax = problems.len() == 1
                && problems[0].path.is_empty()
                && problems[0].message.starts_with("invalid YAML");
            let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
            Reply::json(
                if syntax { 400 } else { 422 },
                json!({
                    "error": if syntax { "invalid_yaml" } else { "invalid_config" },
                    "message": all.join("; "),
                    "problems": all,
                }),
            )
        }
        Err(e) => e.into(),
    }
}

/// The lists: `api-keys` (strings) and the provider key lists (objects).
const LISTS: &[&str] = &[
    "api-keys",
    "gemini-api-key",
    "claude-api-key",
    "codex-api-key",
    "openai-compatibility",
];

/// The list routes; `None` when `route` is not one.
pub(super) fn list(call: &Call, live: &LiveConfig, route: &str) -> Option<Reply> {
    let key = *LISTS
        .iter()
        .find(|k| route.strip_prefix('/') == Some(**k))?;
    let reply = match call.method {
        M::GET => read_list(live, key).map(|items| {
            let shown: Vec<Value> = items.into_iter().map(masked_item).collect();
            Reply::ok(json!({ key: shown }))
        }),
        M::PUT => put_list(call, live, key),
        M::PATCH => patch_list(call, live, key),
        M::DELETE => delete_from_list(call, live, key),
        _ => Err(Reply::error(405, "method not allowed")),
    };
    Some(reply.unwrap_or_else(|r| r))
}

fn read_list(live: &LiveConfig, key: &str) -> Result<Vec<Value>, Reply> {
    let text = live.read().map_err(Reply::from)?;
    let doc = switchyard_conf::edit::document_json(&text)
        .map_err(|p| Reply::error(500, p.to_string()))?;
    Ok(match doc.get(key) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    })
}

fn masked_item(mut item: Value) -> Value {
    match &mut item {
        Value::String(s) => *s = mask(s),
        other => mask_secrets(other),
    }
    item
}

/// The secret an item carries (`api-keys`: the string; a provider entry: its `api-key`).
fn secret_of(item: &Value) -> Option<&str> {
    match item {
        Value::String(s) => Some(s),
        other => other.get("api-key").and_then(Value::as_str),
    }
}

/// A masked key sent back (a panel PUTs what it got) stands for the one existing key it
/// masks, when exactly one does.
fn unmask(value: &mut Value, existing: &[Value]) {
    let restore = |s: &mut String| {
        let matches: Vec<&str> = existing
            .iter()
            .filter_map(secret_of)
            .filter(|k| mask(k) == *s)
            .collect();
        if let [only] = matches[..] {
            if only != s.as_str() && s.contains("****") {
                *s = only.to_owned();
            }
        }
    };
    match value {
        Value::String(s) => restore(s),
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get_mut("api-key") {
                restore(s);
            }
        }
        _ => {}
    }
}

fn write_list(
    live: &LiveConfig,
    key: &str,
    change: impl FnOnce(&mut Vec<Value>) -> Result<(), Reply>,
) -> Result<Reply, Reply> {
    let result = live.update(|text| {
        let doc = switchyard_conf::edit::document_json(text)
            .map_err(|p| Reply::error(500, p.to_string()))?;
        let mut items = match doc.get(key) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        change(&mut items)?;
        switchyard_conf::edit::set(text, &[key], Some(&Value::Array(items)))
            .map_err(|e| Reply::from(crate::live_config::ConfigError::from(e)))
    })?;
    Ok(match result {
        Ok(_) => Reply::done(),
        Err(e) => e.into(),
    })
}

/// The body of a PUT: an array, or `{"items": [...]}`.
pub(super) fn items_of(call: &Call, key: &str) -> Result<Vec<Value>, Reply> {
    let body: Value = call.json()?;
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut map) if map.len() == 1 && map.contains_key("items") => {
            match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => return Err(Reply::bad("items: expected an array")),
            }
        }
        _ => {
            return Err(Reply::bad(
                "invalid body: expected an array or {\"items\": [...]}",
            ))
        }
    };
    for (i, item) in items.iter().enumerate() {
        let ok = if key == "api-keys" {
            item.is_string()
        } else {
            item.is_object()
        };
        if !ok {
            let wanted = if key == "api-keys" {
                "a string"
            } else {
                "an object"
            };
            return Err(Reply::bad(format!("{key}[{i}]: expected {wanted}")));
        }
    }
    Ok(items)
}

fn put_list(call: &Call, live: &LiveConfig, key: &str) -> Result<Reply, Reply> {
    let mut items = items_of(call, key)?;
    write_list(live, key, |existing| {
        for item in &mut items {
            unmask(item, existing);
        }
        *existing = items;
        Ok(())
    })
}

fn index_in(v: Option<&Value>, len: usize) -> Result<Option<usize>, Reply> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64().and_then(|i| usize::try_from(i).ok()) {
            Some(i) if i < len => Ok(Some(i)),
            _ => Err(Reply::bad(format!("index {n} out of range ({len} items)"))),
        },
        Some(_) => Err(Reply::bad("index: expected an integer")),
    }
}

/// `api-keys`: `{"old", "new"}` (replace, or append when `old` is absent) or
/// `{"index", "value"}`. Provider lists: `{"index" | "match", "value": {fields}}`, the fields
/// merged into the entry (`null` removes one).
fn patch_list(call: &Call, live: &LiveConfig, key: &str) -> Result<Reply, Reply> {
    let body: Map<String, Value> = call.json()?;
    let allowed: &[&str] = if key == "api-keys" {
        &["old", "new", "index", "value"]
    } else {
        &["index", "match", "value"]
    };
    if let Some(unknown) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Reply::bad(format!("unknown field {unknown:?}")));
    }
    let body = body.clone();
    write_list(live, key, move |items| {
        if key == "api-keys" {
            return patch_strings(items, &body);
        }
        let Some(Value::Object(fields)) = body.get("value") else {
            return Err(Reply::bad("value: expected an object"));
        };
        let at = match (index_in(body.get("index"), items.len())?, body.get("match")) {
            (Some(i), _) => i,
            (None, Some(Value::String(m))) => {
                let found: Vec<usize> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| it.get("api-key").and_then(Value::as_str) == Some(m.trim()))
                    .map(|(i, _)| i)
                    .collect();
                match found[..] {
                    [i] => i,
                    [] => return Err(Reply::not_found("item not found")),
                    _ => return Err(Reply::bad("multiple items match; index is required")),
                }
            }
            (None, _) => return Err(Reply::bad("missing index or match")),
        };
        let existing = items.clone();
        let Some(Value::Object(entry)) = items.get_mut(at) else {
            return Err(Reply::bad(format!("{key}[{at}]: not an object")));
        };
        for (k, v) in fields {
            match v {
                Value::Null => {
                    entry.remove(k);
                }
                v => {
                    let mut v = v.clone();
                    if k == "api-key" {
                        unmask(&mut v, &existing);
                    }
                    entry.insert(k.clone(), v);
                }
            }
        }
        Ok(())
    })
}

pub(super) fn patch_strings(
    items: &mut Vec<Value>,
    body: &Map<String, Value>,
) -> Result<(), Reply> {
    let text = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Reply::bad(format!("{name}: expected a string"))),
    };
    if let (Some(i), Some(value)) = (index_in(body.get("index"), items.len())?, text("value")?) {
        items[i] = Value::String(value);
        return Ok(());
    }
    if let (Some(old), Some(new)) = (text("old")?, text("new")?) {
        match items.iter().position(|k| k.as_str() == Some(old.as_str())) {
            Some(i) => items[i] = Value::String(new),
            None => items.push(Value::String(new)),
        }
        return Ok(());
    }
    Err(Reply::bad(
        "missing fields: {\"old\", \"new\"} or {\"index\", \"value\"}",
    ))
}

/// `?index=N`, or `?value=` (`api-keys`), `?api-key=` (key lists), `?name=`
/// (`openai-compatibility`).
fn delete_from_list(call: &Call, live: &LiveConfig, key: &str) -> Result<Reply, Reply> {
    let index = match call.query("index") {
        Some(i) => Some(
            i.parse::<usize>()
                .map_err(|_| Reply::bad(format!("index {i:?}: expected an integer")))?,
        ),
        None => None,
    };
    let by = ["value", "api-key", "name"]
        .iter()
        .find_map(|n| call.query(n).map(|v| (*n, v.trim().to_owned())));
    if index.is_none() && by.is_none() {
        return Err(Reply::bad("missing index or value"));
    }
    write_list(live, key, move |items| {
        if let Some(i) = index {
            if i >= items.len() {
                return Err(Reply::bad(format!(
                    "index {i} out of range ({} items)",
                    items.len()
                )));
            }
            items.remove(i);
            return Ok(());
        }
        let Some((field, wanted)) = by else {
            return Ok(());
        };
        let before = items.len();
        items.retain(|it| {
            let v = match (field, it) {
                ("value", Value::String(s)) => Some(s.as_str()),
                (f, Value::Object(m)) => m.get(f).and_then(Value::as_str),
                _ => None,
            };
            v.map(str::trim) != Some(wanted.as_str())
        });
        if items.len() == before {
            return Err(Reply::not_found("item not found"));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_at_every_depth() {
        let mut doc = json!({
            "api-keys": ["sk-client-000000001"],
            "claude-api-key": [{"api-key": "sk-ant-abcdefghijkl", "base-url": "https://a"}],
            "openai-compatibility": [{"api-key-entries": [{"api-key": "short"}]}],
            "remote-management": {"secret-key": "$2a$10$abcdefghijklmnopqrstuv"},
            "proxy-url": "socks5://user:pw@proxy:1080",
        });
        mask_secrets(&mut doc);
        assert_eq!(
            doc,
            json!({
                "api-keys": ["sk-c****0001"],
                "claude-api-key": [{"api-key": "sk-a****ijkl", "base-url": "https://a"}],
                "openai-compatibility": [{"api-key-entries": [{"api-key": "****"}]}],
                "remote-management": {"secret-key": "$2a$****stuv"},
                "proxy-url": "socks5://user:****@proxy:1080",
            })
        );
    }

    #[test]
    fn a_masked_key_sent_back_stands_for_the_key_it_masks() {
        let existing = vec![json!("sk-client-000000001"), json!("sk-other-99999999")];
        let mut v = json!("sk-c****0001");
        unmask(&mut v, &existing);
        assert_eq!(v, json!("sk-client-000000001"));
        let mut new = json!("sk-brand-new-key");
        unmask(&mut new, &existing);
        assert_eq!(new, json!("sk-brand-new-key"));
        let mut short = json!("****");
        unmask(&mut short, &[json!("a"), json!("b")]);
        assert_eq!(short, json!("****"), "ambiguous: kept as sent");
    }
}
