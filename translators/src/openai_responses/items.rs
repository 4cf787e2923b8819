//! Responses items and content parts ↔ IR messages and parts, shared by the request codec
//! (`input`) and the response codec (`output`).
//!
//! Pure. Grouping rules for `input` (Responses has one flat list of items, the IR has turns):
//! an assistant `message`, a `function_call` and a `reasoning` item join the preceding
//! assistant turn; consecutive `function_call_output` items join one user turn of tool results;
//! any other `message` starts a turn of its own role. Unknown items (`item_reference`,
//! `local_shell_call`, `custom_tool_call`, ...) are `Part::Unknown` with the item verbatim, on
//! the user side when their type ends in `_output`, else the assistant side. An unknown
//! *content part* is `Part::Unknown` with `{"content_part": <part>}`, so the encoder can tell
//! it from an item.
//!
//! Claude/Gemini thinking shown to a Responses client becomes a reasoning item whose id marks
//! it (`rsthink_…`: summary = text, `encrypted_content` = signature; `rsredact_…`:
//! `encrypted_content` = redacted data), and decodes back to the same IR part when the client
//! returns it, so a Claude or Gemini upstream gets its signature back byte for byte.
//!
//! Not expressible in Responses (encoders drop them on purpose): `cache_control`, tool-result
//! `is_error`, image `detail` (decoded as nothing), a Gemini signature on a function call,
//! foreign thinking blocks sent to an OpenAI upstream (their signatures mean nothing there),
//! and other protocols' unknown blocks.

use serde_json::{json, Value};

use crate::ir::{
    EncodeContext, Media, MediaSource, Message, Part, Protocol, ReasoningItem, Role, ToolCall,
    ToolResult,
};

use super::wire::{
    ResponsesContent, ResponsesFilePart, ResponsesFunctionCall, ResponsesFunctionCallOutput,
    ResponsesImagePart, ResponsesItem, ResponsesMessage, ResponsesPart, ResponsesReasoning,
    ResponsesSummaryPart, ResponsesTextPart,
};

const PROTOCOL: Protocol = Protocol::OpenAiResponses;
const CONTENT_PART_KEY: &str = "content_part";

// ------------------------------------------------------------------------------------ decode

/// `data:<type>;base64,<data>` → base64 source; anything else is a URL.
pub(crate) fn source_from_url(url: &str) -> MediaSource {
    if let Some(rest) = url.strip_prefix("data:") {
        if let Some((meta, data)) = rest.split_once(',') {
            if let Some(media_type) = meta.strip_suffix(";base64") {
                return MediaSource::Base64 {
                    media_type: media_type.to_string(),
                    data: data.to_string(),
                };
            }
        }
    }
    MediaSource::Url {
        url: url.to_string(),
        media_type: None,
    }
}

fn media(source: MediaSource, title: Option<String>) -> Media {
    Media {
        source,
        cache_control: None,
        title,
    }
}

fn text_part(text: String) -> Part {
    Part::Text {
        text,
        cache_control: None,
    }
}

/// One content part into the IR.
pub(crate) fn part_to_ir(part: ResponsesPart) -> Part {
    match part {
        ResponsesPart::Text(t) => text_part(t.text.or(t.refusal).unwrap_or_default()),
        ResponsesPart::Image(i) => {
            let source = match (i.image_url, i.file_id) {
                (Some(url), _) => source_from_url(&url),
                (None, Some(id)) => MediaSource::File {
                    id,
                    media_type: None,
                },
                (None, None) => MediaSource::Url {
                    url: String::new(),
                    media_type: None,
                },
            };
            Part::Image(media(source, None))
        }
        ResponsesPart::File(f) => {
            let source = if let Some(data) = f.file_data {
                match source_from_url(&data) {
                    MediaSource::Url { url, .. } => MediaSource::Base64 {
                        media_type: "application/pdf".into(),
                        data: url,
                    },
                    s => s,
                }
            } else if let Some(url) = f.file_url {
                MediaSource::Url {
                    url,
                    media_type: None,
                }
            } else {
                MediaSource::File {
                    id: f.file_id.unwrap_or_default(),
                    media_type: None,
                }
            };
            Part::Document(media(source, f.filename))
        }
        ResponsesPart::Unknown(v) => Part::Unknown {
            protocol: PROTOCOL,
            value: json!({ CONTENT_PART_KEY: v }),
        },
    }
}

fn content_to_ir(content: ResponsesContent) -> Vec<Part> {
    match content {
        ResponsesContent::Text(t) => vec![text_part(t)],
        ResponsesContent::Parts(parts) => parts.into_iter().map(part_to_ir).collect(),
    }
}

/// Id prefixes of the reasoning items this crate makes out of Claude/Gemini thinking
/// ([`THINKING_ID`]: summary = the text, `encrypted_content` = the signature) and Claude
/// redacted thinking ([`REDACTED_ID`]: `encrypted_content` = the data). A client sends them
/// back as they came, so the next turn gets the original part, byte for byte, instead of an
/// OpenAI reasoning item its upstream cannot use.
pub(crate) const THINKING_ID: &str = "rsthink";
pub(crate) const REDACTED_ID: &str = "rsredact";

pub(crate) fn reasoning_to_ir(r: ResponsesReasoning) -> Part {
    let prefix =
        r.id.as_deref()
            .and_then(|id| id.split_once('_'))
            .map(|p| p.0);
    match (prefix, r.encrypted_content.clone()) {
        (Some(REDACTED_ID), Some(data)) if r.summary.is_empty() => {
            return Part::RedactedThinking { data }
        }
        (Some(THINKING_ID), signature) if r.summary.len() <= 1 => {
            return Part::Thinking {
                text: r.texts().concat(),
                signature,
            }
        }
        _ => {}
    }
    Part::Reasoning(ReasoningItem {
        id: r.id.clone(),
        encrypted_content: r.encrypted_content.clone(),
        summary: r.texts(),
    })
}

pub(crate) fn call_to_ir(c: ResponsesFunctionCall) -> ToolCall {
    ToolCall {
        id: c.call_id,
        name: c.name,
        arguments: if c.arguments.is_empty() {
            "{}".into()
        } else {
            c.arguments
        },
        signature: None,
    }
}

fn role_from(s: &str) -> Role {
    match s {
        "assistant" => Role::Assistant,
        "system" => Role::System,
        "developer" => Role::Developer,
        _ => Role::User,
    }
}

/// Where an item goes: which role's turn, and whether it may join the previous turn.
fn push(messages: &mut Vec<Message>, role: Role, part: Part, joins: fn(&Message) -> bool) {
    match messages.last_mut() {
        Some(last) if last.role == role && joins(last) => last.parts.push(part),
        _ => messages.push(Message {
            role,
            parts: vec![part],
        }),
    }
}

fn any_turn(_: &Message) -> bool {
    true
}

fn tool_results_only(m: &Message) -> bool {
    m.parts.iter().all(|p| {
        matches!(p, Part::ToolResult(_))
            || matches!(p, Part::Unknown { value, .. } if is_user_side_item(value))
    })
}

fn is_user_side_item(v: &Value) -> bool {
    v.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.ends_with("_output"))
}

/// `input` items into IR turns (see the module docs for the grouping rules).
pub(crate) fn items_to_messages(items: Vec<ResponsesItem>) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for item in items {
        match item {
            ResponsesItem::Message(m) => {
                let role = role_from(&m.role);
                let parts = content_to_ir(m.content);
                if role == Role::Assistant {
                    // An empty assistant text (sent alongside tool calls) carries nothing, and
                    // Anthropic rejects empty text blocks.
                    let empty = |p: &Part| matches!(p, Part::Text { text, .. } if text.is_empty());
                    for p in parts.into_iter().filter(|p| !empty(p)) {
                        push(&mut messages, role, p, any_turn);
                    }
                } else {
                    messages.push(Message { role, parts });
                }
            }
            ResponsesItem::FunctionCall(c) => {
                names.push((c.call_id.clone(), c.name.clone()));
                push(
                    &mut messages,
                    Role::Assistant,
                    Part::ToolCall(call_to_ir(c)),
                    any_turn,
                );
            }
            ResponsesItem::Reasoning(r) => {
                push(&mut messages, Role::Assistant, reasoning_to_ir(r), any_turn)
            }
            ResponsesItem::FunctionCallOutput(o) => {
                let name = names
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == o.call_id)
                    .map(|(_, n)| n.clone());
                let result = Part::ToolResult(ToolResult {
                    call_id: o.call_id,
                    name,
                    content: content_to_ir(o.output),
                    is_error: false,
                });
                push(&mut messages, Role::User, result, tool_results_only);
            }
            ResponsesItem::Unknown(value) => {
                let role = if is_user_side_item(&value) {
                    Role::User
                } else {
                    Role::Assistant
                };
                let joins = if role == Role::User {
                    tool_results_only
                } else {
                    any_turn
                };
                push(
                    &mut messages,
                    role,
                    Part::Unknown {
                        protocol: PROTOCOL,
                        value,
                    },
                    joins,
                );
            }
        }
    }
    messages
}

/// `output` items into the parts of one assistant turn.
pub(crate) fn output_to_parts(items: Vec<ResponsesItem>) -> Vec<Part> {
    let mut parts = Vec::new();
    for item in items {
        match item {
            ResponsesItem::Message(m) => parts.extend(content_to_ir(m.content)),
            ResponsesItem::FunctionCall(c) => parts.push(Part::ToolCall(call_to_ir(c))),
            ResponsesItem::Reasoning(r) => parts.push(reasoning_to_ir(r)),
            ResponsesItem::FunctionCallOutput(o) => parts.push(Part::Unknown {
                protocol: PROTOCOL,
                value: serde_json::to_value(o).unwrap_or(Value::Null),
            }),
            ResponsesItem::Unknown(value) => parts.push(Part::Unknown {
                protocol: PROTOCOL,
                value,
            }),
        }
    }
    parts
}

// ------------------------------------------------------------------------------------ encode

pub(crate) fn url_of(source: &MediaSource) -> Option<String> {
    match source {
        MediaSource::Base64 { media_type, data } => {
            Some(format!("data:{media_type};base64,{data}"))
        }
        MediaSource::Url { url, .. } => Some(url.clone()),
        MediaSource::File { .. } => None,
    }
}

fn file_id_of(source: &MediaSource) -> Option<String> {
    match source {
        MediaSource::File { id, .. } => Some(id.clone()),
        _ => None,
    }
}

pub(crate) fn text_content(kind: &str, text: &str) -> ResponsesPart {
    let output = kind == "output_text";
    ResponsesPart::Text(ResponsesTextPart {
        kind: kind.into(),
        text: Some(text.into()),
        refusal: None,
        annotations: output.then(Vec::new),
        logprobs: None,
    })
}

/// An IR part as a content part of a message with this role; `None` for parts that are not
/// content (tool calls, results, reasoning) or cannot be expressed.
fn content_part(part: &Part, role: Role) -> Option<ResponsesPart> {
    match part {
        Part::Text { text, .. } => Some(text_content(
            if role == Role::Assistant {
                "output_text"
            } else {
                "input_text"
            },
            text,
        )),
        Part::Image(m) => Some(ResponsesPart::Image(ResponsesImagePart {
            kind: "input_image".into(),
            image_url: url_of(&m.source),
            file_id: file_id_of(&m.source),
            detail: None,
        })),
        Part::Document(m) => {
            let (file_data, file_url) = match &m.source {
                MediaSource::Base64 { .. } => (url_of(&m.source), None),
                MediaSource::Url { url, .. } => (None, Some(url.clone())),
                MediaSource::File { .. } => (None, None),
            };
            Some(ResponsesPart::File(ResponsesFilePart {
                kind: "input_file".into(),
                file_data,
                file_url,
                file_id: file_id_of(&m.source),
                filename: m.title.clone(),
            }))
        }
        Part::Unknown {
            protocol: PROTOCOL,
            value,
        } => value
            .get(CONTENT_PART_KEY)
            .cloned()
            .map(ResponsesPart::Unknown),
        _ => None,
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::Developer => "developer",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn tool_output(r: &ToolResult) -> ResponsesContent {
    match r.content.as_slice() {
        [] => ResponsesContent::Text(String::new()),
        [Part::Text { text, .. }] => ResponsesContent::Text(text.clone()),
        parts => ResponsesContent::Parts(
            parts
                .iter()
                .filter_map(|p| content_part(p, Role::User))
                .collect(),
        ),
    }
}

/// Builds the item list, flushing the pending message whenever a non-content item comes.
struct ItemWriter<'a> {
    items: Vec<ResponsesItem>,
    pending: Vec<ResponsesPart>,
    role: Role,
    /// Set for response output: items get ids and `status: completed`.
    ctx: Option<&'a mut EncodeContext>,
}

impl ItemWriter<'_> {
    fn id(&mut self, prefix: &str) -> Option<String> {
        self.ctx.as_deref_mut().map(|c| c.next_id(prefix))
    }

    fn status(&self) -> Option<String> {
        self.ctx.as_ref().map(|_| "completed".to_string())
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let content = ResponsesContent::Parts(std::mem::take(&mut self.pending));
        let id = self.id("msg");
        let out = self.ctx.is_some();
        self.items.push(ResponsesItem::Message(ResponsesMessage {
            id,
            kind: Some("message".into()),
            status: out.then(|| "completed".into()),
            role: role_name(self.role).into(),
            content,
        }));
    }

    fn item(&mut self, item: ResponsesItem) {
        self.flush();
        self.items.push(item);
    }

    fn part(&mut self, part: &Part, upstream: bool) {
        if let Some(c) = content_part(part, self.role) {
            self.pending.push(c);
            return;
        }
        match part {
            Part::ToolCall(c) => {
                let id = self.id("fc");
                let status = self.status();
                self.item(ResponsesItem::FunctionCall(ResponsesFunctionCall {
                    kind: "function_call".into(),
                    id,
                    status,
                    arguments: c.arguments.clone(),
                    call_id: c.id.clone(),
                    name: c.name.clone(),
                }));
            }
            Part::ToolResult(r) => self.item(ResponsesItem::FunctionCallOutput(
                ResponsesFunctionCallOutput {
                    kind: "function_call_output".into(),
                    id: None,
                    call_id: r.call_id.clone(),
                    output: tool_output(r),
                },
            )),
            Part::Reasoning(r) => {
                let id = r.id.clone().or_else(|| self.id("rs"));
                self.reasoning(id, r.summary.clone(), r.encrypted_content.clone());
            }
            // Foreign reasoning: shown to clients as a reasoning item (the signature rides in
            // `encrypted_content`), never sent to an OpenAI upstream, which cannot verify it.
            Part::Thinking { text, signature } if !upstream => {
                let id = self.id(THINKING_ID);
                self.reasoning(id, vec![text.clone()], signature.clone());
            }
            Part::RedactedThinking { data } if !upstream => {
                let id = self.id(REDACTED_ID);
                self.reasoning(id, Vec::new(), Some(data.clone()));
            }
            Part::Unknown {
                protocol: PROTOCOL,
                value,
            } => self.item(ResponsesItem::Unknown(value.clone())),
            _ => {}
        }
    }

    fn reasoning(&mut self, id: Option<String>, summary: Vec<String>, enc: Option<String>) {
        self.item(ResponsesItem::Reasoning(ResponsesReasoning {
            kind: "reasoning".into(),
            id,
            summary: summary
                .into_iter()
                .map(|text| ResponsesSummaryPart {
                    kind: "summary_text".into(),
                    text,
                })
                .collect(),
            content: None,
            encrypted_content: enc,
            status: None,
        }));
    }
}

/// IR turns into `input` items.
pub(crate) fn messages_to_items(messages: &[Message]) -> Vec<ResponsesItem> {
    let mut w = ItemWriter {
        items: Vec::new(),
        pending: Vec::new(),
        role: Role::User,
        ctx: None,
    };
    for m in messages {
        w.flush();
        w.role = m.role;
        for p in &m.parts {
            w.part(p, true);
        }
    }
    w.flush();
    w.items
}

/// The parts of one assistant turn into `output` items, with ids from `ctx`.
pub(crate) fn parts_to_output(parts: &[Part], ctx: &mut EncodeContext) -> Vec<ResponsesItem> {
    let mut w = ItemWriter {
        items: Vec::new(),
        pending: Vec::new(),
        role: Role::Assistant,
        ctx: Some(ctx),
    };
    for p in parts {
        w.part(p, false);
    }
    w.flush();
    w.items
}
