//! Per-file control metadata of an auth file (cliproxyapi.md §3.3): the keys CLIProxyAPI's
//! synthesizer reads next to the tokens, parsed into [`FileMeta`].
//!
//! Pure; no I/O. Parsing is lenient like CLIProxyAPI's: numbers may be written as strings,
//! both `request_retry` and `request-retry` spellings are read, a value of the wrong type is
//! ignored (reported in [`FileMeta::problems`]) rather than hiding the account. The metadata is
//! only read here; the file's JSON object is kept whole by the store, so unknown fields survive
//! every rewrite.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The control metadata of one auth file. Defaults: everything off/empty, `weight` 1.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileMeta {
    pub disabled: bool,
    /// Model-id prefix (`team` registers `team/<model>`); never contains `/`.
    pub prefix: Option<String>,
    pub proxy_url: Option<String>,
    pub priority: i64,
    pub note: Option<String>,
    pub excluded_models: Vec<String>,
    /// Custom upstream headers; values are secrets to logs.
    pub headers: BTreeMap<String, String>,
    pub request_retry: Option<u32>,
    pub disable_cooling: bool,
    /// Refresh this often instead of at expiry minus the provider's lead.
    pub refresh_interval_seconds: Option<u64>,
    /// Share under weighted round-robin; `None` means the default (1).
    pub weight: Option<u32>,
    /// Fields that had a value of the wrong type, with what was expected.
    pub problems: Vec<String>,
}

impl FileMeta {
    pub fn parse(raw: &Map<String, Value>) -> Self {
        let mut m = FileMeta::default();
        let bad = m_problem;
        let mut problems = Vec::new();
        let get = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| raw.get(*k).filter(|v| !v.is_null()))
        };
        if let Some(v) = get(&["disabled"]) {
            match as_bool(v) {
                Some(b) => m.disabled = b,
                None => problems.push(bad("disabled", "a boolean")),
            }
        }
        if let Some(v) = get(&["disable_cooling", "disable-cooling"]) {
            match as_bool(v) {
                Some(b) => m.disable_cooling = b,
                None => problems.push(bad("disable_cooling", "a boolean")),
            }
        }
        m.prefix = string(get(&["prefix"]))
            .map(|p| p.trim_matches('/').to_owned())
            .filter(|p| !p.is_empty() && !p.contains('/'));
        m.proxy_url = string(get(&["proxy_url", "proxy-url"]));
        m.note = string(get(&["note"]));
        if let Some(v) = get(&["priority"]) {
            match as_int(v) {
                Some(n) => m.priority = n,
                None => problems.push(bad("priority", "an integer")),
            }
        }
        if let Some(v) = get(&["request_retry", "request-retry"]) {
            match as_int(v).and_then(|n| u32::try_from(n).ok()) {
                Some(n) => m.request_retry = Some(n),
                None => problems.push(bad("request_retry", "an integer >= 0")),
            }
        }
        if let Some(v) = get(&["refresh_interval_seconds"]) {
            match as_int(v).and_then(|n| u64::try_from(n).ok()) {
                Some(0) => {}
                Some(n) => m.refresh_interval_seconds = Some(n),
                None => problems.push(bad("refresh_interval_seconds", "an integer >= 0")),
            }
        }
        if let Some(v) = get(&["weight"]) {
            match as_int(v).and_then(|n| u32::try_from(n.max(0)).ok()) {
                Some(n) => m.weight = Some(n.min(1_000_000)),
                None => problems.push(bad("weight", "an integer")),
            }
        }
        match get(&["excluded_models", "excluded-models"]) {
            Some(Value::Array(items)) => {
                m.excluded_models = items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            Some(Value::String(s)) => {
                m.excluded_models = s
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            Some(_) => problems.push(bad("excluded_models", "a list of strings")),
            None => {}
        }
        match get(&["headers"]) {
            Some(Value::Object(h)) => {
                for (k, v) in h {
                    if let Some(s) = v.as_str() {
                        m.headers.insert(k.clone(), s.to_owned());
                    }
                }
            }
            Some(_) => problems.push(bad("headers", "an object of strings")),
            None => {}
        }
        m.problems = problems;
        m
    }
}

fn m_problem(key: &str, want: &str) -> String {
    format!("{key}: expected {want}; ignored")
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> FileMeta {
        match v {
            Value::Object(m) => FileMeta::parse(&m),
            _ => FileMeta::default(),
        }
    }

    #[test]
    fn every_key_in_both_spellings() {
        let m = parse(json!({
            "disabled": true, "prefix": "/team/", "proxy_url": "socks5://p:1",
            "priority": "3", "note": "n", "excluded_models": ["gpt-5*", " "],
            "headers": {"X-A": "b"}, "request-retry": 2, "disable-cooling": "true",
            "refresh_interval_seconds": 600, "weight": 5
        }));
        assert_eq!(
            m,
            FileMeta {
                disabled: true,
                prefix: Some("team".into()),
                proxy_url: Some("socks5://p:1".into()),
                priority: 3,
                note: Some("n".into()),
                excluded_models: vec!["gpt-5*".into()],
                headers: BTreeMap::from([("X-A".into(), "b".into())]),
                request_retry: Some(2),
                disable_cooling: true,
                refresh_interval_seconds: Some(600),
                weight: Some(5),
                problems: vec![],
            }
        );
    }

    #[test]
    fn wrong_types_are_reported_not_fatal() {
        let m = parse(json!({"disabled": [1], "priority": "high", "headers": 3, "prefix": "a/b"}));
        assert!(!m.disabled);
        assert_eq!(m.prefix, None);
        assert_eq!(
            m.problems,
            [
                "disabled: expected a boolean; ignored",
                "priority: expected an integer; ignored",
                "headers: expected an object of strings; ignored",
            ]
        );
    }
}
