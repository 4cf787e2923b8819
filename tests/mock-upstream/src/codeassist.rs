//! Google Code Assist (`cloudcode-pa`) routes: the enveloped Gemini generation endpoints Gemini
//! CLI and Antigravity accounts use, and the onboarding calls of `switchyard login gemini`.
//!
//! | method, path | answer |
//! |---|---|
//! | `POST /v1internal:generateContent` | the Gemini answer for `request` (model from `model`), as `{"response": ...}` |
//! | `POST /v1internal:streamGenerateContent` | the Gemini stream, each SSE `data:` as `{"response": ...}` |
//! | `POST /v1internal:countTokens` | `{"totalTokens": n}` (not wrapped) |
//! | `POST /v1internal:loadCodeAssist` | once onboarded `currentTier` and `cloudaicompanionProject` (the one asked for, else `mock-onboarded-project`), else `allowedTiers` |
//! | `POST /v1internal:onboardUser` | a long-running operation: `done: false` the first time, then `done: true` with the project |
//! | `GET /v1/projects` | Cloud Resource Manager's project list (`mock-project-1`, `mock-project-2`) |
//!
//! The generation routes reuse the Gemini encoders (schedule steps, `MOCK_REPLY`, tools);
//! errors are not wrapped, as Code Assist sends them. Onboarding keeps its state per account
//! (the Bearer token) in memory.

use crate::plan::{Planned, GEMINI_JSON};
use crate::routes::Route;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Mutex;

/// The Gemini route a Code Assist generation request stands for, with the model of its
/// envelope (`None`: not a Code Assist generation path).
pub fn route(method: &http::Method, path: &str, body: Option<&Value>) -> Option<Route> {
    // Any prefix before it: a test can tell two "hosts" on one mock apart by path.
    let (_, action) = path.rsplit_once("/v1internal:")?;
    if method != http::Method::POST {
        return None;
    }
    let envelope_model = body
        .and_then(|b| b.get("model"))
        .and_then(Value::as_str)
        .or_else(|| {
            body.and_then(|b| b.pointer("/request/model"))
                .and_then(Value::as_str)
                .map(|m| m.trim_start_matches("models/"))
        })
        .unwrap_or("")
        .to_owned();
    match action {
        "generateContent" => Some(Route::GeminiGenerate(envelope_model)),
        "streamGenerateContent" => Some(Route::GeminiStream(envelope_model)),
        "countTokens" => Some(Route::GeminiCountTokens(envelope_model)),
        _ => None,
    }
}

/// The Gemini request inside the envelope.
pub fn inner(body: Option<&Value>) -> Option<Value> {
    body?.get("request").cloned()
}

/// Puts a successful generation answer in the envelope.
pub fn wrap(mut planned: Planned, route: &Route) -> Planned {
    if planned.status != 200 || matches!(route, Route::GeminiCountTokens(_)) {
        return planned;
    }
    if planned.stream && planned.content_type.starts_with("text/event-stream") {
        planned.events = planned.events.iter().map(wrap_event).collect();
    } else if !planned.stream {
        let body: Vec<u8> = planned.events.concat();
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            let wrapped = json!({ "response": v, "traceId": "mock-trace" });
            planned.events = vec![Bytes::from(wrapped.to_string())];
        }
    }
    planned
}

/// `data: <json>\r\n\r\n` becomes `data: {"response": <json>}\r\n\r\n`; an `error` element
/// stays as it is.
fn wrap_event(event: &Bytes) -> Bytes {
    let text = String::from_utf8_lossy(event);
    let Some(rest) = text.strip_prefix("data: ") else {
        return event.clone();
    };
    let json_end = rest.find(['\r', '\n']).unwrap_or(rest.len());
    let (data, tail) = rest.split_at(json_end);
    match serde_json::from_str::<Value>(data) {
        Ok(v) if v.get("error").is_none() => {
            let wrapped = json!({ "response": v, "traceId": "mock-trace" });
            Bytes::from(format!("data: {wrapped}{tail}"))
        }
        _ => event.clone(),
    }
}

/// Onboarding state: accounts whose `onboardUser` operation was polled to completion, and
/// those with an operation in progress.
#[derive(Debug, Default)]
pub struct Onboarding {
    inner: Mutex<(HashSet<String>, HashSet<String>)>,
}

/// Answers the onboarding routes (`None`: not one of them).
pub fn onboarding(
    state: &Onboarding,
    method: &http::Method,
    path: &str,
    account: &str,
    body: Option<&Value>,
) -> Option<Planned> {
    let post = method == http::Method::POST;
    let mut guard = state.inner.lock().unwrap_or_else(|e| e.into_inner());
    let (done, pending) = &mut *guard;
    let asked = body
        .and_then(|b| b.get("cloudaicompanionProject"))
        .and_then(Value::as_str)
        .unwrap_or("mock-onboarded-project")
        .to_owned();
    let answer = match path {
        "/v1internal:loadCodeAssist" if post => {
            if done.contains(account) {
                json!({
                    "currentTier": {"id": "free-tier", "name": "Gemini Code Assist for individuals"},
                    "allowedTiers": [{"id": "free-tier", "isDefault": true}],
                    "cloudaicompanionProject": asked
                })
            } else {
                json!({"allowedTiers": [
                    {"id": "free-tier", "isDefault": true, "userDefinedCloudaicompanionProject": false},
                    {"id": "standard-tier", "userDefinedCloudaicompanionProject": true}
                ]})
            }
        }
        "/v1internal:onboardUser" if post => {
            let project = asked;
            if pending.remove(account) {
                done.insert(account.to_owned());
                json!({"name": "operations/onboard-1", "done": true, "response": {
                    "@type": "type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse",
                    "cloudaicompanionProject": {"id": project, "name": project}
                }})
            } else {
                pending.insert(account.to_owned());
                json!({"name": "operations/onboard-1", "done": false})
            }
        }
        "/v1/projects" if method == http::Method::GET => json!({"projects": [
            {"projectId": "mock-project-1", "name": "Mock Project 1", "lifecycleState": "ACTIVE"},
            {"projectId": "mock-project-2", "name": "Mock Project 2", "lifecycleState": "ACTIVE"}
        ]}),
        _ => return None,
    };
    Some(Planned::json(200, GEMINI_JSON, answer.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_events_are_wrapped_and_errors_are_not() {
        let e = wrap_event(&Bytes::from("data: {\"a\":1}\r\n\r\n"));
        assert_eq!(
            e,
            Bytes::from("data: {\"response\":{\"a\":1},\"traceId\":\"mock-trace\"}\r\n\r\n")
        );
        let err = Bytes::from("data: {\"error\":{\"code\":500}}\r\n\r\n");
        assert_eq!(wrap_event(&err), err);
    }

    #[test]
    fn onboarding_takes_two_polls() {
        let s = Onboarding::default();
        let post = http::Method::POST;
        let load = |s: &Onboarding| {
            let p = onboarding(s, &post, "/v1internal:loadCodeAssist", "t", None).unwrap();
            serde_json::from_slice::<Value>(&p.events.concat()).unwrap()
        };
        assert!(load(&s).get("currentTier").is_none());
        let body = json!({"cloudaicompanionProject": "p1"});
        let op = |s: &Onboarding| {
            let p = onboarding(s, &post, "/v1internal:onboardUser", "t", Some(&body)).unwrap();
            serde_json::from_slice::<Value>(&p.events.concat()).unwrap()
        };
        assert_eq!(op(&s)["done"], false);
        assert_eq!(op(&s)["response"]["cloudaicompanionProject"]["id"], "p1");
        assert_eq!(load(&s)["currentTier"]["id"], "free-tier");
    }
}
