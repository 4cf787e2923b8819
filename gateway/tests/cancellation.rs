//! A client that goes away mid-stream: the gateway drops the upstream request instead of
//! draining it, for passthrough and translated streams.
//! Run: `cargo build --workspace --bins && cargo test -p switchyard-gateway --test cancellation`
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod harness;
use harness::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// ESTABLISHED TCP connections whose remote port is `port` (the gateway's side of its
/// connections to the mock), from /proc/net/tcp and tcp6.
fn established_to(port: u16) -> usize {
    let mut n = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(rem), Some(state)) = (cols.get(2), cols.get(3)) else {
                continue;
            };
            let rem_port = rem
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if rem_port == Some(port) && *state == "01" {
                n += 1;
            }
        }
    }
    n
}

fn run(path: &str, body: &str, config: &str, mock: &Mock) -> Duration {
    let gw = Gateway::start(config);
    let port: u16 = mock.url().rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(established_to(port), 0);
    let mut s = std::net::TcpStream::connect(&gw.addr).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut first = [0u8; 256];
    let n = s.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(established_to(port), 1, "the upstream stream is in flight");
    let closed_at = Instant::now();
    drop(s);
    // The reply takes 40 chunks x 300 ms = 12 s upstream; the connection must go long before.
    let deadline = closed_at + Duration::from_secs(5);
    while established_to(port) > 0 {
        assert!(
            Instant::now() < deadline,
            "the upstream connection outlived the client by 5 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = closed_at.elapsed();
    eprintln!("{path}: upstream connection closed {took:?} after the client left");
    took
}

#[test]
fn a_client_disconnect_closes_the_upstream_connection() {
    let mock = Mock::start_with(&["--chunk-delay-ms", "300"]);
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let reply = words.join(" ");
    let config = format!(
        "openai-compatibility:\n  - name: m\n    base-url: {}/v1\n    api-key-entries: [{{api-key: solo}}]\n    models: [{{name: om}}]\n",
        mock.url()
    );
    // Same protocol (bytes pass through) and translated (Anthropic client, Chat upstream).
    let chat = format!(
        r#"{{"model":"om","stream":true,"messages":[{{"role":"user","content":"MOCK_REPLY[{reply}]"}}]}}"#
    );
    run("/v1/chat/completions", &chat, &config, &mock);
    let msgs = format!(
        r#"{{"model":"om","stream":true,"max_tokens":100,"messages":[{{"role":"user","content":"MOCK_REPLY[{reply}]"}}]}}"#
    );
    run("/v1/messages", &msgs, &config, &mock);
}
