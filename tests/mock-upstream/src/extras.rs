//! Optional parts of a reply, asked for by markers anywhere in the request body (found in the
//! raw bytes like `MOCK_REPLY[...]`), so the e2e scenarios can make every protocol produce them:
//!
//! | marker | effect, in every protocol's own shape |
//! |---|---|
//! | `MOCK_THINK[text]` | reasoning before the answer: Anthropic `thinking` (signature [`THINKING_SIGNATURE`]) then `redacted_thinking` ([`REDACTED_DATA`]); Responses a `reasoning` item with that summary and `encrypted_content` [`ENCRYPTED_CONTENT`]; Gemini a `thought: true` part with `thoughtSignature` [`THOUGHT_SIGNATURE`]; Chat `reasoning_content` |
//! | `MOCK_UNKNOWN` | a block the protocol does not define before the answer: Anthropic a `mock_future_block` content block, Responses a `mock_future_item` output item, Gemini a part with only a `mockFuturePart` key, Chat a `mock_future_field` in the message/delta |
//! | `MOCK_CACHE_USAGE` | usage with [`CACHE_READ`] cache-read and (Anthropic) [`CACHE_WRITE`] cache-write input tokens and (OpenAI, Gemini) [`REASONING`] reasoning tokens, see [`Usage`] |
//!
//! Several distinct `MOCK_TOOL[..]` markers make parallel tool calls ([`crate::tools`]).
//! Thinking text is cut into pieces like the reply (one word a delta). The opaque values are
//! canonical base64 (of `mock-thinking-signature` etc.), since google-genai decodes
//! `thoughtSignature` into bytes and encodes it again.

/// Claude `thinking.signature`.
pub const THINKING_SIGNATURE: &str = "bW9jay10aGlua2luZy1zaWduYXR1cmU=";
/// Claude `redacted_thinking.data`.
pub const REDACTED_DATA: &str = "bW9jay1yZWRhY3RlZC10aGlua2luZw==";
/// Responses reasoning `encrypted_content`.
pub const ENCRYPTED_CONTENT: &str = "bW9jay1lbmNyeXB0ZWQtcmVhc29uaW5n";
/// Gemini `thoughtSignature` on the thought part.
pub const THOUGHT_SIGNATURE: &str = "bW9jay10aG91Z2h0LXNpZ25hdHVyZQ==";
/// Cache-read input tokens.
pub const CACHE_READ: u64 = 40;
/// Cache-write input tokens (Anthropic only).
pub const CACHE_WRITE: u64 = 24;
/// Reasoning output tokens (OpenAI, Gemini).
pub const REASONING: u64 = 8;

const THINK: &[u8] = b"MOCK_THINK[";
const UNKNOWN: &[u8] = b"MOCK_UNKNOWN";
const CACHE: &[u8] = b"MOCK_CACHE_USAGE";

/// The extras a request asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// Reasoning text.
    pub thinking: Option<String>,
    /// An unknown block before the answer.
    pub unknown: bool,
    /// Usage with cache and reasoning tokens.
    pub cache_usage: bool,
}

fn find(body: &[u8], needle: &[u8]) -> Option<usize> {
    body.windows(needle.len()).position(|w| w == needle)
}

impl Extras {
    /// The extras of a request body.
    pub fn parse(body: &[u8]) -> Self {
        let thinking = find(body, THINK).and_then(|at| {
            let start = at + THINK.len();
            let len = body[start..].iter().position(|&b| b == b']')?;
            let raw = String::from_utf8_lossy(&body[start..start + len]).into_owned();
            Some(serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or(raw))
        });
        Extras {
            thinking,
            unknown: find(body, UNKNOWN).is_some(),
            cache_usage: find(body, CACHE).is_some(),
        }
    }
}

/// Usage numbers of one answer. `base_input` is the uncached input (body bytes / 4), `output`
/// the visible output (pieces or argument fragments).
///
/// | protocol | input | cache | output |
/// |---|---|---|---|
/// | Anthropic | `input_tokens` = base (without cache) | `cache_read_input_tokens` = 40, `cache_creation_input_tokens` = 24 | `output_tokens` = output |
/// | OpenAI | `prompt_tokens` / `input_tokens` = base + 40 | `cached_tokens` = 40 | `completion_tokens` / `output_tokens` = output + 8, `reasoning_tokens` = 8 |
/// | Gemini | `promptTokenCount` = base + 40 | `cachedContentTokenCount` = 40 | `candidatesTokenCount` = output, `thoughtsTokenCount` = 8 |
///
/// Without `MOCK_CACHE_USAGE` every cache and reasoning count is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Input not read from the cache nor written to it.
    pub base_input: u64,
    /// Visible output.
    pub output: u64,
    /// Cache reads.
    pub cache_read: u64,
    /// Cache writes (Anthropic).
    pub cache_write: u64,
    /// Reasoning tokens (OpenAI, Gemini).
    pub reasoning: u64,
}

impl Usage {
    /// The usage of an answer.
    pub fn new(extras: &Extras, base_input: u64, output: u64) -> Self {
        let on = extras.cache_usage;
        Usage {
            base_input,
            output,
            cache_read: if on { CACHE_READ } else { 0 },
            cache_write: if on { CACHE_WRITE } else { 0 },
            reasoning: if on { REASONING } else { 0 },
        }
    }

    /// OpenAI / Gemini prompt tokens (cache reads included).
    pub fn prompt(&self) -> u64 {
        self.base_input + self.cache_read
    }

    /// OpenAI completion tokens (reasoning included).
    pub fn completion(&self) -> u64 {
        self.output + self.reasoning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let e = Extras::parse(br#"{"m":"MOCK_THINK[let me \"see\"] MOCK_UNKNOWN"}"#);
        assert_eq!(e.thinking.as_deref(), Some("let me \"see\""));
        assert!(e.unknown);
        assert!(!e.cache_usage);
        assert!(Extras::parse(b"MOCK_CACHE_USAGE").cache_usage);
        assert_eq!(Extras::parse(b"nothing"), Extras::default());
        let u = Usage::new(&Extras::parse(b"MOCK_CACHE_USAGE"), 10, 3);
        assert_eq!((u.prompt(), u.completion()), (50, 11));
    }
}
