//! The gateway's own errors and how each is rendered in the client's protocol.
//!
//! Status, side, body and log label are decided in exhaustive matches (STYLE 7, 8).
//! Constructing an error never logs; the `logging` phase does. 5xx messages stay generic for
//! clients. [`AttemptFailure`] decides, by what failed, whether an upstream attempt moves the
//! request to another account.

use pingora_error::Error;
use serde_json::json;
use switchyard_translators::ir::Protocol;
use switchyard_translators::TranslateError;

/// An error the gateway answers itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("Missing API key")]
    MissingApiKey,
    #[error("Invalid API key")]
    InvalidApiKey,
    #[error("unknown path {0}")]
    NotFound(String),
    #[error("method not allowed for {0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    MalformedBody(String),
    /// Valid content the account's protocol cannot express (a URL document to a Chat
    /// upstream, ...): the client's request, not the gateway, is at fault.
    #[error("this request cannot be sent to the model's upstream: {0}")]
    Untranslatable(#[from] TranslateError),
    #[error("request body has no `model` field")]
    MissingModel,
    #[error("unknown model {0}")]
    UnknownModel(String),
    #[error("model {model} is served only by {upstream} accounts; translating from the {client} API is not available yet")]
    UnsupportedPair {
        model: String,
        client: &'static str,
        upstream: &'static str,
    },
    #[error("request body exceeds the {limit} byte limit")]
    BodyTooLarge { limit: usize },
    /// Every account of the model said it does not serve it (404, or a "model not supported"
    /// 400/422) and is kept off it: the client is told so, with the upstream's own words,
    /// rather than 429 "cooling down" with a Retry-After of hours.
    #[error("{message}")]
    ModelNotServed { model: String, message: String },
    /// Every account of the model is an OAuth login whose refresh token was rejected: nothing
    /// but a new login helps, which the operator must do.
    #[error("every account for model {model} needs a new login ({reason}); run `switchyard login` for its provider")]
    LoginRequired { model: String, reason: String },
    /// More API requests in flight than `max-concurrent-requests`.
    #[error("the gateway is serving its maximum of {limit} requests; retry shortly")]
    Overloaded { limit: u64 },
    /// The requests in flight hold more than `max-in-flight-memory` (docs/limits.md).
    #[error("the gateway's memory budget for requests in flight ({budget_mib} MiB) is used up; retry shortly")]
    OverBudget { budget_mib: u64 },
    /// The request body did not arrive within `client-timeouts.body-seconds`.
    #[error("the request body did not arrive within {secs} seconds")]
    BodyTimeout { secs: u64 },
    #[error("All credentials for model {model} are cooling down")]
    ModelCooldown {
        model: String,
        reset_seconds: u64,
        reset_time: String,
    },
    /// The client went away before the response was complete (logged, never sent).
    #[error("client closed the connection")]
    ClientClosed,
    #[error("upstream unreachable")]
    UpstreamUnreachable,
    #[error("upstream timed out")]
    UpstreamTimeout,
    #[error("internal error")]
    Internal,
}

impl GatewayError {
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingApiKey | Self::InvalidApiKey => 401,
            Self::NotFound(_) | Self::ModelNotServed { .. } => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Forbidden(_) => 403,
            Self::MalformedBody(_)
            | Self::Untranslatable(_)
            | Self::MissingModel
            | Self::UnknownModel(_) => 400,
            Self::UnsupportedPair { .. } => 501,
            Self::BodyTooLarge { .. } => 413,
            Self::BodyTimeout { .. } => 408,
            Self::ModelCooldown { .. } => 429,
            Self::LoginRequired { .. } | Self::Overloaded { .. } | Self::OverBudget { .. } => 503,
            Self::ClientClosed => 499,
            Self::UpstreamUnreachable => 502,
            Self::UpstreamTimeout => 504,
            Self::Internal => 500,
        }
    }

    /// Short label for logs and (later) metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::MissingApiKey => "missing_api_key",
            Self::InvalidApiKey => "invalid_api_key",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Forbidden(_) => "forbidden",
            Self::MalformedBody(_) => "malformed_body",
            Self::Untranslatable(_) => "untranslatable",
            Self::MissingModel => "missing_model",
            Self::UnknownModel(_) | Self::ModelNotServed { .. } => "model_not_found",
            Self::UnsupportedPair { .. } => "unsupported_protocol_pair",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::BodyTimeout { .. } => "request_timeout",
            Self::ModelCooldown { .. } => "model_cooldown",
            Self::LoginRequired { .. } => "login_required",
            Self::Overloaded { .. } | Self::OverBudget { .. } => "overloaded",
            Self::ClientClosed => "client_closed",
            Self::UpstreamUnreachable => "upstream_unreachable",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::Internal => "internal",
        }
    }

    /// OpenAI `type`, Anthropic `error.type`.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::MissingApiKey | Self::InvalidApiKey => {
                ("authentication_error", "authentication_error")
            }
            Self::NotFound(_) | Self::UnknownModel(_) | Self::ModelNotServed { .. } => {
                ("invalid_request_error", "not_found_error")
            }
            Self::Forbidden(_) => ("permission_error", "permission_error"),
            Self::MethodNotAllowed(_)
            | Self::MalformedBody(_)
            | Self::Untranslatable(_)
            | Self::MissingModel
            | Self::BodyTimeout { .. }
            | Self::UnsupportedPair { .. } => ("invalid_request_error", "invalid_request_error"),
            Self::BodyTooLarge { .. } => ("invalid_request_error", "request_too_large"),
            Self::ModelCooldown { .. } => ("rate_limit_error", "rate_limit_error"),
            Self::LoginRequired { .. }
            | Self::Overloaded { .. }
            | Self::OverBudget { .. }
            | Self::ClientClosed
            | Self::UpstreamUnreachable
            | Self::UpstreamTimeout
            | Self::Internal => ("server_error", "api_error"),
        }
    }

    /// OpenAI `code` / `param`.
    fn code_param(&self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            Self::UnknownModel(_) | Self::ModelNotServed { .. } => {
                (Some("model_not_found"), Some("model"))
            }
            Self::MissingModel => (Some("missing_model"), Some("model")),
            Self::MalformedBody(_) => (Some("invalid_json"), None),
            Self::Untranslatable(_) => (Some("unsupported_content"), None),
            Self::BodyTooLarge { .. } => (Some("request_too_large"), None),
            Self::BodyTimeout { .. } => (Some("request_timeout"), None),
            Self::ModelCooldown { .. } => (Some("model_cooldown"), None),
            Self::LoginRequired { .. } => (Some("login_required"), None),
            Self::Overloaded { .. } | Self::OverBudget { .. } => (Some("overloaded"), None),
            Self::UnsupportedPair { .. } => (Some("unsupported_protocol_pair"), Some("model")),
            Self::MissingApiKey | Self::InvalidApiKey => (Some("invalid_api_key"), None),
            Self::NotFound(_) | Self::MethodNotAllowed(_) | Self::Forbidden(_) => (None, None),
            Self::ClientClosed
            | Self::UpstreamUnreachable
            | Self::UpstreamTimeout
            | Self::Internal => (None, None),
        }
    }

    /// Gemini `status` string.
    fn gemini_status(&self) -> &'static str {
        match self {
            Self::MissingApiKey | Self::InvalidApiKey => "UNAUTHENTICATED",
            Self::NotFound(_) | Self::UnknownModel(_) | Self::ModelNotServed { .. } => "NOT_FOUND",
            Self::MethodNotAllowed(_)
            | Self::MalformedBody(_)
            | Self::Untranslatable(_)
            | Self::MissingModel => "INVALID_ARGUMENT",
            Self::UnsupportedPair { .. } => "UNIMPLEMENTED",
            Self::Forbidden(_) => "PERMISSION_DENIED",
            Self::BodyTooLarge { .. } => "INVALID_ARGUMENT",
            Self::BodyTimeout { .. } => "DEADLINE_EXCEEDED",
            Self::ModelCooldown { .. } => "RESOURCE_EXHAUSTED",
            Self::LoginRequired { .. } | Self::Overloaded { .. } | Self::OverBudget { .. } => {
                "UNAVAILABLE"
            }
            Self::ClientClosed => "CANCELLED",
            Self::UpstreamUnreachable => "UNAVAILABLE",
            Self::UpstreamTimeout => "DEADLINE_EXCEEDED",
            Self::Internal => "INTERNAL",
        }
    }

    /// Which side the problem is on.
    pub fn side(&self) -> Side {
        match self {
            Self::MissingApiKey
            | Self::InvalidApiKey
            | Self::NotFound(_)
            | Self::MethodNotAllowed(_)
            | Self::Forbidden(_)
            | Self::MalformedBody(_)
            | Self::Untranslatable(_)
            | Self::MissingModel
            | Self::UnknownModel(_)
            | Self::BodyTooLarge { .. }
            | Self::BodyTimeout { .. }
            | Self::ClientClosed => Side::Client,
            Self::ModelCooldown { .. }
            | Self::ModelNotServed { .. }
            | Self::LoginRequired { .. }
            | Self::Overloaded { .. }
            | Self::OverBudget { .. }
            | Self::UpstreamUnreachable
            | Self::UpstreamTimeout => Side::Upstream,
            Self::UnsupportedPair { .. } | Self::Internal => Side::Gateway,
        }
    }

    /// Whether the same request may succeed if the client sends it again later.
    pub fn retryable(&self) -> bool {
        match self {
            Self::ModelCooldown { .. }
            | Self::Overloaded { .. }
            | Self::OverBudget { .. }
            | Self::UpstreamUnreachable
            | Self::UpstreamTimeout => true,
            Self::MissingApiKey
            | Self::InvalidApiKey
            | Self::NotFound(_)
            | Self::MethodNotAllowed(_)
            | Self::Forbidden(_)
            | Self::MalformedBody(_)
            | Self::Untranslatable(_)
            | Self::MissingModel
            | Self::UnknownModel(_)
            | Self::ModelNotServed { .. }
            | Self::LoginRequired { .. }
            | Self::UnsupportedPair { .. }
            | Self::BodyTooLarge { .. }
            | Self::BodyTimeout { .. }
            | Self::ClientClosed
            | Self::Internal => false,
        }
    }

    /// The error as Pingora carries it out of a phase: `fail_to_proxy` finds it again as the
    /// root cause ([`GatewayError::of`]) and answers with it.
    pub fn into_pingora(self) -> Box<Error> {
        Error::because(
            pingora_error::ErrorType::InternalError,
            "answered by the gateway",
            self,
        )
    }

    /// The gateway error a Pingora error carries, if it carries one.
    pub fn of(e: &Error) -> Option<&GatewayError> {
        e.root_cause().downcast_ref::<GatewayError>()
    }

    /// Seconds for a `Retry-After` header, for errors that have one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::ModelCooldown { reset_seconds, .. } => Some(*reset_seconds),
            Self::Overloaded { .. } | Self::OverBudget { .. } => Some(1),
            _ => None,
        }
    }

    /// The response body in the caller's protocol.
    pub fn body(&self, protocol: Protocol) -> Vec<u8> {
        let message = self.to_string();
        let mut value = match self {
            // CLIProxyAPI's exact 401 bodies, which its users' tooling matches on.
            Self::MissingApiKey | Self::InvalidApiKey => json!({ "error": message }),
            _ => match protocol {
                Protocol::OpenAiChat | Protocol::OpenAiResponses => {
                    let (kind, _) = self.kind();
                    let (code, param) = self.code_param();
                    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
                }
                Protocol::Anthropic => {
                    let (_, kind) = self.kind();
                    json!({"type": "error", "error": {"type": kind, "message": message}})
                }
                Protocol::Gemini => json!({"error": {
                    "code": self.status(), "message": message, "status": self.gemini_status()
                }}),
            },
        };
        // CLIProxyAPI's `model_cooldown` fields, in every protocol's error object.
        if let Self::ModelCooldown {
            model,
            reset_seconds,
            reset_time,
        } = self
        {
            if let Some(obj) = value.get_mut("error").and_then(|e| e.as_object_mut()) {
                if protocol != Protocol::Gemini {
                    obj.insert("code".into(), json!("model_cooldown"));
                }
                obj.insert("model".into(), json!(model));
                obj.insert("reset_seconds".into(), json!(reset_seconds));
                obj.insert("reset_time".into(), json!(reset_time));
            }
        }
        serde_json::to_vec(&value).unwrap_or_default()
    }
}

/// Which side of the gateway a problem is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client's request or connection.
    Client,
    /// The gateway itself (a bug, or a capability it lacks).
    Gateway,
    /// The upstream accounts.
    Upstream,
}

/// What ended an upstream attempt without an answer for the client. Whether the request then
/// moves to another account is decided here, by the failure, and by whether another account
/// may still take it ([`AttemptFailure::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptFailure {
    /// The upstream's (or its proxy's) name did not resolve.
    Resolve,
    /// No connection: nothing reached the upstream.
    Connect,
    /// The upstream answered a status that fails over (or that repeats the account).
    Status,
    /// An in-band error, or a rejected model, before anything reached the client.
    InBand,
    /// The connection to the upstream failed during the exchange.
    Transport,
    /// The client's side failed (it went away); nobody else can answer it.
    Downstream,
}

impl AttemptFailure {
    /// Whether this failure moves the request to another account.
    pub fn fails_over(self) -> bool {
        match self {
            Self::Resolve | Self::Connect | Self::Status | Self::InBand | Self::Transport => true,
            Self::Downstream => false,
        }
    }

    /// Marks `e` retryable when this failure fails over and `another` account may take the
    /// request (one is left, and the client has seen nothing that commits it).
    pub fn mark(self, mut e: Box<Error>, another: bool) -> Box<Error> {
        e.set_retry(self.fails_over() && another);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn parse(e: &GatewayError, p: Protocol) -> Value {
        serde_json::from_slice(&e.body(p)).unwrap()
    }

    #[test]
    fn unknown_model_in_each_protocol() {
        let e = GatewayError::UnknownModel("nope".into());
        assert_eq!(e.status(), 400);
        assert_eq!(
            parse(&e, Protocol::OpenAiChat),
            json!({"error":{"message":"unknown model nope","type":"invalid_request_error","param":"model","code":"model_not_found"}})
        );
        assert_eq!(
            parse(&e, Protocol::Anthropic),
            json!({"type":"error","error":{"type":"not_found_error","message":"unknown model nope"}})
        );
        assert_eq!(
            parse(&e, Protocol::Gemini),
            json!({"error":{"code":400,"message":"unknown model nope","status":"NOT_FOUND"}})
        );
    }

    #[test]
    fn a_gateway_error_survives_the_trip_through_pingora() {
        let e = GatewayError::MissingModel.into_pingora();
        assert_eq!(GatewayError::of(&e), Some(&GatewayError::MissingModel));
        let plain = Error::explain(pingora_error::ErrorType::ConnectRefused, "x");
        assert_eq!(GatewayError::of(&plain), None);
        assert_eq!(GatewayError::MissingModel.side(), Side::Client);
        assert!(GatewayError::UpstreamTimeout.retryable());
    }

    #[test]
    fn attempt_failures_fail_over_only_when_another_account_may_answer() {
        let e = || Error::explain(pingora_error::ErrorType::ConnectRefused, "x");
        assert!(AttemptFailure::Connect.mark(e(), true).retry());
        assert!(!AttemptFailure::Connect.mark(e(), false).retry());
        assert!(!AttemptFailure::Downstream.mark(e(), true).retry());
    }

    #[test]
    fn auth_bodies_match_cliproxyapi() {
        assert_eq!(
            parse(&GatewayError::MissingApiKey, Protocol::Anthropic),
            json!({"error":"Missing API key"})
        );
        assert_eq!(
            parse(&GatewayError::InvalidApiKey, Protocol::Gemini),
            json!({"error":"Invalid API key"})
        );
    }
}
