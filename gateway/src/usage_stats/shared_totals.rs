//! Usage totals over all replicas (`shared-state`, docs/scale-out.md). Pure; no I/O.
//!
//! Each replica adds what its finished requests count to one shared Redis hash (the writer is
//! `shared_state`); this module names the fields a batch of requests adds to
//! ([`UsageBatch::fields`]) and puts the shared counts into this replica's `/usage` answer
//! ([`SharedTotals::overlay`]):
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

    /// Adds this request's counts to `fields` (field name to delta): what a [`UsageBatch`]
    /// of this one request writes (the tests' reference).
    #[cfg(test)]
    pub fn add_to(&self, budget: &mut PairBudget, fields: &mut HashMap<String, i64>) {
        let sums = Sums::of(self);
        let bucket = Bucket {
            key: self.key.clone(),
            model: self.model.clone(),
            day: self.at.div_euclid(DAY),
            hour: hour_of(self.at),
        };
        bucket.add_fields(&sums, budget, fields);
    }
}

/// What the requests of one bucket add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    requests: i64,
    successes: i64,
    failures: i64,
    tokens: i64,
}

impl Sums {
    fn of(d: &UsageDelta) -> Self {
        Sums {
            requests: 1,
            successes: i64::from(!d.failed),
            failures: i64::from(d.failed),
            tokens: i64::try_from(d.tokens).unwrap_or(i64::MAX),
        }
    }

    fn add(&mut self, o: &Sums) {
        self.requests = self.requests.saturating_add(o.requests);
        self.successes = self.successes.saturating_add(o.successes);
        self.failures = self.failures.saturating_add(o.failures);
        self.tokens = self.tokens.saturating_add(o.tokens);
    }
}

/// The counters one request touches: its key, model, UTC day and hour.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Bucket {
    key: String,
    model: String,
    day: i64,
    hour: usize,
}

impl Bucket {
    fn add_fields(&self, s: &Sums, budget: &mut PairBudget, fields: &mut HashMap<String, i64>) {
        let mut add = |name: String, n: i64| {
            if n != 0 {
                let v = fields.entry(name).or_insert(0);
                *v = v.saturating_add(n);
            }
        };
        add(format!("t{SEP}r"), s.requests);
        add(format!("t{SEP}s"), s.successes);
        add(format!("t{SEP}f"), s.failures);
        add(format!("t{SEP}t"), s.tokens);
        let model = budget.model(&self.key, &self.model);
        add(format!("m{SEP}{}{SEP}{model}{SEP}r", self.key), s.requests);
        add(format!("m{SEP}{}{SEP}{model}{SEP}t", self.key), s.tokens);
        let day = day_key(self.day);
        add(format!("d{SEP}{day}{SEP}r"), s.requests);
        add(format!("d{SEP}{day}{SEP}t"), s.tokens);
        add(format!("h{SEP}{:02}{SEP}r", self.hour), s.requests);
        add(format!("h{SEP}{:02}{SEP}t", self.hour), s.tokens);
    }
}

/// The usage a writer has not written yet, summed per bucket: one hash lookup per request,
/// field names built once per flush ([`UsageBatch::fields`]).
#[derive(Debug, Default)]
pub struct UsageBatch {
    buckets: HashMap<Bucket, Sums>,
}

impl UsageBatch {
    pub fn add(&mut self, d: UsageDelta) {
        let sums = Sums::of(&d);
        let bucket = Bucket {
            day: d.at.div_euclid(DAY),
            hour: hour_of(d.at),
            key: d.key,
            model: d.model,
        };
        self.buckets.entry(bucket).or_default().add(&sums);
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Field name to delta, for `HINCRBY`.
    pub fn fields(&self, budget: &mut PairBudget) -> HashMap<String, i64> {
        let mut fields = HashMap::new();
        for (bucket, sums) in &self.buckets {
            bucket.add_fields(sums, budget, &mut fields);
        }
        fields
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` day (the inverse of `day_key`).
fn day_number(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-').map(str::parse::<i64>);
    let (y, m, d) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
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
        // Like the local statistics: the 31 days up to the newest one counted.
        let newest = days.keys().filter_map(|d| day_number(d)).max();
        let oldest_kept = newest.map(|n| n - (DAYS_KEPT - 1));
        let kept = days
            .iter()
            .filter(|(d, _)| matches!((day_number(d), oldest_kept), (Some(n), Some(o)) if n >= o));
        let (mut req_day, mut tok_day) = (Map::new(), Map::new());
        for (day, p) in kept {
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
    fn day_numbers_invert_day_keys() {
        for n in [0, 1, 59, 365, 11_016, 19_723, 20_000, 20_431] {
            assert_eq!(day_number(&day_key(n)), Some(n), "{}", day_key(n));
        }
        assert_eq!(day_number("2026-13-01"), None);
        assert_eq!(day_number("x"), None);
    }

    #[test]
    fn a_batch_writes_what_its_requests_add_one_by_one() {
        let mut one_by_one = HashMap::new();
        let mut batch = UsageBatch::default();
        let mut budget = PairBudget::new(100);
        for (i, model) in ["a", "b", "a", "a"].into_iter().enumerate() {
            let e = event("k", model, i == 2, 1_700_000_000 + 4000 * i as u64);
            UsageDelta::of(&e).add_to(&mut budget, &mut one_by_one);
            batch.add(UsageDelta::of(&e));
        }
        one_by_one.retain(|_, v| *v != 0);
        assert_eq!(batch.fields(&mut budget), one_by_one);
        assert_eq!(one_by_one.get("t\u{1f}f"), Some(&1));
        batch.clear();
        assert!(batch.is_empty());
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
