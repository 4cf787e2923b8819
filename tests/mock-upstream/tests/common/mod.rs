//! Test support: start the mock binary, talk raw HTTP/1.1 to it, parse SSE.
//!
//! The client is a plain `TcpStream` writer/reader on purpose: it sees the chunked framing
//! exactly (one chunk per body frame the mock wrote) and can tell a finished body from a
//! connection that was cut.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support fails by panicking"
)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running mock, killed on drop.
pub struct Mock {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
}

impl Mock {
    /// Starts the binary with extra arguments and waits for its `LISTENING` line.
    pub fn start(args: &[&str]) -> Mock {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard-mock"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn switchyard-mock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .strip_prefix("LISTENING ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim_end()
            .to_owned();
        assert!(
            line.ends_with('\n') && addr.starts_with("127.0.0.1:"),
            "{line:?}"
        );
        Mock { child, addr }
    }

    /// Sends one request on a fresh connection (`Connection: close`) and reads the answer.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut s = self.connect();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
            self.addr
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if method != "GET" || !body.is_empty() {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        read_response(s)
    }

    /// A connection with a read timeout.
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// POSTs JSON with extra headers.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        self.request("POST", path, &h, body.to_string().as_bytes())
    }

    /// GETs a control endpoint and parses the JSON.
    pub fn get_json(&self, path: &str) -> Value {
        let r = self.request("GET", path, &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    /// Installs a schedule.
    pub fn schedule(&self, body: Value) {
        let r = self.post("/_mock/schedule", &[], &body);
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// The journal, optionally of one account.
    pub fn journal(&self, account: Option<&str>) -> Vec<Value> {
        let path = match account {
            Some(a) => format!("/_mock/journal?account={a}"),
            None => "/_mock/journal".to_owned(),
        };
        self.get_json(&path).as_array().unwrap().clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// Chunk payloads in order (empty for `Content-Length` bodies).
    pub chunks: Vec<Vec<u8>>,
    /// The body ended properly (final chunk or full `Content-Length`).
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// SSE events `(event name, data)` of the body.
    pub fn sse(&self) -> Vec<(Option<String>, String)> {
        parse_sse(&self.text())
    }

    /// The data of every SSE event, parsed as JSON (skipping `[DONE]`).
    pub fn sse_json(&self) -> Vec<Value> {
        self.sse()
            .into_iter()
            .filter(|(_, d)| d != "[DONE]")
            .map(|(_, d)| serde_json::from_str(&d).unwrap_or_else(|e| panic!("{e}: {d}")))
            .collect()
    }
}

/// Reads one response; a body cut short gives `complete: false` instead of an error.
pub fn read_response(s: TcpStream) -> Resp {
    let mut r = BufReader::new(s);
    let mut status_line = String::new();
    r.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let mut resp = Resp {
        status,
        headers: headers.clone(),
        body: Vec::new(),
        chunks: Vec::new(),
        complete: false,
    };
    if get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size_line = String::new();
            if r.read_line(&mut size_line).unwrap_or(0) == 0 {
                return resp;
            }
            let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
                return resp;
            };
            if size == 0 {
                let mut crlf = String::new();
                let _ = r.read_line(&mut crlf);
                resp.complete = true;
                return resp;
            }
            let mut chunk = vec![0; size + 2];
            if r.read_exact(&mut chunk).is_err() {
                return resp;
            }
            chunk.truncate(size);
            resp.body.extend_from_slice(&chunk);
            resp.chunks.push(chunk);
        }
    }
    let len: usize = get("content-length").map_or(0, |l| l.parse().unwrap());
    resp.body = vec![0; len];
    resp.complete = r.read_exact(&mut resp.body).is_ok();
    resp
}

/// Splits SSE text into `(event, data)` pairs (`\n` or `\r\n` line ends; multi-line data joined
/// with `\n`; comments skipped).
pub fn parse_sse(text: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut event = None;
    let mut data: Option<String> = None;
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.is_empty() {
            if let Some(d) = data.take() {
                out.push((event.take(), d));
            }
            event = None;
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = Some(value.to_owned()),
            "data" => match data.as_mut() {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    assert!(data.is_none(), "SSE stream ended inside an event");
    out
}

/// The event names of an SSE stream, in order.
pub fn names(events: &[(Option<String>, String)]) -> Vec<String> {
    events
        .iter()
        .map(|(e, _)| e.clone().unwrap_or_default())
        .collect()
}
