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

/// One recorded upstream answer of a cassette.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// A non-stream JSON body (`parsed_body`), status 2xx.
    Response(Vec<u8>),
    /// A non-stream JSON body with an error status.
    Error(u16, Vec<u8>),
    /// A raw SSE body (`body.string`), as the provider framed it.
    Stream(Vec<u8>),
}

/// The answers to generation calls in a VCR cassette (`*.yaml`), by interaction index.
/// Helper calls (image downloads, `cachedContents`, `count_tokens`) are left out by their URI.
/// Gzip (`!!binary`) bodies are decompressed. A Gemini stream recorded without `alt=sse` (a
/// JSON array of chunks) is re-framed as the `data: <chunk>\r\n\r\n` events `alt=sse` sends.
pub fn cassette(p: Protocol, file: &str) -> Vec<(usize, Recorded)> {
    let raw = read(p, file);
    let text = String::from_utf8(raw).expect("cassette is UTF-8");
    let v = super::yaml::parse(&text);
    let interactions = v["interactions"]
        .as_array()
        .expect("cassette has interactions");
    let mut out = Vec::new();
    for (i, it) in interactions.iter().enumerate() {
        let uri = it["request"]["uri"].as_str().unwrap_or("");
        let generation = match p {
            Protocol::Anthropic => uri.contains("/v1/messages") && !uri.contains("count_tokens"),
            Protocol::OpenAiChat => uri.contains("/chat/completions"),
            Protocol::OpenAiResponses => uri.contains("/responses"),
            Protocol::Gemini => {
                uri.contains(":generateContent") || uri.contains(":streamGenerateContent")
            }
        };
        if !generation {
            continue;
        }
        let resp = &it["response"];
        let status = resp["status"]["code"].as_u64().unwrap_or(200) as u16;
        let rec = if let Some(body) = resp.get("parsed_body") {
            let bytes = serde_json::to_vec(body).expect("JSON");
            if status >= 400 {
                Recorded::Error(status, bytes)
            } else {
                Recorded::Response(bytes)
            }
        } else {
            match &resp["body"]["string"] {
                serde_json::Value::String(s) if status >= 400 => {
                    Recorded::Error(status, s.clone().into_bytes())
                }
                serde_json::Value::String(s) => Recorded::Stream(s.clone().into_bytes()),
                other => match other.get("!!binary").and_then(|b| b.as_str()) {
                    Some(b64) => {
                        let zipped = super::gzip::base64_decode(b64).expect("base64");
                        let body = super::gzip::gunzip(&zipped).expect("gzip");
                        Recorded::Stream(json_array_as_sse(body))
                    }
                    None => panic!("{file} #{i}: body {:.80}", other.to_string()),
                },
            }
        };
        out.push((i, rec));
    }
    assert!(!out.is_empty(), "{file}: no generation call recorded");
    out
}

/// simonw's llm-gemini calls `:streamGenerateContent` without `alt=sse`: the body is a JSON
/// array of the chunks an SSE stream would carry one per event. Anything else is returned as is.
fn json_array_as_sse(body: Vec<u8>) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Array(chunks)) => {
            let mut out = Vec::new();
            for c in chunks {
                out.extend_from_slice(format!("data: {c}\r\n\r\n").as_bytes());
            }
            out
        }
        _ => body,
    }
}

/// The request bodies of a cassette's generation calls (`parsed_body`, or `body` when it is a
/// JSON string), by interaction index.
pub fn cassette_requests(p: Protocol, file: &str) -> Vec<(usize, Vec<u8>)> {
    let raw = read(p, file);
    let text = String::from_utf8(raw).expect("cassette is UTF-8");
    let v = super::yaml::parse(&text);
    let interactions = v["interactions"]
        .as_array()
        .expect("cassette has interactions");
    let mut out = Vec::new();
    for (i, it) in interactions.iter().enumerate() {
        let req = &it["request"];
        let uri = req["uri"].as_str().unwrap_or("");
        let generation = match p {
            Protocol::Anthropic => uri.contains("/v1/messages") && !uri.contains("count_tokens"),
            Protocol::OpenAiChat => uri.contains("/chat/completions"),
            Protocol::OpenAiResponses => uri.contains("/responses"),
            Protocol::Gemini => {
                uri.contains(":generateContent") || uri.contains(":streamGenerateContent")
            }
        };
        if !generation {
            continue;
        }
        let body = match (req.get("parsed_body"), &req["body"]) {
            (Some(b), _) => serde_json::to_vec(b).expect("JSON"),
            (None, serde_json::Value::String(s)) if !s.is_empty() => s.clone().into_bytes(),
            _ => continue,
        };
        out.push((i, body));
    }
    out
}
