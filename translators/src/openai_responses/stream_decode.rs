//! Responses stream events → IR stream events: a synchronous state machine fed one SSE event
//! at a time (runs in `response_body_filter`).
//!
//! Pure. Tolerant of the orders real upstreams produce: a text block opens at
//! `content_part.added` or at its first delta, whichever comes first; text, arguments or
//! summaries that arrive only in a `.done` event or only in `output_item.done` are emitted
//! then; an item that is `done` without being `added` is opened on the spot. IR block indexes
//! are handed out in order of appearance, one per message content part, function call or
//! reasoning item. Items this crate does not model (`web_search_call`, `mcp_call`, ...) become
//! one `BlockStart::Unknown` + `BlockStop` at their `output_item.done`, carrying the whole
//! item. A reasoning item's summary parts stream as one thinking text joined with a blank line
//! (the IR has no summary index); its `encrypted_content` comes from `output_item.done` (the
//! `added` copy is provisional). The first `error` event or `response.failed` becomes one
//! `StreamEvent::Error` and ends the stream; unknown events are ignored on purpose.

use crate::ir::{BlockStart, Delta, Protocol, StreamError, StreamEvent};
use crate::sse::SseEvent;

use super::response::{error_from, stop_from, usage_from};
use super::wire::{ResponsesItem, ResponsesPart, ResponsesResponse};
use super::wire_stream::{FragmentKind, ResponsesFragment, ResponsesStreamEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    BeforeStart,
    Streaming,
    Done,
}

/// One open IR block.
#[derive(Debug, Clone)]
struct Block {
    ir_index: usize,
    /// Text (or arguments, or summary) emitted so far, to fill in from `.done` events.
    emitted: String,
    open: bool,
}

#[derive(Debug, Clone)]
enum ItemState {
    Message {
        /// Per content index.
        parts: Vec<(usize, Block)>,
    },
    FunctionCall(Block),
    Reasoning {
        block: Block,
        summary_index: Option<usize>,
    },
    Other,
}

#[derive(Debug, Clone)]
pub struct StreamDecoder {
    phase: Phase,
    items: Vec<(usize, ItemState)>,
    next_index: usize,
    has_tool_call: bool,
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
            items: Vec::new(),
            next_index: 0,
            has_tool_call: false,
        }
    }

    /// Decode one SSE event, appending IR events to `out`.
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::Done {
            return;
        }
        let Some(ev) = ResponsesStreamEvent::parse(&event.data) else {
            return; // `[DONE]`, keep-alive noise: not an event.
        };
        match ev {
            ResponsesStreamEvent::Lifecycle { kind, response } => {
                self.lifecycle(&kind, &response, out)
            }
            ResponsesStreamEvent::Error(e) => {
                self.start(None, out);
                self.fail(error_from(&e, None), out);
            }
            ResponsesStreamEvent::Unknown(_) => {}
            ResponsesStreamEvent::Item {
                done,
                output_index,
                item,
            } => {
                self.start(None, out);
                if done {
                    self.item_done(output_index, item, out);
                } else {
                    self.item_added(output_index, &item, out);
                }
            }
            ResponsesStreamEvent::ContentPart {
                done,
                output_index,
                content_index,
                part,
            } => {
                self.start(None, out);
                let text = match part {
                    ResponsesPart::Text(t) => t.text.or(t.refusal),
                    _ => None,
                };
                let block = text.and_then(|t| {
                    self.text_block(output_index, content_index, out)
                        .map(|b| (b, t))
                });
                if let Some((b, text)) = block {
                    if done {
                        fill(b, &text, Delta::Text, out);
                        close(b, out);
                    } else if !text.is_empty() {
                        b.emitted.push_str(&text);
                        out.push(delta(b.ir_index, Delta::Text(text)));
                    }
                }
            }
            ResponsesStreamEvent::Fragment(f) => {
                self.start(None, out);
                self.fragment(f, out);
            }
            ResponsesStreamEvent::SummaryPartAdded {
                output_index,
                summary_index,
            } => {
                self.start(None, out);
                if let Some((b, current)) = self.reasoning(output_index, out) {
                    next_summary(b, current, summary_index, out);
                }
            }
        }
    }

    /// End of the upstream stream: a stream cut before its terminal event is an error.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.phase != Phase::Done {
            self.close_all(out);
            self.fail(
                StreamError {
                    status: None,
                    kind: crate::ir::ErrorKind::Server,
                    message: "upstream stream ended before response.completed".into(),
                },
                out,
            );
        }
    }

    fn start(&mut self, r: Option<&ResponsesResponse>, out: &mut Vec<StreamEvent>) {
        if self.phase == Phase::BeforeStart {
            self.phase = Phase::Streaming;
            out.push(StreamEvent::Start {
                id: r.map(|r| r.id.clone()).unwrap_or_default(),
                model: r.map(|r| r.model.clone()).unwrap_or_default(),
            });
        }
    }

    fn fail(&mut self, e: StreamError, out: &mut Vec<StreamEvent>) {
        out.push(StreamEvent::Error(e));
        self.phase = Phase::Done;
    }

    fn lifecycle(&mut self, kind: &str, r: &ResponsesResponse, out: &mut Vec<StreamEvent>) {
        self.start(Some(r), out);
        match kind {
            "response.completed" | "response.incomplete" => {
                self.close_all(out);
                if let Some(u) = r.usage {
                    out.push(StreamEvent::Usage(usage_from(u)));
                }
                let stop = stop_from(
                    r.status.as_deref(),
                    r.incomplete_details.as_ref(),
                    self.has_tool_call,
                );
                out.push(StreamEvent::Finish { stop });
                out.push(StreamEvent::End);
                self.phase = Phase::Done;
            }
            "response.failed" => {
                let e = r.error.clone().unwrap_or_default();
                let mut err = error_from(&e, None);
                if err.message.is_empty() {
                    err.message = "response.failed".into();
                }
                self.fail(err, out);
            }
            _ => {}
        }
    }

    fn new_block(&mut self) -> Block {
        self.next_index += 1;
        Block::new(self.next_index - 1)
    }

    fn state(&mut self, output_index: usize) -> Option<&mut ItemState> {
        self.items
            .iter_mut()
            .find(|(i, _)| *i == output_index)
            .map(|(_, s)| s)
    }

    fn item_added(
        &mut self,
        output_index: usize,
        item: &ResponsesItem,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.state(output_index).is_some() {
            return;
        }
        let state = match item {
            ResponsesItem::Message(_) => ItemState::Message { parts: Vec::new() },
            ResponsesItem::FunctionCall(c) => {
                self.has_tool_call = true;
                let mut b = self.new_block();
                out.push(StreamEvent::BlockStart {
                    index: b.ir_index,
                    block: BlockStart::ToolCall {
                        id: c.call_id.clone(),
                        name: c.name.clone(),
                    },
                });
                if !c.arguments.is_empty() {
                    b.emitted.push_str(&c.arguments);
                    out.push(delta(b.ir_index, Delta::ToolArguments(c.arguments.clone())));
                }
                ItemState::FunctionCall(b)
            }
            ResponsesItem::Reasoning(r) => {
                let b = self.new_block();
                out.push(StreamEvent::BlockStart {
                    index: b.ir_index,
                    block: BlockStart::Reasoning { id: r.id.clone() },
                });
                ItemState::Reasoning {
                    block: b,
                    summary_index: None,
                }
            }
            ResponsesItem::FunctionCallOutput(_) | ResponsesItem::Unknown(_) => ItemState::Other,
        };
        self.items.push((output_index, state));
    }

    fn item_done(&mut self, output_index: usize, item: ResponsesItem, out: &mut Vec<StreamEvent>) {
        if self.state(output_index).is_none() {
            self.item_added(output_index, &item, out);
        }
        match item {
            ResponsesItem::Message(m) => {
                if let super::wire::ResponsesContent::Parts(parts) = m.content {
                    for (ci, p) in parts.into_iter().enumerate() {
                        if let ResponsesPart::Text(t) = p {
                            let text = t.text.or(t.refusal).unwrap_or_default();
                            if let Some(b) = self.text_block(output_index, ci, out) {
                                fill(b, &text, Delta::Text, out);
                            }
                        }
                    }
                }
            }
            ResponsesItem::FunctionCall(c) => {
                if let Some(ItemState::FunctionCall(b)) = self.state(output_index) {
                    fill(b, &c.arguments, Delta::ToolArguments, out);
                }
            }
            ResponsesItem::Reasoning(r) => {
                if let Some((b, _)) = self.reasoning(output_index, out) {
                    let enc = r.encrypted_content.clone();
                    if b.emitted.is_empty() {
                        fill(b, &r.texts().join("\n\n"), Delta::Thinking, out);
                    }
                    if let (true, Some(enc)) = (b.open, enc) {
                        out.push(delta(b.ir_index, Delta::EncryptedReasoning(enc)));
                    }
                }
            }
            ResponsesItem::FunctionCallOutput(_) | ResponsesItem::Unknown(_) => {
                let value = serde_json::to_value(&item).unwrap_or_default();
                let b = self.new_block();
                out.push(StreamEvent::BlockStart {
                    index: b.ir_index,
                    block: BlockStart::Unknown {
                        protocol: Protocol::OpenAiResponses,
                        value,
                    },
                });
                out.push(StreamEvent::BlockStop { index: b.ir_index });
            }
        }
        self.close_item(output_index, out);
    }

    fn close_item(&mut self, output_index: usize, out: &mut Vec<StreamEvent>) {
        match self.state(output_index) {
            Some(ItemState::Message { parts }) => parts.iter_mut().for_each(|(_, b)| close(b, out)),
            Some(ItemState::FunctionCall(b)) | Some(ItemState::Reasoning { block: b, .. }) => {
                close(b, out)
            }
            Some(ItemState::Other) | None => {}
        }
    }

    fn close_all(&mut self, out: &mut Vec<StreamEvent>) {
        let indexes: Vec<usize> = self.items.iter().map(|(i, _)| *i).collect();
        for i in indexes {
            self.close_item(i, out);
        }
    }

    fn item_pos(&self, output_index: usize) -> Option<usize> {
        self.items.iter().position(|(i, _)| *i == output_index)
    }

    /// The text block of a message content part, opened if needed (and the message item
    /// registered if its `added` event never came). `None` if the item is not a message.
    fn text_block(
        &mut self,
        output_index: usize,
        content_index: usize,
        out: &mut Vec<StreamEvent>,
    ) -> Option<&mut Block> {
        let pos = match self.item_pos(output_index) {
            Some(p) => p,
            None => {
                let state = ItemState::Message { parts: Vec::new() };
                self.items.push((output_index, state));
                self.items.len() - 1
            }
        };
        let next = self.next_index;
        let ItemState::Message { parts } = &mut self.items[pos].1 else {
            return None;
        };
        let at = match parts.iter().position(|(c, _)| *c == content_index) {
            Some(at) => at,
            None => {
                out.push(StreamEvent::BlockStart {
                    index: next,
                    block: BlockStart::Text,
                });
                parts.push((content_index, Block::new(next)));
                self.next_index += 1;
                parts.len() - 1
            }
        };
        Some(&mut parts[at].1)
    }

    /// The reasoning item at `output_index`, opened if its `added` event never came.
    fn reasoning(
        &mut self,
        output_index: usize,
        out: &mut Vec<StreamEvent>,
    ) -> Option<(&mut Block, &mut Option<usize>)> {
        if self.item_pos(output_index).is_none() {
            let b = self.new_block();
            out.push(StreamEvent::BlockStart {
                index: b.ir_index,
                block: BlockStart::Reasoning { id: None },
            });
            let state = ItemState::Reasoning {
                block: b,
                summary_index: None,
            };
            self.items.push((output_index, state));
        }
        match self.state(output_index) {
            Some(ItemState::Reasoning {
                block,
                summary_index,
            }) => Some((block, summary_index)),
            _ => None,
        }
    }

    fn fragment(&mut self, f: ResponsesFragment, out: &mut Vec<StreamEvent>) {
        let block = match f.kind {
            FragmentKind::OutputText | FragmentKind::Refusal => {
                self.text_block(f.output_index, f.content_index, out)
            }
            FragmentKind::FunctionArguments => match self.state(f.output_index) {
                Some(ItemState::FunctionCall(b)) => Some(b),
                _ => None,
            },
            FragmentKind::ReasoningSummary | FragmentKind::ReasoningText => {
                let summary = f.kind == FragmentKind::ReasoningSummary;
                match self.reasoning(f.output_index, out) {
                    Some((b, current)) => {
                        if summary {
                            next_summary(b, current, f.content_index, out);
                        }
                        Some(b)
                    }
                    None => None,
                }
            }
        };
        let Some(b) = block else { return };
        let make: fn(String) -> Delta = match f.kind {
            FragmentKind::OutputText | FragmentKind::Refusal => Delta::Text,
            FragmentKind::FunctionArguments => Delta::ToolArguments,
            FragmentKind::ReasoningSummary | FragmentKind::ReasoningText => Delta::Thinking,
        };
        let reasoning = matches!(
            f.kind,
            FragmentKind::ReasoningSummary | FragmentKind::ReasoningText
        );
        if !f.done {
            if b.open && !f.text.is_empty() {
                b.emitted.push_str(&f.text);
                out.push(delta(b.ir_index, make(f.text)));
            }
        } else if !reasoning {
            fill(b, &f.text, make, out);
        }
    }
}

impl Block {
    fn new(ir_index: usize) -> Self {
        Self {
            ir_index,
            emitted: String::new(),
            open: true,
        }
    }
}

fn delta(index: usize, delta: Delta) -> StreamEvent {
    StreamEvent::Delta { index, delta }
}

/// A `.done` event's whole text: emit what the deltas did not (nothing if they disagree).
fn fill(b: &mut Block, text: &str, make: fn(String) -> Delta, out: &mut Vec<StreamEvent>) {
    if !b.open || text.len() <= b.emitted.len() {
        return;
    }
    if let Some(rest) = text.strip_prefix(b.emitted.as_str()) {
        out.push(delta(b.ir_index, make(rest.to_string())));
        b.emitted = text.to_string();
    }
}

fn close(b: &mut Block, out: &mut Vec<StreamEvent>) {
    if b.open {
        b.open = false;
        out.push(StreamEvent::BlockStop { index: b.ir_index });
    }
}

/// A new summary part of a reasoning item: separated from the previous one by a blank line.
fn next_summary(
    b: &mut Block,
    current: &mut Option<usize>,
    index: usize,
    out: &mut Vec<StreamEvent>,
) {
    if *current == Some(index) {
        return;
    }
    *current = Some(index);
    if b.open && !b.emitted.is_empty() {
        b.emitted.push_str("\n\n");
        out.push(delta(b.ir_index, Delta::Thinking("\n\n".into())));
    }
}
