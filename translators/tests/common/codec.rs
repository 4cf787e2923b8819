//! One entry point per contract function, dispatched on [`Protocol`], so tests can loop over
//! protocols. A protocol whose module has not landed yet panics with
//! "protocol X not implemented yet" (tests over it carry `#[ignore]` with that reason).

use switchyard_translators::ir::{
    EncodeContext, Protocol, Request, Response, StreamError, StreamEvent,
};
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::StreamOptions;

pub const ALL: [Protocol; 4] = [
    Protocol::Anthropic,
    Protocol::OpenAiChat,
    Protocol::OpenAiResponses,
    Protocol::Gemini,
];

pub fn name(p: Protocol) -> &'static str {
    match p {
        Protocol::Anthropic => "anthropic",
        Protocol::OpenAiChat => "openai_chat",
        Protocol::OpenAiResponses => "openai_responses",
        Protocol::Gemini => "gemini",
    }
}

/// Fixed clock and id seed: encoder output is deterministic.
pub fn ctx() -> EncodeContext {
    EncodeContext::new(1_764_000_000, "sy")
}

/// Accepts `()` and `Result<(), E>` from `feed` / `finish` / `encode`, whichever a module
/// chose, so an error is reported instead of ignored.
pub trait Outcome {
    fn check(self) -> Result<(), String>;
}

impl Outcome for () {
    fn check(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Debug> Outcome for Result<(), E> {
    fn check(self) -> Result<(), String> {
        self.map_err(|e| format!("{e:?}"))
    }
}

// Which protocol modules have landed: `implemented` arms call the module, `pending` arms
// panic with the reason the matrix's `#[ignore]` gives. Flip an arm when its module lands
// (and the matching `gate!` arm in tests/matrix.rs).
macro_rules! arm {
    (implemented $module:ident, $m:ident => $body:expr) => {{
        use switchyard_translators::$module as $m;
        $body
    }};
    (pending $module:ident, $m:ident => $body:expr) => {
        panic!(concat!(
            "protocol ",
            stringify!($module),
            " not implemented yet"
        ))
    };
}

macro_rules! dispatch {
    ($p:expr, $m:ident => $body:expr) => {
        match $p {
            Protocol::Anthropic => arm!(implemented anthropic, $m => $body),
            Protocol::OpenAiChat => arm!(implemented openai_chat, $m => $body),
            Protocol::OpenAiResponses => arm!(implemented openai_responses, $m => $body),
            Protocol::Gemini => arm!(implemented gemini, $m => $body),
        }
    };
}

pub fn decode_request(p: Protocol, body: &[u8]) -> Result<Request, String> {
    dispatch!(p, m => m::decode_request(body).map_err(|e| e.to_string()))
}

pub fn encode_request(p: Protocol, r: &Request) -> Result<Vec<u8>, String> {
    dispatch!(p, m => m::encode_request(r).map_err(|e| e.to_string()))
}

pub fn decode_response(p: Protocol, body: &[u8]) -> Result<Response, String> {
    dispatch!(p, m => m::decode_response(body).map_err(|e| e.to_string()))
}

pub fn encode_response(p: Protocol, r: &Response) -> Vec<u8> {
    let mut c = ctx();
    dispatch!(p, m => m::encode_response(r, &mut c))
}

pub fn decode_error(p: Protocol, status: u16, body: &[u8]) -> StreamError {
    dispatch!(p, m => m::decode_error(status, body))
}

pub fn encode_error(p: Protocol, e: &StreamError) -> (u16, Vec<u8>) {
    dispatch!(p, m => m::encode_error(e))
}

/// SSE bytes in `chunks` → IR events, through `SseDecoder` and the protocol's decoder.
pub fn decode_stream(p: Protocol, chunks: &[&[u8]]) -> Result<Vec<StreamEvent>, String> {
    dispatch!(p, m => {
        let mut sse = SseDecoder::default();
        let mut dec = m::StreamDecoder::new();
        let mut events = Vec::new();
        let mut out = Vec::new();
        for c in chunks {
            sse.feed(c, &mut events).map_err(|e| e.to_string())?;
            for e in events.drain(..) {
                dec.feed(&e, &mut out).check()?;
            }
        }
        sse.finish(&mut events);
        for e in events.drain(..) {
            dec.feed(&e, &mut out).check()?;
        }
        dec.finish(&mut out).check()?;
        Ok(out)
    })
}

/// IR events → the client protocol's stream bytes.
pub fn encode_stream(
    p: Protocol,
    events: &[StreamEvent],
    opts: StreamOptions,
) -> Result<Vec<u8>, String> {
    dispatch!(p, m => {
        let mut enc = m::StreamEncoder::new(ctx(), opts);
        let mut out = Vec::new();
        for e in events {
            enc.encode(e, &mut out).check()?;
        }
        Ok(out)
    })
}
