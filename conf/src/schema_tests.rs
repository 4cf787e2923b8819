//! Checks that the key table in `schema.rs` and the walkers agree: every supported key is
//! read by its walker (no unknown-key error, no warning) and every known-unsupported key gets
//! exactly the one warning.

use crate::node::Node;
use crate::schema::{self, Section};
use crate::walk::Walker;
use crate::{parse, top, Problem};

/// Each section, the YAML that puts `KEY: null` into it, and the path of that key.
const CASES: &[(&str, &Section, &str, &str)] = &[
    ("top", &schema::TOP, "KEY: null", "KEY"),
    ("tls", &schema::TLS, "tls: {KEY: null}", "tls.KEY"),
    (
        "routing",
        &schema::ROUTING,
        "routing: {KEY: null}",
        "routing.KEY",
    ),
    (
        "timeouts",
        &schema::UPSTREAM_TIMEOUTS,
        "upstream-timeouts: {KEY: null}",
        "upstream-timeouts.KEY",
    ),
    (
        "oauth override",
        &schema::OAUTH_OVERRIDE,
        "oauth-overrides: {codex: {KEY: null}}",
        "oauth-overrides.codex.KEY",
    ),
    (
        "oauth model alias",
        &schema::OAUTH_MODEL_ALIAS,
        "oauth-model-alias: {codex: [{KEY: null}]}",
        "oauth-model-alias.codex[0].KEY",
    ),
    (
        "gemini",
        &schema::GEMINI_ENTRY,
        "gemini-api-key: [{KEY: null}]",
        "gemini-api-key[0].KEY",
    ),
    (
        "claude",
        &schema::CLAUDE_ENTRY,
        "claude-api-key: [{KEY: null}]",
        "claude-api-key[0].KEY",
    ),
    (
        "codex",
        &schema::CODEX_ENTRY,
        "codex-api-key: [{KEY: null}]",
        "codex-api-key[0].KEY",
    ),
    (
        "compat",
        &schema::COMPAT_ENTRY,
        "openai-compatibility: [{KEY: null}]",
        "openai-compatibility[0].KEY",
    ),
    (
        "compat key entry",
        &schema::COMPAT_KEY_ENTRY,
        "openai-compatibility: [{api-key-entries: [{KEY: null}]}]",
        "openai-compatibility[0].api-key-entries[0].KEY",
    ),
    (
        "model",
        &schema::MODEL,
        "claude-api-key: [{models: [{KEY: null}]}]",
        "claude-api-key[0].models[0].KEY",
    ),
    (
        "compat model",
        &schema::COMPAT_MODEL,
        "openai-compatibility: [{models: [{KEY: null}]}]",
        "openai-compatibility[0].models[0].KEY",
    ),
    (
        "payload",
        &schema::PAYLOAD,
        "payload: {KEY: null}",
        "payload.KEY",
    ),
    (
        "payload rule",
        &schema::PAYLOAD_RULE,
        "payload: {override: [{KEY: null}]}",
        "payload.override[0].KEY",
    ),
    (
        "payload model",
        &schema::PAYLOAD_MODEL,
        "payload: {filter: [{models: [{KEY: null}]}]}",
        "payload.filter[0].models[0].KEY",
    ),
    (
        "model fallback",
        &schema::MODEL_FALLBACK,
        "model-fallback: [{KEY: null}]",
        "model-fallback[0].KEY",
    ),
];

fn walk(yaml: &str) -> Walker {
    let root = match parse::parse_yaml(yaml) {
        Ok(root) => root,
        Err(p) => Node::Str(p.to_string()),
    };
    let mut w = Walker::default();
    top::build(&root, &mut w);
    w
}

fn at<'a>(problems: &'a [Problem], path: &str) -> Vec<&'a str> {
    problems
        .iter()
        .filter(|p| p.path == path)
        .map(|p| p.message.as_str())
        .collect()
}

#[test]
fn every_supported_key_is_read_by_its_walker() {
    for (name, section, template, path) in CASES {
        for key in section.supported {
            let w = walk(&template.replace("KEY", key));
            let path = path.replace("KEY", key);
            let problems: Vec<&str> = at(&w.errors, &path)
                .into_iter()
                .chain(at(&w.warnings, &path))
                .collect();
            let unexpected: Vec<&&str> = problems
                .iter()
                .filter(|m| m.starts_with("unknown key") || m.contains("accepted"))
                .collect();
            assert!(unexpected.is_empty(), "{name}: {path}: {unexpected:?}");
        }
    }
}

#[test]
fn every_known_unsupported_key_warns_once() {
    for (name, section, template, path) in CASES {
        for key in section.unsupported {
            let w = walk(&template.replace("KEY", key));
            let path = path.replace("KEY", key);
            assert_eq!(
                at(&w.warnings, &path),
                ["accepted but not supported by Switchyard yet; ignored"],
                "{name}"
            );
            assert_eq!(at(&w.errors, &path), Vec::<&str>::new(), "{name}");
        }
    }
}
