//! Server-sent events framing: an incremental decoder that accepts any chunk boundary
//! (inside a line, between `\r` and `\n`, inside a UTF-8 character) and an encoder that
//! splits embedded newlines into several `data:` lines.
//!
//! Pure; the gateway feeds it from `response_body_filter`, one network chunk at a time.
//! Follows the WHATWG event-stream rules: lines end in `\n`, `\r\n` or `\r`; `:` starts a
//! comment; `data:` lines accumulate with `\n`; a blank line dispatches; one leading space of
//! a value is dropped.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    pub id: Option<String>,
}

/// An event grew past the decoder's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server-sent event larger than {limit} bytes")]
pub struct SseTooLarge {
    pub limit: usize,
}

/// Incremental decoder. Feed chunks in order; call [`SseDecoder::finish`] at end of stream.
#[derive(Debug, Clone)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    /// Bytes of the event being assembled (line buffer + fields), bounded by `limit`.
    size: usize,
    limit: usize,
}

/// Default bound on one event: 16 MiB (a single image or large tool argument fits).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    pub fn new(limit: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
            size: 0,
            limit,
        }
    }

    /// Decode `chunk`, appending every completed event to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        let mut rest = chunk;
        if rest.is_empty() {
            return Ok(());
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while !rest.is_empty() {
            match memchr::memchr2(b'\n', b'\r', rest) {
                Some(i) => {
                    if self.line.is_empty() {
                        // The whole line is in this chunk: no copy into the line buffer.
                        self.count_line(i)?;
                        self.process_line(&rest[..i], out);
                    } else {
                        self.push_line_bytes(&rest[..i])?;
                        let line = std::mem::take(&mut self.line);
                        self.process_line(&line, out);
                        // Keep the buffer's allocation for the next partial line.
                        self.line = line;
                        self.line.clear();
                    }
                    if rest[i] == b'\r' {
                        match rest.get(i + 1) {
                            Some(b'\n') => rest = &rest[i + 2..],
                            Some(_) => rest = &rest[i + 1..],
                            None => {
                                self.after_cr = true;
                                rest = &[];
                            }
                        }
                    } else {
                        rest = &rest[i + 1..];
                    }
                }
                None => {
                    self.push_line_bytes(rest)?;
                    rest = &[];
                }
            }
        }
        Ok(())
    }

    /// End of stream: dispatch a final event that was not followed by a blank line (lenient:
    /// some upstreams end without one).
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn push_line_bytes(&mut self, b: &[u8]) -> Result<(), SseTooLarge> {
        self.count_line(b.len())?;
        self.line.extend_from_slice(b);
        Ok(())
    }

    /// Count `n` more bytes of the event against the limit.
    fn count_line(&mut self, n: usize) -> Result<(), SseTooLarge> {
        self.size += n;
        if self.size > self.limit {
            return Err(SseTooLarge { limit: self.limit });
        }
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        // Valid UTF-8 is the rule: check it the fast way, and replace bad bytes only if any.
        let value = match std::str::from_utf8(value) {
            Ok(v) => std::borrow::Cow::Borrowed(v),
            Err(_) => String::from_utf8_lossy(value),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = Some(value.into_owned()),
            b"id" => self.id = Some(value.into_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
                id: self.id.take(),
            });
        } else {
            self.event = None;
            self.id = None;
        }
        self.has_data = false;
        self.size = 0;
    }
}

/// Append one event: optional `event:` line, `data:` lines (one per line of `data`), blank
/// line. `\r\n` and `\r` inside `data` are split like `\n`.
pub fn encode_event(event: Option<&str>, data: &str, out: &mut Vec<u8>) {
    if let Some(e) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(e.as_bytes());
        out.push(b'\n');
    }
    // Bytes, not chars: `\n` and `\r` never occur inside a UTF-8 sequence, and memchr scans
    // a word at a time where `str::find` with a char set decodes every character.
    let mut rest = data.as_bytes();
    loop {
        let (line, next) = match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let skip = if rest[i..].starts_with(b"\r\n") { 2 } else { 1 };
                (&rest[..i], Some(&rest[i + skip..]))
            }
            None => (rest, None),
        };
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.push(b'\n');
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    out.push(b'\n');
}

/// Append an SSE comment line (keep-alives: `: keep-alive`).
pub fn encode_comment(text: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b": ");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out).unwrap();
        }
        d.finish(&mut out);
        out
    }

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(Into::into),
            data: data.into(),
            id: None,
        }
    }

    const STREAM: &[u8] = b"event: message_start\r\ndata: {\"a\":\"\xe6\x97\xa5\"}\r\n\r\n: comment\n\ndata: line1\ndata:line2\r\rid: 7\nevent: x\ndata\n\ndata: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            ev(Some("message_start"), "{\"a\":\"\u{65e5}\"}"),
            ev(None, "line1\nline2"),
            SseEvent {
                event: Some("x".into()),
                data: String::new(),
                id: Some("7".into()),
            },
            ev(None, "[DONE]"),
        ]
    }

    #[test]
    fn whole_stream() {
        assert_eq!(decode_all(&[STREAM]), expected());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        for i in 0..=STREAM.len() {
            assert_eq!(
                decode_all(&[&STREAM[..i], &STREAM[i..]]),
                expected(),
                "split at {i}"
            );
        }
        for i in 0..=STREAM.len() {
            for j in i..=STREAM.len() {
                let got = decode_all(&[&STREAM[..i], &STREAM[i..j], &STREAM[j..]]);
                assert_eq!(got, expected(), "split at {i},{j}");
            }
        }
        let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(decode_all(&bytes), expected());
    }

    #[test]
    fn unterminated_last_event_is_dispatched_at_finish() {
        assert_eq!(decode_all(&[b"data: tail"]), vec![ev(None, "tail")]);
        assert_eq!(decode_all(&[b"data: tail\r"]), vec![ev(None, "tail")]);
        assert!(decode_all(&[b"event: only\n\n"]).is_empty());
    }

    #[test]
    fn size_limit() {
        let mut d = SseDecoder::new(12);
        let mut out = Vec::new();
        assert!(d.feed(b"data: 1234\n\n", &mut out).is_ok());
        assert_eq!(out, vec![ev(None, "1234")]);
        assert_eq!(
            d.feed(b"data: 123456789", &mut out),
            Err(SseTooLarge { limit: 12 })
        );
    }

    #[test]
    fn encoder_splits_lines_and_round_trips() {
        let mut out = Vec::new();
        encode_event(Some("e"), "a\nb\r\nc\rd", &mut out);
        encode_comment("keep-alive", &mut out);
        encode_event(None, "", &mut out);
        assert_eq!(
            out,
            b"event: e\ndata: a\ndata: b\ndata: c\ndata: d\n\n: keep-alive\n\ndata: \n\n"
        );
        assert_eq!(
            decode_all(&[&out]),
            vec![ev(Some("e"), "a\nb\nc\nd"), ev(None, "")]
        );
        // Multi-byte characters next to the breaks (the search runs over bytes), a trailing
        // `\r` and `\r\r\n`.
        let mut out = Vec::new();
        encode_event(None, "é\n€\r\n😀x\r\r\nü\r", &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "data: é\ndata: €\ndata: 😀x\ndata: \ndata: ü\ndata: \n\n"
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A fixed-seed generator: deterministic, no extra dependency.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"data: event:id\r\n:{}\xe6\x97\xa5\xff ";
        for _ in 0..2000 {
            let len = (next() % 64) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let cut = if len == 0 { 0 } else { (next() as usize) % len };
            let mut d = SseDecoder::new(32);
            let mut out = Vec::new();
            let _ = d.feed(&input[..cut], &mut out);
            let _ = d.feed(&input[cut..], &mut out);
            d.finish(&mut out);
        }
    }
}
