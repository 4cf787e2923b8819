//! Gemini `generateContent` / `streamGenerateContent` (AI Studio and Vertex wire format):
//! wire types and the IR codecs. Pure; no I/O.
//!
//! | File | What |
//! | --- | --- |
//! | `wire.rs` | typed serde structs (`GeminiRequest`, `GeminiPart`, `GeminiResponse`, ...) |
//! | `parts.rs` | parts ↔ IR parts (thought signatures, media, call ids, tool results) |
//! | `schema.rs` | JSON Schema cleaning for Gemini, and Gemini schema → JSON Schema |
//! | `request.rs` | request bodies |
//! | `response.rs` | whole responses, stop/usage/error tables, error bodies |
//! | `stream.rs` | stream chunks → IR events |
//! | `stream_encode.rs` | IR events → `data:` chunks or the JSON-array stream |
//! | `array.rs` | framing of the non-SSE (JSON array) stream |
//!
//! What Gemini cannot express, and what the encoders do instead (details in each file):
//! - Claude `redacted_thinking`, OpenAI `encrypted_content`, other protocols' unknown blocks
//!   and built-in tools, `cache_control`, `parallel_tool_calls`, `user_id`, `cache_key`:
//!   dropped. OpenAI reasoning summaries become thought parts.
//! - A system/developer message inside the conversation: a `user` turn at its place.
//! - A function call without a Gemini signature: Google's documented dummy signature (Gemini 3
//!   rejects unsigned calls in the current turn); it decodes back as no signature.
//! - `StopSequence` / `PauseTurn` → `STOP`; a non-Gemini `Other` reason → `OTHER`.
//! - Streamed tool arguments: Gemini has no partial-argument events, so a call is sent whole
//!   at its `BlockStop`; Vertex's `partialArgs` (only when a Gemini client asks for them) are
//!   assembled and forwarded whole.
//! - Reasoning: written exactly as the IR says (`thinkingLevel` for an effort);
//!   `reasoning::for_target` picks what the upstream model accepts before encoding.
//! - Images in a *stream* response (image generation): an unknown block carrying the part (the
//!   IR stream has no media block); in a whole response they are `Part::Image`.

mod array;
mod parts;
mod request;
mod response;
pub mod schema;
mod stream;
mod stream_encode;
pub mod wire;

pub use array::ArrayStreamDecoder;
pub use parts::DUMMY_SIGNATURE;
pub use request::{decode_request, encode_request};
pub use response::{decode_error, decode_response, encode_error, encode_response};
pub use stream::StreamDecoder;
pub use stream_encode::StreamEncoder;

pub(crate) use response::decode_usage;
