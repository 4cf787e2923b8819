//! Building and running the Pingora server from a validated config. Pingora's own command
//! line parser is never used: the process's arguments belong to `switchyard`. Besides the
//! proxy service it starts the OAuth refresh service, the auth-dir watcher (`reload.rs`), the
//! `config.yaml` watcher (`live_config.rs`) and the management API (`management/`).
//! Start-up checks, listen address and the `--upgrade` hand-over: `listen.rs`; scrape-time
//! metrics: `metrics_collect.rs`; TLS:
//! `tls_reload.rs`; `/readyz`: `readiness.rs`; SIGHUP: `sighup.rs`.

use crate::listen::ServeOptions;
use crate::proxy::Gateway;
use crate::reload::{self, RuntimeHolder};
use crate::runtime::Runtime;
use crate::usage_stats::{Limits, SaverHandle, UsageStats};
use pingora_core::server::configuration::{Opt, ServerConf};
use pingora_core::server::Server;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchyard_conf::Config;

/// Start the gateway and block until shutdown (SIGTERM: graceful, SIGINT: immediate,
/// SIGQUIT: hand the listening sockets to a `serve --upgrade`, then drain; SIGHUP: reload
/// `config_path`). A start-up problem is returned as one line before anything listens.
pub fn serve(
    config: &Config,
    config_path: &Path,
    opts: &ServeOptions,
    logs: crate::logs::Logs,
) -> Result<(), ServeError> {
    crate::listen::prepare_auth_dir(&switchyard_auth::store::expand_home(&config.auth_dir))?;
    let tls = if config.tls.enable {
        Some(crate::tls_reload::settings(
            &config.tls.cert,
            &config.tls.key,
        )?)
    } else {
        None
    };
    let listen = crate::listen::plan(config, opts.upgrade)?;
    if let Some(addr) = &config.metrics.listen {
        crate::listen::check_free("metrics.listen", addr, opts.upgrade)?;
    }
    let auth_dir = switchyard_auth::store::expand_home(&config.auth_dir);
    if let Some(cfg) = config.shared_state.as_ref().filter(|c| c.auth_store) {
        // Before the first snapshot: the first request already has every account.
        let usage_file = crate::usage_stats::file_of(config);
        crate::shared_state::auth_mirror::start(cfg, &auth_dir, usage_file)?;
    }
    let refresher = crate::channels::oauth::new_refresher(config)?;
    let watch = reload::AuthDirWatch::new(
        auth_dir.clone(),
        config.model_catalog.as_deref().map(PathBuf::from),
        crate::usage_stats::file_of(config),
    );
    let in_flight = Arc::new(crate::in_flight::InFlight::default());
    let runtime = Runtime::build_counted(config, refresher.clone(), &in_flight)
        .map_err(ServeError::Config)?;
    let accounts = runtime.accounts.len();
    let holder = Arc::new(RuntimeHolder::new(runtime));
    crate::channels::oauth::spawn_refresh(refresher.clone());
    let reloader = Arc::new(
        reload::Reloader::new(holder.clone(), config.clone(), refresher.clone())
            .with_in_flight(in_flight.clone()),
    );
    reload::spawn_auth_watch(reloader.clone(), watch, reload::AUTH_WATCH_TICK);
    let threads = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(config.shutdown_grace_secs),
        graceful_shutdown_timeout_seconds: Some(1),
        // Failover is bounded by the candidate list in each request's context.
        max_retries: 1024,
        upgrade_sock: crate::listen::upgrade_socket(config, opts)
            .to_string_lossy()
            .into_owned(),
        ..ServerConf::default()
    };
    let opt = Opt {
        upgrade: opts.upgrade,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    crate::listen::exit_on_listener_panic();
    server.bootstrap();
    let readiness = Arc::new(crate::readiness::Readiness::default());
    readiness.follow(server.watch_execution_phase());
    let metrics = crate::metrics::Metrics::new(
        config.metrics.listen.is_some(),
        config.metrics.account_labels,
    )?;
    let (usage, saver) = usage_statistics(config)?;
    // Taken once: by the SIGTERM handler when it ends the process early, else after `run`.
    let saver = Arc::new(std::sync::Mutex::new(saver));
    let (health, affinity) = (Arc::default(), Arc::default());
    let replica = crate::shared_state::start(config, &health, &affinity, usage.as_ref())?;
    let shared = Arc::new(crate::shared::Shared {
        health,
        affinity,
        metrics,
        logs,
        usage,
        in_flight,
        replica,
    });
    if let Some(addr) = &config.metrics.listen {
        crate::metrics_collect::register(
            shared.metrics.registry(),
            holder.clone(),
            &shared,
            refresher,
        )?;
        server.add_service(crate::metrics_endpoint::service(addr, shared.clone()));
        tracing::info!(%addr, "metrics at http://{addr}/metrics");
    }
    let live = Arc::new(crate::live_config::LiveConfig::new(
        config_path.to_owned(),
        config.clone(),
        reloader,
        shared.logs.clone(),
    ));
    if let Some(cfg) = &config.shared_state {
        // Management changes reach the other replicas (docs/scale-out.md).
        crate::shared_state::config_sync::start(cfg, &live)?;
    }
    if config.remote_management.secret_key.is_some() && !config.remote_management.secret_is_hashed()
    {
        // A plaintext secret is hashed into the file before anything listens.
        let hashed = live.reload(true);
        crate::live_config::log_reload(config_path, "remote-management.secret-key", &hashed);
    }
    crate::live_config::spawn_watch(live.clone(), crate::live_config::WATCH_TICK);
    crate::sighup::spawn(live.clone())?;
    let management = Arc::new(crate::management::Management::new(
        live,
        std::env::var("MANAGEMENT_PASSWORD").ok(),
    ));
    let (end_saver, end_logs) = (saver.clone(), shared.logs.clone());
    crate::shutdown::spawn(
        shared.in_flight.clone(),
        std::time::Duration::from_secs(config.shutdown_grace_secs),
        Box::new(move || {
            save_usage(&end_saver);
            end_logs.flush();
        }),
    )?;
    let (admission_rt, in_flight) = (holder.clone(), shared.in_flight.clone());
    let gateway = Gateway::new(holder, shared)
        .with_readiness(readiness)
        .with_management(management);
    let proxy = pingora_proxy::http_proxy(&server.configuration, gateway);
    let mut service = pingora_core::services::listening::Service::new(
        "switchyard".to_owned(),
        crate::admission::Admission::new(proxy, admission_rt, in_flight),
    );
    let addr = listen.addr;
    match (tls, listen.options) {
        (Some(tls), options) => service.add_tls_with_settings(&addr, options, tls),
        (None, Some(options)) => service.add_tcp_with_settings(&addr, options),
        (None, None) => service.add_tcp(&addr),
    }
    tracing::info!(%addr, tls = config.tls.enable, upgrade = opts.upgrade, threads, accounts, "switchyard listening");
    server.add_service(service);
    server.run(pingora_core::server::RunArgs::default());
    // Every request has ended: the last usage reaches the file.
    save_usage(&saver);
    Ok(())
}

/// The last usage statistics to their file, once (whichever end of the run comes first).
fn save_usage(saver: &std::sync::Mutex<Option<SaverHandle>>) {
    let taken = saver
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(saver) = taken {
        if let Err(e) = saver.stop_and_save() {
            tracing::warn!("usage statistics not saved at shutdown: {e}");
        }
    }
}

/// How often usage statistics are saved while the gateway runs (and once more at shutdown).
const USAGE_SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// `usage-statistics-enabled`: the statistics loaded from `usage-statistics-file` (default
/// `usage-statistics.json` in `auth-dir`), and the thread that saves them.
fn usage_statistics(
    config: &Config,
) -> Result<(Option<Arc<UsageStats>>, Option<SaverHandle>), ServeError> {
    let Some(path) = crate::usage_stats::file_of(config) else {
        return Ok((None, None));
    };
    let (stats, problem) = UsageStats::load_or_quarantine(&path, Limits::default());
    if let Some(e) = problem {
        tracing::warn!(path = %path.display(), "usage statistics started empty: {e}");
    }
    let stats = Arc::new(stats);
    let saver = stats.spawn_saver(path, USAGE_SAVE_EVERY)?;
    Ok((Some(stats), Some(saver)))
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("auth-dir: {0}")]
    AuthDir(#[from] switchyard_auth::AuthError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Config(Vec<switchyard_conf::Problem>),
    /// A listener, directory or thread the gateway needs is not usable.
    #[error(transparent)]
    Startup(#[from] crate::listen::StartupError),
    #[error(transparent)]
    Tls(#[from] crate::tls_reload::TlsError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("usage statistics: {0}")]
    Usage(#[from] crate::usage_stats::UsageError),
    #[error(transparent)]
    SharedState(#[from] crate::shared_state::SharedStateError),
}
