//! The one reader of the VCR cassettes (`*.yaml`) under `../shared/fixtures/upstream/` (see
//! its README): pydantic-ai's (`parsed_body`, raw SSE in `body.string`) and simonw's llm
//! plugins' (`body` as a JSON string, `body.string` as `!!binary` gzip). YAML by serde-saphyr,
//! gzip by flate2. Every fixture test reads cassettes through [`load`] (or
//! `fixtures::cassette` / `fixtures::cassette_requests`, built on it). Standalone, so the
//! per-protocol helper modules can include it by `#[path]`.
//!
//! `!!binary`: serde-saphyr decodes it only into a byte target, and a `body.string` is text in
//! one cassette and binary in the next, so the scalar is read as its base64 text and decoded
//! (by serde-saphyr again) when the recorded headers say the body was not text: VCR writes
//! `!!binary` exactly for those (`Content-Encoding: gzip`, an `image/*` body).

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test helper: a cassette it cannot read must fail the test loudly"
)]

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use switchyard_translators::ir::Protocol;

/// One recorded upstream answer (of a cassette, or a fixture file).
#[derive(Debug, Clone)]
pub enum Recorded {
    /// A non-stream JSON body (`parsed_body`), status 2xx.
    Response(Vec<u8>),
    /// A non-stream JSON body with an error status.
    Error(u16, Vec<u8>),
    /// A raw SSE body (`body.string`), as the provider framed it.
    Stream(Vec<u8>),
}

/// One recorded request/response pair of a cassette.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// Position in the cassette's `interactions` list.
    pub index: usize,
    pub uri: String,
    /// The request body as JSON: `parsed_body`, else `body` (or `body.string`) when it is a
    /// JSON text. `None` for a bodiless request (an image download).
    pub request: Option<Value>,
    pub status: u16,
    /// The response's `parsed_body` (a non-stream JSON answer).
    pub json: Option<Value>,
    /// The response's `body.string` as bytes, base64-decoded and gunzipped when it was
    /// `!!binary` (raw SSE, a JSON text, a Gemini JSON-array stream, an image).
    pub raw: Option<Vec<u8>>,
}

impl Interaction {
    /// Whether this is a call to the protocol's generation endpoint (not a helper call:
    /// image downloads, `cachedContents`, `count_tokens`).
    pub fn is_generation(&self, p: Protocol) -> bool {
        let uri = self.uri.as_str();
        match p {
            Protocol::Anthropic => uri.contains("/v1/messages") && !uri.contains("count_tokens"),
            Protocol::OpenAiChat => uri.contains("/chat/completions"),
            Protocol::OpenAiResponses => uri.contains("/responses"),
            Protocol::Gemini => {
                uri.contains(":generateContent") || uri.contains(":streamGenerateContent")
            }
        }
    }

    /// The response body as the provider sent it: `parsed_body` as JSON, else `body.string`.
    pub fn body(&self) -> Vec<u8> {
        match (&self.json, &self.raw) {
            (Some(v), _) => serde_json::to_vec(v).expect("JSON"),
            (None, Some(raw)) => raw.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// The answer as a [`Recorded`]: a JSON body (an error with a 4xx/5xx status), or a
    /// stream. A Gemini stream recorded without `alt=sse` (a JSON array of chunks) is
    /// re-framed as the `data: <chunk>\r\n\r\n` events `alt=sse` sends.
    pub fn recorded(&self) -> Recorded {
        match (&self.json, &self.raw) {
            (Some(_), _) if self.status >= 400 => Recorded::Error(self.status, self.body()),
            (Some(_), _) => Recorded::Response(self.body()),
            (None, Some(raw)) if self.status >= 400 => Recorded::Error(self.status, raw.clone()),
            (None, Some(raw)) => Recorded::Stream(json_array_as_sse(raw)),
            (None, None) => panic!("{} #{}: no response body", self.uri, self.index),
        }
    }
}

/// Every interaction of the cassette at `path`, in order. A missing file or one that does not
/// parse fails the test (serde-saphyr's message names line and column).
pub fn load(path: &Path) -> Vec<Interaction> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cassette {}: {e}", path.display()));
    let doc: RawCassette = serde_saphyr::from_str_with_options(&text, yaml_options())
        .unwrap_or_else(|e| panic!("cassette {}: {e}", path.display()));
    let name = path.display().to_string();
    doc.interactions
        .into_iter()
        .enumerate()
        .map(|(index, it)| it.into_interaction(index, &name))
        .collect()
}

/// YAML 1.2 scalars as PyYAML wrote them: only `true`/`false` are booleans, `0123` and
/// `1_000` stay text; `!!binary` is read as its base64 text (see the module docs).
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: None,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        ignore_binary_tag_for_string: true,
    }
}

#[derive(Deserialize)]
struct RawCassette {
    interactions: Vec<RawInteraction>,
}

#[derive(Deserialize)]
struct RawInteraction {
    request: RawRequest,
    response: RawResponse,
}

#[derive(Deserialize)]
struct RawRequest {
    uri: String,
    #[serde(default)]
    parsed_body: Option<Value>,
    #[serde(default)]
    body: Option<Value>,
}

#[derive(Deserialize)]
struct RawResponse {
    status: RawStatus,
    #[serde(default)]
    headers: Option<Value>,
    #[serde(default)]
    parsed_body: Option<Value>,
    #[serde(default)]
    body: Option<RawBody>,
}

#[derive(Deserialize)]
struct RawStatus {
    code: u16,
}

#[derive(Deserialize)]
struct RawBody {
    #[serde(default)]
    string: Option<String>,
}

impl RawInteraction {
    fn into_interaction(self, index: usize, file: &str) -> Interaction {
        let RawInteraction { request, response } = self;
        let json_text = |v: &Value| v.as_str().and_then(|s| serde_json::from_str(s).ok());
        let request_json = match (request.parsed_body, &request.body) {
            (Some(v), _) if v.is_object() => Some(v),
            (_, Some(b)) => json_text(b).or_else(|| b.get("string").and_then(json_text)),
            _ => None,
        };
        let binary = header_says_binary(response.headers.as_ref());
        let raw = response.body.and_then(|b| b.string).map(|s| {
            if binary {
                gunzip_if_gzip(base64(&s, file, index))
            } else {
                s.into_bytes()
            }
        });
        Interaction {
            index,
            uri: request.uri,
            request: request_json,
            status: response.status.code,
            json: response.parsed_body.filter(|v| !v.is_null()),
            raw,
        }
    }
}

/// `Content-Encoding: gzip` or an `image/*` content type (header names in any case).
fn header_says_binary(headers: Option<&Value>) -> bool {
    let Some(Value::Object(h)) = headers else {
        return false;
    };
    let values = |name: &str| -> Vec<String> {
        h.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| match v {
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            })
            .collect()
    };
    values("content-encoding").iter().any(|v| v == "gzip")
        || values("content-type")
            .iter()
            .any(|v| v.starts_with("image/"))
}

/// Base64 text (YAML line breaks included) to bytes, by serde-saphyr's `!!binary` decoder.
fn base64(text: &str, file: &str, index: usize) -> Vec<u8> {
    struct Bytes(Vec<u8>);
    impl<'de> Deserialize<'de> for Bytes {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Bytes;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a !!binary scalar")
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                    Ok(Bytes(v))
                }
            }
            d.deserialize_bytes(V)
        }
    }
    let compact: String = text.split_whitespace().collect();
    serde_saphyr::from_str::<Bytes>(&format!("!!binary {compact}"))
        .unwrap_or_else(|e| panic!("{file} #{index}: !!binary body: {e}"))
        .0
}

fn gunzip_if_gzip(bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes;
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .expect("gzip body");
    out
}

/// simonw's llm-gemini calls `:streamGenerateContent` without `alt=sse`: the body is a JSON
/// array of the chunks an SSE stream would carry one per event. Anything else is returned as is.
fn json_array_as_sse(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(chunks)) => {
            let mut out = Vec::new();
            for c in chunks {
                out.extend_from_slice(format!("data: {c}\r\n\r\n").as_bytes());
            }
            out
        }
        _ => body.to_vec(),
    }
}
