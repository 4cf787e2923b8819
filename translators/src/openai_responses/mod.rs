//! OpenAI Responses (`POST /v1/responses`, what Codex CLI speaks): wire types and the IR
//! codecs for requests, whole responses, errors and streams.
//!
//! Pure; follows the module contract in the crate docs. Files: `wire.rs` (serde structs),
//! `wire_stream.rs` (stream events), `items.rs` (items and content parts ↔ IR parts),
//! `request.rs`, `response.rs` (response object, errors, the stop/usage/error tables),
//! `stream_decode.rs`, `stream_encode.rs`.

mod items;
mod request;
mod response;
mod stream_decode;
mod stream_encode;
pub mod wire;
pub mod wire_stream;

pub use request::{decode_request, encode_request};
pub use response::{decode_error, decode_response, encode_error, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;

pub(crate) use response::usage_from;
