//! Session affinity (`routing.session-affinity`): a (client session, model) pair is bound to
//! the account that last served it, for `session-affinity-ttl`; while that account is a
//! candidate it goes first, and when it fails the request fails over as usual and the binding
//! moves to the account that answered. The bindings outlive config snapshots (they are keyed
//! by account id) and are bounded in number.

use crate::accounts::Account;
use crate::routing::Candidate;
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

/// The affinity key of a request: its session id and the model it asked for.
pub fn affinity_key(session: &str, model: &str) -> String {
    let mut k = String::with_capacity(session.len() + model.len() + 1);
    k.push_str(session);
    k.push('\u{0}');
    k.push_str(model);
    k
}

/// Move the account bound to the session (if it is a candidate) to the front.
pub fn apply(accounts: &[Account], candidates: &mut [Candidate], bound: &str) -> bool {
    let Some(pos) = candidates
        .iter()
        .position(|c| accounts[c.account].id == bound)
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
