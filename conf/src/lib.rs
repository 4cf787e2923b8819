//! Switchyard configuration: `config.yaml` in CLIProxyAPI's key names, parsed strictly,
//! validated with every problem reported at once. No Pingora, no I/O beyond reading the file.
//!
//! Contract: [`load_file`] / [`load_str`] return a validated [`Config`] plus warnings (keys
//! CLIProxyAPI knows that Switchyard does not support yet), or every [`Problem`] found.

mod model;
pub use model::*;
