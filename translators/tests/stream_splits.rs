//! Every recorded stream under `../shared/fixtures/upstream/` (every `*.chunks.txt` replayed
//! with its directory's framing, and every stream body of every VCR cassette), for every
//! upstream protocol, through the gateway's whole stream pipeline ([`StreamTranslator`]:
//! `bytes -> SseDecoder -> upstream decoder -> IR -> client encoder -> bytes`) into every
//! client protocol (and Gemini's JSON-array framing): the *client bytes* are identical for any
//! chunking of the upstream bytes.
//!
//! What proves "any chunk boundary": the pipeline only sees bytes through `feed(chunk)`, so a
//! chunking matters only through where chunks end and how much a chunk carries past a partial
//! line. The passes below are, per stream and client:
//! - the whole stream as one chunk (the reference); a Responses chunk file holding several
//!   responses (a multi-step run) is also replayed one response at a time, so the decoders
//!   see each response from its `response.created`;
//! - one byte per chunk: every offset is a boundary in one pass, including inside every
//!   multi-byte UTF-8 character and between `\r` and `\n`;
//! - chunks of 7 and 509 bytes: boundaries that leave a partial line (or character) and then
//!   carry the rest of it and several whole events in the next chunk;
//! - two pieces split at every offset, compared at the framing layer (the `SseEvent`s), event
//!   by event: the framing decoder starts afresh after every blank line, so a split inside
//!   event *i* can only change event *i*, and each event's bytes split at every offset must
//!   give the same event (events over [`EVENT_ALL_OFFSETS`] bytes, a few encrypted search
//!   results: every offset of the first and last 256 bytes, around every line break and
//!   non-ASCII byte, and every 97th). The decoders and encoders behind the framing see only
//!   whole events, so the same events give the same client bytes, as the passes above show
//!   for the full pipeline; splitting the whole stream at every offset instead would be
//!   quadratic (minutes in a debug build).
//!
//! Gemini streams recorded without `alt=sse` (llm-gemini: a JSON array of chunks) also go
//! through the array framing (`ArrayStreamDecoder`) as the upstream bytes: split in two at
//! every offset, framing and IR events must not change.
//!
//! About 10 s of CPU in debug mode, spread over four test threads (`cargo test -p
//! switchyard-translators --test stream_splits`).
#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test code (helpers included): a broken fixture or a failed check is a failed test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod common;

use common::cassette;
use common::codec::{self, ALL};
use common::fixtures::{self, Recorded};
use switchyard_translators::any::StreamTranslator;
use switchyard_translators::gemini::{self, ArrayStreamDecoder};
use switchyard_translators::ir::{EncodeContext, Protocol, StreamEvent};
use switchyard_translators::sse::{SseDecoder, SseEvent};
use switchyard_translators::StreamOptions;

/// Events up to this size are split in two at every byte offset (framing layer).
const EVENT_ALL_OFFSETS: usize = 4 * 1024;
/// Fixed chunk sizes of the extra full-pipeline passes.
const CHUNK_SIZES: [usize; 2] = [7, 509];

/// Every recorded stream of a protocol, named.
fn streams(p: Protocol) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for case in fixtures::all_replayable() {
        let Some(file) = case.strip_prefix(&format!("{}/", fixtures::dir(p))) else {
            continue;
        };
        if file.ends_with(".chunks.txt") {
            let bytes = fixtures::replay_chunks(p, &fixtures::read(p, file));
            if p == Protocol::OpenAiResponses {
                let responses = split_responses(&bytes);
                if responses.len() > 1 {
                    for (k, r) in responses.into_iter().enumerate() {
                        out.push((format!("{case} response {k}"), r));
                    }
                }
            }
            out.push((case.clone(), bytes));
        } else if file.ends_with(".yaml") {
            for (i, rec) in fixtures::cassette(p, file) {
                if let Recorded::Stream(bytes) = rec {
                    out.push((format!("{case} #{i}"), bytes));
                }
            }
        }
    }
    assert!(!out.is_empty(), "no recorded stream for {}", codec::name(p));
    out
}

/// A replayed Responses stream cut before every `response.created` event.
fn split_responses(bytes: &[u8]) -> Vec<Vec<u8>> {
    const CREATED: &[u8] = b"event: response.created\n";
    let mut starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i..].starts_with(CREATED))
        .collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    starts.push(bytes.len());
    starts
        .windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect()
}

/// A client stream: the four client protocols, and Gemini's JSON-array framing.
#[derive(Clone, Copy, Debug)]
enum Client {
    Sse(Protocol),
    GeminiArray,
}

fn clients() -> Vec<Client> {
    let mut out: Vec<Client> = ALL.iter().map(|&p| Client::Sse(p)).collect();
    out.push(Client::GeminiArray);
    out
}

fn translator(upstream: Protocol, client: Client) -> StreamTranslator {
    let cx = EncodeContext::new(1_764_000_000, "sy");
    let opts = StreamOptions {
        client_model: Some("client-model-1".into()),
        include_usage: true,
    };
    match client {
        Client::Sse(p) => StreamTranslator::new(upstream, p, cx, opts),
        Client::GeminiArray => StreamTranslator::gemini_json_array(upstream, cx, opts),
    }
}

/// The client bytes for the upstream bytes fed as `chunks`, with `finish` at the end.
fn translate<'a>(
    upstream: Protocol,
    client: Client,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut t = translator(upstream, client);
    let mut out = Vec::new();
    for c in chunks {
        t.feed(c, &mut out);
    }
    t.finish(&mut out);
    out
}

/// The stream cut after every blank line (`\n\n` or `\r\n\r\n`), with each piece's offset.
fn events_of(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let blank = if bytes[i..].starts_with(b"\r\n\r\n") {
            4
        } else if bytes[i..].starts_with(b"\n\n") {
            2
        } else {
            0
        };
        if blank > 0 {
            out.push((start, &bytes[start..i + blank]));
            start = i + blank;
            i = start;
        } else {
            i += 1;
        }
    }
    if start < bytes.len() {
        out.push((start, &bytes[start..]));
    }
    out
}

/// Where to split one event (see the module docs).
fn split_points(event: &[u8]) -> Vec<usize> {
    let n = event.len();
    if n <= EVENT_ALL_OFFSETS {
        return (1..n).collect();
    }
    let mut at: std::collections::BTreeSet<usize> = (1..256).chain(n - 256..n).collect();
    at.extend((256..n - 256).step_by(97));
    for (i, &b) in event.iter().enumerate() {
        if b == b'\n' || b == b'\r' || b >= 0x80 {
            at.extend([i, i + 1].into_iter().filter(|&o| o > 0 && o < n));
        }
    }
    at.into_iter().collect()
}

/// The framing layer's events for the upstream bytes fed as `chunks`.
fn sse_events<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<SseEvent> {
    let mut dec = SseDecoder::default();
    let mut out = Vec::new();
    for c in chunks {
        dec.feed(c, &mut out).expect("event size within the limit");
    }
    dec.finish(&mut out);
    out
}

/// Where two outputs first differ, for the failure message.
fn diff(want: &[u8], got: &[u8]) -> String {
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let from = at.saturating_sub(80);
    format!(
        "first difference at output byte {at} (lengths {} vs {})\n want ...{}\n  got ...{}",
        want.len(),
        got.len(),
        String::from_utf8_lossy(&want[from..(at + 80).min(want.len())]),
        String::from_utf8_lossy(&got[from..(at + 80).min(got.len())]),
    )
}

fn every_split(upstream: Protocol) {
    let mut failures = Vec::new();
    for (case, bytes) in streams(upstream) {
        for client in clients() {
            let whole = translate(upstream, client, [bytes.as_slice()]);
            assert!(!whole.is_empty(), "{case} -> {client:?}: no output");
            let mut check = |how: &str, got: Vec<u8>| {
                if got != whole {
                    failures.push(format!(
                        "{case} -> {client:?}, {how}: {}",
                        diff(&whole, &got)
                    ));
                }
            };
            check(
                "one byte a chunk",
                translate(upstream, client, bytes.chunks(1)),
            );
            for n in CHUNK_SIZES {
                check(
                    &format!("{n}-byte chunks"),
                    translate(upstream, client, bytes.chunks(n)),
                );
            }
        }
        for (start, event) in events_of(&bytes) {
            let whole = sse_events([event]);
            for i in split_points(event) {
                let (a, b) = event.split_at(i);
                if sse_events([a, b]) != whole {
                    failures.push(format!(
                        "{case}: the event at byte {start} split at {i} frames differently"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn anthropic_streams_give_the_same_client_bytes_at_every_split() {
    every_split(Protocol::Anthropic);
}

#[test]
fn openai_chat_streams_give_the_same_client_bytes_at_every_split() {
    every_split(Protocol::OpenAiChat);
}

#[test]
fn openai_responses_streams_give_the_same_client_bytes_at_every_split() {
    every_split(Protocol::OpenAiResponses);
}

#[test]
fn gemini_streams_give_the_same_client_bytes_at_every_split() {
    every_split(Protocol::Gemini);
}

/// The raw bodies of the Gemini streams recorded without `alt=sse` (JSON arrays).
fn gemini_json_arrays() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for case in fixtures::all_replayable() {
        let Some(file) = case
            .strip_prefix("gemini/")
            .filter(|f| f.ends_with(".yaml"))
        else {
            continue;
        };
        let path = fixtures::root().join("gemini").join(file);
        for it in cassette::load(&path) {
            if let (true, Some(raw)) = (it.is_generation(Protocol::Gemini), it.raw) {
                if it.uri.contains(":streamGenerateContent") && !it.uri.contains("alt=sse") {
                    out.push((format!("{case} #{}", it.index), raw));
                }
            }
        }
    }
    out
}

/// The array framing's events for the upstream bytes fed as `chunks`.
fn array_frames<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<SseEvent> {
    let mut dec = ArrayStreamDecoder::default();
    let mut out = Vec::new();
    for c in chunks {
        dec.feed(c, &mut out)
            .expect("element size within the limit");
    }
    dec.finish(&mut out);
    out
}

/// The IR events of a JSON-array stream fed as `chunks`.
fn array_ir<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<StreamEvent> {
    let mut dec = gemini::StreamDecoder::new();
    let mut out = Vec::new();
    for e in array_frames(chunks) {
        dec.feed(&e, &mut out);
    }
    dec.finish(&mut out);
    out
}

#[test]
fn gemini_json_array_streams_give_the_same_events_at_every_split() {
    let streams = gemini_json_arrays();
    assert_eq!(streams.len(), 3, "llm-gemini's three streams");
    let mut failures = Vec::new();
    for (case, bytes) in streams {
        assert!(bytes.starts_with(b"["), "{case}: a JSON array");
        let frames = array_frames([bytes.as_slice()]);
        assert!(!frames.is_empty(), "{case}: no elements");
        for e in &frames {
            serde_json::from_str::<serde_json::Value>(&e.data)
                .unwrap_or_else(|err| panic!("{case}: an element is not a whole object: {err}"));
        }
        let whole = array_ir([bytes.as_slice()]);
        assert!(
            matches!(whole.first(), Some(StreamEvent::Start { .. })),
            "{case}: {whole:?}"
        );
        for n in [1, 7, 509] {
            if array_ir(bytes.chunks(n)) != whole {
                failures.push(format!("{case}: {n}-byte chunks give other IR events"));
            }
        }
        for i in 1..bytes.len() {
            let (a, b) = bytes.split_at(i);
            if array_frames([a, b]) != frames {
                failures.push(format!("{case}: split at {i} frames differently"));
            }
            if array_ir([a, b]) != whole {
                failures.push(format!("{case}: split at {i} gives other IR events"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
