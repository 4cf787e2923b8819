//! The account pool of one request beyond its first pass: retry rounds
//! (`request-retry`, `max-retry-interval`, per-account `request-retry`), the per-round cap
//! (`max-retry-credentials`), and session affinity (`routing.session-affinity`).
//!
//! Rounds follow CLIProxyAPI (cliproxyapi.md §4): a round tries the plan's accounts that are
//! not cooling, at most `max-retry-credentials` of them. When a round has failed, another runs
//! only if `max-retry-interval` > 0 and some account admitted to it (effective `request-retry`
//! at least the round's number) is available within `max-retry-interval`; the gateway waits for the
//! nearest one. A 429's `Retry-After` is that account's cooldown, so it is honoured within the
//! same bound. Pure functions of the snapshot, the health table and a clock.
//!
//! Session affinity binds (client session, model) to the account that last served it, for
//! `session-affinity-ttl`; while that account is a candidate it goes first, and when it fails
//! the request fails over as usual and the binding moves to the account that answered.

use crate::health::Health;
use crate::routing::Candidate;
use crate::runtime::Runtime;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bound on remembered sessions; past it, expired bindings are dropped, then the oldest.
const AFFINITY_CAPACITY: usize = 100_000;

/// Request headers that carry a client session id, in order of preference.
pub const SESSION_HEADERS: &[&str] = &[
    "x-claude-code-session-id",
    "session_id",
    "session-id",
    "x-session-id",
    "conversation_id",
];

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
            let id = &rt.accounts[c.account].id;
            health.cooling_until(id, &c.upstream_model, now).is_none()
        })
        .cloned()
        .collect();
    if rt.max_retry_credentials > 0 {
        out.truncate(rt.max_retry_credentials);
    }
    out
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

/// Remembered (session, model) -> account bindings.
#[derive(Debug, Default)]
pub struct Affinity {
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

impl Affinity {
    /// The account id bound to `key`, if the binding has not expired.
    pub fn get(&self, key: &str, now: Instant) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(id, _)| id.clone())
    }

    /// Bind `key` to `account` until `now + ttl`.
    pub fn bind(&self, key: &str, account: &str, ttl: Duration, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= AFFINITY_CAPACITY && !entries.contains_key(key) {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= AFFINITY_CAPACITY {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, e))| *e)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key.to_owned(), (account.to_owned(), now + ttl));
    }
}

/// After a request succeeded: bind its session to the account that answered.
pub fn remember_session(ctx: &crate::ctx::Ctx) {
    let (Some(key), Some(ttl)) = (&ctx.affinity_key, ctx.rt.session_affinity) else {
        return;
    };
    let Some(last) = ctx
        .attempts
        .last()
        .filter(|a| (200..300).contains(&a.status))
    else {
        return;
    };
    let id = &ctx.rt.accounts[last.account].id;
    ctx.health.affinity.bind(key, id, ttl, Instant::now());
}

/// The affinity key of a request: its session id and the model it asked for.
pub fn affinity_key(session: &str, model: &str) -> String {
    let mut k = String::with_capacity(session.len() + model.len() + 1);
    k.push_str(session);
    k.push('\u{0}');
    k.push_str(model);
    k
}

/// Move the account bound to the session (if it is a candidate) to the front.
pub fn apply_affinity(rt: &Runtime, candidates: &mut [Candidate], bound: &str) -> bool {
    let Some(pos) = candidates
        .iter()
        .position(|c| rt.accounts[c.account].id == bound)
    else {
        return false;
    };
    candidates[..=pos].rotate_right(1);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_expire_and_are_bounded() {
        let a = Affinity::default();
        let t0 = Instant::now();
        a.bind("s\0m", "acct-1", Duration::from_secs(10), t0);
        assert_eq!(
            a.get("s\0m", t0 + Duration::from_secs(9)).as_deref(),
            Some("acct-1")
        );
        assert_eq!(a.get("s\0m", t0 + Duration::from_secs(10)), None);
        a.bind("s\0m", "acct-2", Duration::from_secs(10), t0);
        assert_eq!(a.get("s\0m", t0).as_deref(), Some("acct-2"));
    }
}
