//! `switchyard login vertex --import service-account.json`: stores a Google service-account key
//! as `vertex-<project>.json` in CLIProxyAPI's layout (`type: vertex`, `project_id`, `email`,
//! `location`, `service_account`). No network: the key is exchanged for access tokens later.

use crate::error::AuthError;
use crate::store::{write_atomic, TokenStore};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Default Vertex region, as in CLIProxyAPI.
pub const DEFAULT_LOCATION: &str = "us-central1";

pub fn import_vertex(file: &Path, store: &TokenStore) -> Result<PathBuf, AuthError> {
    let bytes = std::fs::read(file)
        .map_err(|e| AuthError::Config(format!("cannot read {}: {e}", file.display())))?;
    let sa: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Config(format!("{} is not a JSON object", file.display())))?;
    let field = |k: &str| sa.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    if field("type") != Some("service_account") {
        return Err(AuthError::Config(format!(
            "{} is not a service-account key (its \"type\" must be \"service_account\")",
            file.display()
        )));
    }
    let (Some(project), Some(email), Some(_)) = (
        field("project_id"),
        field("client_email"),
        field("private_key"),
    ) else {
        return Err(AuthError::Config(format!(
            "{} lacks project_id, client_email or private_key",
            file.display()
        )));
    };
    let name = crate::naming::file_name(
        "vertex",
        &crate::naming::NameParts {
            name: Some(project),
            ..Default::default()
        },
    );
    let mut raw = Map::new();
    raw.insert("type".into(), "vertex".into());
    raw.insert("project_id".into(), project.into());
    raw.insert("email".into(), email.into());
    raw.insert("location".into(), DEFAULT_LOCATION.into());
    raw.insert("service_account".into(), Value::Object(sa.clone()));
    let mut bytes = serde_json::to_vec_pretty(&raw).unwrap_or_default();
    bytes.push(b'\n');
    let path = store.dir().join(name);
    write_atomic(&path, &bytes).map_err(|source| AuthError::Store {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}
