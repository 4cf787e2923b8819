//! The in-memory state behind [`super::UsageStats`]: interned names, the key → model → stats
//! tree with its caps, the day and hour buckets, per-account counters, the `/usage` rendering
//! and the merge of a parsed snapshot. No I/O; the clock is read only for `exported_at`.
//! Every function here runs under the `UsageStats` mutex.

use std::collections::{hash_map, BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use switchyard_auth::timefmt::{format_rfc3339, format_rfc3339_system};

use super::snapshot::{Prepared, SnapByAccount};
use super::{
    Bucket, ImportReport, Limits, Tokens, UsageEvent, ANONYMOUS, DAY, FORMAT_VERSION, OTHER,
};

pub(super) const UNKNOWN_MODEL: &str = "unknown";
pub(super) const DAYS_KEPT: i64 = 31;

pub(super) fn day_key(day: i64) -> String {
    let mut s = format_rfc3339(day.saturating_mul(DAY));
    s.truncate(10);
    s
}

pub(super) fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(super) fn hour_of(at: i64) -> usize {
    usize::try_from(at.rem_euclid(DAY) / 3600).unwrap_or(0)
}

/// One request detail: 64 bytes, names interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Detail {
    at: i64,
    /// Saturates at 49 days.
    latency_ms: u32,
    account: u32,
    provider: u32,
    tokens: Tokens,
    total: u64,
    failed: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    requests: u64,
    success: u64,
    failure: u64,
    input: u64,
    output: u64,
    cached: u64,
    reasoning: u64,
    total: u64,
}

impl Counts {
    fn add(&mut self, d: &Detail) {
        self.requests = self.requests.saturating_add(1);
        if d.failed {
            self.failure = self.failure.saturating_add(1);
        } else {
            self.success = self.success.saturating_add(1);
        }
        self.input = self.input.saturating_add(d.tokens.input);
        self.output = self.output.saturating_add(d.tokens.output);
        self.cached = self.cached.saturating_add(d.tokens.cached);
        self.reasoning = self.reasoning.saturating_add(d.tokens.reasoning);
        self.total = self.total.saturating_add(d.total);
    }

    pub(super) fn merge(&mut self, o: &Counts) {
        let pairs = [
            (&mut self.requests, o.requests),
            (&mut self.success, o.success),
            (&mut self.failure, o.failure),
            (&mut self.input, o.input),
            (&mut self.output, o.output),
            (&mut self.cached, o.cached),
            (&mut self.reasoning, o.reasoning),
            (&mut self.total, o.total),
        ];
        for (a, b) in pairs {
            *a = a.saturating_add(b);
        }
    }

    fn json(&self) -> Value {
        json!({
            "total_requests": self.requests,
            "success_count": self.success,
            "failure_count": self.failure,
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cached_tokens": self.cached,
            "reasoning_tokens": self.reasoning,
            "total_tokens": self.total,
        })
    }
}

/// Interned names with a cap; past it, [`OTHER`].
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    cap: usize,
}

impl Names {
    fn with_cap(cap: usize) -> Self {
        Names {
            cap,
            ..Names::default()
        }
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let name = if self.names.len() < self.cap {
            name
        } else {
            OTHER
        };
        self.insert(name)
    }

    fn other(&mut self) -> u32 {
        self.insert(OTHER)
    }

    fn insert(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.names.get(i))
            .map_or(OTHER, |n| n)
    }
}

/// Names with counters (accounts, providers).
#[derive(Debug)]
struct Table {
    names: Names,
    counts: Vec<Counts>,
}

impl Table {
    fn new(cap: usize) -> Self {
        Table {
            names: Names::with_cap(cap),
            counts: Vec::new(),
        }
    }

    fn id(&mut self, name: &str) -> u32 {
        let id = self.names.id(name);
        let len = self.names.names.len();
        if self.counts.len() < len {
            self.counts.resize(len, Counts::default());
        }
        id
    }

    fn counts_mut(&mut self, id: u32) -> Option<&mut Counts> {
        self.counts.get_mut(usize::try_from(id).ok()?)
    }

    fn json(&self) -> Value {
        let mut m = Map::new();
        for (name, c) in self.names.names.iter().zip(&self.counts) {
            if c.requests > 0 {
                m.insert(name.to_string(), c.json());
            }
        }
        Value::Object(m)
    }
}

/// Everything not per (key, model).
#[derive(Debug)]
struct Aggregates {
    totals: Counts,
    accounts: Table,
    providers: Table,
    days: BTreeMap<i64, Bucket>,
    hours: [Bucket; 24],
}

impl Aggregates {
    fn count(&mut self, d: &Detail, accounts: bool) {
        self.totals.add(d);
        self.add_hour(hour_of(d.at), 1, d.total);
        self.add_day(d.at.div_euclid(DAY), 1, d.total);
        if accounts {
            if let Some(c) = self.accounts.counts_mut(d.account) {
                c.add(d);
            }
            if let Some(c) = self.providers.counts_mut(d.provider) {
                c.add(d);
            }
        }
    }

    fn add_hour(&mut self, hour: usize, requests: u64, tokens: u64) {
        if let Some(b) = self.hours.get_mut(hour) {
            b.add(requests, tokens);
        }
    }

    fn add_day(&mut self, day: i64, requests: u64, tokens: u64) {
        if requests == 0 && tokens == 0 {
            return;
        }
        let newest = self.days.last_key_value().map_or(day, |(&k, _)| k.max(day));
        let oldest_kept = newest.saturating_sub(DAYS_KEPT - 1);
        if day < oldest_kept {
            return;
        }
        self.days.entry(day).or_default().add(requests, tokens);
        while let Some((&first, _)) = self.days.first_key_value() {
            if first >= oldest_kept {
                break;
            }
            self.days.pop_first();
        }
    }
}

#[derive(Debug, Default)]
struct ModelStats {
    requests: u64,
    tokens: u64,
    /// Oldest first.
    details: VecDeque<Detail>,
    /// The newest `at` of a detail dropped for the cap: an import cannot tell an older one
    /// from a duplicate.
    trimmed_before: Option<i64>,
}

impl ModelStats {
    fn push(&mut self, d: Detail, cap: usize) {
        self.requests = self.requests.saturating_add(1);
        self.tokens = self.tokens.saturating_add(d.total);
        if cap == 0 {
            // Counted only (commercial mode): the details already held stay as they are.
            return;
        }
        if self.details.capacity() == 0 {
            // Once, so the deque never grows past the cap (a doubling would overshoot it).
            self.details.reserve_exact(cap);
        }
        let mut pos = self.details.len();
        while pos > 0 && self.details.get(pos - 1).is_some_and(|p| p.at > d.at) {
            pos -= 1;
        }
        if self.details.len() >= cap {
            if pos == 0 {
                self.mark_trimmed(d.at);
                return;
            }
            if let Some(old) = self.details.pop_front() {
                self.mark_trimmed(old.at);
            }
            pos -= 1;
        }
        self.details.insert(pos, d);
    }

    fn mark_trimmed(&mut self, at: i64) {
        self.trimmed_before = Some(self.trimmed_before.map_or(at, |t| t.max(at)));
    }
}

/// Key → model → stats, with the name caps.
#[derive(Debug)]
struct Tree {
    limits: Limits,
    keys: HashMap<Box<str>, HashMap<u32, ModelStats>>,
    models: Names,
    pairs: usize,
}

impl Tree {
    /// The stats of (key, model), created (or [`OTHER`]) as the limits allow. `None` only
    /// if the key vanished between insert and lookup, which cannot happen.
    fn pair(&mut self, key: &str, model: &str) -> Option<&mut ModelStats> {
        let key = if key.is_empty() { ANONYMOUS } else { key };
        let model = if model.is_empty() {
            UNKNOWN_MODEL
        } else {
            model
        };
        let model_id = self.models.id(model);
        let key = if self.keys.contains_key(key) || self.keys.len() < self.limits.keys {
            key
        } else {
            OTHER
        };
        if !self.keys.contains_key(key) {
            self.keys.insert(key.into(), HashMap::new());
        }
        let models = self.keys.get_mut(key)?;
        let id = if models.contains_key(&model_id) || self.pairs < self.limits.key_models {
            model_id
        } else {
            self.models.other()
        };
        Some(match models.entry(id) {
            hash_map::Entry::Occupied(o) => o.into_mut(),
            hash_map::Entry::Vacant(v) => {
                self.pairs += 1;
                v.insert(ModelStats::default())
            }
        })
    }
}

#[derive(Debug)]
pub(super) struct Inner {
    tree: Tree,
    agg: Aggregates,
    /// Bumped on every change; the saver compares it with the last one it wrote.
    pub(super) generation: u64,
}

impl Inner {
    pub(super) fn new(limits: Limits) -> Self {
        Inner {
            tree: Tree {
                limits,
                keys: HashMap::new(),
                models: Names::with_cap(limits.models),
                pairs: 0,
            },
            agg: Aggregates {
                totals: Counts::default(),
                accounts: Table::new(limits.accounts),
                providers: Table::new(limits.accounts),
                days: BTreeMap::new(),
                hours: [Bucket::default(); 24],
            },
            generation: 0,
        }
    }

    /// Counts one finished request.
    pub(super) fn record(&mut self, e: &UsageEvent<'_>, detail: bool) {
        let d = Detail {
            at: unix_secs(e.at),
            latency_ms: u32::try_from(e.latency.as_millis()).unwrap_or(u32::MAX),
            account: self.agg.accounts.id(e.account),
            provider: self.agg.providers.id(e.provider),
            tokens: e.tokens,
            total: e.tokens.total(),
            failed: e.failed,
        };
        self.agg.count(&d, true);
        let cap = if detail {
            self.tree.limits.details_per_model
        } else {
            0
        };
        if let Some(pair) = self.tree.pair(e.key_id, e.model) {
            pair.push(d, cap);
        }
        self.generation += 1;
    }

    pub(super) fn failures(&self) -> u64 {
        self.agg.totals.failure
    }

    fn detail_json(&self, d: &Detail) -> Value {
        json!({
            "timestamp": format_rfc3339(d.at),
            "latency_ms": d.latency_ms,
            "source": self.agg.accounts.names.name(d.account),
            "auth_index": self.agg.providers.names.name(d.provider),
            "tokens": {
                "input_tokens": d.tokens.input,
                "output_tokens": d.tokens.output,
                "reasoning_tokens": d.tokens.reasoning,
                "cached_tokens": d.tokens.cached,
                "total_tokens": d.total,
            },
            "failed": d.failed,
        })
    }

    /// The `usage` object of CLIProxyAPI's `/usage`.
    pub(super) fn usage(&self) -> Value {
        let mut apis = Map::new();
        for (key, models) in &self.tree.keys {
            let (mut requests, mut tokens) = (0u64, 0u64);
            let mut by_model = Map::new();
            for (id, ms) in models {
                requests = requests.saturating_add(ms.requests);
                tokens = tokens.saturating_add(ms.tokens);
                let details: Vec<Value> = ms.details.iter().map(|d| self.detail_json(d)).collect();
                by_model.insert(
                    self.tree.models.name(*id).to_owned(),
                    json!({"total_requests": ms.requests, "total_tokens": ms.tokens, "details": details}),
                );
            }
            apis.insert(
                key.to_string(),
                json!({"total_requests": requests, "total_tokens": tokens, "models": by_model}),
            );
        }
        let (mut req_day, mut tok_day) = (Map::new(), Map::new());
        for (&day, b) in &self.agg.days {
            req_day.insert(day_key(day), b.requests.into());
            tok_day.insert(day_key(day), b.tokens.into());
        }
        let (mut req_hour, mut tok_hour) = (Map::new(), Map::new());
        for (hour, b) in self.agg.hours.iter().enumerate() {
            if b.requests > 0 || b.tokens > 0 {
                req_hour.insert(format!("{hour:02}"), b.requests.into());
                tok_hour.insert(format!("{hour:02}"), b.tokens.into());
            }
        }
        let t = &self.agg.totals;
        json!({
            "total_requests": t.requests,
            "success_count": t.success,
            "failure_count": t.failure,
            "total_tokens": t.total,
            "apis": apis,
            "requests_by_day": req_day,
            "requests_by_hour": req_hour,
            "tokens_by_day": tok_day,
            "tokens_by_hour": tok_hour,
        })
    }

    pub(super) fn by_account(&self) -> Value {
        json!({"accounts": self.agg.accounts.json(), "providers": self.agg.providers.json()})
    }

    /// What [`UsageStats::save`] writes.
    pub(super) fn state_json(&self) -> Value {
        let mut marks = Map::new();
        for (key, models) in &self.tree.keys {
            let mut m = Map::new();
            for (id, ms) in models {
                if let Some(t) = ms.trimmed_before {
                    m.insert(self.tree.models.name(*id).to_owned(), t.into());
                }
            }
            if !m.is_empty() {
                marks.insert(key.to_string(), Value::Object(m));
            }
        }
        json!({
            "version": FORMAT_VERSION,
            "exported_at": format_rfc3339_system(SystemTime::now()),
            "usage": self.usage(),
            "by_account": self.by_account(),
            "trimmed_before": marks,
        })
    }

    /// Merges a parsed snapshot (module docs: what is a duplicate, when the unlisted rest
    /// counts). `accounts`: count the details per account and provider (an import), or not
    /// (a load, which restores those counters from the file).
    pub(super) fn merge(&mut self, snap: &Prepared<'_>, accounts: bool) -> ImportReport {
        let fresh = self.agg.totals.requests == 0 && self.tree.keys.is_empty();
        let cap = self.tree.limits.details_per_model;
        let mut report = ImportReport::default();
        let mut listed = Counts::default();
        let mut listed_days: HashMap<i64, Bucket> = HashMap::new();
        let mut listed_hours = [Bucket::default(); 24];
        for p in &snap.pairs {
            let Some(ms) = self.tree.pair(p.key, p.model) else {
                continue;
            };
            let mark = if fresh { None } else { ms.trimmed_before };
            let mut seen: HashSet<Detail> = ms.details.iter().copied().collect();
            let (mut requests, mut tokens) = (0u64, 0u64);
            for pd in &p.details {
                let d = Detail {
                    at: pd.at,
                    latency_ms: u32::try_from(pd.latency_ms).unwrap_or(u32::MAX),
                    account: self.agg.accounts.id(pd.source),
                    provider: self.agg.providers.id(pd.auth_index),
                    tokens: pd.tokens,
                    total: pd.total,
                    failed: pd.failed,
                };
                if mark.is_some_and(|m| d.at <= m) || !seen.insert(d) {
                    report.skipped += 1;
                    continue;
                }
                self.agg.count(&d, accounts);
                listed.add(&d);
                listed_days
                    .entry(d.at.div_euclid(DAY))
                    .or_default()
                    .add(1, d.total);
                if let Some(b) = listed_hours.get_mut(hour_of(d.at)) {
                    b.add(1, d.total);
                }
                ms.push(d, cap);
                requests += 1;
                tokens = tokens.saturating_add(d.total);
                report.added += 1;
            }
            if fresh {
                ms.requests = ms
                    .requests
                    .saturating_add(p.requests.saturating_sub(requests));
                ms.tokens = ms.tokens.saturating_add(p.tokens.saturating_sub(tokens));
            }
        }
        if fresh {
            let t = &mut self.agg.totals;
            let u = snap.usage;
            t.requests = t
                .requests
                .saturating_add(u.total_requests.saturating_sub(listed.requests));
            t.success = t
                .success
                .saturating_add(u.success_count.saturating_sub(listed.success));
            t.failure = t
                .failure
                .saturating_add(u.failure_count.saturating_sub(listed.failure));
            t.total = t
                .total
                .saturating_add(u.total_tokens.saturating_sub(listed.total));
            for (day, b) in &snap.days {
                let l = listed_days.get(day).copied().unwrap_or_default();
                self.agg.add_day(
                    *day,
                    b.requests.saturating_sub(l.requests),
                    b.tokens.saturating_sub(l.tokens),
                );
            }
            for (hour, (b, l)) in snap.hours.iter().zip(&listed_hours).enumerate() {
                self.agg.add_hour(
                    hour,
                    b.requests.saturating_sub(l.requests),
                    b.tokens.saturating_sub(l.tokens),
                );
            }
        }
        report
    }

    pub(super) fn restore_accounts(&mut self, by: &SnapByAccount) {
        for (table, entries) in [
            (&mut self.agg.accounts, &by.accounts),
            (&mut self.agg.providers, &by.providers),
        ] {
            for (name, c) in entries {
                let id = table.id(name);
                if let Some(counts) = table.counts_mut(id) {
                    counts.merge(&Counts {
                        requests: c.total_requests,
                        success: c.success_count,
                        failure: c.failure_count,
                        input: c.input_tokens,
                        output: c.output_tokens,
                        cached: c.cached_tokens,
                        reasoning: c.reasoning_tokens,
                        total: c.total_tokens,
                    });
                }
            }
        }
    }

    pub(super) fn restore_marks(&mut self, marks: &BTreeMap<String, BTreeMap<String, i64>>) {
        for (key, models) in marks {
            let Some(by_model) = self.tree.keys.get_mut(key.as_str()) else {
                continue;
            };
            for (model, &at) in models {
                let Some(id) = self.tree.models.ids.get(model.as_str()) else {
                    continue;
                };
                if let Some(ms) = by_model.get_mut(id) {
                    ms.mark_trimmed(at);
                }
            }
        }
    }
}

/// The bytes of one kept request detail (the module docs' memory bound counts 64).
#[cfg(test)]
pub(super) const DETAIL_BYTES: usize = std::mem::size_of::<Detail>();

/// Sizes of the bounded collections, for the tests of the caps.
#[cfg(test)]
#[derive(Debug)]
pub(super) struct Sizes {
    pub(super) keys: usize,
    pub(super) models: usize,
    pub(super) pairs: usize,
    pub(super) accounts: usize,
    pub(super) providers: usize,
    pub(super) details: usize,
    pub(super) days: usize,
}

#[cfg(test)]
impl Inner {
    pub(super) fn sizes(&self) -> Sizes {
        Sizes {
            keys: self.tree.keys.len(),
            models: self.tree.models.names.len(),
            pairs: self.tree.pairs,
            accounts: self.agg.accounts.names.names.len(),
            providers: self.agg.providers.names.names.len(),
            details: self
                .tree
                .keys
                .values()
                .flat_map(|m| m.values())
                .map(|ms| ms.details.len())
                .sum(),
            days: self.agg.days.len(),
        }
    }
}
