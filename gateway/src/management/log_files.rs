//! The gateway's log files through the management API, with CLIProxyAPI's routes and shapes:
//! `GET /logs` (the lines of `main.log` and its rotations, oldest first; `?after=<unix
//! seconds>` for the lines written since, `?limit=N` for the last N), `DELETE /logs` (rotations
//! removed, `main.log` truncated), `GET /request-error-logs` (the `error-*.log` files),
//! `GET /request-error-logs/<name>` and `GET /request-log-by-id/<request id>` (downloads).
//!
//! Runs on a blocking thread (the management dispatcher's); reads whole files, which the
//! writer keeps at 10 MB each and `logs-max-total-size-mb` in total.

use super::{Call, Reply};
use crate::live_config::LiveConfig;
use crate::logs::Logs;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const MAIN_LOG: &str = "main.log";

fn is_rotated(name: &str) -> bool {
    name.starts_with("main-") && name.ends_with(".log")
}

/// `main.log`'s rotations (oldest first: their names start with the UTC stamp), then
/// `main.log`.
fn main_log_files(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter(|e| is_rotated(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    rotated.sort();
    let main = dir.join(MAIN_LOG);
    if main.is_file() {
        rotated.push(main);
    }
    rotated
}

/// The Unix second a log line was written: the RFC 3339 stamp that starts a text line, or
/// the `timestamp` field of a JSON line.
fn line_time(line: &str) -> Option<i64> {
    if line.starts_with('{') {
        let v: Value = serde_json::from_str(line).ok()?;
        let stamp = v.get("timestamp").or_else(|| v.get("time"))?.as_str()?;
        return switchyard_auth::timefmt::parse_rfc3339(stamp);
    }
    let first = line.split_whitespace().next()?;
    switchyard_auth::timefmt::parse_rfc3339(first.trim_start_matches('['))
}

/// CLIProxyAPI's accumulator: a line without a stamp (a continuation) goes with the line
/// before it.
struct Lines {
    after: i64,
    limit: usize,
    lines: std::collections::VecDeque<String>,
    total: usize,
    latest: i64,
    include: bool,
}

impl Lines {
    fn add(&mut self, line: &str) {
        self.total += 1;
        if let Some(t) = line_time(line) {
            self.latest = self.latest.max(t);
            self.include = self.after == 0 || t > self.after;
        } else if self.total == 1 {
            self.include = self.after == 0;
        }
        if self.include {
            self.lines.push_back(line.to_owned());
            if self.limit > 0 && self.lines.len() > self.limit {
                self.lines.pop_front();
            }
        }
    }
}

fn number<T: std::str::FromStr>(call: &Call, name: &str) -> Result<Option<T>, Reply> {
    match call.query(name).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Reply::bad(format!(
                "invalid {name}: {v:?} is not a non-negative integer"
            ))
        }),
    }
}

pub(super) fn get_logs(call: &Call, live: &LiveConfig, logs: &Logs) -> Reply {
    if !live.current().logging_to_file {
        return Reply::bad("logging to file disabled");
    }
    let after: i64 = match number::<u32>(call, "after") {
        Ok(a) => a.map_or(0, i64::from),
        Err(r) => return r,
    };
    let limit = match number::<usize>(call, "limit") {
        Ok(l) => l.unwrap_or(0),
        Err(r) => return r,
    };
    let mut acc = Lines {
        after,
        limit,
        lines: Default::default(),
        total: 0,
        latest: 0,
        include: after == 0,
    };
    for path in main_log_files(logs.dir()) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for line in String::from_utf8_lossy(&bytes).lines() {
            acc.add(line.trim_end_matches('\r'));
        }
    }
    Reply::ok(json!({
        "lines": acc.lines,
        "line-count": acc.total,
        "latest-timestamp": acc.latest.max(after),
    }))
}

pub(super) fn delete_logs(live: &LiveConfig, logs: &Logs) -> Reply {
    if !live.current().logging_to_file {
        return Reply::bad("logging to file disabled");
    }
    let mut removed = 0;
    for path in main_log_files(logs.dir()) {
        let result = if path.file_name().is_some_and(|n| n == MAIN_LOG) {
            // The writer appends (O_APPEND): after the truncation it writes at the new end.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(0))
        } else {
            std::fs::remove_file(&path).map(|()| removed += 1)
        };
        if let Err(e) = result {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Reply::error(500, format!("failed to clear {}: {e}", display(&path)));
            }
        }
    }
    Reply::ok(json!({"success": true, "message": "Logs cleared successfully", "removed": removed}))
}

fn display(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_error_log(name: &str) -> bool {
    name.starts_with("error-") && name.ends_with(".log")
}

/// `{"files": [{name, size, modified}]}`, newest first; empty while `request-log` is on
/// (every request is logged then, CLIProxyAPI's rule).
pub(super) fn error_logs(live: &LiveConfig, logs: &Logs) -> Reply {
    if live.current().request_log {
        return Reply::ok(json!({"files": []}));
    }
    let mut files: Vec<(u64, Value)> = std::fs::read_dir(logs.dir())
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let meta = e.metadata().ok()?;
                    if !meta.is_file() || !is_error_log(&name) {
                        return None;
                    }
                    let modified = meta
                        .modified()
                        .ok()
                        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_secs());
                    Some((
                        modified,
                        json!({"name": name, "size": meta.len(), "modified": modified}),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.1["name"].as_str().cmp(&a.1["name"].as_str()))
    });
    Reply::ok(json!({"files": files.into_iter().map(|(_, f)| f).collect::<Vec<_>>()}))
}

/// `GET /request-error-logs/<name>`.
pub(super) fn error_log(name: &str, logs: &Logs) -> Reply {
    let name = name.trim();
    if name.is_empty() || name.contains(['/', '\\', '\0']) {
        return Reply::bad("invalid log file name");
    }
    if !is_error_log(name) {
        return Reply::not_found("log file not found");
    }
    download(&logs.dir().join(name))
}

/// `GET /request-log-by-id/<id>` (or `?id=`): the newest request or error log of that id.
pub(super) fn by_request_id(id: &str, call: &Call, logs: &Logs) -> Reply {
    let id = Some(id.trim())
        .filter(|i| !i.is_empty())
        .or_else(|| call.query("id").map(str::trim))
        .unwrap_or_default();
    if id.is_empty() {
        return Reply::bad("missing request ID");
    }
    if id.contains(['/', '\\']) {
        return Reply::bad("invalid request ID");
    }
    match logs.find_request_log(id) {
        Some(path) => download(&path),
        None => Reply::not_found("log file not found for the given request ID"),
    }
}

/// The file as an attachment; never through a symlink.
fn download(path: &Path) -> Reply {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Reply::bad("invalid log file"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Reply::not_found("log file not found")
        }
        Err(e) => return Reply::error(500, format!("failed to read log file: {e}")),
    }
    match std::fs::read(path) {
        Ok(body) => Reply {
            status: 200,
            body,
            content_type: "text/plain; charset=utf-8",
            extra: vec![(
                "content-disposition",
                format!("attachment; filename=\"{}\"", display(path)),
            )],
        },
        Err(e) => Reply::error(500, format!("failed to read log file: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(after: i64, limit: usize, input: &[&str]) -> (Vec<String>, usize, i64) {
        let mut acc = Lines {
            after,
            limit,
            lines: Default::default(),
            total: 0,
            latest: 0,
            include: after == 0,
        };
        for l in input {
            acc.add(l);
        }
        (acc.lines.into(), acc.total, acc.latest)
    }

    const LOG: &[&str] = &[
        "2026-01-01T00:00:10.5Z  INFO one",
        "2026-01-01T00:00:20Z  WARN two",
        "   continued",
        r#"{"timestamp":"2026-01-01T00:00:30Z","level":"INFO","fields":{"message":"three"}}"#,
    ];

    #[test]
    fn after_keeps_later_lines_with_their_continuations() {
        let t10 = 1_767_225_610;
        let (all, total, latest) = lines(0, 0, LOG);
        assert_eq!((all.len(), total, latest), (4, 4, t10 + 20));
        let (later, _, _) = lines(t10, 0, LOG);
        assert_eq!(later, LOG[1..].to_vec());
        let (none, _, latest) = lines(t10 + 20, 0, LOG);
        assert!(none.is_empty());
        assert_eq!(latest, t10 + 20);
        let (last, _, _) = lines(0, 2, LOG);
        assert_eq!(last, LOG[2..].to_vec());
    }
}
