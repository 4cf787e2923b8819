//! Token usage of a response body the gateway forwards without translating it (same protocol
//! on both sides: the bytes pass through and are never decoded into the IR), read as the
//! bytes go by: [`UsageScanner`].
//!
//! Contract: pure; runs in `response_body_filter` on every chunk of a passthrough body, any
//! chunk boundary, O(chunk) work per chunk. Feed the body as sent (after any
//! `Content-Encoding` is undone), call [`UsageScanner::finish`] once at its end. The numbers are
//! the ones the full decoders give ([`crate::any::decode_response`], the stream decoders):
//! the field mapping is each protocol's own function (`openai_chat::response::decode_usage`,
//! `openai_responses` `usage_from`, `anthropic` `usage_in`, `gemini` `decode_usage`), called
//! here, never restated. Where the report sits and which one counts:
//!
//! | protocol | stream (SSE) | whole body | several reports |
//! |---|---|---|---|
//! | OpenAI Chat | chunk `usage`, else choice 0's `usage` (Moonshot) | `usage` | the last wins |
//! | OpenAI Responses | `response.usage` of `response.completed` / `response.incomplete` | `usage` | the last wins |
//! | Anthropic | `message_start.message.usage`, then `message_delta.usage` | `usage` | merged per field (cumulative) |
//! | Gemini | `usageMetadata` of a chunk (SSE, or JSON-array elements) | `usageMetadata` | the last wins |
//!
//! Cost: a stream goes through [`SseDecoder`] (Gemini's JSON array through
//! [`ArrayStreamDecoder`]); an event is JSON-parsed only when its data holds the usage key
//! followed by an object (`"usage":{`): OpenAI Chat with `include_usage` and Responses'
//! early lifecycle events carry `"usage":null`, which the check skips. The parse reads only the
//! usage members; serde skips everything else without building it. A whole body is buffered
//! up to [`MAX_BODY_BYTES`] and, at its end, skimmed for its top-level usage member, the only
//! part parsed ([`json_skim::top_level_member`]: the text is stepped over with `memchr`, not
//! decoded); a larger body reports no usage. Memory: a stream keeps at most its current
//! partial event (bounded by [`DEFAULT_MAX_EVENT_BYTES`]; a larger event is dropped and the
//! framing starts afresh).
//!
//! Where it differs from the decoders, on purpose: it keeps the usage seen before an error
//! event or a cut-off (the Gemini decoder reports none then, the Anthropic one reports what it
//! had), because the upstream counted those tokens; and it does not parse the rest of an
//! event, so an event the decoders reject for a malformed content block still counts here.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::Deserialize;

use crate::anthropic::wire::AnthropicUsage;
use crate::gemini::wire::GeminiUsage;
use crate::gemini::ArrayStreamDecoder;
use crate::ir::{Protocol, Usage};
use crate::openai_chat::wire::OpenAiChatUsage;
use crate::openai_responses::wire::ResponsesUsage;
use crate::sse::{SseDecoder, SseEvent, DEFAULT_MAX_EVENT_BYTES};
use crate::{anthropic, gemini, json_skim, openai_chat, openai_responses};

/// A whole (non-stream) body larger than this is not buffered, and reports no usage.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// Reads the usage a response body reports, chunk by chunk (see the module docs).
#[derive(Debug, Clone)]
pub struct UsageScanner {
    input: Input,
    tally: Tally,
}

/// How the body is framed, with the framing decoder's state.
#[derive(Debug, Clone)]
enum Input {
    Sse {
        decoder: SseDecoder,
        events: Vec<SseEvent>,
    },
    GeminiJsonArray {
        decoder: ArrayStreamDecoder,
        events: Vec<SseEvent>,
    },
    Body {
        buf: Vec<u8>,
        /// The body outgrew [`MAX_BODY_BYTES`]: nothing is kept, nothing is reported.
        too_large: bool,
    },
}

/// The usage reported so far.
#[derive(Debug, Clone)]
struct Tally {
    protocol: Protocol,
    usage: Option<Usage>,
    /// Anthropic's reports in its own terms, merged field by field.
    anthropic: AnthropicUsage,
}

impl UsageScanner {
    /// A scanner for a body of `protocol`: an SSE stream if `stream`, else one JSON body.
    pub fn new(protocol: Protocol, stream: bool) -> Self {
        let input = if stream {
            Input::Sse {
                decoder: SseDecoder::new(DEFAULT_MAX_EVENT_BYTES),
                events: Vec::new(),
            }
        } else {
            Input::Body {
                buf: Vec::new(),
                too_large: false,
            }
        };
        Self {
            input,
            tally: Tally {
                protocol,
                usage: None,
                anthropic: AnthropicUsage::default(),
            },
        }
    }

    /// A scanner for Gemini's `:streamGenerateContent` without `alt=sse`: one JSON array whose
    /// elements are the stream's chunks.
    pub fn gemini_json_array() -> Self {
        let mut s = Self::new(Protocol::Gemini, true);
        s.input = Input::GeminiJsonArray {
            decoder: ArrayStreamDecoder::new(DEFAULT_MAX_EVENT_BYTES),
            events: Vec::new(),
        };
        s
    }

    /// The next chunk of the body, cut anywhere.
    pub fn feed(&mut self, chunk: &[u8]) {
        let tally = &mut self.tally;
        match &mut self.input {
            Input::Sse { decoder, events } => {
                if decoder.feed(chunk, events).is_err() {
                    // One event over the limit: drop it and resynchronise on what follows.
                    *decoder = SseDecoder::new(DEFAULT_MAX_EVENT_BYTES);
                }
                for ev in events.drain(..) {
                    tally.event(&ev.data);
                }
            }
            Input::GeminiJsonArray { decoder, events } => {
                if decoder.feed(chunk, events).is_err() {
                    *decoder = ArrayStreamDecoder::new(DEFAULT_MAX_EVENT_BYTES);
                }
                for ev in events.drain(..) {
                    tally.event(&ev.data);
                }
            }
            Input::Body { buf, too_large } => {
                if *too_large {
                    return;
                }
                if buf.len() + chunk.len() > MAX_BODY_BYTES {
                    *too_large = true;
                    *buf = Vec::new();
                    return;
                }
                buf.extend_from_slice(chunk);
            }
        }
    }

    /// End of the body: the usage it reported, `None` if it reported none (or the body was
    /// not readable JSON, or larger than [`MAX_BODY_BYTES`]). Call once.
    pub fn finish(&mut self) -> Option<Usage> {
        let tally = &mut self.tally;
        match &mut self.input {
            Input::Sse { decoder, events } => {
                decoder.finish(events);
                for ev in events.drain(..) {
                    tally.event(&ev.data);
                }
            }
            Input::GeminiJsonArray { decoder, events } => {
                // An unfinished element is dropped, as the stream decoder does.
                decoder.finish(events);
                for ev in events.drain(..) {
                    tally.event(&ev.data);
                }
            }
            Input::Body { buf, too_large } => {
                if !*too_large {
                    tally.body(buf);
                }
                *buf = Vec::new();
            }
        }
        tally.usage
    }
}

// --------------------------------------------------------------- usage-only views of the wire
//
// Each reads one JSON object for its usage members only; serde skips every other member
// without building it. A missing or `null` member is `None`.

/// Any object with a top-level `usage`: OpenAI Chat, Responses and Anthropic whole bodies, a
/// Responses `response` object, an Anthropic `message`.
#[derive(Deserialize)]
struct UsageOnly<U> {
    usage: Option<U>,
}

/// An OpenAI Chat stream chunk: `usage`, or (Moonshot) `usage` inside a choice.
#[derive(Deserialize)]
struct OpenAiChatUsageChunk {
    usage: Option<OpenAiChatUsage>,
    #[serde(default)]
    choices: Vec<OpenAiChatUsageChoice>,
}

#[derive(Deserialize)]
struct OpenAiChatUsageChoice {
    #[serde(default)]
    index: u32,
    usage: Option<OpenAiChatUsage>,
}

/// A Responses stream event: its `type` and its `response` object's usage.
#[derive(Deserialize)]
struct ResponsesUsageEvent {
    #[serde(rename = "type", default)]
    kind: String,
    response: Option<UsageOnly<ResponsesUsage>>,
}

/// An Anthropic stream event: `message_start` has `message.usage`, `message_delta` `usage`.
#[derive(Deserialize)]
struct AnthropicUsageEvent {
    #[serde(rename = "type", default)]
    kind: String,
    message: Option<UsageOnly<AnthropicUsage>>,
    usage: Option<AnthropicUsage>,
}

/// A Gemini response or stream chunk.
#[derive(Deserialize)]
struct GeminiUsageChunk {
    #[serde(rename = "usageMetadata")]
    usage_metadata: Option<GeminiUsage>,
}

impl Tally {
    /// One stream event's data (an SSE `data:` or a JSON-array element).
    fn event(&mut self, data: &str) {
        let key = match self.protocol {
            Protocol::Gemini => &*USAGE_METADATA_KEY,
            Protocol::OpenAiChat | Protocol::OpenAiResponses | Protocol::Anthropic => &*USAGE_KEY,
        };
        if !has_object_member(data.as_bytes(), key) {
            return;
        }
        match self.protocol {
            Protocol::OpenAiChat => {
                let Ok(c) = serde_json::from_str::<OpenAiChatUsageChunk>(data) else {
                    return;
                };
                let choice = c.choices.into_iter().find(|ch| ch.index == 0);
                if let Some(u) = c.usage.or(choice.and_then(|ch| ch.usage)) {
                    self.usage = Some(openai_chat::response::decode_usage(&u));
                }
            }
            Protocol::OpenAiResponses => {
                let Ok(ev) = serde_json::from_str::<ResponsesUsageEvent>(data) else {
                    return;
                };
                let terminal = matches!(
                    ev.kind.as_str(),
                    "response.completed" | "response.incomplete"
                );
                if let Some(u) = ev.response.and_then(|r| r.usage).filter(|_| terminal) {
                    self.usage = Some(openai_responses::usage_from(u));
                }
            }
            Protocol::Anthropic => {
                let Ok(ev) = serde_json::from_str::<AnthropicUsageEvent>(data) else {
                    return;
                };
                let u = match ev.kind.as_str() {
                    "message_start" => ev.message.and_then(|m| m.usage),
                    "message_delta" => ev.usage,
                    _ => None,
                };
                if let Some(u) = u {
                    self.anthropic.merge(&u);
                    self.usage = Some(anthropic::usage_in(&self.anthropic));
                }
            }
            Protocol::Gemini => {
                if let Ok(GeminiUsageChunk {
                    usage_metadata: Some(u),
                }) = serde_json::from_str(data)
                {
                    self.usage = Some(gemini::decode_usage(u));
                }
            }
        }
    }

    /// A whole JSON body: only its top-level usage member is parsed (the rest is skimmed,
    /// [`json_skim::top_level_member`]).
    fn body(&mut self, body: &[u8]) {
        fn member<U: serde::de::DeserializeOwned>(body: &[u8], key: &[u8]) -> Option<U> {
            let raw = json_skim::top_level_member(body, key)?;
            serde_json::from_slice::<Option<U>>(raw).ok().flatten()
        }
        const USAGE: &[u8] = b"\"usage\"";
        self.usage = match self.protocol {
            Protocol::OpenAiChat => member::<OpenAiChatUsage>(body, USAGE)
                .map(|u| openai_chat::response::decode_usage(&u)),
            Protocol::OpenAiResponses => {
                member::<ResponsesUsage>(body, USAGE).map(openai_responses::usage_from)
            }
            Protocol::Anthropic => {
                member::<AnthropicUsage>(body, USAGE).map(|u| anthropic::usage_in(&u))
            }
            Protocol::Gemini => {
                member::<GeminiUsage>(body, b"\"usageMetadata\"").map(gemini::decode_usage)
            }
        };
    }
}

/// The searcher for `"usage"`, built once: `memmem::find` builds one per call, which cost
/// more than the search on a short event (a stream has one or two per event).
pub(crate) static USAGE_KEY: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"\"usage\""));
/// The searcher for Gemini's `"usageMetadata"`.
static USAGE_METADATA_KEY: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"\"usageMetadata\""));

/// Whether `data` holds `key` (a quoted JSON member name) followed by `:` and an object, with
/// optional whitespace between: the cheap test that decides whether to parse an event.
pub(crate) fn has_object_member(data: &[u8], key: &Finder<'_>) -> bool {
    let mut rest = data;
    while let Some(at) = key.find(rest) {
        rest = &rest[at + key.needle().len()..];
        let mut after = rest.iter().filter(|b| !b.is_ascii_whitespace());
        if after.next() == Some(&b':') && after.next() == Some(&b'{') {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_test_wants_an_object_after_the_key() {
        let key = &*USAGE_KEY;
        assert!(has_object_member(br#"{"usage":{"a":1}}"#, key));
        assert!(has_object_member(b"{\"usage\" :\n {}}", key));
        assert!(has_object_member(
            br#"{"x":"usage","usage":null,"choices":[{"usage":{}}]}"#,
            key
        ));
        assert!(!has_object_member(br#"{"usage":null}"#, key));
        assert!(!has_object_member(br#"{"text":"usage: {"}"#, key));
        assert!(!has_object_member(br#"{"usageMetadata":{}}"#, key));
        assert!(!has_object_member(b"\"usage\"", key));
        assert!(!has_object_member(b"", key));
    }
}
