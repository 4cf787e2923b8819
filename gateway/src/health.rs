//! Account health: cooldowns per account and model, and a record of every outcome, in one
//! place that metrics and the management API will read later.
//!
//! Rules (CLIProxyAPI's, cliproxyapi.md §4), applied when an attempt ends:
//!
//! | upstream answer | cooldown |
//! | --- | --- |
//! | 401, 402, 403 | 30 min |
//! | 404 | 12 h |
//! | 429 | `Retry-After` if given, else 1 s x 2^n (n = consecutive 429s), at most 30 min |
//! | 408, 5xx (incl. 529), no answer (connect failure, timeout) | `transient-error-cooldown-seconds` (default 60 s; -1: none) |
//! | 400/422 saying the model is not supported (for this account or plan) | 12 h |
//! | 404 scoped to the request (a Responses item not found with `store: false`) | none |
//! | success | clears the state |
//!
//! `disable-cooling` (global or per account) records outcomes but never cools. The state is
//! keyed by the stable account id and the upstream model, so it outlives config reloads. The
//! clock is a parameter: tests pass their own `Instant`s.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const AUTH_COOLDOWN: Duration = Duration::from_secs(30 * 60);
const NOT_FOUND_COOLDOWN: Duration = Duration::from_secs(12 * 60 * 60);
const QUOTA_BACKOFF_MAX: Duration = Duration::from_secs(30 * 60);

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The upstream answered with an error status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No usable answer: connect failure, TLS failure, timeout, reset.
    Transport,
    /// A 400/422 whose message says this account does not serve the model.
    ModelNotSupported {
        status: u16,
    },
    /// An error about the request itself, not the account (a request-scoped 404).
    RequestScoped {
        status: u16,
    },
}

/// Cooldown settings from the config snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoolingPolicy {
    pub disabled: bool,
    /// `None`: transient errors never cool.
    pub transient: Option<Duration>,
}

/// What is known about one account serving one model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelHealth {
    pub cooling_until: Option<Instant>,
    /// Why the current cooldown started (`quota`, `unauthorized`, ...).
    pub reason: Option<&'static str>,
    /// The upstream's own message for a `not_found` or `model_not_supported` cooldown, told
    /// to clients while it lasts.
    pub message: Option<Arc<str>>,
    /// Consecutive 429s, for the exponential backoff.
    pub quota_level: u32,
    pub last_status: Option<u16>,
    pub successes: u64,
    pub failures: u64,
    pub cooldowns: u64,
    /// When the last attempt on this account and model ended.
    pub last_used: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Health {
    entries: Mutex<HashMap<(String, String), ModelHealth>>,
}

impl Health {
    /// When the account's cooldown for `model` ends, if it is cooling at `now`.
    pub fn cooling_until(&self, account: &str, model: &str, now: Instant) -> Option<Instant> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&(account.to_owned(), model.to_owned()))
            .and_then(|e| e.cooling_until)
            .filter(|until| *until > now)
    }

    /// Record an outcome; returns the cooldown it started and why, if any.
    pub fn record(
        &self,
        account: &str,
        model: &str,
        outcome: Outcome,
        policy: CoolingPolicy,
        now: Instant,
    ) -> Option<(Duration, &'static str)> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries
            .entry((account.to_owned(), model.to_owned()))
            .or_default();
        e.last_used = Some(now);
        e.message = None;
        let (status, retry_after) = match outcome {
            Outcome::Success => {
                e.successes += 1;
                e.cooling_until = None;
                e.reason = None;
                e.quota_level = 0;
                e.last_status = Some(200);
                return None;
            }
            Outcome::Status {
                status,
                retry_after,
            } => (Some(status), retry_after),
            Outcome::Transport => (None, None),
            Outcome::RequestScoped { status } => {
                e.last_status = Some(status);
                return None;
            }
            Outcome::ModelNotSupported { status } => {
                e.failures += 1;
                e.last_status = Some(status);
                if policy.disabled {
                    return None;
                }
                e.cooling_until = Some(now + NOT_FOUND_COOLDOWN);
                e.reason = Some("model_not_supported");
                e.cooldowns += 1;
                return Some((NOT_FOUND_COOLDOWN, "model_not_supported"));
            }
        };
        e.failures += 1;
        e.last_status = status;
        let (cooldown, reason) = match status {
            Some(401) => (Some(AUTH_COOLDOWN), "unauthorized"),
            Some(402 | 403) => (Some(AUTH_COOLDOWN), "payment_required"),
            Some(404) => (Some(NOT_FOUND_COOLDOWN), "not_found"),
            Some(429) => {
                let backoff = retry_after.unwrap_or_else(|| {
                    let secs = 1u64.checked_shl(e.quota_level).unwrap_or(u64::MAX);
                    Duration::from_secs(secs).min(QUOTA_BACKOFF_MAX)
                });
                e.quota_level = e.quota_level.saturating_add(1);
                (Some(backoff), "quota")
            }
            Some(408) | None => (policy.transient, "transient"),
            Some(s) if s >= 500 => (policy.transient, "transient"),
            Some(_) => (None, "client_error"),
        };
        let cooldown = cooldown.filter(|d| !policy.disabled && !d.is_zero())?;
        e.cooling_until = Some(now + cooldown);
        e.reason = Some(reason);
        e.cooldowns += 1;
        Some((cooldown, reason))
    }

    /// Apply a cooldown another replica recorded (`shared_state`): the account cools for
    /// `model` until `until`, unless it already cools longer. Counters stay this replica's own.
    pub fn apply_remote(&self, account: &str, model: &str, reason: &str, until: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries
            .entry((account.to_owned(), model.to_owned()))
            .or_default();
        if e.cooling_until.is_some_and(|mine| mine >= until) {
            return;
        }
        e.cooling_until = Some(until);
        e.reason = Some(known_reason(reason));
        e.message = None;
    }

    /// Keep the upstream's message with the account's current cooldown for `model`, when that
    /// cooldown says the model is not served there (the answer clients get meanwhile).
    pub fn explain(&self, account: &str, model: &str, message: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = entries.get_mut(&(account.to_owned(), model.to_owned())) {
            if matches!(e.reason, Some(r) if is_not_served(r)) {
                e.message = Some(Arc::from(message));
            }
        }
    }

    /// Why the account is cooling for `model` at `now`, with the upstream's message if kept.
    pub fn cooling_reason(
        &self,
        account: &str,
        model: &str,
        now: Instant,
    ) -> Option<(&'static str, Option<Arc<str>>)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(&(account.to_owned(), model.to_owned()))?;
        e.cooling_until.filter(|until| *until > now)?;
        Some((e.reason.unwrap_or("unknown"), e.message.clone()))
    }

    /// The accounts with some model cooling at `now` (the scrape-time `switchyard_accounts`
    /// gauge): one pass under the lock, copying only the ids of cooling accounts.
    pub fn cooling_accounts(&self, now: Instant) -> HashSet<String> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut cooling = HashSet::new();
        for ((account, _), e) in entries.iter() {
            if e.cooling_until.is_some_and(|until| until > now) && !cooling.contains(account) {
                cooling.insert(account.clone());
            }
        }
        cooling
    }

    /// A copy of every entry, for operators (metrics and management read this).
    pub fn snapshot(&self) -> Vec<((String, String), ModelHealth)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// The cooldown reasons [`Health::record`] gives, as a `'static` name (`remote` for a
/// reason this build does not know, from a newer replica).
pub fn known_reason(reason: &str) -> &'static str {
    const REASONS: &[&str] = &[
        "quota",
        "unauthorized",
        "payment_required",
        "not_found",
        "model_not_supported",
        "transient",
        "client_error",
    ];
    REASONS
        .iter()
        .find(|r| **r == reason)
        .copied()
        .unwrap_or("remote")
}

/// Whether a cooldown reason says the account does not serve the model at all (as opposed to
/// quota, credentials or a transient failure).
pub fn is_not_served(reason: &str) -> bool {
    matches!(reason, "not_found" | "model_not_supported")
}

/// The human message of an upstream error body in any of the three protocols
/// (`{"error": {"message": ..}}`, `{"error": "…"}`, `{"message": ..}`), bounded.
pub fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let v = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
    let m = match v.get("error") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(e) => e.get("message")?.as_str()?,
        None => v.get("message")?.as_str()?,
    };
    let m = m.trim();
    if m.is_empty() {
        return None;
    }
    let mut end = m.len().min(1024);
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    Some(m[..end].to_owned())
}

/// Statuses whose meaning depends on the error body: judged once the body is in.
pub fn judged_by_body(status: u16) -> bool {
    matches!(status, 400 | 404 | 422)
}

/// What a 400/404/422 says about the account (CLIProxyAPI's message rules, cliproxyapi.md §4):
/// "model not supported" messages are the account's problem (12 h for that model, and the
/// request may fail over); a Responses item missing under `store: false` is the request's.
pub fn classify_client_error(status: u16, body: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    const MODEL_NOT_SUPPORTED: &[&str] = &[
        "model_not_supported",
        "model is not supported",
        "not available for your plan",
        "unsupported model",
        "does not support the model",
        "model not supported",
    ];
    if matches!(status, 400 | 422) && MODEL_NOT_SUPPORTED.iter().any(|m| text.contains(m)) {
        return Outcome::ModelNotSupported { status };
    }
    if status == 404 && text.contains("not found") && text.contains("store") {
        return Outcome::RequestScoped { status };
    }
    Outcome::Status {
        status,
        retry_after: None,
    }
}

/// Parse `Retry-After` in seconds (HTTP-dates are rare from LLM providers and are ignored).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(Duration::from_secs_f64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: CoolingPolicy = CoolingPolicy {
        disabled: false,
        transient: Some(Duration::from_secs(60)),
    };

    /// The cooldown an outcome starts, without its reason.
    fn record(
        h: &Health,
        account: &str,
        model: &str,
        outcome: Outcome,
        policy: CoolingPolicy,
        now: Instant,
    ) -> Option<Duration> {
        h.record(account, model, outcome, policy, now)
            .map(|(d, _)| d)
    }

    fn status(s: u16) -> Outcome {
        Outcome::Status {
            status: s,
            retry_after: None,
        }
    }

    #[test]
    fn client_errors_are_judged_by_their_message() {
        let ms = br#"{"error":{"message":"The requested model is not supported.","code":"model_not_supported"}}"#;
        assert_eq!(
            classify_client_error(400, ms),
            Outcome::ModelNotSupported { status: 400 }
        );
        let plan = br#"{"type":"error","error":{"type":"invalid_request_error","message":"claude-opus-4 is not available for your plan"}}"#;
        assert_eq!(
            classify_client_error(422, plan),
            Outcome::ModelNotSupported { status: 422 }
        );
        let scoped = br#"{"error":{"message":"Item with id 'rs_1' not found. Items are not persisted when `store` is set to false."}}"#;
        assert_eq!(
            classify_client_error(404, scoped),
            Outcome::RequestScoped { status: 404 }
        );
        assert_eq!(
            classify_client_error(400, b"{\"error\":\"max_tokens too big\"}"),
            status(400)
        );
        assert_eq!(classify_client_error(404, b"model gone"), status(404));

        let h = Health::default();
        let t0 = Instant::now();
        let d = record(
            &h,
            "a",
            "m",
            Outcome::ModelNotSupported { status: 400 },
            ON,
            t0,
        );
        assert_eq!(d, Some(Duration::from_secs(12 * 3600)));
        assert_eq!(
            record(&h, "b", "m", Outcome::RequestScoped { status: 404 }, ON, t0),
            None
        );
        assert_eq!(h.cooling_until("b", "m", t0), None);
    }

    #[test]
    fn cooldown_table() {
        let h = Health::default();
        let t0 = Instant::now();
        let min = Duration::from_secs(60);
        assert_eq!(
            h.record("a", "m", status(401), ON, t0),
            Some((30 * min, "unauthorized"))
        );
        assert_eq!(record(&h, "a", "m", status(403), ON, t0), Some(30 * min));
        assert_eq!(
            record(&h, "a", "m", status(404), ON, t0),
            Some(12 * 60 * min)
        );
        assert_eq!(record(&h, "a", "m", status(503), ON, t0), Some(min));
        assert_eq!(record(&h, "a", "m", status(529), ON, t0), Some(min));
        assert_eq!(record(&h, "a", "m", Outcome::Transport, ON, t0), Some(min));
        assert_eq!(record(&h, "a", "m", status(400), ON, t0), None);
        assert_eq!(
            record(
                &h,
                "a",
                "m",
                Outcome::Status {
                    status: 429,
                    retry_after: Some(Duration::from_secs(7))
                },
                ON,
                t0
            ),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn quota_backoff_doubles_to_thirty_minutes_and_success_clears() {
        let h = Health::default();
        let t0 = Instant::now();
        let got: Vec<u64> = (0..13)
            .map(|_| record(&h, "a", "m", status(429), ON, t0).unwrap().as_secs())
            .collect();
        assert_eq!(
            got,
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1800, 1800]
        );
        assert!(h.cooling_until("a", "m", t0).is_some());
        assert!(h.cooling_until("a", "other-model", t0).is_none());
        record(&h, "a", "m", Outcome::Success, ON, t0);
        assert!(h.cooling_until("a", "m", t0).is_none());
        assert_eq!(
            record(&h, "a", "m", status(429), ON, t0),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn cooldown_expires_with_the_clock() {
        let h = Health::default();
        let t0 = Instant::now();
        record(&h, "a", "m", status(500), ON, t0);
        assert_eq!(
            h.cooling_until("a", "m", t0 + Duration::from_secs(59)),
            Some(t0 + Duration::from_secs(60))
        );
        assert_eq!(
            h.cooling_until("a", "m", t0 + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn disabled_cooling_records_without_cooling() {
        let h = Health::default();
        let t0 = Instant::now();
        let off = CoolingPolicy {
            disabled: true,
            ..ON
        };
        assert_eq!(record(&h, "a", "m", status(429), off, t0), None);
        let no_transient = CoolingPolicy {
            disabled: false,
            transient: None,
        };
        assert_eq!(record(&h, "a", "m", status(502), no_transient, t0), None);
        assert!(h.cooling_until("a", "m", t0).is_none());
        let snap = h.snapshot();
        assert_eq!(snap[0].1.failures, 2);
        assert_eq!(snap[0].1.last_status, Some(502));
    }

    #[test]
    fn a_remote_cooldown_applies_unless_a_longer_one_holds() {
        let h = Health::default();
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(30);
        h.apply_remote("a", "m", "quota", later);
        assert_eq!(h.cooling_until("a", "m", t0), Some(later));
        assert_eq!(h.cooling_reason("a", "m", t0), Some(("quota", None)));
        h.apply_remote("a", "m", "future-reason", t0 + Duration::from_secs(5));
        assert_eq!(
            h.cooling_until("a", "m", t0),
            Some(later),
            "shorter ignored"
        );
        h.apply_remote("a", "m", "future-reason", t0 + Duration::from_secs(60));
        assert_eq!(h.cooling_reason("a", "m", t0), Some(("remote", None)));
        assert_eq!(h.snapshot()[0].1.cooldowns, 0, "counters stay local");
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after("30"), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after(" 1.5 "),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn a_not_found_cooldown_keeps_the_upstream_message_until_the_next_outcome() {
        let h = Health::default();
        let t0 = Instant::now();
        h.record("a", "m", status(404), ON, t0);
        h.explain("a", "m", "model m does not exist");
        assert_eq!(
            h.cooling_reason("a", "m", t0),
            Some(("not_found", Some(Arc::from("model m does not exist"))))
        );
        // A quota cooldown is not explained by a not-found message, and drops the old one.
        h.record("a", "m", status(429), ON, t0);
        h.explain("a", "m", "ignored");
        assert_eq!(h.cooling_reason("a", "m", t0), Some(("quota", None)));
        assert!(is_not_served("model_not_supported") && !is_not_served("quota"));
        assert_eq!(h.cooling_reason("a", "other", t0), None);
    }

    #[test]
    fn error_messages_of_each_protocol() {
        let m = |b: &str| error_message(b.as_bytes());
        assert_eq!(
            m(r#"{"error":{"message":" gone ","type":"x"}}"#).as_deref(),
            Some("gone")
        );
        assert_eq!(
            m(r#"{"type":"error","error":{"type":"not_found_error","message":"no m"}}"#).as_deref(),
            Some("no m")
        );
        assert_eq!(
            m(r#"[{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}]"#)
                .as_deref(),
            Some("models/x is not found")
        );
        assert_eq!(m(r#"{"error":"plain"}"#).as_deref(), Some("plain"));
        assert_eq!(m(r#"{"message":"top"}"#).as_deref(), Some("top"));
        assert_eq!(m("not json"), None);
        assert_eq!(m(r#"{"error":{"message":""}}"#), None);
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "é".repeat(1000));
        assert!(m(&long).unwrap().len() <= 1024);
    }
}
