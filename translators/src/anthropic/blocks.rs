//! Content blocks ↔ IR parts, shared by requests and responses. Pure.
//!
//! | Anthropic block | IR |
//! | --- | --- |
//! | `text` (+ `cache_control`) | `Part::Text` (`citations` are dropped: the IR has none) |
//! | `image` base64 / url / file | `Part::Image` with `MediaSource::{Base64, Url, File}` |
//! | `document` base64 / url / file | `Part::Document` |
//! | `document` text source | `Part::Document`, `Base64 { media_type: "text/plain" }` (bytes base64-encoded, decoded back on the way out) |
//! | `thinking` (+ `signature`) | `Part::Thinking` |
//! | `redacted_thinking` | `Part::RedactedThinking` |
//! | `tool_use` | `Part::ToolCall` (`input` serialised to JSON text) |
//! | `tool_result` | `Part::ToolResult` (string content becomes one text part) |
//! | anything else (server tools, MCP, search results, `content` documents, ...) | `Part::Unknown { protocol: Anthropic }` |
//!
//! On the way out, `Part::Unknown` of another protocol is dropped (it means nothing here), and
//! an OpenAI reasoning item becomes a `thinking` block whose signature is
//! `openai-reasoning:<item id>:<encrypted_content>` ([`reasoning_signature`]); a client that
//! sends that block back gives the IR reasoning item again, so an OpenAI upstream gets its
//! encrypted content back while a Claude upstream never sees it (the request encoder drops
//! reasoning items: Claude cannot verify them).

use serde_json::{Map, Value};

use super::wire::{AnthropicContent, AnthropicContentBlock, AnthropicKnownBlock, AnthropicSource};
use super::Lenient;
use crate::b64;
use crate::ir::{
    CacheControl, Media, MediaSource, Part, Protocol, ReasoningItem, ToolCall, ToolResult,
};

/// Marks a thinking signature that carries an OpenAI reasoning item.
const OPENAI_REASONING: &str = "openai-reasoning:";

/// The thinking signature that carries an OpenAI reasoning item's id and encrypted content.
pub(crate) fn reasoning_signature(id: Option<&str>, encrypted: &str) -> String {
    format!("{OPENAI_REASONING}{}:{encrypted}", id.unwrap_or_default())
}

pub(crate) fn cache(v: Option<Value>) -> Option<CacheControl> {
    v.map(CacheControl)
}

fn uncache(c: &Option<CacheControl>) -> Option<Value> {
    c.as_ref().map(|c| c.0.clone())
}

/// Content as a string or blocks, into parts.
pub(crate) fn content_to_parts(content: AnthropicContent) -> Vec<Part> {
    match content {
        AnthropicContent::Text(text) => vec![Part::Text {
            text,
            cache_control: None,
        }],
        AnthropicContent::Blocks(blocks) => blocks.into_iter().map(block_to_part).collect(),
    }
}

fn media(source: AnthropicSource, cache_control: Option<Value>, title: Option<String>) -> Media {
    let source = match source {
        AnthropicSource::Base64 { media_type, data } => MediaSource::Base64 { media_type, data },
        AnthropicSource::Url { url } => MediaSource::Url {
            url,
            media_type: None,
        },
        AnthropicSource::File { file_id } => MediaSource::File {
            id: file_id,
            media_type: None,
        },
        AnthropicSource::Text { media_type, data } => MediaSource::Base64 {
            media_type,
            data: b64::encode(data.as_bytes()),
        },
    };
    Media {
        source,
        cache_control: cache(cache_control),
        title,
    }
}

pub(crate) fn block_to_part(block: AnthropicContentBlock) -> Part {
    let block = match block {
        Lenient::Known(b) => b,
        Lenient::Unknown(value) => {
            return Part::Unknown {
                protocol: Protocol::Anthropic,
                value,
            }
        }
    };
    match block {
        AnthropicKnownBlock::Text {
            text,
            cache_control,
        } => Part::Text {
            text,
            cache_control: cache(cache_control),
        },
        AnthropicKnownBlock::Image {
            source,
            cache_control,
        } => Part::Image(media(source, cache_control, None)),
        AnthropicKnownBlock::Document {
            source,
            title,
            cache_control,
        } => Part::Document(media(source, cache_control, title)),
        AnthropicKnownBlock::Thinking {
            thinking,
            signature,
        } => match signature
            .as_deref()
            .and_then(|s| s.strip_prefix(OPENAI_REASONING))
            .and_then(|rest| rest.split_once(':'))
        {
            Some((id, encrypted)) => Part::Reasoning(ReasoningItem {
                id: (!id.is_empty()).then(|| id.to_owned()),
                summary: if thinking.is_empty() {
                    Vec::new()
                } else {
                    vec![thinking]
                },
                encrypted_content: Some(encrypted.to_owned()),
            }),
            None => Part::Thinking {
                text: thinking,
                signature: signature.filter(|s| !s.is_empty()),
            },
        },
        AnthropicKnownBlock::RedactedThinking { data } => Part::RedactedThinking { data },
        AnthropicKnownBlock::ToolUse { id, name, input } => Part::ToolCall(ToolCall {
            id,
            name,
            arguments: input_to_arguments(&input),
            signature: None,
        }),
        AnthropicKnownBlock::ToolResult {
            tool_use_id,
            content,
            is_error,
            cache_control: _,
        } => Part::ToolResult(ToolResult {
            call_id: tool_use_id,
            name: None,
            content: content.map(content_to_parts).unwrap_or_default(),
            is_error: is_error.unwrap_or(false),
        }),
    }
}

/// `input` object as JSON text; `null` (absent) is `{}`.
pub(crate) fn input_to_arguments(input: &Value) -> String {
    match input {
        Value::Null => "{}".into(),
        v => v.to_string(),
    }
}

/// JSON text of arguments as an `input` object. Anthropic requires an object: empty or
/// unparsable text (a truncated stream) becomes `{}`, a non-object value `{"value": v}`.
pub(crate) fn arguments_to_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(other) => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            Value::Object(m)
        }
        Err(_) => Value::Object(Map::new()),
    }
}

fn source_out(m: &Media, document: bool) -> Option<AnthropicSource> {
    Some(match &m.source {
        MediaSource::Base64 { media_type, data } => {
            if document && media_type.starts_with("text/") {
                // Anthropic takes plain text documents as a `text` source, not base64.
                match b64::decode(data).and_then(|b| String::from_utf8(b).ok()) {
                    Some(text) => AnthropicSource::Text {
                        media_type: "text/plain".into(),
                        data: text,
                    },
                    None => AnthropicSource::Base64 {
                        media_type: media_type.clone(),
                        data: data.clone(),
                    },
                }
            } else {
                AnthropicSource::Base64 {
                    media_type: media_type.clone(),
                    data: data.clone(),
                }
            }
        }
        MediaSource::Url { url, .. } => AnthropicSource::Url { url: url.clone() },
        MediaSource::File { id, .. } => AnthropicSource::File {
            file_id: id.clone(),
        },
    })
}

/// One part as a block; `None` when Anthropic cannot express it here (reason in the match).
pub(crate) fn part_to_block(part: &Part) -> Option<AnthropicContentBlock> {
    let known = match part {
        Part::Text {
            text,
            cache_control,
        } => {
            if text.is_empty() {
                // Anthropic rejects empty text blocks ("text content blocks must be non-empty").
                return None;
            }
            AnthropicKnownBlock::Text {
                text: text.clone(),
                cache_control: uncache(cache_control),
            }
        }
        Part::Image(m) => AnthropicKnownBlock::Image {
            source: source_out(m, false)?,
            cache_control: uncache(&m.cache_control),
        },
        Part::Document(m) => AnthropicKnownBlock::Document {
            source: source_out(m, true)?,
            title: m.title.clone(),
            cache_control: uncache(&m.cache_control),
        },
        Part::Thinking { text, signature } => AnthropicKnownBlock::Thinking {
            thinking: text.clone(),
            signature: signature.clone(),
        },
        Part::RedactedThinking { data } => {
            AnthropicKnownBlock::RedactedThinking { data: data.clone() }
        }
        Part::Reasoning(r) => AnthropicKnownBlock::Thinking {
            thinking: r.summary.join("\n\n"),
            signature: r
                .encrypted_content
                .as_deref()
                .map(|e| reasoning_signature(r.id.as_deref(), e)),
        },
        Part::ToolCall(c) => AnthropicKnownBlock::ToolUse {
            id: c.id.clone(),
            name: c.name.clone(),
            input: arguments_to_input(&c.arguments),
        },
        Part::ToolResult(r) => {
            let blocks: Vec<AnthropicContentBlock> = r
                .content
                .iter()
                // What a tool result may hold: text, images, documents, and Anthropic's own
                // blocks (search results, tool references); thinking and calls may not.
                .filter(|p| {
                    matches!(
                        p,
                        Part::Text { .. }
                            | Part::Image(_)
                            | Part::Document(_)
                            | Part::Unknown { .. }
                    )
                })
                .filter_map(part_to_block)
                .collect();
            AnthropicKnownBlock::ToolResult {
                tool_use_id: r.call_id.clone(),
                content: (!blocks.is_empty()).then_some(AnthropicContent::Blocks(blocks)),
                is_error: r.is_error.then_some(true),
                cache_control: None,
            }
        }
        Part::Unknown { protocol, value } => {
            return (*protocol == Protocol::Anthropic).then(|| Lenient::Unknown(value.clone()));
        }
    };
    Some(Lenient::Known(known))
}
