//! Shared test helpers: protocol dispatch ([`codec`]), the recorded fixtures ([`fixtures`]),
//! the client-parser validators ([`validate`]), what must survive a translation
//! ([`summary`]) and the STYLE 13 scenario list ([`scenarios`]).
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod codec;
pub mod fixtures;
pub mod gzip;
pub mod replay;
pub mod request_summary;
pub mod scenarios;
pub mod summary;
pub mod validate;
pub mod yaml;
