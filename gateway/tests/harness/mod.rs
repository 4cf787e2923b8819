//! Test harness: the real `switchyard` binary on an ephemeral port in front of the real
//! `switchyard-mock` upstream, plus a small HTTP client. Processes are killed on drop.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub struct Mock {
    child: Child,
    pub addr: String,
}

impl Mock {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Self {
        let bin = std::env::var("SWITCHYARD_MOCK_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join("target/debug/switchyard-mock"));
        assert!(
            bin.exists(),
            "mock upstream binary missing at {} (cargo build --workspace --bins)",
            bin.display()
        );
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("LISTENING ")
            .expect("LISTENING line")
            .to_owned();
        Mock { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn journal(&self) -> Vec<Value> {
        let r = request(&self.addr, "GET", "/_mock/journal", &[], b"");
        serde_json::from_slice::<Vec<Value>>(&r.body).unwrap()
    }

    pub fn calls(&self, account: &str) -> usize {
        self.journal()
            .iter()
            .filter(|e| e["account"] == account)
            .count()
    }

    pub fn schedule(&self, account: &str, steps: Value, then: Value) {
        let body = serde_json::json!({"account": account, "steps": steps, "then": then});
        let r = request(
            &self.addr,
            "POST",
            "/_mock/schedule",
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "schedule: {}", r.text());
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Gateway {
    child: Child,
    pub addr: String,
    _dir: tempdir::Dir,
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Gateway {
    /// Start the gateway with `config` (YAML without host/port; they are added here).
    pub fn start(config: &str) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("switchyard-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yaml");
        std::fs::write(
            &path,
            format!("host: 127.0.0.1\nport: {port}\nworkers: 1\n{config}"),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--config"])
            .arg(&path)
            // The default auth-dir (~/.cli-proxy-api) lands in the test's own directory: no
            // OAuth account of the machine joins a test's pool.
            .env("HOME", &dir)
            .env(
                "RUST_LOG",
                "warn,pingora_core::protocols::http::v1::server=error",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let mut gw = Gateway {
            child,
            addr,
            _dir: tempdir::Dir(dir),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = gw.child.try_wait() {
                panic!("gateway exited early: {status}");
            }
            if TcpStream::connect(&gw.addr).is_ok() {
                let r = request(&gw.addr, "GET", "/healthz", &[], b"");
                if r.status == 200 {
                    return gw;
                }
            }
            assert!(Instant::now() < deadline, "gateway did not become healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        request(&self.addr, "POST", path, headers, body)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(&self.addr, "GET", path, headers, b"")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A minimal HTTP/1.1 client: one request per connection, Content-Length or chunked replies.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    let has_len = headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    });
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_len && (method == "POST" || !body.is_empty()) {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head_only: bool) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..nl])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = nl + 2;
        let end = (start + size).min(b.len());
        out.extend_from_slice(&b[start..end]);
        b = &b[(end + 2).min(b.len())..];
    }
}

pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Config lines for one account of each kind on `mock`, with the given client keys.
pub fn four_accounts(mock: &Mock, client_keys: &str) -> String {
    let u = mock.url();
    format!(
        r#"api-keys: {client_keys}
claude-api-key:
  - api-key: acct-claude
    base-url: {u}
    models: [{{name: claude-sonnet-4-5, alias: ""}}]
gemini-api-key:
  - api-key: acct-gemini
    base-url: {u}
    models: [{{name: gemini-2.5-flash, alias: ""}}]
codex-api-key:
  - api-key: acct-codex
    base-url: {u}/v1
    models: [{{name: gpt-5-codex, alias: ""}}]
openai-compatibility:
  - name: mock
    base-url: {u}/v1
    api-key-entries: [{{api-key: acct-oai}}]
    models: [{{name: gpt-4o-mini, alias: ""}}, {{name: gpt-4o-mini, alias: fast}}]
"#
    )
}
