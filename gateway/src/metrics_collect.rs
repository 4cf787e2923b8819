//! Scrape-time metrics: families computed when Prometheus asks, not on the request path.
//!
//! | family | kind | labels |
//! |---|---|---|
//! | `switchyard_accounts` | gauge | `provider`, `state` (`ready`, `cooling`, `refreshing`, `disabled`) |
//! | `switchyard_oauth_refreshes_total` | counter | `provider`, `result` (`ok`, `error`) |
//! | `switchyard_build_info` | gauge, always 1 | `version`, `commit` |
//! | `switchyard_log_lines_dropped_total` | counter | |
//! | `switchyard_client_connections` | gauge | |
//! | `switchyard_client_connections_refused_total` | counter | (at `max-connections`) |
//! | `switchyard_inflight_memory_reserved_bytes` | gauge | (against `max-in-flight-memory`) |
//! | `switchyard_oauth_refresh_lock_total` | counter, with `shared-state` on | `outcome` (`refreshed`, `adopted`, `waited`, `local_fallback`, `wait_timed_out`) |
//! | `switchyard_shared_state_*` | with `shared-state` on: `shared_state::status` |
//! | `process_*` | the prometheus crate's process collector (CPU, memory, fds, start time) |
//!
//! One state per account, the first that holds: `disabled` (an OAuth account the refresh
//! service marked unusable, e.g. after `invalid_grant`, or whose file left the service),
//! `cooling` (some model of the account is cooling now), `refreshing` (a refresh grant is on
//! the wire), `ready`. Every provider of the current snapshot reports all four states, zeros
//! included, so a state appearing is a change of value and not a new series.
//!
//! `provider` is the channel's label (`Channel::provider_label`), the same as in
//! `switchyard_upstream_attempts_total`; refresh counts are kept per OAuth provider by the
//! refresh service and reported under the label of the channel that provider feeds.
//!
//! Contract: [`ScrapeCollector::collect`] reads the current runtime snapshot
//! ([`RuntimeHolder::load`]), one pass over account health under its lock, and two lookups in
//! the refresh service per OAuth account; it allocates its output and nothing that grows with
//! traffic. It holds the shared state weakly (the registry it lives in belongs to that state).

use crate::accounts::Account;
use crate::reload::RuntimeHolder;
use crate::shared::Shared;
use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};
use prometheus::{IntGaugeVec, Opts, Registry};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Instant;
use switchyard_auth::refresh::{AccountStatus, Refresher};
use switchyard_auth::ProviderId;

const ACCOUNTS: &str = "switchyard_accounts";
const ACCOUNTS_HELP: &str = "Accounts of the current config snapshot, by provider and state.";
const REFRESHES: &str = "switchyard_oauth_refreshes_total";
const REFRESHES_HELP: &str = "OAuth token refreshes finished, by provider and result.";
const LOCK: &str = "switchyard_oauth_refresh_lock_total";
const LOCK_HELP: &str = "OAuth refreshes by what the shared refresh lock did (docs/scale-out.md).";
const DROPPED: &str = "switchyard_log_lines_dropped_total";
const DROPPED_HELP: &str =
    "Log lines, access records and request logs dropped because the log writer fell behind.";

const CONNECTIONS: &str = "switchyard_client_connections";
const CONNECTIONS_HELP: &str = "Client connections open now.";
const REFUSED: &str = "switchyard_client_connections_refused_total";
const REFUSED_HELP: &str = "Client connections closed on accept because max-connections were open.";
const RESERVED: &str = "switchyard_inflight_memory_reserved_bytes";
const RESERVED_HELP: &str =
    "Bytes the requests in flight have reserved of max-in-flight-memory (docs/limits.md).";

/// What an account is doing now (`switchyard_accounts{state}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccountState {
    Ready,
    Cooling,
    Refreshing,
    Disabled,
}

impl AccountState {
    const ALL: [Self; 4] = [Self::Ready, Self::Cooling, Self::Refreshing, Self::Disabled];

    fn label(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Cooling => "cooling",
            Self::Refreshing => "refreshing",
            Self::Disabled => "disabled",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Ready => 0,
            Self::Cooling => 1,
            Self::Refreshing => 2,
            Self::Disabled => 3,
        }
    }
}

/// The channel label the accounts of an OAuth provider carry (`Channel::provider_label`).
fn oauth_provider_label(p: ProviderId) -> &'static str {
    match p {
        ProviderId::Claude => "claude-oauth",
        ProviderId::Codex => "codex-oauth",
        ProviderId::Gemini => "gemini-cli",
        ProviderId::Antigravity => "antigravity",
        ProviderId::Qwen => "qwen",
        ProviderId::Kimi => "kimi",
        ProviderId::Iflow => "iflow",
        ProviderId::Vertex => "vertex",
    }
}

/// The collector of `switchyard_accounts` and `switchyard_oauth_refreshes_total`.
pub struct ScrapeCollector {
    holder: Arc<RuntimeHolder>,
    shared: Weak<Shared>,
    refresher: Arc<Refresher>,
    descs: [Desc; 7],
}

impl std::fmt::Debug for ScrapeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeCollector").finish_non_exhaustive()
    }
}

impl ScrapeCollector {
    pub fn new(
        holder: Arc<RuntimeHolder>,
        shared: &Arc<Shared>,
        refresher: Arc<Refresher>,
    ) -> Result<Self, prometheus::Error> {
        let labels = |l: &str| vec!["provider".to_owned(), l.to_owned()];
        Ok(Self {
            holder,
            shared: Arc::downgrade(shared),
            refresher,
            descs: [
                Desc::new(
                    ACCOUNTS.into(),
                    ACCOUNTS_HELP.into(),
                    labels("state"),
                    HashMap::new(),
                )?,
                Desc::new(
                    REFRESHES.into(),
                    REFRESHES_HELP.into(),
                    labels("result"),
                    HashMap::new(),
                )?,
                Desc::new(
                    DROPPED.into(),
                    DROPPED_HELP.into(),
                    Vec::new(),
                    HashMap::new(),
                )?,
                Desc::new(
                    CONNECTIONS.into(),
                    CONNECTIONS_HELP.into(),
                    Vec::new(),
                    HashMap::new(),
                )?,
                Desc::new(
                    REFUSED.into(),
                    REFUSED_HELP.into(),
                    Vec::new(),
                    HashMap::new(),
                )?,
                Desc::new(
                    RESERVED.into(),
                    RESERVED_HELP.into(),
                    Vec::new(),
                    HashMap::new(),
                )?,
                Desc::new(
                    LOCK.into(),
                    LOCK_HELP.into(),
                    vec!["outcome".to_owned()],
                    HashMap::new(),
                )?,
            ],
        })
    }

    /// Accounts per provider and state, providers in the snapshot's order of first appearance.
    fn account_counts(&self, cooling: &HashSet<String>) -> Vec<(&'static str, [u64; 4])> {
        let runtime = self.holder.load();
        let mut counts: Vec<(&'static str, [u64; 4])> = Vec::new();
        for account in &runtime.accounts {
            let provider = account.channel.provider_label(account.kind);
            let state = state_of(account, cooling);
            let row = match counts.iter().position(|(p, _)| *p == provider) {
                Some(i) => i,
                None => {
                    counts.push((provider, [0; 4]));
                    counts.len() - 1
                }
            };
            if let Some((_, n)) = counts.get_mut(row) {
                n[state.index()] += 1;
            }
        }
        counts
    }
}

fn state_of(account: &Account, cooling: &HashSet<String>) -> AccountState {
    if let Some(link) = account.channel.oauth() {
        match link.refresher.status(&link.file) {
            Some(AccountStatus::Active) => {}
            Some(AccountStatus::Unusable(_)) | None => return AccountState::Disabled,
        }
        if cooling.contains(&account.id) {
            return AccountState::Cooling;
        }
        if link.refresher.refreshing(&link.file) {
            return AccountState::Refreshing;
        }
        return AccountState::Ready;
    }
    if cooling.contains(&account.id) {
        AccountState::Cooling
    } else {
        AccountState::Ready
    }
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut l = LabelPair::default();
    l.set_name(name.to_owned());
    l.set_value(value.to_owned());
    l
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

fn gauge(value: u64) -> Metric {
    let mut g = Gauge::default();
    g.set_value(value as f64);
    let mut m = Metric::default();
    m.set_gauge(g);
    m
}

fn counter(value: u64) -> Metric {
    let mut c = Counter::default();
    c.set_value(value as f64);
    let mut m = Metric::default();
    m.set_counter(c);
    m
}

impl Collector for ScrapeCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let cooling = self
            .shared
            .upgrade()
            .map(|s| s.health.cooling_accounts(Instant::now()))
            .unwrap_or_default();
        let mut accounts = Vec::new();
        for (provider, n) in self.account_counts(&cooling) {
            for state in AccountState::ALL {
                let mut g = Gauge::default();
                g.set_value(n[state.index()] as f64);
                let mut m = Metric::from_label(vec![
                    label("provider", provider),
                    label("state", state.label()),
                ]);
                m.set_gauge(g);
                accounts.push(m);
            }
        }
        let mut refreshes = Vec::new();
        for (provider, n) in self.refresher.refresh_counts() {
            for (result, value) in [("error", n.error), ("ok", n.ok)] {
                let mut c = Counter::default();
                c.set_value(value as f64);
                let mut m = Metric::from_label(vec![
                    label("provider", oauth_provider_label(provider)),
                    label("result", result),
                ]);
                m.set_counter(c);
                refreshes.push(m);
            }
        }
        let mut dropped = Counter::default();
        let lost = self.shared.upgrade().map_or(0, |s| s.logs.dropped_lines());
        dropped.set_value(lost as f64);
        let mut lost = Metric::default();
        lost.set_counter(dropped);
        let ((open, refused), reserved) = self.shared.upgrade().map_or(((0, 0), 0), |s| {
            (s.in_flight.connections(), s.in_flight.reserved())
        });
        let lock = self.refresher.lock_counts().map(|counts| {
            let outcomes = counts
                .into_iter()
                .map(|(event, n)| {
                    let mut c = Counter::default();
                    c.set_value(n as f64);
                    let mut m = Metric::from_label(vec![label("outcome", event.label())]);
                    m.set_counter(c);
                    m
                })
                .collect();
            family(LOCK, LOCK_HELP, MetricType::COUNTER, outcomes)
        });
        let mut families = vec![
            family(ACCOUNTS, ACCOUNTS_HELP, MetricType::GAUGE, accounts),
            family(REFRESHES, REFRESHES_HELP, MetricType::COUNTER, refreshes),
            family(DROPPED, DROPPED_HELP, MetricType::COUNTER, vec![lost]),
            family(
                CONNECTIONS,
                CONNECTIONS_HELP,
                MetricType::GAUGE,
                vec![gauge(open)],
            ),
            family(
                REFUSED,
                REFUSED_HELP,
                MetricType::COUNTER,
                vec![counter(refused)],
            ),
            family(
                RESERVED,
                RESERVED_HELP,
                MetricType::GAUGE,
                vec![gauge(reserved)],
            ),
        ];
        families.extend(lock);
        families
    }
}

/// Registers the scrape-time families, `switchyard_build_info` and the process collector in
/// `registry` (the gateway's own, from `Metrics::registry`).
pub fn register(
    registry: &Registry,
    holder: Arc<RuntimeHolder>,
    shared: &Arc<Shared>,
    refresher: Arc<Refresher>,
) -> Result<(), prometheus::Error> {
    registry.register(Box::new(ScrapeCollector::new(holder, shared, refresher)?))?;
    if let Some(replica) = &shared.replica {
        registry.register(Box::new(crate::shared_state::status::StatusCollector::new(
            replica.status.clone(),
        )?))?;
    }
    let build = IntGaugeVec::new(
        Opts::new(
            "switchyard_build_info",
            "The running build: version and commit (always 1).",
        ),
        &["version", "commit"],
    )?;
    build
        .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("SWITCHYARD_COMMIT")])
        .set(1);
    registry.register(Box::new(build))?;
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests;
