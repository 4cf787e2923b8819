//! The `switchyard login` and `switchyard refresh` commands behind `gateway/src/main.rs`:
//! load the config (for `auth-dir` and `oauth-overrides`), run on a current-thread tokio
//! runtime, print results for the user, and map failures to an exit status.
//!
//! Output: user-facing lines on `out` (stdout); errors on `err` (stderr). No token is printed.

use crate::egress::Route;
use crate::error::AuthError;
use crate::login::{import_vertex, login, LoginOptions};
use crate::provider::{Provider, ProviderId};
use crate::refresh::{AccountStatus, Refresher, SystemClock};
use crate::store::{expand_home, TokenStore};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchyard_conf::Config;

/// Loads `config` when given (it must load), else `./config.yaml` when it exists, else the
/// defaults.
pub fn load_config(config: Option<&Path>) -> Result<Config, AuthError> {
    let path = match config {
        Some(p) => p.to_path_buf(),
        None if Path::new("config.yaml").exists() => PathBuf::from("config.yaml"),
        None => return Ok(Config::default()),
    };
    switchyard_conf::load_file(&path)
        .map(|l| l.config)
        .map_err(AuthError::ConfigFile)
}

fn runtime() -> Result<tokio::runtime::Runtime, AuthError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AuthError::Runtime)
}

/// `switchyard login <provider>`; returns whether it succeeded.
pub fn run_login(
    provider: &str,
    opts: &LoginOptions,
    import: Option<&Path>,
    config: &Config,
    out: &mut (dyn Write + Send),
    err: &mut dyn Write,
) -> bool {
    let Some(id) = ProviderId::from_name(provider) else {
        let names: Vec<&str> = ProviderId::ALL.iter().map(|p| p.name()).collect();
        let _ = writeln!(
            err,
            "error: unknown provider {provider:?}; expected one of {}",
            names.join(", ")
        );
        return false;
    };
    let store = TokenStore::new(expand_home(&config.auth_dir));
    let result = match (id, import) {
        (ProviderId::Vertex, Some(file)) => import_vertex(file, &store),
        (ProviderId::Vertex, None) => Err(AuthError::Config(
            "vertex needs --import service-account.json".into(),
        )),
        (_, Some(_)) => Err(AuthError::Config("--import is only for vertex".into())),
        (_, None) => {
            let p = Provider::resolve(id, config);
            Route::global(config.proxy_url.as_deref()).and_then(|route| {
                runtime().and_then(|rt| rt.block_on(login(&p, opts, &route, &store, out)))
            })
        }
    };
    match result {
        Ok(path) => {
            if id == ProviderId::Vertex {
                let _ = writeln!(out, "Saved {}", path.display());
            }
            true
        }
        Err(e) => {
            let _ = writeln!(err, "error: {} login failed: {e}", id.name());
            false
        }
    }
}

/// `switchyard refresh`: refreshes every OAuth account in `auth-dir` (or the one named) now
/// and prints one status line each; returns whether all succeeded.
pub fn run_refresh(
    config: &Config,
    account: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return false;
        }
    };
    rt.block_on(async {
        let refresher = match Refresher::new(config, 4, Arc::new(SystemClock)) {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return false;
            }
        };
        let ids: Vec<String> = refresher
            .reload()
            .into_iter()
            .filter(|id| account.is_none_or(|a| a == id))
            .filter(|id| refresher.record(id).is_some_and(|r| r.can_refresh()))
            .collect();
        if ids.is_empty() {
            let _ = writeln!(
                err,
                "error: no OAuth account to refresh in {}",
                config.auth_dir
            );
            return false;
        }
        let mut ok = true;
        for id in ids {
            match refresher.refresh_now(&id).await {
                Ok(_) => {
                    let _ = writeln!(out, "{id}: refreshed");
                }
                Err(e) => {
                    ok = false;
                    let status = match refresher.status(&id) {
                        Some(AccountStatus::Unusable(why)) => format!("unusable: {why}"),
                        _ => format!("failed: {e}"),
                    };
                    let _ = writeln!(out, "{id}: {status}");
                }
            }
        }
        ok
    })
}
