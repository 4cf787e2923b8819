//! Id generation in each provider's format, unique per process.
//!
//! Ids are sha256(seed, counter) mapped onto the provider's alphabet: unique within a run,
//! different between runs (the seed is the start time and process id), and cheap enough for
//! benchmarks. Formats follow recorded traffic: `chatcmpl-` + 29 base62, `msg_01` + 22 base62,
//! `resp_`/`msg_` + 50 hex, Gemini `responseId` 23 base62, request ids `req_` + 24 base62.

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

/// Process-wide id source.
#[derive(Debug)]
pub struct IdGen {
    seed: [u8; 16],
    counter: AtomicU64,
}

impl IdGen {
    /// A generator seeded from the clock and the process id.
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut seed = [0u8; 16];
        seed.copy_from_slice(&(nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes());
        IdGen {
            seed,
            counter: AtomicU64::new(0),
        }
    }

    fn chars(&self, len: usize, alphabet: &[u8]) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut out = String::with_capacity(len);
        let mut block = 0u64;
        while out.len() < len {
            let digest = Sha256::new()
                .chain_update(self.seed)
                .chain_update(n.to_le_bytes())
                .chain_update(block.to_le_bytes())
                .finalize();
            for byte in digest {
                if out.len() == len {
                    break;
                }
                out.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
            }
            block += 1;
        }
        out
    }

    /// OpenAI chat completion id.
    pub fn chat(&self) -> String {
        format!("chatcmpl-{}", self.chars(29, BASE62))
    }

    /// OpenAI legacy completion id.
    pub fn completion(&self) -> String {
        format!("cmpl-{}", self.chars(29, BASE62))
    }

    /// OpenAI Responses response id.
    pub fn response(&self) -> String {
        format!("resp_{}", self.chars(50, HEX))
    }

    /// OpenAI Responses message item id.
    pub fn response_item(&self) -> String {
        format!("msg_{}", self.chars(50, HEX))
    }

    /// OpenAI Responses reasoning item id.
    pub fn reasoning_item(&self) -> String {
        format!("rs_{}", self.chars(50, HEX))
    }

    /// Anthropic message id.
    pub fn anthropic_message(&self) -> String {
        format!("msg_01{}", self.chars(22, BASE62))
    }

    /// Anthropic `tool_use` block id.
    pub fn anthropic_tool(&self) -> String {
        format!("toolu_01{}", self.chars(22, BASE62))
    }

    /// OpenAI tool call id (Chat `tool_calls[].id`, Responses `call_id`).
    pub fn call(&self) -> String {
        format!("call_{}", self.chars(24, BASE62))
    }

    /// OpenAI Responses `function_call` item id.
    pub fn function_call_item(&self) -> String {
        format!("fc_{}", self.chars(50, HEX))
    }

    /// Gemini `responseId`.
    pub fn gemini_response(&self) -> String {
        self.chars(23, BASE62)
    }

    /// Request id for response headers and Anthropic error bodies.
    pub fn request(&self) -> String {
        format!("req_{}", self.chars(24, BASE62))
    }
}

impl Default for IdGen {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_provider_shapes_and_differ() {
        let ids = IdGen::new();
        let a = ids.chat();
        assert!(a.starts_with("chatcmpl-") && a.len() == 38);
        assert_ne!(a, ids.chat());
        assert_eq!(ids.response().len(), 55);
        assert!(ids.anthropic_message().starts_with("msg_01"));
        assert_eq!(ids.gemini_response().len(), 23);
    }
}
