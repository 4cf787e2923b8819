//! Stream bootstrap probe: watches the first events of an upstream stream and says whether it
//! has produced content yet, failed before any, or is still in its preamble.
//!
//! The gateway holds a stream's output back while the probe says [`Verdict::Pending`], so an
//! upstream that answers 200 and then fails in-band before the first content event (Anthropic
//! `overloaded_error`, Codex `response.failed` with `server_is_overloaded`, an OpenAI error
//! chunk, a Gemini error object, or a stream that ends empty) can be replaced by another account
//! without the client noticing. Pure and synchronous; accepts any chunk boundary. Once it says
//! [`Verdict::Content`] or [`Verdict::Failed`] it is done and should be dropped.

use crate::any::AnyDecoder;
use crate::ir::{self, Protocol, StreamEvent};
use crate::sse::{SseDecoder, SseEvent};

/// What the upstream stream has shown so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Only preamble (message start, pings, `response.created`): keep holding.
    Pending,
    /// A content event (text, thinking, a tool call, a finish) arrived: commit the stream.
    Content,
    /// The upstream failed before any content.
    Failed(ir::StreamError),
}

pub struct StreamProbe {
    sse: SseDecoder,
    decoder: AnyDecoder,
    sse_events: Vec<SseEvent>,
    events: Vec<StreamEvent>,
}

impl StreamProbe {
    pub fn new(upstream: Protocol) -> Self {
        Self {
            // A preamble event is small; a huge first event is content anyway.
            sse: SseDecoder::new(1 << 20),
            decoder: AnyDecoder::new(upstream),
            sse_events: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Feed the next upstream chunk; `eos` marks the end of the upstream body.
    pub fn feed(&mut self, chunk: &[u8], eos: bool) -> Verdict {
        if self.sse.feed(chunk, &mut self.sse_events).is_err() {
            return Verdict::Content;
        }
        if eos {
            self.sse.finish(&mut self.sse_events);
        }
        for ev in self.sse_events.drain(..) {
            self.decoder.feed(&ev, &mut self.events);
        }
        if eos {
            self.decoder.finish(&mut self.events);
        }
        for ev in self.events.drain(..) {
            match ev {
                StreamEvent::Start { .. } | StreamEvent::Usage(_) => {}
                StreamEvent::BlockStart { .. }
                | StreamEvent::Delta { .. }
                | StreamEvent::BlockStop { .. }
                | StreamEvent::Finish { .. }
                | StreamEvent::End => return Verdict::Content,
                StreamEvent::Error(e) => return Verdict::Failed(e),
            }
        }
        if eos {
            return Verdict::Failed(ir::StreamError {
                status: Some(502),
                kind: ir::ErrorKind::Server,
                message: "upstream stream ended before any content".into(),
            });
        }
        Verdict::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: Protocol, stream: &str) -> Vec<Verdict> {
        let mut probe = StreamProbe::new(p);
        let bytes = stream.as_bytes();
        // One byte at a time: every offset is a chunk boundary.
        let mut out = Vec::new();
        for (i, b) in bytes.iter().enumerate() {
            let v = probe.feed(std::slice::from_ref(b), i + 1 == bytes.len());
            if v != Verdict::Pending {
                out.push(v);
                break;
            }
        }
        out
    }

    #[test]
    fn anthropic_overload_after_message_start_fails() {
        let s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let v = run(Protocol::Anthropic, s);
        assert!(
            matches!(&v[..], [Verdict::Failed(e)] if e.kind == ir::ErrorKind::Overloaded),
            "{v:?}"
        );
    }

    #[test]
    fn anthropic_text_is_content() {
        let s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
        assert_eq!(run(Protocol::Anthropic, s), vec![Verdict::Content]);
    }

    #[test]
    fn responses_failed_before_output_fails() {
        let s = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"m\",\"output\":[]}}\n\nevent: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"failed\",\"model\":\"m\",\"output\":[],\"error\":{\"code\":\"server_is_overloaded\",\"message\":\"busy\"}}}\n\n";
        let v = run(Protocol::OpenAiResponses, s);
        assert!(matches!(&v[..], [Verdict::Failed(_)]), "{v:?}");
    }

    #[test]
    fn chat_role_chunk_is_preamble_and_error_chunk_fails() {
        let s = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"server_is_overloaded\"}}\n\n";
        let v = run(Protocol::OpenAiChat, s);
        assert!(matches!(&v[..], [Verdict::Failed(_)]), "{v:?}");
    }

    #[test]
    fn gemini_error_object_fails_and_text_is_content() {
        let err = "data: {\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}\n\n";
        assert!(matches!(
            &run(Protocol::Gemini, err)[..],
            [Verdict::Failed(_)]
        ));
        let ok = "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"hi\"}]},\"index\":0}]}\n\n";
        assert_eq!(run(Protocol::Gemini, ok), vec![Verdict::Content]);
    }

    #[test]
    fn an_empty_stream_fails() {
        let mut probe = StreamProbe::new(Protocol::Anthropic);
        assert!(matches!(probe.feed(b"", true), Verdict::Failed(_)));
    }
}
