//! `shared-state`: replicas behind one load balancer share cooldowns, session bindings and
//! usage totals through Redis (docs/scale-out.md).
//!
//! Contract: nothing on the request path waits for Redis. The request path calls
//! [`SharedState::cooldown`], [`SharedState::bind`] and [`SharedState::usage`] after it has
//! changed its own local state; each is one `try_send` into a bounded queue (a full queue drops
//! the change and counts it). A writer task on a thread of its own (`link`) publishes
//! cooldowns and bindings at once, writes usage deltas every `flush-interval-ms`, and applies
//! what other replicas publish to the local [`Health`], [`Affinity`] and [`UsageStats`], which
//! the request path keeps reading as before. Redis down, slow or restarted only delays sharing:
//! the task logs the loss once, keeps what it could not write, reconnects with backoff, then
//! reloads the current cooldowns and bindings and writes what it kept.
//!
//! [`refresh_lock`] is the OAuth refresh lock the refresh service takes (one replica refreshes
//! a token; the others adopt it), on a thread of its own.
//!
//! [`config_sync`] sends the config a management call wrote to the other replicas and applies
//! theirs, on a thread of its own.
//!
//! [`auth_mirror`] (`auth-store: true`) keeps `auth-dir` a mirror of the token files held in
//! Redis, on a thread of its own.
//!
//! Without `shared-state` none of this exists: no thread, no queue, no connection.

pub mod auth_mirror;
pub mod config_sync;
mod link;
pub mod refresh_lock;
pub mod status;
pub mod wire;

use crate::affinity::Affinity;
use crate::health::Health;
use crate::usage_stats::{UsageDelta, UsageEvent, UsageStats};
use status::Status;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_conf::SharedStateConfig;
use tokio::sync::mpsc;
use wire::{Binding, Cooldown, Event};

/// One change for the writer task.
#[derive(Debug)]
enum Change {
    Share(Event),
    Usage(UsageDelta),
}

/// The local state remote changes are applied to.
#[derive(Debug, Clone)]
pub struct Targets {
    pub health: Arc<Health>,
    pub affinity: Arc<Affinity>,
    /// `usage-statistics-enabled`: where the shared totals go.
    pub usage: Option<Arc<UsageStats>>,
}

/// Why sharing could not start.
#[derive(Debug, thiserror::Error)]
pub enum SharedStateError {
    /// The URL is not one the client accepts (its text is not repeated: it may hold a password).
    #[error("shared-state.redis-url is not a usable Redis URL")]
    Url,
    #[error("shared-state: the writer thread could not start: {0}")]
    Spawn(std::io::Error),
}

/// The request path's handle (held in `Shared`).
#[derive(Debug)]
pub struct SharedState {
    /// Cooldowns and bindings: the writer wakes for each and publishes it at once.
    tx: mpsc::Sender<Change>,
    /// Usage deltas, one per request: never awaited by the writer (a send wakes no thread);
    /// it drains them on its flush tick.
    usage_tx: mpsc::Sender<Change>,
    pub status: Arc<Status>,
}

impl SharedState {
    /// Starts the writer thread; it connects in the background (start-up never waits for
    /// Redis).
    fn start_with(cfg: &SharedStateConfig, targets: Targets) -> Result<Self, SharedStateError> {
        let client =
            redis::Client::open(cfg.redis_url.expose()).map_err(|_| SharedStateError::Url)?;
        let (tx, rx) = mpsc::channel(cfg.write_queue);
        let (usage_tx, usage_rx) = mpsc::channel(cfg.write_queue);
        let status = Arc::new(Status::default());
        let link = link::Link::new(client, cfg, targets, status.clone());
        std::thread::Builder::new()
            .name("shared-state".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(link.run(rx, usage_rx)),
                    Err(e) => tracing::error!("shared state not started: {e}"),
                }
            })
            .map_err(SharedStateError::Spawn)?;
        Ok(SharedState {
            tx,
            usage_tx,
            status,
        })
    }

    /// The account started cooling for `model` for `d` (after `Health::record` said so).
    pub fn cooldown(&self, account: &str, model: &str, reason: &'static str, d: Duration) {
        self.send(Change::Share(Event::Cooldown(Cooldown {
            account: account.to_owned(),
            model: model.to_owned(),
            reason: reason.to_owned(),
            until_ms: wire::unix_ms(SystemTime::now() + d),
        })));
    }

    /// The session `key` was bound to `account` for `ttl` (after `Affinity::bind`).
    pub fn bind(&self, key: &str, account: &str, ttl: Duration) {
        self.send(Change::Share(Event::Bind(Binding {
            key: key.to_owned(),
            account: account.to_owned(),
            until_ms: wire::unix_ms(SystemTime::now() + ttl),
        })));
    }

    /// A finished request was counted locally (after `UsageStats::record`).
    pub fn usage(&self, e: &UsageEvent<'_>) {
        if self
            .usage_tx
            .try_send(Change::Usage(UsageDelta::of(e)))
            .is_err()
        {
            self.status.dropped(1);
        }
    }

    fn send(&self, change: Change) {
        if self.tx.try_send(change).is_err() {
            self.status.dropped(1);
        }
    }
}

/// `shared-state` from the config: the started writer, or `None` when the key is absent.
pub fn start(
    config: &switchyard_conf::Config,
    health: &Arc<Health>,
    affinity: &Arc<Affinity>,
    usage: Option<&Arc<UsageStats>>,
) -> Result<Option<SharedState>, SharedStateError> {
    let Some(cfg) = &config.shared_state else {
        return Ok(None);
    };
    let targets = Targets {
        health: health.clone(),
        affinity: affinity.clone(),
        usage: usage.cloned(),
    };
    SharedState::start_with(cfg, targets).map(Some)
}
