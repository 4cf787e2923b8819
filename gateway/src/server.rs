//! Building and running the Pingora server from a validated config. Pingora's own command
//! line parser is never used: the process's arguments belong to `switchyard`. Besides the
//! proxy service it starts the OAuth refresh service and the auth-dir watcher (`reload.rs`).

use crate::proxy::Gateway;
use crate::reload::{self, RuntimeHolder};
use crate::runtime::Runtime;
use pingora_core::server::configuration::ServerConf;
use pingora_core::server::Server;
use std::path::Path;
use std::sync::Arc;
use switchyard_conf::Config;

/// Start the gateway and block until shutdown (SIGTERM: graceful, SIGINT: immediate).
pub fn serve(config: &Config) -> Result<(), String> {
    let refresher = crate::oauth::new_refresher(config)?;
    let auth_dir = switchyard_auth::store::expand_home(&config.auth_dir);
    let seen = reload::fingerprint(&auth_dir, config.model_catalog.as_deref().map(Path::new));
    let runtime = Runtime::build_with(config, refresher.clone()).map_err(|p| p.join("\n"))?;
    let accounts = runtime.accounts.len();
    let holder = Arc::new(RuntimeHolder::new(runtime));
    crate::oauth::spawn_refresh(refresher.clone());
    let reloader = Arc::new(reload::Reloader::new(
        holder.clone(),
        config.clone(),
        refresher,
    ));
    reload::spawn_auth_watch(reloader, seen, reload::AUTH_WATCH_TICK);
    let threads = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(config.shutdown_grace_secs),
        graceful_shutdown_timeout_seconds: Some(1),
        // Failover is bounded by the candidate list in each request's context.
        max_retries: 1024,
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut service =
        pingora_proxy::http_proxy_service(&server.configuration, Gateway::new(holder));
    let host = if config.host.is_empty() {
        "0.0.0.0"
    } else {
        config.host.as_str()
    };
    let addr = if host.contains(':') {
        format!("[{host}]:{}", config.port)
    } else {
        format!("{host}:{}", config.port)
    };
    if config.tls.enable {
        service
            .add_tls(&addr, &config.tls.cert, &config.tls.key)
            .map_err(|e| format!("tls: {e}"))?;
    } else {
        service.add_tcp(&addr);
    }
    tracing::info!(%addr, tls = config.tls.enable, threads, accounts, "switchyard listening");
    server.add_service(service);
    server.run_forever()
}
