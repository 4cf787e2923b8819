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
