//! Logs: the global tracing subscriber (`log-format: text | json`), the access record, and
//! CLIProxyAPI's log files (`logging-to-file`, `logs-max-total-size-mb`, `request-log`,
//! `error-logs-max-files`), all written by one log writer thread so that a slow disk never
//! slows a request.
//!
//! Contract:
//! - `main` calls [`init`] once (it installs the global subscriber and the `log` bridge for
//!   Pingora's records) and keeps the [`Logs`] handle; `Logs` is a cheap `Clone` for the proxy.
//! - Worker threads call [`Logs::access`] (one record per request), [`Logs::capture`] (one
//!   [`Capture`] per request, fed by the phases) and [`Logs::exchange`] (once, in the
//!   `logging` phase). None of them blocks, formats or touches the disk: they move their
//!   argument into a bounded queue; when it is full, the message is dropped and counted
//!   ([`Logs::dropped_lines`], for a metric). Tracing events are formatted on the emitting
//!   thread (their fields are borrowed) and go through the same queue. The writer takes the
//!   queue in batches (`writer`), so a request costs a push, not a thread wake-up.
//! - The writer thread redacts secrets (`redact`), formats access records, writes to stderr
//!   or `<logs-dir>/main.log` (rotated at 10 MB to `main-<UTC stamp>.log`), writes request and
//!   error logs, and deletes the oldest `.log` files anywhere under logs-dir to stay under
//!   `logs-max-total-size-mb` (after each rotation and once a minute). A failed write (a full
//!   disk) counts as a dropped line.
//! - [`Logs::find_request_log`] lists directories on the caller's thread (a management route).
//!
//! Memory: at most [`CHANNEL_CAPACITY`] messages in flight; a request's [`Capture`] keeps each
//! body up to 1 MiB (`capture::BODY_CAP`).
//!
//! Settings fixed at start: `log-format`, `logging-to-file`, `logs-dir`,
//! `logs-max-total-size-mb`, `debug`. [`Logs::apply`] takes new `request-log` and
//! `error-logs-max-files` values (a reload, the management API).

mod access;
mod capture;
mod clock;
mod files;
mod json;
mod line;
mod redact;
mod writer;

#[cfg(test)]
mod tests;

pub use access::{AccessRecord, AttemptLog, Tokens};
pub use capture::{Capture, BODY_CAP};

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchyard_conf::{Config, LogFormat};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};
use writer::{Counters, Exchange, Msg, Queue, Sender, Sink, Writer};

/// `main.log` is rotated when the next line would take it past this size.
const ROTATE_BYTES: u64 = 10 * 1024 * 1024;
/// Messages (lines, access records, request logs) in flight to the writer thread.
pub const CHANNEL_CAPACITY: usize = 16 * 1024;
/// How long [`Logs::flush`] waits for the writer.
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create the logs directory {}: {source}", path.display())]
    Dir { path: PathBuf, source: io::Error },
    #[error("cannot open the log file {}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error("cannot start the log writer thread: {0}")]
    Thread(#[source] io::Error),
    #[error("cannot install the tracing subscriber: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
}

/// Knobs the tests turn; [`Options::default`] is production.
struct Options {
    rotate_bytes: u64,
    capacity: usize,
    /// `Some`: `logs-max-total-size-mb` in bytes instead of the config's.
    max_total_bytes: Option<u64>,
    /// The global subscriber is installed: access records obey its filter.
    global: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rotate_bytes: ROTATE_BYTES,
            capacity: CHANNEL_CAPACITY,
            max_total_bytes: None,
            global: false,
        }
    }
}

/// The handle to the log writer thread. Cheap to clone; the thread ends when the last
/// handle and the global subscriber are gone.
#[derive(Clone)]
pub struct Logs {
    inner: Arc<Inner>,
}

struct Inner {
    tx: Sender,
    dir: PathBuf,
    format: LogFormat,
    /// Colour (text format, stderr is a terminal).
    ansi: bool,
    request_log: AtomicBool,
    error_logs_max_files: AtomicU64,
    global: bool,
}

/// Starts the writer thread and installs the global tracing subscriber writing through it
/// (text in tracing-subscriber's layout, coloured only on a terminal, or JSON lines). The
/// level is `RUST_LOG` if set, else `info` (`debug` with `debug: true`).
pub fn init(config: &Config, config_path: &Path) -> Result<Logs, LogError> {
    let logs = Logs::start_with(
        config,
        config_path,
        Options {
            global: true,
            ..Options::default()
        },
    )?;
    Registry::default()
        .with(logs.layer())
        .with(env_filter(config.debug))
        .try_init()?;
    Ok(logs)
}

/// For the interactive commands (`login`, `refresh`): tracing to stderr, written on the
/// caller's thread, in the text layout (coloured on a terminal). No files.
pub fn init_terminal(debug: bool) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(env_filter(debug))
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init();
}

fn env_filter(debug: bool) -> EnvFilter {
    // A failover after a held stream's header went out makes Pingora warn that the next
    // attempt's header is ignored: expected (docs/failover.md), so that module logs errors
    // only.
    let default = if debug {
        "debug,pingora_core::protocols::http::v1::server=error"
    } else {
        "info,pingora_core::protocols::http::v1::server=error"
    };
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// `logs-dir` (relative to the config file's directory), default `logs` beside the config.
fn resolve_dir(config: &Config, config_path: &Path) -> PathBuf {
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    base.join(config.logs_dir.as_deref().unwrap_or("logs"))
}

impl Logs {
    /// Starts the writer thread without installing a global subscriber (tests, or a process
    /// that installs its own); [`init`] is this plus the subscriber.
    pub fn start(config: &Config, config_path: &Path) -> Result<Logs, LogError> {
        Logs::start_with(config, config_path, Options::default())
    }

    fn start_with(config: &Config, config_path: &Path, opts: Options) -> Result<Logs, LogError> {
        let dir = resolve_dir(config, config_path);
        let sink = if config.logging_to_file {
            std::fs::create_dir_all(&dir).map_err(|source| LogError::Dir {
                path: dir.clone(),
                source,
            })?;
            let path = dir.join("main.log");
            let file = files::RotatingFile::open(path.clone(), opts.rotate_bytes)
                .map_err(|source| LogError::File { path, source })?;
            Sink::File(file)
        } else {
            Sink::Stderr(Vec::new())
        };
        let ansi = config.log_format == LogFormat::Text
            && !config.logging_to_file
            && io::stderr().is_terminal();
        let counters = Arc::new(Counters::default());
        let (queue, tx) = Queue::new(opts.capacity, Arc::clone(&counters));
        let writer = Writer {
            format: config.log_format,
            ansi,
            sink,
            dir: dir.clone(),
            max_total_bytes: opts
                .max_total_bytes
                .unwrap_or(config.logs_max_total_size_mb.saturating_mul(1024 * 1024)),
            counters: Arc::clone(&counters),
        };
        std::thread::Builder::new()
            .name("switchyard-logs".to_owned())
            .spawn(move || writer.run(&queue))
            .map_err(LogError::Thread)?;
        Ok(Logs {
            inner: Arc::new(Inner {
                tx,
                dir,
                format: config.log_format,
                ansi,
                request_log: AtomicBool::new(config.request_log),
                error_logs_max_files: AtomicU64::new(config.error_logs_max_files),
                global: opts.global,
            }),
        })
    }

    /// The tracing layer that formats events and hands them to this writer.
    fn layer(&self) -> Box<dyn Layer<Registry> + Send + Sync> {
        let sink = line::ChannelSink {
            tx: self.inner.tx.clone(),
        };
        match self.inner.format {
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(sink)
                .with_ansi(self.inner.ansi)
                .boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .event_format(line::JsonEvents)
                .with_writer(sink)
                .boxed(),
        }
    }

    /// Whether access lines are written (`RUST_LOG` can silence their target,
    /// `switchyard::access`): the caller builds a record only then.
    pub fn access_on(&self) -> bool {
        !self.inner.global || tracing::enabled!(target: access::ACCESS_TARGET, tracing::Level::INFO)
    }

    /// One request's access line (target `switchyard::access`, level INFO). Never blocks;
    /// formatted on the writer thread. Call it when [`Logs::access_on`].
    pub fn access(&self, rec: AccessRecord) {
        self.inner
            .tx
            .send(Msg::Access(Box::new(rec), SystemTime::now()));
    }

    /// Whether every request's exchange is logged (`request-log`): the request path captures
    /// it then, and only then.
    pub fn request_log(&self) -> bool {
        self.inner.request_log.load(Ordering::Relaxed)
    }

    /// A new capture for one request (keeps every body with `request-log` on, only failures'
    /// response bodies with it off). Create it when the request arrives.
    pub fn capture(&self) -> Capture {
        Capture::new(self.inner.request_log.load(Ordering::Relaxed))
    }

    /// The end of a request: with `request-log` on, its exchange goes to
    /// `<logs-dir>/requests/<UTC yyyymmddThhmmss>-<request_id>.log`; with it off and `failed`,
    /// to `<logs-dir>/error-<stamp>-<request_id>.log`, keeping the newest
    /// `error-logs-max-files` of those. Never blocks; rendered and written on the writer
    /// thread.
    pub fn exchange(&self, request_id: &str, status: u16, failed: bool, capture: Capture) {
        let request_log = self.inner.request_log.load(Ordering::Relaxed);
        if !request_log && !failed {
            return;
        }
        self.inner.tx.send(Msg::Exchange(Box::new(Exchange {
            request_id: request_id.to_owned(),
            status,
            failed,
            error_log: !request_log,
            error_logs_max_files: self.inner.error_logs_max_files.load(Ordering::Relaxed),
            capture,
        })));
    }

    /// The newest request log or error log of `request_id`. Lists directories on the
    /// caller's thread: for a management route, not the request path.
    pub fn find_request_log(&self, request_id: &str) -> Option<PathBuf> {
        files::find_request_log(&self.inner.dir, request_id)
    }

    /// Lines, access records and request logs dropped so far (channel full, or a failed
    /// write).
    pub fn dropped_lines(&self) -> u64 {
        self.inner.tx.counters.dropped.load(Ordering::Relaxed)
    }

    /// Where log files go (`logs-dir`, resolved).
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Takes the reloadable settings: `request-log`, `error-logs-max-files`.
    pub fn apply(&self, config: &Config) {
        self.inner
            .request_log
            .store(config.request_log, Ordering::Relaxed);
        self.inner
            .error_logs_max_files
            .store(config.error_logs_max_files, Ordering::Relaxed);
    }

    /// Blocks (at most 5 s) until everything sent before is written: at exit, and in tests.
    /// Not for the request path.
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        if self.inner.tx.send_control(Msg::Flush(done)) {
            let _ = wait.recv_timeout(FLUSH_WAIT);
        }
    }
}
