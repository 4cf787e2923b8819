//! OpenAI Chat stream encoder: IR [`StreamEvent`]s into the `data:` lines a Chat client reads.
//! A synchronous state machine; runs in `response_body_filter`.
//!
//! Output, always in this order (what the openai SDKs and Qwen Code need, CLIENTS.md):
//! 1. a first chunk with `delta: {"role":"assistant","content":""}`;
//! 2. `content` deltas for text, `reasoning_content` deltas for thinking (and reasoning
//!    summaries), tool calls as `tool_calls[{index, id, type, function{name, arguments:""}}]`
//!    on their `BlockStart` then `function.arguments` fragments as they arrive (`index` counts
//!    tool calls from 0);
//! 3. one chunk with `delta: {}` and `finish_reason` (synthesised at `End` if the upstream
//!    gave none; `tool_calls` whenever a tool call was streamed);
//! 4. with [`StreamOptions::include_usage`], a `choices: []` chunk with `usage`;
//! 5. `data: [DONE]`.
//!
//! Tool calls an upstream interleaves (a Responses upstream may stream two calls' arguments
//! alternately) are serialised: the first streams live, a later one is held (its arguments
//! collected) until the one before it closes, then sent as its header and one fragment. The
//! openai SDK's `.stream()` helper finalises a call as soon as a delta for another `index`
//! arrives, so interleaved indexes would hand it half the arguments.
//!
//! An IR `Error` becomes `data: {"error":{...}}` and ends the output without `[DONE]`: the
//! openai SDK raises `APIError` on it (`_streaming.py`: a data-only event whose JSON has an
//! `error` key). Every chunk carries the same `id`, `created` and `model` (the client's model
//! when [`StreamOptions::client_model`] is set). Thinking signatures, redacted thinking and
//! encrypted reasoning have no Chat form and are dropped.

use serde::Serialize;
use serde_json::Value;

use super::response::{encode_stop, encode_usage, error_json};
use crate::ir::{BlockStart, Delta, EncodeContext, StopReason, StreamEvent, Usage};
use crate::sse::encode_event;
use crate::StreamOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    BeforeStart,
    Streaming,
    /// The `finish_reason` chunk is written; only usage and `[DONE]` remain.
    Finished,
    Done,
}

/// What an IR block index streams as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// A tool call with its Chat `index`.
    Tool(usize),
    /// Text, thinking, reasoning: deltas say what they are.
    Other,
}

/// IR events → Chat chunks.
#[derive(Debug, Clone)]
pub struct StreamEncoder {
    ctx: EncodeContext,
    opts: StreamOptions,
    phase: Phase,
    id: String,
    model: String,
    blocks: Vec<(usize, Block)>,
    tool_count: usize,
    usage: Usage,
    /// IR index of the tool call streaming live, until its `BlockStop`.
    live_tool: Option<usize>,
    /// Tool calls that started while another was live, in order.
    held: Vec<HeldTool>,
}

/// A tool call held back while another streams (see the module docs).
#[derive(Debug, Clone)]
struct HeldTool {
    index: usize,
    id: String,
    name: String,
    arguments: String,
    stopped: bool,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: &'a str,
    choices: Vec<Choice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Value>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    delta: DeltaOut<'a>,
    finish_reason: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct DeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolOut<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

impl StreamEncoder {
    pub fn new(ctx: EncodeContext, opts: StreamOptions) -> Self {
        Self {
            ctx,
            opts,
            phase: Phase::BeforeStart,
            id: String::new(),
            model: String::new(),
            blocks: Vec::new(),
            tool_count: 0,
            usage: Usage::default(),
            live_tool: None,
            held: Vec::new(),
        }
    }

    /// Encode one IR event, appending complete SSE events to `out`.
    pub fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        if let StreamEvent::Error(e) = ev {
            encode_event(None, &error_json(e).to_string(), out);
            self.phase = Phase::Done;
            return;
        }
        if self.phase == Phase::BeforeStart {
            let (id, model) = match ev {
                StreamEvent::Start { id, model } => (id.as_str(), model.as_str()),
                _ => ("", ""),
            };
            self.start(id, model, out);
            if matches!(ev, StreamEvent::Start { .. }) {
                return;
            }
        }
        match ev {
            StreamEvent::Start { .. } | StreamEvent::Error(_) => {}
            StreamEvent::BlockStop { index } => self.block_stop(*index, out),
            StreamEvent::BlockStart { index, block } => self.block_start(*index, block, out),
            StreamEvent::Delta { index, delta } => self.delta(*index, delta, out),
            StreamEvent::Usage(u) => self.usage = *u,
            StreamEvent::Finish { stop } => self.finish(stop, out),
            StreamEvent::End => {
                self.finish(&StopReason::EndTurn, out);
                if self.opts.include_usage {
                    let usage = Some(encode_usage(&self.usage));
                    self.write(Vec::new(), usage, out);
                }
                encode_event(None, "[DONE]", out);
                self.phase = Phase::Done;
            }
        }
    }

    fn start(&mut self, id: &str, model: &str, out: &mut Vec<u8>) {
        self.id = if id.is_empty() {
            self.ctx.next_id("chatcmpl")
        } else {
            id.to_owned()
        };
        self.model = self
            .opts
            .client_model
            .clone()
            .unwrap_or_else(|| model.to_owned());
        self.phase = Phase::Streaming;
        let delta = DeltaOut {
            role: Some("assistant"),
            content: Some(""),
            ..DeltaOut::default()
        };
        self.write_delta(delta, out);
    }

    fn block_start(&mut self, index: usize, block: &BlockStart, out: &mut Vec<u8>) {
        if self.phase != Phase::Streaming {
            return;
        }
        match block {
            BlockStart::ToolCall { id, name } if self.live_tool.is_some() => {
                self.held.push(HeldTool {
                    index,
                    id: id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                    stopped: false,
                });
            }
            BlockStart::ToolCall { id, name } => {
                self.open_tool(index, id, name, out);
                self.live_tool = Some(index);
            }
            _ => {
                self.blocks.retain(|(i, _)| *i != index);
                self.blocks.push((index, Block::Other));
            }
        }
    }

    /// Writes a tool call's header chunk and gives it the next Chat `index`.
    fn open_tool(&mut self, index: usize, id: &str, name: &str, out: &mut Vec<u8>) {
        let n = self.tool_count;
        self.tool_count += 1;
        let delta = DeltaOut {
            tool_calls: Some([ToolOut {
                index: n,
                id: Some(id),
                kind: Some("function"),
                function: FunctionOut {
                    name: Some(name),
                    arguments: "",
                },
            }]),
            ..DeltaOut::default()
        };
        self.write_delta(delta, out);
        self.blocks.retain(|(i, _)| *i != index);
        self.blocks.push((index, Block::Tool(n)));
    }

    fn block_stop(&mut self, index: usize, out: &mut Vec<u8>) {
        if let Some(h) = self.held.iter_mut().find(|h| h.index == index) {
            h.stopped = true;
        } else if self.live_tool == Some(index) {
            self.live_tool = None;
            self.release(false, out);
        }
    }

    /// Sends held tool calls in order while none is live (`all`: every one, at the finish).
    fn release(&mut self, all: bool, out: &mut Vec<u8>) {
        while (all || self.live_tool.is_none()) && !self.held.is_empty() {
            let h = self.held.remove(0);
            self.open_tool(h.index, &h.id, &h.name, out);
            if !h.arguments.is_empty() {
                self.delta(h.index, &Delta::ToolArguments(h.arguments), out);
            }
            if !h.stopped && !all {
                self.live_tool = Some(h.index);
            }
        }
    }

    fn delta(&mut self, index: usize, delta: &Delta, out: &mut Vec<u8>) {
        if self.phase != Phase::Streaming {
            return;
        }
        let d = match delta {
            Delta::Text(t) if !t.is_empty() => DeltaOut {
                content: Some(t),
                ..DeltaOut::default()
            },
            Delta::Thinking(t) if !t.is_empty() => DeltaOut {
                reasoning_content: Some(t),
                ..DeltaOut::default()
            },
            Delta::ToolArguments(a) if !a.is_empty() => {
                if let Some(h) = self.held.iter_mut().find(|h| h.index == index) {
                    h.arguments.push_str(a);
                    return;
                }
                let tool = self.blocks.iter().find_map(|(i, b)| match b {
                    Block::Tool(n) if *i == index => Some(*n),
                    _ => None,
                });
                let Some(n) = tool else { return };
                DeltaOut {
                    tool_calls: Some([ToolOut {
                        index: n,
                        id: None,
                        kind: None,
                        function: FunctionOut {
                            name: None,
                            arguments: a,
                        },
                    }]),
                    ..DeltaOut::default()
                }
            }
            // Empty fragments, signatures and encrypted reasoning: nothing to send.
            _ => return,
        };
        self.write_delta(d, out);
    }

    fn finish(&mut self, stop: &StopReason, out: &mut Vec<u8>) {
        if self.phase != Phase::Streaming {
            return;
        }
        self.live_tool = None;
        self.release(true, out);
        let reason = encode_stop(stop, self.tool_count > 0);
        let choice = Choice {
            index: 0,
            delta: DeltaOut::default(),
            finish_reason: Some(reason),
        };
        self.write(vec![choice], None, out);
        self.phase = Phase::Finished;
    }

    fn write_delta(&self, delta: DeltaOut<'_>, out: &mut Vec<u8>) {
        let choice = Choice {
            index: 0,
            delta,
            finish_reason: None,
        };
        self.write(vec![choice], None, out);
    }

    fn write(&self, choices: Vec<Choice<'_>>, usage: Option<Value>, out: &mut Vec<u8>) {
        let chunk = Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.ctx.created,
            model: &self.model,
            choices,
            usage,
        };
        if let Ok(json) = serde_json::to_string(&chunk) {
            encode_event(None, &json, out);
        }
    }
}
