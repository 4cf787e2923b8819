//! Requests in flight per account: one atomic counter per stable account id, kept outside the
//! runtime snapshot (like `health`), so a reload keeps the count of the requests still
//! running on the old snapshot.
//!
//! The lock is taken only when a snapshot is built ([`InFlight::counter`] hands each account
//! its counter) and when the management API reads the counts. On the request path an attempt
//! takes an [`InFlightGuard`] from its account's counter (one atomic add) and keeps it in its
//! `AttemptState`: the next attempt replaces it, and the last one is dropped with the request's
//! context when the request ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The counters, by account id, and the count of client requests.
#[derive(Debug, Default)]
pub struct InFlight {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    /// Client requests being served (each request's context holds a guard of it): what a
    /// SIGTERM waits for (`shutdown`).
    requests: Arc<AtomicU64>,
}

impl InFlight {
    /// One client request, counted until the guard is dropped (with the request's context).
    pub fn request(&self) -> InFlightGuard {
        InFlightGuard::enter(&self.requests)
    }

    /// Client requests being served now.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Acquire)
    }

    /// The counter of account `id` (created at zero the first time). For snapshot builds.
    pub fn counter(&self, id: &str) -> Arc<AtomicU64> {
        let mut map = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(id.to_owned()).or_default().clone()
    }

    /// Requests in flight on account `id` now.
    pub fn count(&self, id: &str) -> u64 {
        let map = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(id).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// One attempt counted on its account until dropped.
#[derive(Debug)]
pub struct InFlightGuard(Arc<AtomicU64>);

impl InFlightGuard {
    pub fn enter(counter: &Arc<AtomicU64>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter.clone())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_per_account_and_the_counter_outlives_a_rebuild() {
        let reg = InFlight::default();
        let a = reg.counter("a");
        let first = InFlightGuard::enter(&a);
        let second = InFlightGuard::enter(&reg.counter("a"));
        let other = InFlightGuard::enter(&reg.counter("b"));
        assert_eq!((reg.count("a"), reg.count("b"), reg.count("c")), (2, 1, 0));
        drop(first);
        // A rebuilt snapshot asks again and gets the same counter.
        assert!(Arc::ptr_eq(&a, &reg.counter("a")));
        assert_eq!(reg.count("a"), 1);
        drop((second, other));
        assert_eq!((reg.count("a"), reg.count("b")), (0, 0));
    }
}
