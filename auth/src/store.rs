//! The token store: the `auth-dir` directory of CLIProxyAPI-format JSON files.
//!
//! Contract: every `*.json` file (recursively, dot-files skipped) with a top-level `type` is a
//! credential whose id is its path relative to the directory. Files are written 0600 inside a
//! 0700 directory, atomically: a temporary file in the same directory is written and fsynced,
//! renamed over the target, and the directory is fsynced, so a crash at any moment leaves the
//! old or the new file, never part of one. A record whose bytes did not change is not
//! rewritten. Blocking I/O: call from a blocking context or `spawn_blocking`.

use crate::record::AuthRecord;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file that could not be loaded, and why (the other files still load).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadProblem {
    pub id: String,
    pub message: String,
}

/// The `auth-dir` directory.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

/// `~` and `~/...` expanded with `$HOME` (CLIProxyAPI's `auth-dir` default is `~/.cli-proxy-api`).
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

impl TokenStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every credential in the directory, sorted by id, and the files that failed to parse.
    /// A missing directory is an empty store.
    pub fn load_all(&self) -> (Vec<AuthRecord>, Vec<LoadProblem>) {
        let mut records = Vec::new();
        let mut problems = Vec::new();
        let mut files = Vec::new();
        collect_json(&self.dir, &mut files);
        files.sort();
        for path in files {
            let id = relative_id(&self.dir, &path);
            match fs::read(&path) {
                Ok(bytes) => match AuthRecord::parse(&id, &bytes) {
                    Ok(Some(r)) => records.push(r),
                    Ok(None) => {}
                    Err(e) => problems.push(LoadProblem {
                        id,
                        message: format!("not valid JSON: {e}"),
                    }),
                },
                Err(e) => problems.push(LoadProblem {
                    id,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        (records, problems)
    }

    /// Reads one credential by id.
    pub fn load(&self, id: &str) -> io::Result<Option<AuthRecord>> {
        let bytes = fs::read(self.dir.join(id))?;
        AuthRecord::parse(id, &bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Writes `record` to `<dir>/<record.id>` atomically (see the module contract); a file
    /// whose bytes are already the same is left alone. Returns whether it wrote.
    pub fn save(&self, record: &AuthRecord) -> io::Result<bool> {
        let bytes = record.to_bytes();
        let path = self.dir.join(&record.id);
        if fs::read(&path).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
        write_atomic(&path, &bytes)?;
        Ok(true)
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically with mode 0600, creating the parent directory with
/// mode 0700 (and tightening an existing one to 0700).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let Ok(ft) = entry.file_type() else { continue };
        if hidden {
            continue;
        }
        if ft.is_dir() {
            collect_json(&path, out);
        } else if ft.is_file() && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn relative_id(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
