//! `SIGHUP` reloads the config file (`systemctl reload`, `kill -HUP`) at once, even when the
//! watcher saw no change: `live_config::LiveConfig::reload` loads and validates it, rebuilds
//! the runtime off the hot path and swaps it in; a config with a problem is logged and the
//! running one stays. Without this handler SIGHUP's
//! default action would end the process.
//!
//! What only a new process can change (listen address, port, TLS on or off, workers) is kept
//! and logged: apply it with `serve --upgrade` or a restart.

use crate::listen::StartupError;
use crate::live_config::LiveConfig;
use std::sync::Arc;

/// Installs the handler now (so a SIGHUP right after start is not fatal) and serves it on a
/// thread of its own for the life of the process.
pub fn spawn(live: Arc<LiveConfig>) -> Result<(), StartupError> {
    let failed = |source| StartupError::Thread {
        what: "SIGHUP handler",
        source,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed)?;
    let mut hup = {
        let _entered = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).map_err(failed)?
    };
    std::thread::Builder::new()
        .name("sighup-reload".into())
        .spawn(move || {
            rt.block_on(async move {
                while hup.recv().await.is_some() {
                    let result = live.reload(true);
                    crate::live_config::log_reload(live.path(), "SIGHUP", &result);
                }
            });
        })
        .map(drop)
        .map_err(failed)
}
