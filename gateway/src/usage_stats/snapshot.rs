//! The import side of the `/usage` JSON: serde structs for CLIProxyAPI's export (and the
//! state file), lenient about fields CLIProxyAPI added later, and [`Prepared`], the snapshot
//! checked and converted before anything is merged, so a bad one changes nothing. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use switchyard_auth::timefmt::parse_rfc3339;

use super::{Bucket, Tokens, UsageError, DAY};

/// An export or `GET /usage` body (the `failed_requests` sibling is ignored).
#[derive(Debug, Deserialize)]
pub(super) struct ImportDoc {
    #[serde(default)]
    pub(super) version: Option<u64>,
    pub(super) usage: SnapUsage,
}

/// The state file.
#[derive(Debug, Deserialize)]
pub(super) struct StateDoc {
    #[serde(default)]
    pub(super) version: Option<u64>,
    pub(super) usage: SnapUsage,
    #[serde(default)]
    pub(super) by_account: SnapByAccount,
    #[serde(default)]
    pub(super) trimmed_before: BTreeMap<String, BTreeMap<String, i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapUsage {
    pub(super) total_requests: u64,
    pub(super) success_count: u64,
    pub(super) failure_count: u64,
    pub(super) total_tokens: u64,
    pub(super) apis: BTreeMap<String, SnapApi>,
    pub(super) requests_by_day: BTreeMap<String, u64>,
    pub(super) requests_by_hour: BTreeMap<String, u64>,
    pub(super) tokens_by_day: BTreeMap<String, u64>,
    pub(super) tokens_by_hour: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapApi {
    pub(super) models: BTreeMap<String, SnapModel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapModel {
    pub(super) total_requests: u64,
    pub(super) total_tokens: u64,
    pub(super) details: Vec<SnapDetail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapDetail {
    pub(super) timestamp: String,
    pub(super) latency_ms: u64,
    #[serde(deserialize_with = "string_or_number")]
    pub(super) source: String,
    #[serde(deserialize_with = "string_or_number")]
    pub(super) auth_index: String,
    pub(super) tokens: SnapTokens,
    pub(super) failed: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapTokens {
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
    pub(super) reasoning_tokens: u64,
    pub(super) cached_tokens: u64,
    pub(super) total_tokens: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapByAccount {
    pub(super) accounts: BTreeMap<String, SnapCounts>,
    pub(super) providers: BTreeMap<String, SnapCounts>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SnapCounts {
    pub(super) total_requests: u64,
    pub(super) success_count: u64,
    pub(super) failure_count: u64,
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
    pub(super) cached_tokens: u64,
    pub(super) reasoning_tokens: u64,
    pub(super) total_tokens: u64,
}

/// CLIProxyAPI's `auth_index` is a string; accept a number or null as well.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string, got {other}"
        ))),
    }
}

/// A snapshot checked and converted before anything is merged, so a bad one changes nothing.
pub(super) struct Prepared<'a> {
    pub(super) usage: &'a SnapUsage,
    pub(super) pairs: Vec<PreparedPair<'a>>,
    pub(super) days: BTreeMap<i64, Bucket>,
    pub(super) hours: [Bucket; 24],
}

pub(super) struct PreparedPair<'a> {
    pub(super) key: &'a str,
    pub(super) model: &'a str,
    pub(super) requests: u64,
    pub(super) tokens: u64,
    /// Oldest first.
    pub(super) details: Vec<PreparedDetail<'a>>,
}

pub(super) struct PreparedDetail<'a> {
    pub(super) at: i64,
    pub(super) latency_ms: u64,
    pub(super) source: &'a str,
    pub(super) auth_index: &'a str,
    pub(super) tokens: Tokens,
    pub(super) total: u64,
    pub(super) failed: bool,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(usage: &'a SnapUsage) -> Result<Self, UsageError> {
        let mut pairs = Vec::new();
        for (key, api) in &usage.apis {
            for (model, m) in &api.models {
                let mut details = Vec::with_capacity(m.details.len());
                for d in &m.details {
                    let at = parse_rfc3339(&d.timestamp).ok_or_else(|| UsageError::Field {
                        field: "timestamp",
                        value: d.timestamp.clone(),
                    })?;
                    let t = &d.tokens;
                    let tokens = Tokens {
                        input: t.input_tokens,
                        output: t.output_tokens,
                        cached: t.cached_tokens,
                        reasoning: t.reasoning_tokens,
                    };
                    let total = if t.total_tokens == 0 {
                        tokens.total()
                    } else {
                        t.total_tokens
                    };
                    details.push(PreparedDetail {
                        at,
                        latency_ms: d.latency_ms,
                        source: &d.source,
                        auth_index: &d.auth_index,
                        tokens,
                        total,
                        failed: d.failed,
                    });
                }
                details.sort_by_key(|d| d.at);
                pairs.push(PreparedPair {
                    key,
                    model,
                    requests: m.total_requests,
                    tokens: m.total_tokens,
                    details,
                });
            }
        }
        let mut days: BTreeMap<i64, Bucket> = BTreeMap::new();
        for (map, is_tokens) in [
            (&usage.requests_by_day, false),
            (&usage.tokens_by_day, true),
        ] {
            for (k, &n) in map {
                let day = parse_day(k)?;
                let b = days.entry(day).or_default();
                if is_tokens {
                    b.add(0, n);
                } else {
                    b.add(n, 0);
                }
            }
        }
        let mut hours = [Bucket::default(); 24];
        for (map, is_tokens) in [
            (&usage.requests_by_hour, false),
            (&usage.tokens_by_hour, true),
        ] {
            for (k, &n) in map {
                let b = k
                    .parse::<usize>()
                    .ok()
                    .and_then(|h| hours.get_mut(h))
                    .ok_or_else(|| UsageError::Field {
                        field: "hour",
                        value: k.clone(),
                    })?;
                if is_tokens {
                    b.add(0, n);
                } else {
                    b.add(n, 0);
                }
            }
        }
        Ok(Prepared {
            usage,
            pairs,
            days,
            hours,
        })
    }
}

fn parse_day(s: &str) -> Result<i64, UsageError> {
    let bad = || UsageError::Field {
        field: "day",
        value: s.to_owned(),
    };
    if s.len() != 10 {
        return Err(bad());
    }
    parse_rfc3339(&format!("{s}T00:00:00Z"))
        .map(|secs| secs.div_euclid(DAY))
        .ok_or_else(bad)
}
