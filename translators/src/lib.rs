//! Protocol conversion for Switchyard: OpenAI Chat Completions, OpenAI Responses, Anthropic
//! Messages and Gemini generateContent, each decoded into and encoded out of one intermediate
//! representation ([`ir`]), for requests, whole responses and stream events.
//!
//! Contract: pure. No Pingora, tokio, I/O or clock; ids and timestamps come in through
//! [`ir::EncodeContext`], so output is deterministic. Stream translators are synchronous state
//! machines fed by [`sse::SseDecoder`], which accepts any chunk boundary.
//!
//! Every protocol module has the same shape (four protocols cost eight halves, not twelve
//! pairs):
//!
//! ```text
//! decode_request(&[u8]) -> Result<ir::Request, TranslateError>
//! encode_request(&ir::Request) -> Result<Vec<u8>, TranslateError>
//! decode_response(&[u8]) -> Result<ir::Response, TranslateError>
//! encode_response(&ir::Response, &mut EncodeContext) -> Vec<u8>
//! decode_error(status, &[u8]) -> ir::StreamError        // an upstream error body
//! encode_error(&ir::StreamError) -> (u16, Vec<u8>)      // a client error body
//! StreamDecoder::new() .feed(&SseEvent, &mut Vec<StreamEvent>) .finish(&mut Vec<StreamEvent>)
//! StreamEncoder::new(EncodeContext, StreamOptions) .encode(&StreamEvent, &mut Vec<u8>)
//! ```
//!
//! Same protocol on both sides is never translated: the gateway passes the bytes through. Its
//! token usage is still read, by [`usage::UsageScanner`], without decoding the body.

pub mod aggregate;
pub mod anthropic;
pub mod any;
pub mod b64;
pub mod codeassist;
pub mod error;
pub mod gemini;
pub mod ir;
pub mod json_skim;
pub mod openai_chat;
pub mod openai_responses;
pub mod probe;
pub mod reasoning;
pub mod sse;
pub mod tokens;
pub mod usage;

pub use error::TranslateError;

/// Options a stream encoder needs from the client's request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamOptions {
    /// The model name the client asked for (echoed in the stream instead of the upstream's).
    pub client_model: Option<String>,
    /// OpenAI Chat `stream_options.include_usage`: emit a final usage chunk.
    pub include_usage: bool,
}
