//! The local Gemini CLI endpoint (`enable-gemini-cli-endpoint: true`): Gemini CLI logged in
//! with Google points its Code Assist endpoint (`CODE_ASSIST_ENDPOINT`) at the gateway, and
//! `POST /v1internal:{generateContent,streamGenerateContent,countTokens}` is served from the
//! pool like a Gemini request for the envelope's `model`, the answer wrapped back.
//!
//! | step | what |
//! |---|---|
//! | admit | the key is on and the caller's address is loopback; else 403 in Gemini's error shape (no API key is asked: Gemini CLI sends its Google token) |
//! | request | the envelope's `request` is the Gemini body, `model` the model; every attempt goes through the IR (the client's bytes are an envelope, never passed through) |
//! | countTokens | answered locally with an estimate, `{"totalTokens": n}` (not wrapped) |
//! | account calls | `loadCodeAssist`, `onboardUser`, quota, experiments, metrics: answered here ([`answer`]) |
//! | response | `{"response": ...}` around a body, around each SSE event of a stream; errors unwrapped |
//!
//! Contract: [`call`], [`admit`] and [`answer`] run in `request_filter`, [`unwrap`] in `prepare` on the
//! pre-read body; the [`answer_envelope`] state wraps the answer last in `response_body_filter`
//! (synchronous).

use crate::channels::codeassist::Rewrap;
use crate::errors::GatewayError;
use crate::protocol::{Endpoint, GeminiMethod};
use bytes::Bytes;
use pingora_http::RequestHeader;
use pingora_proxy::Session;
use switchyard_translators::codeassist::{self as envelope, Direction};

/// What a `/v1internal:<method>` request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// Generation or token count: served from the pool.
    Generate(GeminiMethod),
    /// One of Gemini CLI's account calls, answered here ([`answer`]).
    Account(&'static str),
    /// Not a method Gemini CLI uses, or not a POST.
    Refuse(GatewayError),
}

/// Gemini CLI's account calls (setup, quota, experiments, metrics) that the gateway answers
/// itself: the pool, not the caller's Google account, does the work, and the caller's Google
/// token goes nowhere (CLIProxyAPI forwards them to `cloudcode-pa`; this gateway has no reason
/// to, and works offline).
const ACCOUNT_CALLS: [&str; 7] = [
    "loadCodeAssist",
    "onboardUser",
    "listExperiments",
    "retrieveUserQuota",
    "recordCodeAssistMetrics",
    "fetchAdminControls",
    "getCodeAssistGlobalUserSetting",
];

/// The Code Assist call of a `/v1internal:<method>` request (`None`: another path).
pub fn call(req: &RequestHeader) -> Option<Call> {
    let action = req.uri.path().strip_prefix("/v1internal:")?;
    let path = req.uri.path().to_owned();
    if req.method != http::Method::POST {
        return Some(Call::Refuse(GatewayError::MethodNotAllowed(path)));
    }
    Some(match action {
        "generateContent" => Call::Generate(GeminiMethod::GenerateContent),
        "streamGenerateContent" => Call::Generate(GeminiMethod::StreamGenerateContent),
        "countTokens" => Call::Generate(GeminiMethod::CountTokens),
        other => match ACCOUNT_CALLS.iter().find(|m| **m == other) {
            Some(m) => Call::Account(m),
            None => Call::Refuse(GatewayError::NotFound(path)),
        },
    })
}

/// The gateway's answer to an account call: the caller is set up on a paid tier with the
/// project it names (else `switchyard`); the other calls have nothing to report.
pub fn answer(method: &str, body: &[u8]) -> serde_json::Value {
    let asked: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let project = asked
        .get("cloudaicompanionProject")
        .and_then(|p| p.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("switchyard");
    let tier = serde_json::json!({"id": "standard-tier", "name": "Switchyard", "isDefault": true});
    match method {
        "loadCodeAssist" => serde_json::json!({
            "currentTier": tier, "allowedTiers": [tier], "cloudaicompanionProject": project
        }),
        "onboardUser" => serde_json::json!({
            "name": "operations/switchyard", "done": true,
            "response": {"cloudaicompanionProject": {"id": project, "name": project}}
        }),
        _ => serde_json::json!({}),
    }
}

/// Whether this caller may use the endpoint (`enabled`: `enable-gemini-cli-endpoint`).
pub fn admit(session: &Session, enabled: bool) -> Result<(), GatewayError> {
    if !enabled {
        return Err(GatewayError::Forbidden(
            "the Gemini CLI endpoint is disabled (enable-gemini-cli-endpoint)".into(),
        ));
    }
    let local = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .is_some_and(|a| is_loopback(a.ip()));
    if !local {
        return Err(GatewayError::Forbidden(
            "the Gemini CLI endpoint only serves local callers".into(),
        ));
    }
    Ok(())
}

/// A loopback address, also as an IPv4-mapped IPv6 one (`::ffff:127.0.0.1`, how a dual-stack
/// listener on `[::]` sees an IPv4 loopback caller).
fn is_loopback(ip: std::net::IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// The Gemini body inside the envelope, and the endpoint with the envelope's model.
pub fn unwrap(raw: Bytes, endpoint: Endpoint) -> Result<(Bytes, Endpoint), GatewayError> {
    let Endpoint::Gemini { method, .. } = endpoint else {
        return Ok((raw, endpoint));
    };
    let u =
        envelope::unwrap_request(&raw).map_err(|e| GatewayError::MalformedBody(e.to_string()))?;
    let model = u
        .model
        .filter(|m| !m.is_empty())
        .ok_or(GatewayError::MissingModel)?;
    Ok((Bytes::from(u.request), Endpoint::Gemini { model, method }))
}

/// How an attempt's answer is wrapped for a local caller: around each SSE event of a stream,
/// around the whole body otherwise (a Gemini JSON-array stream too).
pub fn answer_envelope(stream: bool, gemini_array: bool) -> Rewrap {
    Rewrap::new(Direction::Wrap, stream && !gemini_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str) -> RequestHeader {
        RequestHeader::build(method, path.as_bytes(), None).unwrap()
    }

    #[test]
    fn only_loopback_callers_are_local() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        for local in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip(local)), "{local}");
        }
        for remote in [
            "10.0.0.7",
            "192.168.1.2",
            "::ffff:10.0.0.7",
            "fe80::1",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(ip(remote)), "{remote}");
        }
    }

    #[test]
    fn calls_by_path_and_method() {
        assert_eq!(
            call(&req("POST", "/v1internal:streamGenerateContent?alt=sse")),
            Some(Call::Generate(GeminiMethod::StreamGenerateContent))
        );
        assert_eq!(
            call(&req("POST", "/v1internal:loadCodeAssist")),
            Some(Call::Account("loadCodeAssist"))
        );
        assert!(matches!(
            call(&req("GET", "/v1internal:generateContent")),
            Some(Call::Refuse(GatewayError::MethodNotAllowed(_)))
        ));
        assert!(matches!(
            call(&req("POST", "/v1internal:nope")),
            Some(Call::Refuse(GatewayError::NotFound(_)))
        ));
        assert_eq!(call(&req("POST", "/v1beta/models/m:generateContent")), None);
    }

    #[test]
    fn account_answers() {
        let load = answer("loadCodeAssist", br#"{"cloudaicompanionProject":"p"}"#);
        assert_eq!(load["cloudaicompanionProject"], "p");
        assert_eq!(load["currentTier"]["id"], "standard-tier");
        let op = answer("onboardUser", b"{}");
        assert_eq!(op["done"], true);
        assert_eq!(
            op["response"]["cloudaicompanionProject"]["id"],
            "switchyard"
        );
        assert_eq!(answer("listExperiments", b""), serde_json::json!({}));
    }

    #[test]
    fn unwrap_takes_the_envelope_model() {
        let ep = Endpoint::Gemini {
            model: String::new(),
            method: GeminiMethod::GenerateContent,
        };
        let (body, ep) = unwrap(
            Bytes::from_static(br#"{"model":"m","project":"p","request":{"contents":[]}}"#),
            ep,
        )
        .unwrap();
        assert_eq!(&body[..], br#"{"contents":[]}"#);
        assert_eq!(
            ep,
            Endpoint::Gemini {
                model: "m".into(),
                method: GeminiMethod::GenerateContent
            }
        );
    }
}
