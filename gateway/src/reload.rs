//! Swapping the runtime snapshot while the gateway runs (STYLE 10: prepare, then swap).
//!
//! [`RuntimeHolder`] holds the current [`Runtime`]; each request loads it once in `new_ctx` and
//! keeps that `Arc` to the end, so a stream in flight on an account that a reload removed
//! finishes on the snapshot it started with. [`Reloader::rebuild`] builds a whole new snapshot
//! off the hot path around the process's one refresh service (tokens and refreshes in flight
//! survive) and swaps it in with one store; a failed build logs and keeps the old snapshot.
//! Account health lives outside the snapshot, keyed by account id, so it survives too.
//!
//! The auth-dir watcher ([`spawn_auth_watch`]) is a portable periodic rescan of the non-hidden
//! files under `auth-dir` and the `model-catalog` file ([`AuthDirWatch`]): every tick it
//! `stat`s each file and reads only those whose stamp changed (or is too recent to trust,
//! [`FileStamp::settled`]); it rebuilds when a file was added or deleted, or its content
//! changed other than in the credential fields a refresh rewrites (the refresh service reads
//! those itself): e.g. an edit of `disabled`/`prefix`/`priority`/`excluded_models`. A tick
//! with no change costs one `stat` per file, not a read and a parse. The pause between ticks
//! is [`AUTH_WATCH_TICK`], or 100 times the last tick's duration when that is longer (a very
//! large directory is watched at 1% of a core, and changes are seen a little later).
//! Config hot reload (`live_config.rs`: the file watcher, SIGHUP and the management API)
//! calls [`Reloader::replace_config`].

use crate::in_flight::InFlight;
use crate::runtime::Runtime;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use switchyard_auth::refresh::Refresher;
use switchyard_auth::store::{scan_pause, unix_now, FileStamp};
use switchyard_conf::{Config, Problem};

/// How often the watcher rescans `auth-dir`.
pub const AUTH_WATCH_TICK: Duration = Duration::from_secs(1);

/// The current runtime snapshot. Loading it takes no lock (an `ArcSwap`: a request's
/// `load` never waits for a reload, and a reload never waits for requests).
#[derive(Debug)]
pub struct RuntimeHolder {
    current: arc_swap::ArcSwap<Runtime>,
}

impl RuntimeHolder {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Self {
            current: arc_swap::ArcSwap::new(runtime),
        }
    }

    /// The snapshot a new request uses.
    pub fn load(&self) -> Arc<Runtime> {
        self.current.load_full()
    }

    /// Makes `runtime` the snapshot of every later request.
    pub fn swap(&self, runtime: Arc<Runtime>) {
        self.current.store(runtime);
    }
}

/// Rebuilds and swaps snapshots: the config they come from and the refresh service they share.
/// Shared (`Arc`) between the auth-dir watcher and, later, the config reload.
pub struct Reloader {
    holder: Arc<RuntimeHolder>,
    config: RwLock<Config>,
    refresher: Arc<Refresher>,
    /// Requests in flight per account id, shared by every snapshot it builds.
    in_flight: Arc<InFlight>,
    /// Held while a snapshot is built and swapped: the auth-dir watcher and a config reload
    /// never race (a build from the old config must not land after one from the new).
    building: Mutex<()>,
}

impl Reloader {
    pub fn new(holder: Arc<RuntimeHolder>, config: Config, refresher: Arc<Refresher>) -> Self {
        Self {
            holder,
            config: RwLock::new(config),
            refresher,
            in_flight: Arc::default(),
            building: Mutex::new(()),
        }
    }

    /// Snapshots count in-flight requests on `in_flight`'s counters (the first snapshot's).
    pub fn with_in_flight(mut self, in_flight: Arc<InFlight>) -> Self {
        self.in_flight = in_flight;
        self
    }

    fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Builds a new snapshot from the config, `auth-dir` and `model-catalog` as they are now
    /// and swaps it in; on failure the current one stays and the problems are returned.
    /// Returns the number of accounts.
    pub fn rebuild(&self) -> Result<usize, Vec<Problem>> {
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        let rt = Runtime::build_counted(&self.config(), self.refresher.clone(), &self.in_flight)?;
        let accounts = rt.accounts.len();
        self.holder.swap(rt);
        Ok(accounts)
    }

    /// The seam for config hot reload: builds with `config` and, only if that succeeds, swaps
    /// the snapshot in and keeps `config` for later rebuilds. (The refresh service keeps the
    /// `auth-dir` and `oauth-overrides` it was started with; it takes the new global
    /// `proxy-url`.)
    pub fn replace_config(&self, config: Config) -> Result<usize, Vec<Problem>> {
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        let rt = Runtime::build_counted(&config, self.refresher.clone(), &self.in_flight)?;
        let accounts = rt.accounts.len();
        let mut current = self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.refresher.set_proxy_url(config.proxy_url.as_deref());
        *current = config;
        self.holder.swap(rt);
        Ok(accounts)
    }

    /// The snapshot requests use now.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.holder.load()
    }

    /// The watcher's baseline for the files as they are now (take it before a build, so no
    /// change is missed).
    pub fn watch(&self) -> AuthDirWatch {
        let (dir, catalog, skip) = self.watched();
        AuthDirWatch::new(dir, catalog, skip)
    }

    /// The `auth-dir` and `model-catalog` file of the current config, and the usage
    /// statistics file the watcher skips.
    fn watched(&self) -> (PathBuf, Option<PathBuf>, Option<PathBuf>) {
        let config = self.config();
        (
            switchyard_auth::store::expand_home(&config.auth_dir),
            config.model_catalog.as_deref().map(PathBuf::from),
            crate::usage_stats::file_of(&config),
        )
    }
}

/// What the watcher knows of one file.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// `None`: `stat` failed (the file counts by path only).
    stamp: Option<FileStamp>,
    /// The stamp was settled when the content below was read: it stands for the content
    /// while it stays the same.
    settled: bool,
    /// The content's hash as the rebuild sees it (`Some(None)`: unreadable); `None`: not
    /// read yet (the baseline reads only files whose stamp is not settled).
    content: Option<Option<u64>>,
}

/// The auth-dir watcher's view of `auth-dir` and the catalog file between ticks, to tell
/// whether a rebuild is needed (see the module docs).
#[derive(Debug)]
pub struct AuthDirWatch {
    dir: PathBuf,
    catalog: Option<PathBuf>,
    /// A file under `dir` that is not an account: the usage statistics, saved every 30 s
    /// (without this, each save rebuilt the snapshot and restarted round-robin). Kept as
    /// given, and [`skip_key`] of it for matching.
    skip: Option<PathBuf>,
    skip_key: Option<PathBuf>,
    files: HashMap<PathBuf, Seen>,
}

impl AuthDirWatch {
    /// The baseline: every file's stamp; only files changed too recently for their stamp to
    /// be trusted are read (the snapshot built after this reads every file anyway).
    pub fn new(dir: PathBuf, catalog: Option<PathBuf>, skip: Option<PathBuf>) -> Self {
        Self::new_at(dir, catalog, skip, unix_now())
    }

    /// [`AuthDirWatch::new`] at `now` (Unix seconds).
    fn new_at(dir: PathBuf, catalog: Option<PathBuf>, skip: Option<PathBuf>, now: i64) -> Self {
        let skip_key = skip.as_deref().map(skip_key);
        let mut w = Self {
            dir,
            catalog,
            skip,
            skip_key,
            files: HashMap::new(),
        };
        for (path, strip, stamp) in w.paths() {
            let seen = match stamp {
                Some(s) if s.settled(now) => Seen {
                    stamp,
                    settled: true,
                    content: None,
                },
                _ => Seen::read(&path, strip, now),
            };
            w.files.insert(path, seen);
        }
        w
    }

    /// The files to watch, each with whether credential fields are ignored (auth files) or
    /// not (the catalog), and its stamp (`None`: `stat` failed).
    fn paths(&self) -> Vec<(PathBuf, bool, Option<FileStamp>)> {
        let mut out = Vec::with_capacity(self.files.len());
        collect(&self.dir, self.skip_key.as_deref(), &mut out);
        if let Some(c) = &self.catalog {
            out.push((c.clone(), false, FileStamp::of(c).ok()));
        }
        out
    }

    /// One tick: whether anything changed since the last (a rebuild is due).
    pub fn changed(&mut self) -> bool {
        self.changed_at(unix_now())
    }

    /// [`AuthDirWatch::changed`] at `now` (Unix seconds).
    fn changed_at(&mut self, now: i64) -> bool {
        let mut changed = false;
        let mut next = HashMap::with_capacity(self.files.len());
        for (path, strip, stamp) in self.paths() {
            let seen = match self.files.remove(&path) {
                None => {
                    changed = true;
                    Seen::read(&path, strip, now)
                }
                Some(old) if old.settled && old.stamp.is_some() && old.stamp == stamp => {
                    match old.content {
                        Some(_) => old,
                        // Unchanged since the baseline: its content is what the build read.
                        None => Seen::read(&path, strip, now),
                    }
                }
                Some(old) => {
                    let new = Seen::read(&path, strip, now);
                    changed |= old.content.is_none() || old.content != new.content;
                    new
                }
            };
            next.insert(path, seen);
        }
        changed |= !self.files.is_empty();
        self.files = next;
        changed
    }
}

impl Seen {
    /// Stats, then reads `path` (the stamp first: a write after it changes the stamp again).
    fn read(path: &Path, strip: bool, now: i64) -> Self {
        let stamp = FileStamp::of(path).ok();
        let content = std::fs::read(path).ok().map(|b| {
            let mut h = DefaultHasher::new();
            if strip {
                without_credentials(&b).hash(&mut h);
            } else {
                b.hash(&mut h);
            }
            h.finish()
        });
        Self {
            stamp,
            settled: stamp.is_some_and(|s| s.settled(now)),
            content: Some(content),
        }
    }
}

/// Auth-file fields that a refresh rewrites and the accounts are not built from: the refresh
/// service re-reads them on its own, so a refresh (hourly for Google tokens) does not rebuild
/// the snapshot (which would restart round-robin). `id_token` stays: Codex's plan, and so its
/// models, comes from it.
const CREDENTIAL_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "expired",
    "expiry",
    "expires_in",
    "last_refresh",
    "timestamp",
    "token",
    "api_key",
];

/// An auth file's bytes as the fingerprint sees them: a JSON object without
/// [`CREDENTIAL_FIELDS`]; anything else as it is.
fn without_credentials(bytes: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            for field in CREDENTIAL_FIELDS {
                map.remove(*field);
            }
            serde_json::to_vec(&map).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    }
}

fn collect(dir: &Path, skip: Option<&Path>, out: &mut Vec<(PathBuf, bool, Option<FileStamp>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(ft) if ft.is_dir() => collect(&entry.path(), skip, out),
            // The name first: only a file named like the skipped one costs a `realpath`.
            Ok(_)
                if skip.is_some_and(|s| {
                    s.file_name() == Some(name.as_os_str()) && skip_key(&entry.path()) == s
                }) => {}
            Ok(_) => out.push((entry.path(), true, FileStamp::of_entry(&entry).ok())),
            Err(_) => {}
        }
    }
}

/// `path` with its directory resolved (symbolic links, `..`, relative to the working
/// directory), so that `auth/usage.json` and `./auth/../auth/usage.json` match; as it is when
/// the directory does not exist.
fn skip_key(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            parent
                .canonicalize()
                .map(|p| p.join(name))
                .unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

/// Runs the watcher on its own thread for the life of the process. `watch` is the baseline
/// the current snapshot was built from (taken before building it, so no change is missed).
pub fn spawn_auth_watch(reloader: Arc<Reloader>, watch: AuthDirWatch, tick: Duration) {
    let spawned = std::thread::Builder::new()
        .name("auth-dir-watch".into())
        .spawn(move || {
            let mut watch = watch;
            let mut pause = tick;
            loop {
                std::thread::sleep(pause);
                let started = std::time::Instant::now();
                let (dir, catalog, skip) = reloader.watched();
                if dir != watch.dir || catalog != watch.catalog || skip != watch.skip {
                    // A config reload moved them: a new baseline, and a build from it.
                    watch = reloader.watch();
                } else {
                    let changed = watch.changed();
                    pause = scan_pause(tick, started.elapsed());
                    if !changed {
                        continue;
                    }
                }
                match reloader.rebuild() {
                    Ok(accounts) => tracing::info!(accounts, "auth-dir changed: accounts reloaded"),
                    Err(problems) => tracing::warn!(
                        "auth-dir changed but the new accounts were not loaded (the old ones stay): {}",
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("auth-dir watcher not started: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_rebuild_keeps_the_snapshot_and_a_good_one_swaps_it() {
        let dir = std::env::temp_dir().join(format!("switchyard-rl-{}", std::process::id()));
        let mut config = Config {
            auth_dir: dir.display().to_string(),
            ..Config::default()
        };
        let refresher = crate::channels::oauth::new_refresher(&config).unwrap();
        let first = Runtime::build_with(&config, refresher.clone()).unwrap();
        let holder = Arc::new(RuntimeHolder::new(first.clone()));
        let reloader = Reloader::new(holder.clone(), config.clone(), refresher);

        config.model_catalog = Some(dir.join("missing.json").display().to_string());
        let problems = reloader.replace_config(config.clone()).unwrap_err();
        assert!(
            problems[0].to_string().contains("cannot read"),
            "{problems:?}"
        );
        assert!(
            Arc::ptr_eq(&holder.load(), &first),
            "the old snapshot stays"
        );
        assert!(reloader.rebuild().is_ok(), "the failed config was not kept");

        config.model_catalog = None;
        config.accounts = switchyard_conf::load_str(
            "claude-api-key: [{api-key: k, base-url: \"http://127.0.0.1:9\"}]",
        )
        .unwrap()
        .config
        .accounts;
        assert_eq!(reloader.replace_config(config).unwrap(), 1);
        assert_eq!(holder.load().accounts[0].id, "claude-api-key[0]");
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("switchyard-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn watch_sees_adds_edits_and_deletes_but_not_hidden_files() {
        let dir = temp_dir("fp");
        let d = dir.as_path();
        let mut w = AuthDirWatch::new(dir.clone(), None, None);
        assert!(!w.changed(), "nothing changed");
        std::fs::write(d.join("a.json"), "{}").unwrap();
        assert!(w.changed(), "a file added");
        assert!(!w.changed());
        std::fs::write(d.join(".a.json.tmp"), "x").unwrap();
        assert!(!w.changed(), "hidden temporary files are ignored");
        std::fs::write(d.join("a.json"), r#"{"disabled":true}"#).unwrap();
        assert!(w.changed(), "an edit");
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/b.json"), "{}").unwrap();
        assert!(w.changed(), "a file in a subdirectory");
        std::fs::remove_file(d.join("sub/b.json")).unwrap();
        assert!(w.changed(), "a file deleted");
        // A refresh rewrites credentials only: no rebuild.
        std::fs::write(
            d.join("a.json"),
            r#"{"disabled":true,"access_token":"new","expired":"2030-01-01T00:00:00Z","token":{"expiry":"x"}}"#,
        )
        .unwrap();
        assert!(!w.changed(), "credential fields are not compared");
        std::fs::write(
            d.join("a.json"),
            r#"{"disabled":false,"access_token":"new"}"#,
        )
        .unwrap();
        assert!(w.changed());

        let cat = d.join("models.json.txt");
        let mut w = AuthDirWatch::new(dir.clone(), Some(cat.clone()), None);
        std::fs::write(&cat, "{}").unwrap();
        assert!(w.changed(), "the catalog file appeared");
        std::fs::write(&cat, "{} ").unwrap();
        assert!(w.changed(), "the catalog file changed");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn the_usage_statistics_file_is_not_an_account_change() {
        let dir = temp_dir("usage");
        std::fs::write(dir.join("a.json"), r#"{"type":"codex"}"#).unwrap();
        // Named through a different spelling of the same directory, as a config may.
        let spelled = dir
            .join("..")
            .join(dir.file_name().unwrap())
            .join("usage-statistics.json");
        let mut w = AuthDirWatch::new(dir.clone(), None, Some(spelled));
        assert!(!w.changed());
        for n in 0..3 {
            std::fs::write(
                dir.join("usage-statistics.json"),
                format!("{{\"saved\":{n}}}"),
            )
            .unwrap();
            assert!(
                !w.changed(),
                "save {n} of the usage statistics is not a change"
            );
        }
        assert!(!w.files.keys().any(|p| p.ends_with("usage-statistics.json")));
        // The same name elsewhere is still an auth-dir file.
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/usage-statistics.json"), "{}").unwrap();
        assert!(w.changed(), "the same name in a subdirectory is watched");
        // Without a skip, the save is a change (what the gateway did before).
        let mut w = AuthDirWatch::new(dir.clone(), None, None);
        std::fs::write(dir.join("usage-statistics.json"), "{\"saved\":9}").unwrap();
        assert!(w.changed());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stat_only_change_does_not_rebuild_and_settled_files_are_not_read_again() {
        let dir = temp_dir("stat");
        let a = dir.join("a.json");
        std::fs::write(&a, r#"{"type":"codex","prefix":"p"}"#).unwrap();
        // A minute later, as far as the watcher can tell.
        let later = unix_now() + 60;
        let mut w = AuthDirWatch::new_at(dir.clone(), None, None, later);
        assert!(
            w.files[&a].content.is_none(),
            "a settled file is not read for the baseline"
        );
        assert!(
            !w.changed_at(later),
            "read once, unchanged since the baseline"
        );
        let read = w.files[&a];
        assert!(read.settled && read.content.is_some(), "{read:?}");
        assert!(!w.changed_at(later));
        // Touched (new mtime and ctime), same content: read again, no rebuild.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(30))
            .unwrap();
        assert!(!w.changed_at(later), "a stat-only change does not rebuild");
        assert_ne!(w.files[&a].stamp, read.stamp, "but it was seen");
        // Same length, different content.
        std::fs::write(&a, r#"{"type":"codex","prefix":"q"}"#).unwrap();
        assert!(w.changed_at(later), "a content change does");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_same_size_rewrite_within_the_timestamp_granularity_is_seen() {
        // A file system with 1 s (or 2 s) timestamps gives a file rewritten within the same
        // second with the same length the same stamp; the watcher does not trust a stamp that
        // recent, so the second write is still read.
        let dir = temp_dir("racy");
        let a = dir.join("a.json");
        std::fs::write(&a, r#"{"type":"codex","disabled":false}"#).unwrap();
        let mut w = AuthDirWatch::new(dir.clone(), None, None);
        assert!(!w.changed());
        let first = w.files[&a];
        assert!(!first.settled, "written just now: not settled");
        let mtime = std::fs::metadata(&a).unwrap().modified().unwrap();
        // Rewritten in place, same length, and the mtime put back as a coarse clock would
        // leave it.
        std::fs::write(&a, r#"{"type":"codex","disabled":true }"#).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_eq!(std::fs::metadata(&a).unwrap().len(), 33);
        assert!(w.changed(), "the second write is seen");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
