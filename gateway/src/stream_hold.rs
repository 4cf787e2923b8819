//! Stream hold ("bootstrap" in the docs): a streaming attempt's output is held back until its upstream shows the
//! first content event, so a failure before that (an in-band error event after a 200, or a
//! stream that ends empty) moves the request to the next account without the client seeing
//! anything of the failed attempt. Runs in `response_body_filter`; synchronous, O(chunk).
//!
//! The attempt's response header is held with its events (`hold_response_tasks`, a hook of the
//! patched pingora-proxy), so a failed attempt leaves nothing behind. Only a keep-alive sends a
//! header (the gateway's own 200) before content; [`Downstream`] tracks that, and a later error
//! status then becomes the client protocol's stream error event (`phases::response`).

use switchyard_translators::ir::{self, Protocol};
use switchyard_translators::probe::{StreamProbe, Verdict};

/// What the client has received of this request so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Downstream {
    /// Nothing: a failed attempt can be replaced by another with any status.
    Nothing,
    /// A bootstrapped stream's response header (200, SSE), but no body byte yet: another
    /// account may still take over, and must answer as a stream.
    StreamHeader,
    /// Body bytes (or a non-stream header with its length): the request is committed.
    Committed,
}

impl Downstream {
    /// Whether another account may still take the request over.
    pub fn can_fail_over(self) -> bool {
        self != Downstream::Committed
    }
}

/// Per-attempt hold state. Only the probe lives here: the attempt's output itself (the
/// response header and body tasks) is held by `hold_response_tasks` while this is `Holding`.
#[derive(Default)]
pub enum StreamHold {
    /// Output goes straight to the client.
    #[default]
    Off,
    /// Output is held until the probe sees content.
    Holding(Box<StreamProbe>),
}

impl std::fmt::Debug for StreamHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::Holding(_) => f.write_str("Holding"),
        }
    }
}

/// What one upstream chunk decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Still preamble: keep holding.
    Hold,
    /// Content (or a final failure with no account left): release everything held.
    Release,
    /// Nothing of this attempt may reach the client: fail over.
    FailOver(ir::StreamError),
}

impl StreamHold {
    /// Start holding a stream from an upstream speaking `upstream`.
    pub fn hold(upstream: Protocol) -> Self {
        Self::Holding(Box::new(StreamProbe::new(upstream)))
    }

    /// `raw`: the upstream chunk. `may_fail_over`: another account is left (asked only when
    /// the probe saw a failure). Once content or a final failure is seen the state turns `Off`.
    pub fn step(&mut self, raw: &[u8], eos: bool, may_fail_over: impl FnOnce() -> bool) -> Step {
        let Self::Holding(probe) = self else {
            return Step::Release;
        };
        let step = match probe.feed(raw, eos) {
            Verdict::Pending => return Step::Hold,
            Verdict::Failed(e) if may_fail_over() => Step::FailOver(e),
            Verdict::Content | Verdict::Failed(_) => Step::Release,
        };
        *self = Self::Off;
        step
    }
}

/// The HTTP status an in-band error stands for, for account health.
pub fn error_status(e: &ir::StreamError) -> u16 {
    if let Some(s) = e.status {
        return s;
    }
    match e.kind {
        ir::ErrorKind::InvalidRequest => 400,
        ir::ErrorKind::Authentication => 401,
        ir::ErrorKind::Permission => 403,
        ir::ErrorKind::NotFound => 404,
        ir::ErrorKind::RateLimit => 429,
        ir::ErrorKind::Overloaded => 529,
        ir::ErrorKind::Timeout => 504,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n";
    const OVERLOAD: &str = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    const TEXT: &str = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";

    #[test]
    fn preamble_is_held_then_released_with_the_first_content() {
        let mut b = StreamHold::hold(Protocol::Anthropic);
        assert_eq!(b.step(START.as_bytes(), false, || true), Step::Hold);
        assert_eq!(b.step(TEXT.as_bytes(), false, || true), Step::Release);
        // Off now: everything passes.
        assert_eq!(b.step(b"x", false, || true), Step::Release);
    }

    #[test]
    fn an_error_before_content_fails_over_only_when_an_account_is_left() {
        let mut b = StreamHold::hold(Protocol::Anthropic);
        b.step(START.as_bytes(), false, || true);
        let Step::FailOver(e) = b.step(OVERLOAD.as_bytes(), false, || true) else {
            panic!("expected failover");
        };
        assert_eq!(error_status(&e), 529);

        let mut last = StreamHold::hold(Protocol::Anthropic);
        assert_eq!(last.step(START.as_bytes(), false, || false), Step::Hold);
        assert_eq!(
            last.step(OVERLOAD.as_bytes(), false, || false),
            Step::Release
        );
    }

    #[test]
    fn downstream_states() {
        assert!(Downstream::Nothing.can_fail_over());
        assert!(Downstream::StreamHeader.can_fail_over());
        assert!(!Downstream::Committed.can_fail_over());
    }
}
