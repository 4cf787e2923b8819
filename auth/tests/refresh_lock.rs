#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]
//! Refreshes coordinated between two refresh services ("replicas") sharing one `auth-dir`
//! through an in-memory [`RefreshLock`]: fencing (a file another replica refreshed means no
//! provider call), waiting for the holder, a failed holder leaving the refresh to a waiter,
//! the local fallback without a lock, a wait that ends keeping the current token, and the
//! lease given back on every path.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_auth::refresh::{
    Clock, Coordination, Lease, LockAttempt, LockEvent, RefreshLock, Refresher,
};

mod support;
use support::token_endpoint;

struct Fixed(i64);
impl Clock for Fixed {
    fn now(&self) -> i64 {
        self.0
    }
}

const NOW: i64 = 1_800_000_000;
const FILE: &str = "codex-x.json";

/// One lock for every replica of a test: `held` is the value of the taker.
#[derive(Default)]
struct FakeLock {
    held: Mutex<Option<String>>,
    unavailable: AtomicBool,
    attempts: AtomicUsize,
    events: Mutex<Vec<LockEvent>>,
}

impl FakeLock {
    fn hold_elsewhere(&self) {
        *self.held.lock().unwrap() = Some("another replica".into());
    }
    fn release_elsewhere(&self) {
        *self.held.lock().unwrap() = None;
    }
    fn is_free(&self) -> bool {
        self.held.lock().unwrap().is_none()
    }
    fn events(&self) -> Vec<LockEvent> {
        self.events.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl RefreshLock for FakeLock {
    async fn try_lock(&self, account: &str, _hold: Duration) -> LockAttempt {
        let n = self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return LockAttempt::Unavailable;
        }
        let mut held = self.held.lock().unwrap();
        if held.is_some() {
            return LockAttempt::Busy;
        }
        let token = format!("lease-{n}");
        *held = Some(token.clone());
        LockAttempt::Taken(Lease {
            account: account.to_owned(),
            token,
        })
    }

    fn unlock(&self, lease: Lease) {
        assert_eq!(lease.account, FILE);
        let mut held = self.held.lock().unwrap();
        if held.as_deref() == Some(lease.token.as_str()) {
            *held = None;
        }
    }

    fn note(&self, account: &str, event: LockEvent) {
        assert_eq!(account, FILE);
        self.events.lock().unwrap().push(event);
    }
}

fn write_file(dir: &std::path::Path, access: &str, refresh: &str, extra: &str) {
    std::fs::write(
        dir.join("auths").join(FILE),
        serde_json::to_vec(&serde_json::json!({
            "type": "codex", "access_token": access, "refresh_token": refresh,
            "expired": switchyard_auth::timefmt::format_rfc3339(NOW + 10 * 86_400),
            "last_refresh": switchyard_auth::timefmt::format_rfc3339(NOW - 86_400),
            "extra": extra
        }))
        .unwrap(),
    )
    .unwrap();
}

/// The shared `auth-dir` with one codex file (at-1 / rt-1).
fn auth_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("auths")).unwrap();
    write_file(dir.path(), "at-1", "rt-1", "kept");
    dir
}

/// One replica's refresh service on `dir`, coordinated through `lock`.
fn replica(dir: &tempfile::TempDir, token_url: &str, lock: &Arc<FakeLock>) -> Arc<Refresher> {
    let yaml = format!(
        "auth-dir: {}\noauth-overrides:\n  codex:\n    token-url: {token_url}\n    client-id: c\n",
        dir.path().join("auths").display()
    );
    let cfg = switchyard_conf::load_str(&yaml).unwrap().config;
    let r = Refresher::new(&cfg, 2, Arc::new(Fixed(NOW))).unwrap();
    let mut c = Coordination::new(lock.clone());
    c.poll = Duration::from_millis(10);
    r.set_coordination(c);
    r
}

/// A token endpoint that rotates: grant n answers at-(n+1) / rt-(n+1).
async fn rotating() -> (String, Arc<AtomicUsize>) {
    let (url, count, _) = token_endpoint(|n| {
        (200, format!(r#"{{"access_token":"at-{}","refresh_token":"rt-{}","token_type":"Bearer","expires_in":3600}}"#, n + 1, n + 1))
    })
    .await;
    (url, count)
}

#[tokio::test]
async fn a_token_another_replica_refreshed_is_adopted_without_a_provider_call() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let (a, b) = (replica(&dir, &url, &lock), replica(&dir, &url, &lock));
    assert_eq!(
        a.refresh_after_401(FILE, "at-1").await.unwrap().expose(),
        "at-2"
    );
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    assert!(lock.is_free(), "the holder gave the lock back");
    // B still holds at-1 in memory; its 401 finds the file rotated: no second grant.
    assert_eq!(b.current_token(FILE).unwrap().expose(), "at-1");
    assert_eq!(
        b.refresh_after_401(FILE, "at-1").await.unwrap().expose(),
        "at-2"
    );
    assert_eq!(b.record(FILE).unwrap().refresh_token(), Some("rt-2"));
    assert_eq!(grants.load(Ordering::SeqCst), 1, "rt-1 was not used twice");
    assert_eq!(lock.events(), [LockEvent::Refreshed, LockEvent::Adopted]);
    assert!(lock.is_free());
    let counts = |r: &Refresher| {
        r.lock_counts()
            .unwrap()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&a), [(LockEvent::Refreshed, 1)]);
    assert_eq!(counts(&b), [(LockEvent::Adopted, 1)]);
    // The background path too: B's next scheduled refresh (forced) grants with rt-2.
    assert_eq!(b.refresh_now(FILE).await.unwrap().expose(), "at-3");
    assert_eq!(grants.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_service_alone_reports_no_lock_counts() {
    let dir = auth_dir();
    let yaml = format!("auth-dir: {}\n", dir.path().join("auths").display());
    let cfg = switchyard_conf::load_str(&yaml).unwrap().config;
    let r = Refresher::new(&cfg, 2, Arc::new(Fixed(NOW))).unwrap();
    assert_eq!(r.lock_counts(), None);
}

#[tokio::test]
async fn a_file_changed_only_in_its_metadata_is_not_a_refresh() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let b = replica(&dir, &url, &lock);
    write_file(dir.path(), "at-1", "rt-1", "edited by hand");
    assert_eq!(b.refresh_now(FILE).await.unwrap().expose(), "at-2");
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    assert_eq!(lock.events(), [LockEvent::Refreshed]);
}

#[tokio::test]
async fn a_waiter_uses_the_tokens_the_holder_wrote() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let b = replica(&dir, &url, &lock);
    lock.hold_elsewhere();
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.refresh_after_401(FILE, "at-1").await })
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(!waiting.is_finished(), "B waits while the lock is held");
    assert!(
        lock.attempts.load(Ordering::SeqCst) >= 2,
        "B polls the lock"
    );
    // The holder writes its new tokens, then gives the lock back.
    write_file(dir.path(), "at-9", "rt-9", "kept");
    lock.release_elsewhere();
    assert_eq!(waiting.await.unwrap().unwrap().expose(), "at-9");
    assert_eq!(grants.load(Ordering::SeqCst), 0);
    assert_eq!(lock.events(), [LockEvent::Waited, LockEvent::Adopted]);
    assert_eq!(b.record(FILE).unwrap().refresh_token(), Some("rt-9"));
}

#[tokio::test]
async fn a_waiter_sees_the_new_file_before_the_lock_is_given_back() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let b = replica(&dir, &url, &lock);
    lock.hold_elsewhere();
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.refresh_now(FILE).await })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    write_file(dir.path(), "at-9", "rt-9", "kept");
    assert_eq!(waiting.await.unwrap().unwrap().expose(), "at-9");
    assert_eq!(grants.load(Ordering::SeqCst), 0);
    assert!(!lock.is_free(), "the other replica's lock was left alone");
}

#[tokio::test]
async fn a_holder_that_failed_leaves_the_refresh_to_a_waiter() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let b = replica(&dir, &url, &lock);
    lock.hold_elsewhere();
    let waiting = {
        let b = b.clone();
        tokio::spawn(async move { b.refresh_after_401(FILE, "at-1").await })
    };
    tokio::time::sleep(Duration::from_millis(40)).await;
    // The holder gives up without writing anything.
    lock.release_elsewhere();
    assert_eq!(waiting.await.unwrap().unwrap().expose(), "at-2");
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    assert_eq!(lock.events(), [LockEvent::Waited, LockEvent::Refreshed]);
    assert!(lock.is_free());
}

#[tokio::test]
async fn without_a_lock_the_replica_refreshes_on_its_own_after_reading_the_file() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    lock.unavailable.store(true, Ordering::SeqCst);
    let (a, b) = (replica(&dir, &url, &lock), replica(&dir, &url, &lock));
    assert_eq!(
        a.refresh_after_401(FILE, "at-1").await.unwrap().expose(),
        "at-2"
    );
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    // The fencing read still spares B a second grant when A's file is already written.
    assert_eq!(
        b.refresh_after_401(FILE, "at-1").await.unwrap().expose(),
        "at-2"
    );
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    assert_eq!(
        lock.events(),
        [LockEvent::LocalFallback, LockEvent::Adopted]
    );
}

#[tokio::test]
async fn a_lock_held_for_the_whole_wait_keeps_the_current_token() {
    let (url, grants) = rotating().await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let b = replica(&dir, &url, &lock);
    let mut c = Coordination::new(lock.clone());
    (c.hold, c.poll) = (Duration::from_millis(80), Duration::from_millis(10));
    b.set_coordination(c);
    lock.hold_elsewhere();
    assert_eq!(b.refresh_now(FILE).await.unwrap().expose(), "at-1");
    assert_eq!(grants.load(Ordering::SeqCst), 0);
    assert_eq!(lock.events(), [LockEvent::Waited, LockEvent::WaitTimedOut]);
}

#[tokio::test]
async fn the_lease_is_given_back_when_the_grant_fails() {
    let (url, grants, _) = token_endpoint(|_| (503, "{}".into())).await;
    let dir = auth_dir();
    let lock = Arc::new(FakeLock::default());
    let b = replica(&dir, &url, &lock);
    assert!(b.refresh_now(FILE).await.is_err());
    assert_eq!(grants.load(Ordering::SeqCst), 1);
    assert!(lock.is_free());
}
