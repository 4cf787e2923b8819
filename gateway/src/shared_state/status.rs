//! How the link to Redis is doing, for logs, `/metrics` and `/readyz`: atomics the writer
//! task sets and scrapes read. Losing and regaining the link is logged once each.
//!
//! | family | kind | labels | meaning |
//! |---|---|---|---|
//! | `switchyard_shared_state_connected` | gauge | | 1 while the link to Redis is up (subscribed and resynchronised) |
//! | `switchyard_shared_state_dropped_writes_total` | counter | | changes not shared: the write queue or the outage buffer was full |
//! | `switchyard_shared_state_events_total` | counter | `direction` (`published`, `applied`) | cooldowns and bindings sent to, and taken from, other replicas |
//! | `switchyard_shared_state_disconnects_total` | counter | | times the link was lost |

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const CONNECTED: &str = "switchyard_shared_state_connected";
const CONNECTED_HELP: &str = "1 while the link to the shared-state Redis is up.";
const DROPPED: &str = "switchyard_shared_state_dropped_writes_total";
const DROPPED_HELP: &str = "Shared-state changes dropped because a queue was full.";
const EVENTS: &str = "switchyard_shared_state_events_total";
const EVENTS_HELP: &str =
    "Cooldowns and session bindings published to or applied from other replicas.";
const DISCONNECTS: &str = "switchyard_shared_state_disconnects_total";
const DISCONNECTS_HELP: &str = "Times the link to the shared-state Redis was lost.";

#[derive(Debug, Default)]
pub struct Status {
    connected: AtomicBool,
    /// Whether the link was ever up (the first failure to connect is logged as such).
    ever: AtomicBool,
    /// Whether the current outage was logged.
    loss_logged: AtomicBool,
    dropped: AtomicU64,
    published: AtomicU64,
    applied: AtomicU64,
    disconnects: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Status {
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// The link is up and resynchronised; logs the recovery once.
    pub fn up(&self) {
        self.connected.store(true, Ordering::Relaxed);
        let was_lost = self.loss_logged.swap(false, Ordering::Relaxed);
        if !self.ever.swap(true, Ordering::Relaxed) {
            tracing::info!("shared state: connected to Redis");
        } else if was_lost {
            tracing::info!("shared state: Redis reachable again; resynchronised");
        }
    }

    /// The link is down (or could not be made); logs the first failure of an outage only.
    pub fn down(&self, error: &str) {
        if self.connected.swap(false, Ordering::Relaxed) {
            self.disconnects.fetch_add(1, Ordering::Relaxed);
        }
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_owned());
        if !self.loss_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error,
                "shared state: Redis unreachable; serving from local state and retrying"
            );
        }
    }

    pub fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub fn published(&self, n: u64) {
        self.published.fetch_add(n, Ordering::Relaxed);
    }

    pub fn applied(&self) {
        self.applied.fetch_add(1, Ordering::Relaxed);
    }

    /// The `shared_state` object of `/readyz` (never a reason to be not ready).
    pub fn readyz(&self) -> Value {
        let error = self
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let connected = self.connected();
        json!({
            "connected": connected,
            "last_error": if connected { None } else { error },
            "dropped_writes": self.dropped.load(Ordering::Relaxed),
            "published": self.published.load(Ordering::Relaxed),
            "applied": self.applied.load(Ordering::Relaxed),
        })
    }
}

/// The scrape-time families of [`Status`] (registered only with `shared-state` on).
pub struct StatusCollector {
    status: Arc<Status>,
    descs: [Desc; 4],
}

impl std::fmt::Debug for StatusCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusCollector").finish_non_exhaustive()
    }
}

impl StatusCollector {
    pub fn new(status: Arc<Status>) -> Result<Self, prometheus::Error> {
        let desc = |name: &str, help: &str, labels: Vec<String>| {
            Desc::new(name.into(), help.into(), labels, HashMap::new())
        };
        Ok(StatusCollector {
            status,
            descs: [
                desc(CONNECTED, CONNECTED_HELP, Vec::new())?,
                desc(DROPPED, DROPPED_HELP, Vec::new())?,
                desc(EVENTS, EVENTS_HELP, vec!["direction".into()])?,
                desc(DISCONNECTS, DISCONNECTS_HELP, Vec::new())?,
            ],
        })
    }
}

fn counter(value: u64, labels: Vec<LabelPair>) -> Metric {
    let mut c = Counter::default();
    c.set_value(value as f64);
    let mut m = Metric::from_label(labels);
    m.set_counter(c);
    m
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

impl Collector for StatusCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let s = &self.status;
        let mut g = Gauge::default();
        g.set_value(if s.connected() { 1.0 } else { 0.0 });
        let mut up = Metric::default();
        up.set_gauge(g);
        let direction = |v: &str| {
            let mut l = LabelPair::default();
            l.set_name("direction".into());
            l.set_value(v.into());
            vec![l]
        };
        let events = vec![
            counter(s.applied.load(Ordering::Relaxed), direction("applied")),
            counter(s.published.load(Ordering::Relaxed), direction("published")),
        ];
        vec![
            family(CONNECTED, CONNECTED_HELP, MetricType::GAUGE, vec![up]),
            family(
                DROPPED,
                DROPPED_HELP,
                MetricType::COUNTER,
                vec![counter(s.dropped.load(Ordering::Relaxed), Vec::new())],
            ),
            family(EVENTS, EVENTS_HELP, MetricType::COUNTER, events),
            family(
                DISCONNECTS,
                DISCONNECTS_HELP,
                MetricType::COUNTER,
                vec![counter(s.disconnects.load(Ordering::Relaxed), Vec::new())],
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_reports_the_link_and_counts() {
        let s = Arc::new(Status::default());
        assert_eq!(s.readyz()["connected"], false);
        s.down("connection refused");
        s.down("connection refused");
        assert_eq!(s.readyz()["last_error"], "connection refused");
        s.up();
        s.published(2);
        s.applied();
        s.dropped(3);
        s.down("broken pipe");
        s.up();
        let r = s.readyz();
        assert_eq!(r["connected"], true);
        assert_eq!(r["last_error"], Value::Null);
        assert_eq!(
            (r["published"].clone(), r["applied"].clone()),
            (json!(2), json!(1))
        );
        let registry = prometheus::Registry::new();
        registry
            .register(Box::new(StatusCollector::new(s.clone()).unwrap()))
            .unwrap();
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .unwrap();
        assert!(
            text.contains("switchyard_shared_state_connected 1"),
            "{text}"
        );
        assert!(
            text.contains("switchyard_shared_state_dropped_writes_total 3"),
            "{text}"
        );
        assert!(
            text.contains("switchyard_shared_state_disconnects_total 1"),
            "{text}"
        );
        assert!(
            text.contains(r#"switchyard_shared_state_events_total{direction="published"} 2"#),
            "{text}"
        );
    }
}
