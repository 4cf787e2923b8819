//! Refreshes coordinated between processes that share one `auth-dir` (replicas behind a load
//! balancer, docs/scale-out.md): exactly one of them refreshes a given token, the others use
//! the new one, and a refresh token is never used twice.
//!
//! Contract: the service asks a [`RefreshLock`] before a grant. This crate has no store of
//! its own; the gateway implements the lock on Redis (`shared_state/refresh_lock.rs`), and
//! [`LocalLock`] (the default) always grants it, as a process running alone needs.
//! - **Fencing.** After taking the lock (or when the lock cannot be had at all) the service
//!   re-reads the account's file. If its tokens (credential, refresh token, expiry) differ
//!   from the ones the service holds, another process has refreshed: the file's tokens are
//!   adopted and the provider is not called.
//! - **Waiting.** A lock held elsewhere is polled every [`Coordination::poll`], re-reading the
//!   file each time, for at most [`Coordination::hold`] (the lock's own lifetime: past it a
//!   holder that died has lost the lock, and the next poll takes it). A holder that failed
//!   leaves the file as it was: the waiter then takes the lock and refreshes itself. A waiter
//!   that still finds the lock taken at the end keeps its current token (a second grant with
//!   the same refresh token could revoke the whole grant at a rotating provider).
//! - **No lock to be had** ([`LockAttempt::Unavailable`]: the store is down or slow): the
//!   service refreshes locally after the fencing read. Two processes may then both refresh;
//!   the lock reports it ([`LockEvent::LocalFallback`]) so it is counted and logged.
//! - A [`Lease`] is given back with [`RefreshLock::unlock`], which must not wait (it also
//!   runs from `Drop` when a refresh is cancelled); a lease that is never given back expires
//!   with the lock's lifetime.

use std::time::Duration;

/// How long a lock is held at most, and so how long a waiter waits: the provider call's
/// timeout (`egress`: 30 s) plus the time to write the file.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(35);
/// How often a waiter looks at the lock and the file again.
pub const DEFAULT_POLL: Duration = Duration::from_millis(100);

/// The answer to one attempt at the lock of an account.
#[derive(Debug)]
pub enum LockAttempt {
    /// This process holds the lock until it gives the lease back or the lock expires.
    Taken(Lease),
    /// Another process holds it.
    Busy,
    /// The lock could not be asked for (store down, slow, not configured for sharing).
    Unavailable,
}

/// A held lock: the account and the unique value the lock was set to (compare-and-delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub account: String,
    pub token: String,
}

/// What happened to one refresh, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockEvent {
    /// The lock was taken and this process called the provider.
    Refreshed,
    /// Another process had refreshed (seen in the file): its tokens were adopted.
    Adopted,
    /// The lock was held elsewhere: this process waited for the holder.
    Waited,
    /// No lock could be had: this process refreshed on its own.
    LocalFallback,
    /// The lock stayed taken for the whole wait: the current token was kept.
    WaitTimedOut,
}

impl LockEvent {
    pub const ALL: [LockEvent; 5] = [
        LockEvent::Refreshed,
        LockEvent::Adopted,
        LockEvent::Waited,
        LockEvent::LocalFallback,
        LockEvent::WaitTimedOut,
    ];

    /// The metric label (`switchyard_oauth_refresh_lock_total{outcome}`).
    pub fn label(self) -> &'static str {
        match self {
            LockEvent::Refreshed => "refreshed",
            LockEvent::Adopted => "adopted",
            LockEvent::Waited => "waited",
            LockEvent::LocalFallback => "local_fallback",
            LockEvent::WaitTimedOut => "wait_timed_out",
        }
    }

    fn index(self) -> usize {
        match self {
            LockEvent::Refreshed => 0,
            LockEvent::Adopted => 1,
            LockEvent::Waited => 2,
            LockEvent::LocalFallback => 3,
            LockEvent::WaitTimedOut => 4,
        }
    }
}

/// Events since start, per [`LockEvent`] (read without waiting, for metrics).
#[derive(Debug, Default)]
pub(crate) struct LockCounts([std::sync::atomic::AtomicU64; 5]);

impl LockCounts {
    fn add(&self, e: LockEvent) {
        self.0[e.index()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn all(&self) -> [(LockEvent, u64); 5] {
        LockEvent::ALL.map(|e| {
            (
                e,
                self.0[e.index()].load(std::sync::atomic::Ordering::Relaxed),
            )
        })
    }
}

/// A lock per account shared by every process refreshing the same `auth-dir`.
#[async_trait::async_trait]
pub trait RefreshLock: Send + Sync {
    /// One attempt at the lock of `account`, to be held for at most `hold`. Must return
    /// within a bounded time (an implementation's own timeout), whatever its store does.
    async fn try_lock(&self, account: &str, hold: Duration) -> LockAttempt;
    /// Gives the lock back if it is still this lease's. Never waits.
    fn unlock(&self, lease: Lease);
    /// One refresh's outcome (for logs; the service counts them).
    fn note(&self, _account: &str, _event: LockEvent) {}
}

/// The lock of a process running alone: always taken at once.
#[derive(Debug, Default)]
pub struct LocalLock;

#[async_trait::async_trait]
impl RefreshLock for LocalLock {
    async fn try_lock(&self, account: &str, _hold: Duration) -> LockAttempt {
        LockAttempt::Taken(Lease {
            account: account.to_owned(),
            token: String::new(),
        })
    }

    fn unlock(&self, _lease: Lease) {}
}

/// The lock the service uses and its timing.
#[derive(Clone)]
pub struct Coordination {
    pub lock: std::sync::Arc<dyn RefreshLock>,
    /// Whether other processes take part (the service reports lock counts only then).
    pub shared: bool,
    /// The lock's lifetime, and the longest wait for another holder.
    pub hold: Duration,
    /// The pause between two looks at a lock held elsewhere.
    pub poll: Duration,
}

impl Coordination {
    /// A shared `lock` with [`DEFAULT_HOLD`] and [`DEFAULT_POLL`].
    pub fn new(lock: std::sync::Arc<dyn RefreshLock>) -> Self {
        Coordination {
            lock,
            shared: true,
            hold: DEFAULT_HOLD,
            poll: DEFAULT_POLL,
        }
    }
}

impl Default for Coordination {
    fn default() -> Self {
        Coordination {
            lock: std::sync::Arc::new(LocalLock),
            shared: false,
            hold: DEFAULT_HOLD,
            poll: DEFAULT_POLL,
        }
    }
}

impl std::fmt::Debug for Coordination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordination")
            .field("hold", &self.hold)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

/// A held lease, given back when dropped (also when the refresh's future is dropped).
pub(crate) struct Held {
    lock: std::sync::Arc<dyn RefreshLock>,
    lease: Option<Lease>,
}

impl Held {
    pub(crate) fn new(lock: std::sync::Arc<dyn RefreshLock>, lease: Option<Lease>) -> Self {
        Held { lock, lease }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            self.lock.unlock(lease);
        }
    }
}

/// The fields that change when a token is refreshed; two records with the same are the same
/// token as far as fencing is concerned (a metadata edit is not a refresh).
pub(crate) fn token_fields(
    r: &crate::record::AuthRecord,
) -> (Option<&str>, Option<&str>, Option<i64>) {
    (r.credential(), r.refresh_token(), r.expiry())
}

/// What the service does after asking the lock.
pub(crate) enum Decision {
    /// Call the provider; the lease (if any) is given back when this is dropped, after the
    /// new tokens are written.
    Grant(Held),
    /// Another process refreshed: use these tokens (the file as it is now).
    Adopt(Box<crate::record::AuthRecord>),
    /// The lock stayed taken for the whole wait: keep the current token.
    Keep,
}

/// Takes the lock of `id` or waits for its holder, re-reading the file (`read_file`) to see
/// whether the tokens the service holds (`held`) were replaced meanwhile (module contract).
pub(crate) async fn decide<F, Fut>(
    c: &Coordination,
    counts: &LockCounts,
    id: &str,
    held: &crate::record::AuthRecord,
    mut read_file: F,
) -> Decision
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<crate::record::AuthRecord>>,
{
    let replaced = |fresh: Option<crate::record::AuthRecord>| {
        fresh.filter(|f| f.credential().is_some() && token_fields(f) != token_fields(held))
    };
    let note = |e: LockEvent| {
        counts.add(e);
        c.lock.note(id, e);
    };
    let deadline = tokio::time::Instant::now() + c.hold;
    let mut waited = false;
    loop {
        match c.lock.try_lock(id, c.hold).await {
            LockAttempt::Taken(lease) => {
                // Given back on every path from here (dropped with the decision).
                let lease = Held::new(c.lock.clone(), Some(lease));
                if let Some(fresh) = replaced(read_file().await) {
                    note(LockEvent::Adopted);
                    return Decision::Adopt(Box::new(fresh));
                }
                note(LockEvent::Refreshed);
                return Decision::Grant(lease);
            }
            LockAttempt::Unavailable => {
                if let Some(fresh) = replaced(read_file().await) {
                    note(LockEvent::Adopted);
                    return Decision::Adopt(Box::new(fresh));
                }
                note(LockEvent::LocalFallback);
                return Decision::Grant(Held::new(c.lock.clone(), None));
            }
            LockAttempt::Busy => {
                if !waited {
                    waited = true;
                    note(LockEvent::Waited);
                }
                if let Some(fresh) = replaced(read_file().await) {
                    note(LockEvent::Adopted);
                    return Decision::Adopt(Box::new(fresh));
                }
                if tokio::time::Instant::now() >= deadline {
                    note(LockEvent::WaitTimedOut);
                    return Decision::Keep;
                }
                tokio::time::sleep(c.poll).await;
            }
        }
    }
}
