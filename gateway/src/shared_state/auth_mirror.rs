//! `shared-state.auth-store`: the OAuth token files live in the Redis hash `{prefix}auth`
//! (file id -> the file's bytes, CLIProxyAPI's JSON unchanged) and each replica's `auth-dir`
//! is a mirror of it, so replicas need no shared volume (docs/scale-out.md).
//!
//! Contract: one thread of its own (`auth-mirror`, a current-thread runtime, started only with
//! `auth-store: true`). Nothing on the request path knows of it: the request path, the refresh
//! service, logins and the management API keep reading and writing `auth-dir`, and the
//! auth-dir watcher rebuilds as it always did.
//! - **Start.** [`start`] waits (at most three times `timeout-ms`) for one synchronisation
//!   before the first snapshot is built, so the first request already has every account;
//!   Redis down at start: the replica starts on its local files.
//! - **Local changes** (a refresh, a login, a management upload or delete, a hand edit) are
//!   found by a rescan every [`TICK`] (one `stat` per file; a file is read only when its stamp
//!   changed or is too recent to trust) and written at once: `HSET` or `HDEL`, and a
//!   `PUBLISH` of the id on `{prefix}auth-events`.
//! - **Remote changes**: a message names an id; the mirror reads it (`HGET`) and writes the
//!   local file atomically (temp file + rename, mode 0600) or deletes it.
//! - **No echo.** `known` holds, per id, the digest last agreed with Redis: a file written
//!   from Redis equals it, so the rescan does not send it back; a message from this replica
//!   is skipped; an identical local file is not rewritten.
//! - **Resynchronisation** (every session start: the first connect and each reconnect) is a
//!   three-way comparison of the local file, Redis and `known` ([`decide`]): the side that
//!   changed wins; when both changed, a deletion loses to a change (a token is never lost by a
//!   race), and between two contents the newer refresh (`last_refresh`, then `expired`) wins,
//!   Redis on a tie (the other replicas already have it). `known` is kept in
//!   [`KNOWN_FILE`] in `auth-dir` (a dot-file: no reader takes it for an account), so a
//!   replica restarted on its old directory applies the deletions made meanwhile instead of
//!   uploading the deleted files again.
//! - **Redis lost its data** (restarted without persistence: the hash lacks the field
//!   [`SENTINEL`], which every write sets): the local files are put back first (`HSETNX`,
//!   none deleted), then the three-way comparison runs as usual, so a file changed locally
//!   during the outage (a refresh done without the shared lock) still reaches the others.
//! - Redis down or slow: the session ends (each command is bounded by `timeout-ms`), the loss
//!   is logged once, the replica serves on its local files and reconnects with backoff
//!   (100 ms doubling to 5 s), then resynchronises both ways.
//!
//! Operations per event: per local change one pipeline (`HSET`/`HDEL`, `HSET` of the
//! sentinel, `PUBLISH`); per remote change one `HGET` on each other replica; per session
//! start one `HGETALL`. Export: any replica's `auth-dir` is the export (CLIProxyAPI's layout).

use super::link::within;
use super::wire::Keys;
use super::SharedStateError;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use switchyard_auth::store::{FileStamp, TokenStore};
use switchyard_auth::AuthRecord;
use switchyard_conf::SharedStateConfig;

/// How often `auth-dir` is rescanned for local changes.
pub const TICK: Duration = Duration::from_millis(250);
/// The hash field every write sets: its absence means Redis lost the hash (a hidden name, so
/// never an account's id).
pub const SENTINEL: &str = ".switchyard";
/// Where the digests last agreed with Redis are kept, in `auth-dir`.
pub const KNOWN_FILE: &str = ".switchyard-auth-store.json";
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What synchronising one file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// The local file goes to Redis (`HSET`).
    Upload,
    /// The local file was deleted: `HDEL`.
    Remove,
    /// Redis's content is written to the local file.
    WriteLocal,
    /// Redis no longer has it: the local file is deleted.
    DeleteLocal,
}

/// The decision for one file id from the digests of the local file, the Redis field and the
/// last content both agreed on (`None`: absent).
/// `local_newer` is asked only when both sides hold different contents and both changed.
pub fn decide(
    local: Option<&str>,
    redis: Option<&str>,
    known: Option<&str>,
    local_newer: impl FnOnce() -> bool,
) -> Action {
    if local == redis {
        return Action::Nothing;
    }
    let (local_changed, redis_changed) = (local != known, redis != known);
    match (local, redis) {
        (Some(_), _) if !redis_changed => Action::Upload,
        (None, _) if !redis_changed => Action::Remove,
        (_, Some(_)) if !local_changed => Action::WriteLocal,
        (_, None) if !local_changed => Action::DeleteLocal,
        // Both changed: a deletion loses to a change.
        (Some(_), None) => Action::Upload,
        (None, Some(_)) => Action::WriteLocal,
        (Some(_), Some(_)) if local_newer() => Action::Upload,
        _ => Action::WriteLocal,
    }
}

/// Whether the local content is a strictly newer refresh than Redis's: `last_refresh`, then
/// the access token's expiry; anything unreadable counts as oldest.
pub fn local_is_newer(id: &str, local: &[u8], redis: &[u8]) -> bool {
    let rank = |b: &[u8]| {
        AuthRecord::parse(id, b)
            .ok()
            .flatten()
            .map(|r| (r.last_refresh(), r.expiry()))
    };
    rank(local) > rank(redis)
}

pub fn digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a name from Redis may become a file under `auth-dir`: relative, no `..`, no
/// hidden component, a `.json` file (what the token store reads, nothing else).
pub fn safe_id(id: &str) -> bool {
    let path = Path::new(id);
    !id.is_empty()
        && id.ends_with(".json")
        && path.components().all(|c| match c {
            Component::Normal(n) => !n.to_string_lossy().starts_with('.'),
            _ => false,
        })
}

/// A change announced on the channel.
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    origin: String,
    id: String,
}

/// The local directory as the mirror sees it.
struct Local {
    store: TokenStore,
    /// The usage statistics file when it lies in `auth-dir` (not an account).
    skip: Option<PathBuf>,
    /// Per id: the stamp and the digest and bytes read under it.
    cache: HashMap<String, (FileStamp, String, Vec<u8>)>,
}

impl Local {
    /// Every file now: id -> (digest, bytes), reading only files whose stamp changed.
    fn scan(&mut self) -> HashMap<String, (String, Vec<u8>)> {
        let mut now = HashMap::new();
        for (id, path, stamp) in self.store.list() {
            if self.skip.as_deref().is_some_and(|s| same_file(s, &path)) {
                continue;
            }
            match self.cache.get(&id) {
                Some((s, d, b)) if *s == stamp && stamp.settled_now() => {
                    now.insert(id, (d.clone(), b.clone()));
                }
                _ => {
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    let d = digest(&bytes);
                    self.cache
                        .insert(id.clone(), (stamp, d.clone(), bytes.clone()));
                    now.insert(id, (d, bytes));
                }
            }
        }
        self.cache.retain(|id, _| now.contains_key(id));
        now
    }

    fn read(&self, id: &str) -> Option<Vec<u8>> {
        std::fs::read(self.store.dir().join(id)).ok()
    }

    fn write(&self, id: &str, bytes: &[u8]) -> std::io::Result<()> {
        switchyard_auth::store::write_atomic(&self.store.dir().join(id), bytes)
    }

    fn delete(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.store.dir().join(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || (a.file_name() == b.file_name()
            && a.canonicalize()
                .ok()
                .is_some_and(|a| b.canonicalize().ok() == Some(a)))
}

struct Mirror {
    client: redis::Client,
    hash: String,
    channel: String,
    origin: String,
    timeout: Duration,
    local: Local,
    /// Per id, the digest last agreed with Redis.
    known: HashMap<String, String>,
    down_logged: bool,
}

impl Mirror {
    fn known_path(&self) -> PathBuf {
        self.local.store.dir().join(KNOWN_FILE)
    }

    fn load_known(&mut self) {
        if let Ok(bytes) = std::fs::read(self.known_path()) {
            self.known = serde_json::from_slice(&bytes).unwrap_or_default();
        }
    }

    fn save_known(&self) {
        let bytes = serde_json::to_vec(&self.known).unwrap_or_default();
        if let Err(e) = switchyard_auth::store::write_atomic(&self.known_path(), &bytes) {
            tracing::warn!("auth store: {KNOWN_FILE} not written: {e}");
        }
    }

    fn note(&self, id: &str) -> String {
        serde_json::to_string(&Note {
            origin: self.origin.clone(),
            id: id.to_owned(),
        })
        .unwrap_or_default()
    }

    /// Connects, subscribes, resynchronises both ways; the caller then calls [`Mirror::serve`].
    async fn connect(&mut self) -> Result<(MultiplexedConnection, redis::aio::PubSub), String> {
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
        within(t, pubsub.subscribe(&self.channel)).await?;
        self.resync(&mut conn).await?;
        Ok((conn, pubsub))
    }

    /// The three-way synchronisation of every id (module docs). A hash Redis lost is first
    /// refilled with `HSETNX` (replicas resynchronising at once do not overwrite each other:
    /// the first content of each id stays), then compared as usual, so a replica whose file
    /// changed during the outage still wins by the rules of [`decide`].
    async fn resync(&mut self, conn: &mut MultiplexedConnection) -> Result<(), String> {
        let mut remote: HashMap<String, Vec<u8>> = within(
            self.timeout,
            redis::cmd("HGETALL").arg(&self.hash).query_async(conn),
        )
        .await?;
        if remote.remove(SENTINEL).is_none() {
            let mut pipe = redis::pipe();
            for (id, (_, bytes)) in self.local.scan() {
                pipe.cmd("HSETNX")
                    .arg(&self.hash)
                    .arg(id)
                    .arg(bytes)
                    .ignore();
            }
            pipe.cmd("HSET")
                .arg(&self.hash)
                .arg(SENTINEL)
                .arg(1)
                .ignore();
            pipe.cmd("HGETALL").arg(&self.hash);
            let (mut refilled,): (HashMap<String, Vec<u8>>,) =
                within(self.timeout, pipe.query_async(conn)).await?;
            refilled.remove(SENTINEL);
            tracing::info!(
                files = refilled.len(),
                "auth store: Redis had no auth hash; refilled from the local files"
            );
            remote = refilled;
        }
        remote.retain(|id, _| safe_id(id));
        let local = self.local.scan();
        let ids: BTreeSet<String> = local
            .keys()
            .chain(remote.keys())
            .chain(self.known.keys())
            .cloned()
            .collect();
        let mut pipe = redis::pipe();
        let mut sent = 0usize;
        for id in ids {
            let l = local.get(&id);
            let r = remote.get(&id).map(|b| (digest(b), b));
            let action = decide(
                l.map(|(d, _)| d.as_str()),
                r.as_ref().map(|(d, _)| d.as_str()),
                self.known.get(&id).map(String::as_str),
                || match (l, &r) {
                    (Some((_, lb)), Some((_, rb))) => local_is_newer(&id, lb, rb),
                    _ => false,
                },
            );
            match (action, l, r) {
                (Action::Nothing, l, _) => match l {
                    Some((d, _)) => drop(self.known.insert(id, d.clone())),
                    None => drop(self.known.remove(&id)),
                },
                (Action::Upload, Some((d, b)), _) => {
                    pipe.cmd("HSET").arg(&self.hash).arg(&id).arg(b).ignore();
                    pipe.cmd("PUBLISH")
                        .arg(&self.channel)
                        .arg(self.note(&id))
                        .ignore();
                    self.known.insert(id, d.clone());
                    sent += 1;
                }
                (Action::Remove, _, _) => {
                    pipe.cmd("HDEL").arg(&self.hash).arg(&id).ignore();
                    pipe.cmd("PUBLISH")
                        .arg(&self.channel)
                        .arg(self.note(&id))
                        .ignore();
                    self.known.remove(&id);
                    sent += 1;
                }
                (Action::WriteLocal, _, Some((d, b))) => match self.local.write(&id, b) {
                    Ok(()) => drop(self.known.insert(id, d)),
                    Err(e) => tracing::warn!(account = %id, "auth store: not written: {e}"),
                },
                (Action::DeleteLocal, _, _) => match self.local.delete(&id) {
                    Ok(()) => drop(self.known.remove(&id)),
                    Err(e) => tracing::warn!(account = %id, "auth store: not deleted: {e}"),
                },
                // Upload without a local file, WriteLocal without a field: `decide` never
                // answers so.
                (Action::Upload | Action::WriteLocal, _, _) => {}
            }
        }
        pipe.cmd("HSET")
            .arg(&self.hash)
            .arg(SENTINEL)
            .arg(1)
            .ignore();
        within(self.timeout, pipe.query_async::<()>(conn)).await?;
        self.save_known();
        if sent > 0 {
            tracing::info!(files = sent, "auth store: local files written to Redis");
        }
        Ok(())
    }

    /// Applies the messages of other replicas and sends local changes until an error.
    async fn serve(
        &mut self,
        mut conn: MultiplexedConnection,
        mut pubsub: redis::aio::PubSub,
    ) -> Result<(), String> {
        let mut messages = pubsub.on_message();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = messages.next() => match msg {
                    Some(msg) => self.remote_change(&mut conn, msg.get_payload_bytes()).await?,
                    None => return Err("subscription connection closed".into()),
                },
                _ = tick.tick() => self.local_changes(&mut conn).await?,
            }
        }
    }

    /// Another replica changed an id: take Redis's content unless the local file changed too
    /// and wins ([`decide`]).
    async fn remote_change(
        &mut self,
        conn: &mut MultiplexedConnection,
        payload: &[u8],
    ) -> Result<(), String> {
        let Ok(note) = serde_json::from_slice::<Note>(payload) else {
            return Ok(());
        };
        if note.origin == self.origin || !safe_id(&note.id) {
            return Ok(());
        }
        let id = note.id;
        let remote: Option<Vec<u8>> = within(
            self.timeout,
            redis::cmd("HGET")
                .arg(&self.hash)
                .arg(&id)
                .query_async(conn),
        )
        .await?;
        let local = self.local.read(&id);
        let (ld, rd) = (local.as_deref().map(digest), remote.as_deref().map(digest));
        let action = decide(
            ld.as_deref(),
            rd.as_deref(),
            self.known.get(&id).map(String::as_str),
            || match (&local, &remote) {
                (Some(l), Some(r)) => local_is_newer(&id, l, r),
                _ => false,
            },
        );
        match action {
            Action::WriteLocal => {
                let (Some(d), Some(b)) = (rd, remote) else {
                    return Ok(());
                };
                match self.local.write(&id, &b) {
                    Ok(()) => drop(self.known.insert(id, d)),
                    Err(e) => tracing::warn!(account = %id, "auth store: not written: {e}"),
                }
            }
            Action::DeleteLocal => match self.local.delete(&id) {
                Ok(()) => drop(self.known.remove(&id)),
                Err(e) => tracing::warn!(account = %id, "auth store: not deleted: {e}"),
            },
            Action::Nothing => match ld {
                Some(d) => drop(self.known.insert(id, d)),
                None => drop(self.known.remove(&id)),
            },
            // The local side wins: the next rescan sends it.
            Action::Upload | Action::Remove => return Ok(()),
        }
        self.save_known();
        Ok(())
    }

    /// Sends what changed locally since it last agreed with Redis.
    async fn local_changes(&mut self, conn: &mut MultiplexedConnection) -> Result<(), String> {
        let local = self.local.scan();
        let mut pipe = redis::pipe();
        let mut changed: Vec<(String, Option<String>)> = Vec::new();
        for (id, (d, b)) in &local {
            if self.known.get(id) != Some(d) {
                pipe.cmd("HSET").arg(&self.hash).arg(id).arg(b).ignore();
                pipe.cmd("PUBLISH")
                    .arg(&self.channel)
                    .arg(self.note(id))
                    .ignore();
                changed.push((id.clone(), Some(d.clone())));
            }
        }
        for id in self.known.keys() {
            if !local.contains_key(id) {
                pipe.cmd("HDEL").arg(&self.hash).arg(id).ignore();
                pipe.cmd("PUBLISH")
                    .arg(&self.channel)
                    .arg(self.note(id))
                    .ignore();
                changed.push((id.clone(), None));
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        pipe.cmd("HSET")
            .arg(&self.hash)
            .arg(SENTINEL)
            .arg(1)
            .ignore();
        within(self.timeout, pipe.query_async::<()>(conn)).await?;
        for (id, d) in changed {
            match d {
                Some(d) => drop(self.known.insert(id, d)),
                None => drop(self.known.remove(&id)),
            }
        }
        self.save_known();
        Ok(())
    }

    fn lost(&mut self, e: &str) {
        if !self.down_logged {
            self.down_logged = true;
            tracing::warn!(
                "auth store: Redis unreachable ({e}); serving on the local auth-dir, will resynchronise"
            );
        }
    }

    async fn run(mut self, first: Option<(MultiplexedConnection, redis::aio::PubSub)>) {
        let mut backoff = BACKOFF_FIRST;
        let mut session = first;
        loop {
            if let Some((conn, pubsub)) = session.take() {
                if std::mem::take(&mut self.down_logged) {
                    tracing::info!("auth store: Redis reachable again; resynchronised");
                }
                backoff = BACKOFF_FIRST;
                if let Err(e) = self.serve(conn, pubsub).await {
                    self.lost(&e);
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
            match self.connect().await {
                Ok(s) => session = Some(s),
                Err(e) => self.lost(&e),
            }
        }
    }
}

/// Starts the mirror of `auth_dir` (`usage_file`: not an account, never mirrored) and waits
/// for its first synchronisation, at most three times `timeout-ms`.
pub fn start(
    cfg: &SharedStateConfig,
    auth_dir: &Path,
    usage_file: Option<PathBuf>,
) -> Result<(), SharedStateError> {
    let client = redis::Client::open(cfg.redis_url.expose()).map_err(|_| SharedStateError::Url)?;
    let keys = Keys::new(&cfg.key_prefix);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut mirror = Mirror {
        client,
        hash: keys.auth,
        channel: format!("{}auth-events", cfg.key_prefix),
        origin: format!("{}-{started}", std::process::id()),
        timeout: Duration::from_millis(cfg.timeout_ms),
        local: Local {
            store: TokenStore::new(auth_dir),
            skip: usage_file,
            cache: HashMap::new(),
        },
        known: HashMap::new(),
        down_logged: false,
    };
    mirror.load_known();
    let wait = mirror.timeout * 3;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("auth-mirror".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("auth store not started: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let first = match mirror.connect().await {
                    Ok(s) => {
                        tracing::info!(
                            accounts = mirror.known.len(),
                            "auth store: auth-dir synchronised with Redis"
                        );
                        Some(s)
                    }
                    Err(e) => {
                        mirror.lost(&e);
                        None
                    }
                };
                let _ = done_tx.send(());
                mirror.run(first).await;
            });
        })
        .map_err(SharedStateError::Spawn)?;
    let _ = done_rx.recv_timeout(wait);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        panic!("only asked when both sides changed to different contents")
    }

    #[test]
    fn the_side_that_changed_wins() {
        let (a, b) = (Some("a"), Some("b"));
        assert_eq!(decide(b, a, a, never), Action::Upload);
        assert_eq!(decide(None, a, a, never), Action::Remove);
        assert_eq!(decide(a, b, a, never), Action::WriteLocal);
        assert_eq!(decide(a, None, a, never), Action::DeleteLocal);
        // New on one side only (nothing agreed yet): the import and the first start.
        assert_eq!(decide(a, None, None, never), Action::Upload);
        assert_eq!(decide(None, a, None, never), Action::WriteLocal);
    }

    #[test]
    fn a_file_written_from_redis_is_not_sent_back() {
        // After WriteLocal, local, Redis and known are the same digest.
        let a = Some("a");
        assert_eq!(decide(a, a, a, never), Action::Nothing);
        assert_eq!(decide(a, a, None, never), Action::Nothing);
        assert_eq!(decide(None, None, a, never), Action::Nothing);
    }

    #[test]
    fn when_both_changed_a_deletion_loses_and_the_newer_refresh_wins() {
        let (a, b, c) = (Some("a"), Some("b"), Some("c"));
        assert_eq!(decide(b, None, a, never), Action::Upload);
        assert_eq!(decide(None, b, a, never), Action::WriteLocal);
        assert_eq!(decide(b, c, a, || true), Action::Upload);
        assert_eq!(decide(b, c, a, || false), Action::WriteLocal);
    }

    #[test]
    fn after_a_refill_the_file_changed_during_the_outage_wins_on_both_replicas() {
        // Known before the outage: "old". Replica A refreshed to "new" meanwhile; B did not.
        // Whichever of them refilled Redis first (HSETNX), both end on "new".
        let (old, new) = (Some("old"), Some("new"));
        assert_eq!(
            decide(new, old, old, never),
            Action::Upload,
            "A, B refilled first"
        );
        assert_eq!(
            decide(old, new, old, never),
            Action::WriteLocal,
            "B, A refilled first"
        );
        assert_eq!(
            decide(new, new, old, never),
            Action::Nothing,
            "A, A refilled first"
        );
    }

    #[test]
    fn the_newer_refresh_is_the_later_last_refresh_then_expiry() {
        let f = |refresh: &str, exp: &str| {
            format!(
                r#"{{"type":"codex","access_token":"t","last_refresh":"{refresh}","expired":"{exp}"}}"#
            )
        };
        let old = f("2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z");
        let new = f("2026-01-01T00:30:00Z", "2026-01-01T01:30:00Z");
        assert!(local_is_newer("a.json", new.as_bytes(), old.as_bytes()));
        assert!(!local_is_newer("a.json", old.as_bytes(), new.as_bytes()));
        assert!(
            !local_is_newer("a.json", old.as_bytes(), old.as_bytes()),
            "a tie: Redis"
        );
        assert!(!local_is_newer("a.json", b"not json", old.as_bytes()));
    }

    #[test]
    fn only_plain_json_ids_become_files() {
        assert!(safe_id("codex-a.json"));
        assert!(safe_id("team/codex-a.json"));
        for bad in [
            "../x.json",
            "/etc/x.json",
            ".hidden.json",
            "a/.b.json",
            "a.txt",
            "",
        ] {
            assert!(!safe_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_rescan_skips_unchanged_files_and_the_usage_file() {
        let dir = std::env::temp_dir().join(format!("switchyard-mirror-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.json"), b"{}").unwrap();
        std::fs::write(dir.join("usage-statistics.json"), b"{}").unwrap();
        std::fs::write(dir.join(KNOWN_FILE), b"{}").unwrap();
        let mut local = Local {
            store: TokenStore::new(&dir),
            skip: Some(dir.join("usage-statistics.json")),
            cache: HashMap::new(),
        };
        let seen = local.scan();
        assert_eq!(seen.keys().collect::<Vec<_>>(), vec!["a.json"]);
        assert_eq!(seen["a.json"].0, digest(b"{}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
