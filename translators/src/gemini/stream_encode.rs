//! IR stream events → Gemini stream chunks, for Gemini clients (Gemini CLI, google-genai).
//!
//! A synchronous state machine. Framing: `alt=sse` (`data: {json}\r\n\r\n` per chunk, what
//! Google sends) or the non-SSE JSON array (`[{..}\r\n,{..}]`, [`StreamEncoder::json_array`]).
//!
//! - Every chunk carries `responseId` and `modelVersion` (the client's model name when the
//!   options give one, else the upstream's), taken from `Start`.
//! - Text deltas become `{"text":..}` parts, thinking deltas `{"text":..,"thought":true}`
//!   parts, a thinking signature a `{"text":"","thought":true,"thoughtSignature":..}` part.
//! - Gemini does not stream partial arguments: a tool call's fragments are buffered and one
//!   `functionCall` part (with `id`, and the call's `thoughtSignature`) is sent at its
//!   `BlockStop`.
//! - The last chunk, sent at `End`, and only it, has `finishReason` (Gemini CLI retries and
//!   repeats the output when it is missing) and `usageMetadata` (the last `Usage`, zeros when
//!   none came); `Finish` only records the stop reason, so usage sent after it still counts.
//!   Without a `Finish`, the stop reason is `STOP`.
//! - `Error` becomes an `{"error":{"code","message","status"}}` chunk and ends the stream.
//! - Blocks Gemini cannot express (Claude redacted thinking, other protocols' unknown blocks,
//!   OpenAI encrypted reasoning) are dropped; a Gemini unknown block's part is sent as is.

use serde::Serialize;
use serde_json::Value;

use super::response::{encode_stop, encode_usage, error_body};
use super::wire::GeminiResponse;
use super::wire::{GeminiCandidate, GeminiContent, GeminiFunctionCall, GeminiPart};
use crate::ir::{BlockStart, Delta, EncodeContext, Protocol, StopReason, StreamEvent, Usage};
use crate::StreamOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Sse,
    JsonArray,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Streaming,
    Done,
}

#[derive(Debug, Clone, PartialEq)]
enum Block {
    /// Text, thinking and reasoning blocks: deltas are sent as they come.
    Content,
    Call {
        id: String,
        name: String,
        args: String,
        signature: Option<String>,
    },
    Dropped,
}

/// Gemini stream encoder (see the module docs).
#[derive(Debug, Clone)]
pub struct StreamEncoder {
    framing: Framing,
    phase: Phase,
    client_model: Option<String>,
    id: String,
    model: String,
    blocks: Vec<(usize, Block)>,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    chunks: usize,
}

impl StreamEncoder {
    /// An encoder for `:streamGenerateContent?alt=sse`.
    pub fn new(_ctx: EncodeContext, opts: StreamOptions) -> Self {
        Self {
            framing: Framing::Sse,
            phase: Phase::Streaming,
            client_model: opts.client_model,
            id: String::new(),
            model: String::new(),
            blocks: Vec::new(),
            usage: None,
            stop: None,
            chunks: 0,
        }
    }

    /// An encoder for `:streamGenerateContent` without `alt=sse` (a JSON array).
    pub fn json_array(ctx: EncodeContext, opts: StreamOptions) -> Self {
        Self {
            framing: Framing::JsonArray,
            ..Self::new(ctx, opts)
        }
    }

    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.phase == Phase::Done {
            return;
        }
        match event {
            StreamEvent::Start { id, model } => {
                self.id = id.clone();
                self.model = self.client_model.clone().unwrap_or_else(|| model.clone());
            }
            StreamEvent::BlockStart { index, block } => self.block_start(*index, block, out),
            StreamEvent::Delta { index, delta } => self.delta(*index, delta, out),
            StreamEvent::BlockStop { index } => self.block_stop(*index, out),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish { stop } => {
                self.stop = Some(stop.clone());
                self.flush_calls(out);
            }
            StreamEvent::Error(err) => {
                let (_, env) = error_body(err);
                self.write(&env, out);
                self.end(out);
            }
            StreamEvent::End => {
                self.flush_calls(out);
                self.final_chunk(out);
                self.end(out);
            }
        }
    }

    fn block_start(&mut self, index: usize, block: &BlockStart, out: &mut Vec<u8>) {
        let state = match block {
            BlockStart::Text | BlockStart::Thinking | BlockStart::Reasoning { .. } => {
                Block::Content
            }
            BlockStart::ToolCall { id, name } => Block::Call {
                id: id.clone(),
                name: name.clone(),
                args: String::new(),
                signature: None,
            },
            BlockStart::Unknown {
                protocol: Protocol::Gemini,
                value,
            } => {
                if let Ok(part) = serde_json::from_value::<GeminiPart>(value.clone()) {
                    self.part_chunk(part, out);
                }
                Block::Dropped
            }
            BlockStart::Unknown { .. } | BlockStart::RedactedThinking { .. } => Block::Dropped,
        };
        self.blocks.retain(|(i, _)| *i != index);
        self.blocks.push((index, state));
    }

    fn delta(&mut self, index: usize, delta: &Delta, out: &mut Vec<u8>) {
        let block = self.blocks.iter_mut().find(|(i, _)| *i == index);
        if let Some((
            _,
            Block::Call {
                args, signature, ..
            },
        )) = block
        {
            match delta {
                Delta::ToolArguments(fragment) => args.push_str(fragment),
                Delta::Signature(sig) => *signature = Some(sig.clone()),
                _ => {}
            }
            return;
        }
        if matches!(block, Some((_, Block::Dropped))) {
            return;
        }
        let part = match delta {
            Delta::Text(text) if !text.is_empty() => GeminiPart::text(text.clone()),
            Delta::Thinking(text) if !text.is_empty() => GeminiPart {
                text: Some(text.clone()),
                thought: Some(true),
                ..GeminiPart::default()
            },
            Delta::Signature(sig) => GeminiPart {
                text: Some(String::new()),
                thought: Some(true),
                thought_signature: Some(sig.clone()),
                ..GeminiPart::default()
            },
            _ => return,
        };
        self.part_chunk(part, out);
    }

    fn block_stop(&mut self, index: usize, out: &mut Vec<u8>) {
        if let Some(pos) = self.blocks.iter().position(|(i, _)| *i == index) {
            let (_, block) = self.blocks.remove(pos);
            self.emit_call(block, out);
        }
    }

    /// Calls left open when the stream finishes are sent as they are.
    fn flush_calls(&mut self, out: &mut Vec<u8>) {
        for (_, block) in std::mem::take(&mut self.blocks) {
            self.emit_call(block, out);
        }
    }

    fn emit_call(&mut self, block: Block, out: &mut Vec<u8>) {
        let Block::Call {
            id,
            name,
            args,
            signature,
        } = block
        else {
            return;
        };
        let args = match serde_json::from_str::<Value>(&args) {
            Ok(Value::Null) => Value::Object(Default::default()),
            Ok(v) => v,
            Err(_) if args.trim().is_empty() => Value::Object(Default::default()),
            Err(_) => {
                let mut m = serde_json::Map::new();
                m.insert("arguments".into(), Value::String(args));
                Value::Object(m)
            }
        };
        let part = GeminiPart {
            function_call: Some(GeminiFunctionCall {
                id: Some(id).filter(|id| !id.is_empty()),
                name: Some(name),
                args: Some(args),
                ..GeminiFunctionCall::default()
            }),
            thought_signature: signature,
            ..GeminiPart::default()
        };
        self.part_chunk(part, out);
    }

    fn envelope(&self) -> GeminiResponse {
        GeminiResponse {
            model_version: Some(self.model.clone()).filter(|m| !m.is_empty()),
            response_id: Some(self.id.clone()).filter(|id| !id.is_empty()),
            ..GeminiResponse::default()
        }
    }

    fn part_chunk(&mut self, part: GeminiPart, out: &mut Vec<u8>) {
        let chunk = GeminiResponse {
            candidates: vec![GeminiCandidate {
                content: Some(GeminiContent {
                    role: Some("model".into()),
                    parts: vec![part],
                    extra: Default::default(),
                }),
                ..GeminiCandidate::default()
            }],
            ..self.envelope()
        };
        self.write(&chunk, out);
    }

    fn final_chunk(&mut self, out: &mut Vec<u8>) {
        let stop = self.stop.clone().unwrap_or(StopReason::EndTurn);
        let chunk = GeminiResponse {
            candidates: vec![GeminiCandidate {
                content: Some(GeminiContent {
                    role: Some("model".into()),
                    parts: vec![GeminiPart::text("")],
                    extra: Default::default(),
                }),
                finish_reason: Some(encode_stop(&stop).to_string()),
                index: Some(0),
                extra: Default::default(),
            }],
            usage_metadata: Some(encode_usage(&self.usage.unwrap_or_default())),
            ..self.envelope()
        };
        self.write(&chunk, out);
    }

    fn write<T: Serialize>(&mut self, value: &T, out: &mut Vec<u8>) {
        let json = serde_json::to_vec(value).unwrap_or_default();
        match self.framing {
            Framing::Sse => {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(&json);
                out.extend_from_slice(b"\r\n\r\n");
            }
            Framing::JsonArray => {
                out.extend_from_slice(if self.chunks == 0 { b"[" } else { b"\r\n," });
                out.extend_from_slice(&json);
            }
        }
        self.chunks += 1;
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if self.framing == Framing::JsonArray {
            out.extend_from_slice(if self.chunks == 0 { b"[]" } else { b"]" });
        }
        self.phase = Phase::Done;
    }
}
