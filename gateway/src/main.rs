//! The `switchyard` command: `serve` runs the gateway, `check-config` reports every problem
//! in a config file, `login <provider>` adds an OAuth account to `auth-dir`, `refresh`
//! refreshes the OAuth accounts there now (logic for both in `switchyard_auth::cli`), `probe`
//! is the container health check. `--config` defaults to `$SWITCHYARD_CONFIG`, then
//! `config.yaml`.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `switchyard --version`: the crate version and the commit it was built from (`build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SWITCHYARD_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(name = "switchyard", version = VERSION, about = "LLM API gateway on Pingora")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        #[arg(
            long,
            short = 'c',
            env = "SWITCHYARD_CONFIG",
            default_value = "config.yaml"
        )]
        config: PathBuf,
        /// Take the listening sockets over from the running gateway (send it SIGQUIT), which
        /// then stops accepting and finishes its requests within shutdown-grace-seconds.
        #[arg(long)]
        upgrade: bool,
        /// The Unix socket of the hand-over (default: $TMPDIR/switchyard-PORT.upgrade.sock);
        /// the running gateway must have been started with the same one.
        #[arg(long, env = "SWITCHYARD_UPGRADE_SOCKET")]
        upgrade_socket: Option<PathBuf>,
    },
    /// Print every problem in a config file; exit non-zero if there is one.
    CheckConfig {
        #[arg(
            long,
            short = 'c',
            env = "SWITCHYARD_CONFIG",
            default_value = "config.yaml"
        )]
        config: PathBuf,
    },
    /// GET an http:// URL and exit 0 on a 200 (container health check).
    Probe {
        #[arg(default_value = "http://127.0.0.1:8317/healthz")]
        url: String,
    },
    /// Log in to a provider (claude, codex, gemini, qwen, kimi, iflow, antigravity, vertex)
    /// and save the account in auth-dir.
    Login {
        provider: String,
        /// Print the URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Listen for the OAuth callback on this port instead of the provider's default.
        #[arg(long)]
        callback_port: Option<u16>,
        /// Config file for auth-dir and oauth-overrides (default: ./config.yaml if present).
        #[arg(long, short = 'c', env = "SWITCHYARD_CONFIG")]
        config: Option<PathBuf>,
        /// codex: use the device-code flow.
        #[arg(long)]
        device: bool,
        /// gemini: the Google Cloud project to use (`ALL`: every project, in one file).
        #[arg(long)]
        project_id: Option<String>,
        /// vertex: the service-account key file to import.
        #[arg(long)]
        import: Option<PathBuf>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout_seconds: u64,
        /// iflow: a logged-in browser cookie (with BXAuth) to exchange for the API key.
        #[arg(long)]
        cookie: Option<String>,
    },
    /// Refresh the OAuth accounts in auth-dir now (or only --account ID).
    Refresh {
        #[arg(long, short = 'c', env = "SWITCHYARD_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long)]
        account: Option<String>,
    },
}

/// `serve`'s logging (`gateway/src/logs`): the global subscriber, `main.log` with
/// `logging-to-file`, request and error logs; all written off the worker threads. A problem
/// (the logs directory cannot be created) goes to stderr and stops the start-up.
fn init_logging(
    cfg: &switchyard_conf::Config,
    config_path: &std::path::Path,
) -> Option<switchyard_gateway::logs::Logs> {
    match switchyard_gateway::logs::init(cfg, config_path) {
        Ok(logs) => Some(logs),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: logging: {e}");
            None
        }
    }
}

/// Load and validate; on failure print every problem to stderr.
fn load(path: &std::path::Path) -> Option<switchyard_conf::Config> {
    let mut err = std::io::stderr().lock();
    match switchyard_conf::load_file(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                let _ = writeln!(err, "warning: {w}");
            }
            let rt_problems = switchyard_gateway::runtime::Runtime::build(&loaded.config).err();
            if let Some(problems) = rt_problems {
                for p in &problems {
                    let _ = writeln!(err, "error: {p}");
                }
                return None;
            }
            Some(loaded.config)
        }
        Err(problems) => {
            for p in &problems {
                let _ = writeln!(err, "error: {p}");
            }
            let _ = writeln!(err, "{}: {} problem(s)", path.display(), problems.len());
            None
        }
    }
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The config for `login` / `refresh`, with logging set up; problems go to stderr.
fn auth_config(config: Option<&std::path::Path>) -> Option<switchyard_conf::Config> {
    match switchyard_auth::cli::load_config(config) {
        Ok(cfg) => {
            // Interactive commands: their log goes to the terminal, written in place.
            switchyard_gateway::logs::init_terminal(cfg.debug);
            Some(cfg)
        }
        Err(problems) => {
            let _ = writeln!(std::io::stderr(), "{problems}");
            None
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Login {
            provider,
            no_browser,
            callback_port,
            config,
            device,
            project_id,
            import,
            timeout_seconds,
            cookie,
        } => {
            let Some(cfg) = auth_config(config.as_deref()) else {
                return ExitCode::FAILURE;
            };
            let opts = switchyard_auth::login::LoginOptions {
                no_browser,
                callback_port,
                device,
                project_id,
                timeout: std::time::Duration::from_secs(timeout_seconds),
                cookie,
            };
            exit(switchyard_auth::cli::run_login(
                &provider,
                &opts,
                import.as_deref(),
                &cfg,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            ))
        }
        Command::Refresh { config, account } => {
            let Some(cfg) = auth_config(config.as_deref()) else {
                return ExitCode::FAILURE;
            };
            exit(switchyard_auth::cli::run_refresh(
                &cfg,
                account.as_deref(),
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            ))
        }
        Command::CheckConfig { config } => match load(&config) {
            Some(_) => {
                let _ = writeln!(std::io::stdout(), "{}: ok", config.display());
                ExitCode::SUCCESS
            }
            None => ExitCode::FAILURE,
        },
        Command::Probe { url } => match switchyard_gateway::probe::probe(&url) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "probe: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Serve {
            config,
            upgrade,
            upgrade_socket,
        } => {
            let Some(cfg) = load(&config) else {
                return ExitCode::FAILURE;
            };
            let Some(logs) = init_logging(&cfg, &config) else {
                return ExitCode::FAILURE;
            };
            let opts = switchyard_gateway::listen::ServeOptions {
                upgrade,
                upgrade_socket,
            };
            let served = switchyard_gateway::server::serve(&cfg, &config, &opts, logs.clone());
            // What was logged before a start-up error reaches its sink before the error.
            logs.flush();
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
