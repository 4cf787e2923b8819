//! `SIGTERM` ends the process as soon as nothing is in flight, not after the whole grace
//! period.
//!
//! Pingora's graceful terminate stops accepting, lets the sessions in progress finish and then
//! sleeps `grace_period_seconds` whatever is left (so a idle gateway took the whole grace
//! period, 5 s by default, to stop). This handler also hears the SIGTERM (signal listeners all
//! get it), waits until the count of requests in flight (`InFlight::requests`, a guard in each
//! request's context) reads zero, runs the same end-of-run work as a normal exit (the last
//! usage statistics to their file, the log writer drained) and exits with status 0. Requests
//! still running at the end of the grace period are Pingora's to end, as before: this handler
//! then steps aside.

use crate::in_flight::InFlight;
use crate::listen::StartupError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the count of requests in flight is read after a SIGTERM.
const POLL: Duration = Duration::from_millis(10);

/// Installs the handler now and serves it on a thread of its own. `finish` runs once, just
/// before the process exits on this path.
pub fn spawn(
    in_flight: Arc<InFlight>,
    grace: Duration,
    finish: Box<dyn FnOnce() + Send>,
) -> Result<(), StartupError> {
    let failed = |source| StartupError::Thread {
        what: "SIGTERM handler",
        source,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed)?;
    let mut term = {
        let _entered = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(failed)?
    };
    std::thread::Builder::new()
        .name("sigterm-exit".into())
        .spawn(move || {
            rt.block_on(async move {
                if term.recv().await.is_none() {
                    return;
                }
                let deadline = Instant::now() + grace;
                while in_flight.requests() > 0 {
                    if Instant::now() >= deadline {
                        return;
                    }
                    tokio::time::sleep(POLL).await;
                }
                tracing::info!("SIGTERM: nothing in flight, exiting");
                finish();
                std::process::exit(0);
            });
        })
        .map(drop)
        .map_err(failed)
}
