//! The `switchyard` command: `serve` runs the gateway, `check-config` reports every problem
//! in a config file, `login <provider>` adds an OAuth account to `auth-dir`, `refresh`
//! refreshes the OAuth accounts there now (logic for both in `switchyard_auth::cli`).

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "switchyard", version, about = "LLM API gateway on Pingora")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        #[arg(long, short = 'c', default_value = "config.yaml")]
        config: PathBuf,
    },
    /// Print every problem in a config file; exit non-zero if there is one.
    CheckConfig {
        #[arg(long, short = 'c', default_value = "config.yaml")]
        config: PathBuf,
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
        #[arg(long, short = 'c')]
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
        #[arg(long, short = 'c')]
        config: Option<PathBuf>,
        #[arg(long)]
        account: Option<String>,
    },
}

fn init_logging(debug: bool) {
    // A failover after a held stream's header went out makes Pingora warn that the next
    // attempt's header is ignored: expected (docs/failover.md), so that module logs errors only.
    let default = if debug {
        "debug,pingora_core::protocols::http::v1::server=error"
    } else {
        "info,pingora_core::protocols::http::v1::server=error"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // `init` also installs the `log` bridge, so Pingora's log records reach tracing.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
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
            init_logging(cfg.debug);
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
        Command::Serve { config } => {
            let Some(cfg) = load(&config) else {
                return ExitCode::FAILURE;
            };
            init_logging(cfg.debug);
            match switchyard_gateway::server::serve(&cfg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
