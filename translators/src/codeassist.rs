//! Google Code Assist envelopes (`cloudcode-pa` `/v1internal:*`, used by Gemini CLI and
//! Antigravity accounts): a Gemini `generateContent` body travels wrapped, both ways.
//!
//! | direction | shape |
//! |---|---|
//! | request (Gemini CLI) | `{"model", "project", "request": <GenerateContentRequest>}` |
//! | request (Antigravity) | `{"model", "userAgent": "antigravity", "requestType": "agent", "project", "requestId", "request": {..., "sessionId"}}`, no `safetySettings` |
//! | request (countTokens) | `{"request": <CountTokensRequest>}` (no model, no project) |
//! | response | `{"response": <GenerateContentResponse>}`; each SSE `data:` of a stream the same |
//! | errors, countTokens answers | not wrapped (Google's `{"error": ...}`, `{"totalTokens": n}`) |
//!
//! Pure; no I/O. Ids (`requestId`, `sessionId`) come in through [`Envelope`], so output is
//! deterministic. Unwrapping leaves anything that is not an envelope unchanged (an error body,
//! an already plain response), so it can run on every body of an enveloped attempt. The stream
//! rewriters ([`StreamRewrap`]) accept any chunk boundary (they run [`SseDecoder`]).

use crate::sse::{encode_event, SseDecoder, SseEvent};
use crate::TranslateError;
use serde_json::{Map, Value};

/// What surrounds one request's Gemini body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The upstream model name.
    pub model: &'a str,
    /// The Google Cloud project the request is billed to.
    pub project: &'a str,
    /// Antigravity's extra fields; `None` for Gemini CLI.
    pub antigravity: Option<AntigravityIds<'a>>,
}

/// Antigravity's per-request ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AntigravityIds<'a> {
    /// `requestId` (Antigravity sends `agent-<uuid>`).
    pub request_id: &'a str,
    /// `request.sessionId` (stable per conversation).
    pub session_id: &'a str,
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, TranslateError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid("the body is not a JSON object".into())),
        Err(e) => Err(invalid(e.to_string())),
    }
}

fn invalid(message: String) -> TranslateError {
    TranslateError::InvalidBody {
        protocol: "Code Assist",
        message,
    }
}

/// Wraps a Gemini `generateContent` body for Code Assist.
pub fn wrap_request(inner: &[u8], env: &Envelope<'_>) -> Result<Vec<u8>, TranslateError> {
    let mut request = parse_object(inner)?;
    // The model is the envelope's; a `model` inside the inner body is not Gemini's shape.
    request.remove("model");
    let mut out = Map::new();
    out.insert("model".into(), Value::from(env.model));
    if let Some(ids) = &env.antigravity {
        request.remove("safetySettings");
        request.insert("sessionId".into(), Value::from(ids.session_id));
        out.insert("userAgent".into(), Value::from("antigravity"));
        out.insert("requestType".into(), Value::from("agent"));
        out.insert("requestId".into(), Value::from(ids.request_id));
    }
    // Antigravity accounts may have no project (the upstream then picks one).
    if !env.project.is_empty() || env.antigravity.is_none() {
        out.insert("project".into(), Value::from(env.project));
    }
    out.insert("request".into(), Value::Object(request));
    serde_json::to_vec(&Value::Object(out)).map_err(|e| invalid(e.to_string()))
}

/// Wraps a Gemini `countTokens` body: `{"request": {"model": "models/<m>", ...}}`, as Gemini
/// CLI sends it.
pub fn wrap_count_tokens(inner: &[u8], model: &str) -> Result<Vec<u8>, TranslateError> {
    let mut request = parse_object(inner)?;
    request.insert("model".into(), Value::from(format!("models/{model}")));
    let mut out = Map::new();
    out.insert("request".into(), Value::Object(request));
    serde_json::to_vec(&Value::Object(out)).map_err(|e| invalid(e.to_string()))
}

/// A request that arrived in a Code Assist envelope (the local `/v1internal:*` endpoint).
#[derive(Debug, Clone, PartialEq)]
pub struct Unwrapped {
    /// The envelope's `model` (countTokens: the inner `model` without `models/`).
    pub model: Option<String>,
    /// The envelope's `project`, if any.
    pub project: Option<String>,
    /// The Gemini body.
    pub request: Vec<u8>,
}

/// Takes a Gemini body out of a Code Assist request envelope.
pub fn unwrap_request(body: &[u8]) -> Result<Unwrapped, TranslateError> {
    let mut outer = parse_object(body)?;
    let mut request = match outer.remove("request") {
        Some(Value::Object(m)) => m,
        _ => return Err(invalid("`request` must be an object".into())),
    };
    let inner_model = match request.remove("model") {
        Some(Value::String(m)) => Some(m.trim_start_matches("models/").to_owned()),
        _ => None,
    };
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let model = text(outer.remove("model")).or(inner_model);
    let project = text(outer.remove("project"));
    let request =
        serde_json::to_vec(&Value::Object(request)).map_err(|e| invalid(e.to_string()))?;
    Ok(Unwrapped {
        model,
        project,
        request,
    })
}

/// The Gemini response inside `{"response": ...}`; any other body unchanged.
pub fn unwrap_response(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut m)) if m.get("response").is_some_and(Value::is_object) => {
            let inner = m.remove("response").unwrap_or_default();
            serde_json::to_vec(&inner).unwrap_or_else(|_| body.to_vec())
        }
        _ => body.to_vec(),
    }
}

/// `{"response": body}` for a JSON object `body`; anything else (an error) unchanged.
pub fn wrap_response(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) if !m.contains_key("error") => {
            let mut out = Map::new();
            out.insert("response".into(), Value::Object(m));
            serde_json::to_vec(&Value::Object(out)).unwrap_or_else(|_| body.to_vec())
        }
        _ => body.to_vec(),
    }
}

/// Which way a [`StreamRewrap`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Upstream Code Assist stream to a plain Gemini SSE stream.
    Unwrap,
    /// Plain Gemini SSE stream to a Code Assist stream (the local endpoint's answers).
    Wrap,
}

/// An SSE stream rewritten event by event: each `data:` JSON is wrapped or unwrapped, other
/// events (`[DONE]`, non-JSON) pass with their data unchanged. Output is re-framed as
/// `data: <json>\n\n` (with `event:` kept), whatever line endings the input used.
#[derive(Debug, Clone)]
pub struct StreamRewrap {
    decoder: SseDecoder,
    direction: Direction,
    events: Vec<SseEvent>,
}

impl StreamRewrap {
    pub fn new(direction: Direction) -> Self {
        Self {
            decoder: SseDecoder::default(),
            direction,
            events: Vec::new(),
        }
    }

    /// Feeds one chunk; complete events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.decoder.feed(chunk, &mut self.events).is_err() {
            // An event past the decoder's bound cannot be rewritten: it is dropped, and the
            // stream translator downstream reports the stream as cut.
            self.decoder = SseDecoder::default();
        }
        self.flush(out);
    }

    /// End of stream: a last event without its blank line is still emitted.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.decoder.finish(&mut self.events);
        self.flush(out);
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        for ev in self.events.drain(..) {
            let data = match self.direction {
                Direction::Unwrap => unwrap_response(ev.data.as_bytes()),
                Direction::Wrap => wrap_response(ev.data.as_bytes()),
            };
            let data = String::from_utf8_lossy(&data);
            encode_event(ev.event.as_deref(), &data, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(b: &[u8]) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn gemini_cli_request_envelope() {
        let inner =
            br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"safetySettings":[]}"#;
        let env = Envelope {
            model: "gemini-2.5-pro",
            project: "proj-1",
            antigravity: None,
        };
        assert_eq!(
            v(&wrap_request(inner, &env).unwrap()),
            json!({"model": "gemini-2.5-pro", "project": "proj-1", "request":
                {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "safetySettings": []}})
        );
    }

    #[test]
    fn antigravity_request_envelope() {
        let inner = br#"{"contents":[],"safetySettings":[{"x":1}]}"#;
        let env = Envelope {
            model: "gemini-3-pro",
            project: "p",
            antigravity: Some(AntigravityIds {
                request_id: "agent-1",
                session_id: "s-1",
            }),
        };
        assert_eq!(
            v(&wrap_request(inner, &env).unwrap()),
            json!({"model": "gemini-3-pro", "userAgent": "antigravity", "requestType": "agent",
                "project": "p", "requestId": "agent-1",
                "request": {"contents": [], "sessionId": "s-1"}})
        );
    }

    #[test]
    fn count_tokens_envelope_names_the_model_inside() {
        let out = wrap_count_tokens(br#"{"contents":[]}"#, "gemini-2.5-flash").unwrap();
        assert_eq!(
            v(&out),
            json!({"request": {"contents": [], "model": "models/gemini-2.5-flash"}})
        );
    }

    #[test]
    fn unwrap_request_takes_model_and_project() {
        let u =
            unwrap_request(br#"{"model":"m","project":"p","request":{"contents":[]}}"#).unwrap();
        assert_eq!(u.model.as_deref(), Some("m"));
        assert_eq!(u.project.as_deref(), Some("p"));
        assert_eq!(v(&u.request), json!({"contents": []}));
        let c = unwrap_request(br#"{"request":{"model":"models/x","contents":[]}}"#).unwrap();
        assert_eq!(c.model.as_deref(), Some("x"));
        assert!(unwrap_request(br#"{"model":"m"}"#).is_err());
        assert!(unwrap_request(b"[]").is_err());
    }

    #[test]
    fn responses_unwrap_and_wrap() {
        let wrapped = br#"{"response":{"candidates":[]},"traceId":"t"}"#;
        assert_eq!(v(&unwrap_response(wrapped)), json!({"candidates": []}));
        let err = br#"{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}"#;
        assert_eq!(unwrap_response(err), err.to_vec());
        assert_eq!(wrap_response(err), err.to_vec());
        assert_eq!(unwrap_response(b"not json"), b"not json".to_vec());
        assert_eq!(
            v(&wrap_response(br#"{"candidates":[]}"#)),
            json!({"response": {"candidates": []}})
        );
    }

    #[test]
    fn stream_unwrap_reframes_each_event() {
        let mut r = StreamRewrap::new(Direction::Unwrap);
        let mut out = Vec::new();
        r.feed(
            b"data: {\"response\":{\"a\":1}}\r\n\r\ndata: {\"resp",
            &mut out,
        );
        assert_eq!(out, b"data: {\"a\":1}\n\n");
        r.feed(b"onse\":{\"b\":2}}", &mut out);
        r.finish(&mut out);
        assert_eq!(out, b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\n");
    }

    #[test]
    fn stream_wrap_keeps_non_json_data() {
        let mut r = StreamRewrap::new(Direction::Wrap);
        let mut out = Vec::new();
        r.feed(b"data: {\"a\":1}\n\ndata: [DONE]\n\n", &mut out);
        r.finish(&mut out);
        assert_eq!(out, b"data: {\"response\":{\"a\":1}}\n\ndata: [DONE]\n\n");
    }
}
