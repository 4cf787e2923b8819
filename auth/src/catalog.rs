//! The model catalog of the OAuth channels: which model ids an account of each provider serves,
//! with what `/v1/models` shows about them (display name, owner, creation time, context and
//! output limits).
//!
//! The embedded catalog (`catalog.json`, Switchyard's own, ids taken from CLIProxyAPI's
//! `internal/registry/models/models.json`) has one list per channel: `claude`, `codex-free`,
//! `codex-team`, `codex-plus`, `codex-pro` (a Codex account's list follows the id_token claim
//! `chatgpt_plan_type` as CLIProxyAPI does: `free`; `team`/`business`/`go`; `plus`; anything
//! else `pro`), `gemini` (the Gemini CLI channel), `vertex`, `antigravity`, `qwen`, `iflow`,
//! `kimi`. The `model-catalog` file has the same format; each channel it names replaces the
//! embedded one (`[]` empties it).
//!
//! Pure apart from [`Catalog::load`] reading the override file. The format is strict: unknown
//! channels and fields, empty and repeated ids are errors naming the place.

use crate::provider::ProviderId;
use crate::record::AuthRecord;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use switchyard_conf::Problem;

/// The channels a catalog may name.
pub const CHANNELS: &[&str] = &[
    "claude",
    "codex-free",
    "codex-team",
    "codex-plus",
    "codex-pro",
    "gemini",
    "vertex",
    "antigravity",
    "qwen",
    "iflow",
    "kimi",
];

const EMBEDDED: &str = include_str!("catalog.json");

/// One model of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogModel {
    pub id: String,
    /// Human name (the id when the catalog has none).
    pub display_name: String,
    /// `owned_by` of the OpenAI list (default: the channel's vendor).
    pub owned_by: String,
    /// Unix seconds.
    pub created: i64,
    /// Input context window in tokens, when known.
    pub context_length: Option<u64>,
    /// Longest output in tokens, when known.
    pub max_output_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: String,
    display_name: Option<String>,
    owned_by: Option<String>,
    created: Option<i64>,
    context_length: Option<u64>,
    max_output_tokens: Option<u64>,
}

/// `created` when a catalog entry has none: 2026-01-01T00:00:00Z.
const DEFAULT_CREATED: i64 = 1_767_225_600;

/// A problem of a catalog document, located by its source (`model-catalog <path>`).
fn problem(source: &str, message: String) -> Problem {
    Problem {
        path: source.to_owned(),
        message,
    }
}

/// Models by channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    channels: BTreeMap<String, Vec<Arc<CatalogModel>>>,
}

impl Catalog {
    /// The embedded catalog.
    pub fn embedded() -> Result<Self, Vec<Problem>> {
        Self::parse(EMBEDDED, "embedded catalog")
    }

    /// The embedded catalog with the channels of `path` (the `model-catalog` file) replacing
    /// the embedded ones.
    pub fn load(path: Option<&Path>) -> Result<Self, Vec<Problem>> {
        let mut cat = Self::embedded()?;
        if let Some(path) = path {
            let source = format!("model-catalog {}", path.display());
            let text = std::fs::read_to_string(path)
                .map_err(|e| vec![problem(&source, format!("cannot read: {e}"))])?;
            let file = Self::parse(&text, &source)?;
            cat.channels.extend(file.channels);
        }
        Ok(cat)
    }

    /// Parses a catalog document; every problem is returned, with `source` as its path.
    pub fn parse(text: &str, source: &str) -> Result<Self, Vec<Problem>> {
        let raw: BTreeMap<String, Vec<RawModel>> =
            serde_json::from_str(text).map_err(|e| vec![problem(source, e.to_string())])?;
        let mut problems = Vec::new();
        let mut channels = BTreeMap::new();
        for (channel, models) in raw {
            if !CHANNELS.contains(&channel.as_str()) {
                problems.push(problem(
                    source,
                    format!(
                        "unknown channel {channel:?}; expected one of {}",
                        CHANNELS.join(", ")
                    ),
                ));
                continue;
            }
            let mut list: Vec<Arc<CatalogModel>> = Vec::with_capacity(models.len());
            for (i, m) in models.into_iter().enumerate() {
                let at = format!("{channel}[{i}]");
                let id = m.id.trim().to_owned();
                if id.is_empty() {
                    problems.push(problem(source, format!("{at}.id: must not be empty")));
                    continue;
                }
                if list.iter().any(|o| o.id.eq_ignore_ascii_case(&id)) {
                    problems.push(problem(source, format!("{at}.id: {id:?} is listed twice")));
                    continue;
                }
                list.push(Arc::new(CatalogModel {
                    display_name: m
                        .display_name
                        .filter(|d| !d.trim().is_empty())
                        .unwrap_or_else(|| id.clone()),
                    owned_by: m
                        .owned_by
                        .filter(|o| !o.trim().is_empty())
                        .unwrap_or_else(|| vendor(&channel).to_owned()),
                    created: m.created.unwrap_or(DEFAULT_CREATED),
                    context_length: m.context_length,
                    max_output_tokens: m.max_output_tokens,
                    id,
                }));
            }
            channels.insert(channel, list);
        }
        if problems.is_empty() {
            Ok(Self { channels })
        } else {
            Err(problems)
        }
    }

    /// The models of a channel (empty for a channel the catalog does not have).
    pub fn channel(&self, name: &str) -> &[Arc<CatalogModel>] {
        self.channels.get(name).map_or(&[], Vec::as_slice)
    }

    /// The channel and models of one OAuth account.
    pub fn for_account(
        &self,
        provider: ProviderId,
        record: &AuthRecord,
    ) -> (&'static str, &[Arc<CatalogModel>]) {
        let channel = channel_of(provider, record);
        (channel, self.channel(channel))
    }
}

/// The catalog channel of an account: the provider name, or for Codex the plan's list.
pub fn channel_of(provider: ProviderId, record: &AuthRecord) -> &'static str {
    match provider {
        ProviderId::Codex => codex_plan_channel(codex_plan(record).as_deref()),
        ProviderId::Claude => "claude",
        ProviderId::Gemini => "gemini",
        ProviderId::Qwen => "qwen",
        ProviderId::Kimi => "kimi",
        ProviderId::Iflow => "iflow",
        ProviderId::Antigravity => "antigravity",
        ProviderId::Vertex => "vertex",
    }
}

/// The ChatGPT plan of a Codex account: the id_token claim `chatgpt_plan_type`, else a
/// top-level `plan_type` field of the file.
pub fn codex_plan(record: &AuthRecord) -> Option<String> {
    let from_token = record
        .id_token()
        .and_then(|t| crate::jwt::openai_auth_claim(&crate::jwt::claims(t), "chatgpt_plan_type"));
    from_token.or_else(|| {
        record
            .raw()
            .get("plan_type")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

/// CLIProxyAPI's plan → list mapping (unknown or absent plans get the `pro` list).
pub fn codex_plan_channel(plan: Option<&str>) -> &'static str {
    match plan.map(|p| p.trim().to_ascii_lowercase()).as_deref() {
        Some("free") => "codex-free",
        Some("team" | "business" | "go") => "codex-team",
        Some("plus") => "codex-plus",
        _ => "codex-pro",
    }
}

fn vendor(channel: &str) -> &'static str {
    match channel {
        "claude" => "anthropic",
        "gemini" | "vertex" => "google",
        "antigravity" => "antigravity",
        "qwen" => "qwen",
        "iflow" => "iflow",
        "kimi" => "moonshot",
        _ => "openai",
    }
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
