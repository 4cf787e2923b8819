//! When an OAuth account is refreshed: the timing rules of the refresh service, pure and
//! clock-free so they are tested without sleeping (cliproxyapi.md §3.5).
//!
//! Rules: with `refresh_interval_seconds`, at `last_refresh + interval` (a file never refreshed
//! is due at once); otherwise at `expiry - lead` (the provider's lead; none: at expiry), except
//! that a token whose whole lifetime is shorter than twice the lead is refreshed at half its
//! lifetime (`last_refresh + (expiry - last_refresh) / 2`), so a provider issuing 1-hour tokens
//! to an account with a 5-day lead is not refreshed on every tick; a file without an expiry and
//! without an interval is never scheduled (it is refreshed on a 401).
//! After a failure the next attempt waits [`backoff`]; an account marked unusable is never due.

use std::time::Duration;

/// The inputs for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// Access-token expiry, Unix seconds.
    pub expiry: Option<i64>,
    pub last_refresh: Option<i64>,
    pub lead: Option<Duration>,
    pub interval_secs: Option<u64>,
}

/// The Unix second at which the account should be refreshed, if ever.
pub fn due_at(t: &Timing) -> Option<i64> {
    if let Some(interval) = t.interval_secs {
        let interval = i64::try_from(interval).unwrap_or(i64::MAX);
        return Some(t.last_refresh.unwrap_or(0).saturating_add(interval));
    }
    let lead = t
        .lead
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let expiry = t.expiry?;
    let lead = match t.last_refresh {
        Some(issued) if issued < expiry => lead.min((expiry - issued) / 2),
        _ => lead,
    };
    Some(expiry.saturating_sub(lead))
}

/// Wait after the `failures`-th consecutive failed refresh: 30 s doubling, at most 30 min.
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(6);
    Duration::from_secs((30u64 << exp).min(1800))
}

/// Whether an account is due at `now`, given its timing and a backoff deadline.
pub fn is_due(t: &Timing, retry_at: Option<i64>, now: i64) -> bool {
    match retry_at {
        Some(r) => now >= r,
        None => due_at(t).is_some_and(|d| now >= d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    #[test]
    fn lead_interval_and_no_expiry() {
        let codex = Timing {
            expiry: Some(10 * 24 * H),
            lead: Some(Duration::from_secs(5 * 24 * 3600)),
            ..Timing::default()
        };
        assert_eq!(due_at(&codex), Some(5 * 24 * H));
        assert!(!is_due(&codex, None, 5 * 24 * H - 1));
        assert!(is_due(&codex, None, 5 * 24 * H));
        let gemini = Timing {
            expiry: Some(H),
            ..Timing::default()
        };
        assert_eq!(due_at(&gemini), Some(H));
        let every = Timing {
            interval_secs: Some(600),
            last_refresh: Some(1000),
            ..codex
        };
        assert_eq!(due_at(&every), Some(1600));
        assert_eq!(
            due_at(&Timing {
                last_refresh: None,
                ..every
            }),
            Some(600)
        );
        // A 1-hour token with a 5-day lead: at half its life, not at once.
        let short = Timing {
            last_refresh: Some(1000),
            expiry: Some(1000 + H),
            ..codex
        };
        assert_eq!(due_at(&short), Some(1000 + H / 2));
        assert_eq!(due_at(&Timing::default()), None);
        assert!(!is_due(&Timing::default(), None, i64::MAX));
    }

    #[test]
    fn backoff_doubles_and_caps_and_overrides_due() {
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
        let t = Timing {
            expiry: Some(0),
            ..Timing::default()
        };
        assert!(!is_due(&t, Some(100), 99));
        assert!(is_due(&t, Some(100), 100));
    }
}
