//! The stateful half of the refresh service (see `refresh/mod.rs` for the contract).

use super::coordinate::{decide, Coordination, Decision, LockCounts, LockEvent};
use super::schedule::{backoff, is_due, Timing};
use crate::egress::{Clients, Route};
use crate::error::AuthError;
use crate::provider::Provider;
use crate::provider::ProviderId;
use crate::record::AuthRecord;
use crate::store::{FileStamp, TokenStore};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use switchyard_conf::{Config, Secret};
use tokio::sync::Semaphore;

/// The clock the service reads (tests inject a fixed one).
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::login::now_secs()
    }
}

/// Whether an account can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Not usable until its file changes (a new login); the reason is for status pages.
    Unusable(String),
}

/// Why a refresh was asked for.
#[derive(Clone, Copy)]
enum Refresh<'a> {
    /// An upstream 401 with this token: skip if it was already replaced.
    After401(&'a str),
    Now,
    /// The background loop: skip if no longer due.
    IfDue,
}

struct State {
    record: AuthRecord,
    /// Shared by the accounts of a provider (resolved once per reload).
    provider: Arc<Provider>,
    status: AccountStatus,
    failures: u32,
    retry_at: Option<i64>,
}

struct Slot {
    state: RwLock<State>,
    flight: tokio::sync::Mutex<()>,
    /// A grant is on the wire (metrics read it without waiting for `flight`).
    granting: AtomicBool,
}

/// Clears [`Slot::granting`] when the grant ends, also when its future is dropped.
struct Granting<'a>(&'a AtomicBool);

impl<'a> Granting<'a> {
    fn start(flag: &'a AtomicBool) -> Self {
        flag.store(true, Ordering::Relaxed);
        Self(flag)
    }
}

impl Drop for Granting<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Finished refreshes of one provider since start (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshCounts {
    /// New tokens obtained and saved.
    pub ok: u64,
    /// The grant or the save failed.
    pub error: u64,
}

/// One `[ok, error]` pair per [`ProviderId::ALL`] entry.
type Counters = [[AtomicU64; 2]; ProviderId::ALL.len()];

/// The refresh service.
pub struct Refresher {
    store: TokenStore,
    config: Config,
    /// One HTTP client per proxy route ([`Refresher::route`]).
    clients: Clients,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    /// Per file id, the stamp of the last read that still stands for the file (settled, see
    /// [`FileStamp::settled`]): [`Refresher::reload`] skips those files while the stamp holds.
    read_stamps: Mutex<HashMap<String, FileStamp>>,
    /// Problems already logged (the directory is re-read every tick: each is logged once).
    warned: Mutex<std::collections::HashSet<String>>,
    workers: Arc<Semaphore>,
    clock: Arc<dyn Clock>,
    counters: Counters,
    /// Who else may refresh the same files ([`Refresher::set_coordination`]).
    coordination: RwLock<Coordination>,
    lock_counts: LockCounts,
}

impl std::fmt::Debug for Refresher {
    /// The directory and account ids only; never a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<String> = self.slots().keys().cloned().collect();
        ids.sort();
        f.debug_struct("Refresher")
            .field("dir", &self.store.dir())
            .field("accounts", &ids)
            .finish()
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Refresher {
    /// Loads every OAuth account of `auth-dir`; `workers` bounds concurrent background refreshes.
    pub fn new(
        config: &Config,
        workers: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, AuthError> {
        let store = TokenStore::new(crate::store::expand_home(&config.auth_dir));
        let r = Arc::new(Self {
            store,
            config: config.clone(),
            clients: Clients::new(config.proxy_url.as_deref()),
            slots: Mutex::new(HashMap::new()),
            read_stamps: Mutex::new(HashMap::new()),
            warned: Mutex::new(std::collections::HashSet::new()),
            workers: Arc::new(Semaphore::new(workers.max(1))),
            clock,
            counters: Default::default(),
            coordination: RwLock::new(Coordination::default()),
            lock_counts: LockCounts::default(),
        });
        r.reload();
        Ok(r)
    }

    /// Takes the global `proxy-url` of a reloaded config for later refreshes (the service
    /// otherwise keeps the config it was started with).
    pub fn set_proxy_url(&self, global: Option<&str>) {
        self.clients.set_global(global);
    }

    /// Coordinates refreshes with other processes sharing `auth-dir` (the gateway's
    /// `shared-state`); until called, the process refreshes alone ([`super::LocalLock`]).
    pub fn set_coordination(&self, c: Coordination) {
        *write(&self.coordination) = c;
    }

    /// The route an account's refresh takes: the file's `proxy_url`, else the global
    /// `proxy-url`, else the environment's proxies.
    pub fn route(&self, id: &str) -> Result<Route, AuthError> {
        let slot = self.slot(id)?;
        let file_proxy = read(&slot.state).record.meta.proxy_url.clone();
        self.clients.route(file_proxy.as_deref())
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Re-reads `auth-dir`: new files join, removed ones leave, a changed file replaces the
    /// record (and clears an unusable status: a new login revives the account). Returns the
    /// ids of the usable OAuth accounts, sorted. Only files whose stamp changed since they
    /// were last read are read again (a tick with no change is one `stat` per file).
    pub fn reload(&self) -> Vec<String> {
        let mut ids = self.rescan();
        ids.sort();
        ids
    }

    /// [`Refresher::reload`] without sorting the ids (the background loop ignores them).
    fn rescan(&self) -> Vec<String> {
        let listing = self.store.list();
        let mut stamps = self
            .read_stamps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut slots = self.slots();
        let mut seen = Vec::new();
        let mut providers: HashMap<ProviderId, Arc<Provider>> = HashMap::new();
        for (id, path, stamp) in &listing {
            if stamps.get(id) == Some(stamp) {
                if slots.contains_key(id) {
                    seen.push(id.clone());
                }
                continue;
            }
            let read = TokenStore::read(id, path);
            if stamp.settled_now() {
                stamps.insert(id.clone(), *stamp);
            } else {
                stamps.remove(id);
            }
            let record = match read {
                Ok(record) => record,
                Err(p) => {
                    self.warn_once(format!("auth file {} skipped: {}", p.id, p.message));
                    continue;
                }
            };
            let Some(record) = record else { continue };
            let Some(pid) = record.provider else { continue };
            if !record.usable() {
                continue;
            }
            for problem in &record.meta.problems {
                self.warn_once(format!("auth file {} metadata {problem}", record.id));
            }
            seen.push(record.id.clone());
            if let Some(slot) = slots.get(&record.id) {
                let mut st = write(&slot.state);
                if st.record != record {
                    st.record = record;
                    st.status = AccountStatus::Active;
                    st.failures = 0;
                    st.retry_at = None;
                }
                continue;
            }
            let provider = providers
                .entry(pid)
                .or_insert_with(|| Arc::new(Provider::resolve(pid, &self.config)))
                .clone();
            slots.insert(
                record.id.clone(),
                Arc::new(Slot {
                    state: RwLock::new(State {
                        record,
                        provider,
                        status: AccountStatus::Active,
                        failures: 0,
                        retry_at: None,
                    }),
                    flight: tokio::sync::Mutex::new(()),
                    granting: AtomicBool::new(false),
                }),
            );
        }
        // Every id seen has a slot: the same count means no slot is left over.
        if slots.len() != seen.len() {
            let keep: HashSet<&str> = seen.iter().map(String::as_str).collect();
            slots.retain(|id, _| keep.contains(id.as_str()));
        }
        let listed: HashSet<&str> = listing.iter().map(|(id, _, _)| id.as_str()).collect();
        stamps.retain(|id, _| listed.contains(id.as_str()));
        seen
    }

    fn warn_once(&self, line: String) {
        let mut warned = self
            .warned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !warned.contains(&line) {
            tracing::warn!("{line}");
            warned.insert(line);
        }
    }

    fn slot(&self, id: &str) -> Result<Arc<Slot>, AuthError> {
        self.slots()
            .get(id)
            .cloned()
            .ok_or_else(|| AuthError::Config(format!("no OAuth account {id}")))
    }

    /// The account's record as it is now (after any refresh).
    pub fn record(&self, id: &str) -> Option<AuthRecord> {
        let slot = self.slots().get(id).cloned()?;
        let st = read(&slot.state);
        Some(st.record.clone())
    }

    /// The resolved provider of an account.
    pub fn provider(&self, id: &str) -> Option<Arc<Provider>> {
        let slot = self.slots().get(id).cloned()?;
        let st = read(&slot.state);
        Some(st.provider.clone())
    }

    pub fn status(&self, id: &str) -> Option<AccountStatus> {
        let slot = self.slots().get(id).cloned()?;
        let st = read(&slot.state);
        Some(st.status.clone())
    }

    /// Whether a refresh grant of the account is on the wire now.
    pub fn refreshing(&self, id: &str) -> bool {
        self.slots()
            .get(id)
            .is_some_and(|s| s.granting.load(Ordering::Relaxed))
    }

    /// Refreshes finished since start, per provider, in [`ProviderId::ALL`] order.
    pub fn refresh_counts(&self) -> [(ProviderId, RefreshCounts); ProviderId::ALL.len()] {
        ProviderId::ALL.map(|p| {
            let [ok, error] = &self.counters[counter_index(p)];
            (
                p,
                RefreshCounts {
                    ok: ok.load(Ordering::Relaxed),
                    error: error.load(Ordering::Relaxed),
                },
            )
        })
    }

    /// Refreshes by what the lock did, since start; `None` while the service refreshes alone
    /// (no shared [`Coordination`]).
    pub fn lock_counts(&self) -> Option<[(LockEvent, u64); 5]> {
        read(&self.coordination)
            .shared
            .then(|| self.lock_counts.all())
    }

    fn count(&self, provider: ProviderId, ok: bool) {
        let [ok_n, error_n] = &self.counters[counter_index(provider)];
        if ok { ok_n } else { error_n }.fetch_add(1, Ordering::Relaxed);
    }

    /// The current access token without waiting (`None`: unknown, unusable or no token).
    pub fn current_token(&self, id: &str) -> Option<Secret> {
        let slot = self.slots().get(id).cloned()?;
        let st = read(&slot.state);
        current(&st).ok()
    }

    /// The current access token; waits for a refresh in progress on this account.
    pub async fn token(&self, id: &str) -> Result<Secret, AuthError> {
        let slot = self.slot(id)?;
        {
            let _wait = slot.flight.lock().await;
            let st = read(&slot.state);
            // A file without a credential yet (an imported Vertex key) gets its first one now.
            if st.record.credential().is_some()
                || !st.record.can_refresh()
                || st.status != AccountStatus::Active
            {
                return current(&st);
            }
        }
        self.refresh_inner(id, Refresh::IfDue).await
    }

    /// After an upstream 401 with `seen`: refresh once, unless another caller already replaced
    /// that token (then its result is returned without a second grant).
    pub async fn refresh_after_401(&self, id: &str, seen: &str) -> Result<Secret, AuthError> {
        self.refresh_inner(id, Refresh::After401(seen)).await
    }

    /// Refreshes now (the `switchyard refresh` command and the background loop).
    pub async fn refresh_now(&self, id: &str) -> Result<Secret, AuthError> {
        self.refresh_inner(id, Refresh::Now).await
    }

    /// The background path: refreshes only if the account is still due once its turn comes.
    async fn refresh_if_due(&self, id: &str) -> Result<(), AuthError> {
        self.refresh_inner(id, Refresh::IfDue).await.map(|_| ())
    }

    async fn refresh_inner(&self, id: &str, why: Refresh<'_>) -> Result<Secret, AuthError> {
        let slot = self.slot(id)?;
        let _flight = slot.flight.lock().await;
        let (provider, record) = {
            let st = read(&slot.state);
            let seen = match why {
                Refresh::After401(seen) => Some(seen),
                Refresh::Now => None,
                Refresh::IfDue => {
                    if !is_due(&timing(&st), st.retry_at, self.clock.now()) {
                        return current(&st);
                    }
                    None
                }
            };
            if let AccountStatus::Unusable(why) = &st.status {
                return Err(AuthError::Config(format!(
                    "account {id} is unusable: {why}"
                )));
            }
            if let Some(seen) = seen {
                if st.record.credential().is_some_and(|t| t != seen) {
                    return current(&st);
                }
            }
            if !st.record.can_refresh() {
                return Err(AuthError::Config(format!(
                    "account {id} has no refresh token"
                )));
            }
            (st.provider.clone(), st.record.clone())
        };
        // One process refreshes; the others adopt what it wrote (`coordinate.rs`). The lease
        // is given back when `_lease` drops: after the new tokens are written.
        let coordination = read(&self.coordination).clone();
        let decided = decide(&coordination, &self.lock_counts, id, &record, || {
            self.read_file(id)
        });
        let _lease = match decided.await {
            Decision::Grant(lease) => lease,
            Decision::Adopt(fresh) => return self.adopt(&slot, id, *fresh),
            Decision::Keep => return current(&read(&slot.state)),
        };
        let granting = Granting::start(&slot.granting);
        let renewed = match self.client_for(&record) {
            Ok((route, http)) => super::grant::renew(&provider, &http, &record, self.clock.now())
                .await
                .map_err(|e| match e {
                    // Which way the grant went, for the warning (never credentials).
                    AuthError::Transport(why) => {
                        AuthError::Transport(format!("{why} (via {route})"))
                    }
                    other => other,
                }),
            Err(e) => Err(e),
        };
        drop(granting);
        match renewed {
            Ok(tokens) => {
                let mut updated = record;
                updated.apply_tokens(&tokens, self.clock.now());
                let store = self.store.clone();
                let to_save = updated.clone();
                let saved = tokio::task::spawn_blocking(move || store.save(&to_save))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))
                    .and_then(|r| r);
                if let Err(source) = saved {
                    let err = AuthError::Store {
                        path: self.store.dir().join(id).display().to_string(),
                        source,
                    };
                    self.count(provider.id, false);
                    self.failed(&slot, id, &err);
                    return Err(err);
                }
                self.count(provider.id, true);
                let mut st = write(&slot.state);
                st.record = updated;
                st.failures = 0;
                st.retry_at = None;
                tracing::info!(account = %id, "OAuth token refreshed");
                current(&st)
            }
            Err(err) => {
                self.count(provider.id, false);
                self.failed(&slot, id, &err);
                Err(err)
            }
        }
    }

    /// The account's file as it is on disk now (`None`: unreadable or not a credential).
    async fn read_file(&self, id: &str) -> Option<AuthRecord> {
        let (store, id) = (self.store.clone(), id.to_owned());
        tokio::task::spawn_blocking(move || store.load(&id))
            .await
            .ok()?
            .ok()?
    }

    /// Takes the tokens another process wrote (the file's record replaces the held one, as a
    /// rescan would).
    fn adopt(&self, slot: &Slot, id: &str, fresh: AuthRecord) -> Result<Secret, AuthError> {
        let mut st = write(&slot.state);
        st.record = fresh;
        st.status = AccountStatus::Active;
        st.failures = 0;
        st.retry_at = None;
        tracing::info!(account = %id, "OAuth token adopted: another replica refreshed it");
        current(&st)
    }

    /// The route of `record`'s refresh and its (cached) client.
    fn client_for(&self, record: &AuthRecord) -> Result<(Route, reqwest::Client), AuthError> {
        let route = self.clients.route(record.meta.proxy_url.as_deref())?;
        let http = self.clients.get(&route)?;
        Ok((route, http))
    }

    fn failed(&self, slot: &Slot, id: &str, err: &AuthError) {
        let mut st = write(&slot.state);
        if err.is_invalid_grant() {
            st.status = AccountStatus::Unusable(
                "refresh token rejected by the provider (invalid_grant); log in again".into(),
            );
            st.retry_at = None;
            tracing::warn!(account = %id, "OAuth account unusable: refresh token rejected (invalid_grant); run `switchyard login` again");
        } else {
            st.failures = st.failures.saturating_add(1);
            let wait = backoff(st.failures);
            st.retry_at = Some(
                self.clock
                    .now()
                    .saturating_add(i64::try_from(wait.as_secs()).unwrap_or(0)),
            );
            tracing::warn!(account = %id, failures = st.failures, retry_in_secs = wait.as_secs(), "OAuth refresh failed: {err}");
        }
    }

    /// Ids of the accounts due for a background refresh at `now`.
    pub fn due(&self, now: i64) -> Vec<String> {
        let mut due: Vec<String> = self
            .slots()
            .iter()
            .filter(|(_, slot)| {
                let st = read(&slot.state);
                st.status == AccountStatus::Active
                    && st.record.can_refresh()
                    && is_due(&timing(&st), st.retry_at, now)
                    && slot.flight.try_lock().is_ok()
            })
            .map(|(id, _)| id.clone())
            .collect();
        due.sort();
        due
    }

    /// The background loop: every `tick`, refresh what is due on at most `workers` tasks.
    /// The pause grows with the directory ([`crate::store::scan_pause`]: at most 1% of a core).
    pub async fn run(self: Arc<Self>, tick: Duration) {
        loop {
            let started = std::time::Instant::now();
            self.rescan();
            let due = self.due(self.clock.now());
            let pause = crate::store::scan_pause(tick, started.elapsed());
            for id in due {
                let Ok(permit) = self.workers.clone().acquire_owned().await else {
                    return;
                };
                let me = self.clone();
                tokio::spawn(async move {
                    let _ = me.refresh_if_due(&id).await;
                    drop(permit);
                });
            }
            tokio::time::sleep(pause).await;
        }
    }
}

/// The row of `p` in [`Counters`].
fn counter_index(p: ProviderId) -> usize {
    ProviderId::ALL
        .iter()
        .position(|&x| x == p)
        .unwrap_or_default()
}

fn timing(st: &State) -> Timing {
    Timing {
        // No credential yet: due at once.
        expiry: st
            .record
            .expiry()
            .or_else(|| st.record.credential().is_none().then_some(0)),
        last_refresh: st.record.last_refresh(),
        lead: st.provider.refresh_lead,
        interval_secs: st.record.meta.refresh_interval_seconds,
    }
}

fn current(st: &State) -> Result<Secret, AuthError> {
    if let AccountStatus::Unusable(why) = &st.status {
        return Err(AuthError::Config(format!(
            "account {} is unusable: {why}",
            st.record.id
        )));
    }
    st.record
        .credential()
        .map(Secret::new)
        .ok_or_else(|| AuthError::Config(format!("account {} has no access token", st.record.id)))
}
