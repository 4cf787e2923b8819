//! Switchyard configuration: `config.yaml` in CLIProxyAPI's key names, parsed strictly,
//! validated with every problem reported at once. No Pingora, no I/O beyond reading the file
//! (and checking that TLS certificate files exist when TLS is enabled).
//!
//! Contract: [`load_file`] / [`load_str`] return a validated [`Config`] plus warnings (keys
//! CLIProxyAPI knows that Switchyard does not support yet), or every [`Problem`] found.
//!
//! [`edit`] changes one node of a `config.yaml` text and keeps the rest of it (the
//! management API's writes).
//!
//! Pipeline: `parse.rs` (YAML text to an order-preserving [`node`] tree) → `top.rs` and
//! `accounts.rs` (walk the tree against the key table in `schema.rs`, with the typed getters
//! of `walk.rs` and the value checks of `values.rs`) → [`Config`] from `model.rs`.

mod accounts;
pub mod edit;
mod error;
mod model;
mod node;
mod oauth;
mod oauth_models;
mod parse;
mod payload;
mod proxy;
mod redact;
mod schema;
mod top;
mod values;
mod walk;

pub use error::{ConfError, ProxyCredentialPart};
pub use model::*;
pub use oauth::OAUTH_PROVIDERS;
pub use proxy::{parse_proxy_url, ProxyCredentials, ProxyScheme, ProxySetting, ProxyUrl};

use std::path::Path;

/// A successfully loaded configuration and the warnings to log at startup.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    /// Keys accepted but ignored (known to CLIProxyAPI, not supported by Switchyard yet), in
    /// file order.
    pub warnings: Vec<Problem>,
}

/// Parses and validates a `config.yaml` document. On failure every error is returned, in file
/// order (warnings are dropped: fix the errors first).
pub fn load_str(yaml: &str) -> Result<Loaded, Vec<Problem>> {
    let root = parse::parse_yaml(yaml).map_err(|p| vec![p])?;
    let mut walker = walk::Walker::default();
    let config = top::build(&root, &mut walker);
    if walker.errors.is_empty() {
        Ok(Loaded {
            config,
            warnings: walker.warnings,
        })
    } else {
        Err(walker.errors)
    }
}

/// Reads and loads `path` (see [`load_str`]). A read failure is one problem with an empty path.
pub fn load_file(path: &Path) -> Result<Loaded, Vec<Problem>> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&text),
        Err(e) => Err(vec![Problem {
            path: String::new(),
            message: format!("cannot read {}: {e}", path.display()),
        }]),
    }
}

#[cfg(test)]
mod schema_tests;
