//! The writer task of `shared-state`: one command connection and one pub/sub connection to
//! Redis, on the `shared-state` thread's own runtime. Never on the request path.
//!
//! A session: connect, subscribe to the events channel, load the live cooldowns and bindings
//! (subscribing first, so nothing published meanwhile is missed), after a reconnect queue the
//! live local cooldowns Redis lacks (a Redis restarted empty), write what was kept while
//! disconnected, then serve: apply other replicas' messages, write each change batch at once
//! (cooldowns and bindings) or every `flush-interval-ms` (usage deltas, then read the shared
//! totals back). Any error or a timeout (`timeout-ms`) ends the session; the task waits
//! (100 ms doubling to 5 s) and starts another, buffering changes meanwhile.
//!
//! Redis operations: per cooldown or new binding, one pipeline (`ZADD`, `PUBLISH`,
//! `ZREMRANGEBYSCORE`); per flush with usage, one `MULTI` of `HINCRBY`s (one per field
//! touched) and one `HGETALL`; every second without usage, one `HGETALL`; per session start,
//! two `ZRANGEBYSCORE`s.

use super::status::Status;
use super::wire::{self, Event, Keys, Message};
use super::{Change, Targets};
use crate::usage_stats::{Limits, PairBudget, SharedTotals, UsageBatch};
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use switchyard_conf::SharedStateConfig;
use tokio::sync::mpsc;
use tokio::time::timeout;

const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often the shared usage totals are read when this replica has nothing to add.
const READ_TOTALS_EVERY: Duration = Duration::from_secs(1);
/// Bindings remembered to skip republishing an unchanged one.
const BINDINGS_REMEMBERED: usize = 100_000;

/// What a session ended with.
enum Ended {
    /// The queue closed: the process is ending.
    Closed,
}

pub(super) struct Link {
    client: redis::Client,
    keys: Keys,
    /// This replica's id in messages (random per process).
    origin: String,
    timeout: Duration,
    flush_every: Duration,
    targets: Targets,
    status: Arc<Status>,
    pending: Pending,
    /// Sessions that got as far as loading (0: the first connect is still ahead).
    sessions: u64,
}

/// What is not written yet.
struct Pending {
    events: VecDeque<Event>,
    cap: usize,
    usage: UsageBatch,
    budget: PairBudget,
    /// Last binding published or applied per session key: (account, end), to publish a
    /// refresh only when it moves the end by more than half the time left.
    bindings: HashMap<String, (String, u64)>,
}

impl Pending {
    fn push(&mut self, change: Change, status: &Status) {
        match change {
            Change::Usage(d) => self.usage.add(d),
            Change::Share(event) => {
                if let Event::Bind(b) = &event {
                    if !self.binding_news(&b.key, &b.account, b.until_ms) {
                        return;
                    }
                }
                if self.events.len() >= self.cap {
                    self.events.pop_front();
                    status.dropped(1);
                }
                self.events.push_back(event);
            }
        }
    }

    /// Records the binding; whether others need to hear of it.
    fn binding_news(&mut self, key: &str, account: &str, until_ms: u64) -> bool {
        let now_ms = wire::unix_ms(SystemTime::now());
        if let Some((known, known_until)) = self.bindings.get(key) {
            let left = until_ms.saturating_sub(now_ms);
            if known == account && until_ms.saturating_sub(*known_until) < left / 2 {
                return false;
            }
        }
        if self.bindings.len() >= BINDINGS_REMEMBERED {
            self.bindings.clear();
        }
        self.bindings
            .insert(key.to_owned(), (account.to_owned(), until_ms));
        true
    }
}

type RedisResult<T> = Result<T, String>;

/// Runs a Redis future within the timeout; errors and timeouts become one message.
pub(super) async fn within<T>(
    limit: Duration,
    f: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> RedisResult<T> {
    match timeout(limit, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
    }
}

impl Link {
    pub(super) fn new(
        client: redis::Client,
        cfg: &SharedStateConfig,
        targets: Targets,
        status: Arc<Status>,
    ) -> Self {
        let origin = format!(
            "{}-{}",
            std::process::id(),
            wire::unix_ms(SystemTime::now())
        );
        Link {
            client,
            keys: Keys::new(&cfg.key_prefix),
            origin,
            timeout: Duration::from_millis(cfg.timeout_ms),
            flush_every: Duration::from_millis(cfg.flush_interval_ms),
            targets,
            status,
            sessions: 0,
            pending: Pending {
                events: VecDeque::new(),
                cap: cfg.write_queue,
                usage: UsageBatch::default(),
                budget: PairBudget::new(Limits::default().key_models),
                bindings: HashMap::new(),
            },
        }
    }

    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Change>,
        mut usage_rx: mpsc::Receiver<Change>,
    ) {
        let mut backoff = BACKOFF_FIRST;
        loop {
            match self.session(&mut rx, &mut usage_rx, &mut backoff).await {
                Ok(Ended::Closed) => return,
                Err(e) => self.status.down(&e),
            }
            // Wait, keeping what the request path sends meanwhile.
            let until = tokio::time::Instant::now() + backoff;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    c = rx.recv() => match c {
                        Some(c) => self.pending.push(c, &self.status),
                        None => return,
                    },
                }
            }
            self.drain_usage(&mut usage_rx);
        }
    }

    /// Takes the usage deltas the request path queued since the last call (the writer never
    /// waits on that queue, so a request's `try_send` wakes no thread).
    fn drain_usage(&mut self, usage_rx: &mut mpsc::Receiver<Change>) {
        while let Ok(c) = usage_rx.try_recv() {
            self.pending.push(c, &self.status);
        }
    }

    async fn session(
        &mut self,
        rx: &mut mpsc::Receiver<Change>,
        usage_rx: &mut mpsc::Receiver<Change>,
        backoff: &mut Duration,
    ) -> RedisResult<Ended> {
        let t = self.timeout;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(t))
            .set_response_timeout(Some(t));
        let mut conn = within(
            t,
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await?;
        let mut pubsub = within(t, self.client.get_async_pubsub()).await?;
        within(t, pubsub.subscribe(&self.keys.channel)).await?;
        let found = self.load(&mut conn).await?;
        if self.sessions > 0 {
            self.restore_cooldowns(&found);
        }
        self.sessions += 1;
        self.write_events(&mut conn).await?;
        self.drain_usage(usage_rx);
        self.flush_usage(&mut conn, true).await?;
        self.status.up();
        *backoff = BACKOFF_FIRST;
        let mut messages = pubsub.on_message();
        let mut tick = tokio::time::interval(self.flush_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_read = Instant::now();
        loop {
            tokio::select! {
                msg = messages.next() => match msg {
                    Some(msg) => self.apply(msg.get_payload_bytes()),
                    None => return Err("subscription connection closed".into()),
                },
                c = rx.recv() => {
                    let Some(c) = c else {
                        // Last usage deltas on the way out (best effort, bounded by the timeout).
                        self.drain_usage(usage_rx);
                        let _ = self.flush_usage(&mut conn, false).await;
                        return Ok(Ended::Closed);
                    };
                    self.pending.push(c, &self.status);
                    while let Ok(c) = rx.try_recv() {
                        self.pending.push(c, &self.status);
                    }
                    self.write_events(&mut conn).await?;
                }
                _ = tick.tick() => {
                    self.drain_usage(usage_rx);
                    let read = last_read.elapsed() >= READ_TOTALS_EVERY;
                    if self.flush_usage(&mut conn, read).await? {
                        last_read = Instant::now();
                    }
                }
            }
        }
    }

    /// Applies the live cooldowns and bindings Redis holds.
    /// Returns the (account, model) pairs of the cooldowns it found.
    async fn load(
        &mut self,
        conn: &mut MultiplexedConnection,
    ) -> RedisResult<HashSet<(String, String)>> {
        let now_ms = wire::unix_ms(SystemTime::now());
        let mut found = HashSet::new();
        let sets = [self.keys.cooldowns.clone(), self.keys.affinity.clone()];
        for set in &sets {
            let members: Vec<(String, f64)> = within(
                self.timeout,
                redis::cmd("ZRANGEBYSCORE")
                    .arg(set)
                    .arg(now_ms.saturating_add(1))
                    .arg("+inf")
                    .arg("WITHSCORES")
                    .query_async(conn),
            )
            .await?;
            for (member, score) in members {
                let until_ms = score as u64;
                let event = if *set == sets[0] {
                    wire::cooldown_of(&member, until_ms).map(Event::Cooldown)
                } else {
                    wire::binding_of(&member, until_ms).map(Event::Bind)
                };
                if let Some(event) = event {
                    if let Event::Cooldown(c) = &event {
                        found.insert((c.account.clone(), c.model.clone()));
                    }
                    self.apply_event(event);
                }
            }
        }
        Ok(found)
    }

    /// After a reconnect: queues the live local cooldowns Redis did not hold (it restarted
    /// without persistence, or lost writes), so a replica starting later still finds them.
    fn restore_cooldowns(&mut self, found: &HashSet<(String, String)>) {
        let (now, now_ms) = (Instant::now(), wire::unix_ms(SystemTime::now()));
        for ((account, model), h) in self.targets.health.snapshot() {
            let Some(until) = h.cooling_until.filter(|u| *u > now) else {
                continue;
            };
            if found.contains(&(account.clone(), model.clone())) {
                continue;
            }
            let left = u64::try_from((until - now).as_millis()).unwrap_or(u64::MAX);
            let event = Event::Cooldown(wire::Cooldown {
                account,
                model,
                reason: h.reason.unwrap_or("remote").to_owned(),
                until_ms: now_ms.saturating_add(left),
            });
            self.pending.push(Change::Share(event), &self.status);
        }
    }

    /// Writes and publishes the kept cooldowns and bindings, dropping the expired ones.
    async fn write_events(&mut self, conn: &mut MultiplexedConnection) -> RedisResult<()> {
        let now_ms = wire::unix_ms(SystemTime::now());
        self.pending.events.retain(|e| e.until_ms() > now_ms);
        if self.pending.events.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for event in &self.pending.events {
            let (set, member) = event.member(&self.keys);
            pipe.cmd("ZADD")
                .arg(set)
                .arg(event.until_ms())
                .arg(member)
                .ignore();
            let message = Message {
                origin: self.origin.clone(),
                event: event.clone(),
            };
            pipe.cmd("PUBLISH")
                .arg(&self.keys.channel)
                .arg(message.encode())
                .ignore();
        }
        for set in [&self.keys.cooldowns, &self.keys.affinity] {
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(set)
                .arg("-inf")
                .arg(now_ms)
                .ignore();
        }
        within(self.timeout, pipe.query_async::<()>(conn)).await?;
        let n = self.pending.events.len();
        self.pending.events.clear();
        self.status.published(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(())
    }

    /// Adds the kept usage deltas to the shared hash (all or none: `MULTI`), then reads the
    /// totals back when something was added or `read`. Returns whether it read them.
    async fn flush_usage(
        &mut self,
        conn: &mut MultiplexedConnection,
        read: bool,
    ) -> RedisResult<bool> {
        let Some(stats) = self.targets.usage.clone() else {
            self.pending.usage.clear();
            return Ok(false);
        };
        let wrote = !self.pending.usage.is_empty();
        if wrote {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (field, delta) in self.pending.usage.fields(&mut self.pending.budget) {
                pipe.cmd("HINCRBY")
                    .arg(&self.keys.usage)
                    .arg(field)
                    .arg(delta)
                    .ignore();
            }
            within(self.timeout, pipe.query_async::<()>(conn)).await?;
            self.pending.usage.clear();
        }
        if !(wrote || read) {
            return Ok(false);
        }
        let fields: HashMap<String, String> = within(
            self.timeout,
            redis::cmd("HGETALL")
                .arg(&self.keys.usage)
                .query_async(conn),
        )
        .await?;
        stats.set_shared_totals(SharedTotals::from_fields(fields));
        Ok(true)
    }

    /// A message from the channel: another replica's change.
    fn apply(&mut self, payload: &[u8]) {
        let Some(message) = Message::decode(payload) else {
            tracing::debug!("shared state: a message of unknown shape was ignored");
            return;
        };
        if message.origin == self.origin {
            return;
        }
        self.apply_event(message.event);
    }

    fn apply_event(&mut self, event: Event) {
        let (now, now_ms) = (Instant::now(), wire::unix_ms(SystemTime::now()));
        let Some(end) = wire::local_end(event.until_ms(), now_ms, now) else {
            return;
        };
        match event {
            Event::Cooldown(c) => {
                self.targets
                    .health
                    .apply_remote(&c.account, &c.model, &c.reason, end);
            }
            Event::Bind(b) => {
                self.targets.affinity.bind(
                    &b.key,
                    &b.account,
                    end.saturating_duration_since(now),
                    now,
                );
                self.pending.bindings.insert(b.key, (b.account, b.until_ms));
            }
        }
        self.status.applied();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Pending {
        Pending {
            events: VecDeque::new(),
            cap: 2,
            usage: UsageBatch::default(),
            budget: PairBudget::new(10),
            bindings: HashMap::new(),
        }
    }

    fn bind(account: &str, until_ms: u64) -> Change {
        Change::Share(Event::Bind(wire::Binding {
            key: "s\u{0}m".into(),
            account: account.into(),
            until_ms,
        }))
    }

    #[test]
    fn unchanged_bindings_are_published_again_only_when_half_expired() {
        let status = Status::default();
        let mut p = pending();
        let now = wire::unix_ms(SystemTime::now());
        let hour = 3_600_000;
        p.push(bind("a", now + hour), &status);
        p.push(bind("a", now + hour + 1_000), &status);
        assert_eq!(p.events.len(), 1, "a refresh a second later is not news");
        p.push(bind("b", now + hour + 2_000), &status);
        assert_eq!(p.events.len(), 2, "another account is");
        p.push(bind("b", now + hour + 3_000), &status);
        assert_eq!(p.events.len(), 2);
        p.push(bind("c", now + hour + 4_000), &status);
        assert_eq!(p.events.len(), 2, "the oldest was dropped for the cap");
        assert!(matches!(&p.events[1], Event::Bind(b) if b.account == "c"));
        assert_eq!(status.readyz()["dropped_writes"], 1);
    }
}
