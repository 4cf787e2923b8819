//! Live config: `config.yaml` is watched and every change (by hand, by the management API, by
//! a deploy tool replacing the file, on SIGHUP) is loaded, validated, built into a whole new
//! runtime and swapped in (`reload::Reloader`). A broken file keeps the last good config and
//! its problems are logged (and returned to the API call that wrote it).
//!
//! Writes ([`LiveConfig::write`]) are serialised by one lock, validated before anything
//! touches the file, and land atomically: a temporary file in the same directory, fsync,
//! rename over the old one with its mode kept. The watcher compares file contents, so a write
//! of ours is not applied twice, and a replace by `mv` is seen like an edit in place.
//!
//! A plaintext `remote-management.secret-key` is hashed with bcrypt on load and the hash
//! written back in place of the secret (CLIProxyAPI's rule); a hash is accepted as it is.
//!
//! Host, port, TLS and workers need a new listener: a change to them is applied to nothing
//! and reported as taking effect at restart.
//!
//! With `shared-state`, a change written through the management API ([`LiveConfig::write`],
//! [`LiveConfig::update`]) is handed to the other replicas, which apply it keeping their own
//! listener settings (`peers.rs`).

mod peers;

use crate::logs::Logs;
use crate::reload::Reloader;
use arc_swap::ArcSwap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_conf::{Config, Problem};

/// How often the watcher reads the file.
pub const WATCH_TICK: Duration = Duration::from_millis(250);

/// Why a write or reload was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The new config has problems; nothing was applied.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot hash remote-management.secret-key: {0}")]
    Hash(#[from] bcrypt::BcryptError),
    #[error(transparent)]
    Edit(#[from] switchyard_conf::edit::EditError),
}

/// What an applied config changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Accounts in the new snapshot.
    pub accounts: usize,
    /// Settings that changed but take effect at restart (`host`, `port`, `tls`, `workers`).
    pub at_restart: Vec<&'static str>,
}

/// The config file, the config now in effect and the one writer of both.
pub struct LiveConfig {
    path: PathBuf,
    reloader: Arc<Reloader>,
    logs: Logs,
    /// The config in effect (what the management API reads; the snapshot's source).
    current: ArcSwap<Config>,
    /// The settings the listener was started with.
    started: Config,
    /// Held across read-validate-write-apply: one change at a time.
    writing: Mutex<Seen>,
    /// Where a management change is sent for the other replicas (`shared-state`).
    peers: std::sync::OnceLock<peers::Publish>,
}

/// The file contents last applied or refused (a refused file is not re-reported every tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen(u64);

/// The watcher's memory between ticks: contents seen once and not applied yet.
#[derive(Debug, Default)]
pub struct Settling(Option<Seen>);

fn digest(text: &str) -> Seen {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    Seen(h.finish())
}

impl LiveConfig {
    /// `config` is what the process started with (already loaded from `path`).
    pub fn new(path: PathBuf, config: Config, reloader: Arc<Reloader>, logs: Logs) -> Self {
        let seen = std::fs::read_to_string(&path).map_or(Seen(0), |t| digest(&t));
        Self {
            path,
            reloader,
            logs,
            current: ArcSwap::from_pointee(config.clone()),
            started: config,
            writing: Mutex::new(seen),
            peers: std::sync::OnceLock::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config in effect.
    pub fn current(&self) -> Arc<Config> {
        self.current.load_full()
    }

    pub fn reloader(&self) -> &Reloader {
        &self.reloader
    }

    /// The file's text as it is now.
    pub fn read(&self) -> Result<String, ConfigError> {
        std::fs::read_to_string(&self.path).map_err(|source| ConfigError::Read {
            path: self.path.clone(),
            source,
        })
    }

    /// Reads the file and applies it if it changed since the last apply (`force`: even if it
    /// did not, for SIGHUP). `Ok(None)`: unchanged.
    pub fn reload(&self, force: bool) -> Result<Option<Applied>, ConfigError> {
        let mut seen = self.lock();
        let text = self.read()?;
        let now = digest(&text);
        if now == *seen && !force {
            return Ok(None);
        }
        *seen = now;
        self.apply_text(&text, &mut seen).map(Some)
    }

    /// Replaces the file with `text` when it is a valid config, and applies it. Nothing is
    /// written when it is not (every problem is returned).
    pub fn write(&self, text: &str) -> Result<Applied, ConfigError> {
        let mut seen = self.lock();
        let applied = self.write_locked(text, &mut seen)?;
        self.publish(text);
        Ok(applied)
    }

    /// Reads the file, lets `change` edit its text, writes and applies the result; all under
    /// the write lock, so two changes never lose one another.
    pub fn update<E>(
        &self,
        change: impl FnOnce(&str) -> Result<String, E>,
    ) -> Result<Result<Applied, ConfigError>, E> {
        let mut seen = self.lock();
        let text = match self.read() {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let new = change(&text)?;
        let applied = self.write_locked(&new, &mut seen);
        if applied.is_ok() {
            self.publish(&new);
        }
        Ok(applied)
    }

    /// The watcher's reload: a changed file is applied once it reads the same on two ticks in
    /// a row, so a file written in place (truncated, then written in pieces) is never applied
    /// empty or half written. `Ok(None)`: unchanged, or still settling.
    pub fn reload_settled(&self, settling: &mut Settling) -> Result<Option<Applied>, ConfigError> {
        let mut seen = self.lock();
        let text = self.read()?;
        let now = digest(&text);
        if now == *seen {
            settling.0 = None;
            return Ok(None);
        }
        if settling.0 != Some(now) {
            settling.0 = Some(now);
            return Ok(None);
        }
        settling.0 = None;
        *seen = now;
        self.apply_text(&text, &mut seen).map(Some)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write_locked(&self, text: &str, seen: &mut Seen) -> Result<Applied, ConfigError> {
        switchyard_conf::load_str(text).map_err(ConfigError::Invalid)?;
        let old = self.read()?;
        write_atomically(&self.path, text.as_bytes())?;
        *seen = digest(text);
        match self.apply_text(text, seen) {
            Ok(applied) => Ok(applied),
            Err(e) => {
                // The runtime could not be built from it (an unreadable model catalog, ...):
                // the file goes back to what is running.
                write_atomically(&self.path, old.as_bytes())?;
                *seen = digest(&old);
                Err(e)
            }
        }
    }

    /// Loads `text`, hashes a plaintext management secret into the file, builds and swaps.
    fn apply_text(&self, text: &str, seen: &mut Seen) -> Result<Applied, ConfigError> {
        let mut config = switchyard_conf::load_str(text)
            .map_err(ConfigError::Invalid)?
            .config;
        if let Some(secret) = &config.remote_management.secret_key {
            if !config.remote_management.secret_is_hashed() {
                let hash = bcrypt::hash(secret.expose(), bcrypt::DEFAULT_COST)?;
                let value = serde_json::Value::String(hash.clone());
                let hashed = switchyard_conf::edit::set(
                    text,
                    &["remote-management", "secret-key"],
                    Some(&value),
                )?;
                write_atomically(&self.path, hashed.as_bytes())?;
                *seen = digest(&hashed);
                config.remote_management.secret_key = Some(switchyard_conf::Secret::new(hash));
                tracing::info!(config = %self.path.display(), "remote-management.secret-key hashed with bcrypt and written back");
            }
        }
        let accounts = self
            .reloader
            .replace_config(config.clone())
            .map_err(ConfigError::Invalid)?;
        self.logs.apply(&config);
        let at_restart = restart_only(&self.started, &config);
        self.current.store(Arc::new(config));
        Ok(Applied {
            accounts,
            at_restart,
        })
    }
}

/// Settings that differ from the running listener's.
fn restart_only(started: &Config, new: &Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    if new.host != started.host {
        out.push("host");
    }
    if new.port != started.port {
        out.push("port");
    }
    if new.tls != started.tls {
        out.push("tls");
    }
    if new.workers != started.workers {
        out.push("workers");
    }
    if new.shared_state != started.shared_state {
        out.push("shared-state");
    }
    out
}

/// Logs the outcome of a reload that no API call is waiting for.
pub fn log_reload(path: &Path, cause: &str, result: &Result<Option<Applied>, ConfigError>) {
    match result {
        Ok(None) => {}
        Ok(Some(applied)) => {
            tracing::info!(config = %path.display(), accounts = applied.accounts, "{cause}: config reloaded");
            if !applied.at_restart.is_empty() {
                tracing::warn!(
                    "{cause}: {} take effect at restart (serve --upgrade or a restart)",
                    applied.at_restart.join(", ")
                );
            }
        }
        Err(e) => tracing::warn!(
            config = %path.display(),
            "{cause}: config not reloaded (the running one stays): {e}"
        ),
    }
}

/// Replaces `path` with `bytes`: a hidden temporary file beside it, fsync, the old file's
/// mode, rename, fsync of the directory. Readers see the old file or the new one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let failed = |source| ConfigError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "config".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if let Some(mode) = mode {
            f.set_permissions(mode)?;
        }
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(failed)
}

/// Watches the file for the life of the process: a change is applied once it has read the
/// same for one tick (within two ticks of the last write).
pub fn spawn_watch(live: Arc<LiveConfig>, tick: Duration) {
    let spawned = std::thread::Builder::new()
        .name("config-watch".into())
        .spawn(move || {
            let mut settling = Settling::default();
            loop {
                std::thread::sleep(tick);
                let result = live.reload_settled(&mut settling);
                log_reload(live.path(), "config.yaml changed", &result);
            }
        });
    if let Err(e) = spawned {
        tracing::error!("config.yaml watcher not started: {e}");
    }
}

#[cfg(test)]
mod tests;
