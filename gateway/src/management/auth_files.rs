//! `/auth-files`: the OAuth credential files in `auth-dir` (CLIProxyAPI's routes): list with
//! status and cooldowns, upload, delete, download, enable/disable and metadata fields.
//!
//! A name is one plain file name ending in `.json`: no `/`, `\`, NUL, leading `.` or `..`,
//! so it cannot leave the directory; an existing symlink is never followed, written or read.
//! An upload is a JSON object whose `type` is a known provider, at most [`MAX_FILE`] bytes;
//! files are written atomically with mode 0600. An upload is the raw file with `?name=` or
//! CLIProxyAPI's multipart form. A change is applied at once (the accounts are
//! rebuilt) rather than at the watcher's next tick.

use super::{multipart, Call, Reply};
use crate::live_config::{write_atomically, LiveConfig};
use crate::shared::Shared;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};
use switchyard_auth::timefmt::format_rfc3339_system;

/// Largest auth file accepted.
pub const MAX_FILE: usize = 1 << 20;

fn dir(live: &LiveConfig) -> PathBuf {
    switchyard_auth::store::expand_home(&live.current().auth_dir)
}

/// The file's path inside `auth-dir`, or a 400 saying what is wrong with the name.
fn path_of(live: &LiveConfig, name: Option<&str>) -> Result<PathBuf, Reply> {
    let name = name.map(str::trim).unwrap_or_default();
    let plain = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.ends_with(".json");
    if !plain {
        return Err(Reply::bad(format!(
            "invalid name {name:?}: a file name in auth-dir ending in .json"
        )));
    }
    let path = dir(live).join(name);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Reply::bad(format!("{name}: is a symlink")));
    }
    Ok(path)
}

fn rebuild(live: &LiveConfig) {
    if let Err(problems) = live.reloader().rebuild() {
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        tracing::warn!(
            "auth-dir changed but the accounts were not rebuilt: {}",
            all.join("; ")
        );
    }
}

pub(super) fn list(live: &LiveConfig, shared: &Shared) -> Reply {
    let dir = dir(live);
    let rt = live.reloader().runtime();
    let health = shared.health.snapshot();
    let now = Instant::now();
    let now_wall = SystemTime::now();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Reply::ok(json!({"files": []}));
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        if name.starts_with('.') || !name.ends_with(".json") || !meta.is_file() {
            continue;
        }
        let doc: Map<String, Value> = std::fs::read(entry.path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let Some(kind) = doc.get("type").and_then(Value::as_str) else {
            continue;
        };
        let id = format!("auth-dir/{name}");
        let index = rt
            .accounts
            .iter()
            .position(|a| a.id == id || a.id.starts_with(&format!("{id}#")));
        let disabled = doc
            .get("disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let cooling = health
            .iter()
            .filter(|((acc, _), _)| *acc == id || acc.starts_with(&format!("{id}#")))
            .filter_map(|((_, model), h)| {
                Some((
                    model.clone(),
                    h.cooling_until.filter(|u| *u > now)?,
                    h.reason,
                ))
            })
            .collect::<Vec<_>>();
        let next_retry = cooling.iter().map(|(_, u, _)| *u).min();
        let status = if disabled {
            "disabled"
        } else if index.is_none() {
            "unavailable"
        } else if next_retry.is_some() {
            "cooling"
        } else {
            "active"
        };
        let at = |u: Instant| format_rfc3339_system(now_wall + (u - now));
        files.push(json!({
            "id": name,
            "name": name,
            "type": kind,
            "provider": kind,
            "email": doc.get("email"),
            "account_type": "oauth",
            "auth_index": index,
            "status": status,
            "status_message": cooling.first().and_then(|(_, _, r)| *r).unwrap_or(""),
            "disabled": disabled,
            "unavailable": index.is_none() && !disabled,
            "next_retry_after": next_retry.map(at),
            "cooldowns": cooling.iter().map(|(m, u, r)| json!({"model": m, "until": at(*u), "reason": r})).collect::<Vec<_>>(),
            "priority": doc.get("priority"),
            "note": doc.get("note"),
            "prefix": doc.get("prefix"),
            "size": meta.len(),
            "modtime": meta.modified().ok().map(format_rfc3339_system),
        }));
    }
    files.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Reply::ok(json!({ "files": files }))
}

/// What an uploaded file must be: at most [`MAX_FILE`] bytes, a JSON object with a known
/// `type`. `label` names the file in the message (a form of several files).
pub(super) fn check_upload(label: Option<&str>, bytes: &[u8]) -> Result<(), Reply> {
    let named = |m: String| match label {
        Some(name) => format!("{name}: {m}"),
        None => m,
    };
    if bytes.len() > MAX_FILE {
        return Err(Reply::error(
            413,
            named(format!("auth file larger than {MAX_FILE} bytes")),
        ));
    }
    let doc: Map<String, Value> = serde_json::from_slice(bytes)
        .map_err(|e| Reply::bad(named(format!("invalid auth file: not a JSON object ({e})"))))?;
    match doc.get("type").and_then(Value::as_str) {
        Some(t) if switchyard_auth::ProviderId::from_file_type(t).is_some() => Ok(()),
        Some(t) => Err(Reply::bad(named(format!(
            "invalid auth file: unknown type {t:?}"
        )))),
        None => Err(Reply::bad(named("invalid auth file: no \"type\"".into()))),
    }
}

/// `POST /auth-files`: CLIProxyAPI's multipart form (one or more `file` parts, each named by
/// its file name), or the raw file as the body with `?name=x.json`. Every file is checked
/// before any is written: one bad file is a 400 and nothing changes.
pub(super) fn upload(call: &Call, live: &LiveConfig) -> Reply {
    let form = call.content_type.as_deref().and_then(multipart::boundary);
    let multipart = form.is_some();
    let files: Vec<(String, &[u8])> = match form {
        None => vec![(
            call.query("name").unwrap_or_default().to_owned(),
            &call.body[..],
        )],
        Some(Err(e)) => return Reply::bad(format!("invalid multipart form: {e}")),
        Some(Ok(boundary)) => match multipart::parts(&call.body, &boundary) {
            Ok(parts) => parts
                .into_iter()
                .filter(|p| matches!(p.field.as_str(), "file" | "file[]" | "files"))
                .map(|p| (p.file_name.unwrap_or_default(), p.body))
                .collect(),
            Err(e) => return Reply::bad(format!("invalid multipart form: {e}")),
        },
    };
    if files.is_empty() {
        return Reply::bad("no file uploaded: expected a multipart \"file\" part");
    }
    let mut checked = Vec::with_capacity(files.len());
    for (name, bytes) in &files {
        let path = match path_of(live, Some(name)) {
            Ok(p) => p,
            Err(r) => return r,
        };
        if let Err(r) = check_upload(multipart.then_some(name.trim()), bytes) {
            return r;
        }
        checked.push(path);
    }
    for (path, (_, bytes)) in checked.iter().zip(&files) {
        if let Err(r) = write_file(path, bytes) {
            return r;
        }
    }
    rebuild(live);
    if files.len() == 1 {
        return Reply::done();
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.trim()).collect();
    Reply::ok(json!({"status": "ok", "uploaded": names.len(), "files": names}))
}

/// `GET /auth-files/models?name=x.json`: the models the file's account serves,
/// `{"models": [{id, display_name?, owned_by?, type?}]}`.
pub(super) fn models(call: &Call, live: &LiveConfig) -> Reply {
    let Some(name) = call.query("name").map(str::trim).filter(|n| !n.is_empty()) else {
        return Reply::bad("name is required");
    };
    let id = format!("auth-dir/{name}");
    let rt = live.reloader().runtime();
    let mut models: Vec<Value> = Vec::new();
    let mine = rt
        .accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.id == id || a.id.starts_with(&format!("{id}#")) || a.id == name);
    for (index, _) in mine {
        for m in rt.router.models_of(index) {
            if models.iter().any(|v| v["id"] == m.id.as_str()) {
                continue;
            }
            let mut entry = Map::new();
            entry.insert("id".into(), json!(m.id));
            if let Some(meta) = &m.meta {
                entry.insert("display_name".into(), json!(meta.display_name));
                entry.insert("owned_by".into(), json!(meta.owned_by));
            }
            entry.insert("type".into(), json!(crate::accounts::kind_name(m.kind)));
            models.push(Value::Object(entry));
        }
    }
    Reply::ok(json!({ "models": models }))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Reply> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if !path.exists() {
        // A new file starts private; write_atomically keeps an existing file's mode.
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| Reply::error(500, format!("cannot write the auth file: {e}")))?;
    }
    write_atomically(path, bytes).map_err(|e| Reply::error(500, e.to_string()))
}

/// `DELETE /auth-files?name=x.json`, or `?all=true` for every auth file.
pub(super) fn delete(call: &Call, live: &LiveConfig) -> Reply {
    if call.query("all").is_some_and(|v| v == "true" || v == "1") {
        let mut deleted = 0;
        if let Ok(entries) = std::fs::read_dir(dir(live)) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.')
                    && name.ends_with(".json")
                    && e.file_type().is_ok_and(|t| t.is_file())
                    && std::fs::remove_file(e.path()).is_ok()
                {
                    deleted += 1;
                }
            }
        }
        rebuild(live);
        return Reply::ok(json!({"status": "ok", "deleted": deleted}));
    }
    let path = match path_of(live, call.query("name")) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match std::fs::remove_file(&path) {
        Ok(()) => {
            rebuild(live);
            Reply::done()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Reply::not_found("file not found"),
        Err(e) => Reply::error(500, format!("cannot delete the auth file: {e}")),
    }
}

pub(super) fn download(call: &Call, live: &LiveConfig) -> Reply {
    let path = match path_of(live, call.query("name")) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match std::fs::read(&path) {
        Ok(bytes) => Reply {
            status: 200,
            body: bytes,
            content_type: "application/json",
            extra: vec![(
                "content-disposition",
                format!(
                    "attachment; filename=\"{}\"",
                    path.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
            )],
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Reply::not_found("file not found"),
        Err(e) => Reply::error(500, format!("cannot read the auth file: {e}")),
    }
}

/// Reads the file, lets `change` edit its JSON object and writes it back.
fn edit_file(
    live: &LiveConfig,
    name: Option<&str>,
    change: impl FnOnce(&mut Map<String, Value>),
) -> Result<(), Reply> {
    let path = path_of(live, name)?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Reply::not_found("file not found"))
        }
        Err(e) => return Err(Reply::error(500, format!("cannot read the auth file: {e}"))),
    };
    let mut doc: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|e| Reply::bad(format!("the auth file is not a JSON object: {e}")))?;
    change(&mut doc);
    let out = serde_json::to_vec_pretty(&doc).unwrap_or(bytes);
    write_file(&path, &out)?;
    rebuild(live);
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    name: String,
    disabled: bool,
}

/// `PATCH /auth-files/status {"name", "disabled"}`.
pub(super) fn set_status(call: &Call, live: &LiveConfig) -> Reply {
    let body: StatusBody = match call.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    match edit_file(live, Some(&body.name), |doc| {
        doc.insert("disabled".into(), Value::Bool(body.disabled));
    }) {
        Ok(()) => Reply::ok(json!({"status": "ok", "disabled": body.disabled})),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldsBody {
    name: String,
    prefix: Option<String>,
    proxy_url: Option<String>,
    priority: Option<i64>,
    note: Option<String>,
}

/// `PATCH /auth-files/fields {"name", "prefix"?, "proxy_url"?, "priority"?, "note"?}`; an
/// empty string removes a field.
pub(super) fn set_fields(call: &Call, live: &LiveConfig) -> Reply {
    let body: FieldsBody = match call.json() {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(p) = &body.proxy_url {
        if !p.is_empty() {
            if let Err(e) = switchyard_conf::parse_proxy_url(p) {
                return Reply::bad(format!("proxy_url: {e}"));
            }
        }
    }
    let result = edit_file(live, Some(&body.name), |doc| {
        let mut put = |k: &str, v: Option<Value>| match v {
            Some(Value::String(s)) if s.is_empty() => {
                doc.remove(k);
            }
            Some(v) => {
                doc.insert(k.to_owned(), v);
            }
            None => {}
        };
        put("prefix", body.prefix.map(Value::String));
        put("proxy_url", body.proxy_url.map(Value::String));
        put("priority", body.priority.map(Value::from));
        put("note", body.note.map(Value::String));
    });
    match result {
        Ok(()) => Reply::done(),
        Err(r) => r,
    }
}
