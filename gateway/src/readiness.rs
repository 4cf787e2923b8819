//! `GET /readyz`: may a load balancer send this process traffic? `/healthz` stays the
//! liveness answer (the process answers at all); readiness is 200 only when
//!
//! - the process is not shutting down (SIGTERM drain, SIGQUIT hand-over), and
//! - the config is loaded (always true once serving: a bad config never starts) and at least
//!   one account can serve: it is configured, and it is not cooling down for every model it
//!   has been tried with.
//!
//! Otherwise 503 with the reason: `{"status":"not_ready","reason":"..."}`. With `shared-state`
//! on, both answers carry a `shared_state` object (`connected`, `last_error`, counts); Redis
//! being unreachable never makes the process not ready (it serves from local state).

use crate::health::Health;
use crate::runtime::Runtime;
use pingora_core::server::ExecutionPhase;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Process-wide readiness state that is not in the runtime snapshot.
#[derive(Debug, Default)]
pub struct Readiness {
    draining: AtomicBool,
}

impl Readiness {
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Follows Pingora's execution phases on a thread of its own and turns readiness off as
    /// soon as a shutdown or hand-over starts.
    pub fn follow(self: &Arc<Self>, mut phases: tokio::sync::broadcast::Receiver<ExecutionPhase>) {
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("readiness".into())
            .spawn(move || loop {
                match phases.blocking_recv() {
                    Ok(
                        ExecutionPhase::GracefulTerminate
                        | ExecutionPhase::GracefulUpgradeTransferringFds
                        | ExecutionPhase::ShutdownStarted,
                    ) => me.set_draining(),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            });
        if let Err(e) = spawned {
            tracing::error!("readiness: phase watcher not started: {e}");
        }
    }
}

/// Why the process is not ready (the 503's `reason`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    #[error("shutting down: draining requests in flight")]
    Draining,
    #[error("no account configured (config and auth-dir have none)")]
    NoAccount,
    #[error("all {accounts} account(s) are cooling down ({})", reasons.join(", "))]
    AllCooling {
        accounts: usize,
        reasons: Vec<&'static str>,
    },
}

/// `Ok(accounts that can serve)` or why none can.
pub fn check(
    readiness: &Readiness,
    rt: &Runtime,
    health: &Health,
    now: Instant,
) -> Result<usize, NotReady> {
    if readiness.draining() {
        return Err(NotReady::Draining);
    }
    if rt.accounts.is_empty() {
        return Err(NotReady::NoAccount);
    }
    // Per account: (entries, entries cooling now, a reason).
    let mut cooling: HashMap<String, (usize, usize, &'static str)> = HashMap::new();
    for ((account, _model), h) in health.snapshot() {
        let e = cooling.entry(account).or_insert((0, 0, "cooling"));
        e.0 += 1;
        if h.cooling_until.is_some_and(|until| until > now) {
            e.1 += 1;
            e.2 = h.reason.unwrap_or("cooling");
        }
    }
    let mut reasons: Vec<&'static str> = Vec::new();
    let mut ready = 0;
    for a in &rt.accounts {
        match cooling.get(&a.id) {
            Some(&(n, c, why)) if n > 0 && n == c => {
                if !reasons.contains(&why) {
                    reasons.push(why);
                }
            }
            _ => ready += 1,
        }
    }
    if ready == 0 {
        return Err(NotReady::AllCooling {
            accounts: rt.accounts.len(),
            reasons,
        });
    }
    Ok(ready)
}

/// The `/readyz` answer: status and body.
pub fn answer(readiness: &Readiness, rt: &Runtime, health: &Health) -> (u16, Value) {
    match check(readiness, rt, health, Instant::now()) {
        Ok(n) => (200, json!({"status": "ready", "accounts": n})),
        Err(reason) => (
            503,
            json!({"status": "not_ready", "reason": reason.to_string()}),
        ),
    }
}

/// Answers `GET`/`HEAD /readyz`; `None` for every other request. While draining, every
/// answer closes its connection (`Connection: close`): a keep-alive client then reconnects,
/// to the new process after a hand-over, instead of finding its idle connection dropped
/// when this process stops reading requests.
pub async fn request_filter(
    session: &mut pingora_proxy::Session,
    ctx: &crate::ctx::Ctx,
    readiness: &Readiness,
) -> Option<pingora_error::Result<bool>> {
    if readiness.draining() {
        session.set_keepalive(None);
    }
    let req = session.req_header();
    let method_ok = req.method == http::Method::GET || req.method == http::Method::HEAD;
    if req.uri.path() != "/readyz" || !method_ok {
        return None;
    }
    let (status, mut body) = answer(readiness, &ctx.rt, &ctx.shared.health);
    if let (Some(replica), Some(fields)) = (&ctx.shared.replica, body.as_object_mut()) {
        fields.insert("shared_state".into(), replica.status.readyz());
    }
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let extra = [("cache-control", "no-store")];
    Some(
        crate::phases::write_json(session, &ctx.obs, status, body, &extra)
            .await
            .map(|()| true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{CoolingPolicy, Outcome};

    fn runtime(yaml: &str) -> Arc<Runtime> {
        let cfg = switchyard_conf::load_str(yaml)
            .map(|l| l.config)
            .unwrap_or_else(|p| panic!("{p:?}"));
        Runtime::build(&cfg).unwrap_or_else(|p| panic!("{p:?}"))
    }

    const TWO: &str = "auth-dir: /nonexistent-sy-readyz\nclaude-api-key:\n  - api-key: a\n    base-url: http://127.0.0.1:1\n  - api-key: b\n    base-url: http://127.0.0.1:1\n";

    #[test]
    fn no_accounts_is_not_ready() {
        let rt = runtime("auth-dir: /nonexistent-sy-readyz\n");
        let (status, body) = answer(&Readiness::default(), &rt, &Health::default());
        assert_eq!(status, 503);
        assert_eq!(
            body["reason"],
            "no account configured (config and auth-dir have none)"
        );
    }

    #[test]
    fn ready_until_every_account_cools() {
        let rt = runtime(TWO);
        let health = Health::default();
        let now = Instant::now();
        let ready = Readiness::default();
        assert_eq!(check(&ready, &rt, &health, now), Ok(2));
        let policy = CoolingPolicy {
            disabled: false,
            transient: None,
        };
        let unauthorized = Outcome::Status {
            status: 401,
            retry_after: None,
        };
        health.record(&rt.accounts[0].id, "m", unauthorized, policy, now);
        assert_eq!(check(&ready, &rt, &health, now), Ok(1));
        health.record(&rt.accounts[1].id, "m", unauthorized, policy, now);
        assert_eq!(
            check(&ready, &rt, &health, now).map_err(|e| e.to_string()),
            Err("all 2 account(s) are cooling down (unauthorized)".into())
        );
    }

    #[test]
    fn draining_is_not_ready() {
        let rt = runtime(TWO);
        let ready = Readiness::default();
        ready.set_draining();
        let (status, body) = answer(&ready, &rt, &Health::default());
        assert_eq!(status, 503);
        assert_eq!(body["reason"], "shutting down: draining requests in flight");
    }
}
