//! Keyless upstream accounts: OAuth logins, the CLIProxyAPI-compatible token store in
//! `auth-dir`, and the background refresh service.
//!
//! Layout: [`provider`] (the registry and `oauth-overrides`), [`record`] / [`meta`] (one auth
//! file and its control metadata), [`store`] (the directory, atomic 0600 writes), [`login`]
//! (`switchyard login`), [`refresh`] (single-flight refresh with backoff), [`oauth`] (the
//! `oauth2` crate wired to a provider), [`egress`] (the proxy and CA certificates of every
//! outbound call), [`catalog`] (the models each OAuth channel serves). No
//! Pingora; tokio and reqwest for I/O.
//!
//! Tokens never reach a log line or an error message: they live in [`switchyard_conf::Secret`]
//! or in the record's JSON, and errors carry OAuth error codes only.

pub mod catalog;
pub mod cli;
pub mod egress;
mod error;
mod jwt;
pub mod login;
mod meta;
mod naming;
mod oauth;
mod provider;
mod record;
pub mod refresh;
pub mod service_account;
pub mod store;
pub mod timefmt;

pub use error::AuthError;
pub use provider::{Flow, Provider, ProviderId};
pub use record::{AuthRecord, TokenSet};
pub use store::TokenStore;
