//! Switchyard: an LLM API gateway on Pingora. This crate is the Pingora service and the
//! `switchyard` binary; protocol conversion lives in `switchyard-translators`, config in
//! `switchyard-conf`, OAuth accounts in `switchyard-auth`.
//!
//! Modules, bottom to top (each imports only those above it in this list; CI checks that no
//! two import each other, `scripts/modcycles.py`): types (`accounts`, `errors`, `protocol`,
//! `body`, `json_path`, `upstream_proxy`, `dns`, `health`, `affinity`), `payload`,
//! `routing`, `client_auth`, `channels` (one module per provider channel), `runtime`,
//! `failover`, `translate`, `stream_hold`, `outgoing`, observability (`metrics`, `logs`,
//! `usage_stats`, `shared_state`, `shared`), `ctx`, `local_answers`, `gemini_cli_endpoint`, `phases`,
//! `management` (the `/v0/management` API), `proxy`, `reload`, `live_config` (the watched
//! `config.yaml`), and the process around them (`admission`, `listen`, `tls_reload`, `readiness`,
//! `sighup`, `metrics_collect`, `metrics_endpoint`, `probe`, `server`).
//! docs/architecture.md walks a request through them.

mod accounts;
mod admission;
mod affinity;
mod body;
mod channels;
mod client_auth;
mod ctx;
mod dns;
mod errors;
mod failover;
#[doc(hidden)]
pub mod fuzz_hooks;
mod gemini_cli_endpoint;
mod health;
mod in_flight;
mod json_path;
pub mod listen;
mod live_config;
mod local_answers;
pub mod logs;
mod management;
mod metrics;
mod metrics_collect;
mod metrics_endpoint;
mod outgoing;
mod payload;
mod phases;
pub mod probe;
mod protocol;
mod proxy;
mod readiness;
mod reload;
mod response_headers;
mod routing;
pub mod runtime;
pub mod server;
mod shared;
mod shared_state;
mod shutdown;
mod sighup;
mod stream_hold;
mod tls_reload;
mod translate;
mod upstream_proxy;
mod usage_stats;
