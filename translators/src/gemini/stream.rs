//! Gemini stream chunks → IR stream events: a synchronous state machine fed one
//! `GenerateContentResponse` chunk at a time (an SSE `data:` payload, or an element of the
//! non-SSE JSON array via [`super::ArrayStreamDecoder`]).
//!
//! - The first chunk gives `Start` (`responseId`, `modelVersion`).
//! - Consecutive non-thought text parts form one Text block (one `Delta::Text` per part);
//!   thought parts form one Thinking block; a `thoughtSignature` on a thought part is its
//!   `Delta::Signature` and ends that block; a signature on a text part becomes a
//!   signature-only Thinking block after the text (see [`super::parts`]).
//! - Each `functionCall` is its own ToolCall block: `BlockStart`, `Delta::Signature` when the
//!   part has one, one `Delta::ToolArguments` with the whole `args` JSON, `BlockStop`. Vertex's
//!   streamed arguments (`willContinue` + `partialArgs` by JSON path, ended by an empty
//!   `functionCall: {}`) are assembled and sent as one arguments delta when the call is
//!   complete: the fragments are values at paths, not JSON text, and turning them into JSON
//!   text prefixes is left for later.
//! - Other parts (`executableCode`, `codeExecutionResult`, `inlineData` in a response, ...)
//!   become an Unknown block (start + stop) carrying the part verbatim.
//! - `finishReason` and `usageMetadata` are remembered; at [`StreamDecoder::finish`] the last
//!   usage and the stop reason are sent (`Usage`, `Finish`), then `End`. A stream that ends
//!   without a `finishReason` (cut off) ends with an `Error` instead: Gemini always sends one.
//! - An `{"error":{...}}` chunk gives `Error` and ends the stream; so does a chunk that is
//!   not JSON of the expected shape.

use serde_json::Value;

use super::parts::{apply_partial_arg, unknown_part, CallIds};
use super::response::{decode_stop, decode_usage, error_from_body};
use super::wire::{GeminiFunctionCall, GeminiPart, GeminiResponse};
use crate::ir::Usage;
use crate::ir::{BlockStart, Delta, ErrorKind, Protocol, StopReason, StreamError, StreamEvent};
use crate::sse::SseEvent;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    BeforeStart,
    Streaming,
    Done,
}

/// The block currently open, if any.
#[derive(Debug, Clone, PartialEq)]
enum Open {
    Text {
        index: usize,
    },
    Thinking {
        index: usize,
    },
    /// A call whose arguments Vertex is still streaming.
    Call {
        index: usize,
        args: Value,
    },
}

/// Gemini stream decoder (see the module docs).
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    phase: Phase,
    open: Option<Open>,
    next_index: usize,
    ids: CallIds,
    saw_call: bool,
    finish_reason: Option<String>,
    blocked: bool,
    usage: Option<Usage>,
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
            open: None,
            next_index: 0,
            ids: CallIds::default(),
            saw_call: false,
            finish_reason: None,
            blocked: false,
            usage: None,
        }
    }

    /// Decode one SSE event (its `data` is one chunk).
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        self.feed_json(&event.data, out);
    }

    /// Decode one chunk given as JSON text.
    pub fn feed_json(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::Done {
            return;
        }
        let data = data.trim();
        if data.is_empty() || data == "[DONE]" {
            return;
        }
        match serde_json::from_str::<GeminiResponse>(data) {
            Ok(chunk) => self.chunk(chunk, out),
            Err(e) => self.fail(
                StreamError {
                    status: None,
                    kind: ErrorKind::Server,
                    message: format!("malformed Gemini stream chunk: {e}"),
                },
                out,
            ),
        }
    }

    /// The upstream stream ended.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self.phase {
            Phase::Done => return,
            Phase::BeforeStart => {
                return self.fail(error("Gemini stream ended before any chunk"), out);
            }
            Phase::Streaming => {}
        }
        self.close(out);
        let stop = match self.finish_reason.as_deref() {
            Some(reason) => decode_stop(reason, self.saw_call),
            None if self.blocked => StopReason::ContentFilter,
            None => return self.fail(error("Gemini stream ended without a finishReason"), out),
        };
        if let Some(usage) = self.usage {
            out.push(StreamEvent::Usage(usage));
        }
        out.push(StreamEvent::Finish { stop });
        out.push(StreamEvent::End);
        self.phase = Phase::Done;
    }

    fn fail(&mut self, err: StreamError, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::Error(err));
        self.phase = Phase::Done;
    }

    fn chunk(&mut self, chunk: GeminiResponse, out: &mut Vec<StreamEvent>) {
        if let Some(err) = chunk.error {
            return self.fail(error_from_body(&err, None), out);
        }
        if self.phase == Phase::BeforeStart {
            self.ids = CallIds::for_response_id(chunk.response_id.as_deref().unwrap_or(""));
            out.push(StreamEvent::Start {
                id: chunk.response_id.clone().unwrap_or_default(),
                model: chunk.model_version.clone().unwrap_or_default(),
            });
            self.phase = Phase::Streaming;
        }
        if chunk
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some())
        {
            self.blocked = true;
        }
        if let Some(candidate) = chunk.candidates.into_iter().next() {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                self.part(part, out);
            }
            if let Some(reason) = candidate.finish_reason {
                self.close(out);
                self.finish_reason = Some(reason);
            }
        }
        if let Some(usage) = chunk.usage_metadata {
            self.usage = Some(decode_usage(usage));
        }
    }

    fn part(&mut self, part: GeminiPart, out: &mut Vec<StreamEvent>) {
        let signature = part.thought_signature.clone();
        if let Some(call) = part.function_call {
            return self.function_call(call, signature, out);
        }
        if !part.is_known() || part.text.is_none() {
            self.close(out);
            let index = self.take_index();
            let value = match unknown_part(&part) {
                crate::ir::Part::Unknown { value, .. } => value,
                _ => Value::Null,
            };
            out.push(StreamEvent::BlockStart {
                index,
                block: BlockStart::Unknown {
                    protocol: Protocol::Gemini,
                    value,
                },
            });
            out.push(StreamEvent::BlockStop { index });
            return;
        }
        let text = part.text.unwrap_or_default();
        if part.thought == Some(true) {
            let index = self.ensure_thinking(out);
            if !text.is_empty() {
                out.push(StreamEvent::Delta {
                    index,
                    delta: Delta::Thinking(text),
                });
            }
            if let Some(sig) = signature {
                out.push(StreamEvent::Delta {
                    index,
                    delta: Delta::Signature(sig),
                });
                self.close(out);
            }
            return;
        }
        if !text.is_empty() {
            let index = match self.open {
                Some(Open::Text { index }) => index,
                _ => {
                    self.close(out);
                    let index = self.take_index();
                    out.push(StreamEvent::BlockStart {
                        index,
                        block: BlockStart::Text,
                    });
                    self.open = Some(Open::Text { index });
                    index
                }
            };
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::Text(text),
            });
        }
        if let Some(sig) = signature {
            self.close(out);
            let index = self.ensure_thinking(out);
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::Signature(sig),
            });
            self.close(out);
        }
    }

    fn ensure_thinking(&mut self, out: &mut Vec<StreamEvent>) -> usize {
        if let Some(Open::Thinking { index }) = self.open {
            return index;
        }
        self.close(out);
        let index = self.take_index();
        out.push(StreamEvent::BlockStart {
            index,
            block: BlockStart::Thinking,
        });
        self.open = Some(Open::Thinking { index });
        index
    }

    fn function_call(
        &mut self,
        call: GeminiFunctionCall,
        signature: Option<String>,
        out: &mut Vec<StreamEvent>,
    ) {
        let continues = call.will_continue == Some(true);
        // A fragment (or the empty end marker) of the call being streamed.
        if call.name.is_none() {
            if let Some(Open::Call { index, args }) = &mut self.open {
                let index = *index;
                for arg in call.partial_args.iter().flatten() {
                    apply_partial_arg(args, arg);
                }
                if let Some(sig) = signature {
                    out.push(StreamEvent::Delta {
                        index,
                        delta: Delta::Signature(sig),
                    });
                }
                if !continues {
                    self.close(out);
                }
            }
            return;
        }
        self.close(out);
        self.saw_call = true;
        let name = call.name.unwrap_or_default();
        let id = self.ids.for_call(&name, call.id.as_deref());
        let index = self.take_index();
        out.push(StreamEvent::BlockStart {
            index,
            block: BlockStart::ToolCall { id, name },
        });
        if let Some(sig) = signature {
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::Signature(sig),
            });
        }
        let mut args = call.args.unwrap_or(Value::Null);
        for arg in call.partial_args.iter().flatten() {
            apply_partial_arg(&mut args, arg);
        }
        self.open = Some(Open::Call { index, args });
        if !continues {
            self.close(out);
        }
    }

    fn take_index(&mut self) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    /// Close the open block; a call sends its assembled arguments first.
    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        match self.open.take() {
            None => {}
            Some(Open::Text { index }) | Some(Open::Thinking { index }) => {
                out.push(StreamEvent::BlockStop { index });
            }
            Some(Open::Call { index, args }) => {
                let text = match args {
                    Value::Null => "{}".to_string(),
                    other => other.to_string(),
                };
                out.push(StreamEvent::Delta {
                    index,
                    delta: Delta::ToolArguments(text),
                });
                out.push(StreamEvent::BlockStop { index });
            }
        }
    }
}

fn error(message: &str) -> StreamError {
    StreamError {
        status: None,
        kind: ErrorKind::Server,
        message: message.to_string(),
    }
}
