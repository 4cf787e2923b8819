//! OpenAI Chat Completions (`POST /v1/chat/completions`): wire types and the IR codecs for
//! requests, whole responses, errors and streams, following the module contract in
//! [`crate`] (lib.rs).
//!
//! Pure; no I/O, no clock. Also reads the dialects of OpenAI-compatible providers (DeepSeek,
//! Moonshot and xAI `reasoning_content`, Groq `reasoning`, Azure prompt-filter chunks,
//! Alibaba's empty-id argument fragments, OpenRouter's numeric error codes).
//!
//! - [`wire`]: typed serde structs (`OpenAiChat*`); `wire_de`: their hand-written
//!   deserialisers on the hot path.
//! - [`request`]: request decoding (and the decisions listed there); [`request_encode`].
//! - [`response`]: whole responses, error bodies, the stop/usage/error tables.
//! - [`stream`]: chunk decoder; [`stream_encode`]: chunk encoder.

pub mod request;
pub mod request_encode;
pub mod response;
pub mod stream;
pub mod stream_encode;
pub mod usage_chunk;
pub mod wire;
mod wire_de;

pub use request::decode_request;
pub use request_encode::encode_request;
pub use response::{decode_error, decode_response, encode_error, encode_response};
pub use stream::StreamDecoder;
pub use stream_encode::StreamEncoder;
