//! The failover queue of one request: the accounts its model's plan names, the retry round in
//! flight (`request-retry`, `max-retry-interval`, per-account `request-retry`), the per-round
//! cap (`max-retry-credentials`), the attempt in flight, and a log of every attempt. The only
//! place the queue is edited: the phases ask it for the next account ([`Failover::advance`]) or
//! to put the current one again right after it ([`Failover::repeat`]).
//!
//! Rounds follow CLIProxyAPI (cliproxyapi.md §4): a round tries the plan's accounts that are
//! not cooling, at most `max-retry-credentials` of them. When a round has failed, another runs
//! only if `max-retry-interval` > 0 and some account admitted to it (effective `request-retry`
//! at least the round's number) is available within `max-retry-interval`; the gateway waits for
//! the nearest one. A 429's `Retry-After` is that account's cooldown, so it is honoured within
//! the same bound.

use crate::health::Health;
use crate::routing::Candidate;
use crate::runtime::Runtime;
use std::time::{Duration, Instant};
use switchyard_conf::Secret;

/// One upstream attempt, for logs and account health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub account: usize,
    /// HTTP status the upstream answered, or 0 if there was no response.
    pub status: u16,
    /// Why the attempt failed without a usable status, if it did.
    pub cause: Option<&'static str>,
}

/// Why the account of the attempt that just failed goes again, right after it.
#[derive(Debug)]
pub enum Repeat {
    /// After a 401: refresh the token that got it, then retry (once per request).
    Refresh(Secret),
    /// On the channel's next host.
    Host(usize),
    /// On the same host, at an address not in `tried` (those that refused this request).
    Address {
        host: usize,
        tried: Vec<std::net::SocketAddr>,
    },
}

/// The attempt [`Failover::advance`] starts.
#[derive(Debug)]
pub struct Next {
    pub candidate: Candidate,
    /// Set when this is the previous account again.
    pub repeat: Option<Repeat>,
}

#[derive(Debug, Default)]
pub struct Failover {
    /// Every account the model's plan names, in plan order (each retry round picks from it).
    plan: Vec<Candidate>,
    /// Retry round in flight (0: the first pass).
    round: u32,
    /// Accounts to try in this round, in order.
    candidates: Vec<Candidate>,
    /// Index into `candidates` of the attempt in flight.
    current: Option<usize>,
    /// How the next attempt repeats the current account, when it does.
    repeat: Option<Repeat>,
    /// The one refresh-and-retry after a 401 is used.
    refreshed: bool,
    /// Every attempt so far.
    pub attempts: Vec<AttemptRecord>,
}

impl Failover {
    /// The queue for `plan`, starting with `first` (round `round`).
    pub fn new(plan: Vec<Candidate>, round: u32, first: Vec<Candidate>) -> Self {
        Self {
            plan,
            round,
            candidates: first,
            ..Self::default()
        }
    }

    /// The candidate of the attempt in flight.
    pub fn candidate(&self) -> Option<&Candidate> {
        self.current.and_then(|i| self.candidates.get(i))
    }

    /// Whether another account is left to fail over to, in this round or a retry round.
    pub fn has_next(&self, rt: &Runtime, health: &Health) -> bool {
        let in_round = self.current.map_or(!self.candidates.is_empty(), |i| {
            i + 1 < self.candidates.len()
        });
        in_round || self.next_round_wait(rt, health).is_some()
    }

    /// When this round is used up: the wait before the next one, if it may run.
    pub fn next_round_wait(&self, rt: &Runtime, health: &Health) -> Option<Duration> {
        next_round_wait(rt, health, &self.plan, self.round, Instant::now())
    }

    /// Moves to the next attempt: the next account of this round, or the first of another
    /// round after waiting for the nearest account. `None`: nothing is left.
    pub async fn advance(&mut self, rt: &Runtime, health: &Health) -> Option<Next> {
        let mut next = self.current.map_or(0, |i| i + 1);
        if next >= self.candidates.len() {
            if let Some(wait) = self.next_round_wait(rt, health) {
                if !wait.is_zero() {
                    tokio::time::sleep(wait + Duration::from_millis(1)).await;
                }
                self.round += 1;
                self.candidates =
                    round_candidates(rt, health, &self.plan, self.round, Instant::now());
                next = 0;
            }
        }
        let candidate = self.candidates.get(next)?.clone();
        self.current = Some(next);
        self.attempts.push(AttemptRecord {
            account: candidate.account,
            status: 0,
            cause: None,
        });
        Some(Next {
            candidate,
            repeat: self.repeat.take(),
        })
    }

    /// Puts the current account again right after the attempt in flight. A refresh is granted
    /// once per request; returns whether the repeat was queued.
    pub fn repeat(&mut self, repeat: Repeat) -> bool {
        if matches!(repeat, Repeat::Refresh(_)) {
            if self.refreshed {
                return false;
            }
            self.refreshed = true;
        }
        let (Some(i), Some(c)) = (self.current, self.candidate().cloned()) else {
            return false;
        };
        self.candidates.insert(i + 1, c);
        self.repeat = Some(repeat);
        true
    }

    /// Records the upstream status of the attempt in flight.
    pub fn record_status(&mut self, status: u16) {
        if let Some(a) = self.attempts.last_mut() {
            a.status = status;
        }
    }

    /// Records why the attempt in flight failed, unless it already has a status.
    pub fn record_cause(&mut self, cause: &'static str) {
        if let Some(a) = self.attempts.last_mut().filter(|a| a.status == 0) {
            a.cause = Some(cause);
        }
    }

    /// Records an attempt that failed after its status (an in-band error, a rejected model).
    pub fn record_failure(&mut self, status: Option<u16>, cause: &'static str) {
        if let Some(a) = self.attempts.last_mut() {
            if let Some(s) = status {
                a.status = s;
            }
            a.cause = Some(cause);
        }
    }
}

/// The accounts of round `round` (0 is the first): plan order, not cooling at `now`, admitted by
/// their effective `request-retry`, capped by `max-retry-credentials`.
pub fn round_candidates(
    rt: &Runtime,
    health: &Health,
    plan: &[Candidate],
    round: u32,
    now: Instant,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = plan
        .iter()
        .filter(|c| round == 0 || rt.request_retry_for(c.account) >= round)
        .filter(|c| {
            let account = &rt.accounts[c.account];
            health
                .cooling_until(&account.id, &c.upstream_model, now)
                .is_none()
                && login_problem(account).is_none()
        })
        .cloned()
        .collect();
    if rt.max_retry_credentials > 0 {
        out.truncate(rt.max_retry_credentials);
    }
    out
}

/// Why an OAuth account cannot serve until a new login (its refresh token was rejected):
/// trying it would only earn a 401 and a cooldown.
pub fn login_problem(account: &crate::accounts::Account) -> Option<String> {
    account.channel.oauth()?.login_problem()
}

/// After round `round` failed: how long to wait before round `round + 1`, if it may run.
pub fn next_round_wait(
    rt: &Runtime,
    health: &Health,
    plan: &[Candidate],
    round: u32,
    now: Instant,
) -> Option<Duration> {
    if rt.max_retry_interval.is_zero() {
        return None;
    }
    let next = round.checked_add(1)?;
    let wait = plan
        .iter()
        .filter(|c| rt.request_retry_for(c.account) >= next)
        .map(|c| {
            let id = &rt.accounts[c.account].id;
            health
                .cooling_until(id, &c.upstream_model, now)
                .map_or(Duration::ZERO, |until| until - now)
        })
        .min()?;
    (wait <= rt.max_retry_interval).then_some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(account: usize) -> Candidate {
        Candidate {
            account,
            upstream_model: "m".into(),
        }
    }

    #[test]
    fn repeat_puts_the_current_account_next_and_refreshes_once() {
        let mut f = Failover::new(vec![c(0), c(1)], 0, vec![c(0), c(1)]);
        assert!(!f.repeat(Repeat::Host(1)), "nothing in flight yet");
        f.current = Some(0);
        assert!(f.repeat(Repeat::Refresh(Secret::new("t"))));
        assert_eq!(f.candidates, [c(0), c(0), c(1)]);
        assert!(!f.repeat(Repeat::Refresh(Secret::new("t"))), "one refresh");
        assert!(f.repeat(Repeat::Host(1)));
        assert_eq!(f.candidates, [c(0), c(0), c(0), c(1)]);
        assert!(matches!(f.repeat.take(), Some(Repeat::Host(1))));
    }

    #[test]
    fn attempts_record_status_then_cause() {
        let mut f = Failover::default();
        f.attempts.push(AttemptRecord {
            account: 3,
            status: 0,
            cause: None,
        });
        f.record_cause("ConnectRefused");
        f.record_status(502);
        f.record_cause("ignored once a status is known");
        assert_eq!(
            f.attempts,
            [AttemptRecord {
                account: 3,
                status: 502,
                cause: Some("ConnectRefused")
            }]
        );
    }
}
