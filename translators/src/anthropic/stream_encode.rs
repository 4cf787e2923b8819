//! IR stream events → Anthropic SSE for an Anthropic client. Pure, synchronous; runs in the
//! gateway's `response_body_filter`.
//!
//! What the Anthropic SDKs' `messages.stream()` and Claude Code need, always emitted:
//! every event has its `event:` line; `message_start` comes first, with the upstream's id and
//! model (or the client's model name) and the usage known so far; blocks get contiguous indexes
//! from 0, each opened with `content_block_start` before its deltas and closed with
//! `content_block_stop`, one at a time; thinking goes only into thinking blocks (a thinking
//! delta for a text block opens a new thinking block, and vice versa); tool arguments go out as
//! `input_json_delta` as they arrive; the signature goes out once, before the thinking block
//! closes; then `message_delta` with the stop reason and cumulative usage, and `message_stop`.
//! An IR error becomes `event: error` and ends the stream.
//!
//! Blocks an upstream interleaves (OpenAI parallel tool calls) are serialised: the first one
//! streams live, later ones are buffered until the one before closes. A `BlockStart::Unknown`
//! of another protocol is dropped (it means nothing to an Anthropic client).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::response::{error_body, stop_out, usage_out};
use super::wire::*;
use crate::ir::{BlockStart, Delta, EncodeContext, Protocol, StopReason, StreamEvent, Usage};
use crate::sse::encode_event;
use crate::StreamOptions;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    BeforeStart,
    /// `Start` seen; `message_start` waits for the usage that usually follows it.
    StartPending,
    Streaming,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    ToolUse,
    Opaque,
}

/// The one block open on the wire.
#[derive(Debug, Clone)]
struct Open {
    ir_index: usize,
    out_index: usize,
    kind: Kind,
    signature: String,
    /// An OpenAI reasoning item (its id): its encrypted content goes into the signature as
    /// [`super::blocks::reasoning_signature`].
    reasoning: Option<Option<String>>,
}

/// A block started while another was open: its deltas wait here.
#[derive(Debug, Clone)]
struct Waiting {
    ir_index: usize,
    block: BlockStart,
    deltas: Vec<Delta>,
    stopped: bool,
}

/// Encoder state for one client stream.
#[derive(Debug, Clone)]
pub struct AnthropicStreamEncoder {
    ctx: EncodeContext,
    opts: StreamOptions,
    phase: Phase,
    id: String,
    model: String,
    usage: Usage,
    stop: Option<StopReason>,
    next_index: usize,
    open: Option<Open>,
    waiting: Vec<Waiting>,
    /// IR indexes that are closed or dropped: later events for them are ignored.
    finished: HashSet<usize>,
    saw_tool_use: bool,
}

fn emit(event: &AnthropicKnownEvent, out: &mut Vec<u8>) {
    let name = match event {
        AnthropicKnownEvent::MessageStart { .. } => "message_start",
        AnthropicKnownEvent::ContentBlockStart { .. } => "content_block_start",
        AnthropicKnownEvent::ContentBlockDelta { .. } => "content_block_delta",
        AnthropicKnownEvent::ContentBlockStop { .. } => "content_block_stop",
        AnthropicKnownEvent::MessageDelta { .. } => "message_delta",
        AnthropicKnownEvent::MessageStop {} => "message_stop",
        AnthropicKnownEvent::Ping {} => "ping",
        AnthropicKnownEvent::Error { .. } => "error",
    };
    let data = serde_json::to_string(event).unwrap_or_default();
    encode_event(Some(name), &data, out);
}

fn known(kd: AnthropicKnownDelta) -> AnthropicDelta {
    kd
}

impl AnthropicStreamEncoder {
    pub fn new(ctx: EncodeContext, opts: StreamOptions) -> Self {
        Self {
            ctx,
            opts,
            phase: Phase::BeforeStart,
            id: String::new(),
            model: String::new(),
            usage: Usage::default(),
            stop: None,
            next_index: 0,
            open: None,
            waiting: Vec::new(),
            finished: HashSet::new(),
            saw_tool_use: false,
        }
    }

    /// Encode one IR event, appending SSE bytes to `out`.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        match (&self.phase, event) {
            (Phase::Done, _) => {}
            (_, StreamEvent::Error(err)) => {
                self.phase = Phase::Done;
                emit(
                    &AnthropicKnownEvent::Error {
                        error: error_body(err).error,
                    },
                    out,
                );
            }
            (Phase::BeforeStart, StreamEvent::Start { id, model }) => self.set_start(id, model),
            (_, StreamEvent::Start { .. }) => {}
            (_, StreamEvent::Usage(u)) => {
                self.usage = *u;
            }
            (_, other) => {
                self.ensure_message_start(out);
                match other {
                    StreamEvent::BlockStart { index, block } => {
                        self.block_start(*index, block, out)
                    }
                    StreamEvent::Delta { index, delta } => self.delta(*index, delta, out),
                    StreamEvent::BlockStop { index } => self.block_stop(*index, out),
                    StreamEvent::Finish { stop } => {
                        self.close_all(out);
                        self.stop = Some(stop.clone());
                    }
                    StreamEvent::End => self.end(out),
                    StreamEvent::Start { .. } | StreamEvent::Usage(_) | StreamEvent::Error(_) => {}
                }
            }
        }
    }

    fn set_start(&mut self, id: &str, model: &str) {
        self.id = if id.is_empty() {
            self.ctx.next_id("msg")
        } else {
            id.to_string()
        };
        self.model = self
            .opts
            .client_model
            .clone()
            .unwrap_or_else(|| model.to_string());
        self.phase = Phase::StartPending;
    }

    fn ensure_message_start(&mut self, out: &mut Vec<u8>) {
        if self.phase == Phase::BeforeStart {
            self.set_start("", "");
        }
        if self.phase != Phase::StartPending {
            return;
        }
        self.phase = Phase::Streaming;
        let message = AnthropicMessagesResponse {
            id: self.id.clone(),
            kind: "message".into(),
            role: "assistant".into(),
            model: self.model.clone(),
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: usage_out(&self.usage),
            extra: Map::new(),
        };
        emit(&AnthropicKnownEvent::MessageStart { message }, out);
    }

    fn block_start(&mut self, index: usize, block: &BlockStart, out: &mut Vec<u8>) {
        if self.finished.contains(&index)
            || self.open.as_ref().is_some_and(|o| o.ir_index == index)
            || self.waiting.iter().any(|w| w.ir_index == index)
        {
            return;
        }
        if let BlockStart::Unknown { protocol, .. } = block {
            if *protocol != Protocol::Anthropic {
                self.finished.insert(index);
                return;
            }
        }
        if self.open.is_none() && self.waiting.is_empty() {
            self.open_block(index, block, out);
        } else {
            self.waiting.push(Waiting {
                ir_index: index,
                block: block.clone(),
                deltas: Vec::new(),
                stopped: false,
            });
        }
    }

    fn open_block(&mut self, ir_index: usize, block: &BlockStart, out: &mut Vec<u8>) {
        let out_index = self.next_index;
        self.next_index += 1;
        let mut follow_up = None;
        let (kind, content_block) = match block {
            BlockStart::Text => (
                Kind::Text,
                AnthropicKnownBlock::Text {
                    text: String::new(),
                    cache_control: None,
                },
            ),
            BlockStart::Thinking | BlockStart::Reasoning { .. } => (
                Kind::Thinking,
                AnthropicKnownBlock::Thinking {
                    thinking: String::new(),
                    signature: Some(String::new()),
                },
            ),
            BlockStart::RedactedThinking { data } => (
                Kind::Opaque,
                AnthropicKnownBlock::RedactedThinking { data: data.clone() },
            ),
            BlockStart::ToolCall { id, name } => {
                self.saw_tool_use = true;
                (
                    Kind::ToolUse,
                    AnthropicKnownBlock::ToolUse {
                        id: id.clone(),
                        name: name.clone(),
                        input: Value::Object(Map::new()),
                    },
                )
            }
            BlockStart::Unknown { value, .. } => {
                // Server tool calls stream their input as input_json_delta, as Anthropic does.
                let mut value = value.clone();
                if let Some(obj) = value.as_object_mut() {
                    if let Some(input) = obj.get_mut("input") {
                        let full = std::mem::replace(input, Value::Object(Map::new()));
                        if full.as_object().is_some_and(|m| !m.is_empty()) {
                            follow_up = Some(full.to_string());
                        }
                    }
                }
                self.open = Some(Open {
                    ir_index,
                    out_index,
                    kind: Kind::Opaque,
                    signature: String::new(),
                    reasoning: None,
                });
                emit(
                    &AnthropicKnownEvent::ContentBlockStart {
                        index: out_index,
                        content_block: Lenient::Unknown(value),
                    },
                    out,
                );
                if let Some(partial_json) = follow_up {
                    emit(
                        &AnthropicKnownEvent::ContentBlockDelta {
                            index: out_index,
                            delta: known(AnthropicKnownDelta::InputJsonDelta { partial_json }),
                        },
                        out,
                    );
                }
                return;
            }
        };
        self.open = Some(Open {
            ir_index,
            out_index,
            kind,
            signature: String::new(),
            reasoning: match block {
                BlockStart::Reasoning { id } => Some(id.clone()),
                _ => None,
            },
        });
        emit(
            &AnthropicKnownEvent::ContentBlockStart {
                index: out_index,
                content_block: Lenient::Known(content_block),
            },
            out,
        );
    }

    fn delta(&mut self, index: usize, delta: &Delta, out: &mut Vec<u8>) {
        if self.finished.contains(&index) {
            return;
        }
        if let Some(w) = self.waiting.iter_mut().find(|w| w.ir_index == index) {
            w.deltas.push(delta.clone());
            return;
        }
        if self.open.as_ref().is_none_or(|o| o.ir_index != index) {
            // A delta without a BlockStart: open a block of the delta's kind.
            let block = match delta {
                Delta::Text(_) => BlockStart::Text,
                Delta::Thinking(_) | Delta::Signature(_) | Delta::EncryptedReasoning(_) => {
                    BlockStart::Thinking
                }
                // Tool arguments without a tool call (no id, no name) cannot be expressed.
                Delta::ToolArguments(_) => return,
            };
            self.block_start(index, &block, out);
            if let Some(w) = self.waiting.iter_mut().find(|w| w.ir_index == index) {
                w.deltas.push(delta.clone());
                return;
            }
        }
        self.write_delta(delta, out);
    }

    /// Write a delta into the open block, switching block when the kind does not fit.
    fn write_delta(&mut self, delta: &Delta, out: &mut Vec<u8>) {
        let Some(open) = self.open.as_ref() else {
            return;
        };
        let (ir_index, kind) = (open.ir_index, open.kind);
        let (needed, kd) = match delta {
            Delta::Text(t) => (
                Kind::Text,
                AnthropicKnownDelta::TextDelta { text: t.clone() },
            ),
            Delta::Thinking(t) => (
                Kind::Thinking,
                AnthropicKnownDelta::ThinkingDelta {
                    thinking: t.clone(),
                },
            ),
            Delta::Signature(s) | Delta::EncryptedReasoning(s) => {
                // Kept for one signature_delta before the block closes; nowhere to go otherwise.
                if let Some(o) = self.open.as_mut().filter(|o| o.kind == Kind::Thinking) {
                    match (&o.reasoning, delta) {
                        (Some(id), Delta::EncryptedReasoning(_)) if o.signature.is_empty() => {
                            o.signature = super::blocks::reasoning_signature(id.as_deref(), s);
                        }
                        _ => o.signature.push_str(s),
                    }
                }
                return;
            }
            Delta::ToolArguments(a) => {
                if kind == Kind::ToolUse && !a.is_empty() {
                    let index = open.out_index;
                    let delta = known(AnthropicKnownDelta::InputJsonDelta {
                        partial_json: a.clone(),
                    });
                    emit(
                        &AnthropicKnownEvent::ContentBlockDelta { index, delta },
                        out,
                    );
                }
                return;
            }
        };
        if kind != needed {
            self.close_open(out);
            let block = if needed == Kind::Text {
                BlockStart::Text
            } else {
                BlockStart::Thinking
            };
            self.open_block(ir_index, &block, out);
        }
        if let Some(o) = &self.open {
            let index = o.out_index;
            emit(
                &AnthropicKnownEvent::ContentBlockDelta {
                    index,
                    delta: known(kd),
                },
                out,
            );
        }
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let index = open.out_index;
        if open.kind == Kind::Thinking && !open.signature.is_empty() {
            let delta = known(AnthropicKnownDelta::SignatureDelta {
                signature: open.signature,
            });
            emit(
                &AnthropicKnownEvent::ContentBlockDelta { index, delta },
                out,
            );
        }
        emit(&AnthropicKnownEvent::ContentBlockStop { index }, out);
    }

    fn block_stop(&mut self, index: usize, out: &mut Vec<u8>) {
        if let Some(w) = self.waiting.iter_mut().find(|w| w.ir_index == index) {
            w.stopped = true;
            return;
        }
        if self.open.as_ref().is_some_and(|o| o.ir_index == index) {
            self.close_open(out);
            self.finished.insert(index);
            self.drain_waiting(out, false);
        }
    }

    /// Open waiting blocks in order and replay their deltas; stop at one that is still
    /// streaming unless `all` (the message is ending).
    fn drain_waiting(&mut self, out: &mut Vec<u8>, all: bool) {
        while self.open.is_none() && !self.waiting.is_empty() {
            let w = self.waiting.remove(0);
            self.open_block(w.ir_index, &w.block, out);
            for d in &w.deltas {
                self.write_delta(d, out);
            }
            if w.stopped || all {
                self.close_open(out);
                self.finished.insert(w.ir_index);
            }
        }
    }

    fn close_all(&mut self, out: &mut Vec<u8>) {
        if let Some(o) = &self.open {
            self.finished.insert(o.ir_index);
        }
        self.close_open(out);
        self.drain_waiting(out, true);
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        self.close_all(out);
        let stop = self.stop.take().unwrap_or(StopReason::EndTurn);
        let (reason, sequence) = stop_out(&stop, self.saw_tool_use);
        emit(
            &AnthropicKnownEvent::MessageDelta {
                delta: AnthropicMessageDelta {
                    stop_reason: Some(reason.into()),
                    stop_sequence: sequence,
                },
                usage: Some(usage_out(&self.usage)),
            },
            out,
        );
        emit(&AnthropicKnownEvent::MessageStop {}, out);
        self.phase = Phase::Done;
    }
}
