//! The `switchyard` command: `serve` runs the gateway, `check-config` reports every problem
//! in a config file.

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
