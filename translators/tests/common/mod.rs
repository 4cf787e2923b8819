//! Shared test helpers: protocol dispatch ([`codec`]), the recorded fixtures ([`fixtures`],
//! cassettes read by [`cassette`]),
//! the client-parser validators ([`validate`]), what must survive a translation
//! ([`summary`]) and the STYLE 13 scenario list ([`scenarios`]).

pub mod cassette;
pub mod codec;
pub mod fixtures;
pub mod replay;
pub mod request_summary;
pub mod scenarios;
pub mod summary;
pub mod validate;
