//! Building and running the Pingora server from a validated config. Pingora's own command
//! line parser is never used: the process's arguments belong to `switchyard`.

use crate::proxy::Gateway;
use crate::runtime::Runtime;
use pingora_core::server::configuration::ServerConf;
use pingora_core::server::Server;
use switchyard_conf::Config;

/// Start the gateway and block until shutdown (SIGTERM: graceful, SIGINT: immediate).
pub fn serve(config: &Config) -> Result<(), String> {
    let runtime = Runtime::build(config).map_err(|p| p.join("\n"))?;
    if let Some(refresher) = &runtime.oauth {
        crate::oauth::spawn_refresh(refresher.clone());
    }
    let accounts = runtime.accounts.len();
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
        pingora_proxy::http_proxy_service(&server.configuration, Gateway::new(runtime));
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
