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
    /// Client connections open (`max-connections`, admission.rs), and those refused.
    connections: Arc<AtomicU64>,
    refused_connections: AtomicU64,
    /// Bytes the requests in flight have reserved (`max-in-flight-memory`).
    reserved: Arc<AtomicU64>,
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

    /// One client connection, counted until the guard is dropped; `None` when `limit` (not 0)
    /// connections are already open.
    pub fn connection(&self, limit: u64) -> Option<InFlightGuard> {
        let before = self.connections.fetch_add(1, Ordering::AcqRel);
        let guard = InFlightGuard(self.connections.clone());
        (limit == 0 || before < limit).then_some(guard)
    }

    /// A connection was refused at `max-connections`.
    pub fn refused_connection(&self) {
        self.refused_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Client connections open now, and refused since start.
    pub fn connections(&self) -> (u64, u64) {
        (
            self.connections.load(Ordering::Acquire),
            self.refused_connections.load(Ordering::Relaxed),
        )
    }

    /// Reserve `bytes` of the memory budget `budget` (0: no limit, but still counted); `None`
    /// when the requests in flight already hold too much.
    pub fn reserve(&self, bytes: u64, budget: u64) -> Option<Reservation> {
        let mut r = Reservation {
            total: self.reserved.clone(),
            bytes: 0,
        };
        r.grow(bytes, budget).then_some(r)
    }

    /// Bytes reserved by the requests in flight now.
    pub fn reserved(&self) -> u64 {
        self.reserved.load(Ordering::Acquire)
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

/// A request's share of `max-in-flight-memory`, given back when dropped (with the request's
/// context).
#[derive(Debug)]
pub struct Reservation {
    total: Arc<AtomicU64>,
    bytes: u64,
}

impl Reservation {
    /// Reserve `more` bytes too; `false` (and nothing more reserved) past `budget` (0: none).
    pub fn grow(&mut self, more: u64, budget: u64) -> bool {
        let before = self.total.fetch_add(more, Ordering::AcqRel);
        if budget > 0 && before.saturating_add(more) > budget {
            self.total.fetch_sub(more, Ordering::AcqRel);
            return false;
        }
        self.bytes += more;
        true
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_past_the_limit_are_refused_and_released() {
        let reg = InFlight::default();
        let a = reg.connection(2);
        let b = reg.connection(2);
        assert!(a.is_some() && b.is_some());
        assert!(reg.connection(2).is_none());
        assert_eq!(
            reg.connections().0,
            2,
            "a refused connection is not counted"
        );
        drop(a);
        assert!(reg.connection(2).is_some());
        assert!(reg.connection(0).is_some(), "0: no limit");
    }

    #[test]
    fn reservations_stop_at_the_budget_and_give_back_on_drop() {
        let reg = InFlight::default();
        let mut first = reg.reserve(600, 1000).into_iter().next();
        assert_eq!(reg.reserved(), 600);
        assert!(reg.reserve(500, 1000).is_none());
        assert_eq!(reg.reserved(), 600);
        let second = reg.reserve(400, 1000);
        assert!(second.is_some());
        assert!(first.as_mut().is_some_and(|r| !r.grow(1, 1000)));
        drop(first);
        assert_eq!(reg.reserved(), 400);
        drop(second);
        assert_eq!(reg.reserved(), 0);
        assert!(reg.reserve(5000, 0).is_some(), "0: no limit");
    }

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
