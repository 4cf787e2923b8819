//! Framing of Gemini's non-SSE stream: `:streamGenerateContent` without `alt=sse` answers
//! with one JSON array sent incrementally (`[{...}\n,\r\n{...}\n]`).
//!
//! [`ArrayStreamDecoder`] takes bytes in arbitrary chunks (inside a string, an escape or a
//! UTF-8 character included) and yields each complete top-level object as an [`SseEvent`]
//! whose `data` is the object's text, so [`super::StreamDecoder::feed`] takes either framing.
//! It only tracks strings, escapes and nesting depth; what lies between objects (`[`, `,`,
//! whitespace, `]`) is skipped, so a bare object (an error body) is also yielded. The encoder
//! side is [`super::StreamEncoder::json_array`].

use crate::sse::{SseEvent, SseTooLarge, DEFAULT_MAX_EVENT_BYTES};

/// Incremental splitter of a JSON array stream into its elements.
#[derive(Debug, Clone)]
pub struct ArrayStreamDecoder {
    buf: Vec<u8>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    limit: usize,
}

impl Default for ArrayStreamDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl ArrayStreamDecoder {
    /// `limit` bounds one element, like [`crate::sse::SseDecoder::new`].
    pub fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            limit,
        }
    }

    /// Feed a chunk, appending every completed element to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        for &b in chunk {
            if self.depth == 0 {
                if b == b'{' {
                    self.depth = 1;
                    self.buf.push(b);
                }
                continue;
            }
            if self.buf.len() >= self.limit {
                return Err(SseTooLarge { limit: self.limit });
            }
            self.buf.push(b);
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let data = String::from_utf8_lossy(&self.buf).into_owned();
                        self.buf.clear();
                        out.push(SseEvent {
                            event: None,
                            data,
                            id: None,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// End of input: an unfinished element is dropped (the stream decoder then reports the
    /// missing `finishReason`).
    pub fn finish(&mut self, _out: &mut Vec<SseEvent>) {
        self.buf.clear();
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
    }
}
