//! Gemini parts ↔ IR parts, shared by requests (`contents`, `systemInstruction`) and responses
//! (`candidates[0].content`). Pure.
//!
//! Rules (decoder ← / encoder →):
//! - `text` → [`Part::Text`]; `text` + `thought: true` → [`Part::Thinking`] (signature =
//!   `thoughtSignature`). Consecutive thought parts (a streamed thought, which clients keep as
//!   one part per chunk) join one `Thinking` until one carries a signature, so a Claude
//!   upstream gets the whole text with its signature back. A `thoughtSignature` on a non-thought text part (Gemini 3 puts it on
//!   the last part, often with empty text) becomes the text (if any) followed by a
//!   `Thinking { text: "", signature }`; the encoder puts such a signature-only thinking back on
//!   the preceding text part, or on the following function call if that has none, else emits
//!   `{"text":"","thoughtSignature":..}`.
//! - `inlineData` → [`Part::Image`] for `image/*`, else [`Part::Document`] (base64);
//!   `fileData` → [`MediaSource::Url`] for `http(s)` URIs that are not Files API URIs, else
//!   [`MediaSource::File`]. `displayName` ↔ `title` (decoded only: AI Studio rejects it).
//! - `functionCall` → [`Part::ToolCall`]; without an `id`, the id is `call_<name>_<n>` with `n`
//!   the call's position among all calls of the body (a response adds `_<responseId>`, so ids
//!   stay unique across the turns a client keeps; characters outside `[A-Za-z0-9_-]` become
//!   `_`, Anthropic's id pattern), and a later `functionResponse` without an id takes the id
//!   of the earliest unanswered call of the same name ([`CallIds`]). The
//!   dummy signatures Google documents for foreign history decode as no signature; the request
//!   encoder adds `skip_thought_signature_validator` to unsigned calls (Gemini 3 rejects a
//!   function call turn without a signature).
//! - `functionResponse.response` → tool result text: a lone `output`, `content` or `result`
//!   field gives its value (string as is, anything else as JSON text), a lone `error` field
//!   gives its value with `is_error`, any other object gives its JSON text; `{}` gives no text.
//!   `functionResponse.parts` (Gemini 3 multimodal results) give images/documents. The encoder
//!   writes `{"output": text}` or `{"error": text}` and media into `parts`.
//! - Anything else (`executableCode`, `codeExecutionResult`, ...) → [`Part::Unknown`] verbatim,
//!   put back as is by the Gemini encoder. Parts the encoder cannot express (Claude redacted
//!   thinking, OpenAI encrypted reasoning, other protocols' unknown blocks, cache-control
//!   markers) are dropped on purpose; OpenAI reasoning summaries become thought parts.

use serde_json::{Map, Value};

use super::wire::{GeminiBlob, GeminiFileData, GeminiFunctionCall, GeminiFunctionResponse};
use super::wire::{GeminiPart, GeminiPartialArg};
use crate::ir::{Media, MediaSource, Part, Protocol, ToolCall, ToolResult};

/// The signature Google documents for function calls that did not come from Gemini.
pub const DUMMY_SIGNATURE: &str = "skip_thought_signature_validator";
const DUMMY_SIGNATURES: &[&str] = &[DUMMY_SIGNATURE, "context_engineering_is_the_way_to_go"];

fn real_signature(sig: Option<String>) -> Option<String> {
    sig.filter(|s| !DUMMY_SIGNATURES.contains(&s.as_str()))
}

/// Deterministic ids for calls that have none, consistent between calls and responses.
#[derive(Debug, Clone, Default)]
pub struct CallIds {
    count: usize,
    /// `_<responseId>` for ids made in a response, empty in a request.
    suffix: String,
    /// Calls not yet answered: (name, id).
    pending: Vec<(String, String)>,
}

fn id_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl CallIds {
    /// Ids for the calls of one response: unique per `responseId`.
    pub fn for_response_id(response_id: &str) -> Self {
        Self {
            suffix: if response_id.is_empty() {
                String::new()
            } else {
                format!("_{}", id_safe(response_id))
            },
            ..Self::default()
        }
    }

    fn make(&mut self, name: &str) -> String {
        let id = format!("call_{}_{}{}", id_safe(name), self.count, self.suffix);
        self.count += 1;
        id
    }

    pub fn for_call(&mut self, name: &str, explicit: Option<&str>) -> String {
        let id = match explicit {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => self.make(name),
        };
        self.pending.push((name.to_string(), id.clone()));
        id
    }

    pub fn for_response(&mut self, name: &str, explicit: Option<&str>) -> String {
        if let Some(id) = explicit.filter(|id| !id.is_empty()) {
            self.pending.retain(|(_, pending)| pending != id);
            return id.to_string();
        }
        match self.pending.iter().position(|(n, _)| n == name) {
            Some(i) => self.pending.remove(i).1,
            None => self.make(name),
        }
    }
}

// ------------------------------------------------------------------------------------ decode

/// Decode the parts of one content.
pub fn decode_parts(parts: Vec<GeminiPart>, ids: &mut CallIds, out: &mut Vec<Part>) {
    for part in parts {
        decode_part(part, ids, out);
    }
}

fn decode_part(part: GeminiPart, ids: &mut CallIds, out: &mut Vec<Part>) {
    if !part.is_known() {
        out.push(unknown_part(&part));
        return;
    }
    let signature = real_signature(part.thought_signature.clone());
    if let Some(call) = part.function_call {
        let name = call.name.unwrap_or_default();
        let id = ids.for_call(&name, call.id.as_deref());
        let arguments = match call.args {
            Some(args) => args.to_string(),
            None => "{}".to_string(),
        };
        out.push(Part::ToolCall(ToolCall {
            id,
            name,
            arguments,
            signature,
        }));
    } else if let Some(resp) = part.function_response {
        out.push(Part::ToolResult(decode_function_response(resp, ids)));
    } else if let Some(blob) = part.inline_data {
        out.push(media_part(
            &blob.mime_type,
            MediaSource::Base64 {
                media_type: blob.mime_type.clone(),
                data: blob.data,
            },
            blob.display_name,
        ));
    } else if let Some(file) = part.file_data {
        out.push(decode_file_data(file));
    } else if let Some(text) = part.text {
        if part.thought == Some(true) {
            match out.last_mut() {
                // A thought streamed over several chunks, kept by the client as several parts.
                Some(Part::Thinking {
                    text: prev,
                    signature: prev_signature @ None,
                }) => {
                    prev.push_str(&text);
                    *prev_signature = signature;
                }
                _ => out.push(Part::Thinking { text, signature }),
            }
        } else {
            if !text.is_empty() || signature.is_none() {
                out.push(Part::Text {
                    text,
                    cache_control: None,
                });
            }
            if signature.is_some() {
                out.push(Part::Thinking {
                    text: String::new(),
                    signature,
                });
            }
        }
    }
}

pub fn unknown_part(part: &GeminiPart) -> Part {
    Part::Unknown {
        protocol: Protocol::Gemini,
        value: serde_json::to_value(part).unwrap_or(Value::Null),
    }
}

fn media_part(mime: &str, source: MediaSource, title: Option<String>) -> Part {
    let media = Media {
        source,
        cache_control: None,
        title,
    };
    if mime.starts_with("image/") {
        Part::Image(media)
    } else {
        Part::Document(media)
    }
}

fn decode_file_data(file: GeminiFileData) -> Part {
    let uri = file.file_uri;
    let is_web = (uri.starts_with("https://") || uri.starts_with("http://"))
        && !uri.contains("generativelanguage.googleapis.com/");
    let mime = file.mime_type.clone().unwrap_or_default();
    let source = if is_web {
        MediaSource::Url {
            url: uri,
            media_type: file.mime_type,
        }
    } else {
        MediaSource::File {
            id: uri,
            media_type: file.mime_type,
        }
    };
    media_part(&mime, source, file.display_name)
}

fn decode_function_response(resp: GeminiFunctionResponse, ids: &mut CallIds) -> ToolResult {
    let call_id = ids.for_response(&resp.name, resp.id.as_deref());
    let (text, is_error) = response_text(resp.response);
    let mut content = Vec::new();
    if let Some(text) = text {
        content.push(Part::Text {
            text,
            cache_control: None,
        });
    }
    let mut nested = CallIds::default();
    for part in resp.parts {
        decode_part(part, &mut nested, &mut content);
    }
    ToolResult {
        call_id,
        name: (!resp.name.is_empty()).then_some(resp.name),
        content,
        is_error,
    }
}

fn value_text(v: Value) -> Option<String> {
    match v {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// See the module docs for the rule.
fn response_text(response: Option<Value>) -> (Option<String>, bool) {
    match response {
        None => (None, false),
        Some(Value::Object(obj)) if obj.is_empty() => (None, false),
        Some(Value::Object(mut obj)) if obj.len() == 1 => {
            for key in ["output", "content", "result"] {
                if let Some(v) = obj.remove(key) {
                    return (value_text(v), false);
                }
            }
            if let Some(v) = obj.remove("error") {
                return (value_text(v), true);
            }
            (Some(Value::Object(obj).to_string()), false)
        }
        Some(other) => (Some(other.to_string()), false),
    }
}

// ------------------------------------------------------------------------------------ encode

/// What the part encoder needs to know beyond the parts.
pub struct EncodeParts<'a> {
    /// Add [`DUMMY_SIGNATURE`] to unsigned function calls (requests to Gemini).
    pub dummy_signatures: bool,
    /// Names of earlier tool calls by id, for tool results that lack a name.
    pub call_names: &'a [(String, String)],
}

/// Encode the parts of one content.
pub fn encode_parts(parts: &[Part], opts: &EncodeParts<'_>) -> Vec<GeminiPart> {
    let mut out: Vec<GeminiPart> = Vec::new();
    let mut carried_signature: Option<String> = None;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Thinking {
                text,
                signature: Some(sig),
            } if text.is_empty() => {
                if let Some(last) = out.last_mut().filter(|p| accepts_signature(p)) {
                    last.thought_signature = Some(sig.clone());
                } else if matches!(parts.get(i + 1), Some(Part::ToolCall(c)) if c.signature.is_none())
                {
                    carried_signature = Some(sig.clone());
                } else {
                    out.push(GeminiPart {
                        text: Some(String::new()),
                        thought_signature: Some(sig.clone()),
                        ..GeminiPart::default()
                    });
                }
            }
            Part::ToolCall(call) => {
                let signature = call
                    .signature
                    .clone()
                    .or_else(|| carried_signature.take())
                    .or_else(|| opts.dummy_signatures.then(|| DUMMY_SIGNATURE.to_string()));
                out.push(encode_tool_call(call, signature));
            }
            other => encode_simple(other, opts, &mut out),
        }
    }
    out
}

/// A plain text part without a signature can carry a following signature-only thinking.
fn accepts_signature(p: &GeminiPart) -> bool {
    p.text.is_some()
        && p.thought != Some(true)
        && p.thought_signature.is_none()
        && p.function_call.is_none()
}

fn encode_simple(part: &Part, opts: &EncodeParts<'_>, out: &mut Vec<GeminiPart>) {
    match part {
        Part::Text { text, .. } => out.push(GeminiPart::text(text.clone())),
        Part::Thinking { text, signature } => out.push(GeminiPart {
            text: Some(text.clone()),
            thought: Some(true),
            thought_signature: signature.clone(),
            ..GeminiPart::default()
        }),
        Part::Reasoning(item) => {
            for summary in &item.summary {
                out.push(GeminiPart {
                    text: Some(summary.clone()),
                    thought: Some(true),
                    ..GeminiPart::default()
                });
            }
        }
        Part::Image(media) | Part::Document(media) => {
            out.push(encode_media(media, matches!(part, Part::Image(_))))
        }
        Part::ToolResult(result) => out.push(encode_tool_result(result, opts)),
        Part::Unknown {
            protocol: Protocol::Gemini,
            value,
        } => {
            if let Ok(p) = serde_json::from_value::<GeminiPart>(value.clone()) {
                out.push(p);
            }
        }
        // Not expressible in Gemini (see module docs).
        Part::RedactedThinking { .. } | Part::Unknown { .. } | Part::ToolCall(_) => {}
    }
}

fn encode_tool_call(call: &ToolCall, signature: Option<String>) -> GeminiPart {
    let args = match serde_json::from_str::<Value>(&call.arguments) {
        Ok(Value::Null) => Value::Object(Map::new()),
        Ok(v) => v,
        Err(_) if call.arguments.trim().is_empty() => Value::Object(Map::new()),
        // Arguments that are not JSON (a model's malformed output): keep them visible.
        Err(_) => {
            let mut m = Map::new();
            m.insert("arguments".into(), Value::String(call.arguments.clone()));
            Value::Object(m)
        }
    };
    GeminiPart {
        function_call: Some(GeminiFunctionCall {
            id: Some(call.id.clone()).filter(|id| !id.is_empty()),
            name: Some(call.name.clone()),
            args: Some(args),
            ..GeminiFunctionCall::default()
        }),
        thought_signature: signature,
        ..GeminiPart::default()
    }
}

fn guess_mime(url: &str, image: bool) -> String {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let ext = path.rsplit('.').next().unwrap_or("");
    let known = match ext {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "heic" => Some("image/heic"),
        "pdf" => Some("application/pdf"),
        "txt" => Some("text/plain"),
        _ => None,
    };
    let fallback = if image {
        "image/jpeg"
    } else {
        "application/pdf"
    };
    known.unwrap_or(fallback).to_string()
}

fn encode_media(media: &Media, image: bool) -> GeminiPart {
    match &media.source {
        MediaSource::Base64 { media_type, data } => GeminiPart {
            inline_data: Some(GeminiBlob {
                mime_type: media_type.clone(),
                data: data.clone(),
                ..GeminiBlob::default()
            }),
            ..GeminiPart::default()
        },
        MediaSource::Url { url, media_type }
        | MediaSource::File {
            id: url,
            media_type,
        } => GeminiPart {
            file_data: Some(GeminiFileData {
                mime_type: Some(media_type.clone().unwrap_or_else(|| guess_mime(url, image))),
                file_uri: url.clone(),
                ..GeminiFileData::default()
            }),
            ..GeminiPart::default()
        },
    }
}

fn encode_tool_result(result: &ToolResult, opts: &EncodeParts<'_>) -> GeminiPart {
    let mut texts = Vec::new();
    let mut media = Vec::new();
    for part in &result.content {
        match part {
            Part::Text { text, .. } => texts.push(text.as_str()),
            Part::Image(m) => media.push(encode_media(m, true)),
            Part::Document(m) => media.push(encode_media(m, false)),
            _ => {}
        }
    }
    let mut response = Map::new();
    let key = if result.is_error { "error" } else { "output" };
    if !texts.is_empty() || result.is_error {
        response.insert(key.into(), Value::String(texts.join("\n")));
    }
    GeminiPart {
        function_response: Some(GeminiFunctionResponse {
            id: Some(result.call_id.clone()).filter(|id| !id.is_empty()),
            name: tool_result_name(result, opts.call_names),
            response: Some(Value::Object(response)),
            parts: media,
            ..GeminiFunctionResponse::default()
        }),
        ..GeminiPart::default()
    }
}

/// `functionResponse.name` is required: the result's own name, else the name of the call
/// with the same id, else the name inside one of our own `call_<name>_<n>` ids, else the id.
fn tool_result_name(result: &ToolResult, call_names: &[(String, String)]) -> String {
    if let Some(name) = result.name.as_ref().filter(|n| !n.is_empty()) {
        return name.clone();
    }
    if let Some((_, name)) = call_names.iter().find(|(id, _)| *id == result.call_id) {
        return name.clone();
    }
    if let Some(rest) = result.call_id.strip_prefix("call_") {
        if let Some((name, n)) = rest.rsplit_once('_') {
            if !name.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                return name.to_string();
            }
        }
    }
    result.call_id.clone()
}

/// Apply one streamed argument fragment (`$.a.b[2].c`) to the arguments built so far.
pub fn apply_partial_arg(root: &mut Value, arg: &GeminiPartialArg) {
    let value = if let Some(s) = &arg.string_value {
        Value::String(s.clone())
    } else if let Some(n) = &arg.number_value {
        n.clone()
    } else if let Some(b) = arg.bool_value {
        Value::Bool(b)
    } else {
        Value::Null
    };
    let Some(slot) = path_slot(root, &arg.json_path) else {
        return;
    };
    match (slot, value) {
        (Value::String(existing), Value::String(more)) => existing.push_str(&more),
        (slot, value) => *slot = value,
    }
}

/// Most segments a streamed argument path may have: serde_json reads no deeper JSON, and
/// dropping or printing a deeper value recurses once per level.
const MAX_PARTIAL_ARG_DEPTH: usize = 128;

/// One step of a `$.a[1].b` path.
enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

/// The steps of a `$.a[1].b` path (`['key']` and `["key"]` are keys too); `None` if it is
/// malformed or longer than [`MAX_PARTIAL_ARG_DEPTH`] steps.
fn path_segments(path: &str) -> Option<Vec<Segment<'_>>> {
    let mut chars = path.strip_prefix('$')?;
    let mut out = Vec::new();
    while !chars.is_empty() {
        if out.len() == MAX_PARTIAL_ARG_DEPTH {
            return None;
        }
        if let Some(after) = chars.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            out.push(Segment::Key(&after[..end]));
            chars = &after[end..];
        } else if let Some(after) = chars.strip_prefix('[') {
            let end = after.find(']')?;
            let inner = &after[..end];
            chars = &after[end + 1..];
            out.push(match inner.parse::<usize>() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Key(inner.trim_matches(['\'', '"'])),
            });
        } else {
            return None;
        }
    }
    Some(out)
}

/// The value at a `$.a[1].b` path, created (as objects, arrays and nulls) if missing.
///
/// The upstream controls the path, so what it may create is bounded by the path's length: an
/// array index may name an existing element or the next one (Gemini streams elements in
/// order), not one further on (`$.a[300000000]` allocated gigabytes of nulls before), and a
/// path has at most [`MAX_PARTIAL_ARG_DEPTH`] steps. Such a fragment is dropped (`None`); a
/// too-large index drops it after the containers on the way were created.
fn path_slot<'v>(root: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut node = root;
    for segment in path_segments(path)? {
        match segment {
            Segment::Key(key) => {
                if !node.is_object() {
                    *node = Value::Object(Map::new());
                }
                node = node.as_object_mut()?.entry(key).or_insert(Value::Null);
            }
            Segment::Index(index) => {
                if !node.is_array() {
                    *node = Value::Array(Vec::new());
                }
                let arr = node.as_array_mut()?;
                if index == arr.len() {
                    arr.push(Value::Null);
                }
                node = arr.get_mut(index)?;
            }
        }
    }
    Some(node)
}
