//! `Capture`: one request's exchange (the client's request, each upstream attempt's request
//! and response, the response sent to the client) kept for a request log or an error log, and
//! its rendering in CLIProxyAPI's sections.
//!
//! Contract: the request context owns one `Capture`, from `Logs::capture`; the phases call its
//! methods on the worker thread that serves the request (copies only, no formatting, no
//! redaction), and the `logging` phase hands it to `Logs::exchange`, which renders and writes
//! it on the log writer thread. Memory: each body is kept up to [`BODY_CAP`] (1 MiB), the
//! rest counted; at most [`MAX_ATTEMPTS`] attempts. With `request-log` off (an error log is
//! written only if the request fails) a body of a 2xx response is not kept at all, so a
//! successful stream costs no copy of what it sends.

use super::clock::Utc;
use super::redact;
use pingora_http::{RequestHeader, ResponseHeader};
use std::fmt::Write as _;
use std::time::SystemTime;

/// The most of one body a capture keeps.
pub const BODY_CAP: usize = 1 << 20;
/// Attempts past this many are not captured.
pub const MAX_ATTEMPTS: usize = 16;

/// A body kept up to a cap; past it, only the count of bytes not kept.
#[derive(Debug, Default)]
struct Kept {
    data: Vec<u8>,
    skipped: u64,
}

impl Kept {
    fn push(&mut self, chunk: &[u8]) {
        let room = BODY_CAP.saturating_sub(self.data.len());
        let take = room.min(chunk.len());
        self.data.extend_from_slice(&chunk[..take]);
        self.skipped += (chunk.len() - take) as u64;
    }

    fn skip(&mut self, chunk: &[u8]) {
        self.skipped += chunk.len() as u64;
    }

    fn render(&self, out: &mut String) {
        if self.data.is_empty() && self.skipped == 0 {
            out.push_str("(empty)\n");
            return;
        }
        let body = String::from_utf8_lossy(&self.data);
        out.push_str(&redact::text(&body));
        if !body.ends_with('\n') {
            out.push('\n');
        }
        if self.skipped > 0 {
            let _ = writeln!(out, "[... {} bytes not kept]", self.skipped);
        }
    }
}

/// A request head, copied (header values as lossy UTF-8; redacted when rendered).
#[derive(Debug)]
struct RequestHead {
    method: String,
    uri: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl RequestHead {
    fn of(req: &RequestHeader) -> RequestHead {
        RequestHead {
            method: req.method.to_string(),
            uri: req.uri.to_string(),
            version: format!("{:?}", req.version),
            headers: headers(&req.headers),
        }
    }
}

#[derive(Debug)]
struct ResponseHead {
    status: u16,
    headers: Vec<(String, String)>,
}

impl ResponseHead {
    fn of(resp: &ResponseHeader) -> ResponseHead {
        ResponseHead {
            status: resp.status.as_u16(),
            headers: headers(&resp.headers),
        }
    }
}

fn headers(map: &http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn render_headers(out: &mut String, headers: &[(String, String)]) {
    for (name, value) in headers {
        let _ = writeln!(out, "{name}: {}", redact::header_value(name, value));
    }
}

#[derive(Debug, Default)]
struct Attempt {
    request: Option<RequestHead>,
    request_body: Kept,
    response: Option<ResponseHead>,
    response_body: Kept,
}

/// One request's exchange, as the phases saw it.
#[derive(Debug)]
pub struct Capture {
    started: SystemTime,
    /// `request-log` on: keep every body; off: keep response bodies of failures only.
    full: bool,
    client: Option<RequestHead>,
    client_body: Kept,
    attempts: Vec<Attempt>,
    response: Option<ResponseHead>,
    response_body: Kept,
}

impl Capture {
    pub(super) fn new(full: bool) -> Capture {
        Capture {
            started: SystemTime::now(),
            full,
            client: None,
            client_body: Kept::default(),
            attempts: Vec::new(),
            response: None,
            response_body: Kept::default(),
        }
    }

    /// The client's request as received (before any rewrite) and its body (or what of it is
    /// read so far; call again with the rest: bodies append).
    pub fn client_request(&mut self, req: &RequestHeader, body: &[u8]) {
        if self.client.is_none() {
            self.client = Some(RequestHead::of(req));
        }
        self.client_body.push(body);
    }

    fn attempt(&mut self, attempt: usize) -> Option<&mut Attempt> {
        if attempt >= MAX_ATTEMPTS {
            return None;
        }
        if self.attempts.len() <= attempt {
            self.attempts.resize_with(attempt + 1, Attempt::default);
        }
        self.attempts.get_mut(attempt)
    }

    /// Attempt `attempt` (0-based) as sent upstream: the rewritten head and body.
    pub fn upstream_request(&mut self, attempt: usize, req: &RequestHeader, body: &[u8]) {
        if let Some(a) = self.attempt(attempt) {
            a.request = Some(RequestHead::of(req));
            a.request_body.push(body);
        }
    }

    /// The response head of attempt `attempt`.
    pub fn upstream_response(&mut self, attempt: usize, resp: &ResponseHeader) {
        if let Some(a) = self.attempt(attempt) {
            a.response = Some(ResponseHead::of(resp));
        }
    }

    /// A chunk of attempt `attempt`'s response body, as received (before translation).
    pub fn upstream_body(&mut self, attempt: usize, chunk: &[u8]) {
        let full = self.full;
        if let Some(a) = self.attempt(attempt) {
            if full || failure(a.response.as_ref()) {
                a.response_body.push(chunk);
            } else {
                a.response_body.skip(chunk);
            }
        }
    }

    /// The response head sent to the client.
    pub fn client_response(&mut self, resp: &ResponseHeader) {
        self.response = Some(ResponseHead::of(resp));
    }

    /// A chunk of the response body sent to the client.
    pub fn client_body(&mut self, chunk: &[u8]) {
        if self.full || failure(self.response.as_ref()) {
            self.response_body.push(chunk);
        } else {
            self.response_body.skip(chunk);
        }
    }

    /// When the capture began (the request log's name and `Timestamp`).
    pub(super) fn started(&self) -> SystemTime {
        self.started
    }

    /// The log file's text, redacted (on the writer thread).
    pub(super) fn render(&self, request_id: &str, status: u16, failed: bool) -> String {
        let mut out = String::with_capacity(4096 + self.client_body.data.len());
        let empty = RequestHead {
            method: String::new(),
            uri: String::new(),
            version: String::new(),
            headers: Vec::new(),
        };
        let client = self.client.as_ref().unwrap_or(&empty);
        out.push_str("=== REQUEST INFO ===\n");
        let _ = writeln!(out, "Version: switchyard {}", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(out, "URL: {}", redact::uri(&client.uri));
        let _ = writeln!(out, "Method: {}", client.method);
        let _ = writeln!(out, "Request ID: {request_id}");
        let _ = writeln!(
            out,
            "Timestamp: {}",
            Utc::from(self.started).rfc3339_millis()
        );
        let _ = writeln!(out, "Status: {status}");
        let _ = writeln!(out, "Failed: {failed}");
        out.push_str("\n=== HEADERS ===\n");
        render_headers(&mut out, &client.headers);
        out.push_str("\n=== REQUEST BODY ===\n");
        self.client_body.render(&mut out);
        for (i, a) in self.attempts.iter().enumerate() {
            let n = i + 1;
            let _ = writeln!(out, "\n=== API REQUEST {n} ===");
            if let Some(req) = &a.request {
                let _ = writeln!(
                    out,
                    "{} {} {}",
                    req.method,
                    redact::uri(&req.uri),
                    req.version
                );
                render_headers(&mut out, &req.headers);
                out.push('\n');
            }
            a.request_body.render(&mut out);
            let title = if failure(a.response.as_ref()) {
                "API ERROR RESPONSE"
            } else {
                "API RESPONSE"
            };
            let _ = writeln!(out, "\n=== {title} {n} ===");
            match &a.response {
                Some(resp) => {
                    let _ = writeln!(out, "Status: {}", resp.status);
                    render_headers(&mut out, &resp.headers);
                }
                None => out.push_str("Status: (no response)\n"),
            }
            out.push('\n');
            a.response_body.render(&mut out);
        }
        out.push_str("\n=== RESPONSE ===\n");
        match &self.response {
            Some(resp) => {
                let _ = writeln!(out, "Status: {}", resp.status);
                render_headers(&mut out, &resp.headers);
            }
            None => out.push_str("Status: (none sent)\n"),
        }
        out.push('\n');
        self.response_body.render(&mut out);
        out
    }
}

/// No response yet, or a status that is not 2xx/3xx.
fn failure(resp: Option<&ResponseHead>) -> bool {
    resp.is_none_or(|r| r.status >= 400)
}
