#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

//! The RFC 8628 poll loop of `switchyard login` against the mock's scripted device endpoint
//! (`/_auth/device/*`): `authorization_pending` keeps the interval, `slow_down` adds 5 s,
//! `expired_token` ends the login. The sleeper is injected, so the intervals are asserted
//! without waiting for them.
//!
//!     cargo test -p switchyard-mock --test device_slow_down

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_auth::egress::Route;
use switchyard_auth::login::device;
use switchyard_auth::{AuthError, Provider, ProviderId};

struct Mock {
    child: Child,
    addr: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_mock() -> Mock {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard-mock"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().strip_prefix("LISTENING ").unwrap().to_owned();
    Mock { child, addr }
}

fn get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

fn kimi(mock: &Mock, client_id: &str) -> Provider {
    let mut p = Provider::builtin(ProviderId::Kimi);
    p.device_url = format!("http://{}/_auth/device/code", mock.addr);
    p.token_url = format!("http://{}/_auth/device/token", mock.addr);
    p.client_id = client_id.into();
    p
}

type Slept = Arc<Mutex<Vec<Duration>>>;

fn recorder() -> (Slept, impl Fn(Duration) -> std::future::Ready<()>) {
    let slept: Slept = Arc::default();
    let rec = slept.clone();
    (slept, move |d| {
        rec.lock().unwrap().push(d);
        std::future::ready(())
    })
}

#[tokio::test]
async fn slow_down_adds_five_seconds_and_headers_go_with_every_poll() {
    let mock = start_mock();
    let (slept, sleep) = recorder();
    let headers = switchyard_auth::login::kimi::device_headers("dev-123");
    let mut out = Vec::new();
    let t = device::run(
        &kimi(&mock, "slow"),
        false,
        &Route::Direct,
        &headers,
        &mut out,
        sleep,
    )
    .await
    .unwrap();
    assert_eq!(t.access_token.expose(), "at-slow-3");
    // Interval 2 s: pending keeps it, slow_down makes it 7 s, then the tokens.
    assert_eq!(
        *slept.lock().unwrap(),
        [Duration::from_secs(2), Duration::from_secs(7)]
    );
    let journal: serde_json::Value =
        serde_json::from_str(&get(&mock.addr, "/_mock/journal")).unwrap();
    let entries = journal.as_array().unwrap();
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/_auth/device/code",
            "/_auth/device/token",
            "/_auth/device/token",
            "/_auth/device/token"
        ]
    );
    for e in entries {
        assert_eq!(e["headers"]["x-msh-device-id"], "dev-123");
        assert_eq!(e["headers"]["x-msh-platform"], "cli-proxy-api");
    }
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("User code: MOCK-CODE"), "{text}");
}

#[tokio::test]
async fn expired_token_ends_the_login() {
    let mock = start_mock();
    let (slept, sleep) = recorder();
    let mut out = Vec::new();
    let err = device::run(
        &kimi(&mock, "expire"),
        false,
        &Route::Direct,
        &[],
        &mut out,
        sleep,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AuthError::DeviceCodeExpired), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the device code expired before it was approved; nothing was saved"
    );
    assert!(slept.lock().unwrap().is_empty());
}
