//! What the mock answers: the reply text, its pieces, and the context every protocol encoder
//! needs.
//!
//! The reply is `--reply` unless the raw request body contains `MOCK_REPLY[...]`: the first
//! occurrence wins, the text runs to the next `]`, and JSON string escapes in it are decoded
//! (the marker usually sits inside a JSON string, so `MOCK_REPLY[say \"hi\"]` in the body means
//! `say "hi"`). The reply is cut into pieces at whitespace, each piece being the whitespace
//! before a word plus the word (` from`), `--words-per-event` words per piece; the pieces
//! concatenate to the reply exactly. One piece is one delta event, and counts as one output
//! token; input tokens are request body bytes / 4.

use crate::extras::{Extras, Usage};
use crate::ids::IdGen;
use crate::tools::ToolCall;
use serde_json::Value;

const MARKER: &[u8] = b"MOCK_REPLY[";

/// The reply override carried by the body, if any.
pub fn reply_override(body: &[u8]) -> Option<String> {
    let start = body.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let len = body[start..].iter().position(|&b| b == b']')?;
    let raw = String::from_utf8_lossy(&body[start..start + len]).into_owned();
    // Decode JSON escapes when the raw text is a valid JSON string body; keep it raw otherwise.
    match serde_json::from_str::<String>(&format!("\"{raw}\"")) {
        Ok(decoded) => Some(decoded),
        Err(_) => Some(raw),
    }
}

/// Splits `text` into pieces of `words_per_event` words, each word carrying the whitespace
/// before it; trailing whitespace goes to the last piece. Concatenating the pieces gives `text`.
pub fn pieces(text: &str, words_per_event: usize) -> Vec<String> {
    let per = words_per_event.max(1);
    // A cut sits where whitespace follows a word; trailing whitespace has no word after it,
    // so its cut is dropped and it stays with the last word.
    let mut cuts = vec![0];
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                cuts.push(i);
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    if !in_word && cuts.len() > 1 {
        cuts.pop();
    }
    cuts.push(text.len());
    let words: Vec<&str> = cuts
        .windows(2)
        .map(|w| &text[w[0]..w[1]])
        .filter(|w| !w.is_empty())
        .collect();
    words.chunks(per).map(|group| group.concat()).collect()
}

/// Everything an encoder needs for one answer.
#[derive(Debug)]
pub struct ReplyCtx<'a> {
    /// Model to echo (from the body, or the Gemini path).
    pub model: &'a str,
    /// The whole reply text.
    pub text: &'a str,
    /// The reply cut into delta pieces.
    pub pieces: &'a [String],
    /// Request body bytes / 4.
    pub input_tokens: u64,
    /// Number of pieces.
    pub output_tokens: u64,
    /// Unix seconds.
    pub created: u64,
    /// Id source.
    pub ids: &'a IdGen,
    /// The parsed request body (`Null` when absent).
    pub request: &'a Value,
    /// Answer with these tool calls instead of the text ([`crate::tools`]); two or more are
    /// parallel calls.
    pub tools: &'a [ToolCall],
    /// Thinking, unknown blocks, cache usage ([`crate::extras`]).
    pub extras: &'a Extras,
    /// Usage numbers of the answer.
    pub usage: Usage,
}

impl ReplyCtx<'_> {
    /// The thinking text cut into delta pieces (one word each).
    pub fn thinking_pieces(&self) -> Vec<String> {
        self.extras
            .thinking
            .as_deref()
            .map(|t| pieces(t, 1))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_spacing() {
        assert_eq!(
            pieces("Hello from the mock upstream.", 1),
            ["Hello", " from", " the", " mock", " upstream."]
        );
        assert_eq!(pieces("  a b  c ", 2), ["  a b", "  c "]);
        assert_eq!(pieces("a\n\nb", 1), ["a", "\n\nb"]);
        assert_eq!(pieces("   ", 1), ["   "]);
        assert!(pieces("", 1).is_empty());
        for text in ["x", " lead", "trail  ", "a  b\tc\n", "naïve café"] {
            for n in 1..4 {
                assert_eq!(pieces(text, n).concat(), text);
            }
        }
    }

    #[test]
    fn override_marker() {
        assert_eq!(
            reply_override(br#"{"m":"x MOCK_REPLY[Hi there] y"}"#).as_deref(),
            Some("Hi there")
        );
        assert_eq!(
            reply_override(br#"{"m":"MOCK_REPLY[say \"hi\"\nok]"}"#).as_deref(),
            Some("say \"hi\"\nok")
        );
        assert_eq!(
            reply_override(b"MOCK_REPLY[a] MOCK_REPLY[b]").as_deref(),
            Some("a")
        );
        assert_eq!(reply_override(b"MOCK_REPLY[unterminated"), None);
        assert_eq!(reply_override(b"nothing"), None);
    }
}
