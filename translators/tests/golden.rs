//! Golden files (STYLE 12): every recorded upstream answer under `../shared/fixtures/upstream/`
//! translated into every client protocol, and every recorded client request translated for
//! every upstream protocol, compared with the expected output under `tests/golden/`:
//!
//! - `<dir>/<file>[/<interaction>]/response.<client>.json`: a non-stream body, as the client
//!   receives it;
//! - `.../error.<client>.json`: an error body, `{"status", "body"}`;
//! - `.../stream.<client>.json`: a stream through the gateway's pipeline
//!   ([`StreamTranslator`]), one `{"event", "data"}` per SSE event, `data` parsed as JSON
//!   when it is JSON, written one compact event per line ([`render`]; other files are
//!   pretty-printed);
//! - `<dir>/<file>/<interaction>/request.<upstream>.json`: a cassette's request as the
//!   gateway sends it to that upstream.
//!
//! Compared as JSON values, event by event; a mismatch names the first differing event and
//! JSON path. Every string longer than [`LONG`] characters (base64 images, encrypted
//! reasoning, long texts) is replaced, on both sides and in the files, by a stand-in
//! ([`abridge`]) holding its first characters, its length and a hash of the whole string: the
//! files stay reviewable, and any change to such a string still changes its stand-in. Stream
//! events are kept one by one (never merged), so a change of chunking shows. Clock and id
//! seed are fixed, so outputs are deterministic. A missing or left-over golden file fails
//! too. To accept a change of output, bless and review the diff:
//!
//! `SWITCHYARD_BLESS=1 cargo test -p switchyard-translators --test golden && git diff tests/golden`
//!
//! The input is the fixture tree itself: adding a recorded file adds its cases (bless them).
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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::codec::{self, ALL};
use common::fixtures::{self, Recorded};
use common::replay::{for_upstream, opts};
use serde_json::{json, Value};
use switchyard_translators::any::StreamTranslator;
use switchyard_translators::ir::Protocol;
use switchyard_translators::sse::SseDecoder;

/// Set to `1` to rewrite the golden files instead of comparing with them.
const BLESS: &str = "SWITCHYARD_BLESS";

/// The `*.json` fixtures that are error bodies, with the HTTP status the provider sent them
/// with (the README of each directory; `matrix.rs` lists the same).
const ERROR_BODIES: &[(&str, u16)] = &[
    (
        "openai-chat/reasoning-model-legacy-parameter-error.json",
        400,
    ),
    ("openai-responses/openai-error.1.json", 429),
];

/// Strings longer than this many characters are abridged ([`abridge`]).
const LONG: usize = 256;

/// How many leading characters of an abridged string its stand-in keeps, to be readable.
const PREFIX: usize = 60;

/// `v` with every string longer than [`LONG`] characters, at any depth, replaced by
/// `"<prefix>… <N chars, fnv1a64 HASH>"`: `N` is the string's length in characters and
/// `HASH` the FNV-1a 64-bit hash of its UTF-8 bytes, in 16 hex digits. The stand-in is
/// shorter than [`LONG`], so abridging is idempotent (a golden file abridges to itself).
fn abridge(v: Value) -> Value {
    match v {
        Value::String(s) if s.chars().count() > LONG => {
            let prefix: String = s.chars().take(PREFIX).collect();
            Value::String(format!(
                "{prefix}… <{} chars, fnv1a64 {:016x}>",
                s.chars().count(),
                fnv1a64(s.as_bytes())
            ))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(abridge).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, abridge(v))).collect())
        }
        other => other,
    }
}

/// FNV-1a, 64 bits: a small stable hash (not cryptographic; it only has to change when the
/// string does), written here so the test needs no hashing crate.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every expected output of one upstream protocol's fixtures, by path under `golden/`.
fn outputs(upstream: Protocol) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let prefix = format!("{}/", fixtures::dir(upstream));
    for case in fixtures::all_replayable() {
        let Some(file) = case.strip_prefix(&prefix) else {
            continue;
        };
        if file.ends_with(".yaml") {
            for (i, rec) in fixtures::cassette(upstream, file) {
                answers(&mut out, &format!("{case}/{i}"), upstream, &rec);
            }
            for (i, body) in fixtures::cassette_requests(upstream, file) {
                requests(&mut out, &format!("{case}/{i}"), upstream, &body);
            }
        } else if file.ends_with(".chunks.txt") {
            let raw = fixtures::read(upstream, file);
            let rec = Recorded::Stream(fixtures::replay_chunks(upstream, &raw));
            answers(&mut out, &case, upstream, &rec);
        } else {
            let raw = fixtures::read(upstream, file);
            let rec = match ERROR_BODIES.iter().find(|(c, _)| *c == case) {
                Some((_, status)) => Recorded::Error(*status, raw),
                None => Recorded::Response(raw),
            };
            answers(&mut out, &case, upstream, &rec);
        }
    }
    out
}

/// A recorded answer as each client protocol receives it.
fn answers(out: &mut BTreeMap<String, Value>, case: &str, upstream: Protocol, rec: &Recorded) {
    for client in ALL {
        let name = codec::name(client);
        match rec {
            Recorded::Response(raw) => {
                let r = codec::decode_response(upstream, raw).unwrap_or_else(|e| {
                    panic!("{case}: {e} (an error body? list it in ERROR_BODIES)")
                });
                let body = codec::encode_response(client, &r);
                out.insert(format!("{case}/response.{name}.json"), json_of(&body));
            }
            Recorded::Error(status, raw) => {
                let err = codec::decode_error(upstream, *status, raw);
                let (status, body) = codec::encode_error(client, &err);
                out.insert(
                    format!("{case}/error.{name}.json"),
                    json!({"status": status, "body": json_of(&body)}),
                );
            }
            Recorded::Stream(bytes) => {
                let mut t = StreamTranslator::new(upstream, client, codec::ctx(), opts());
                let mut body = Vec::new();
                t.feed(bytes, &mut body);
                t.finish(&mut body);
                out.insert(format!("{case}/stream.{name}.json"), sse_events(&body));
            }
        }
    }
}

/// A recorded client request as the gateway sends it to each upstream protocol.
fn requests(out: &mut BTreeMap<String, Value>, case: &str, client: Protocol, body: &[u8]) {
    let r = codec::decode_request(client, body).unwrap_or_else(|e| panic!("{case}: {e}"));
    for upstream in ALL {
        let sent = match codec::encode_request(upstream, &for_upstream(&r, upstream)) {
            Ok(bytes) => json_of(&bytes),
            Err(e) => json!({"encode_error": e}),
        };
        out.insert(
            format!("{case}/request.{}.json", codec::name(upstream)),
            sent,
        );
    }
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// A client stream as `[{"event", "data"}]`, `data` parsed when it is JSON.
fn sse_events(body: &[u8]) -> Value {
    let mut dec = SseDecoder::default();
    let mut events = Vec::new();
    dec.feed(body, &mut events)
        .expect("client events within the size limit");
    dec.finish(&mut events);
    events
        .into_iter()
        .map(|e| {
            let data = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data));
            match e.event {
                Some(name) => json!({"event": name, "data": data}),
                None => json!({"data": data}),
            }
        })
        .collect()
}

/// Where `got` first differs from `want`, as a JSON path with both values (shortened).
fn first_difference(path: &str, want: &Value, got: &Value) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys: std::collections::BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            keys.into_iter().find_map(|k| {
                let (w, g) = (
                    w.get(k).unwrap_or(&Value::Null),
                    g.get(k).unwrap_or(&Value::Null),
                );
                first_difference(&format!("{path}.{k}"), w, g)
            })
        }
        (Value::Array(w), Value::Array(g)) => {
            (0..w.len().max(g.len())).find_map(|i| match (w.get(i), g.get(i)) {
                (Some(a), Some(b)) => first_difference(&format!("{path}[{i}]"), a, b),
                (a, b) => Some(format!(
                    "{path}: {} elements expected, {} produced\n want [{i}] {}\n  got [{i}] {}",
                    w.len(),
                    g.len(),
                    a.map_or("(none)".into(), short),
                    b.map_or("(none)".into(), short),
                )),
            })
        }
        (w, g) if w == g => None,
        (w, g) => Some(format!("{path}\n want {}\n  got {}", short(w), short(g))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(300) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s,
    }
}

/// A golden file's text: a stream (`stream.*.json`, an array of events) as one compact event
/// per line, so a stream stays short and a change of one event is a one-line diff; any other
/// file pretty-printed. Either way it is read back as one JSON value.
fn render(rel: &str, v: &Value) -> String {
    let is_stream = rel
        .rsplit('/')
        .next()
        .is_some_and(|f| f.starts_with("stream."));
    let mut s = match v {
        Value::Array(events) if is_stream && !events.is_empty() => {
            let lines: Vec<String> = events
                .iter()
                .map(|e| serde_json::to_string(e).expect("JSON"))
                .collect();
            format!("[\n{}\n]", lines.join(",\n"))
        }
        _ => serde_json::to_string_pretty(v).expect("JSON"),
    };
    s.push('\n');
    s
}

/// Every `*.json` file under `dir`, as paths relative to `root`.
fn golden_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.expect("dir entry").path();
        if path.is_dir() {
            golden_files(root, &path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            let rel = path.strip_prefix(root).expect("under the golden root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn check(upstream: Protocol) {
    let root = golden_root();
    let bless = std::env::var(BLESS).is_ok_and(|v| v == "1");
    let want = outputs(upstream);
    let mut on_disk = Vec::new();
    golden_files(&root, &root.join(fixtures::dir(upstream)), &mut on_disk);
    let mut failures = Vec::new();
    for rel in on_disk.iter().filter(|f| !want.contains_key(*f)) {
        if bless {
            std::fs::remove_file(root.join(rel)).expect("remove a stale golden file");
        } else {
            failures.push(format!("{rel}: no such case any more (bless to delete it)"));
        }
    }
    for (rel, got) in want {
        let got = &abridge(got);
        let path = root.join(&rel);
        let text = std::fs::read_to_string(&path).ok();
        if bless {
            let rendered = render(&rel, got);
            if text.as_deref() != Some(rendered.as_str()) {
                std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
                std::fs::write(&path, rendered).expect("write a golden file");
            }
            continue;
        }
        let Some(text) = text else {
            failures.push(format!("{rel}: missing (bless to write it)"));
            continue;
        };
        let expected: Value = serde_json::from_str(&text)
            .map(abridge)
            .unwrap_or_else(|e| panic!("{rel}: not JSON ({e}); bless to rewrite it"));
        if let Some(d) = first_difference("$", &expected, got) {
            failures.push(format!("{rel}: differs at {d}"));
        }
    }
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} golden file(s) of {} do not match:\n{}\n\nIf the new output is right: \
         SWITCHYARD_BLESS=1 cargo test -p switchyard-translators --test golden, then review \
         `git diff translators/tests/golden`.",
        failures.len(),
        fixtures::dir(upstream),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n\n"),
    );
}

#[test]
fn anthropic_fixtures_match_their_golden_files() {
    check(Protocol::Anthropic);
}

#[test]
fn openai_chat_fixtures_match_their_golden_files() {
    check(Protocol::OpenAiChat);
}

#[test]
fn openai_responses_fixtures_match_their_golden_files() {
    check(Protocol::OpenAiResponses);
}

#[test]
fn gemini_fixtures_match_their_golden_files() {
    check(Protocol::Gemini);
}
