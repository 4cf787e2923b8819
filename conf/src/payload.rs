//! Walks `payload:` (CLIProxyAPI's request-body rules) and `model-fallback:` (a Switchyard key)
//! into [`PayloadRules`] and [`ModelFallback`]s.
//!
//! Pure; no I/O. Problems land in the [`Walker`]; a rule with an error is dropped. Values are
//! stored as JSON text: plain `default`/`override` values are converted from YAML (mapping
//! order kept), `-raw` values must be strings holding valid JSON (CLIProxyAPI drops an invalid
//! one silently; here it is an error naming the path). Other YAML types given to a `-raw` key
//! are converted as CLIProxyAPI's `json.Marshal` would.

use crate::error::ConfError;
use crate::node::Node;
use crate::schema;
use crate::walk::{index_path, key_path, Walker};
use crate::PayloadRules;
use crate::{ApiKeyAccount, ModelFallback, PayloadFilter, PayloadModelMatch, PayloadRule};

/// Upstream protocols a rule's `protocol` may name (CLIProxyAPI v6 wire formats).
const PROTOCOLS: &[&str] = &["openai", "gemini", "claude", "codex", "antigravity"];
/// Client protocols `from-protocol` may name (CLIProxyAPI HEAD).
const FROM_PROTOCOLS: &[&str] = &["openai", "responses", "gemini", "claude"];

pub(crate) fn payload(w: &mut Walker, value: &Node, path: &str) -> PayloadRules {
    let mut rules = PayloadRules::default();
    for (key, value) in w.map(value, path).unwrap_or_default() {
        let p = key_path(path, key);
        match key.as_str() {
            "default" => rules.default = set_rules(w, value, &p, false),
            "default-raw" => rules.default_raw = set_rules(w, value, &p, true),
            "override" => rules.overrides = set_rules(w, value, &p, false),
            "override-raw" => rules.override_raw = set_rules(w, value, &p, true),
            "filter" => rules.filter = filter_rules(w, value, &p),
            other => w.other_key(&schema::PAYLOAD, other, &p),
        }
    }
    rules
}

/// The `models` and `params` nodes of one rule, after checking its keys.
fn rule_parts<'n>(
    w: &mut Walker,
    entry: &'n Node,
    path: &str,
) -> Option<(Vec<PayloadModelMatch>, Option<&'n Node>)> {
    let fields = w.map(entry, path)?;
    let mut models = None;
    let mut params = None;
    for (key, value) in fields {
        let p = key_path(path, key);
        match key.as_str() {
            "models" => models = Some(model_matches(w, value, &p)),
            "params" => params = Some(value),
            other => w.other_key(&schema::PAYLOAD_RULE, other, &p),
        }
    }
    let models = models.unwrap_or_default();
    if models.is_empty() {
        // CLIProxyAPI: a rule without models never matches. Say so instead of ignoring it.
        w.error(
            &key_path(path, "models"),
            "a rule needs at least one models entry",
        );
        return None;
    }
    Some((models, params))
}

fn set_rules(w: &mut Walker, value: &Node, path: &str, raw: bool) -> Vec<PayloadRule> {
    let mut out = Vec::new();
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        let before = w.errors.len();
        let Some((models, params)) = rule_parts(w, entry, &p) else {
            continue;
        };
        let pp = key_path(&p, "params");
        let mut pairs = Vec::new();
        for (name, v) in params
            .map_or(Some(&[][..]), |n| w.map(n, &pp))
            .unwrap_or_default()
        {
            let vp = key_path(&pp, name);
            if name.trim().is_empty() {
                w.error(&vp, "a path must not be empty");
                continue;
            }
            let json = match v {
                Node::Str(s) if raw => match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(_) => Ok(s.trim().to_owned()),
                    Err(e) => Err(ConfError::PayloadRawJson {
                        reason: e.to_string(),
                    }),
                },
                other => node_json(other),
            };
            if let Some(j) = w.checked(&vp, json) {
                pairs.push((name.trim().to_owned(), j));
            }
        }
        if w.errors.len() == before {
            out.push(PayloadRule {
                models,
                params: pairs,
            });
        }
    }
    out
}

fn filter_rules(w: &mut Walker, value: &Node, path: &str) -> Vec<PayloadFilter> {
    let mut out = Vec::new();
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        let before = w.errors.len();
        let Some((models, params)) = rule_parts(w, entry, &p) else {
            continue;
        };
        let paths = params
            .map(|n| w.string_list(n, &key_path(&p, "params")))
            .unwrap_or_default();
        if w.errors.len() == before {
            out.push(PayloadFilter { models, paths });
        }
    }
    out
}

fn model_matches(w: &mut Walker, value: &Node, path: &str) -> Vec<PayloadModelMatch> {
    let mut out = Vec::new();
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        let Some(fields) = w.map(entry, &p) else {
            continue;
        };
        let mut m = PayloadModelMatch {
            name: String::new(),
            protocol: None,
            from_protocol: None,
            never: false,
        };
        for (key, value) in fields {
            let kp = key_path(&p, key);
            match key.as_str() {
                "name" => m.name = w.string(value, &kp).unwrap_or_default(),
                "protocol" => m.protocol = one_of(w, value, &kp, PROTOCOLS),
                "from-protocol" => m.from_protocol = one_of(w, value, &kp, FROM_PROTOCOLS),
                "headers" | "match" | "not-match" | "exist" | "not-exist" => {
                    if !matches!(value, Node::Null) {
                        m.never = true;
                        w.warn(
                            &kp,
                            "condition not evaluated by Switchyard yet: this models entry never matches",
                        );
                    }
                }
                other => w.other_key(&schema::PAYLOAD_MODEL, other, &kp),
            }
        }
        if m.name.is_empty() {
            w.error(&key_path(&p, "name"), "required: a model name or wildcard");
            continue;
        }
        out.push(m);
    }
    out
}

/// A lowercase value from `allowed`; empty is `None` (any).
fn one_of(w: &mut Walker, value: &Node, path: &str, allowed: &[&str]) -> Option<String> {
    let text = w.string(value, path)?.to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    if allowed.contains(&text.as_str()) {
        Some(text)
    } else {
        w.expected(path, &format!("one of {}", allowed.join(", ")), value);
        None
    }
}

/// A YAML value as JSON text, mapping order kept.
fn node_json(node: &Node) -> Result<String, ConfError> {
    let mut out = String::new();
    write_json(node, &mut out)?;
    Ok(out)
}

fn write_json(node: &Node, out: &mut String) -> Result<(), ConfError> {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => {
            if i64::try_from(*i).is_err() && u64::try_from(*i).is_err() {
                return Err(ConfError::PayloadInteger(*i));
            }
            out.push_str(&i.to_string());
        }
        Node::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => out.push_str(&n.to_string()),
            None => return Err(ConfError::PayloadFloat(*x)),
        },
        Node::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                out.push(':');
                write_json(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// `model-fallback: [{from, to}]`. `to` is checked against the accounts after they are read
/// ([`check_fallback_targets`]).
pub(crate) fn model_fallback(w: &mut Walker, value: &Node, path: &str) -> Vec<ModelFallback> {
    let mut out = Vec::new();
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        let Some(fields) = w.map(entry, &p) else {
            continue;
        };
        let (mut from, mut to) = (None, None);
        for (key, value) in fields {
            let kp = key_path(&p, key);
            match key.as_str() {
                "from" => from = Some(w.text(value, &kp, false)),
                "to" => to = Some(w.text(value, &kp, false)),
                other => w.other_key(&schema::MODEL_FALLBACK, other, &kp),
            }
        }
        let from = w.require(from, &key_path(&p, "from"));
        let to = w.require(to, &key_path(&p, "to"));
        if let Some(t) = to.as_deref().filter(|t| t.contains('*')) {
            w.error(
                &key_path(&p, "to"),
                format!("must name one model, not a wildcard ({t:?})"),
            );
            continue;
        }
        if let (Some(from), Some(to)) = (from, to) {
            out.push(ModelFallback { from, to });
        }
    }
    out
}

/// Every fallback target should be a model some account serves: a `models` alias (or
/// `prefix/alias`), or any name when an account has no `models` list; a target no configured
/// account serves is a warning (an `auth-dir` account may serve it).
pub(crate) fn check_fallback_targets(
    w: &mut Walker,
    fallbacks: &[ModelFallback],
    accounts: &[ApiKeyAccount],
    force_prefix: bool,
) {
    if accounts.iter().any(|a| a.models.is_empty()) {
        return;
    }
    for (i, f) in fallbacks.iter().enumerate() {
        let served = accounts.iter().any(|a| {
            let prefix = a.prefix.as_deref().filter(|p| !p.is_empty());
            a.models.iter().any(|m| {
                let bare = prefix.is_none_or(|p| !force_prefix || p == m.alias);
                (bare && m.alias == f.to)
                    || prefix.is_some_and(|p| format!("{p}/{}", m.alias) == f.to)
            })
        });
        if !served {
            // A warning, not an error: OAuth accounts from `auth-dir` (their catalog models)
            // are not known yet when the file is checked, and may serve it.
            w.warn(
                &key_path(&index_path("model-fallback", i), "to"),
                format!(
                    "no account in this file serves {:?} (fine if an auth-dir account does; \
                     otherwise requests that fall back to it get model-not-found)",
                    f.to
                ),
            );
        }
    }
}
