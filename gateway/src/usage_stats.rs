//! Usage statistics: CLIProxyAPI's `usage-statistics-enabled` counters (requests, successes,
//! failures, tokens per client key and model, per day and per hour of day), served in
//! CLIProxyAPI v6's `GET /v0/management/usage` JSON shape so a management API can return
//! [`UsageStats::usage_json`] unchanged, plus per-account and per-provider totals
//! ([`UsageStats::by_account_json`]), kept in a file across restarts.
//!
//! Contract:
//! - Who calls what: the `logging` phase calls [`UsageStats::record`] once per finished
//!   request (one short `Mutex` section, no allocation once the key, model, account and provider
//!   are known). Management handlers call `usage_json`, `by_account_json`, `export_json` and
//!   `import_json`. Start-up calls [`UsageStats::load`] (or [`UsageStats::load_or_quarantine`])
//!   and [`UsageStats::spawn_saver`]; shutdown calls [`SaverHandle::stop_and_save`]. The saver
//!   is a plain `std` thread: no tokio.
//! - Memory is bounded (CLIProxyAPI kept every request detail forever, its issue #3048):
//!   [`Limits::keys`] client keys, [`Limits::models`] model names, [`Limits::key_models`]
//!   (key, model) pairs and [`Limits::accounts`] accounts and providers each; a name past its
//!   limit is counted under [`OTHER`]. Each (key, model) pair keeps its newest
//!   [`Limits::details_per_model`] request details (64 bytes each). Days: the newest 31; hours:
//!   the 24 hours of the day. Worst case with the defaults: about (2 000 + 10 000) pairs ×
//!   100 details × 64 B ≈ 77 MB; a gateway with ten keys and twenty models holds about 1.3 MB.
//! - Times are UTC, whole seconds (`2026-01-02T03:04:05Z`). Counts saturate instead of
//!   overflowing. A poisoned lock is used as is (the counters stay consistent enough to serve).
//!
//! Field mapping to CLIProxyAPI's shape:
//!
//! | here | CLIProxyAPI `/usage` |
//! |---|---|
//! | [`UsageEvent::key_id`] (`""` → [`ANONYMOUS`]) | `apis` key (CLIProxyAPI: the client API key itself; we never show a key) |
//! | [`UsageEvent::model`] (`""` → `unknown`) | `models` key |
//! | [`UsageEvent::account`] | detail `source` |
//! | [`UsageEvent::provider`] | detail `auth_index` |
//! | [`Tokens::input`] (includes cached) | `input_tokens` |
//! | [`Tokens::output`] (includes reasoning) | `output_tokens` |
//! | [`Tokens::total`] = input + output | `total_tokens` (what every `total_tokens` sums) |
//! | hour of day, `"00"`..`"23"` | `requests_by_hour`, `tokens_by_hour` |
//! | `"YYYY-MM-DD"`, newest 31 days | `requests_by_day`, `tokens_by_day` |
//!
//! Import ([`UsageStats::import_json`], CLIProxyAPI's `POST /usage/import`) merges the listed
//! details, skipping one already held: same key, model, timestamp, source, auth index,
//! latency, failure and tokens; also one at or before the newest detail this pair already
//! dropped for the cap, which cannot be told apart from a duplicate (so importing a file twice
//! adds nothing). The requests an export counts but no longer lists (past the detail cap) are
//! merged only into empty statistics, where they cannot be duplicates: export → import into a
//! fresh gateway gives the same `/usage`. Per-account and per-provider counters take only the
//! listed details of an import (the `/usage` shape has no such totals).
//!
//! The state file ([`UsageStats::save`]) is `export_json` plus `by_account` and the per-pair
//! drop marks, written atomically with mode 0600.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_auth::timefmt::format_rfc3339_system;

/// Where usage statistics are saved and loaded: `usage-statistics-file`, else
/// `usage-statistics.json` in `auth-dir`; `None` while `usage-statistics-enabled` is off.
/// (The auth-dir watcher skips this file: its periodic saves are not account changes.)
pub fn file_of(config: &switchyard_conf::Config) -> Option<PathBuf> {
    if !config.usage_statistics_enabled {
        return None;
    }
    Some(match &config.usage_statistics_file {
        Some(p) => switchyard_auth::store::expand_home(p),
        None => switchyard_auth::store::expand_home(&config.auth_dir).join("usage-statistics.json"),
    })
}

pub use shared_totals::{PairBudget, SharedTotals, UsageBatch, UsageDelta};
use snapshot::{ImportDoc, Prepared, StateDoc};
use state::Inner;

/// The `apis` key of requests made without a client key (no `api-keys` configured).
pub const ANONYMOUS: &str = "anonymous";
/// The bucket for names past their [`Limits`].
pub const OTHER: &str = "other";
const FORMAT_VERSION: u64 = 1;
const DAY: i64 = 86_400;

/// Tokens of one request, in the IR's meaning (`switchyard_translators::ir::Usage`): `input`
/// counts cached input too, `output` counts reasoning too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl Tokens {
    /// Input plus output (cached and reasoning are parts of those).
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }
}

impl From<&switchyard_translators::ir::Usage> for Tokens {
    fn from(u: &switchyard_translators::ir::Usage) -> Self {
        Tokens {
            input: u.input_tokens,
            output: u.output_tokens,
            cached: u.cache_read_tokens,
            reasoning: u.reasoning_tokens,
        }
    }
}

/// One finished request, as the gateway's logging phase reports it.
#[derive(Debug, Clone, Copy)]
pub struct UsageEvent<'a> {
    /// Client key id: a short hash of the client key, never the key; `""` counts as
    /// [`ANONYMOUS`].
    pub key_id: &'a str,
    /// The model the client asked for; `""` counts as `unknown`.
    pub model: &'a str,
    /// Account id (`claude-api-key[0]`, `auth-dir/x.json`); `""` if none was tried.
    pub account: &'a str,
    /// Provider label (`claude`, `codex-oauth`, ...); `""` if none.
    pub provider: &'a str,
    /// When the request arrived.
    pub at: SystemTime,
    pub latency: Duration,
    pub failed: bool,
    pub tokens: Tokens,
}

/// Memory bounds (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request details kept per (key, model), the newest by timestamp. Default 100.
    pub details_per_model: usize,
    /// Distinct client key ids. Default 10 000.
    pub keys: usize,
    /// Distinct model names. Default 10 000.
    pub models: usize,
    /// Distinct (key, model) pairs; past it a key's new models count under [`OTHER`].
    /// Default 2 000.
    pub key_models: usize,
    /// Distinct accounts, and distinct providers. Default 10 000.
    pub accounts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            details_per_model: 100,
            keys: 10_000,
            models: 10_000,
            key_models: 2_000,
            accounts: 10_000,
        }
    }
}

/// What an import did, CLIProxyAPI's `{added, skipped}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportReport {
    pub added: u64,
    pub skipped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("usage statistics file {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("usage statistics file {} is not JSON: {source}", path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("usage statistics have the wrong shape: {0}")]
    Shape(serde_json::Error),
    #[error("usage statistics version {0} is not supported (expected 1)")]
    Version(u64),
    #[error("usage statistics: bad {field} {value:?}")]
    Field { field: &'static str, value: String },
    #[error("usage statistics could not be encoded: {0}")]
    Encode(serde_json::Error),
    #[error("usage statistics saver thread could not start: {0}")]
    Spawn(io::Error),
}

impl UsageError {
    /// True when the file was read but its content is unusable (keep it aside, start empty).
    pub fn is_corrupt(&self) -> bool {
        match self {
            UsageError::NotJson { .. }
            | UsageError::Shape(_)
            | UsageError::Version(_)
            | UsageError::Field { .. } => true,
            UsageError::Io { .. } | UsageError::Encode(_) | UsageError::Spawn(_) => false,
        }
    }
}

/// The statistics; share behind an `Arc`.
#[derive(Debug)]
pub struct UsageStats {
    inner: Mutex<Inner>,
    /// The totals over all replicas (`shared-state`), as last read; `None`: this replica's own.
    shared: arc_swap::ArcSwapOption<SharedTotals>,
}

impl UsageStats {
    pub fn new(limits: Limits) -> Self {
        UsageStats {
            inner: Mutex::new(Inner::new(limits)),
            shared: arc_swap::ArcSwapOption::empty(),
        }
    }

    /// Counts one finished request. O(1) amortised; allocates only for a name seen first.
    pub fn record(&self, e: &UsageEvent<'_>) {
        self.lock().record(e, true);
    }

    /// Counts one finished request without keeping its detail (`commercial-mode`): every
    /// total and bucket as [`UsageStats::record`], no entry in the `details` lists.
    pub fn count(&self, e: &UsageEvent<'_>) {
        self.lock().record(e, false);
    }

    /// CLIProxyAPI v6 `GET /usage` body: `{"usage": {...}, "failed_requests": N}`. With
    /// shared totals set, every count is the one over all replicas ([`SharedTotals::overlay`]).
    pub fn usage_json(&self) -> Value {
        let local = {
            let g = self.lock();
            json!({"usage": g.usage(), "failed_requests": g.failures()})
        };
        match self.shared.load_full() {
            Some(totals) => totals.overlay(&local),
            None => local,
        }
    }

    /// The totals over all replicas, as the `shared_state` writer last read them.
    pub fn set_shared_totals(&self, totals: SharedTotals) {
        self.shared.store(Some(Arc::new(totals)));
    }

    /// Per account and per provider: `{"accounts": {<id>: {...}}, "providers": {<label>:
    /// {...}}}`, each `{total_requests, success_count, failure_count, input_tokens,
    /// output_tokens, cached_tokens, reasoning_tokens, total_tokens}`. The account `""` counts
    /// requests answered before any account was tried.
    pub fn by_account_json(&self) -> Value {
        self.lock().by_account()
    }

    /// CLIProxyAPI `GET /usage/export`: `{"version": 1, "exported_at", "usage"}`.
    pub fn export_json(&self) -> Value {
        let usage = self.lock().usage();
        json!({
            "version": FORMAT_VERSION,
            "exported_at": format_rfc3339_system(SystemTime::now()),
            "usage": usage,
        })
    }

    /// CLIProxyAPI `POST /usage/import`: merges an export (or a `GET /usage` body); see the
    /// module docs for what counts as a duplicate. Nothing changes when it returns an error.
    pub fn import_json(&self, v: &Value) -> Result<ImportReport, UsageError> {
        let doc = ImportDoc::deserialize(v).map_err(UsageError::Shape)?;
        check_version(doc.version)?;
        let snap = Prepared::new(&doc.usage)?;
        let mut g = self.lock();
        let report = g.merge(&snap, true);
        g.generation += 1;
        Ok(report)
    }

    /// Writes the state to `path` atomically (temp file in the same directory, fsync, rename),
    /// mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), UsageError> {
        let doc = self.lock().state_json();
        write_state(path, &doc)
    }

    /// Reads a file [`save`](Self::save) wrote. A missing file gives empty statistics; an
    /// unreadable or corrupt one an error.
    pub fn load(path: &Path, limits: Limits) -> Result<Self, UsageError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::new(limits)),
            Err(source) => {
                return Err(UsageError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let v: Value = serde_json::from_slice(&bytes).map_err(|source| UsageError::NotJson {
            path: path.to_owned(),
            source,
        })?;
        let doc = StateDoc::deserialize(&v).map_err(UsageError::Shape)?;
        check_version(doc.version)?;
        let snap = Prepared::new(&doc.usage)?;
        let mut inner = Inner::new(limits);
        inner.merge(&snap, false);
        inner.restore_accounts(&doc.by_account);
        inner.restore_marks(&doc.trimmed_before);
        Ok(UsageStats {
            inner: Mutex::new(inner),
            shared: arc_swap::ArcSwapOption::empty(),
        })
    }

    /// [`load`](Self::load) for start-up: on error returns empty statistics and the error for
    /// the caller to log; a corrupt file is first renamed to `<name>.corrupt` so the next save
    /// does not overwrite it.
    pub fn load_or_quarantine(path: &Path, limits: Limits) -> (Self, Option<UsageError>) {
        match Self::load(path, limits) {
            Ok(s) => (s, None),
            Err(e) => {
                let e = if e.is_corrupt() {
                    let mut aside = path.as_os_str().to_owned();
                    aside.push(".corrupt");
                    match fs::rename(path, &aside) {
                        Ok(()) => e,
                        Err(source) => UsageError::Io {
                            path: PathBuf::from(aside),
                            source,
                        },
                    }
                } else {
                    e
                };
                (Self::new(limits), Some(e))
            }
        }
    }

    /// Starts a thread that saves to `path` every `every` when something changed. Call
    /// [`SaverHandle::stop_and_save`] at shutdown.
    pub fn spawn_saver(
        self: &Arc<Self>,
        path: PathBuf,
        every: Duration,
    ) -> Result<SaverHandle, UsageError> {
        let (tx, rx) = mpsc::channel::<()>();
        let stats = Arc::clone(self);
        let thread_path = path.clone();
        // The generation last written; `None` after a failed write, so the next tick retries.
        let mut saved = Some(self.lock().generation);
        let thread = std::thread::Builder::new()
            .name("usage-saver".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    let doc = {
                        let g = stats.lock();
                        if saved == Some(g.generation) {
                            continue;
                        }
                        saved = Some(g.generation);
                        g.state_json()
                    };
                    if let Err(e) = write_state(&thread_path, &doc) {
                        tracing::warn!(error = %e, "usage statistics not saved; retrying");
                        saved = None;
                    }
                }
            })
            .map_err(UsageError::Spawn)?;
        Ok(SaverHandle {
            stop: Some(tx),
            thread: Some(thread),
            stats: Arc::clone(self),
            path,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The periodic saver; dropping it stops the thread without a last save.
#[derive(Debug)]
pub struct SaverHandle {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<UsageStats>,
    path: PathBuf,
}

impl SaverHandle {
    /// Stops the thread, waits for it, and saves once more (call at shutdown, after the last
    /// request was recorded).
    pub fn stop_and_save(mut self) -> Result<(), UsageError> {
        self.stop = None;
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::warn!("usage statistics saver thread panicked");
            }
        }
        self.stats.save(&self.path)
    }
}

impl Drop for SaverHandle {
    fn drop(&mut self) {
        self.stop = None;
    }
}

/// Atomically, mode 0600, without touching the directory's mode: the state file may sit next
/// to the config (`switchyard_auth::store::replace_file`).
fn write_state(path: &Path, doc: &Value) -> Result<(), UsageError> {
    let bytes = serde_json::to_vec(doc).map_err(UsageError::Encode)?;
    switchyard_auth::store::replace_file(path, &bytes).map_err(|source| UsageError::Io {
        path: path.to_owned(),
        source,
    })
}

fn check_version(v: Option<u64>) -> Result<(), UsageError> {
    match v {
        None | Some(FORMAT_VERSION) => Ok(()),
        Some(other) => Err(UsageError::Version(other)),
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    requests: u64,
    tokens: u64,
}

impl Bucket {
    fn add(&mut self, requests: u64, tokens: u64) {
        self.requests = self.requests.saturating_add(requests);
        self.tokens = self.tokens.saturating_add(tokens);
    }
}

mod shared_totals;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;
