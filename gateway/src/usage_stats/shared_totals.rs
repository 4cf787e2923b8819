//! Usage totals over all replicas (`shared-state`, docs/scale-out.md). Pure; no I/O.
//!
//! Each replica adds what its finished requests count to one shared Redis hash (the writer is
//! `shared_state`); this module names the fields one request adds to ([`UsageDelta::add_to`])
//! and puts the shared counts into this replica's `/usage` answer ([`SharedTotals::overlay`]):
//! every count (`total_requests`, `success_count`, `failure_count`, `total_tokens`, per key and
//! model, per day, per hour, `failed_requests`) comes from the shared hash; the `details`
//! lists stay this replica's own (the newest requests it served itself).
//!
//! Hash fields (parts joined with U+001F, counts are integers):
//!
//! | field | counts |
//! |---|---|
//! | `t␟r`, `t␟s`, `t␟f`, `t␟t` | requests, successes, failures, tokens |
//! | `m␟<key id>␟<model>␟r` / `␟t` | requests / tokens of one client key and model |
//! | `d␟<YYYY-MM-DD>␟r` / `␟t` | requests / tokens of one UTC day |
//! | `h␟<HH>␟r` / `␟t` | requests / tokens of one UTC hour of day |
//!
//! Names follow the local statistics: key `""` is [`ANONYMOUS`], model `""` is `unknown`, and
//! past [`Limits::key_models`] distinct (key, model) pairs a writer counts new ones under
//! model [`OTHER`] ([`PairBudget`]), so the hash stays bounded. The answer keeps the newest
//! 31 days, like the local statistics.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::state::{day_key, hour_of, unix_secs, DAYS_KEPT, UNKNOWN_MODEL};
use super::{UsageEvent, ANONYMOUS, DAY, OTHER};

/// Separates the parts of a field name (U+001F, unit separator).
const SEP: char = '\u{1f}';

/// What one finished request adds to the shared totals, owned so it can cross to the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDelta {
    key: String,
    model: String,
    at: i64,
    failed: bool,
    tokens: u64,
}

impl UsageDelta {
    pub fn of(e: &UsageEvent<'_>) -> Self {
        let key = if e.key_id.is_empty() {
            ANONYMOUS
        } else {
            e.key_id
        };
        let model = if e.model.is_empty() {
            UNKNOWN_MODEL
        } else {
            e.model
        };
        UsageDelta {
            key: clean(key),
            model: clean(model),
            at: unix_secs(e.at),
            failed: e.failed,
            tokens: e.tokens.total(),
        }
    }

    /// Adds this request's counts to `fields` (the writer's pending deltas).
    pub fn add_to(&self, budget: &mut PairBudget, fields: &mut HashMap<String, i64>) {
        let tokens = i64::try_from(self.tokens).unwrap_or(i64::MAX);
        let mut add = |name: String, n: i64| {
            let v = fields.entry(name).or_insert(0);
            *v = v.saturating_add(n);
        };
        add(format!("t{SEP}r"), 1);
        add(format!("t{SEP}{}", if self.failed { 'f' } else { 's' }), 1);
        add(format!("t{SEP}t"), tokens);
        let model = budget.model(&self.key, &self.model);
        add(format!("m{SEP}{}{SEP}{model}{SEP}r", self.key), 1);
        add(format!("m{SEP}{}{SEP}{model}{SEP}t", self.key), tokens);
        let day = day_key(self.at.div_euclid(DAY));
        add(format!("d{SEP}{day}{SEP}r"), 1);
        add(format!("d{SEP}{day}{SEP}t"), tokens);
        let hour = hour_of(self.at);
        add(format!("h{SEP}{hour:02}{SEP}r"), 1);
        add(format!("h{SEP}{hour:02}{SEP}t"), tokens);
    }
}

/// A name part without the separator.
fn clean(s: &str) -> String {
    s.replace(SEP, "_")
}

/// The (key, model) pairs one writer has named; past the limit new pairs count as [`OTHER`].
#[derive(Debug)]
pub struct PairBudget {
    seen: HashSet<(String, String)>,
    limit: usize,
}

impl PairBudget {
    pub fn new(limit: usize) -> Self {
        PairBudget {
            seen: HashSet::new(),
            limit,
        }
    }

    fn model<'a>(&mut self, key: &str, model: &'a str) -> &'a str {
        let pair = (key.to_owned(), model.to_owned());
        if self.seen.contains(&pair) {
            return model;
        }
        if self.seen.len() >= self.limit {
            return OTHER;
        }
        self.seen.insert(pair);
        model
    }
}

/// The shared hash as last read, by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedTotals {
    fields: HashMap<String, u64>,
}

/// Requests and tokens of one bucket.
#[derive(Debug, Clone, Copy, Default)]
struct Pair {
    requests: u64,
    tokens: u64,
}

impl Pair {
    fn set(&mut self, what: &str, n: u64) {
        match what {
            "r" => self.requests = n,
            "t" => self.tokens = n,
            _ => {}
        }
    }
}

impl SharedTotals {
    /// From `HGETALL`: negative or unparsable counts read as 0.
    pub fn from_fields(raw: impl IntoIterator<Item = (String, String)>) -> Self {
        let fields = raw
            .into_iter()
            .map(|(k, v)| (k, v.trim().parse::<u64>().unwrap_or(0)))
            .collect();
        SharedTotals { fields }
    }

    fn get(&self, name: &str) -> u64 {
        self.fields.get(name).copied().unwrap_or(0)
    }

    /// `local` (`UsageStats::usage_json`'s `{"usage", "failed_requests"}`) with every count
    /// replaced by the shared one; the details of pairs this replica served stay.
    pub fn overlay(&self, local: &Value) -> Value {
        let mut apis: BTreeMap<&str, BTreeMap<&str, Pair>> = BTreeMap::new();
        let mut days: BTreeMap<&str, Pair> = BTreeMap::new();
        let mut hours: BTreeMap<&str, Pair> = BTreeMap::new();
        for (name, &n) in &self.fields {
            let parts: Vec<&str> = name.split(SEP).collect();
            match parts.as_slice() {
                ["m", key, model, what] => apis
                    .entry(key)
                    .or_default()
                    .entry(model)
                    .or_default()
                    .set(what, n),
                ["d", day, what] => days.entry(day).or_default().set(what, n),
                ["h", hour, what] => hours.entry(hour).or_default().set(what, n),
                _ => {}
            }
        }
        let local_apis = &local["usage"]["apis"];
        let mut apis_json = Map::new();
        for (key, models) in &apis {
            let (mut requests, mut tokens) = (0u64, 0u64);
            let mut by_model = Map::new();
            for (model, p) in models {
                requests = requests.saturating_add(p.requests);
                tokens = tokens.saturating_add(p.tokens);
                let details = local_apis[*key]["models"][*model]["details"].clone();
                let details = if details.is_array() {
                    details
                } else {
                    json!([])
                };
                by_model.insert(
                    (*model).to_owned(),
                    json!({"total_requests": p.requests, "total_tokens": p.tokens, "details": details}),
                );
            }
            apis_json.insert(
                (*key).to_owned(),
                json!({"total_requests": requests, "total_tokens": tokens, "models": by_model}),
            );
        }
        let newest: Vec<(&&str, &Pair)> = days
            .iter()
            .rev()
            .take(usize::try_from(DAYS_KEPT).unwrap_or(31))
            .collect();
        let (mut req_day, mut tok_day) = (Map::new(), Map::new());
        for (day, p) in newest {
            req_day.insert((*day).to_owned(), p.requests.into());
            tok_day.insert((*day).to_owned(), p.tokens.into());
        }
        let (mut req_hour, mut tok_hour) = (Map::new(), Map::new());
        for (hour, p) in hours.iter().filter(|(_, p)| p.requests > 0 || p.tokens > 0) {
            req_hour.insert((*hour).to_owned(), p.requests.into());
            tok_hour.insert((*hour).to_owned(), p.tokens.into());
        }
        let sep = SEP;
        json!({
            "usage": {
                "total_requests": self.get(&format!("t{sep}r")),
                "success_count": self.get(&format!("t{sep}s")),
                "failure_count": self.get(&format!("t{sep}f")),
                "total_tokens": self.get(&format!("t{sep}t")),
                "apis": apis_json,
                "requests_by_day": req_day,
                "requests_by_hour": req_hour,
                "tokens_by_day": tok_day,
                "tokens_by_hour": tok_hour,
            },
            "failed_requests": self.get(&format!("t{sep}f")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, Tokens, UsageStats};
    use super::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn event<'a>(key: &'a str, model: &'a str, failed: bool, at: u64) -> UsageEvent<'a> {
        UsageEvent {
            key_id: key,
            model,
            account: "acct",
            provider: "claude",
            at: UNIX_EPOCH + Duration::from_secs(at),
            latency: Duration::from_millis(5),
            failed,
            tokens: Tokens {
                input: 10,
                output: 5,
                cached: 0,
                reasoning: 0,
            },
        }
    }

    /// Two replicas' deltas summed in one hash give the answer one replica would give had it
    /// served every request.
    #[test]
    fn summed_deltas_give_the_single_replica_answer() {
        let day2 = 20_000 * 86_400 + 3 * 3600;
        let events = [
            event("k1", "m", false, 1_700_000_000),
            event("k1", "m", true, 1_700_000_100),
            event("", "", false, day2),
            event("k2", "m2", false, day2 + 7200),
        ];
        let alone = UsageStats::new(Limits::default());
        let (a, b) = (
            UsageStats::new(Limits::default()),
            UsageStats::new(Limits::default()),
        );
        let mut hash: HashMap<String, i64> = HashMap::new();
        let (mut budget_a, mut budget_b) = (PairBudget::new(100), PairBudget::new(100));
        for (i, e) in events.iter().enumerate() {
            alone.record(e);
            let (replica, budget) = if i % 2 == 0 {
                (&a, &mut budget_a)
            } else {
                (&b, &mut budget_b)
            };
            replica.record(e);
            UsageDelta::of(e).add_to(budget, &mut hash);
        }
        let totals = SharedTotals::from_fields(hash.into_iter().map(|(k, v)| (k, v.to_string())));
        let want = alone.usage_json();
        let got = totals.overlay(&a.usage_json());
        for field in [
            "total_requests",
            "success_count",
            "failure_count",
            "total_tokens",
        ] {
            assert_eq!(got["usage"][field], want["usage"][field], "{field}");
        }
        for field in [
            "requests_by_day",
            "tokens_by_day",
            "requests_by_hour",
            "tokens_by_hour",
        ] {
            assert_eq!(got["usage"][field], want["usage"][field], "{field}");
        }
        assert_eq!(got["failed_requests"], 1);
        let (g, w) = (&got["usage"]["apis"], &want["usage"]["apis"]);
        assert_eq!(g["k1"]["total_requests"], w["k1"]["total_requests"]);
        assert_eq!(g["anonymous"]["models"]["unknown"]["total_tokens"], 15);
        assert_eq!(g["k2"]["models"]["m2"]["total_requests"], 1);
        // Details: only the ones replica `a` served itself (events 0 and 2).
        assert_eq!(
            g["k1"]["models"]["m"]["details"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(g["k2"]["models"]["m2"]["details"], json!([]));
    }

    #[test]
    fn pairs_past_the_budget_count_as_other_and_separators_are_replaced() {
        let mut hash = HashMap::new();
        let mut budget = PairBudget::new(1);
        let now = SystemTime::now();
        for model in ["a", "b\u{1f}c", "a"] {
            let mut e = event("k", model, false, 0);
            e.at = now;
            UsageDelta::of(&e).add_to(&mut budget, &mut hash);
        }
        assert_eq!(hash.get("m\u{1f}k\u{1f}a\u{1f}r"), Some(&2));
        assert_eq!(hash.get("m\u{1f}k\u{1f}other\u{1f}r"), Some(&1));
        assert_eq!(hash.get("t\u{1f}r"), Some(&3));
        assert_eq!(
            SharedTotals::from_fields([("t\u{1f}r".to_owned(), "x".to_owned())]).get("t\u{1f}r"),
            0
        );
    }
}
