//! One entry point over the four protocols, chosen at run time: the gateway knows the client
//! protocol and the upstream protocol only per request.
//!
//! [`StreamTranslator`] is the whole stream pipeline of STYLE 5:
//! `bytes -> SseDecoder -> upstream StreamDecoder -> IR events -> client StreamEncoder -> bytes`,
//! fed one network chunk at a time from `response_body_filter`.

use crate::ir::{self, EncodeContext, Protocol, StreamEvent};
use crate::sse::{SseDecoder, SseEvent};
use crate::{anthropic, gemini, openai_chat, openai_responses, StreamOptions, TranslateError};

pub fn decode_request(p: Protocol, body: &[u8]) -> Result<ir::Request, TranslateError> {
    match p {
        Protocol::OpenAiChat => openai_chat::decode_request(body),
        Protocol::OpenAiResponses => openai_responses::decode_request(body),
        Protocol::Anthropic => anthropic::decode_request(body),
        Protocol::Gemini => gemini::decode_request(body),
    }
}

pub fn encode_request(p: Protocol, req: &ir::Request) -> Result<Vec<u8>, TranslateError> {
    match p {
        Protocol::OpenAiChat => openai_chat::encode_request(req),
        Protocol::OpenAiResponses => openai_responses::encode_request(req),
        Protocol::Anthropic => anthropic::encode_request(req),
        Protocol::Gemini => gemini::encode_request(req),
    }
}

pub fn decode_response(p: Protocol, body: &[u8]) -> Result<ir::Response, TranslateError> {
    match p {
        Protocol::OpenAiChat => openai_chat::decode_response(body),
        Protocol::OpenAiResponses => openai_responses::decode_response(body),
        Protocol::Anthropic => anthropic::decode_response(body),
        Protocol::Gemini => gemini::decode_response(body),
    }
}

pub fn encode_response(p: Protocol, resp: &ir::Response, cx: &mut EncodeContext) -> Vec<u8> {
    match p {
        Protocol::OpenAiChat => openai_chat::encode_response(resp, cx),
        Protocol::OpenAiResponses => openai_responses::encode_response(resp, cx),
        Protocol::Anthropic => anthropic::encode_response(resp, cx),
        Protocol::Gemini => gemini::encode_response(resp, cx),
    }
}

pub fn decode_error(p: Protocol, status: u16, body: &[u8]) -> ir::StreamError {
    match p {
        Protocol::OpenAiChat => openai_chat::decode_error(status, body),
        Protocol::OpenAiResponses => openai_responses::decode_error(status, body),
        Protocol::Anthropic => anthropic::decode_error(status, body),
        Protocol::Gemini => gemini::decode_error(status, body),
    }
}

pub fn encode_error(p: Protocol, err: &ir::StreamError) -> (u16, Vec<u8>) {
    match p {
        Protocol::OpenAiChat => openai_chat::encode_error(err),
        Protocol::OpenAiResponses => openai_responses::encode_error(err),
        Protocol::Anthropic => anthropic::encode_error(err),
        Protocol::Gemini => gemini::encode_error(err),
    }
}

pub(crate) enum AnyDecoder {
    Chat(openai_chat::StreamDecoder),
    Responses(openai_responses::StreamDecoder),
    Anthropic(anthropic::StreamDecoder),
    Gemini(gemini::StreamDecoder),
}

impl AnyDecoder {
    pub(crate) fn new(p: Protocol) -> Self {
        match p {
            Protocol::OpenAiChat => Self::Chat(openai_chat::StreamDecoder::new()),
            Protocol::OpenAiResponses => Self::Responses(openai_responses::StreamDecoder::new()),
            Protocol::Anthropic => Self::Anthropic(anthropic::StreamDecoder::new()),
            Protocol::Gemini => Self::Gemini(gemini::StreamDecoder::new()),
        }
    }

    pub(crate) fn feed(&mut self, ev: &SseEvent, out: &mut Vec<StreamEvent>) {
        match self {
            Self::Chat(d) => d.feed(ev, out),
            Self::Responses(d) => d.feed(ev, out),
            Self::Anthropic(d) => d.feed(ev, out),
            Self::Gemini(d) => d.feed(ev, out),
        }
    }

    pub(crate) fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self {
            Self::Chat(d) => d.finish(out),
            Self::Responses(d) => d.finish(out),
            Self::Anthropic(d) => d.finish(out),
            Self::Gemini(d) => d.finish(out),
        }
    }
}

enum AnyEncoder {
    Chat(openai_chat::StreamEncoder),
    Responses(openai_responses::StreamEncoder),
    Anthropic(anthropic::StreamEncoder),
    Gemini(gemini::StreamEncoder),
}

impl AnyEncoder {
    fn new(p: Protocol, cx: EncodeContext, opts: StreamOptions) -> Self {
        match p {
            Protocol::OpenAiChat => Self::Chat(openai_chat::StreamEncoder::new(cx, opts)),
            Protocol::OpenAiResponses => {
                Self::Responses(openai_responses::StreamEncoder::new(cx, opts))
            }
            Protocol::Anthropic => Self::Anthropic(anthropic::StreamEncoder::new(cx, opts)),
            Protocol::Gemini => Self::Gemini(gemini::StreamEncoder::new(cx, opts)),
        }
    }

    fn encode(&mut self, ev: &StreamEvent, out: &mut Vec<u8>) {
        match self {
            Self::Chat(e) => e.encode(ev, out),
            Self::Responses(e) => e.encode(ev, out),
            Self::Anthropic(e) => e.encode(ev, out),
            Self::Gemini(e) => e.encode(ev, out),
        }
    }
}

/// Translates an upstream SSE stream into the client's stream, chunk by chunk.
pub struct StreamTranslator {
    sse: SseDecoder,
    decoder: AnyDecoder,
    encoder: AnyEncoder,
    sse_events: Vec<SseEvent>,
    events: Vec<StreamEvent>,
    /// Set once an `Error` or `End` went to the encoder: nothing follows it.
    closed: bool,
    /// Whether any upstream content event was seen (for stream bootstrap decisions).
    started: bool,
}

impl StreamTranslator {
    pub fn new(
        upstream: Protocol,
        client: Protocol,
        cx: EncodeContext,
        opts: StreamOptions,
    ) -> Self {
        Self {
            sse: SseDecoder::default(),
            decoder: AnyDecoder::new(upstream),
            encoder: AnyEncoder::new(client, cx, opts),
            sse_events: Vec::new(),
            events: Vec::new(),
            closed: false,
            started: false,
        }
    }

    /// For a Gemini client that called `:streamGenerateContent` without `alt=sse`: the
    /// output is Gemini's JSON-array stream framing instead of SSE.
    pub fn gemini_json_array(upstream: Protocol, cx: EncodeContext, opts: StreamOptions) -> Self {
        let mut t = Self::new(upstream, Protocol::Gemini, cx.clone(), opts.clone());
        t.encoder = AnyEncoder::Gemini(gemini::StreamEncoder::json_array(cx, opts));
        t
    }

    /// Translate one upstream chunk; complete client events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.closed {
            return;
        }
        if let Err(e) = self.sse.feed(chunk, &mut self.sse_events) {
            self.events.push(StreamEvent::Error(ir::StreamError {
                status: Some(502),
                kind: ir::ErrorKind::Server,
                message: e.to_string(),
            }));
        }
        for ev in self.sse_events.drain(..) {
            self.decoder.feed(&ev, &mut self.events);
        }
        self.flush(out);
    }

    /// End of the upstream stream: flush what is pending and close the client stream. A stream
    /// that ended without its terminal event is closed with an error, never truncated silently.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.closed {
            return;
        }
        self.sse.finish(&mut self.sse_events);
        for ev in self.sse_events.drain(..) {
            self.decoder.feed(&ev, &mut self.events);
        }
        self.decoder.finish(&mut self.events);
        self.flush(out);
        if !self.closed {
            let err = StreamEvent::Error(ir::StreamError {
                status: Some(502),
                kind: ir::ErrorKind::Server,
                message: "upstream stream ended before it was complete".into(),
            });
            self.encoder.encode(&err, out);
            self.closed = true;
        }
    }

    /// Whether the upstream has produced a content event (text, thinking, a tool call) yet.
    pub fn started(&self) -> bool {
        self.started
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        for ev in self.events.drain(..) {
            if self.closed {
                break;
            }
            if matches!(
                ev,
                StreamEvent::BlockStart { .. } | StreamEvent::Delta { .. }
            ) {
                self.started = true;
            }
            self.closed = matches!(ev, StreamEvent::Error(_) | StreamEvent::End);
            self.encoder.encode(&ev, out);
        }
    }
}

/// Encode complete IR stream events as the client's stream (a whole upstream response replayed
/// as a stream, see [`crate::aggregate::response_events`]).
///
/// `gemini_json_array`: a Gemini client that asked without `alt=sse` (JSON-array framing).
pub fn encode_events(
    client: Protocol,
    gemini_json_array: bool,
    events: &[StreamEvent],
    cx: EncodeContext,
    opts: StreamOptions,
) -> Vec<u8> {
    let mut encoder = match client {
        Protocol::Gemini if gemini_json_array => {
            AnyEncoder::Gemini(gemini::StreamEncoder::json_array(cx, opts))
        }
        _ => AnyEncoder::new(client, cx, opts),
    };
    let mut out = Vec::new();
    for ev in events {
        encoder.encode(ev, &mut out);
    }
    out
}

/// Collects an upstream SSE stream into one response (a non-stream client served by an
/// upstream that streams anyway, or only streams).
pub struct StreamAggregator {
    sse: SseDecoder,
    decoder: AnyDecoder,
    aggregator: crate::aggregate::Aggregator,
    sse_events: Vec<SseEvent>,
    events: Vec<StreamEvent>,
}

impl StreamAggregator {
    pub fn new(upstream: Protocol) -> Self {
        Self {
            sse: SseDecoder::default(),
            decoder: AnyDecoder::new(upstream),
            aggregator: crate::aggregate::Aggregator::default(),
            sse_events: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if let Err(e) = self.sse.feed(chunk, &mut self.sse_events) {
            self.events.push(StreamEvent::Error(ir::StreamError {
                status: Some(502),
                kind: ir::ErrorKind::Server,
                message: e.to_string(),
            }));
        }
        self.drain();
    }

    /// The whole response, or the stream's error (also for a stream cut short).
    pub fn finish(mut self) -> Result<ir::Response, ir::StreamError> {
        self.sse.finish(&mut self.sse_events);
        self.drain();
        self.decoder.finish(&mut self.events);
        for ev in self.events.drain(..) {
            self.aggregator.push(&ev);
        }
        self.aggregator.finish()
    }

    fn drain(&mut self) {
        for ev in self.sse_events.drain(..) {
            self.decoder.feed(&ev, &mut self.events);
        }
        for ev in self.events.drain(..) {
            self.aggregator.push(&ev);
        }
    }
}
