//! Keeps the usage-only chunk (`"choices": []` with a `usage` object) out of an OpenAI Chat
//! stream: the gateway asks an OpenAI-compatible upstream for `stream_options.include_usage`
//! when the client did not (so its tokens are counted), and the client then gets the stream it
//! asked for. Every other byte passes through unchanged, events split across chunks included.
//!
//! Pure, synchronous, O(chunk): only an event with a `usage` object is parsed. Holds at most
//! the current partial event.

use serde::Deserialize;

/// Drops usage-only events from an SSE byte stream.
#[derive(Debug, Default)]
pub struct UsageChunkFilter {
    /// Bytes of the event not yet ended by a blank line.
    pending: Vec<u8>,
}

impl UsageChunkFilter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends to `out` every complete event of `chunk` (with what was pending) that is not a
    /// usage-only chunk; keeps a partial event for the next call. A partial event past
    /// [`MAX_PENDING_BYTES`] goes out as it is (it is no usage chunk, and the filter's memory
    /// stays bounded as the stream decoders' does).
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.pending.is_empty() {
            let start = emit_events(chunk, 0, out);
            self.pending.extend_from_slice(&chunk[start..]);
        } else {
            // The pending bytes were searched for an event end already, all but the last two
            // (a blank line of up to three bytes may straddle the chunk boundary), and they stay
            // where they are: searching or copying them again on every chunk made a large event
            // fed in small chunks quadratic.
            let searched = self.pending.len().saturating_sub(2);
            self.pending.extend_from_slice(chunk);
            let start = emit_events(&self.pending, searched, out);
            if start > 0 {
                self.pending.drain(..start);
            }
        }
        if self.pending.len() > MAX_PENDING_BYTES {
            out.append(&mut self.pending);
        }
    }

    /// The end of the stream: whatever is pending goes out as it is.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending);
    }
}

/// The largest partial event held back (the SSE decoder's limit per event).
pub const MAX_PENDING_BYTES: usize = crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// Appends the complete events of `data` that are not usage-only to `out`, searching for
/// event ends from `searched`; returns where the unfinished rest starts.
fn emit_events(data: &[u8], searched: usize, out: &mut Vec<u8>) -> usize {
    let mut start = 0;
    while let Some(end) = event_end(data, start.max(searched)) {
        let event = &data[start..end];
        if !is_usage_only(event) {
            out.extend_from_slice(event);
        }
        start = end;
    }
    start
}

/// The index just after the blank line that ends the event starting at `from`.
fn event_end(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    // Jump from line-end byte to line-end byte (memchr): the stream path sees every byte.
    while let Some(off) = memchr::memchr2(b'\n', b'\r', data.get(i..)?) {
        let j = i + off;
        match data[j] {
            b'\n' => {
                if data.get(j + 1) == Some(&b'\n') {
                    return Some(j + 2);
                }
                if data.get(j + 1) == Some(&b'\r') && data.get(j + 2) == Some(&b'\n') {
                    return Some(j + 3);
                }
            }
            _ if data.get(j + 1) == Some(&b'\r') => return Some(j + 2),
            _ => {}
        }
        i = j + 1;
    }
    None
}

/// A `data:` event whose JSON has an empty `choices` array and a `usage` object. Only an
/// event with a `"usage": {` member is parsed: with `include_usage` every other chunk carries
/// `"usage":null`.
fn is_usage_only(event: &[u8]) -> bool {
    if !crate::usage::has_object_member(event, &crate::usage::USAGE_KEY) {
        return false;
    }
    /// Only the shape is read: `IgnoredAny` skips every value without building it.
    #[derive(Deserialize)]
    struct Chunk {
        choices: Vec<serde::de::IgnoredAny>,
        usage: Option<serde::de::IgnoredAny>,
    }
    let usage_only = |json: &[u8]| {
        serde_json::from_slice::<Chunk>(json)
            .is_ok_and(|c| c.choices.is_empty() && c.usage.is_some())
    };
    let mut lines = event
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter_map(|line| line.strip_prefix(b"data:"))
        .map(|rest| rest.strip_prefix(b" ").unwrap_or(rest));
    let Some(first) = lines.next() else {
        return false;
    };
    match lines.next() {
        // One `data:` line (what every upstream sends): parsed where it lies.
        None => usage_only(first),
        Some(second) => {
            let mut json = [first, second].concat();
            for more in lines {
                json.extend_from_slice(more);
            }
            usage_only(&json)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &[u8] =
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n\
data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n\
data: [DONE]\n\n";

    fn filtered(chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = UsageChunkFilter::new();
        let mut out = Vec::new();
        for c in chunks {
            f.feed(c, &mut out);
        }
        f.finish(&mut out);
        out
    }

    #[test]
    fn drops_only_the_usage_chunk_at_every_split() {
        let usage_event = b"data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n";
        let at = STREAM
            .windows(usage_event.len())
            .position(|w| w == usage_event)
            .unwrap_or_default();
        let mut want = STREAM[..at].to_vec();
        want.extend_from_slice(&STREAM[at + usage_event.len()..]);
        for split in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(split);
            assert_eq!(filtered(&[a, b]), want, "split at {split}");
        }
    }

    #[test]
    fn a_large_event_in_small_chunks_is_not_searched_again_each_time() {
        // 512 KiB in 16-byte chunks: quadratic searching read ~8 GiB here.
        let mut stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"".to_vec();
        stream.resize(512 << 10, b'a');
        stream.extend_from_slice(b"\"}}],\"usage\":null}\r\n\r\ndata: [DONE]\n\n");
        let chunks: Vec<&[u8]> = stream.chunks(16).collect();
        assert_eq!(filtered(&chunks), stream);
    }

    #[test]
    fn an_event_that_never_ends_passes_through_without_growing_the_filter() {
        let mut stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"".to_vec();
        stream.resize(MAX_PENDING_BYTES + (1 << 20), b'a');
        let mut f = UsageChunkFilter::new();
        let mut out = Vec::new();
        for c in stream.chunks(64 << 10) {
            f.feed(c, &mut out);
            assert!(f.pending.len() <= MAX_PENDING_BYTES + (64 << 10));
        }
        f.finish(&mut out);
        assert!(out == stream, "every byte passes, in order");
    }

    #[test]
    fn other_streams_pass_byte_for_byte() {
        let crlf = b"data: {\"choices\":[],\"usage\":null}\r\n\r\n: comment\r\n\r\ndata: [DONE]\r\n\r\npartial";
        assert_eq!(filtered(&[crlf]), crlf.to_vec());
        let not_json = b"data: usage {\n\n";
        assert_eq!(filtered(&[not_json]), not_json.to_vec());
    }
}
