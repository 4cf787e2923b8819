//! Fault schedules, the journal, request bodies of any size and framing options.

mod common;

use common::{names, read_response, Mock};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::time::{Duration, Instant};

fn chat(mock: &Mock, key: &str, stream: bool) -> common::Resp {
    let auth = format!("Bearer {key}");
    mock.post(
        "/v1/chat/completions",
        &[("authorization", &auth)],
        &json!({"model": "m", "stream": stream}),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn status_steps_then_ok_and_then_forever() {
    let mock = Mock::start(&[]);
    mock.schedule(json!({"account": "k1", "steps": [{"status": 429, "retry_after": "2"}]}));
    let r = chat(&mock, "k1", false);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    let e = r.json();
    assert_eq!(e["error"]["code"], "rate_limit_exceeded");
    assert!(e["error"]["message"].is_string() && e["error"].get("type").is_some());
    assert_eq!(
        chat(&mock, "k1", false).status,
        200,
        "steps ran out: then = ok"
    );
    assert_eq!(
        chat(&mock, "other", false).status,
        200,
        "other accounts unaffected"
    );

    // `then` as a step repeats forever; a custom body replaces the default.
    mock.schedule(json!({"account": "k2", "steps": ["ok"], "then": {"status": 503, "body": {"custom": true}}}));
    assert_eq!(chat(&mock, "k2", false).status, 200);
    for _ in 0..3 {
        let r = chat(&mock, "k2", true);
        assert_eq!(r.status, 503);
        assert_eq!(r.json(), json!({"custom": true}));
    }
    let outcomes: Vec<Value> = mock
        .journal(Some("k2"))
        .iter()
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            json!("ok"),
            json!("status:503"),
            json!("status:503"),
            json!("status:503")
        ]
    );
    assert_eq!(
        mock.get_json("/_mock/count?account=k2"),
        json!({"count": 4})
    );
    assert_eq!(mock.get_json("/_mock/count"), json!({"count": 7}));

    // Error shapes follow the protocol of the path.
    mock.schedule(json!({"account": "a", "steps": [{"status": 429}, {"status": 529}]}));
    let r = mock.post(
        "/v1/messages",
        &[("x-api-key", "a")],
        &json!({"model": "c"}),
    );
    let e = r.json();
    assert_eq!(
        (e["type"].as_str(), e["error"]["type"].as_str()),
        (Some("error"), Some("rate_limit_error"))
    );
    let e = mock
        .post(
            "/v1/messages",
            &[("x-api-key", "a")],
            &json!({"model": "c"}),
        )
        .json();
    assert_eq!(e["error"]["type"], "overloaded_error");
    mock.schedule(json!({"account": "g", "steps": [{"status": 429}]}));
    let e = mock
        .post("/v1beta/models/x:generateContent?key=g", &[], &json!({}))
        .json();
    assert_eq!(
        e["error"],
        json!({"code": 429, "message": e["error"]["message"], "status": "RESOURCE_EXHAUSTED"})
    );

    // Invalid schedules are refused with a reason; reset clears schedules and journal.
    let r = mock.post(
        "/_mock/schedule",
        &[],
        &json!({"account": "x", "steps": [{"status": "soon"}]}),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("status"));
    mock.schedule(json!({"account": "k3", "then": {"status": 500}}));
    assert_eq!(mock.post("/_mock/reset", &[], &json!({})).status, 200);
    assert!(mock.journal(None).is_empty());
    assert_eq!(chat(&mock, "k3", false).status, 200);
    assert_eq!(mock.journal(None)[0]["seq"], 1);
}

#[test]
fn inband_errors_per_protocol() {
    let mock = Mock::start(&[]);
    mock.schedule(json!({"account": "k", "then": {"inband_error": "overloaded"}}));
    let key = [("x-api-key", "k")];

    let r = mock.post("/v1/messages", &key, &json!({"model": "c", "stream": true}));
    assert_eq!(r.status, 200);
    let ev = r.sse();
    assert_eq!(names(&ev)[0], "error");
    let d: Value = serde_json::from_str(&ev[0].1).unwrap();
    assert_eq!(
        (d["type"].as_str(), d["error"]["type"].as_str()),
        (Some("error"), Some("overloaded_error"))
    );

    let r = mock.post(
        "/v1/responses",
        &key,
        &json!({"model": "r", "stream": true}),
    );
    let ev = r.sse();
    assert_eq!(
        names(&ev),
        [
            "response.created",
            "response.in_progress",
            "response.failed"
        ]
    );
    let data = r.sse_json();
    let d = &data[2];
    assert_eq!(d["sequence_number"], 2);
    assert_eq!(d["response"]["id"], data[0]["response"]["id"]);
    assert_eq!(d["response"]["status"], "failed");
    assert_eq!(d["response"]["error"]["code"], "server_is_overloaded");

    let r = mock.post(
        "/v1/chat/completions",
        &key,
        &json!({"model": "m", "stream": true}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.sse_json()[0]["error"]["code"], "server_is_overloaded");

    let r = mock.post(
        "/v1beta/models/g:streamGenerateContent?alt=sse",
        &key,
        &json!({}),
    );
    assert_eq!(r.sse_json()[0]["error"]["status"], "UNAVAILABLE");
    let r = mock.post("/v1beta/models/g:streamGenerateContent", &key, &json!({}));
    let arr: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(arr[0]["error"]["code"], 503);

    // Non-stream requests get the HTTP error instead.
    let r = mock.post("/v1/messages", &key, &json!({"model": "c"}));
    assert_eq!(r.status, 529);
    let outcomes: Vec<String> = mock
        .journal(Some("k"))
        .iter()
        .map(|e| e["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        outcomes,
        [
            "inband_error",
            "inband_error",
            "inband_error",
            "inband_error",
            "inband_error",
            "status:529"
        ]
    );
}

#[test]
fn drop_after_events_cuts_the_connection() {
    let mock = Mock::start(&[]);
    mock.schedule(json!({"account": "d", "steps": [{"drop_after_events": 3}, {"drop_after_events": 0}, {"drop_after_events": 1}]}));
    let r = mock.post(
        "/v1/messages",
        &[("x-api-key", "d")],
        &json!({"model": "c", "stream": true}),
    );
    assert_eq!(r.status, 200);
    assert!(!r.complete, "no final chunk");
    assert_eq!(
        names(&common::parse_sse(&r.text())),
        ["message_start", "content_block_start", "ping"]
    );
    assert_eq!(r.chunks.len(), 3);

    let r = mock.post(
        "/v1/responses",
        &[("x-api-key", "d")],
        &json!({"model": "r", "stream": true}),
    );
    assert!(!r.complete && r.body.is_empty());

    // A whole body is cut in half.
    let r = mock.post(
        "/v1/chat/completions",
        &[("x-api-key", "d")],
        &json!({"model": "m"}),
    );
    assert!(!r.complete);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err() && !r.body.is_empty());
    let outcomes: Vec<Value> = mock
        .journal(Some("d"))
        .iter()
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("drop"), json!("drop"), json!("drop")]);
    assert_eq!(chat(&mock, "d", true).status, 200);
}

#[test]
fn delay_and_hang_steps() {
    let mock = Mock::start(&["--latency-ms", "30"]);
    mock.schedule(json!({"account": "s", "steps": [{"delay_ms": 200}, {"hang": true}]}));
    let start = Instant::now();
    assert_eq!(chat(&mock, "s", false).status, 200);
    assert!(start.elapsed() >= Duration::from_millis(230));

    // The hung request is journaled, never answered, and released (connection closed) by reset.
    let mut conn = mock.connect();
    conn.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer s\r\ncontent-length: 2\r\n\r\n{}")
        .unwrap();
    let mut waited = 0;
    while mock.get_json("/_mock/count?account=s")["count"] != 2 {
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
        assert!(waited < 500, "hung request never journaled");
    }
    assert_eq!(mock.journal(Some("s"))[1]["outcome"], "hang");
    conn.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 1];
    let err = std::io::Read::read(&mut conn, &mut buf).unwrap_err();
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    mock.post("/_mock/reset", &[], &json!({}));
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        std::io::Read::read(&mut conn, &mut buf).unwrap_or(0),
        0,
        "closed without an answer"
    );
}

#[test]
fn journal_records_every_field() {
    let mock = Mock::start(&[]);
    let mut body = vec![b' '; 1 << 20];
    let head = br#"{"model":"big-model","stream":true,"x":""#;
    body[..head.len()].copy_from_slice(head);
    body[(1 << 20) - 2..].copy_from_slice(b"\"}");
    let r = mock.request(
        "POST",
        "/v1/messages?beta=true",
        &[
            ("x-api-key", "acct-1"),
            ("X-Custom", "Yes"),
            ("content-type", "application/json"),
        ],
        &body,
    );
    assert_eq!(r.status, 200);
    mock.post(
        "/v1beta/models/gem-1:countTokens?key=gk",
        &[],
        &json!({"contents": []}),
    );
    mock.request("GET", "/v1/models", &[], b"");

    let j = mock.journal(None);
    assert_eq!(j.len(), 3);
    let e = &j[0];
    assert_eq!(e["seq"], 1);
    assert_eq!(e["account"], "acct-1");
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/v1/messages");
    assert_eq!(e["query"], "beta=true");
    assert_eq!(e["headers"]["x-custom"], "Yes");
    assert_eq!(e["headers"]["x-api-key"], "acct-1");
    assert_eq!(e["body_len"], 1 << 20);
    assert_eq!(e["body_sha256"], hex(&Sha256::digest(&body)));
    assert_eq!(e["model"], "big-model");
    assert_eq!(e["stream"], true);
    assert_eq!(e["outcome"], "ok");
    assert!(e["body"].is_null(), "bodies over 64 KiB are not kept");
    assert_eq!(
        (j[1]["seq"].as_u64(), j[1]["account"].as_str()),
        (Some(2), Some("gk"))
    );
    assert_eq!(j[1]["model"], "gem-1");
    assert_eq!(j[1]["body"], json!({"contents": []}).to_string());
    assert_eq!(j[1]["stream"], false);
    assert_eq!(
        (j[2]["account"].as_str(), j[2]["model"].is_null()),
        (Some(""), true)
    );
    assert_eq!(mock.journal(Some("gk")).len(), 1);
    assert_eq!(mock.get_json("/_mock/count?account="), json!({"count": 1}));
    assert_eq!(
        mock.get_json("/_mock/count?account=nobody"),
        json!({"count": 0})
    );
}

#[test]
fn ten_mib_chunked_upload() {
    let mock = Mock::start(&[]);
    let body: Vec<u8> = {
        let mut b = br#"{"model":"m","pad":""#.to_vec();
        b.resize(10 << 20, b'a');
        b.extend_from_slice(b"\"}");
        b
    };
    let mut conn = mock.connect();
    conn.write_all(
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer big\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )
    .unwrap();
    for part in body.chunks(300_000) {
        conn.write_all(format!("{:x}\r\n", part.len()).as_bytes())
            .unwrap();
        conn.write_all(part).unwrap();
        conn.write_all(b"\r\n").unwrap();
    }
    conn.write_all(b"0\r\n\r\n").unwrap();
    let r = read_response(conn);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["usage"]["prompt_tokens"], body.len() as u64 / 4);
    let e = &mock.journal(Some("big"))[0];
    assert_eq!(e["body_len"], body.len());
    assert_eq!(e["body_sha256"], hex(&Sha256::digest(&body)));
}

#[test]
fn chunk_size_and_delay_framing() {
    let mock = Mock::start(&["--chunk-size", "7", "--chunk-delay-ms", "20"]);
    let start = Instant::now();
    let r = mock.post("/v1/messages", &[], &json!({"model": "c", "stream": true}));
    let elapsed = start.elapsed();
    assert!(r.complete);
    assert!(
        r.chunks.len() > 20 && r.chunks.iter().all(|c| !c.is_empty() && c.len() <= 7),
        "{:?}",
        r.chunks.len()
    );
    assert_eq!(names(&r.sse()).len(), 11, "reassembled stream intact");
    // 11 events: 10 pauses of 20 ms between events, none between the pieces of one event.
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );

    // Non-stream bodies keep their Content-Length and reassemble.
    let r = mock.post("/v1/messages", &[], &json!({"model": "c"}));
    assert!(r.complete && r.header("content-length").is_some());
    assert_eq!(
        r.json()["content"][0]["text"],
        "Hello from the mock upstream."
    );

    // Without --chunk-size each event is exactly one chunk.
    let plain = Mock::start(&[]);
    let r = plain.post("/v1/messages", &[], &json!({"model": "c", "stream": true}));
    assert_eq!(r.chunks.len(), 11);
    for chunk in &r.chunks {
        let text = std::str::from_utf8(chunk).unwrap();
        assert!(
            text.starts_with("event: ")
                && text.ends_with("\n\n")
                && text.matches("\n\n").count() == 1
        );
    }
}
