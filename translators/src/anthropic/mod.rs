//! Anthropic Messages (`POST /v1/messages`): typed wire structs and the IR codecs for
//! requests, whole responses, stream events and error bodies. Pure; no I/O, no clock.
//!
//! Contract (the same for every protocol, see the crate docs):
//! [`decode_request`], [`encode_request`], [`decode_response`], [`encode_response`],
//! [`decode_error`], [`encode_error`], [`StreamDecoder`], [`StreamEncoder`].
//!
//! Files: `wire` (serde structs), `blocks` (content blocks ↔ parts), `request`, `response`
//! (also usage, stop reasons and errors), `stream_decode`, `stream_encode`. Each opens with
//! its mapping table.

mod blocks;
mod request;
mod response;
mod stream_decode;
mod stream_encode;
pub mod wire;

pub use request::{decode_request, default_max_tokens, encode_request, CONTINUE_TEXT};
pub use response::{decode_error, decode_response, encode_error, encode_response};
pub use stream_decode::AnthropicStreamDecoder;
pub use stream_decode::AnthropicStreamDecoder as StreamDecoder;
pub use stream_encode::AnthropicStreamEncoder;
pub use stream_encode::AnthropicStreamEncoder as StreamEncoder;
pub use wire::Lenient;

pub(crate) use response::usage_in;
