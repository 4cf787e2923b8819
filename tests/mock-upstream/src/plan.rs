//! A planned response (status, headers, events) and the SSE framing helpers the encoders use.
//!
//! Encoders return a [`Planned`]; the handler adds pacing and turns it into a hyper response.
//! Streams go out chunked (no `Content-Length`), whole bodies with one.

use crate::body::{PacedBody, Pacing};
use bytes::Bytes;
use hyper::Response;

/// `Content-Type` of SSE streams.
pub const SSE: &str = "text/event-stream";
/// `Content-Type` of OpenAI and Anthropic JSON.
pub const JSON: &str = "application/json";
/// `Content-Type` Gemini sends for JSON (bodies and non-SSE streams).
pub const GEMINI_JSON: &str = "application/json; charset=UTF-8";

/// A response before pacing.
#[derive(Debug)]
pub struct Planned {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body, one element per event.
    pub events: Vec<Bytes>,
    /// Chunked (a stream) rather than one body with `Content-Length`.
    pub stream: bool,
    /// Cut the connection after this many events.
    pub abort_after: Option<usize>,
}

impl Planned {
    /// A whole JSON body.
    pub fn json(status: u16, content_type: &'static str, body: String) -> Self {
        Planned {
            status,
            content_type,
            headers: Vec::new(),
            events: vec![Bytes::from(body)],
            stream: false,
            abort_after: None,
        }
    }

    /// A 200 stream.
    pub fn stream(content_type: &'static str, events: Vec<Bytes>) -> Self {
        Planned {
            status: 200,
            content_type,
            headers: Vec::new(),
            events,
            stream: true,
            abort_after: None,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Makes the response stop after `n` events without ending the body. A whole body is cut
    /// in half and sent chunked (so `n` = 0 sends only the headers, `n` >= 1 half the body).
    pub fn drop_after(mut self, n: usize) -> Self {
        if !self.stream {
            let body: Bytes = self.events.concat().into();
            self.events = vec![body.slice(..body.len() / 2)];
            self.stream = true;
        }
        self.abort_after = Some(n.min(self.events.len()));
        self
    }

    /// The hyper response, with `delay` between events and `chunk_size`-byte frames.
    pub fn into_response(self, pacing: Pacing) -> Response<PacedBody> {
        let pacing = Pacing {
            abort_after: self.abort_after,
            ..pacing
        };
        let mut builder = Response::builder()
            .status(self.status)
            .header("content-type", self.content_type);
        if self.content_type == SSE {
            builder = builder.header("cache-control", "no-cache");
        }
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        let body = PacedBody::new(self.events, pacing, !self.stream);
        builder.body(body).unwrap_or_else(|_| {
            // Only reachable with a header value that is not valid; answer plainly.
            let mut r = Response::new(PacedBody::empty());
            *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

/// `data: {json}\n\n` (OpenAI Chat).
pub fn data_event(json: &str) -> Bytes {
    Bytes::from(format!("data: {json}\n\n"))
}

/// `event: {name}\ndata: {json}\n\n` (Anthropic, OpenAI Responses).
pub fn named_event(name: &str, json: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// `data: {json}\r\n\r\n` (Gemini `alt=sse`).
pub fn crlf_data_event(json: &str) -> Bytes {
    Bytes::from(format!("data: {json}\r\n\r\n"))
}

/// Gemini's non-SSE stream: a JSON array written element by element,
/// `[{..}\n` then `,\r\n{..}\n` for each further element, and `]` with the last.
pub fn json_array_events(elements: &[String]) -> Vec<Bytes> {
    let last = elements.len().saturating_sub(1);
    let mut out: Vec<Bytes> = elements
        .iter()
        .enumerate()
        .map(|(i, el)| {
            let sep = if i == 0 { "[" } else { ",\r\n" };
            let end = if i == last { "\n]" } else { "\n" };
            Bytes::from(format!("{sep}{el}{end}"))
        })
        .collect();
    if out.is_empty() {
        out.push(Bytes::from_static(b"[]"));
    }
    out
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn gemini_array_is_json() {
        let els = vec!["{\n  \"a\": 1\n}".to_owned(), "{\n  \"a\": 2\n}".to_owned()];
        let joined = json_array_events(&els).concat();
        let v: serde_json::Value = serde_json::from_slice(&joined).unwrap();
        assert_eq!(v[1]["a"], 2);
        assert!(joined.starts_with(b"[{") && joined.ends_with(b"}\n]"));
    }

    #[test]
    fn drop_on_whole_body_halves_it() {
        let p = Planned::json(200, JSON, "0123456789".into()).drop_after(3);
        assert_eq!(p.events.concat(), b"01234");
        assert_eq!(p.abort_after, Some(1));
        assert!(p.stream);
    }
}
