//! Payload rules (`payload:` in config.yaml, CLIProxyAPI §5): set, default, or delete JSON
//! paths in the request body sent upstream, for rules whose model wildcard and protocol match.
//!
//! Pure; no I/O. Runs in `upstream_request_filter`, once per attempt, on the body that attempt
//! sends: the client's bytes with the model spliced in (same protocol), or the translator's
//! output (the rule's `protocol` is the upstream's, so a rule for `gemini` sees a Gemini body
//! whatever the client spoke). When no rule matches nothing is copied and the zero-copy path
//! stays; when one does, the body is edited in place byte for byte (`json_path.rs`), never
//! re-serialised.
//!
//! CLIProxyAPI's semantics (`applyPayloadConfigWithRoot`), kept exactly:
//! - a rule matches when any `models[]` entry matches: its `protocol` is empty or equals the
//!   upstream protocol (case-insensitive), and its `name` wildcard (`*` anywhere,
//!   case-sensitive) matches the upstream model name or the name the client asked for;
//! - `default`, then `default-raw`: set a path only if the body before any rule ran lacks it;
//!   the first matching rule wins per path;
//! - `override`, then `override-raw`: always set; the last matching rule wins;
//! - `filter`: delete paths, last.
//!
//! Switchyard also evaluates HEAD's `from-protocol` (the client's protocol: `openai`,
//! `responses`, `claude`, `gemini`). Token-count endpoints are left alone.

use crate::json_path;
use crate::protocol::Endpoint;
use std::collections::HashSet;
use switchyard_conf::{PayloadFilter, PayloadModelMatch, PayloadRule, PayloadRules, ProviderKind};

/// One parsed `path: value` pair.
#[derive(Debug)]
struct Param {
    keys: Vec<String>,
    json: String,
}

#[derive(Debug)]
struct SetRule {
    models: Vec<PayloadModelMatch>,
    params: Vec<Param>,
}

#[derive(Debug)]
struct DeleteRule {
    models: Vec<PayloadModelMatch>,
    paths: Vec<Vec<String>>,
}

/// The compiled rules of one config snapshot.
#[derive(Debug, Default)]
pub struct Payload {
    defaults: Vec<SetRule>,
    overrides: Vec<SetRule>,
    filters: Vec<DeleteRule>,
}

/// What one attempt is: the facts rules match on.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The account's protocol in CLIProxyAPI's names.
    pub protocol: &'static str,
    /// The client's protocol (`from-protocol`); `None` for endpoints rules never touch.
    pub from: Option<&'static str>,
    pub upstream_model: &'a str,
    pub asked_model: &'a str,
}

impl Target<'_> {
    /// Attempt facts for an account kind and client endpoint.
    pub fn new<'a>(
        kind: ProviderKind,
        endpoint: &Endpoint,
        upstream_model: &'a str,
        asked_model: &'a str,
    ) -> Target<'a> {
        Target {
            protocol: protocol_name(kind),
            from: from_protocol(endpoint),
            upstream_model,
            asked_model,
        }
    }
}

/// CLIProxyAPI's wire-format name for an account kind.
pub fn protocol_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Gemini => "gemini",
        ProviderKind::Claude => "claude",
        ProviderKind::Codex => "codex",
        ProviderKind::OpenAiCompat => "openai",
    }
}

/// The client's format as HEAD's `from-protocol` names it; `None` for token counts.
fn from_protocol(endpoint: &Endpoint) -> Option<&'static str> {
    use crate::protocol::GeminiMethod;
    match endpoint {
        Endpoint::OpenAiChat | Endpoint::OpenAiCompletions => Some("openai"),
        Endpoint::OpenAiResponses => Some("responses"),
        Endpoint::AnthropicMessages => Some("claude"),
        Endpoint::Gemini { method, .. } if *method != GeminiMethod::CountTokens => Some("gemini"),
        Endpoint::AnthropicCountTokens | Endpoint::Gemini { .. } => None,
    }
}

fn compile_set(rules: &[PayloadRule]) -> impl Iterator<Item = SetRule> + '_ {
    rules.iter().map(|r| SetRule {
        models: r.models.clone(),
        params: r
            .params
            .iter()
            .filter_map(|(path, json)| {
                json_path::parse(path).map(|keys| Param {
                    keys,
                    json: json.clone(),
                })
            })
            .collect(),
    })
}

fn compile_filter(rules: &[PayloadFilter]) -> impl Iterator<Item = DeleteRule> + '_ {
    rules.iter().map(|r| DeleteRule {
        models: r.models.clone(),
        paths: r.paths.iter().filter_map(|p| json_path::parse(p)).collect(),
    })
}

impl Payload {
    pub fn new(rules: &PayloadRules) -> Self {
        Self {
            defaults: compile_set(&rules.default)
                .chain(compile_set(&rules.default_raw))
                .collect(),
            overrides: compile_set(&rules.overrides)
                .chain(compile_set(&rules.override_raw))
                .collect(),
            filters: compile_filter(&rules.filter).collect(),
        }
    }

    /// Whether any rule matches `t` (cheap; no body work).
    pub fn applies(&self, t: &Target) -> bool {
        self.defaults
            .iter()
            .chain(&self.overrides)
            .any(|r| matches(&r.models, t))
            || self.filters.iter().any(|r| matches(&r.models, t))
    }

    /// `body` with every matching rule applied; `None` when no rule matches (send `body` as is).
    pub fn apply(&self, t: &Target, body: &[u8]) -> Option<Vec<u8>> {
        if !self.applies(t) {
            return None;
        }
        let mut out = body.to_vec();
        let mut defaulted: HashSet<&[String]> = HashSet::new();
        for rule in self.defaults.iter().filter(|r| matches(&r.models, t)) {
            for p in &rule.params {
                if json_path::exists(body, &p.keys) || !defaulted.insert(p.keys.as_slice()) {
                    continue;
                }
                if let Some(next) = json_path::set(&out, &p.keys, &p.json) {
                    out = next;
                }
            }
        }
        for rule in self.overrides.iter().filter(|r| matches(&r.models, t)) {
            for p in &rule.params {
                if let Some(next) = json_path::set(&out, &p.keys, &p.json) {
                    out = next;
                }
            }
        }
        for rule in self.filters.iter().filter(|r| matches(&r.models, t)) {
            for keys in &rule.paths {
                if let Some(next) = json_path::delete(&out, keys) {
                    out = next;
                }
            }
        }
        Some(out)
    }
}

fn matches(models: &[PayloadModelMatch], t: &Target) -> bool {
    let Some(from) = t.from else { return false };
    models.iter().any(|m| {
        !m.never
            && m.protocol.as_deref().is_none_or(|p| p == t.protocol)
            && m.from_protocol.as_deref().is_none_or(|p| p == from)
            && [t.upstream_model, t.asked_model]
                .iter()
                .any(|name| !name.is_empty() && wildcard(&m.name, name))
    })
}

/// `*` matches any run of characters (none included); everything else matches itself.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, protocol: Option<&str>) -> PayloadModelMatch {
        PayloadModelMatch {
            name: name.into(),
            protocol: protocol.map(Into::into),
            from_protocol: None,
            never: false,
        }
    }
    fn rule(models: Vec<PayloadModelMatch>, params: &[(&str, &str)]) -> PayloadRule {
        PayloadRule {
            models,
            params: params
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }
    fn target<'a>(protocol: &'static str, upstream: &'a str, asked: &'a str) -> Target<'a> {
        Target {
            protocol,
            from: Some("openai"),
            upstream_model: upstream,
            asked_model: asked,
        }
    }
    fn text(v: Option<Vec<u8>>) -> String {
        String::from_utf8(v.unwrap()).unwrap()
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("gpt-*", "gpt-5"));
        assert!(wildcard("*-5", "gpt-5"));
        assert!(wildcard("gemini-*-pro", "gemini-2.5-pro"));
        assert!(wildcard("*", ""));
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(
            !wildcard("gpt-*", "GPT-5"),
            "case-sensitive, as CLIProxyAPI"
        );
        assert!(!wildcard("a*b", "ac"));
    }

    #[test]
    fn order_and_precedence_follow_cliproxyapi() {
        let rules = PayloadRules {
            default: vec![
                rule(vec![m("gpt-*", None)], &[("a", "1"), ("keep", "9")]),
                rule(vec![m("*", None)], &[("a", "2"), ("b", "2")]),
            ],
            default_raw: vec![rule(vec![m("*", None)], &[("b", "3"), ("c", r#"{"x":1}"#)])],
            overrides: vec![
                rule(vec![m("*", None)], &[("o", "1")]),
                rule(vec![m("*", None)], &[("o", "2")]),
            ],
            override_raw: vec![rule(vec![m("*", None)], &[("o2", "[1]")])],
            filter: vec![PayloadFilter {
                models: vec![m("gpt-*", None)],
                paths: vec!["drop".into(), "nested.gone".into()],
            }],
        };
        let p = Payload::new(&rules);
        let body = br#"{"model":"gpt-5","keep":0,"drop":1,"nested":{"gone":1,"stay":2}}"#;
        let out = text(p.apply(&target("openai", "gpt-5", "fast"), body));
        assert_eq!(
            out,
            r#"{"model":"gpt-5","keep":0,"nested":{"stay":2},"a":1,"b":2,"c":{"x":1},"o":2,"o2":[1]}"#
        );
    }

    #[test]
    fn protocol_and_alias_matching() {
        let rules = PayloadRules {
            overrides: vec![rule(vec![m("fast", Some("gemini"))], &[("x", "1")])],
            ..Default::default()
        };
        let p = Payload::new(&rules);
        // Matches the client's name too (the alias), but only for the rule's upstream protocol.
        assert!(p.applies(&target("gemini", "gemini-2.5-flash", "fast")));
        assert!(!p.applies(&target("openai", "gemini-2.5-flash", "fast")));
        assert!(!p.applies(&target("gemini", "gemini-2.5-flash", "slow")));
        assert_eq!(p.apply(&target("claude", "c", "fast"), b"{}"), None);
        let mut never = m("*", None);
        never.never = true;
        let p = Payload::new(&PayloadRules {
            overrides: vec![rule(vec![never], &[("x", "1")])],
            ..Default::default()
        });
        assert!(!p.applies(&target("gemini", "a", "b")));
    }
}
