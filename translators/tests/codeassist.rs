//! Recorded Gemini streams (`../shared/fixtures/upstream/gemini/*.chunks.txt`) put in Code
//! Assist's `{"response": ...}` envelope, then unwrapped again by `StreamRewrap`: every event
//! comes back as the recorded JSON value wherever the stream is split, and the
//! unwrapped stream decodes like the plain recording.
//!
//! Run: `cargo test -p switchyard-translators --test codeassist`
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed expectation is a failed test"
)]

use serde_json::Value;
use std::path::Path;
use switchyard_translators::codeassist::{Direction, StreamRewrap};
use switchyard_translators::gemini::StreamDecoder as GeminiStreamDecoder;
use switchyard_translators::sse::{SseDecoder, SseEvent};

fn recordings() -> Vec<(String, Vec<Value>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/upstream/gemini");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".chunks.txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let events = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        out.push((name, events));
    }
    assert!(out.len() >= 4, "expected the recorded Gemini streams");
    out
}

/// The recording as Code Assist sends it: CRLF framing, each event enveloped.
fn wrapped_wire(events: &[Value]) -> Vec<u8> {
    let mut wire = Vec::new();
    for e in events {
        let env = serde_json::json!({ "response": e, "traceId": "t-1" });
        wire.extend_from_slice(b"data: ");
        wire.extend_from_slice(&serde_json::to_vec(&env).unwrap());
        wire.extend_from_slice(b"\r\n\r\n");
    }
    wire
}

fn unwrap_in_two(wire: &[u8], at: usize) -> Vec<u8> {
    let mut r = StreamRewrap::new(Direction::Unwrap);
    let mut out = Vec::new();
    r.feed(&wire[..at], &mut out);
    r.feed(&wire[at..], &mut out);
    r.finish(&mut out);
    out
}

fn data_values(stream: &[u8]) -> Vec<Value> {
    let mut d = SseDecoder::default();
    let mut events: Vec<SseEvent> = Vec::new();
    d.feed(stream, &mut events).unwrap();
    d.finish(&mut events);
    events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect()
}

#[test]
fn recorded_streams_round_trip_at_every_split() {
    for (name, events) in recordings() {
        let wire = wrapped_wire(&events);
        let whole = unwrap_in_two(&wire, wire.len());
        assert_eq!(data_values(&whole), events, "{name}");
        // Every byte of the smallest recording; a prime stride over the others keeps the
        // O(n^2) re-parsing of unoptimised test builds to about a second.
        let stride = if name == "google-text.chunks.txt" {
            1
        } else {
            61
        };
        for at in (0..=wire.len()).step_by(stride) {
            assert_eq!(unwrap_in_two(&wire, at), whole, "{name} split at {at}");
        }
    }
}

#[test]
fn unwrapped_stream_decodes_like_the_recording() {
    for (name, events) in recordings() {
        let plain = plain_sse(&events);
        let unwrapped = unwrap_in_two(&wrapped_wire(&events), 0);
        assert_eq!(decode(&unwrapped), decode(&plain), "{name}");
    }
}

/// The recording's events as a plain (unwrapped) SSE stream.
fn plain_sse(events: &[Value]) -> Vec<u8> {
    let mut plain = Vec::new();
    for e in events {
        plain.extend_from_slice(b"data: ");
        plain.extend_from_slice(&serde_json::to_vec(e).unwrap());
        plain.extend_from_slice(b"\n\n");
    }
    plain
}

fn decode(stream: &[u8]) -> String {
    let mut sse = SseDecoder::default();
    let mut events = Vec::new();
    sse.feed(stream, &mut events).unwrap();
    sse.finish(&mut events);
    let mut dec = GeminiStreamDecoder::new();
    let mut out = Vec::new();
    for e in &events {
        dec.feed(e, &mut out);
    }
    dec.finish(&mut out);
    format!("{out:?}")
}

#[test]
fn wrap_then_unwrap_is_identity_on_recordings() {
    for (name, events) in recordings() {
        let plain = plain_sse(&events);
        let mut w = StreamRewrap::new(Direction::Wrap);
        let mut wrapped = Vec::new();
        w.feed(&plain, &mut wrapped);
        w.finish(&mut wrapped);
        let enveloped = data_values(&wrapped);
        assert!(
            enveloped.iter().all(|v| v.get("response").is_some()),
            "{name}"
        );
        assert_eq!(data_values(&unwrap_in_two(&wrapped, 7)), events, "{name}");
    }
}
