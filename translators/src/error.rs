//! The translators' one error type.

/// Why a body or event could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// Not valid JSON, or JSON of the wrong shape for the protocol.
    #[error("invalid {protocol} body: {message}")]
    InvalidBody {
        protocol: &'static str,
        message: String,
    },
    /// Valid input the target protocol cannot express (e.g. a document for a target without
    /// documents); the message says what and why.
    #[error("{0}")]
    Unsupported(String),
}
