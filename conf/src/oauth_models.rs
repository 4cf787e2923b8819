//! Walks `oauth-model-alias:` and `oauth-excluded-models:` (CLIProxyAPI's per-channel model
//! renames and exclusions for OAuth accounts) into [`OAuthModelAlias`] lists and wildcard
//! lists keyed by channel.
//!
//! Pure; no I/O. Channels are the `switchyard login` providers ([`OAUTH_PROVIDERS`]);
//! CLIProxyAPI's `gemini-cli` is read as `gemini`; its `aistudio` channel (no OAuth login here)
//! is accepted with a warning. Every problem names the entry: an empty `name`/`alias`, an alias
//! used twice in one channel, a wildcard with `*` in the middle (only exact, `prefix-*`,
//! `*-suffix` and `*substring*` exist), a channel given twice.

use crate::node::Node;
use crate::schema;
use crate::walk::{index_path, key_path, Walker};
use crate::{OAuthModelAlias, OAUTH_PROVIDERS};
use std::collections::BTreeMap;

/// CLIProxyAPI channels Switchyard has no OAuth accounts for (accepted, ignored).
const IGNORED_CHANNELS: &[&str] = &["aistudio"];

/// The channel name a key of these sections means (`gemini-cli` is `gemini`), case-insensitive;
/// `None` for an unknown name.
pub(crate) fn oauth_channel(key: &str) -> Option<&'static str> {
    let k = key.trim().to_ascii_lowercase();
    let k = if k == "gemini-cli" {
        "gemini"
    } else {
        k.as_str()
    };
    OAUTH_PROVIDERS.iter().copied().find(|p| *p == k)
}

/// Why a model wildcard is not one of the forms CLIProxyAPI matches (`None`: it is fine).
pub(crate) fn wildcard_problem(pattern: &str) -> Option<String> {
    let inner = pattern.trim_start_matches('*').trim_end_matches('*');
    if inner.contains('*') {
        return Some(format!(
            "{pattern:?}: `*` may only start or end a pattern (exact, prefix-*, *-suffix, *substring*)"
        ));
    }
    None
}

/// The channels of one of the two sections, each walked by `each`; unknown and repeated
/// channels are errors.
fn channels<T>(
    w: &mut Walker,
    value: &Node,
    path: &str,
    mut each: impl FnMut(&mut Walker, &Node, &str) -> T,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    let mut first_key: BTreeMap<&'static str, String> = BTreeMap::new();
    for (key, entry) in w.map(value, path).unwrap_or_default() {
        let p = key_path(path, key);
        if IGNORED_CHANNELS.contains(&key.to_ascii_lowercase().as_str()) {
            w.warn(
                &p,
                "no OAuth accounts of this channel in Switchyard; ignored",
            );
            continue;
        }
        let Some(channel) = oauth_channel(key) else {
            w.error(
                &p,
                format!(
                    "unknown OAuth channel; expected one of {} (or gemini-cli)",
                    OAUTH_PROVIDERS.join(", ")
                ),
            );
            continue;
        };
        if let Some(earlier) = first_key.get(channel) {
            w.error(
                &p,
                format!("channel {channel} is already configured as {earlier:?}"),
            );
            continue;
        }
        first_key.insert(channel, key.clone());
        let v = each(w, entry, &p);
        out.insert(channel.to_owned(), v);
    }
    out
}

/// `oauth-model-alias: {<channel>: [{name, alias, fork}]}`.
pub(crate) fn aliases(
    w: &mut Walker,
    value: &Node,
    path: &str,
) -> BTreeMap<String, Vec<OAuthModelAlias>> {
    channels(w, value, path, alias_list)
}

fn alias_list(w: &mut Walker, value: &Node, path: &str) -> Vec<OAuthModelAlias> {
    let mut out: Vec<OAuthModelAlias> = Vec::new();
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    for (i, entry) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
        let p = index_path(path, i);
        let Some(fields) = w.map(entry, &p) else {
            continue;
        };
        let (mut name, mut alias, mut fork) = (None, None, false);
        for (key, value) in fields {
            let kp = key_path(&p, key);
            match key.as_str() {
                "name" => name = Some(w.text(value, &kp, false)),
                "alias" => alias = Some(w.text(value, &kp, false)),
                "fork" => fork = w.bool(value, &kp).unwrap_or(false),
                other => w.other_key(&schema::OAUTH_MODEL_ALIAS, other, &kp),
            }
        }
        let name = w.require(name, &key_path(&p, "name"));
        let alias = w.require(alias, &key_path(&p, "alias"));
        let (Some(name), Some(alias)) = (name, alias) else {
            continue;
        };
        if name.contains('*') {
            w.error(
                &key_path(&p, "name"),
                format!("{name:?}: names one catalog model; wildcards are not supported"),
            );
            continue;
        }
        if alias.eq_ignore_ascii_case(&name) {
            w.error(
                &key_path(&p, "alias"),
                format!("{alias:?} is the model's own name; remove the entry"),
            );
            continue;
        }
        let lower = alias.to_ascii_lowercase();
        if let Some(earlier) = used.get(&lower) {
            w.error(
                &key_path(&p, "alias"),
                format!("{alias:?} is already the alias of {earlier}"),
            );
            continue;
        }
        used.insert(lower, p.clone());
        out.push(OAuthModelAlias { name, alias, fork });
    }
    out
}

/// `oauth-excluded-models: {<channel>: [wildcard, ...]}`.
pub(crate) fn excluded(w: &mut Walker, value: &Node, path: &str) -> BTreeMap<String, Vec<String>> {
    channels(w, value, path, |w, value, path| {
        let mut out = Vec::new();
        for (i, item) in w.seq(value, path).unwrap_or_default().iter().enumerate() {
            let p = index_path(path, i);
            match w.string(item, &p) {
                Some(s) if s.is_empty() => w.error(&p, "must not be empty"),
                None if matches!(item, Node::Null) => w.error(&p, "must not be empty"),
                None => {}
                Some(pattern) => match wildcard_problem(&pattern) {
                    Some(msg) => w.error(&p, msg),
                    None => out.push(pattern),
                },
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use crate::{load_str, OAuthModelAlias};

    fn errors(yaml: &str) -> Vec<String> {
        match load_str(yaml) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn reads_aliases_and_exclusions_by_channel() {
        let loaded = load_str(
            "model-catalog: models.json\n\
             oauth-model-alias:\n  codex:\n    - {name: gpt-5, alias: g5, fork: true}\n    - {name: gpt-5-codex, alias: coder}\n  gemini-cli:\n    - {name: gemini-2.5-pro, alias: pro}\n\
             oauth-excluded-models:\n  Claude: [\"*-haiku-*\", claude-3-*]\n  aistudio: [x]\n",
        )
        .unwrap_or_else(|p| panic!("{p:?}"));
        let c = loaded.config;
        assert_eq!(c.model_catalog.as_deref(), Some("models.json"));
        assert_eq!(
            c.oauth_model_alias["codex"],
            [
                OAuthModelAlias {
                    name: "gpt-5".into(),
                    alias: "g5".into(),
                    fork: true
                },
                OAuthModelAlias {
                    name: "gpt-5-codex".into(),
                    alias: "coder".into(),
                    fork: false
                }
            ]
        );
        assert_eq!(c.oauth_model_alias["gemini"][0].alias, "pro");
        assert_eq!(
            c.oauth_excluded_models["claude"],
            ["*-haiku-*", "claude-3-*"]
        );
        assert!(!c.oauth_excluded_models.contains_key("aistudio"));
        let warned: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warned,
            ["oauth-excluded-models.aistudio: no OAuth accounts of this channel in Switchyard; ignored"]
        );
    }

    #[test]
    fn bad_entries_are_named() {
        assert_eq!(
            errors(
                "oauth-model-alias:\n  codex:\n    - {name: a, alias: x}\n    - {name: b, alias: X}\n    - {name: c}\n    - {name: d, alias: D}\n    - {name: e*, alias: y}\n  openai: []\n  gemini: []\n  gemini-cli: []\n"
            ),
            [
                "oauth-model-alias.codex[1].alias: \"X\" is already the alias of oauth-model-alias.codex[0]",
                "oauth-model-alias.codex[2].alias: required key is missing",
                "oauth-model-alias.codex[3].alias: \"D\" is the model's own name; remove the entry",
                "oauth-model-alias.codex[4].name: \"e*\": names one catalog model; wildcards are not supported",
                "oauth-model-alias.openai: unknown OAuth channel; expected one of claude, codex, gemini, qwen, kimi, iflow, antigravity, vertex (or gemini-cli)",
                "oauth-model-alias.gemini-cli: channel gemini is already configured as \"gemini\"",
            ]
        );
        assert_eq!(
            errors("oauth-excluded-models:\n  qwen: [ok-*, \"a*b\", \"\"]\n"),
            [
                "oauth-excluded-models.qwen[1]: \"a*b\": `*` may only start or end a pattern (exact, prefix-*, *-suffix, *substring*)",
                "oauth-excluded-models.qwen[2]: must not be empty",
            ]
        );
    }
}
