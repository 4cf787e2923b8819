//! What must survive a translation, and what each client protocol cannot express.
//!
//! A [`Summary`] is the client-visible meaning of a response: visible text, thinking text,
//! tool calls (name + arguments parsed as JSON), stop reason, usage and error class. The
//! matrix compares the summary of the IR decoded from a fixture, passed through
//! [`Summary::as_seen_by`] (the documented exceptions), with the summary of the IR decoded
//! back from the encoder's output.
//!
//! Also: [`aggregate`] (stream events → one response, what non-stream-over-stream does) and
//! [`to_events`] (a response → the stream events that carry it).

use serde_json::Value;
use switchyard_translators::ir::{
    BlockStart, Delta, ErrorKind, Part, Protocol, ReasoningItem, Response, StopReason, StreamEvent,
    ToolCall, Usage,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub text: String,
    pub thinking: String,
    /// (name, arguments) in order; `""` arguments count as `{}`.
    pub tools: Vec<(String, Value)>,
    /// Tool call ids: the client sends them back with the results, so they must survive.
    pub tool_ids: Vec<String>,
    pub stop: Option<StopReason>,
    pub usage: Usage,
    pub error: Option<ErrorKind>,
}

/// A stream aggregated: the response, and the error that ended it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregated {
    pub response: Response,
    pub finished: bool,
    pub error: Option<ErrorKind>,
}

fn args_value(s: &str) -> Value {
    if s.trim().is_empty() {
        return Value::Object(Default::default());
    }
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

impl Summary {
    pub fn of_response(r: &Response) -> Self {
        let mut s = Summary {
            text: String::new(),
            thinking: String::new(),
            tools: Vec::new(),
            tool_ids: Vec::new(),
            stop: Some(r.stop.clone()),
            usage: r.usage,
            error: None,
        };
        for p in &r.parts {
            match p {
                Part::Text { text, .. } => s.text.push_str(text),
                Part::Thinking { text, .. } => s.thinking.push_str(text),
                Part::Reasoning(item) => s.thinking.push_str(&item.summary.concat()),
                Part::ToolCall(c) => {
                    s.tools.push((c.name.clone(), args_value(&c.arguments)));
                    s.tool_ids.push(c.id.clone());
                }
                _ => {}
            }
        }
        s
    }

    pub fn of_stream(events: &[StreamEvent]) -> Self {
        let a = aggregate(events);
        let mut s = Self::of_response(&a.response);
        if !a.finished {
            s.stop = None;
        }
        s.error = a.error;
        s
    }

    /// What a client of `target` can see of `self` (the documented exceptions):
    ///
    /// - **Usage:** Anthropic has no reasoning-token count (dropped); OpenAI Chat, Responses
    ///   and Gemini have no cache-write count (dropped; those tokens stay in `input_tokens`).
    /// - **Stop reason:** only Anthropic has `stop_sequence` (with the sequence) and
    ///   `pause_turn`; the others say "stop" → `EndTurn`. `Other` is `end_turn`/`stop`
    ///   everywhere except Gemini (`OTHER`, text not kept). Responses and Gemini have no
    ///   tool-use stop reason: their decoders infer it from the tool calls, so there
    ///   `EndTurn` and `ToolUse` are compared as "tool calls present or not".
    /// - **Tool call ids** are compared except for Gemini, which has none (its decoder makes
    ///   deterministic ones).
    /// - **Thinking text** is compared without whitespace: reasoning summaries arrive in parts
    ///   and thinking in blocks, and an encoder that has one field for them (a Claude
    ///   `thinking` block, Chat `reasoning_content`) joins them with blank lines.
    /// - **Error kind** is compared; the message may be rewritten.
    /// - Signatures, redacted thinking, encrypted reasoning and `Unknown` blocks are not part
    ///   of the summary: they cannot cross protocols (each family keeps its own).
    pub fn as_seen_by(&self, target: Protocol) -> Self {
        let mut s = self.normalized_for(target);
        match target {
            Protocol::Anthropic => s.usage.reasoning_tokens = 0,
            _ => s.usage.cache_write_tokens = 0,
        }
        s
    }

    /// The normalisation both sides get (stop reason per target, thinking whitespace).
    pub fn normalized_for(&self, target: Protocol) -> Self {
        let mut s = self.clone();
        s.stop = s
            .stop
            .map(|stop| stop_seen_by(stop, target, !s.tools.is_empty()));
        s.thinking.retain(|c| !c.is_whitespace());
        if target == Protocol::Gemini {
            s.tool_ids.clear();
        }
        s
    }
}

fn stop_seen_by(stop: StopReason, target: Protocol, has_tools: bool) -> StopReason {
    use StopReason as S;
    let stop = match (target, stop) {
        (Protocol::Anthropic, S::Other(_)) => S::EndTurn,
        (Protocol::Anthropic, s) => s,
        (Protocol::Gemini, S::Other(_)) => S::Other(String::new()),
        (_, S::StopSequence(_) | S::PauseTurn | S::Other(_)) => S::EndTurn,
        (_, s) => s,
    };
    match (target, stop) {
        (Protocol::OpenAiResponses | Protocol::Gemini, S::EndTurn | S::ToolUse) => {
            if has_tools {
                S::ToolUse
            } else {
                S::EndTurn
            }
        }
        (_, s) => s,
    }
}

#[derive(Debug)]
enum Open {
    Text(usize),
    Thinking(usize),
    Reasoning(usize),
    Tool(usize),
    Other,
}

/// Stream events → one response (ids and model from `Start`, parts in block order).
pub fn aggregate(events: &[StreamEvent]) -> Aggregated {
    let mut r = Response {
        id: String::new(),
        model: String::new(),
        parts: Vec::new(),
        stop: StopReason::EndTurn,
        usage: Usage::default(),
    };
    let mut open: Vec<(usize, Open)> = Vec::new();
    let mut finished = false;
    let mut error = None;
    for e in events {
        match e {
            StreamEvent::Start { id, model } => {
                r.id = id.clone();
                r.model = model.clone();
            }
            StreamEvent::BlockStart { index, block } => {
                let at = r.parts.len();
                let (part, kind) = match block {
                    BlockStart::Text => (text_part(), Open::Text(at)),
                    BlockStart::Thinking => (
                        Part::Thinking {
                            text: String::new(),
                            signature: None,
                        },
                        Open::Thinking(at),
                    ),
                    BlockStart::RedactedThinking { data } => {
                        (Part::RedactedThinking { data: data.clone() }, Open::Other)
                    }
                    BlockStart::Reasoning { id } => (
                        Part::Reasoning(ReasoningItem {
                            id: id.clone(),
                            summary: Vec::new(),
                            encrypted_content: None,
                        }),
                        Open::Reasoning(at),
                    ),
                    BlockStart::ToolCall { id, name } => (
                        Part::ToolCall(ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            arguments: String::new(),
                            signature: None,
                        }),
                        Open::Tool(at),
                    ),
                    BlockStart::Unknown { protocol, value } => (
                        Part::Unknown {
                            protocol: *protocol,
                            value: value.clone(),
                        },
                        Open::Other,
                    ),
                };
                r.parts.push(part);
                open.retain(|(i, _)| i != index);
                open.push((*index, kind));
            }
            StreamEvent::Delta { index, delta } => {
                let Some((_, kind)) = open.iter().find(|(i, _)| i == index) else {
                    continue;
                };
                apply_delta(&mut r.parts, kind, delta);
            }
            StreamEvent::BlockStop { index } => open.retain(|(i, _)| i != index),
            StreamEvent::Usage(u) => r.usage = *u,
            StreamEvent::Finish { stop } => {
                r.stop = stop.clone();
                finished = true;
            }
            StreamEvent::Error(e) => error = Some(e.kind),
            StreamEvent::End => {}
        }
    }
    Aggregated {
        response: r,
        finished,
        error,
    }
}

fn text_part() -> Part {
    Part::Text {
        text: String::new(),
        cache_control: None,
    }
}

fn apply_delta(parts: &mut [Part], kind: &Open, delta: &Delta) {
    let at = match kind {
        Open::Text(i) | Open::Thinking(i) | Open::Reasoning(i) | Open::Tool(i) => *i,
        Open::Other => return,
    };
    match (&mut parts[at], delta) {
        (Part::Text { text, .. }, Delta::Text(t)) => text.push_str(t),
        (Part::Thinking { text, .. }, Delta::Thinking(t)) => text.push_str(t),
        (Part::Thinking { signature, .. }, Delta::Signature(t)) => {
            signature.get_or_insert_with(String::new).push_str(t)
        }
        (Part::Reasoning(item), Delta::Thinking(t)) => match item.summary.last_mut() {
            Some(last) => last.push_str(t),
            None => item.summary.push(t.clone()),
        },
        (Part::Reasoning(item), Delta::EncryptedReasoning(t)) => item
            .encrypted_content
            .get_or_insert_with(String::new)
            .push_str(t),
        (Part::ToolCall(c), Delta::ToolArguments(t)) => c.arguments.push_str(t),
        (Part::ToolCall(c), Delta::Signature(t)) => {
            c.signature.get_or_insert_with(String::new).push_str(t)
        }
        _ => {}
    }
}

/// A whole response → the stream events that carry it (`Start`, one block per part, `Usage`,
/// `Finish`, `End`). Images, documents and tool results have no stream form and are skipped.
pub fn to_events(r: &Response) -> Vec<StreamEvent> {
    let mut out = vec![StreamEvent::Start {
        id: r.id.clone(),
        model: r.model.clone(),
    }];
    let mut index = 0;
    for p in &r.parts {
        let mut deltas = Vec::new();
        let block = match p {
            Part::Text { text, .. } => {
                deltas.push(Delta::Text(text.clone()));
                BlockStart::Text
            }
            Part::Thinking { text, signature } => {
                deltas.push(Delta::Thinking(text.clone()));
                if let Some(s) = signature {
                    deltas.push(Delta::Signature(s.clone()));
                }
                BlockStart::Thinking
            }
            Part::RedactedThinking { data } => BlockStart::RedactedThinking { data: data.clone() },
            Part::Reasoning(item) => {
                deltas.extend(item.summary.iter().cloned().map(Delta::Thinking));
                if let Some(e) = &item.encrypted_content {
                    deltas.push(Delta::EncryptedReasoning(e.clone()));
                }
                BlockStart::Reasoning {
                    id: item.id.clone(),
                }
            }
            Part::ToolCall(c) => {
                deltas.push(Delta::ToolArguments(c.arguments.clone()));
                if let Some(s) = &c.signature {
                    deltas.push(Delta::Signature(s.clone()));
                }
                BlockStart::ToolCall {
                    id: c.id.clone(),
                    name: c.name.clone(),
                }
            }
            Part::Unknown { protocol, value } => BlockStart::Unknown {
                protocol: *protocol,
                value: value.clone(),
            },
            Part::Image(_) | Part::Document(_) | Part::ToolResult(_) => continue,
        };
        out.push(StreamEvent::BlockStart { index, block });
        for delta in deltas {
            out.push(StreamEvent::Delta { index, delta });
        }
        out.push(StreamEvent::BlockStop { index });
        index += 1;
    }
    out.push(StreamEvent::Usage(r.usage));
    out.push(StreamEvent::Finish {
        stop: r.stop.clone(),
    });
    out.push(StreamEvent::End);
    out
}
