//! OpenAI Chat request decoder (`POST /v1/chat/completions` body into [`Request`]) and the
//! decisions both request directions follow (the encoder is `request_encode.rs`).
//!
//! Pure. Decisions (each one also in the tests):
//! - Leading `system` and `developer` messages are [`Request::system`]; the encoder writes one
//!   `system` message per text part (plain strings: every compatible provider takes them, and
//!   o1-mini rejects `developer`). Later system/developer messages stay positional with their
//!   role.
//! - `tool` messages become [`Part::ToolResult`]s; consecutive ones merge into one user
//!   message, in order, with the function name taken from the assistant call they answer.
//!   Chat has no `is_error` (dropped) and tool messages take text only: images and documents of
//!   a tool result follow the tool messages in one user message (as pydantic-ai does).
//! - `max_completion_tokens` wins over `max_tokens`; the encoder writes only
//!   `max_completion_tokens` (OpenAI reasoning models reject `max_tokens`; see the fixture
//!   `reasoning-model-legacy-parameter-error.json`).
//! - Reasoning: `reasoning_effort` (`none` = disabled), or OpenRouter's `reasoning` object; the
//!   encoder writes `reasoning_effort` after [`crate::reasoning::for_target`].
//! - Assistant thinking travels as `reasoning_content` both ways (DeepSeek and Moonshot need it
//!   back on tool-call turns; Groq's `reasoning` is read too); a Responses reasoning item's
//!   summaries are written the same way. Empty assistant text (`content: ""` beside tool calls)
//!   is not carried.
//! - `user` / `safety_identifier` → `user_id` (encoder: `user`, which every compatible provider
//!   knows); `prompt_cache_key` → `cache_key`.
//! - A streaming request always asks for `stream_options.include_usage` (the gateway meters
//!   usage); whether the *client* gets a usage chunk is [`crate::StreamOptions`].
//! - Dropped by the encoder, on purpose: `cache_control` (OpenAI rejects unknown part fields),
//!   `top_k` (OpenAI rejects it), thinking signatures, redacted thinking, `encrypted_content`
//!   of reasoning items, image `detail` (the IR has no place for it), unknown parts/tools of other
//!   protocols. A document given by URL is [`TranslateError::Unsupported`]: Chat `file` parts
//!   take inline data or a file id only.

use serde_json::{json, Map, Value};

use super::wire::*;
use crate::ir::{
    CacheControl, FunctionTool, Media, MediaSource, Message, OutputFormat, Part, Protocol,
    Reasoning, ReasoningMode, Request, Role, Sampling, Tool, ToolCall, ToolChoice, ToolResult,
};
use crate::reasoning::effort_from_str;
use crate::TranslateError;

pub(crate) const PROTOCOL: &str = "OpenAI Chat";

pub(crate) fn invalid(e: impl std::fmt::Display) -> TranslateError {
    TranslateError::InvalidBody {
        protocol: PROTOCOL,
        message: e.to_string(),
    }
}

// ------------------------------------------------------------------------------------- decode

/// Decode a Chat Completions request body.
pub fn decode_request(body: &[u8]) -> Result<Request, TranslateError> {
    let mut wire: OpenAiChatRequest = serde_json::from_slice(body).map_err(invalid)?;
    let mut extra = std::mem::take(&mut wire.extra);
    let (system, messages) = decode_messages(std::mem::take(&mut wire.messages))?;
    let tool_choice = match wire.tool_choice.take() {
        Some(v) => match decode_tool_choice(&v) {
            Some(c) => Some(c),
            None => {
                extra.insert("tool_choice".into(), v);
                None
            }
        },
        None => None,
    };
    let reasoning = decode_reasoning(&wire, &mut extra);
    let stop = match wire.stop.take() {
        Some(OpenAiChatStop::One(s)) => vec![s],
        Some(OpenAiChatStop::Many(v)) => v,
        None => Vec::new(),
    };
    Ok(Request {
        model: wire.model,
        system,
        messages,
        tools: wire
            .tools
            .unwrap_or_default()
            .into_iter()
            .map(decode_tool)
            .collect(),
        tool_choice,
        parallel_tool_calls: wire.parallel_tool_calls,
        sampling: Sampling {
            temperature: wire.temperature,
            top_p: wire.top_p,
            top_k: wire.top_k,
            max_tokens: wire.max_completion_tokens.or(wire.max_tokens),
            stop,
            seed: wire.seed,
            presence_penalty: wire.presence_penalty,
            frequency_penalty: wire.frequency_penalty,
        },
        output_format: wire.response_format.map(decode_format),
        reasoning,
        stream: wire.stream.unwrap_or(false),
        include_usage: wire
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
        user_id: wire.user.or(wire.safety_identifier),
        cache_key: wire.prompt_cache_key,
        extra: (!extra.is_empty()).then_some((Protocol::OpenAiChat, extra)),
    })
}

type Decoded = (Vec<Part>, Vec<Message>);

fn decode_messages(wire: Vec<OpenAiChatMessage>) -> Result<Decoded, TranslateError> {
    let mut system = Vec::new();
    let mut messages: Vec<Message> = Vec::new();
    // Function names by call id, for `ToolResult::name` (Gemini needs them).
    let mut names: Vec<(String, String)> = Vec::new();
    let mut leading = true;
    let mut last_was_tool = false;
    for m in wire {
        let role = m.role.as_str();
        if leading && (role == "system" || role == "developer") {
            system.extend(decode_content(m.content));
            continue;
        }
        leading = false;
        let is_tool = role == "tool" || role == "function";
        match role {
            "system" | "developer" | "user" => {
                let role = match role {
                    "system" => Role::System,
                    "developer" => Role::Developer,
                    _ => Role::User,
                };
                messages.push(Message {
                    role,
                    parts: decode_content(m.content),
                });
            }
            "assistant" => {
                let msg = decode_assistant(m);
                for p in &msg.parts {
                    if let Part::ToolCall(c) = p {
                        names.push((c.id.clone(), c.name.clone()));
                    }
                }
                messages.push(msg);
            }
            "tool" | "function" => {
                let call_id = match role {
                    "tool" => m.tool_call_id.unwrap_or_default(),
                    _ => m.name.clone().unwrap_or_default(),
                };
                let name = names
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == call_id)
                    .map(|(_, n)| n.clone())
                    .or(m.name);
                let part = Part::ToolResult(ToolResult {
                    call_id,
                    name,
                    content: decode_content(m.content),
                    is_error: false,
                });
                match messages.last_mut() {
                    Some(prev) if last_was_tool => prev.parts.push(part),
                    _ => messages.push(Message {
                        role: Role::User,
                        parts: vec![part],
                    }),
                }
            }
            other => return Err(invalid(format!("unknown message role {other:?}"))),
        }
        last_was_tool = is_tool;
    }
    Ok((system, messages))
}

fn decode_assistant(m: OpenAiChatMessage) -> Message {
    let mut parts = Vec::new();
    if let Some(text) = m
        .reasoning_content
        .or(m.reasoning)
        .filter(|t| !t.is_empty())
    {
        parts.push(Part::Thinking {
            text,
            signature: None,
        });
    }
    // Clients send `content: ""` next to tool calls; an empty text block is an error for
    // Anthropic, so it is not carried.
    parts.extend(
        decode_content(m.content)
            .into_iter()
            .filter(|p| !matches!(p, Part::Text { text, .. } if text.is_empty())),
    );
    if let Some(r) = m.refusal.filter(|r| !r.is_empty()) {
        parts.push(Part::Unknown {
            protocol: Protocol::OpenAiChat,
            value: json!({"type": "refusal", "refusal": r}),
        });
    }
    for call in m.tool_calls.unwrap_or_default() {
        parts.push(decode_tool_call(call));
    }
    Message {
        role: Role::Assistant,
        parts,
    }
}

pub(crate) fn decode_tool_call(call: OpenAiChatToolCall) -> Part {
    match call.function {
        Some(f) if call.kind == "function" => Part::ToolCall(ToolCall {
            id: call.id,
            name: f.name,
            arguments: arguments_text(f.arguments),
            signature: None,
        }),
        function => {
            let mut value = Map::new();
            value.insert("id".into(), Value::String(call.id));
            value.insert("type".into(), Value::String(call.kind));
            if let Some(f) = function {
                value.insert("function".into(), json!(f));
            }
            value.extend(call.extra);
            Part::Unknown {
                protocol: Protocol::OpenAiChat,
                value: Value::Object(value),
            }
        }
    }
}

/// Arguments as JSON text: a string is kept as is, an object (some providers) re-serialised.
pub(crate) fn arguments_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "{}".to_owned(),
        other => other.to_string(),
    }
}

pub(crate) fn decode_content(c: OpenAiChatContent) -> Vec<Part> {
    match c {
        OpenAiChatContent::Absent | OpenAiChatContent::Null => Vec::new(),
        OpenAiChatContent::Text(t) => vec![text(t)],
        OpenAiChatContent::Parts(parts) => parts.into_iter().map(decode_part).collect(),
    }
}

fn text(t: String) -> Part {
    Part::Text {
        text: t,
        cache_control: None,
    }
}

fn decode_part(p: OpenAiChatPart) -> Part {
    match p {
        OpenAiChatPart::Known(OpenAiChatKnownPart::Text {
            text,
            cache_control,
        }) => Part::Text {
            text,
            cache_control: cache_control.map(CacheControl),
        },
        OpenAiChatPart::Known(OpenAiChatKnownPart::ImageUrl { image_url }) => {
            Part::Image(media(source_from_url(image_url.url), None))
        }
        OpenAiChatPart::Known(OpenAiChatKnownPart::File { file }) => decode_file(file),
        OpenAiChatPart::Known(k @ OpenAiChatKnownPart::Refusal { .. }) => Part::Unknown {
            protocol: Protocol::OpenAiChat,
            value: json!(k),
        },
        OpenAiChatPart::Unknown(value) => Part::Unknown {
            protocol: Protocol::OpenAiChat,
            value,
        },
    }
}

fn decode_file(file: OpenAiChatFile) -> Part {
    let source = match (file.file_data, file.file_id) {
        (Some(data), _) => source_from_url(data),
        (None, Some(id)) => MediaSource::File {
            id,
            media_type: None,
        },
        (None, None) => MediaSource::Base64 {
            media_type: String::new(),
            data: String::new(),
        },
    };
    let is_image = matches!(&source, MediaSource::Base64 { media_type, .. } if media_type.starts_with("image/"));
    let m = media(source, file.filename);
    if is_image {
        Part::Image(m)
    } else {
        Part::Document(m)
    }
}

fn media(source: MediaSource, title: Option<String>) -> Media {
    Media {
        source,
        cache_control: None,
        title,
    }
}

/// `data:<type>;base64,<data>` → Base64; anything else → Url (kept verbatim).
fn source_from_url(url: String) -> MediaSource {
    if let Some(rest) = url.strip_prefix("data:") {
        if let Some((meta, data)) = rest.split_once(',') {
            if let Some(media_type) = meta.strip_suffix(";base64") {
                return MediaSource::Base64 {
                    media_type: media_type.to_owned(),
                    data: data.to_owned(),
                };
            }
        }
    }
    MediaSource::Url {
        url,
        media_type: None,
    }
}

fn decode_tool(t: OpenAiChatTool) -> Tool {
    match t {
        OpenAiChatTool::Function(f) => Tool::Function(FunctionTool {
            name: f.name,
            description: f.description,
            parameters: f
                .parameters
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            strict: f.strict,
            cache_control: None,
        }),
        OpenAiChatTool::Unknown(value) => Tool::Unknown {
            protocol: Protocol::OpenAiChat,
            value,
        },
    }
}

fn decode_tool_choice(v: &Value) -> Option<ToolChoice> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "none" => Some(ToolChoice::None),
            "required" => Some(ToolChoice::Required),
            _ => None,
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Tool(n.to_owned())),
        _ => None,
    }
}

fn decode_format(f: OpenAiChatResponseFormat) -> OutputFormat {
    match f {
        OpenAiChatResponseFormat::Text => OutputFormat::Text,
        OpenAiChatResponseFormat::JsonObject => OutputFormat::JsonObject,
        OpenAiChatResponseFormat::JsonSchema { json_schema } => OutputFormat::JsonSchema {
            name: (!json_schema.name.is_empty()).then_some(json_schema.name),
            schema: json_schema.schema.unwrap_or_else(|| json!({})),
            strict: json_schema.strict,
        },
    }
}

fn effort_mode(s: &str) -> Option<ReasoningMode> {
    match s {
        "none" => Some(ReasoningMode::Disabled),
        s => effort_from_str(s).map(ReasoningMode::Effort),
    }
}

fn decode_reasoning(wire: &OpenAiChatRequest, extra: &mut Map<String, Value>) -> Option<Reasoning> {
    let mut out = Reasoning::default();
    let mut any = false;
    if let Some(r) = &wire.reasoning {
        any = true;
        if let Some(mode) = r.effort.as_deref().and_then(effort_mode) {
            out.mode = mode;
        } else if let Some(n) = r.max_tokens {
            out.mode = ReasoningMode::Budget(n);
        } else if r.enabled == Some(false) {
            out.mode = ReasoningMode::Disabled;
        } else if r.enabled == Some(true) {
            out.mode = ReasoningMode::Adaptive;
        }
        out.include_thoughts = r.exclude.map(|e| !e);
        out.summary = r.summary.clone();
    }
    if let Some(e) = &wire.reasoning_effort {
        match effort_mode(e) {
            Some(mode) => {
                any = true;
                out.mode = mode;
            }
            None => {
                extra.insert("reasoning_effort".into(), Value::String(e.clone()));
            }
        }
    }
    any.then_some(out)
}
