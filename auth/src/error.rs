//! The auth crate's one error type. Messages are shown to the user by `switchyard login` and
//! logged by the refresh service, so none of them may carry a token: provider responses are
//! reduced to their OAuth `error` code and description, never their body.

use std::time::Duration;
use switchyard_conf::Problem;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the callback's state did not match this login (a stale or forged redirect); nothing was saved")]
    StateMismatch,
    #[error("login cancelled; nothing was saved")]
    Cancelled,
    #[error("login timed out after {}s; nothing was saved", .0.as_secs())]
    TimedOut(Duration),
    #[error("the device code expired before it was approved; nothing was saved")]
    DeviceCodeExpired,
    #[error("the provider refused the login: {0}; nothing was saved")]
    Denied(String),
    /// The token endpoint answered with an OAuth error (`invalid_grant`, ...).
    #[error("the provider rejected the request: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        code: String,
        description: Option<String>,
    },
    #[error("cannot reach the provider: {0}")]
    Transport(String),
    #[error("the provider's answer was not understood: {0}")]
    Protocol(String),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen for the login callback on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("cannot write the token file {path}: {source}")]
    Store {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not supported yet")]
    Unsupported(String),
    /// `config.yaml` did not load (`switchyard login` / `refresh`): every problem with its
    /// path, shown one `error: <path>: <message>` line each.
    #[error("{}", config_lines(.0))]
    ConfigFile(Vec<Problem>),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

fn config_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("error: {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl AuthError {
    /// True for an OAuth `invalid_grant`: the refresh token is dead and only a new login helps.
    pub fn is_invalid_grant(&self) -> bool {
        match self {
            AuthError::Rejected { code, .. } => code == "invalid_grant",
            AuthError::StateMismatch
            | AuthError::Cancelled
            | AuthError::TimedOut(_)
            | AuthError::DeviceCodeExpired
            | AuthError::Denied(_)
            | AuthError::Transport(_)
            | AuthError::Protocol(_)
            | AuthError::Config(_)
            | AuthError::Listen { .. }
            | AuthError::Store { .. }
            | AuthError::Unsupported(_)
            | AuthError::ConfigFile(_)
            | AuthError::Runtime(_) => false,
        }
    }
}
