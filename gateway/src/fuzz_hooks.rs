//! Entry points for `switchyard-fuzzing` (fuzz targets and their replay test) into modules
//! that are otherwise private. Not an API: nothing in the gateway uses this module, and it
//! only re-exports or wraps pure functions (no I/O).

/// Request body validation and the model splice (`body.rs`).
pub use crate::body::{inspect, model_literal, splice, BodyError, BodyFacts};

/// The JSON path editor (`json_path.rs`).
pub mod json_path {
    pub use crate::json_path::{delete, exists, parse, set};
}

/// Payload rules (`payload.rs`).
pub use crate::payload::{Payload, Target};

/// The management API's body readers: a multipart upload (`content_type` and `body` as a
/// `POST /auth-files` gets them) and the list bodies of `PUT`/`PATCH` on the config lists.
pub use crate::management::fuzz_bodies as management_bodies;
