//! OpenAI Chat stream decoder: `chat.completion.chunk` events (via [`crate::sse::SseDecoder`])
//! into IR [`StreamEvent`]s. A synchronous state machine; runs in `response_body_filter`.
//!
//! What real upstreams send and how it is read:
//! - `Start` comes from the first chunk that has an id or choices (Azure first sends a
//!   `prompt_filter_results` chunk with an empty id, model and `choices: []`).
//! - `delta.reasoning_content` (DeepSeek, Moonshot, xAI) or `delta.reasoning` (Groq) opens a
//!   Thinking block, `delta.content` (and `refusal`) a Text block; a change of kind closes the
//!   previous block. Empty strings open nothing (DeepSeek starts with `reasoning_content: ""`).
//! - `delta.tool_calls[i]`: a new `index` (its position when a provider omits it) opens a
//!   ToolCall block once its name is known; argument fragments are forwarded as they arrive.
//!   Later fragments with an empty id (Alibaba) continue the call; a different non-empty id
//!   on a known index starts a new call (providers that number every call 0). A call without
//!   an id gets `call_<block index>`.
//! - `finish_reason` closes every block. `Finish` is held until the usage is known (the same
//!   chunk for Groq/Moonshot/DeepSeek, the `choices: []` chunk for OpenAI, or `[DONE]`), so it
//!   comes after `Usage` and an Anthropic encoder can put both in one `message_delta`.
//! - `[DONE]` ends the stream (`End`). A stream that ends without it but after a
//!   `finish_reason` also ends cleanly (the recorded chunk files have no `[DONE]`); one that
//!   ends before any `finish_reason` is an `Error` (truncated upstream).
//! - `{"error":{...}}` (data-only, or with `event: error` as Groq sends it) is an `Error` and
//!   ends the stream. Events that are not JSON are skipped.

use super::response::decode_stop;
use super::response::{decode_usage, error_from_wire, fragment_text};
use super::wire::*;
use crate::ir::{BlockStart, Delta, ErrorKind, StopReason, StreamError, StreamEvent};
use crate::sse::SseEvent;

/// Where the decoder is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// No chunk with content yet: `Start` not emitted.
    BeforeStart,
    Streaming,
    /// `finish_reason` seen; `Finish` emitted already or still held (`Some`).
    Finished(Option<StopReason>),
    /// `End` or `Error` emitted; everything else is ignored.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeqKind {
    Text,
    Thinking,
}

/// A tool call being assembled, keyed by the upstream's `index`.
#[derive(Debug, Clone, Default)]
struct ToolSlot {
    key: usize,
    id: String,
    name: String,
    /// IR block index once `BlockStart` was emitted.
    block: Option<usize>,
    /// Argument fragments that came before the name.
    held: String,
}

/// Chat chunks → IR events.
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    phase: Phase,
    next_block: usize,
    /// The open text or thinking block.
    seq: Option<(usize, SeqKind)>,
    tools: Vec<ToolSlot>,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self {
            phase: Phase::BeforeStart,
            next_block: 0,
            seq: None,
            tools: Vec::new(),
        }
    }

    /// Decode one SSE event.
    pub fn feed(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::Done {
            return;
        }
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.end(true, out);
            return;
        }
        let chunk: OpenAiChatChunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(_) if ev.event.as_deref() == Some("error") => {
                return self.fail(server_error(data.to_owned()), out);
            }
            Err(_) => return,
        };
        if let Some(err) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            let e = serde_json::from_value::<OpenAiChatError>(err.clone()).map_or_else(
                |_| server_error(err.to_string()),
                |e| error_from_wire(None, &e),
            );
            return self.fail(e, out);
        }
        self.on_chunk(chunk, out);
    }

    /// End of the upstream body.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        self.end(false, out);
    }

    fn on_chunk(&mut self, chunk: OpenAiChatChunk, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::BeforeStart {
            if chunk.id.is_empty() && chunk.choices.is_empty() && chunk.usage.is_none() {
                return;
            }
            out.push(StreamEvent::Start {
                id: chunk.id.clone(),
                model: chunk.model.clone(),
            });
            self.phase = Phase::Streaming;
        }
        let mut usage = chunk.usage;
        let mut finish = None;
        let choice = chunk.choices.into_iter().find(|c| c.index == 0);
        if let Some(choice) = choice {
            usage = usage.or(choice.usage);
            if self.phase == Phase::Streaming {
                self.on_delta(choice.delta, out);
                finish = choice.finish_reason.filter(|f| !f.is_empty());
            }
        }
        if let Some(f) = finish {
            self.close_all(out);
            self.phase = Phase::Finished(Some(decode_stop(&f)));
        }
        if let Some(u) = usage {
            out.push(StreamEvent::Usage(decode_usage(&u)));
            if let Phase::Finished(held) = &mut self.phase {
                if let Some(stop) = held.take() {
                    out.push(StreamEvent::Finish { stop });
                }
            }
        }
    }

    fn on_delta(&mut self, d: OpenAiChatDelta, out: &mut Vec<StreamEvent>) {
        if let Some(t) = d
            .reasoning_content
            .or(d.reasoning)
            .filter(|t| !t.is_empty())
        {
            self.seq_delta(SeqKind::Thinking, t, out);
        }
        for t in [d.content, d.refusal].into_iter().flatten() {
            if !t.is_empty() {
                self.seq_delta(SeqKind::Text, t, out);
            }
        }
        for (pos, call) in d.tool_calls.unwrap_or_default().into_iter().enumerate() {
            self.tool_fragment(pos, call, out);
        }
    }

    fn seq_delta(&mut self, kind: SeqKind, text: String, out: &mut Vec<StreamEvent>) {
        self.close_tools(out);
        let index = match self.seq {
            Some((i, k)) if k == kind => i,
            _ => {
                self.close_seq(out);
                let i = self.alloc();
                out.push(StreamEvent::BlockStart {
                    index: i,
                    block: match kind {
                        SeqKind::Text => BlockStart::Text,
                        SeqKind::Thinking => BlockStart::Thinking,
                    },
                });
                self.seq = Some((i, kind));
                i
            }
        };
        let delta = match kind {
            SeqKind::Text => Delta::Text(text),
            SeqKind::Thinking => Delta::Thinking(text),
        };
        out.push(StreamEvent::Delta { index, delta });
    }

    fn tool_fragment(
        &mut self,
        pos: usize,
        call: OpenAiChatToolCallDelta,
        out: &mut Vec<StreamEvent>,
    ) {
        self.close_seq(out);
        let key = call.index.unwrap_or(pos);
        let id = call.id.filter(|i| !i.is_empty());
        let (name, args) = match call.function {
            Some(f) => (
                f.name.filter(|n| !n.is_empty()),
                f.arguments.map(fragment_text).unwrap_or_default(),
            ),
            None => (None, String::new()),
        };
        let existing = self.tools.iter().position(|s| s.key == key);
        let slot_at = match (existing, &id) {
            (Some(i), Some(new_id))
                if !self.tools[i].id.is_empty() && self.tools[i].id != *new_id =>
            {
                let old = self.tools.remove(i);
                Self::stop_slot(&old, out);
                None
            }
            (found, _) => found,
        };
        let i = match slot_at {
            Some(i) => i,
            None => {
                self.tools.push(ToolSlot {
                    key,
                    ..ToolSlot::default()
                });
                self.tools.len() - 1
            }
        };
        if let Some(id) = id {
            if self.tools[i].id.is_empty() {
                self.tools[i].id = id;
            }
        }
        if let Some(name) = name {
            if self.tools[i].name.is_empty() {
                self.tools[i].name = name;
            }
        }
        match self.tools[i].block {
            Some(index) => {
                if !args.is_empty() {
                    out.push(StreamEvent::Delta {
                        index,
                        delta: Delta::ToolArguments(args),
                    });
                }
            }
            None => {
                self.tools[i].held.push_str(&args);
                if !self.tools[i].name.is_empty() {
                    self.open_tool(i, out);
                }
            }
        }
    }

    fn open_tool(&mut self, i: usize, out: &mut Vec<StreamEvent>) {
        let index = self.alloc();
        let slot = &mut self.tools[i];
        if slot.id.is_empty() {
            slot.id = format!("call_{index}");
        }
        slot.block = Some(index);
        out.push(StreamEvent::BlockStart {
            index,
            block: BlockStart::ToolCall {
                id: slot.id.clone(),
                name: slot.name.clone(),
            },
        });
        let held = std::mem::take(&mut slot.held);
        if !held.is_empty() {
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::ToolArguments(held),
            });
        }
    }

    fn stop_slot(slot: &ToolSlot, out: &mut Vec<StreamEvent>) {
        if let Some(index) = slot.block {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn close_seq(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.seq.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    /// Close every tool call; one that never got a name is opened (nameless) first, so its
    /// arguments are not lost.
    fn close_tools(&mut self, out: &mut Vec<StreamEvent>) {
        for i in 0..self.tools.len() {
            if self.tools[i].block.is_none() {
                self.open_tool(i, out);
            }
        }
        let mut slots = std::mem::take(&mut self.tools);
        slots.sort_by_key(|s| s.block);
        for s in &slots {
            Self::stop_slot(s, out);
        }
    }

    fn close_all(&mut self, out: &mut Vec<StreamEvent>) {
        self.close_seq(out);
        self.close_tools(out);
    }

    fn alloc(&mut self) -> usize {
        let i = self.next_block;
        self.next_block += 1;
        i
    }

    fn fail(&mut self, e: StreamError, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::Error(e));
        self.phase = Phase::Done;
    }

    /// `[DONE]` (`done`) or the end of the body.
    fn end(&mut self, done: bool, out: &mut Vec<StreamEvent>) {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Done => {}
            Phase::BeforeStart => out.push(StreamEvent::Error(server_error(
                "upstream stream ended before any chunk".to_owned(),
            ))),
            Phase::Streaming if !done => {
                out.push(StreamEvent::Error(server_error(
                    "upstream stream ended before finish_reason".to_owned(),
                )));
            }
            Phase::Streaming => {
                let had_tools = !self.tools.is_empty();
                self.close_all(out);
                let stop = if had_tools {
                    StopReason::ToolUse
                } else {
                    StopReason::EndTurn
                };
                out.push(StreamEvent::Finish { stop });
                out.push(StreamEvent::End);
            }
            Phase::Finished(held) => {
                if let Some(stop) = held {
                    out.push(StreamEvent::Finish { stop });
                }
                out.push(StreamEvent::End);
            }
        }
    }
}

fn server_error(message: String) -> StreamError {
    StreamError {
        status: None,
        kind: ErrorKind::Server,
        message,
    }
}
