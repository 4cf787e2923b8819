//! IR stream events → Responses SSE bytes: a synchronous state machine that emits every event
//! the openai SDK's `responses.stream()` and Codex need (CLIENTS.md), in their order.
//!
//! Pure; ids come from [`EncodeContext::next_id`], `created_at` from its clock field. Output:
//! `response.created` (status `in_progress`) and `response.in_progress` first; one output item
//! per IR block, at the next `output_index`: text → a `message` item (`output_item.added`,
//! `content_part.added`, `output_text.delta`*, `output_text.done`, `content_part.done`,
//! `output_item.done` with the whole item, which is what Codex reads); tool call → a
//! `function_call` item whose `function_call_arguments.delta` events are forwarded as the
//! fragments arrive, then `.done`; thinking, OpenAI reasoning and redacted thinking → a
//! `reasoning` item (`reasoning_summary_part.added`, `reasoning_summary_text.delta`*, `.done`,
//! `reasoning_summary_part.done`) whose done item carries `encrypted_content` (the OpenAI
//! `encrypted_content`, or a Claude/Gemini signature or redacted-thinking data under a marked
//! item id, see `items.rs`, so the next turn gets it back); a signature on a tool call has no
//! place in a `function_call` item and is dropped; Responses unknown items are replayed verbatim, other protocols'
//! unknown blocks are dropped. `End` closes what is open and sends `response.completed`, or
//! `response.incomplete` for `MaxTokens`/`ContentFilter`, with the full response object (all
//! items, usage with `total_tokens`). An IR `Error` becomes an `error` event (its top-level
//! `error` object makes the SDK raise) and `response.failed` (what Codex reads). Every event
//! has an `event:` line equal to its `type` and a `sequence_number` counting from 0.

use serde_json::Value;

use crate::ir::{BlockStart, Delta, EncodeContext, StopReason, StreamError, StreamEvent, Usage};
use crate::sse::encode_event;
use crate::StreamOptions;

use super::items::{text_content, REDACTED_ID, THINKING_ID};
use super::response::{error_body, response_object, status_for, usage_to};
use super::wire::{
    ResponsesContent, ResponsesErrorBody, ResponsesFunctionCall, ResponsesItem, ResponsesMessage,
    ResponsesPart, ResponsesReasoning, ResponsesResponse, ResponsesSummaryPart,
};
use super::wire_stream::OutEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    BeforeStart,
    Streaming,
    Done,
}

#[derive(Debug, Clone)]
enum OutKind {
    Message {
        text: String,
    },
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    Reasoning {
        summary: String,
        part_open: bool,
        encrypted: Option<String>,
    },
    Unknown(Value),
}

/// One output item; its `output_index` is its position.
#[derive(Debug, Clone)]
struct OutItem {
    /// The IR block feeding it, while open.
    ir_index: Option<usize>,
    id: String,
    kind: OutKind,
}

#[derive(Debug, Clone)]
pub struct StreamEncoder {
    ctx: EncodeContext,
    opts: StreamOptions,
    phase: Phase,
    seq: u64,
    id: String,
    model: String,
    items: Vec<OutItem>,
    usage: Usage,
    stop: Option<StopReason>,
}

impl StreamEncoder {
    pub fn new(ctx: EncodeContext, opts: StreamOptions) -> Self {
        Self {
            ctx,
            opts,
            phase: Phase::BeforeStart,
            seq: 0,
            id: String::new(),
            model: String::new(),
            items: Vec::new(),
            usage: Usage::default(),
            stop: None,
        }
    }

    /// Encode one IR event, appending SSE bytes to `out`.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        match event {
            StreamEvent::Start { id, model } => self.start(id, model, out),
            StreamEvent::Error(e) => self.fail(e, out),
            other => {
                if self.phase == Phase::BeforeStart {
                    self.start("", "", out);
                }
                self.body(other, out);
            }
        }
    }

    fn emit(&mut self, mut ev: OutEvent<'_>, out: &mut Vec<u8>) {
        ev.sequence_number = self.seq;
        self.seq += 1;
        let data = serde_json::to_string(&ev).unwrap_or_default();
        encode_event(Some(ev.kind), &data, out);
    }

    fn lifecycle(&mut self, kind: &str, response: &ResponsesResponse, out: &mut Vec<u8>) {
        let ev = OutEvent {
            kind,
            response: Some(response),
            ..OutEvent::default()
        };
        self.emit(ev, out);
    }

    fn start(&mut self, id: &str, model: &str, out: &mut Vec<u8>) {
        if self.phase != Phase::BeforeStart {
            return;
        }
        self.phase = Phase::Streaming;
        self.id = if id.is_empty() {
            self.ctx.next_id("resp")
        } else {
            id.to_string()
        };
        self.model = self
            .opts
            .client_model
            .clone()
            .unwrap_or_else(|| model.into());
        let r = response_object(&self.id, &self.model, self.ctx.created, "in_progress");
        self.lifecycle("response.created", &r, out);
        self.lifecycle("response.in_progress", &r, out);
    }

    fn body(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        match event {
            StreamEvent::BlockStart { index, block } => self.open(*index, block, out),
            StreamEvent::Delta { index, delta } => self.delta(*index, delta, out),
            StreamEvent::BlockStop { index } => {
                if let Some(pos) = self.open_item(*index) {
                    self.close(pos, out);
                }
            }
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Finish { stop } => self.stop = Some(stop.clone()),
            StreamEvent::End => self.end(out),
            StreamEvent::Start { .. } | StreamEvent::Error(_) => {}
        }
    }

    fn open_item(&self, ir_index: usize) -> Option<usize> {
        self.items.iter().position(|i| i.ir_index == Some(ir_index))
    }

    fn open(&mut self, index: usize, block: &BlockStart, out: &mut Vec<u8>) {
        if self.open_item(index).is_some() {
            return;
        }
        let (id, kind) = match block {
            BlockStart::Text => (
                self.ctx.next_id("msg"),
                OutKind::Message {
                    text: String::new(),
                },
            ),
            BlockStart::Thinking => (self.ctx.next_id(THINKING_ID), reasoning_kind(None)),
            BlockStart::Reasoning { id } => (
                id.clone().unwrap_or_else(|| self.ctx.next_id("rs")),
                reasoning_kind(None),
            ),
            BlockStart::RedactedThinking { data } => (
                self.ctx.next_id(REDACTED_ID),
                reasoning_kind(Some(data.clone())),
            ),
            BlockStart::ToolCall { id, name } => (
                self.ctx.next_id("fc"),
                OutKind::FunctionCall {
                    call_id: id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                },
            ),
            BlockStart::Unknown {
                protocol: crate::ir::Protocol::OpenAiResponses,
                value,
            } if value.get("type").is_some() => {
                let id = value.get("id").and_then(Value::as_str).unwrap_or_default();
                (id.to_string(), OutKind::Unknown(value.clone()))
            }
            BlockStart::Unknown { .. } => return,
        };
        let item = OutItem {
            ir_index: Some(index),
            id,
            kind,
        };
        let output_index = self.items.len();
        let added = item_json(&item, false);
        self.items.push(item);
        let ev = OutEvent {
            kind: "response.output_item.added",
            output_index: Some(output_index),
            item: Some(&added),
            ..OutEvent::default()
        };
        self.emit(ev, out);
        if let ResponsesItem::Message(_) = added {
            let part = text_content("output_text", "");
            let item_id = self.items[output_index].id.clone();
            let ev = OutEvent {
                kind: "response.content_part.added",
                item_id: Some(&item_id),
                output_index: Some(output_index),
                content_index: Some(0),
                part: Some(&part),
                ..OutEvent::default()
            };
            self.emit(ev, out);
        }
    }

    fn delta(&mut self, index: usize, delta: &Delta, out: &mut Vec<u8>) {
        let Some(pos) = self.open_item(index) else {
            return;
        };
        let id = self.items[pos].id.clone();
        let mut ev = OutEvent {
            item_id: Some(&id),
            output_index: Some(pos),
            ..OutEvent::default()
        };
        let mut part_added = false;
        match (&mut self.items[pos].kind, delta) {
            (OutKind::Message { text }, Delta::Text(d)) => {
                text.push_str(d);
                ev.kind = "response.output_text.delta";
                ev.content_index = Some(0);
                ev.delta = Some(d);
                ev.logprobs = Some([]);
            }
            (OutKind::FunctionCall { arguments, .. }, Delta::ToolArguments(d)) => {
                arguments.push_str(d);
                ev.kind = "response.function_call_arguments.delta";
                ev.delta = Some(d);
            }
            (
                OutKind::Reasoning {
                    summary, part_open, ..
                },
                Delta::Thinking(d) | Delta::Text(d),
            ) => {
                part_added = !*part_open;
                *part_open = true;
                summary.push_str(d);
                ev.kind = "response.reasoning_summary_text.delta";
                ev.summary_index = Some(0);
                ev.delta = Some(d);
            }
            (
                OutKind::Reasoning { encrypted, .. },
                Delta::Signature(s) | Delta::EncryptedReasoning(s),
            ) => {
                encrypted.get_or_insert_with(String::new).push_str(s);
                return;
            }
            _ => return,
        }
        if part_added {
            let part = summary_part("");
            let added = OutEvent {
                kind: "response.reasoning_summary_part.added",
                item_id: Some(&id),
                output_index: Some(pos),
                summary_index: Some(0),
                part: Some(&part),
                ..OutEvent::default()
            };
            self.emit(added, out);
        }
        self.emit(ev, out);
    }

    fn close(&mut self, pos: usize, out: &mut Vec<u8>) {
        let item = &mut self.items[pos];
        item.ir_index = None;
        if let OutKind::FunctionCall { arguments, .. } = &mut item.kind {
            if arguments.is_empty() {
                // No arguments streamed: `{}` so the client can parse them.
                arguments.push_str("{}");
                let id = item.id.clone();
                let ev = OutEvent {
                    kind: "response.function_call_arguments.delta",
                    item_id: Some(&id),
                    output_index: Some(pos),
                    delta: Some("{}"),
                    ..OutEvent::default()
                };
                self.emit(ev, out);
            }
        }
        let item = self.items[pos].clone();
        let done = item_json(&item, true);
        let base = OutEvent {
            item_id: Some(&item.id),
            output_index: Some(pos),
            ..OutEvent::default()
        };
        match &item.kind {
            OutKind::Message { text } => {
                let part = text_content("output_text", text);
                let ev = OutEvent {
                    kind: "response.output_text.done",
                    content_index: Some(0),
                    text: Some(text),
                    logprobs: Some([]),
                    ..clone_base(&base)
                };
                self.emit(ev, out);
                let ev = OutEvent {
                    kind: "response.content_part.done",
                    content_index: Some(0),
                    part: Some(&part),
                    ..clone_base(&base)
                };
                self.emit(ev, out);
            }
            OutKind::FunctionCall { arguments, .. } => {
                let ev = OutEvent {
                    kind: "response.function_call_arguments.done",
                    arguments: Some(arguments),
                    ..clone_base(&base)
                };
                self.emit(ev, out);
            }
            OutKind::Reasoning {
                summary,
                part_open: true,
                ..
            } => {
                let ev = OutEvent {
                    kind: "response.reasoning_summary_text.done",
                    summary_index: Some(0),
                    text: Some(summary),
                    ..clone_base(&base)
                };
                self.emit(ev, out);
                let part = summary_part(summary);
                let ev = OutEvent {
                    kind: "response.reasoning_summary_part.done",
                    summary_index: Some(0),
                    part: Some(&part),
                    ..clone_base(&base)
                };
                self.emit(ev, out);
            }
            OutKind::Reasoning { .. } | OutKind::Unknown(_) => {}
        }
        let ev = OutEvent {
            kind: "response.output_item.done",
            output_index: Some(pos),
            item: Some(&done),
            ..OutEvent::default()
        };
        self.emit(ev, out);
    }

    fn close_all(&mut self, out: &mut Vec<u8>) {
        for pos in 0..self.items.len() {
            if self.items[pos].ir_index.is_some() {
                self.close(pos, out);
            }
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        self.close_all(out);
        let stop = self.stop.clone().unwrap_or(StopReason::EndTurn);
        let (status, incomplete) = status_for(&stop);
        let mut r = response_object(&self.id, &self.model, self.ctx.created, status);
        r.incomplete_details = incomplete;
        r.output = self.items.iter().map(|i| item_json(i, true)).collect();
        r.usage = Some(usage_to(&self.usage));
        let kind = if status == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.lifecycle(kind, &r, out);
        self.phase = Phase::Done;
    }

    fn fail(&mut self, e: &StreamError, out: &mut Vec<u8>) {
        let body = error_body(e);
        let ev = OutEvent {
            kind: "error",
            code: body.code.as_ref(),
            message: body.message.as_deref(),
            param: body.param.as_ref(),
            error: Some(&body),
            ..OutEvent::default()
        };
        self.emit(ev, out);
        if self.id.is_empty() {
            self.id = self.ctx.next_id("resp");
        }
        let model = match &self.opts.client_model {
            Some(m) if self.model.is_empty() => m.clone(),
            _ => self.model.clone(),
        };
        let mut r = response_object(&self.id, &model, self.ctx.created, "failed");
        r.error = Some(ResponsesErrorBody {
            kind: None,
            param: None,
            ..body
        });
        r.output = self
            .items
            .iter()
            .filter(|i| i.ir_index.is_none())
            .map(|i| item_json(i, true))
            .collect();
        r.usage = Some(usage_to(&self.usage));
        self.lifecycle("response.failed", &r, out);
        self.phase = Phase::Done;
    }
}

fn clone_base<'a>(b: &OutEvent<'a>) -> OutEvent<'a> {
    OutEvent {
        item_id: b.item_id,
        output_index: b.output_index,
        ..OutEvent::default()
    }
}

fn reasoning_kind(encrypted: Option<String>) -> OutKind {
    OutKind::Reasoning {
        summary: String::new(),
        part_open: false,
        encrypted,
    }
}

fn summary_part(text: &str) -> ResponsesPart {
    ResponsesPart::Unknown(serde_json::json!({"type": "summary_text", "text": text}))
}

/// The item as `output_item.added` (`done == false`: empty, `in_progress`) or
/// `output_item.done` / the final `output` (whole, `completed`) shows it.
fn item_json(item: &OutItem, done: bool) -> ResponsesItem {
    let status = Some(if done { "completed" } else { "in_progress" }.to_string());
    match &item.kind {
        OutKind::Message { text } => ResponsesItem::Message(ResponsesMessage {
            id: Some(item.id.clone()),
            kind: Some("message".into()),
            status,
            role: "assistant".into(),
            content: ResponsesContent::Parts(if done {
                vec![text_content("output_text", text)]
            } else {
                Vec::new()
            }),
        }),
        OutKind::FunctionCall {
            call_id,
            name,
            arguments,
        } => ResponsesItem::FunctionCall(ResponsesFunctionCall {
            kind: "function_call".into(),
            id: Some(item.id.clone()),
            status,
            arguments: if done {
                arguments.clone()
            } else {
                String::new()
            },
            call_id: call_id.clone(),
            name: name.clone(),
        }),
        OutKind::Reasoning {
            summary,
            part_open,
            encrypted,
        } => ResponsesItem::Reasoning(ResponsesReasoning {
            kind: "reasoning".into(),
            id: Some(item.id.clone()),
            summary: if done && *part_open {
                vec![ResponsesSummaryPart {
                    kind: "summary_text".into(),
                    text: summary.clone(),
                }]
            } else {
                Vec::new()
            },
            content: None,
            encrypted_content: if done { encrypted.clone() } else { None },
            status: None,
        }),
        OutKind::Unknown(v) => ResponsesItem::Unknown(v.clone()),
    }
}
