//! `switchyard-mock`: a fake LLM upstream that speaks OpenAI (Chat, Completions, Responses),
//! Anthropic Messages and Gemini at once, for Switchyard's tests and benchmarks.
//!
//! It binds `--listen` (port 0 picks one), prints exactly one line `LISTENING <addr>` on
//! stdout, and serves HTTP/1.1 until killed. The account of a request is its credential
//! ([`routes`]); each account can be given a fault schedule, and every request is journaled
//! ([`control`]). Streams are played event by event with real timing ([`body`]).

mod anthropic;
mod auth_routes;
mod body;
mod codeassist;
mod control;
mod errors;
mod extras;
mod gemini;
mod handler;
mod hold;
mod ids;
mod journal;
mod openai;
mod ordered;
mod plan;
mod reply;
mod routes;
mod schedule;
mod state;
mod tools;

use clap::Parser;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use state::State;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Command-line options.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "switchyard-mock",
    version,
    about = "Mock LLM upstream for Switchyard tests and benchmarks"
)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port (printed as `LISTENING <addr>`).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Milliseconds to wait before sending response headers.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Milliseconds between stream events.
    #[arg(long, default_value_t = 0)]
    pub chunk_delay_ms: u64,
    /// If > 0, every event is additionally written in pieces of this many bytes.
    #[arg(long, default_value_t = 0)]
    pub chunk_size: usize,
    /// Reply text (a request can override it with `MOCK_REPLY[text]` in its body).
    #[arg(long, default_value = "Hello from the mock upstream.")]
    pub reply: String,
    /// Words per delta event.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub words_per_event: usize,
    /// Tokio worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Journal entries kept (oldest dropped); `/_mock/count` stays exact regardless.
    #[arg(long, default_value_t = 100_000)]
    pub journal_max: usize,
}

fn main() -> ExitCode {
    let opts = Options::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = opts.threads {
        builder.worker_threads(n.max(1));
    }
    let result = builder.build().and_then(|rt| rt.block_on(run(opts)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard-mock: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(opts: Options) -> std::io::Result<()> {
    let listener = TcpListener::bind(opts.listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "LISTENING {addr}")?;
        out.flush()?;
    }
    let state = Arc::new(State::new(opts));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                eprintln!("switchyard-mock: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("switchyard-mock: TCP_NODELAY: {e}");
        }
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |req| handler::handle(Arc::clone(&state), req));
            // Connection errors (client gone, dropped streams, released hangs) end only this
            // connection; the mock has nobody to report them to.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
