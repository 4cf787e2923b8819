//! Swapping the runtime snapshot while the gateway runs (STYLE 10: prepare, then swap).
//!
//! [`RuntimeHolder`] holds the current [`Runtime`]; each request loads it once in `new_ctx` and
//! keeps that `Arc` to the end, so a stream in flight on an account that a reload removed
//! finishes on the snapshot it started with. [`Reloader::rebuild`] builds a whole new snapshot
//! off the hot path around the process's one refresh service (tokens and refreshes in flight
//! survive) and swaps it in with one store; a failed build logs and keeps the old snapshot.
//! Account health lives outside the snapshot, keyed by account id, so it survives too.
//!
//! The auth-dir watcher ([`spawn_auth_watch`]) is a portable periodic rescan: every tick it
//! fingerprints the non-hidden files under `auth-dir` (paths and contents, without the
//! credential fields a refresh rewrites: the refresh service reads those itself) and the
//! `model-catalog` file, and rebuilds when the fingerprint changed (a file added, edited,
//! e.g. `disabled`/`prefix`/`priority`/`excluded_models`, or deleted).
//! The later config hot reload is meant to call [`Reloader::rebuild`] with a new config.

use crate::runtime::Runtime;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_auth::refresh::Refresher;
use switchyard_conf::Config;

/// How often the watcher rescans `auth-dir`.
pub const AUTH_WATCH_TICK: Duration = Duration::from_secs(1);

/// The current runtime snapshot.
#[derive(Debug)]
pub struct RuntimeHolder {
    current: RwLock<Arc<Runtime>>,
}

impl RuntimeHolder {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Self {
            current: RwLock::new(runtime),
        }
    }

    /// The snapshot a new request uses.
    pub fn load(&self) -> Arc<Runtime> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Makes `runtime` the snapshot of every later request.
    pub fn swap(&self, runtime: Arc<Runtime>) {
        let mut g = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g = runtime;
    }
}

/// Rebuilds and swaps snapshots: the config they come from and the refresh service they share.
/// Shared (`Arc`) between the auth-dir watcher and, later, the config reload.
pub struct Reloader {
    holder: Arc<RuntimeHolder>,
    config: RwLock<Config>,
    refresher: Arc<Refresher>,
}

impl Reloader {
    pub fn new(holder: Arc<RuntimeHolder>, config: Config, refresher: Arc<Refresher>) -> Self {
        Self {
            holder,
            config: RwLock::new(config),
            refresher,
        }
    }

    fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Builds a new snapshot from the config, `auth-dir` and `model-catalog` as they are now
    /// and swaps it in; on failure the current one stays and the problems are returned.
    /// Returns the number of accounts.
    pub fn rebuild(&self) -> Result<usize, Vec<String>> {
        let rt = Runtime::build_with(&self.config(), self.refresher.clone())?;
        let accounts = rt.accounts.len();
        self.holder.swap(rt);
        Ok(accounts)
    }

    /// The seam for config hot reload: builds with `config` and, only if that succeeds, swaps
    /// the snapshot in and keeps `config` for later rebuilds. (The refresh service keeps the
    /// `auth-dir` and `oauth-overrides` it was started with.)
    pub fn replace_config(&self, config: Config) -> Result<usize, Vec<String>> {
        let rt = Runtime::build_with(&config, self.refresher.clone())?;
        let accounts = rt.accounts.len();
        let mut current = self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = config;
        self.holder.swap(rt);
        Ok(accounts)
    }

    /// What the watcher compares between ticks.
    pub fn fingerprint(&self) -> u64 {
        let config = self.config();
        let dir = switchyard_auth::store::expand_home(&config.auth_dir);
        fingerprint(&dir, config.model_catalog.as_deref().map(Path::new))
    }
}

/// A hash of the non-hidden files under `dir` (relative paths and contents, in sorted order)
/// and of the `catalog` file's contents. Unreadable files count by path only.
pub fn fingerprint(dir: &Path, catalog: Option<&Path>) -> u64 {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut h = DefaultHasher::new();
    for path in files.iter().map(PathBuf::as_path) {
        path.hash(&mut h);
        std::fs::read(path)
            .ok()
            .map(|b| without_credentials(&b))
            .hash(&mut h);
    }
    if let Some(path) = catalog {
        path.hash(&mut h);
        std::fs::read(path).ok().hash(&mut h);
    }
    h.finish()
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

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(ft) if ft.is_dir() => collect(&entry.path(), out),
            Ok(_) => out.push(entry.path()),
            Err(_) => {}
        }
    }
}

/// Runs the watcher on its own thread for the life of the process. `seen` is the fingerprint
/// the current snapshot was built from (taken before building it, so no change is missed).
pub fn spawn_auth_watch(reloader: Arc<Reloader>, seen: u64, tick: Duration) {
    let spawned = std::thread::Builder::new()
        .name("auth-dir-watch".into())
        .spawn(move || {
            let mut seen = seen;
            loop {
                std::thread::sleep(tick);
                let now = reloader.fingerprint();
                if now == seen {
                    continue;
                }
                seen = now;
                match reloader.rebuild() {
                    Ok(accounts) => tracing::info!(accounts, "auth-dir changed: accounts reloaded"),
                    Err(problems) => tracing::warn!(
                        "auth-dir changed but the new accounts were not loaded (the old ones stay): {}",
                        problems.join("; ")
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
        let refresher = crate::oauth::new_refresher(&config).unwrap();
        let first = Runtime::build_with(&config, refresher.clone()).unwrap();
        let holder = Arc::new(RuntimeHolder::new(first.clone()));
        let reloader = Reloader::new(holder.clone(), config.clone(), refresher);

        config.model_catalog = Some(dir.join("missing.json").display().to_string());
        let problems = reloader.replace_config(config.clone()).unwrap_err();
        assert!(problems[0].contains("cannot read"), "{problems:?}");
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

    #[test]
    fn fingerprint_sees_adds_edits_and_deletes_but_not_hidden_files() {
        let dir = std::env::temp_dir().join(format!("switchyard-fp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.as_path();
        let empty = fingerprint(d, None);
        std::fs::write(d.join("a.json"), "{}").unwrap();
        let one = fingerprint(d, None);
        assert_ne!(one, empty);
        std::fs::write(d.join(".a.json.tmp"), "x").unwrap();
        assert_eq!(
            fingerprint(d, None),
            one,
            "hidden temporary files are ignored"
        );
        std::fs::write(d.join("a.json"), r#"{"disabled":true}"#).unwrap();
        let edited = fingerprint(d, None);
        assert_ne!(edited, one);
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/b.json"), "{}").unwrap();
        assert_ne!(fingerprint(d, None), edited);
        std::fs::remove_file(d.join("sub/b.json")).unwrap();
        assert_eq!(fingerprint(d, None), edited);
        // A refresh rewrites credentials only: no rebuild.
        std::fs::write(
            d.join("a.json"),
            r#"{"disabled":true,"access_token":"new","expired":"2030-01-01T00:00:00Z","token":{"expiry":"x"}}"#,
        )
        .unwrap();
        assert_eq!(
            fingerprint(d, None),
            edited,
            "credential fields are not compared"
        );
        std::fs::write(
            d.join("a.json"),
            r#"{"disabled":false,"access_token":"new"}"#,
        )
        .unwrap();
        assert_ne!(fingerprint(d, None), edited);
        std::fs::write(d.join("a.json"), r#"{"disabled":true}"#).unwrap();
        let cat = d.join("models.json.txt");
        assert_ne!(fingerprint(d, Some(&cat)), edited);
        std::fs::remove_dir_all(d).unwrap();
    }
}
