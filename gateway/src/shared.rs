//! What every request shares and every config snapshot outlives: account health, session
//! bindings, metrics, logs and the link to other replicas, in one `Arc` the gateway hands to each request's context.

use crate::affinity::Affinity;
use crate::health::Health;
use crate::in_flight::InFlight;
use crate::logs::Logs;
use crate::metrics::Metrics;
use crate::shared_state::SharedState;
use crate::usage_stats::UsageStats;

pub struct Shared {
    /// In an `Arc`: `shared-state` applies other replicas' cooldowns to it.
    pub health: std::sync::Arc<Health>,
    /// In an `Arc`: `shared-state` applies other replicas' bindings to it.
    pub affinity: std::sync::Arc<Affinity>,
    pub metrics: Metrics,
    /// Access records, request and error logs (written off the worker threads).
    pub logs: Logs,
    /// `usage-statistics-enabled`: per key, model, account and provider.
    pub usage: Option<std::sync::Arc<UsageStats>>,
    /// Requests in flight per account id (the counters every snapshot's accounts hold).
    pub in_flight: std::sync::Arc<InFlight>,
    /// `shared-state`: what this replica shares with the others; `None` runs alone.
    pub replica: Option<SharedState>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}
