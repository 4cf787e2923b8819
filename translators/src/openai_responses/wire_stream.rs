//! OpenAI Responses stream events on the wire: the incoming events, dispatched on `type`
//! (an `Unknown` arm for the ones this crate does not act on), and the outgoing event shape
//! the encoder serialises.
//!
//! Pure data.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{ResponsesErrorBody, ResponsesItem, ResponsesPart, ResponsesResponse};

/// One stream event, dispatched on `type`. Events this crate does not act on are `Unknown`.
#[derive(Debug, Clone)]
pub enum ResponsesStreamEvent {
    /// `response.created`, `.in_progress`, `.queued`, `.completed`, `.incomplete`, `.failed`.
    Lifecycle {
        kind: String,
        response: Box<ResponsesResponse>,
    },
    /// `response.output_item.added` / `.done`.
    Item {
        done: bool,
        output_index: usize,
        item: ResponsesItem,
    },
    /// `response.content_part.added` / `.done`.
    ContentPart {
        done: bool,
        output_index: usize,
        content_index: usize,
        part: ResponsesPart,
    },
    /// Text, refusal, argument, summary and reasoning-text deltas and their `.done` events.
    Fragment(ResponsesFragment),
    /// `response.reasoning_summary_part.added`.
    SummaryPartAdded {
        output_index: usize,
        summary_index: usize,
    },
    /// The top-level `error` event.
    Error(ResponsesErrorBody),
    Unknown(Value),
}

/// The delta/done events that carry text for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesFragment {
    pub kind: FragmentKind,
    /// `false` for `*.delta` (text in `text` is a fragment), `true` for `*.done` (whole text).
    pub done: bool,
    pub output_index: usize,
    pub content_index: usize,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentKind {
    OutputText,
    Refusal,
    FunctionArguments,
    ReasoningSummary,
    ReasoningText,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    response: Option<Box<ResponsesResponse>>,
    #[serde(default)]
    item: Option<ResponsesItem>,
    #[serde(default)]
    part: Option<ResponsesPart>,
    #[serde(default)]
    output_index: usize,
    #[serde(default)]
    content_index: usize,
    #[serde(default)]
    summary_index: usize,
    #[serde(default)]
    delta: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
    #[serde(default)]
    error: Option<ResponsesErrorBody>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    param: Option<Value>,
}

impl ResponsesStreamEvent {
    /// Parse one event's `data`. Invalid JSON is `None`; valid JSON of an unexpected shape is
    /// `Unknown`.
    pub fn parse(data: &str) -> Option<Self> {
        // Straight into the typed shape: every event of a normal stream takes this path, one
        // pass over the text. Only an event that does not fit it is read as a `Value` (twice
        // the work), to tell `Unknown` from invalid JSON.
        if let Some(ev) = serde_json::from_str::<RawEvent>(data)
            .ok()
            .and_then(Self::from_raw)
        {
            return Some(ev);
        }
        let v: Value = serde_json::from_str(data).ok()?;
        let Ok(raw) = RawEvent::deserialize(&v) else {
            return Some(Self::Unknown(v));
        };
        Some(Self::from_raw(raw).unwrap_or(Self::Unknown(v)))
    }

    fn from_raw(raw: RawEvent) -> Option<Self> {
        let fragment = |kind, done: bool, text: Option<String>| {
            Some(Self::Fragment(ResponsesFragment {
                kind,
                done,
                output_index: raw.output_index,
                content_index: if kind == FragmentKind::ReasoningSummary {
                    raw.summary_index
                } else {
                    raw.content_index
                },
                text: text.unwrap_or_default(),
            }))
        };
        match raw.kind.as_str() {
            "response.created"
            | "response.in_progress"
            | "response.queued"
            | "response.completed"
            | "response.incomplete"
            | "response.failed" => Some(Self::Lifecycle {
                response: raw.response?,
                kind: raw.kind,
            }),
            "response.output_item.added" | "response.output_item.done" => Some(Self::Item {
                done: raw.kind.ends_with("done"),
                output_index: raw.output_index,
                item: raw.item?,
            }),
            "response.content_part.added" | "response.content_part.done" => {
                Some(Self::ContentPart {
                    done: raw.kind.ends_with("done"),
                    output_index: raw.output_index,
                    content_index: raw.content_index,
                    part: raw.part?,
                })
            }
            "response.output_text.delta" => fragment(FragmentKind::OutputText, false, raw.delta),
            "response.output_text.done" => fragment(FragmentKind::OutputText, true, raw.text),
            "response.refusal.delta" => fragment(FragmentKind::Refusal, false, raw.delta),
            "response.refusal.done" => fragment(FragmentKind::Refusal, true, raw.refusal),
            "response.function_call_arguments.delta" => {
                fragment(FragmentKind::FunctionArguments, false, raw.delta)
            }
            "response.function_call_arguments.done" => {
                fragment(FragmentKind::FunctionArguments, true, raw.arguments)
            }
            "response.reasoning_summary_text.delta" => {
                fragment(FragmentKind::ReasoningSummary, false, raw.delta)
            }
            "response.reasoning_summary_text.done" => {
                fragment(FragmentKind::ReasoningSummary, true, raw.text)
            }
            "response.reasoning_text.delta" => {
                fragment(FragmentKind::ReasoningText, false, raw.delta)
            }
            "response.reasoning_text.done" => fragment(FragmentKind::ReasoningText, true, raw.text),
            "response.reasoning_summary_part.added" => Some(Self::SummaryPartAdded {
                output_index: raw.output_index,
                summary_index: raw.summary_index,
            }),
            "error" => Some(Self::Error(raw.error.unwrap_or(ResponsesErrorBody {
                message: raw.message,
                kind: None,
                param: raw.param,
                code: raw.code,
            }))),
            _ => None,
        }
    }
}

/// One outgoing event; fields in the order OpenAI sends them, absent ones skipped.
#[derive(Serialize, Default)]
pub(crate) struct OutEvent<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub sequence_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<&'a ResponsesItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<&'a ResponsesPart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<[(); 0]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a ResponsesErrorBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<&'a ResponsesResponse>,
}
