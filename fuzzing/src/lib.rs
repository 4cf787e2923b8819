//! Fuzz targets over every parser and translator that reads untrusted bytes: one
//! `pub fn <target>(data: &[u8])` each, listed in [`TARGETS`]. The same functions run under
//! libFuzzer (`fuzz/`, `scripts/fuzz`, nightly) and under `cargo test` on stable
//! (`tests/replay.rs`: seeds, committed crash inputs and deterministic mutations).
//!
//! Contract: a target never panics on any input. Where the code has a property stronger than
//! "no panic" that holds for every input, the target asserts it (a chunked stream translates
//! to the same bytes as the whole stream; what an encoder writes its own decoder reads), so a
//! failed assertion is a bug like a panic is. Pure: no I/O, no clock.
//!
//! Stream targets cut their input into chunks with [`split_chunks`]: the first byte says how
//! many split points follow (0..=7), each a position scaled to the rest of the input.

#![expect(
    clippy::panic,
    reason = "a fuzz target reports a bug by panicking, as libFuzzer and the replay test expect"
)]

use serde_json::Value;
use switchyard_translators::ir::{EncodeContext, Protocol};
use switchyard_translators::{any, codeassist, gemini, sse, StreamOptions};

pub mod seeds;

/// A fuzz target: any bytes in, a panic for a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name its `fuzz/fuzz_targets/<name>.rs` and corpus directory have.
pub const TARGETS: &[(&str, Target)] = &[
    ("sse", sse),
    ("usage_chunk", usage_chunk),
    ("openai_chat_request", openai_chat_request),
    ("openai_responses_request", openai_responses_request),
    ("anthropic_request", anthropic_request),
    ("gemini_request", gemini_request),
    ("openai_chat_response", openai_chat_response),
    ("openai_responses_response", openai_responses_response),
    ("anthropic_response", anthropic_response),
    ("gemini_response", gemini_response),
    ("openai_chat_stream", openai_chat_stream),
    ("openai_responses_stream", openai_responses_stream),
    ("anthropic_stream", anthropic_stream),
    ("gemini_stream", gemini_stream),
    ("codeassist", codeassist),
    ("config", config),
    ("config_edit", config_edit),
    ("json_path", json_path),
    ("payload", payload),
    ("body_validate", body_validate),
    ("auth_file", auth_file),
    ("management_bodies", management_bodies),
];

const PROTOCOLS: [Protocol; 4] = [
    Protocol::OpenAiChat,
    Protocol::OpenAiResponses,
    Protocol::Anthropic,
    Protocol::Gemini,
];

/// Cuts `data[1 + k..]` at the `k = data[0] % 8` positions given by `data[1..=k]` (each byte
/// scaled from 0..=255 to the payload's length). Empty chunks are kept: the code must take
/// them too.
pub fn split_chunks(data: &[u8]) -> Vec<&[u8]> {
    let Some((&n, rest)) = data.split_first() else {
        return Vec::new();
    };
    let k = usize::from(n % 8).min(rest.len());
    let (points, payload) = rest.split_at(k);
    let mut cuts: Vec<usize> = points
        .iter()
        .map(|&p| usize::from(p) * payload.len() / 255)
        .collect();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut last = 0;
    for c in cuts {
        out.push(&payload[last..c]);
        last = c;
    }
    out.push(&payload[last..]);
    out
}

/// The input [`split_chunks`] cuts into `payload` at the given fractions (0..=255 each, at
/// most 7); for building seeds.
pub fn with_splits(points: &[u8], payload: &[u8]) -> Vec<u8> {
    let points = &points[..points.len().min(7)];
    let mut out = Vec::with_capacity(1 + points.len() + payload.len());
    out.push(points.len() as u8);
    out.extend_from_slice(points);
    out.extend_from_slice(payload);
    out
}

/// Splits `data` at the first `n - 1` NUL bytes into `n` fields (missing ones empty).
fn fields<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&b""[..]; N];
    let mut rest = data;
    for (i, slot) in out.iter_mut().enumerate() {
        if i + 1 == N {
            *slot = rest;
            break;
        }
        match rest.iter().position(|&b| b == 0) {
            Some(p) => {
                *slot = &rest[..p];
                rest = &rest[p + 1..];
            }
            None => {
                *slot = rest;
                rest = b"";
            }
        }
    }
    out
}

fn cx() -> EncodeContext {
    EncodeContext::new(1_700_000_000, "fuzz")
}

// ----------------------------------------------------------------------------------- framing

/// SSE framing: chunked decoding equals whole decoding, and what the encoder writes decodes
/// to the same data (line breaks normalised to `\n`).
pub fn sse(data: &[u8]) {
    let chunks = split_chunks(data);
    let whole: Vec<u8> = chunks.concat();
    let decode = |parts: &[&[u8]], limit: usize| {
        let mut d = sse::SseDecoder::new(limit);
        let mut out = Vec::new();
        for p in parts {
            d.feed(p, &mut out).map_err(|e| e.limit)?;
        }
        d.finish(&mut out);
        Ok::<_, usize>(out)
    };
    let chunked = decode(&chunks, sse::DEFAULT_MAX_EVENT_BYTES);
    assert_eq!(
        chunked,
        decode(&[&whole], sse::DEFAULT_MAX_EVENT_BYTES),
        "chunk boundaries changed the events"
    );
    // A small bound must fail cleanly, never panic.
    let _ = decode(&chunks, 64);
    let Ok(events) = chunked else { return };
    for ev in events {
        let name = ev.event.as_deref().filter(|e| !e.contains(['\n', '\r']));
        let mut bytes = Vec::new();
        sse::encode_event(name, &ev.data, &mut bytes);
        sse::encode_comment("keep-alive", &mut bytes);
        let back = decode(&[&bytes], sse::DEFAULT_MAX_EVENT_BYTES);
        let expected = ev.data.replace("\r\n", "\n").replace('\r', "\n");
        match back.as_deref() {
            Ok([one]) => {
                assert_eq!(one.data, expected, "encode_event changed the data");
                assert_eq!(one.event.as_deref(), name, "encode_event changed the name");
            }
            other => panic!("encode_event gave {other:?} for {ev:?}"),
        }
    }
    let mut array = gemini::ArrayStreamDecoder::new(1 << 20);
    let mut out = Vec::new();
    for c in &chunks {
        if array.feed(c, &mut out).is_err() {
            break;
        }
    }
    array.finish(&mut out);
}

/// The OpenAI usage-only chunk filter: the output does not depend on chunk boundaries.
pub fn usage_chunk(data: &[u8]) {
    use switchyard_translators::openai_chat::usage_chunk::UsageChunkFilter;
    let chunks = split_chunks(data);
    let run = |parts: &[&[u8]]| {
        let mut f = UsageChunkFilter::new();
        let mut out = Vec::new();
        for p in parts {
            f.feed(p, &mut out);
        }
        f.finish(&mut out);
        out
    };
    let whole = chunks.concat();
    assert_eq!(
        run(&chunks),
        run(&[&whole]),
        "chunk boundaries changed the filtered stream"
    );
}

// ---------------------------------------------------------------------------------- requests

/// A request in protocol `p`: decoded, then encoded for every protocol, and each encoding
/// decoded again (what an encoder writes, its own decoder must read).
fn request(p: Protocol, data: &[u8]) {
    let Ok(req) = any::decode_request(p, data) else {
        return;
    };
    let _ = switchyard_translators::tokens::estimate_input_tokens(&req);
    let mut suffixed = req.clone();
    switchyard_translators::reasoning::apply_model_suffix(&mut suffixed);
    for q in PROTOCOLS {
        let Ok(bytes) = any::encode_request(q, &suffixed) else {
            continue;
        };
        if let Err(e) = any::decode_request(q, &bytes) {
            panic!(
                "{q:?} cannot read its own encoding of a {p:?} request: {e}\n{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

pub fn openai_chat_request(data: &[u8]) {
    request(Protocol::OpenAiChat, data);
}

pub fn openai_responses_request(data: &[u8]) {
    request(Protocol::OpenAiResponses, data);
}

pub fn anthropic_request(data: &[u8]) {
    request(Protocol::Anthropic, data);
}

pub fn gemini_request(data: &[u8]) {
    request(Protocol::Gemini, data);
}

// --------------------------------------------------------------------------------- responses

/// A response in protocol `p` (and the same bytes as an error body): decoded, encoded for
/// every client protocol as a body and as a stream, each body decoded again.
fn response(p: Protocol, data: &[u8]) {
    let status = data.first().map_or(500, |b| 400 + u16::from(*b % 130));
    let err = any::decode_error(p, status, data);
    for q in PROTOCOLS {
        let _ = any::encode_error(q, &err);
    }
    let mut scanner = switchyard_translators::usage::UsageScanner::new(p, false);
    scanner.feed(data);
    let _ = scanner.finish();
    let Ok(resp) = any::decode_response(p, data) else {
        return;
    };
    let events = switchyard_translators::aggregate::response_events(&resp);
    for q in PROTOCOLS {
        let bytes = any::encode_response(q, &resp, &mut cx());
        if let Err(e) = any::decode_response(q, &bytes) {
            panic!(
                "{q:?} cannot read its own encoding of a {p:?} response: {e}\n{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        let opts = StreamOptions {
            client_model: Some("client-model".into()),
            include_usage: true,
        };
        let _ = any::encode_events(q, false, &events, cx(), opts.clone());
        if q == Protocol::Gemini {
            let _ = any::encode_events(q, true, &events, cx(), opts);
        }
    }
}

pub fn openai_chat_response(data: &[u8]) {
    response(Protocol::OpenAiChat, data);
}

pub fn openai_responses_response(data: &[u8]) {
    response(Protocol::OpenAiResponses, data);
}

pub fn anthropic_response(data: &[u8]) {
    response(Protocol::Anthropic, data);
}

pub fn gemini_response(data: &[u8]) {
    response(Protocol::Gemini, data);
}

// ----------------------------------------------------------------------------------- streams

/// An upstream stream of protocol `upstream`: byte 0 picks the client (`% 5`: the four
/// protocols, then Gemini's JSON-array framing) and `include_usage` (`& 8`); the rest is cut
/// by [`split_chunks`]. The translated stream must not depend on where the chunks were cut;
/// the aggregator, usage scanner and stream probe take the same chunks.
fn stream(upstream: Protocol, data: &[u8]) {
    let Some((&opt, rest)) = data.split_first() else {
        return;
    };
    let chunks = split_chunks(rest);
    let opts = StreamOptions {
        client_model: (opt & 16 != 0).then(|| "client-model".to_owned()),
        include_usage: opt & 8 != 0,
    };
    let translate = |parts: &[&[u8]]| {
        let mut t = match opt % 5 {
            4 => any::StreamTranslator::gemini_json_array(upstream, cx(), opts.clone()),
            i => {
                any::StreamTranslator::new(upstream, PROTOCOLS[usize::from(i)], cx(), opts.clone())
            }
        };
        let mut out = Vec::new();
        for p in parts {
            t.feed(p, &mut out);
        }
        let _ = t.started();
        t.finish(&mut out);
        out
    };
    let whole = chunks.concat();
    let chunked = translate(&chunks);
    if chunked != translate(&[&whole]) {
        panic!(
            "chunk boundaries changed the translated stream:\n{}",
            String::from_utf8_lossy(&chunked)
        );
    }
    let mut agg = any::StreamAggregator::new(upstream);
    let mut scanner = switchyard_translators::usage::UsageScanner::new(upstream, true);
    let mut probe = switchyard_translators::probe::StreamProbe::new(upstream);
    let mut probing = true;
    for (i, c) in chunks.iter().enumerate() {
        agg.feed(c);
        scanner.feed(c);
        if probing {
            let v = probe.feed(c, i + 1 == chunks.len());
            probing = v == switchyard_translators::probe::Verdict::Pending;
        }
    }
    let _ = agg.finish();
    let _ = scanner.finish();
}

pub fn openai_chat_stream(data: &[u8]) {
    stream(Protocol::OpenAiChat, data);
}

pub fn openai_responses_stream(data: &[u8]) {
    stream(Protocol::OpenAiResponses, data);
}

pub fn anthropic_stream(data: &[u8]) {
    stream(Protocol::Anthropic, data);
}

/// Gemini upstream streams, SSE (as [`stream`]) and the JSON-array framing (byte 0 `& 32`).
pub fn gemini_stream(data: &[u8]) {
    let Some((&opt, rest)) = data.split_first() else {
        return;
    };
    if opt & 32 == 0 {
        return stream(Protocol::Gemini, data);
    }
    let chunks = split_chunks(rest);
    let run = |parts: &[&[u8]]| {
        let mut array = gemini::ArrayStreamDecoder::new(1 << 20);
        let mut decoder = gemini::StreamDecoder::new();
        let mut sse_events = Vec::new();
        let mut events = Vec::new();
        for p in parts {
            if array.feed(p, &mut sse_events).is_err() {
                break;
            }
        }
        array.finish(&mut sse_events);
        for ev in &sse_events {
            decoder.feed(ev, &mut events);
        }
        decoder.finish(&mut events);
        (sse_events, events)
    };
    let whole = chunks.concat();
    let chunked = run(&chunks);
    assert_eq!(
        chunked,
        run(&[&whole]),
        "chunk boundaries changed the events"
    );
    let mut scanner = switchyard_translators::usage::UsageScanner::gemini_json_array();
    for c in &chunks {
        scanner.feed(c);
    }
    let _ = scanner.finish();
}

/// Code Assist envelopes: request unwrap and wrap (Gemini CLI and Antigravity), response
/// unwrap and wrap, and the stream rewriters in both directions (chunking must not matter).
pub fn codeassist(data: &[u8]) {
    let _ = codeassist::unwrap_request(data);
    let _ = codeassist::wrap_count_tokens(data, "m");
    for antigravity in [
        None,
        Some(codeassist::AntigravityIds {
            request_id: "agent-1",
            session_id: "s",
        }),
    ] {
        let env = codeassist::Envelope {
            model: "gemini-x",
            project: "p",
            antigravity,
        };
        if let Ok(wrapped) = codeassist::wrap_request(data, &env) {
            assert!(
                codeassist::unwrap_request(&wrapped).is_ok(),
                "cannot unwrap a wrapped request"
            );
        }
    }
    let _ = codeassist::wrap_response(&codeassist::unwrap_response(data));
    let chunks = split_chunks(data);
    let whole = chunks.concat();
    for direction in [codeassist::Direction::Unwrap, codeassist::Direction::Wrap] {
        let run = |parts: &[&[u8]]| {
            let mut r = codeassist::StreamRewrap::new(direction);
            let mut out = Vec::new();
            for p in parts {
                r.feed(p, &mut out);
            }
            r.finish(&mut out);
            out
        };
        assert_eq!(
            run(&chunks),
            run(&[&whole]),
            "chunk boundaries changed the rewrapped stream"
        );
    }
}

// ------------------------------------------------------------------------------------ config

/// `config.yaml` parsing and validation; on success every redacting `Debug` runs too.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(loaded) = switchyard_conf::load_str(text) {
        let _ = format!("{loaded:?}");
    }
    let _ = switchyard_conf::edit::document_json(text);
}

/// The config editor the management API writes through: `text \0 path \0 json-value`, the
/// path's keys separated by `.`; an empty value deletes. An edit that succeeds must leave a
/// document that parses as YAML again.
pub fn config_edit(data: &[u8]) {
    let [text, path, value] = fields::<3>(data);
    let (Ok(text), Ok(path)) = (std::str::from_utf8(text), std::str::from_utf8(path)) else {
        return;
    };
    let keys: Vec<&str> = path.split('.').collect();
    let value: Option<Value> = if value.is_empty() {
        None
    } else {
        match serde_json::from_slice(value) {
            Ok(v) => Some(v),
            Err(_) => return,
        }
    };
    if switchyard_conf::edit::document_json(text).is_err() {
        return;
    }
    if let Ok(edited) = switchyard_conf::edit::set(text, &keys, value.as_ref()) {
        if let Err(e) = switchyard_conf::edit::document_json(&edited) {
            panic!("an edit of {keys:?} left invalid YAML ({e}):\n{edited}");
        }
    }
}

// --------------------------------------------------------------------------- gateway bodies

/// The JSON path editor: `body \0 path \0 value`. On a valid body, a set with a valid JSON
/// value and a delete both leave valid JSON.
pub fn json_path(data: &[u8]) {
    use switchyard_gateway::fuzz_hooks::json_path as jp;
    let [body, path, value] = fields::<3>(data);
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let Some(keys) = jp::parse(path) else { return };
    if serde_json::from_slice::<Value>(body).is_err() {
        return;
    }
    let _ = jp::exists(body, &keys);
    // Deeper than serde_json's recursion limit (128) is still JSON: a path of many keys
    // creates that many levels.
    let valid = |b: &[u8]| match serde_json::from_slice::<Value>(b) {
        Ok(_) => true,
        Err(e) => e.to_string().starts_with("recursion limit exceeded"),
    };
    if let Some(out) = jp::delete(body, &keys) {
        assert!(
            valid(&out),
            "delete {keys:?} gave invalid JSON: {}",
            String::from_utf8_lossy(&out)
        );
    }
    let Ok(value) = std::str::from_utf8(value) else {
        return;
    };
    if !valid(value.as_bytes()) {
        return;
    }
    if let Some(out) = jp::set(body, &keys, value) {
        assert!(
            valid(&out),
            "set {keys:?} = {value} gave invalid JSON: {}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// Payload rules: `config.yaml \0 body \0 model`; the config's `payload:` rules applied to a
/// valid JSON body for every upstream and client protocol.
pub fn payload(data: &[u8]) {
    use switchyard_gateway::fuzz_hooks::{Payload, Target};
    let [yaml, body, model] = fields::<3>(data);
    let (Ok(yaml), Ok(model)) = (std::str::from_utf8(yaml), std::str::from_utf8(model)) else {
        return;
    };
    let Ok(loaded) = switchyard_conf::load_str(yaml) else {
        return;
    };
    if serde_json::from_slice::<Value>(body).is_err() {
        return;
    }
    let rules = Payload::new(&loaded.config.payload);
    for protocol in ["gemini", "claude", "codex", "openai"] {
        for from in [
            Some("openai"),
            Some("responses"),
            Some("claude"),
            Some("gemini"),
            None,
        ] {
            let t = Target {
                protocol,
                from,
                upstream_model: model,
                asked_model: "asked",
            };
            let _ = rules.apply(&t, body);
        }
    }
}

/// Request body validation: on a body it accepts, splicing another model name in gives a
/// body it accepts with that model.
pub fn body_validate(data: &[u8]) {
    use switchyard_gateway::fuzz_hooks::{inspect, model_literal, splice};
    let Ok(facts) = inspect(data) else { return };
    let Some(span) = facts.model_span else { return };
    let model = "fuzz/\"model\"\u{7f}é";
    let spliced = splice(data, &span, &model_literal(model));
    match inspect(&spliced) {
        Ok(f) => assert_eq!(f.model.as_deref(), Some(model), "the splice lost the model"),
        Err(e) => panic!(
            "the splice made the body invalid ({e}): {}",
            String::from_utf8_lossy(&spliced)
        ),
    }
}

/// An auth file: parsed, every field read, written and parsed back to the same object.
pub fn auth_file(data: &[u8]) {
    use switchyard_auth::AuthRecord;
    let Ok(Some(rec)) = AuthRecord::parse("fuzz.json", data) else {
        return;
    };
    let _ = (
        rec.access_token(),
        rec.refresh_token(),
        rec.id_token(),
        rec.email(),
        rec.account_id(),
        rec.resource_url(),
        rec.api_key(),
        rec.credential(),
        rec.can_refresh(),
        rec.expiry(),
        rec.last_refresh(),
        rec.usable(),
    );
    let _ = format!("{rec:?}");
    match AuthRecord::parse("fuzz.json", &rec.to_bytes()) {
        Ok(Some(back)) => {
            let (a, b) = (
                Value::Object(back.raw().clone()),
                Value::Object(rec.raw().clone()),
            );
            assert!(
                same_json(&a, &b),
                "write and read changed the file: {a} != {b}"
            );
        }
        other => panic!("cannot read back a written auth file: {other:?}"),
    }
}

/// JSON equality, floats within a relative 1e-12: serde_json (without its `float_roundtrip`
/// feature) may read a float of more than 17 significant digits one unit off, so printing and
/// reading it again can move the last digit.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The management API's body readers: `content-type \n body`.
pub fn management_bodies(data: &[u8]) {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let content_type = String::from_utf8_lossy(head);
    let _ = switchyard_gateway::fuzz_hooks::management_bodies(&content_type, body);
}
