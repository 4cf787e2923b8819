//! Recorded upstream traffic under `../shared/fixtures/upstream/` (see its README), replayed
//! with each directory's framing. A missing directory or file is a test failure, never a skip.

use std::path::{Path, PathBuf};
use switchyard_translators::ir::Protocol;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/upstream")
}

/// The fixture directory of a protocol.
pub fn dir(p: Protocol) -> &'static str {
    match p {
        Protocol::Anthropic => "anthropic-messages",
        Protocol::OpenAiChat => "openai-chat",
        Protocol::OpenAiResponses => "openai-responses",
        Protocol::Gemini => "gemini",
    }
}

pub fn read(p: Protocol, file: &str) -> Vec<u8> {
    let path = root().join(dir(p)).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A `*.chunks.txt` file (one JSON payload per line, framing stripped) as the SSE bytes the
/// provider sent, per the README: Anthropic and Responses `event: <type>\ndata: <line>\n\n`,
/// Chat `data: <line>\n\n` then `data: [DONE]\n\n`, Gemini `data: <line>\r\n\r\n`.
pub fn replay_chunks(p: Protocol, raw: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(raw).expect("chunks file is UTF-8");
    let mut out = Vec::new();
    for line in text.split('\n').filter(|l| !l.trim().is_empty()) {
        match p {
            Protocol::Anthropic | Protocol::OpenAiResponses => {
                let v: serde_json::Value = serde_json::from_str(line).expect("chunk line is JSON");
                let ty = v["type"].as_str().expect("chunk has a type");
                out.extend_from_slice(format!("event: {ty}\ndata: {line}\n\n").as_bytes());
            }
            Protocol::OpenAiChat => out.extend_from_slice(format!("data: {line}\n\n").as_bytes()),
            Protocol::Gemini => out.extend_from_slice(format!("data: {line}\r\n\r\n").as_bytes()),
        }
    }
    if p == Protocol::OpenAiChat {
        out.extend_from_slice(b"data: [DONE]\n\n");
    }
    out
}

/// Every `*.json`, `*.chunks.txt` and `*.yaml` file of the four directories, as `dir/file`.
pub fn all_replayable() -> Vec<String> {
    let mut out = Vec::new();
    for p in super::codec::ALL {
        let d = root().join(dir(p));
        let entries = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("fixture dir {} missing: {e}", d.display()));
        for e in entries {
            let name = e
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".json") || name.ends_with(".chunks.txt") || name.ends_with(".yaml") {
                out.push(format!("{}/{name}", dir(p)));
            }
        }
    }
    out.sort();
    out
}

pub use super::cassette::Recorded;

/// The answers to generation calls in a VCR cassette (`*.yaml`), by interaction index (see
/// `cassette::Interaction::recorded`). Helper calls (image downloads, `cachedContents`,
/// `count_tokens`) are left out by their URI.
pub fn cassette(p: Protocol, file: &str) -> Vec<(usize, Recorded)> {
    let out: Vec<(usize, Recorded)> = super::cassette::load(&root().join(dir(p)).join(file))
        .into_iter()
        .filter(|it| it.is_generation(p))
        .map(|it| (it.index, it.recorded()))
        .collect();
    assert!(!out.is_empty(), "{file}: no generation call recorded");
    out
}

/// The request bodies of a cassette's generation calls (`parsed_body`, or `body` when it is a
/// JSON string), by interaction index.
pub fn cassette_requests(p: Protocol, file: &str) -> Vec<(usize, Vec<u8>)> {
    super::cassette::load(&root().join(dir(p)).join(file))
        .into_iter()
        .filter(|it| it.is_generation(p))
        .filter_map(|it| Some((it.index, serde_json::to_vec(it.request.as_ref()?).ok()?)))
        .collect()
}
