//! The OAuth refresh lock of `shared-state`: one Redis key per account, so exactly one
//! replica refreshes a token (the auth crate's `refresh/coordinate.rs` holds the protocol:
//! fencing by re-reading the file, waiting for the holder, refreshing locally without Redis).
//!
//! Contract: `SET {prefix}refresh:<account> <unique> NX PX <hold>` takes the lock; a Lua
//! compare-and-delete gives it back (only the value this replica set). Both run on a thread
//! of their own (`refresh-lock`, a current-thread runtime, started only with `shared-state`)
//! over one connection made at first use, so a caller on any runtime awaits at most
//! `timeout-ms`. After a failed call no attempt is made for [`QUIET_AFTER_FAILURE`]: the
//! answer is at once "unavailable" and the replica refreshes locally, which the refresh
//! service counts and this lock logs once per outage. An attempt that fails after its `SET`
//! may have reached Redis is followed by a compare-and-delete, so a lost answer does not
//! leave the lock taken for its whole lifetime. Independent of the `shared-state` link
//! (`link.rs`): the refresh service exists before the link is started.

use super::link::within;
use super::wire::Keys;
use redis::aio::MultiplexedConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use switchyard_auth::refresh::{Lease, LockAttempt, LockEvent, RefreshLock};
use switchyard_conf::SharedStateConfig;
use tokio::runtime::Handle;

/// After a failed Redis call, refreshes go local without asking for this long (Redis down
/// costs no request a connect attempt; a slow Redis costs at most one `timeout-ms` per
/// this period).
pub const QUIET_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Deletes the key only if it still holds this replica's value.
const UNLOCK: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// The lock on Redis (held by `SharedState`, handed to the refresh service).
pub struct RedisRefreshLock {
    inner: Arc<Inner>,
    /// The `refresh-lock` thread's runtime: every Redis call runs there.
    handle: Handle,
    /// No attempt before this (set after a failed call).
    quiet_until: Mutex<Option<Instant>>,
    /// This process in lock values (pid and start time), plus a counter per attempt.
    origin: String,
    next: AtomicU64,
    /// Whether the current outage's local refresh was logged.
    fallback_logged: AtomicBool,
}

impl std::fmt::Debug for RedisRefreshLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRefreshLock").finish_non_exhaustive()
    }
}

struct Inner {
    client: redis::Client,
    keys: Keys,
    timeout: Duration,
    /// Made at first use, forgotten after an error.
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Inner {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn conn(&self) -> Result<MultiplexedConnection, String> {
        if let Some(c) = self.slot().clone() {
            return Ok(c);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let c = within(
            self.timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await?;
        *self.slot() = Some(c.clone());
        Ok(c)
    }

    /// `SET key value NX PX ms`: whether this call took the lock.
    async fn set_nx(&self, key: &str, value: &str, hold_ms: u64) -> Result<bool, String> {
        let mut c = self.conn().await?;
        let set: Result<Option<String>, String> = within(
            self.timeout,
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(hold_ms)
                .query_async(&mut c),
        )
        .await;
        match set {
            Ok(answer) => Ok(answer.is_some()),
            Err(e) => {
                *self.slot() = None;
                // The SET may have reached Redis: give back what it may have taken.
                let _ = self.unlock(key, value).await;
                Err(e)
            }
        }
    }

    async fn unlock(&self, key: &str, value: &str) -> Result<(), String> {
        let mut c = self.conn().await?;
        let done = within(
            self.timeout,
            redis::cmd("EVAL")
                .arg(UNLOCK)
                .arg(1)
                .arg(key)
                .arg(value)
                .query_async::<i64>(&mut c),
        )
        .await;
        if done.is_err() {
            *self.slot() = None;
        }
        done.map(|_| ())
    }
}

impl RedisRefreshLock {
    /// The lock for `shared-state`, with its thread started (it connects at first use).
    pub fn start(cfg: &SharedStateConfig) -> Result<Arc<Self>, super::SharedStateError> {
        let client = redis::Client::open(cfg.redis_url.expose())
            .map_err(|_| super::SharedStateError::Url)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(super::SharedStateError::Spawn)?;
        let handle = rt.handle().clone();
        // The runtime runs the lock's calls for the life of the process.
        std::thread::Builder::new()
            .name("refresh-lock".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .map_err(super::SharedStateError::Spawn)?;
        Ok(Arc::new(Self::new(
            client,
            Keys::new(&cfg.key_prefix),
            Duration::from_millis(cfg.timeout_ms),
            handle,
        )))
    }

    fn new(client: redis::Client, keys: Keys, timeout: Duration, handle: Handle) -> Self {
        let started = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        RedisRefreshLock {
            inner: Arc::new(Inner {
                client,
                keys,
                timeout,
                conn: Mutex::new(None),
            }),
            handle,
            quiet_until: Mutex::new(None),
            origin: format!("{}-{started}", std::process::id()),
            next: AtomicU64::new(0),
            fallback_logged: AtomicBool::new(false),
        }
    }

    fn quiet(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.quiet_until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl RefreshLock for RedisRefreshLock {
    async fn try_lock(&self, account: &str, hold: Duration) -> LockAttempt {
        if self.quiet().is_some_and(|until| Instant::now() < until) {
            return LockAttempt::Unavailable;
        }
        let value = format!(
            "{}-{}",
            self.origin,
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let key = self.inner.keys.refresh_lock(account);
        let hold_ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX).max(1);
        let inner = self.inner.clone();
        let value_sent = value.clone();
        let job = self
            .handle
            .spawn(async move { inner.set_nx(&key, &value_sent, hold_ms).await });
        // The job has its own timeouts; this one only guards against a stalled runtime.
        let limit = self.inner.timeout.saturating_mul(3);
        let answer = tokio::time::timeout(limit, job).await;
        match answer {
            Ok(Ok(Ok(true))) => {
                self.fallback_logged.store(false, Ordering::Relaxed);
                LockAttempt::Taken(Lease {
                    account: account.to_owned(),
                    token: value,
                })
            }
            Ok(Ok(Ok(false))) => {
                self.fallback_logged.store(false, Ordering::Relaxed);
                LockAttempt::Busy
            }
            Ok(Ok(Err(e))) => {
                tracing::debug!(account, "OAuth refresh lock not asked for: {e}");
                *self.quiet() = Some(Instant::now() + QUIET_AFTER_FAILURE);
                LockAttempt::Unavailable
            }
            Ok(Err(_)) | Err(_) => {
                *self.quiet() = Some(Instant::now() + QUIET_AFTER_FAILURE);
                LockAttempt::Unavailable
            }
        }
    }

    fn unlock(&self, lease: Lease) {
        let inner = self.inner.clone();
        let key = inner.keys.refresh_lock(&lease.account);
        // Not awaited: the lock's lifetime bounds a lost unlock.
        drop(self.handle.spawn(async move {
            if let Err(e) = inner.unlock(&key, &lease.token).await {
                tracing::debug!(
                    account = lease.account,
                    "OAuth refresh lock not given back (it expires on its own): {e}"
                );
            }
        }));
    }

    fn note(&self, account: &str, event: LockEvent) {
        if event == LockEvent::LocalFallback && !self.fallback_logged.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                account,
                "shared state: Redis unavailable; OAuth refresh done without the shared lock (another replica may refresh the same token)"
            );
        }
    }
}
