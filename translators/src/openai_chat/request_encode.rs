//! OpenAI Chat request encoder: [`ir::Request`](crate::ir::Request) into a
//! `POST /v1/chat/completions` body. Pure. The decisions it applies are listed in
//! [`super::request`] (the decoder's module docs), next to the decoder they mirror.

use serde_json::{json, Map, Value};

use super::request::invalid;
use super::wire::*;
use crate::ir::{
    MediaSource, Message, OutputFormat, Part, Protocol, ReasoningMode, Request, Role, Tool,
    ToolChoice,
};
use crate::reasoning::{effort_str, for_target};
use crate::TranslateError;

/// Encode an IR request as a Chat Completions body.
pub fn encode_request(req: &Request) -> Result<Vec<u8>, TranslateError> {
    let mut messages = Vec::new();
    for p in &req.system {
        if let Part::Text { text, .. } = p {
            messages.push(simple("system", OpenAiChatContent::Text(text.clone())));
        }
    }
    for m in &req.messages {
        encode_message(m, &mut messages)?;
    }
    let tools: Vec<OpenAiChatTool> = req.tools.iter().filter_map(encode_tool).collect();
    let has_tools = !tools.is_empty();
    let reasoning_effort =
        req.reasoning
            .as_ref()
            .and_then(|r| match for_target(r.mode, Protocol::OpenAiChat) {
                ReasoningMode::Disabled => Some("none".to_owned()),
                ReasoningMode::Effort(e) => Some(effort_str(e).to_owned()),
                _ => None,
            });
    let s = &req.sampling;
    let wire = OpenAiChatRequest {
        model: req.model.clone(),
        messages,
        tools: has_tools.then_some(tools),
        tool_choice: req
            .tool_choice
            .as_ref()
            .filter(|_| has_tools)
            .map(encode_tool_choice),
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| has_tools),
        response_format: req.output_format.as_ref().map(encode_format),
        reasoning_effort,
        max_completion_tokens: s.max_tokens,
        temperature: s.temperature,
        top_p: s.top_p,
        stop: (!s.stop.is_empty()).then(|| OpenAiChatStop::Many(s.stop.clone())),
        seed: s.seed,
        presence_penalty: s.presence_penalty,
        frequency_penalty: s.frequency_penalty,
        stream: req.stream.then_some(true),
        stream_options: req.stream.then(|| OpenAiChatStreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        user: req.user_id.clone(),
        prompt_cache_key: req.cache_key.clone(),
        ..OpenAiChatRequest::default()
    };
    match &req.extra {
        // Chat's own unmodelled fields go back, never over a field the IR set.
        Some((Protocol::OpenAiChat, extra)) if !extra.is_empty() => {
            let mut value = serde_json::to_value(&wire).map_err(invalid)?;
            if let Value::Object(obj) = &mut value {
                for (k, v) in extra {
                    obj.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            serde_json::to_vec(&value).map_err(invalid)
        }
        // The usual case (another protocol's request): no intermediate tree.
        _ => serde_json::to_vec(&wire).map_err(invalid),
    }
}

fn simple(role: &str, content: OpenAiChatContent) -> OpenAiChatMessage {
    OpenAiChatMessage {
        role: role.to_owned(),
        content,
        ..OpenAiChatMessage::default()
    }
}

fn encode_message(m: &Message, out: &mut Vec<OpenAiChatMessage>) -> Result<(), TranslateError> {
    match m.role {
        Role::System => out.push(simple("system", encode_content(&m.parts)?)),
        Role::Developer => out.push(simple("developer", encode_content(&m.parts)?)),
        Role::Assistant => out.push(encode_assistant(&m.parts)),
        Role::User => encode_user(&m.parts, out)?,
    }
    Ok(())
}

/// Tool results first (they must follow the assistant's calls), then one user message with
/// the rest: the results' images and documents, then the message's own parts.
fn encode_user(parts: &[Part], out: &mut Vec<OpenAiChatMessage>) -> Result<(), TranslateError> {
    let mut rest: Vec<Part> = Vec::new();
    let mut had_results = false;
    for p in parts {
        let Part::ToolResult(r) = p else { continue };
        had_results = true;
        let texts: Vec<&Part> = r
            .content
            .iter()
            .filter(|c| matches!(c, Part::Text { .. }))
            .collect();
        rest.extend(
            r.content
                .iter()
                .filter(|c| matches!(c, Part::Image(_) | Part::Document(_)))
                .cloned(),
        );
        let content = match texts.as_slice() {
            [] => OpenAiChatContent::Text(String::new()),
            [Part::Text { text, .. }] => OpenAiChatContent::Text(text.clone()),
            many => OpenAiChatContent::Parts(
                many.iter()
                    .filter_map(|p| encode_part(p).transpose())
                    .collect::<Result<_, _>>()?,
            ),
        };
        out.push(OpenAiChatMessage {
            tool_call_id: Some(r.call_id.clone()),
            ..simple("tool", content)
        });
    }
    rest.extend(
        parts
            .iter()
            .filter(|p| !matches!(p, Part::ToolResult(_)))
            .cloned(),
    );
    if !rest.is_empty() || !had_results {
        out.push(simple("user", encode_content(&rest)?));
    }
    Ok(())
}

fn encode_assistant(parts: &[Part]) -> OpenAiChatMessage {
    let mut reasoning = String::new();
    let mut content: Vec<OpenAiChatPart> = Vec::new();
    let mut calls = Vec::new();
    for p in parts {
        match p {
            Part::Thinking { text, .. } => reasoning.push_str(text),
            Part::Reasoning(item) => item.summary.iter().for_each(|s| reasoning.push_str(s)),
            Part::Text { text, .. } => {
                content.push(OpenAiChatPart::Known(OpenAiChatKnownPart::Text {
                    text: text.clone(),
                    cache_control: None,
                }))
            }
            Part::ToolCall(c) => calls.push(OpenAiChatToolCall {
                id: c.id.clone(),
                kind: "function".into(),
                function: Some(OpenAiChatFunctionCall {
                    name: c.name.clone(),
                    arguments: Value::String(non_empty_args(&c.arguments)),
                }),
                extra: Map::new(),
            }),
            Part::Unknown {
                protocol: Protocol::OpenAiChat,
                value,
            } => match value.get("type").and_then(Value::as_str) {
                Some("refusal") => content.push(OpenAiChatPart::Unknown(value.clone())),
                _ if value.get("id").is_some() => {
                    if let Ok(call) = serde_json::from_value(value.clone()) {
                        calls.push(call);
                    }
                }
                _ => content.push(OpenAiChatPart::Unknown(value.clone())),
            },
            // Signatures, redacted thinking and encrypted reasoning have no Chat form.
            _ => {}
        }
    }
    let content = match content.as_slice() {
        [] if !calls.is_empty() => OpenAiChatContent::Null,
        [] => OpenAiChatContent::Text(String::new()),
        [OpenAiChatPart::Known(OpenAiChatKnownPart::Text { text, .. })] => {
            OpenAiChatContent::Text(text.clone())
        }
        _ => OpenAiChatContent::Parts(content),
    };
    OpenAiChatMessage {
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        tool_calls: (!calls.is_empty()).then_some(calls),
        ..simple("assistant", content)
    }
}

/// A single plain text part is a string; anything else is an array of parts.
fn encode_content(parts: &[Part]) -> Result<OpenAiChatContent, TranslateError> {
    if let [Part::Text { text, .. }] = parts {
        return Ok(OpenAiChatContent::Text(text.clone()));
    }
    if parts.is_empty() {
        return Ok(OpenAiChatContent::Text(String::new()));
    }
    let out: Vec<OpenAiChatPart> = parts
        .iter()
        .filter_map(|p| encode_part(p).transpose())
        .collect::<Result<_, _>>()?;
    Ok(OpenAiChatContent::Parts(out))
}

fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

fn encode_part(p: &Part) -> Result<Option<OpenAiChatPart>, TranslateError> {
    use OpenAiChatKnownPart as K;
    let known = match p {
        Part::Text { text, .. } => K::Text {
            text: text.clone(),
            cache_control: None,
        },
        Part::Image(m) => match &m.source {
            MediaSource::Base64 { media_type, data } => K::ImageUrl {
                image_url: OpenAiChatImageUrl {
                    url: data_url(media_type, data),
                    detail: None,
                },
            },
            MediaSource::Url { url, .. } => K::ImageUrl {
                image_url: OpenAiChatImageUrl {
                    url: url.clone(),
                    detail: None,
                },
            },
            MediaSource::File { id, .. } => K::File {
                file: OpenAiChatFile {
                    file_id: Some(id.clone()),
                    filename: m.title.clone(),
                    ..OpenAiChatFile::default()
                },
            },
        },
        Part::Document(m) => K::File {
            file: match &m.source {
                MediaSource::Base64 { media_type, data } => OpenAiChatFile {
                    file_data: Some(data_url(media_type, data)),
                    filename: m.title.clone(),
                    ..OpenAiChatFile::default()
                },
                MediaSource::File { id, .. } => OpenAiChatFile {
                    file_id: Some(id.clone()),
                    filename: m.title.clone(),
                    ..OpenAiChatFile::default()
                },
                MediaSource::Url { url, .. } => {
                    return Err(TranslateError::Unsupported(format!(
                        "OpenAI Chat cannot take a document by URL ({url}): file parts need inline data or a file id"
                    )))
                }
            },
        },
        Part::Unknown {
            protocol: Protocol::OpenAiChat,
            value,
        } => return Ok(Some(OpenAiChatPart::Unknown(value.clone()))),
        _ => return Ok(None),
    };
    Ok(Some(OpenAiChatPart::Known(known)))
}

fn encode_tool(t: &Tool) -> Option<OpenAiChatTool> {
    match t {
        Tool::Function(f) => Some(OpenAiChatTool::Function(OpenAiChatFunctionDef {
            name: f.name.clone(),
            description: f.description.clone(),
            parameters: Some(f.parameters.clone()),
            strict: f.strict,
        })),
        Tool::Unknown {
            protocol: Protocol::OpenAiChat,
            value,
        } => Some(OpenAiChatTool::Unknown(value.clone())),
        Tool::Unknown { .. } => None,
    }
}

fn encode_tool_choice(c: &ToolChoice) -> Value {
    match c {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

fn encode_format(f: &OutputFormat) -> OpenAiChatResponseFormat {
    match f {
        OutputFormat::Text => OpenAiChatResponseFormat::Text,
        OutputFormat::JsonObject => OpenAiChatResponseFormat::JsonObject,
        OutputFormat::JsonSchema {
            name,
            schema,
            strict,
        } => OpenAiChatResponseFormat::JsonSchema {
            json_schema: OpenAiChatJsonSchema {
                // OpenAI requires a name.
                name: name.clone().unwrap_or_else(|| "response".to_owned()),
                schema: Some(schema.clone()),
                strict: *strict,
                description: None,
            },
        },
    }
}

/// `""` is not JSON; a call without arguments is sent as `{}` (OpenAI rejects the former).
pub(crate) fn non_empty_args(a: &str) -> String {
    if a.trim().is_empty() {
        "{}".to_owned()
    } else {
        a.to_owned()
    }
}
