//! Shared state: options, request journal, per-account counters and schedules.
//!
//! The journal keeps the last `--journal-max` entries (oldest dropped first) so long benchmarks
//! do not grow without bound; the counters behind `/_mock/count` are kept separately and stay
//! exact. `seq` numbers requests in the order their bodies finished arriving, from 1.

use crate::ids::IdGen;
use crate::schedule::{Schedule, Step};
use crate::Options;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::Notify;

/// Largest body kept as text in the journal.
pub const JOURNAL_BODY_MAX: usize = 65536;

/// One journaled request.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Arrival number, from 1, reset by `/_mock/reset`.
    pub seq: u64,
    /// Credential the request carried ("" if none).
    pub account: String,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string without `?` ("" if none).
    pub query: String,
    /// Headers by lowercase name; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// Body length in bytes.
    pub body_len: usize,
    /// Lowercase hex sha256 of the body.
    pub body_sha256: String,
    /// `model` from the body or the Gemini path.
    pub model: Option<String>,
    /// Whether a stream was asked for.
    pub stream: bool,
    /// `ok`, `status:NNN`, `inband_error`, `drop`, `hang` or `hold`.
    pub outcome: String,
    /// Whether the request carries a tool result (see [`crate::tools`]).
    pub has_tool_result: bool,
    /// The body as (lossy UTF-8) text when at most [`JOURNAL_BODY_MAX`] bytes.
    pub body: Option<String>,
}

#[derive(Debug, Default)]
struct Journal {
    entries: VecDeque<Entry>,
    next_seq: u64,
    total: u64,
    per_account: HashMap<String, u64>,
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct State {
    /// Command-line options.
    pub opts: Options,
    /// Id source.
    pub ids: IdGen,
    /// Woken by `/_mock/reset` to release hung requests.
    pub reset: Notify,
    /// Held streams (`hold_after_events`), released by `/_mock/release` and `/_mock/reset`.
    pub holds: crate::hold::Holds,
    /// Code Assist onboarding progress per account.
    pub onboarding: crate::codeassist::Onboarding,
    journal: Mutex<Journal>,
    schedules: Mutex<HashMap<String, Schedule>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    /// Fresh state.
    pub fn new(opts: Options) -> Self {
        State {
            opts,
            ids: IdGen::new(),
            reset: Notify::new(),
            holds: crate::hold::Holds::default(),
            onboarding: Default::default(),
            journal: Mutex::new(Journal::default()),
            schedules: Mutex::new(HashMap::new()),
        }
    }

    /// Clears the journal, the counters and every schedule, and releases hung and held
    /// requests.
    pub fn reset(&self) {
        *lock(&self.journal) = Journal::default();
        lock(&self.schedules).clear();
        self.reset.notify_waiters();
        self.holds.release();
    }

    /// Installs (replaces) an account's schedule.
    pub fn set_schedule(&self, account: String, schedule: Schedule) {
        lock(&self.schedules).insert(account, schedule);
    }

    /// Takes the next step for an account (ok when it has no schedule).
    pub fn next_step(&self, account: &str) -> Step {
        lock(&self.schedules)
            .get_mut(account)
            .map_or(Step::OK, Schedule::next_step)
    }

    /// Appends an entry, giving it the next `seq`.
    pub fn record(&self, mut entry: Entry) {
        let mut j = lock(&self.journal);
        j.next_seq += 1;
        entry.seq = j.next_seq;
        j.total += 1;
        *j.per_account.entry(entry.account.clone()).or_default() += 1;
        j.entries.push_back(entry);
        while j.entries.len() > self.opts.journal_max {
            j.entries.pop_front();
        }
    }

    /// Journal entries, optionally of one account, in arrival order.
    pub fn journal(&self, account: Option<&str>) -> Vec<Entry> {
        let j = lock(&self.journal);
        j.entries
            .iter()
            .filter(|e| account.is_none_or(|a| e.account == a))
            .cloned()
            .collect()
    }

    /// Number of requests since the last reset, optionally of one account.
    pub fn count(&self, account: Option<&str>) -> u64 {
        let j = lock(&self.journal);
        match account {
            None => j.total,
            Some(a) => j.per_account.get(a).copied().unwrap_or(0),
        }
    }
}
