//! Log files on disk: `main.log` rotated by size, the total-size cleaner, the error-log cap,
//! request and error log names, and finding a request's log by id. Everything here runs on
//! the log writer thread except [`find_request_log`] (a management route's caller; it only
//! lists directories).

use super::clock::Utc;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Request logs go to `<logs-dir>/requests/`.
pub(super) const REQUESTS_DIR: &str = "requests";
/// The cleaner does not descend deeper than this.
const MAX_DEPTH: usize = 8;

/// `main.log`, renamed to `main-<UTC stamp>.log` when the next line would pass `limit` bytes.
pub(super) struct RotatingFile {
    path: PathBuf,
    file: BufWriter<File>,
    size: u64,
    limit: u64,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl RotatingFile {
    pub(super) fn open(path: PathBuf, limit: u64) -> io::Result<RotatingFile> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path,
            file: BufWriter::new(file),
            size,
            limit,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line; `Ok(true)` if the file was rotated first.
    pub(super) fn write_line(&mut self, line: &[u8]) -> io::Result<bool> {
        let rotate = self.size > 0 && self.size + line.len() as u64 > self.limit;
        if rotate {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(rotate)
    }

    pub(super) fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let stamp = Utc::from(SystemTime::now()).file_stamp();
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let stem = self
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("main");
        let rotated = unique(dir, &format!("{stem}-{stamp}"), ".log");
        // A failed rename (the file was removed under us) still starts a new file.
        let _ = fs::rename(&self.path, rotated);
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)?;
        self.file = BufWriter::new(file);
        self.size = 0;
        Ok(())
    }
}

/// `dir/<base><ext>`, or `dir/<base>-<n><ext>` if that exists.
pub(super) fn unique(dir: &Path, base: &str, ext: &str) -> PathBuf {
    let first = dir.join(format!("{base}{ext}"));
    if !first.exists() {
        return first;
    }
    (1..1000)
        .map(|n| dir.join(format!("{base}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// A request id as it may appear in a file name: `[A-Za-z0-9._-]`, others as `_`, at most
/// 128 characters.
pub(super) fn file_id(request_id: &str) -> String {
    let id: String = request_id
        .chars()
        .take(128)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() {
        "none".to_owned()
    } else {
        id
    }
}

/// Where a request log (`error == false`) or an error log goes.
pub(super) fn exchange_path(
    dir: &Path,
    started: SystemTime,
    request_id: &str,
    error: bool,
) -> PathBuf {
    let stamp = Utc::from(started).compact();
    let id = file_id(request_id);
    if error {
        unique(dir, &format!("error-{stamp}-{id}"), ".log")
    } else {
        unique(&dir.join(REQUESTS_DIR), &format!("{stamp}-{id}"), ".log")
    }
}

fn is_log_file(name: &str) -> bool {
    name.ends_with(".log") || name.ends_with(".log.gz")
}

struct LogFile {
    path: PathBuf,
    size: u64,
    modified: SystemTime,
}

fn collect(dir: &Path, depth: usize, out: &mut Vec<LogFile>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let path = entry.path();
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                collect(&path, depth + 1, out);
            }
        } else if meta.is_file() && is_log_file(&entry.file_name().to_string_lossy()) {
            out.push(LogFile {
                path,
                size: meta.len(),
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
    }
}

/// Deletes the oldest `.log` / `.log.gz` files anywhere under `dir` (subdirectories too)
/// until their total is at most `max_bytes`; never `keep` (the live `main.log`). Returns how
/// many were deleted. (`DirEntry::metadata` does not follow symlinks: a linked directory is
/// not entered.)
pub(super) fn enforce_total_size(dir: &Path, max_bytes: u64, keep: Option<&Path>) -> usize {
    let mut files = Vec::new();
    collect(dir, 0, &mut files);
    let mut total: u64 = files.iter().map(|f| f.size).sum();
    if total <= max_bytes {
        return 0;
    }
    files.sort_by(|a, b| {
        a.modified
            .cmp(&b.modified)
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut deleted = 0;
    for f in files {
        if total <= max_bytes {
            break;
        }
        if keep.is_some_and(|k| k == f.path) {
            continue;
        }
        if fs::remove_file(&f.path).is_ok() {
            total = total.saturating_sub(f.size);
            deleted += 1;
        }
    }
    deleted
}

/// Keeps the newest `keep` `error-*.log` files directly in `dir` (0: keep all).
pub(super) fn prune_error_logs(dir: &Path, keep: u64) -> usize {
    if keep == 0 {
        return 0;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("error-") && name.ends_with(".log")
        })
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_file()
                .then(|| (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), e.path()))
        })
        .collect();
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    if files.len() <= keep {
        return 0;
    }
    // Newest first: by modification time, then by name (which starts with the time).
    files.sort_by(|a, b| b.cmp(a));
    files
        .into_iter()
        .skip(keep)
        .filter(|(_, p)| fs::remove_file(p).is_ok())
        .count()
}

/// The newest request log or error log of `request_id`, if one is on disk.
pub(super) fn find_request_log(dir: &Path, request_id: &str) -> Option<PathBuf> {
    let id = file_id(request_id);
    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    for (d, prefix) in [(dir.join(REQUESTS_DIR), ""), (dir.to_owned(), "error-")] {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if names_request(&name, prefix, &id) {
                let modified = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                found.push((modified, e.path()));
            }
        }
    }
    found.into_iter().max().map(|(_, p)| p)
}

/// `<prefix><yyyymmddThhmmss>-<id>[-<n>].log`.
fn names_request(name: &str, prefix: &str, id: &str) -> bool {
    const STAMP: usize = "20240102T030405-".len();
    let Some(rest) = name
        .strip_prefix(prefix)
        .and_then(|r| r.strip_suffix(".log"))
        .and_then(|r| r.get(STAMP..))
    else {
        return false;
    };
    match rest.strip_prefix(id) {
        Some("") => true,
        Some(n) => n
            .strip_prefix('-')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}
