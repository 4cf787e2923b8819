//! Stream bootstrap: a streaming attempt's output is held back until its upstream shows the
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

/// Per-attempt bootstrap state.
#[derive(Default)]
pub enum Bootstrap {
    /// Output goes straight to the client.
    #[default]
    Off,
    /// Output is held until the probe sees content.
    Holding {
        probe: Box<StreamProbe>,
        held: Vec<u8>,
    },
}

impl std::fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => f.write_str("Off"),
            Self::Holding { held, .. } => write!(f, "Holding({} bytes)", held.len()),
        }
    }
}

/// What to do with one chunk of an attempt's output.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send these bytes (possibly empty) to the client.
    Send(Vec<u8>),
    /// Nothing of this attempt may reach the client: fail over.
    FailOver(ir::StreamError),
}

impl Bootstrap {
    /// Start holding a stream from an upstream speaking `upstream`.
    pub fn hold(upstream: Protocol) -> Self {
        Self::Holding {
            probe: Box::new(StreamProbe::new(upstream)),
            held: Vec::new(),
        }
    }

    /// `raw`: the upstream chunk; `out`: what the attempt would send for it (the same bytes
    /// when passed through, the translation otherwise). `may_fail_over`: another account is
    /// left. Once content (or a final failure) is seen the state turns `Off`.
    pub fn step(&mut self, raw: &[u8], eos: bool, out: Vec<u8>, may_fail_over: bool) -> Step {
        let Self::Holding { probe, held } = self else {
            return Step::Send(out);
        };
        match probe.feed(raw, eos) {
            Verdict::Pending => {
                held.extend_from_slice(&out);
                Step::Send(Vec::new())
            }
            Verdict::Failed(e) if may_fail_over => {
                *self = Self::Off;
                Step::FailOver(e)
            }
            Verdict::Content | Verdict::Failed(_) => {
                let mut all = std::mem::take(held);
                all.extend_from_slice(&out);
                *self = Self::Off;
                Step::Send(all)
            }
        }
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
        let mut b = Bootstrap::hold(Protocol::Anthropic);
        let s1 = b.step(START.as_bytes(), false, START.into(), true);
        assert_eq!(s1, Step::Send(Vec::new()));
        let s2 = b.step(TEXT.as_bytes(), false, TEXT.into(), true);
        assert_eq!(s2, Step::Send(format!("{START}{TEXT}").into_bytes()));
        // Off now: everything passes.
        assert_eq!(
            b.step(b"x", false, b"x".to_vec(), true),
            Step::Send(b"x".to_vec())
        );
    }

    #[test]
    fn an_error_before_content_fails_over_only_when_an_account_is_left() {
        let mut b = Bootstrap::hold(Protocol::Anthropic);
        b.step(START.as_bytes(), false, START.into(), true);
        let Step::FailOver(e) = b.step(OVERLOAD.as_bytes(), false, OVERLOAD.into(), true) else {
            panic!("expected failover");
        };
        assert_eq!(error_status(&e), 529);

        let mut last = Bootstrap::hold(Protocol::Anthropic);
        last.step(START.as_bytes(), false, START.into(), false);
        let s = last.step(OVERLOAD.as_bytes(), false, OVERLOAD.into(), false);
        assert_eq!(s, Step::Send(format!("{START}{OVERLOAD}").into_bytes()));
    }

    #[test]
    fn downstream_states() {
        assert!(Downstream::Nothing.can_fail_over());
        assert!(Downstream::StreamHeader.can_fail_over());
        assert!(!Downstream::Committed.can_fail_over());
    }
}
