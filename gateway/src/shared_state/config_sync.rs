//! Management changes reaching the other replicas (`shared-state`, docs/scale-out.md): a
//! config text written through this replica's management API is published on
//! `{prefix}config`; a text another replica published is applied through
//! [`LiveConfig::apply_from_peer`] (which keeps this replica's own listener settings and does
//! not publish again).
//!
//! Contract: one thread of its own (`config-sync`, a current-thread runtime, started only with
//! `shared-state`) subscribes, reconnecting with backoff (100 ms doubling to 5 s); publishing
//! is handed to that thread and never waits (a publish that fails is logged and lost: the
//! other replicas keep their config until the next change). Applying runs on a blocking
//! thread (it builds a runtime snapshot). A replica that was disconnected misses the changes
//! published meanwhile; there is no replay. Messages carry the whole config text, secrets
//! included: Redis is as trusted as the config files themselves.

use super::link::within;
use super::SharedStateError;
use crate::live_config::LiveConfig;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use switchyard_conf::SharedStateConfig;

const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// One published change: who wrote it (replicas skip their own) and the config text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigMessage {
    pub origin: String,
    pub text: String,
}

struct Inner {
    client: redis::Client,
    channel: String,
    origin: String,
    timeout: Duration,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Inner {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn publish(&self, text: String) -> Result<(), String> {
        let message = ConfigMessage {
            origin: self.origin.clone(),
            text,
        };
        let payload = serde_json::to_string(&message).map_err(|e| e.to_string())?;
        let conn = self.slot().clone();
        let mut conn = match conn {
            Some(c) => c,
            None => {
                let c =
                    within(self.timeout, self.client.get_multiplexed_async_connection()).await?;
                *self.slot() = Some(c.clone());
                c
            }
        };
        let sent = within(
            self.timeout,
            redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(payload)
                .query_async::<i64>(&mut conn),
        )
        .await;
        if sent.is_err() {
            *self.slot() = None;
        }
        sent.map(|_| ())
    }

    /// Subscribes and applies what the others publish until the connection ends.
    async fn session(&self, live: &Arc<LiveConfig>) -> Result<(), String> {
        let mut pubsub = within(self.timeout, self.client.get_async_pubsub()).await?;
        within(self.timeout, pubsub.subscribe(&self.channel)).await?;
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let Ok(message) = serde_json::from_slice::<ConfigMessage>(msg.get_payload_bytes())
            else {
                tracing::debug!("config sync: a message of unknown shape was ignored");
                continue;
            };
            if message.origin == self.origin {
                continue;
            }
            let live = live.clone();
            let applied =
                tokio::task::spawn_blocking(move || live.apply_from_peer(&message.text)).await;
            match applied {
                Ok(Ok(Some(a))) => tracing::info!(
                    accounts = a.accounts,
                    "config changed by another replica's management API: applied"
                ),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::warn!(
                    "config changed by another replica's management API: not applied: {e}"
                ),
                Err(e) => tracing::warn!("config sync: applying a change failed: {e}"),
            }
        }
        Err("subscription connection closed".into())
    }
}

/// Starts the `config-sync` thread and makes `live` publish its management writes.
pub fn start(cfg: &SharedStateConfig, live: &Arc<LiveConfig>) -> Result<(), SharedStateError> {
    let client = redis::Client::open(cfg.redis_url.expose()).map_err(|_| SharedStateError::Url)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SharedStateError::Spawn)?;
    let started = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let inner = Arc::new(Inner {
        client,
        channel: format!("{}config", cfg.key_prefix),
        origin: format!("{}-{started}", std::process::id()),
        timeout: Duration::from_millis(cfg.timeout_ms),
        conn: Mutex::new(None),
    });
    let (handle, publisher) = (rt.handle().clone(), inner.clone());
    live.set_peers(Box::new(move |text: &str| {
        let (inner, text) = (publisher.clone(), text.to_owned());
        drop(handle.spawn(async move {
            if let Err(e) = inner.publish(text).await {
                tracing::warn!("config sync: the change was not sent to the other replicas: {e}");
            }
        }));
    }));
    let live = live.clone();
    std::thread::Builder::new()
        .name("config-sync".into())
        .spawn(move || {
            rt.block_on(async move {
                let mut backoff = BACKOFF_FIRST;
                loop {
                    let began = std::time::Instant::now();
                    if let Err(e) = inner.session(&live).await {
                        tracing::debug!("config sync: {e}");
                    }
                    if began.elapsed() > BACKOFF_MAX {
                        backoff = BACKOFF_FIRST;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            });
        })
        .map_err(SharedStateError::Spawn)?;
    Ok(())
}
