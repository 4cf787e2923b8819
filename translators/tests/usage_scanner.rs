//! [`UsageScanner`] against the full decoders: for every recorded answer under
//! `../shared/fixtures/upstream/` (every `*.chunks.txt` replayed with its directory's framing,
//! every `*.json` body, every answer of every VCR cassette, and Gemini's JSON-array streams as
//! recorded), the scanner reports the usage the decoders give, whatever the chunking (1, 7 and
//! 64 bytes, and whole). Then hand-written cases: no usage, a report cut across chunks,
//! Anthropic's field-by-field merge, OpenAI's `"usage":null` chunks and Moonshot's usage in a
//! choice, a JSON-array stream split at every offset, malformed input, size limits.
//!
//! The oracle for a stream is the last `StreamEvent::Usage` the protocol's decoder emits (what
//! `StreamAggregator` keeps); for a whole body, `decode_response(..).usage`, and `None` when
//! the body has no usage member (the decoders then give zeros).
//!
//! Run: `cargo test -p switchyard-translators --test usage_scanner`
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
use serde_json::Value;
use switchyard_translators::gemini::{self, ArrayStreamDecoder};
use switchyard_translators::ir::{Protocol, StreamEvent, Usage};
use switchyard_translators::usage::{UsageScanner, MAX_BODY_BYTES};

/// Chunk sizes every recorded stream is fed in, besides whole.
const CHUNK_SIZES: [usize; 3] = [1, 7, 64];

/// One recorded answer, as the gateway would forward it.
enum Body {
    Sse(Vec<u8>),
    GeminiJsonArray(Vec<u8>),
    Json(Vec<u8>),
}

/// Every recorded answer of a protocol, named.
fn bodies(p: Protocol) -> Vec<(String, Body)> {
    let mut out = Vec::new();
    for case in fixtures::all_replayable() {
        let Some(file) = case.strip_prefix(&format!("{}/", fixtures::dir(p))) else {
            continue;
        };
        if file.ends_with(".chunks.txt") {
            let bytes = fixtures::replay_chunks(p, &fixtures::read(p, file));
            let responses = split_bodies(p, &bytes);
            if responses.len() > 1 {
                for (k, r) in responses.into_iter().enumerate() {
                    out.push((format!("{case} body {k}"), Body::Sse(r)));
                }
            } else {
                out.push((case.clone(), Body::Sse(bytes)));
            }
        } else if file.ends_with(".yaml") {
            for (i, rec) in fixtures::cassette(p, file) {
                let body = match rec {
                    Recorded::Stream(b) => Body::Sse(b),
                    Recorded::Response(b) | Recorded::Error(_, b) => Body::Json(b),
                };
                out.push((format!("{case} #{i}"), body));
            }
            if p == Protocol::Gemini {
                let path = fixtures::root().join("gemini").join(file);
                for it in cassette::load(&path) {
                    let array =
                        it.uri.contains(":streamGenerateContent") && !it.uri.contains("alt=sse");
                    if let (true, true, Some(raw)) = (it.is_generation(p), array, it.raw) {
                        let name = format!("{case} #{} (JSON array)", it.index);
                        out.push((name, Body::GeminiJsonArray(raw)));
                    }
                }
            }
        } else {
            let body = Body::Json(fixtures::read(p, file));
            out.push((case, body));
        }
    }
    assert!(!out.is_empty(), "no recorded answer for {}", codec::name(p));
    out
}

/// A replayed chunk file cut into the HTTP bodies it holds: some Responses and Anthropic files
/// record a multi-step run, one response after another (the decoders stop at the first
/// terminal event). Cut before every `response.created` / `message_start`.
fn split_bodies(p: Protocol, bytes: &[u8]) -> Vec<Vec<u8>> {
    let first: &[u8] = match p {
        Protocol::OpenAiResponses => b"event: response.created\n",
        Protocol::Anthropic => b"event: message_start\n",
        Protocol::OpenAiChat | Protocol::Gemini => return vec![bytes.to_vec()],
    };
    let mut starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i..].starts_with(first))
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

/// The last usage among a decoder's IR events.
fn last_usage(events: &[StreamEvent]) -> Option<Usage> {
    events.iter().rev().find_map(|e| match e {
        StreamEvent::Usage(u) => Some(*u),
        _ => None,
    })
}

/// What the full decoders say the body reported.
fn oracle(p: Protocol, body: &Body) -> Option<Usage> {
    match body {
        Body::Sse(bytes) => {
            last_usage(&codec::decode_stream(p, &[bytes.as_slice()]).expect("decodes"))
        }
        Body::GeminiJsonArray(bytes) => {
            let mut frames = ArrayStreamDecoder::default();
            let mut decoder = gemini::StreamDecoder::new();
            let (mut sse, mut events) = (Vec::new(), Vec::new());
            frames.feed(bytes, &mut sse).expect("element size");
            frames.finish(&mut sse);
            for e in &sse {
                decoder.feed(e, &mut events);
            }
            decoder.finish(&mut events);
            last_usage(&events)
        }
        Body::Json(bytes) => {
            let member = match p {
                Protocol::Gemini => "usageMetadata",
                Protocol::OpenAiChat | Protocol::OpenAiResponses | Protocol::Anthropic => "usage",
            };
            let has_usage = serde_json::from_slice::<Value>(bytes)
                .is_ok_and(|v| v.get(member).is_some_and(Value::is_object));
            let decoded = codec::decode_response(p, bytes).ok()?;
            has_usage.then_some(decoded.usage)
        }
    }
}

/// The scanner's answer for `body` fed in chunks of `size` bytes (`None`: whole).
fn scan(p: Protocol, body: &Body, size: Option<usize>) -> Option<Usage> {
    let (mut s, bytes) = match body {
        Body::Sse(b) => (UsageScanner::new(p, true), b),
        Body::GeminiJsonArray(b) => (UsageScanner::gemini_json_array(), b),
        Body::Json(b) => (UsageScanner::new(p, false), b),
    };
    match size {
        Some(n) => bytes.chunks(n).for_each(|c| s.feed(c)),
        None => s.feed(bytes),
    }
    s.finish()
}

/// Every recorded answer: the scanner agrees with the decoders at every chunk size. Returns
/// how many answers reported usage, so a protocol whose fixtures all lack it fails loudly.
fn agrees_with_the_decoders(p: Protocol) {
    let mut failures = Vec::new();
    let mut with_usage = 0;
    for (case, body) in bodies(p) {
        let want = oracle(p, &body);
        with_usage += usize::from(want.is_some());
        let sizes = match body {
            Body::Json(_) => vec![None, Some(64)],
            Body::Sse(_) | Body::GeminiJsonArray(_) => {
                std::iter::once(None).chain(CHUNK_SIZES.map(Some)).collect()
            }
        };
        for size in sizes {
            let got = scan(p, &body, size);
            if got != want {
                failures.push(format!(
                    "{case}, chunks of {size:?}: scanner {got:?}, decoder {want:?}"
                ));
            }
        }
    }
    assert!(
        with_usage > 0,
        "{}: no fixture reports usage",
        codec::name(p)
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn anthropic_fixtures_give_the_decoders_usage() {
    agrees_with_the_decoders(Protocol::Anthropic);
}

#[test]
fn openai_chat_fixtures_give_the_decoders_usage() {
    agrees_with_the_decoders(Protocol::OpenAiChat);
}

#[test]
fn openai_responses_fixtures_give_the_decoders_usage() {
    agrees_with_the_decoders(Protocol::OpenAiResponses);
}

#[test]
fn gemini_fixtures_give_the_decoders_usage() {
    agrees_with_the_decoders(Protocol::Gemini);
}

// ------------------------------------------------------------------------------- hand-written

fn scan_chunks(p: Protocol, stream: bool, chunks: &[&[u8]]) -> Option<Usage> {
    let mut s = UsageScanner::new(p, stream);
    for c in chunks {
        s.feed(c);
    }
    s.finish()
}

/// `bytes` split in two at every offset (short inputs only) gives `want`.
fn every_split(p: Protocol, stream: bool, bytes: &[u8], want: Option<Usage>) {
    for i in 0..=bytes.len() {
        let (a, b) = bytes.split_at(i);
        assert_eq!(scan_chunks(p, stream, &[a, b]), want, "split at {i}");
    }
}

fn usage(input: u64, output: u64, read: u64, write: u64, reasoning: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: read,
        cache_write_tokens: write,
        reasoning_tokens: reasoning,
    }
}

#[test]
fn a_body_without_usage_reports_none() {
    let streams: [(Protocol, &[u8]); 4] = [
        (
            Protocol::OpenAiChat,
            b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"usage\"}}],\"usage\":null}\n\ndata: [DONE]\n\n",
        ),
        (
            Protocol::OpenAiResponses,
            b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"usage\":null}}\n\n",
        ),
        (
            Protocol::Anthropic,
            b"event: ping\ndata: {\"type\":\"ping\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ),
        (
            Protocol::Gemini,
            b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"usageMetadata\"}]}}]}\r\n\r\n",
        ),
    ];
    for (p, bytes) in streams {
        assert_eq!(scan_chunks(p, true, &[bytes]), None, "{p:?} stream");
    }
    for p in ALL {
        assert_eq!(
            scan_chunks(p, false, &[b"{\"id\":\"x\",\"usage\":null}"]),
            None,
            "{p:?}"
        );
        assert_eq!(scan_chunks(p, false, &[]), None, "{p:?} empty body");
        assert_eq!(scan_chunks(p, true, &[]), None, "{p:?} empty stream");
    }
}

/// Anthropic: `message_start` gives input and cache counts, `message_delta` the cumulative
/// output (and here a later input count); a field a delta omits keeps its value. Cut at
/// every offset, through the middle of both usage objects.
#[test]
fn anthropic_reports_merge_across_events_and_chunks() {
    let stream = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[],",
        "\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":3,",
        "\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,",
        "\"delta\":{\"type\":\"text_delta\",\"text\":\"{\\\"usage\\\":{}}\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},",
        "\"usage\":{\"output_tokens\":42}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"input_tokens\":11}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    // input counts cache reads and writes in the IR: 11 + 3 + 5.
    every_split(
        Protocol::Anthropic,
        true,
        stream.as_bytes(),
        Some(usage(19, 42, 5, 3, 0)),
    );
    let body = br#"{"type":"message","content":[{"type":"text","text":"\"usage\":{}"}],"usage":{"input_tokens":2,"cache_read_input_tokens":7,"output_tokens":4}}"#;
    every_split(Protocol::Anthropic, false, body, Some(usage(9, 4, 7, 0, 0)));
}

/// OpenAI Chat with `include_usage`: every chunk has `"usage":null`, the last one the
/// numbers. Moonshot puts usage inside choice 0 instead.
#[test]
fn openai_chat_usage_chunk_and_usage_in_a_choice() {
    let stream = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9,",
        "\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":16},",
        "\"completion_tokens_details\":{\"reasoning_tokens\":4}}}\n\n",
        "data: [DONE]\n\n",
    );
    every_split(
        Protocol::OpenAiChat,
        true,
        stream.as_bytes(),
        Some(usage(20, 9, 16, 0, 4)),
    );
    let moonshot = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\",",
        "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":2,\"total_tokens\":10,\"cached_tokens\":6}}]}\n\n",
        "data: [DONE]\n\n",
    );
    every_split(
        Protocol::OpenAiChat,
        true,
        moonshot.as_bytes(),
        Some(usage(8, 2, 6, 0, 0)),
    );
}

/// Responses: only the terminal event's usage counts (an in-progress `usage` is not final).
#[test]
fn openai_responses_terminal_event_usage() {
    let stream = concat!(
        "event: response.in_progress\n",
        "data: {\"type\":\"response.in_progress\",\"response\":{\"id\":\"r\",",
        "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n",
        "event: response.completed\n",
        "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"output\":[],",
        "\"usage\":{\"input_tokens\":30,\"input_tokens_details\":{\"cached_tokens\":12},",
        "\"output_tokens\":7,\"output_tokens_details\":{\"reasoning_tokens\":5},\"total_tokens\":37}}}\n\n",
    );
    every_split(
        Protocol::OpenAiResponses,
        true,
        stream.as_bytes(),
        Some(usage(30, 7, 12, 0, 5)),
    );
}

/// Gemini's JSON-array stream (no `alt=sse`): the last chunk's counts win; thoughts count
/// as output. A `usageMetadata` key inside a text part is not a report.
#[test]
fn gemini_json_array_stream() {
    let array = concat!(
        "[{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\\\"usageMetadata\\\": {\\\"a\\\"\"}]}}],",
        "\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":1}}\n",
        ",\r\n{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"} ]\"}]},\"finishReason\":\"STOP\"}],",
        "\"usageMetadata\":{\"promptTokenCount\":40,\"candidatesTokenCount\":6,",
        "\"cachedContentTokenCount\":32,\"thoughtsTokenCount\":10,\"totalTokenCount\":56}}\n]",
    );
    let want = Some(usage(40, 16, 32, 0, 10));
    for i in 0..=array.len() {
        let (a, b) = array.as_bytes().split_at(i);
        let mut s = UsageScanner::gemini_json_array();
        s.feed(a);
        s.feed(b);
        assert_eq!(s.finish(), want, "split at {i}");
    }
}

/// Malformed JSON never panics: a stream keeps its last good report, a body reports none.
#[test]
fn malformed_json_keeps_the_last_good_report() {
    let stream = concat!(
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":\"many\"}}\n\n",
        "data: [DONE]\n\n",
    );
    let want = Some(usage(3, 4, 0, 0, 0));
    assert_eq!(
        scan_chunks(Protocol::OpenAiChat, true, &[stream.as_bytes()]),
        want
    );
    for p in ALL {
        for body in [
            &b"{\"usage\":{\"input_tokens\":"[..],
            b"{\"usageMetadata\":{\"promptTokenCount\":-1}}",
            b"\xff\xfe not json",
        ] {
            assert_eq!(scan_chunks(p, false, &[body]), None, "{p:?}");
        }
    }
    // A stream cut inside its usage event: the partial event is not a report.
    let cut = &stream.as_bytes()[..60];
    assert_eq!(scan_chunks(Protocol::OpenAiChat, true, &[cut]), None);
    // Arbitrary bytes through every framing, cut anywhere: no panic.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"data: {}[]\"usage\"usageMetadata:1,\\\r\n\xe6\x97\xa5\xff ";
    for round in 0..2000 {
        let len = (next() % 96) as usize;
        let input: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let cut = (next() as usize) % (len + 1);
        let p = ALL[round % ALL.len()];
        let mut scanners = [
            UsageScanner::new(p, true),
            UsageScanner::new(p, false),
            UsageScanner::gemini_json_array(),
        ];
        for s in &mut scanners {
            s.feed(&input[..cut]);
            s.feed(&input[cut..]);
            let _ = s.finish();
        }
    }
}

/// A whole body over [`MAX_BODY_BYTES`] is not kept and reports none; one just under it is
/// read.
#[test]
fn a_body_over_the_limit_reports_none() {
    let head = br#"{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"pad":""#;
    let tail = b"\"}";
    let pad = MAX_BODY_BYTES - head.len() - tail.len();
    let mut body = head.to_vec();
    body.resize(head.len() + pad, b'x');
    body.extend_from_slice(tail);
    assert_eq!(body.len(), MAX_BODY_BYTES);
    let chunks: Vec<&[u8]> = body.chunks(64 * 1024).collect();
    assert_eq!(
        scan_chunks(Protocol::OpenAiChat, false, &chunks),
        Some(usage(1, 2, 0, 0, 0))
    );
    body.insert(head.len(), b'x');
    let chunks: Vec<&[u8]> = body.chunks(64 * 1024).collect();
    assert_eq!(scan_chunks(Protocol::OpenAiChat, false, &chunks), None);
}

/// An SSE event over the framing limit is dropped, and the report after it still counts.
#[test]
fn an_oversized_event_is_skipped_and_the_stream_resynchronises() {
    let mut s = UsageScanner::new(Protocol::Gemini, true);
    s.feed(b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"data\":\"");
    let block = vec![b'A'; 64 * 1024];
    for _ in 0..(switchyard_translators::sse::DEFAULT_MAX_EVENT_BYTES / block.len() + 2) {
        s.feed(&block);
    }
    s.feed(b"\"}}]}}]}\r\n\r\n");
    s.feed(b"data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":1290}}\r\n\r\n");
    assert_eq!(s.finish(), Some(usage(5, 1290, 0, 0, 0)));
}

/// Tokens reported before a stream fails still count (the upstream counted them): Anthropic's
/// input from `message_start` before an `error` event, Gemini's last `usageMetadata` before
/// an error chunk or a cut-off. The Gemini decoder reports no usage in both cases (it sends
/// usage at the end, with the stop reason); the scanner differs from it on purpose here.
#[test]
fn usage_before_a_failure_is_kept() {
    let anthropic = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"content\":[],",
        "\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
        "event: error\n",
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
    );
    assert_eq!(
        scan_chunks(Protocol::Anthropic, true, &[anthropic.as_bytes()]),
        Some(usage(12, 1, 0, 0, 0))
    );
    let chunk = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":2}}\r\n\r\n";
    let error =
        "data: {\"error\":{\"code\":500,\"message\":\"internal\",\"status\":\"INTERNAL\"}}\r\n\r\n";
    for stream in [format!("{chunk}{error}"), chunk.to_owned()] {
        let events = codec::decode_stream(Protocol::Gemini, &[stream.as_bytes()]).expect("decodes");
        assert_eq!(last_usage(&events), None, "the decoder drops it");
        assert_eq!(
            scan_chunks(Protocol::Gemini, true, &[stream.as_bytes()]),
            Some(usage(7, 2, 0, 0, 0))
        );
    }
}
