//! The token store: the `auth-dir` directory of CLIProxyAPI-format JSON files.
//!
//! Contract: every `*.json` file (recursively, dot-files skipped) with a top-level `type` is a
//! credential whose id is its path relative to the directory. Files are written 0600 inside a
//! 0700 directory, atomically: a temporary file in the same directory is written and fsynced,
//! renamed over the target, and the directory is fsynced, so a crash at any moment leaves the
//! old or the new file, never part of one. A record whose bytes did not change is not
//! rewritten. Blocking I/O: call from a blocking context or `spawn_blocking`.
//!
//! Re-reading the directory is O(stat) when nothing changed: [`TokenStore::list`] gives each
//! file's [`FileStamp`] (what `stat` says), and a reader re-reads only files whose stamp
//! changed, or whose stamp cannot be trusted yet ([`FileStamp::settled`]). Periodic scans
//! pause at least [`SCAN_PAUSE_FACTOR`] times their own duration ([`scan_pause`]).

use crate::record::AuthRecord;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file that could not be loaded, and why (the other files still load).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadProblem {
    pub id: String,
    pub message: String,
}

/// What `stat` says about a file. Two equal stamps mean the file was not rewritten in
/// between, with one exception the reader must handle: a rewrite of the same length within
/// the file system's timestamp granularity of the previous one (see [`FileStamp::settled`]).
/// An atomic replace (rename) changes the inode; an in-place write changes `mtime`/`ctime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// Timestamps are compared this long after the fact: coarser than any file system Switchyard
/// runs on (ext4, xfs, btrfs, tmpfs: 1 ns; some network and FAT file systems: 1 s or 2 s).
const STAMP_GRANULARITY_SECS: i64 = 2;

impl FileStamp {
    /// The stamp of `path` (following symlinks, as reading does).
    pub fn of(path: &Path) -> io::Result<Self> {
        fs::metadata(path).map(|m| Self::from_metadata(&m))
    }

    /// The stamp of a directory entry: `stat` relative to the open directory (no walk of the
    /// path), following a symlink as reading does.
    pub fn of_entry(entry: &fs::DirEntry) -> io::Result<Self> {
        let m = entry.metadata()?;
        if m.file_type().is_symlink() {
            return Self::of(&entry.path());
        }
        Ok(Self::from_metadata(&m))
    }

    pub fn from_metadata(m: &fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    /// Whether a read of the file taken after this stamp, at `now` (Unix seconds), can stand
    /// for the file as long as the stamp stays the same. Not when the file changed less than
    /// the timestamp granularity ago: a second write of the same length in the same tick of a
    /// coarse clock would leave the stamp as it is (git's "racily clean" entries). Such a file
    /// is read again at the next scan, until it has been quiet long enough.
    pub fn settled(&self, now: i64) -> bool {
        now.saturating_sub(self.mtime.0.max(self.ctime.0)) >= STAMP_GRANULARITY_SECS
    }

    /// [`FileStamp::settled`] at the system clock's now.
    pub fn settled_now(&self) -> bool {
        self.settled(unix_now())
    }
}

/// A periodic scan of the directory sleeps at least this many times as long as the scan took,
/// so scanning takes at most 1% of one core however many files there are.
pub const SCAN_PAUSE_FACTOR: u32 = 100;

/// The pause after a scan that took `scan`: `tick`, or longer when the directory is so large
/// that a scan every `tick` would take more than 1% of a core (10,000 files: a few seconds).
pub fn scan_pause(tick: std::time::Duration, scan: std::time::Duration) -> std::time::Duration {
    tick.max(scan.saturating_mul(SCAN_PAUSE_FACTOR))
}

/// The system clock in Unix seconds (what [`FileStamp::settled`] compares with).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
        let mut files = self.list();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, path, _) in files {
            match Self::read(&id, &path) {
                Ok(Some(r)) => records.push(r),
                Ok(None) => {}
                Err(p) => problems.push(p),
            }
        }
        (records, problems)
    }

    /// Every `*.json` file of the directory (as [`TokenStore::load_all`] sees them), in
    /// directory order, with its stamp; a file that vanished between listing and `stat` is left out.
    pub fn list(&self) -> Vec<(String, PathBuf, FileStamp)> {
        let mut files = Vec::new();
        collect_json(&self.dir, &mut files);
        files
            .into_iter()
            .filter_map(|(path, stamp)| Some((relative_id(&self.dir, &path), path, stamp.ok()?)))
            .collect()
    }

    /// Reads one file of [`TokenStore::list`]: `Ok(None)` for JSON that is not a credential;
    /// the error is the problem to report.
    pub fn read(id: &str, path: &Path) -> Result<Option<AuthRecord>, LoadProblem> {
        let problem = |message| LoadProblem {
            id: id.to_owned(),
            message,
        };
        let bytes = fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
        AuthRecord::parse(id, &bytes).map_err(|e| problem(format!("not valid JSON: {e}")))
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
    replace_file(path, bytes)
}

/// Replaces `path` with `bytes` atomically (a temporary file in the same directory, synced,
/// renamed over it, the directory synced), mode 0600; the directory is left as it is.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
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

fn collect_json(dir: &Path, out: &mut Vec<(PathBuf, io::Result<FileStamp>)>) {
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
            out.push((path, FileStamp::of_entry(&entry)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_scan_pauses_the_tick_or_a_hundred_times_its_duration() {
        let tick = Duration::from_secs(1);
        assert_eq!(scan_pause(tick, Duration::from_millis(3)), tick);
        assert_eq!(
            scan_pause(tick, Duration::from_millis(30)),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn a_stamp_is_settled_two_seconds_after_the_last_change() {
        let dir = std::env::temp_dir().join(format!("switchyard-stamp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        fs::write(&path, "{}").unwrap();
        let stamp = FileStamp::of(&path).unwrap();
        let now = unix_now();
        assert!(!stamp.settled(now));
        assert!(stamp.settled(now + STAMP_GRANULARITY_SECS + 1));
        fs::write(&path, "{} ").unwrap();
        assert_ne!(FileStamp::of(&path).unwrap(), stamp, "a rewrite changes it");
        fs::remove_dir_all(&dir).unwrap();
    }
}
