//! Anthropic stream events → IR stream events. Pure, synchronous; fed one [`SseEvent`] at a
//! time by the gateway's `response_body_filter` (through [`crate::sse::SseDecoder`], so any
//! chunk boundary works).
//!
//! | Anthropic event | IR |
//! | --- | --- |
//! | `message_start` | `Start { id, model }`, then `Usage` (input known, output so far); blocks and a stop reason it already carries (programmatic tool calling sends whole messages so) as their events |
//! | `content_block_start` text / thinking / redacted_thinking / tool_use | `BlockStart` (+ a `Delta` if the start already carries text or input) |
//! | `content_block_start` of another type (server tools, MCP, code execution, ...) | held until its `content_block_stop`, its `input_json_delta`s folded into `input`, then `BlockStart::Unknown` with the whole block + `BlockStop` |
//! | `text_delta` / `thinking_delta` / `signature_delta` / `input_json_delta` | `Delta::{Text, Thinking, Signature, ToolArguments}` (empty ones dropped) |
//! | `citations_delta` | dropped: the IR has no citations; the cited text is already in the text deltas |
//! | `content_block_stop` | `BlockStop` |
//! | `message_delta` | `Usage` (cumulative: fields it lacks keep their earlier values), `Finish` |
//! | `message_stop` | `End` |
//! | `ping`, unknown events and delta types | nothing |
//! | `error` | `Error` (the stream is over) |
//!
//! A stream that ends without `message_stop` (or `error`) ends with an `Error` from
//! [`AnthropicStreamDecoder::finish`]: the client must not mistake a cut stream for a
//! complete answer. Undecodable JSON is an `Error` as well.

use serde_json::Value;

use super::blocks::block_to_part;
use super::response::{stop_in, usage_in};
use super::wire::*;
use crate::ir::{BlockStart, Delta, ErrorKind, Part, Protocol, StreamError, StreamEvent};
use crate::sse::SseEvent;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Before `message_start`.
    BeforeStart,
    Streaming,
    /// `message_stop` or an error was seen: everything after is ignored.
    Done,
}

/// A block of a type the IR does not model, held until it is complete.
#[derive(Debug, Clone)]
struct HeldBlock {
    index: usize,
    value: Value,
    partial_json: String,
}

/// Decoder state for one upstream stream.
#[derive(Debug, Clone)]
pub struct AnthropicStreamDecoder {
    phase: Phase,
    /// Cumulative usage in Anthropic's terms (`message_delta` may send only some fields).
    usage: AnthropicUsage,
    held: Vec<HeldBlock>,
}

impl Default for AnthropicStreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

fn stream_error(message: impl Into<String>) -> StreamEvent {
    StreamEvent::Error(StreamError {
        status: None,
        kind: ErrorKind::Server,
        message: message.into(),
    })
}

impl AnthropicStreamDecoder {
    pub fn new() -> Self {
        Self {
            phase: Phase::BeforeStart,
            usage: AnthropicUsage::default(),
            held: Vec::new(),
        }
    }

    /// Decode one SSE event, appending IR events to `out`.
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::Done {
            return;
        }
        // Typed first (the hot path: no untagged buffering); an event we do not model is
        // skipped if it is JSON at all, and ends the stream if it is not.
        let ev = match serde_json::from_str::<AnthropicKnownEvent>(&event.data) {
            Ok(ev) => ev,
            Err(e) => {
                if serde_json::from_str::<serde::de::IgnoredAny>(&event.data).is_err() {
                    self.phase = Phase::Done;
                    out.push(stream_error(format!(
                        "undecodable Anthropic stream event: {e}"
                    )));
                }
                return;
            }
        };
        match ev {
            AnthropicKnownEvent::MessageStart { message } => self.message_start(message, out),
            AnthropicKnownEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                self.ensure_started(out);
                self.block_start(index, content_block, out);
            }
            AnthropicKnownEvent::ContentBlockDelta { index, delta } => {
                self.ensure_started(out);
                self.delta(index, delta, out);
            }
            AnthropicKnownEvent::ContentBlockStop { index } => {
                self.ensure_started(out);
                self.block_stop(index, out);
            }
            AnthropicKnownEvent::MessageDelta { delta, usage } => {
                self.ensure_started(out);
                if let Some(u) = usage {
                    self.usage.merge(&u);
                    out.push(StreamEvent::Usage(usage_in(&self.usage)));
                }
                if let Some(reason) = delta.stop_reason.as_deref() {
                    out.push(StreamEvent::Finish {
                        stop: stop_in(Some(reason), delta.stop_sequence),
                    });
                }
            }
            AnthropicKnownEvent::MessageStop {} => {
                self.ensure_started(out);
                self.phase = Phase::Done;
                out.push(StreamEvent::End);
            }
            AnthropicKnownEvent::Ping {} => {}
            AnthropicKnownEvent::Error { error } => {
                self.phase = Phase::Done;
                let body = AnthropicErrorBody {
                    kind: "error".into(),
                    error,
                    extra: Default::default(),
                };
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                let mut err = super::response::decode_error(0, &bytes);
                err.status = None;
                out.push(StreamEvent::Error(err));
            }
        }
    }

    /// End of the upstream body.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.phase != Phase::Done {
            self.phase = Phase::Done;
            out.push(stream_error("upstream stream ended before message_stop"));
        }
    }

    /// Events before `message_start` (a non-conforming upstream) get a start with empty id
    /// and model; encoders then use their own.
    fn ensure_started(&mut self, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::BeforeStart {
            self.phase = Phase::Streaming;
            out.push(StreamEvent::Start {
                id: String::new(),
                model: String::new(),
            });
        }
    }

    fn message_start(&mut self, message: AnthropicMessagesResponse, out: &mut Vec<StreamEvent>) {
        if self.phase != Phase::BeforeStart {
            return;
        }
        self.phase = Phase::Streaming;
        out.push(StreamEvent::Start {
            id: message.id,
            model: message.model,
        });
        self.usage.merge(&message.usage);
        out.push(StreamEvent::Usage(usage_in(&self.usage)));
        // A continuation of a server-side tool loop can arrive whole inside message_start.
        for (index, block) in message.content.into_iter().enumerate() {
            self.block_start(index, block, out);
            self.block_stop(index, out);
        }
        if let Some(reason) = message.stop_reason.as_deref() {
            out.push(StreamEvent::Finish {
                stop: stop_in(Some(reason), message.stop_sequence),
            });
        }
    }

    fn block_start(
        &mut self,
        index: usize,
        block: AnthropicContentBlock,
        out: &mut Vec<StreamEvent>,
    ) {
        if let Lenient::Unknown(value) = block {
            self.held.push(HeldBlock {
                index,
                value,
                partial_json: String::new(),
            });
            return;
        }
        let start = |block| StreamEvent::BlockStart { index, block };
        let delta = |delta| StreamEvent::Delta { index, delta };
        match block_to_part(block) {
            Part::Text { text, .. } => {
                out.push(start(BlockStart::Text));
                if !text.is_empty() {
                    out.push(delta(Delta::Text(text)));
                }
            }
            Part::Thinking { text, signature } => {
                out.push(start(BlockStart::Thinking));
                if !text.is_empty() {
                    out.push(delta(Delta::Thinking(text)));
                }
                if let Some(s) = signature {
                    out.push(delta(Delta::Signature(s)));
                }
            }
            Part::RedactedThinking { data } => {
                out.push(start(BlockStart::RedactedThinking { data }))
            }
            Part::ToolCall(c) => {
                out.push(start(BlockStart::ToolCall {
                    id: c.id,
                    name: c.name,
                }));
                if c.arguments != "{}" {
                    out.push(delta(Delta::ToolArguments(c.arguments)));
                }
            }
            // Images, documents and tool results do not appear in responses; pass them on whole.
            other => {
                let value = match other {
                    Part::Unknown { value, .. } => value,
                    p => super::blocks::part_to_block(&p)
                        .and_then(|b| serde_json::to_value(b).ok())
                        .unwrap_or(Value::Null),
                };
                out.push(start(BlockStart::Unknown {
                    protocol: Protocol::Anthropic,
                    value,
                }));
            }
        }
    }

    fn delta(&mut self, index: usize, delta: AnthropicDelta, out: &mut Vec<StreamEvent>) {
        if let Some(h) = self.held.iter_mut().find(|h| h.index == index) {
            if let AnthropicKnownDelta::InputJsonDelta { partial_json } = delta {
                h.partial_json.push_str(&partial_json);
            }
            return;
        }
        let d = match delta {
            AnthropicKnownDelta::TextDelta { text } => Delta::Text(text),
            AnthropicKnownDelta::ThinkingDelta { thinking } => Delta::Thinking(thinking),
            AnthropicKnownDelta::SignatureDelta { signature } => Delta::Signature(signature),
            AnthropicKnownDelta::InputJsonDelta { partial_json } => {
                Delta::ToolArguments(partial_json)
            }
            // citations_delta and future delta types: nothing the IR can carry.
            AnthropicKnownDelta::Other => return,
        };
        let empty = match &d {
            Delta::Text(s) | Delta::Thinking(s) | Delta::Signature(s) | Delta::ToolArguments(s) => {
                s.is_empty()
            }
            Delta::EncryptedReasoning(_) => false,
        };
        if !empty {
            out.push(StreamEvent::Delta { index, delta: d });
        }
    }

    fn block_stop(&mut self, index: usize, out: &mut Vec<StreamEvent>) {
        if let Some(pos) = self.held.iter().position(|h| h.index == index) {
            let mut h = self.held.remove(pos);
            if !h.partial_json.is_empty() {
                if let (Ok(input), Some(obj)) = (
                    serde_json::from_str::<Value>(&h.partial_json),
                    h.value.as_object_mut(),
                ) {
                    obj.insert("input".into(), input);
                }
            }
            out.push(StreamEvent::BlockStart {
                index,
                block: BlockStart::Unknown {
                    protocol: Protocol::Anthropic,
                    value: h.value,
                },
            });
        }
        out.push(StreamEvent::BlockStop { index });
    }
}
