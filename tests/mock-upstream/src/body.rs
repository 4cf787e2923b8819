//! The response body: a list of events played out with real timing.
//!
//! Each event is its own body frame; with `--chunk-size N` each event is further cut into
//! N-byte frames. After every frame the body returns `Pending` once (waking itself at once), so
//! hyper flushes the frame to the socket before asking for the next one: one event (or piece) is
//! one write, and, with `TCP_NODELAY`, one TCP segment. `--chunk-delay-ms` sleeps between
//! events, not between pieces of one event. For `drop_after_events` the body fails after that
//! many events, and hyper then closes the connection without the final chunk. Streams send their
//! headers in a write of their own, before the first event, as real upstreams do.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::VecDeque;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// How a [`PacedBody`] plays its events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pacing {
    /// Pause between events.
    pub delay: Duration,
    /// If non-zero, the largest frame.
    pub chunk_size: usize,
    /// Fail after this many events.
    pub abort_after: Option<usize>,
}

/// A body that plays a list of events.
#[derive(Debug)]
pub struct PacedBody {
    events: VecDeque<Bytes>,
    pieces: VecDeque<Bytes>,
    pacing: Pacing,
    sleep: Option<Pin<Box<Sleep>>>,
    slept: bool,
    emitted: usize,
    yield_next: bool,
    exact_len: Option<u64>,
    done: bool,
    /// Wait for the gate after this many events ([`crate::hold`]).
    hold: Option<(usize, crate::hold::Gate)>,
}

impl PacedBody {
    /// A body playing `events`; `exact` sends a `Content-Length` (when not aborting).
    pub fn new(events: Vec<Bytes>, pacing: Pacing, exact: bool) -> Self {
        let len = events.iter().map(|e| e.len() as u64).sum();
        PacedBody {
            events: events.into(),
            pieces: VecDeque::new(),
            pacing,
            sleep: None,
            slept: false,
            emitted: 0,
            // A stream yields once before its first event so hyper flushes the headers on
            // their own (the client sees the 200 at once, even if the body is then cut).
            yield_next: !exact,
            exact_len: (exact && pacing.abort_after.is_none()).then_some(len),
            done: false,
            hold: None,
        }
    }

    /// Pauses the body after `n` events until `gate` opens.
    pub fn hold_after(mut self, n: usize, gate: crate::hold::Gate) -> Self {
        self.hold = Some((n, gate));
        self
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::new(Vec::new(), Pacing::default(), true)
    }

    fn split(&mut self, event: Bytes) {
        let size = self.pacing.chunk_size;
        if size == 0 || event.len() <= size {
            self.pieces.push_back(event);
            return;
        }
        let mut rest = event;
        while !rest.is_empty() {
            let n = size.min(rest.len());
            self.pieces.push_back(rest.split_to(n));
        }
    }
}

impl Body for PacedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.yield_next {
            this.yield_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        loop {
            if let Some(piece) = this.pieces.pop_front() {
                this.yield_next = true;
                return Poll::Ready(Some(Ok(Frame::data(piece))));
            }
            if let Some(sleep) = this.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
                this.slept = true;
            }
            if let Some((n, gate)) = this.hold.as_mut() {
                if *n == this.emitted {
                    if gate.poll_open(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.hold = None;
                }
            }
            if this.pacing.abort_after == Some(this.emitted) {
                this.done = true;
                return Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "switchyard-mock: drop_after_events",
                ))));
            }
            let Some(event) = this.events.pop_front() else {
                this.done = true;
                return Poll::Ready(None);
            };
            if this.emitted > 0 && !this.pacing.delay.is_zero() && !this.slept {
                this.events.push_front(event);
                this.sleep = Some(Box::pin(tokio::time::sleep(this.pacing.delay)));
                continue;
            }
            this.slept = false;
            this.emitted += 1;
            this.split(event);
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
            || (self.events.is_empty()
                && self.pieces.is_empty()
                && self.pacing.abort_after.is_none())
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(len) => SizeHint::with_exact(len),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use http_body_util::BodyExt as _;

    fn events() -> Vec<Bytes> {
        vec![
            Bytes::from_static(b"first|"),
            Bytes::from_static(b"second|"),
            Bytes::from_static(b"third"),
        ]
    }

    async fn frames(mut body: PacedBody) -> (Vec<Bytes>, bool) {
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => out.extend(f.into_data().ok()),
                Err(_) => return (out, false),
            }
        }
        (out, true)
    }

    #[tokio::test]
    async fn plays_splits_and_aborts() {
        let (f, ok) = frames(PacedBody::new(events(), Pacing::default(), true)).await;
        assert!(ok);
        assert_eq!(f.len(), 3);
        let pacing = Pacing {
            chunk_size: 4,
            ..Pacing::default()
        };
        let (f, _) = frames(PacedBody::new(events(), pacing, false)).await;
        assert_eq!(f.concat(), b"first|second|third");
        assert_eq!(
            f.iter().map(Bytes::len).collect::<Vec<_>>(),
            [4, 2, 4, 3, 4, 1]
        );
        let pacing = Pacing {
            abort_after: Some(2),
            ..Pacing::default()
        };
        let (f, ok) = frames(PacedBody::new(events(), pacing, true)).await;
        assert!(!ok);
        assert_eq!(f.concat(), b"first|second|");
    }

    #[tokio::test]
    async fn delays_between_events_only() {
        let pacing = Pacing {
            delay: Duration::from_millis(40),
            chunk_size: 2,
            abort_after: None,
        };
        let start = std::time::Instant::now();
        let body = PacedBody::new(events(), pacing, false);
        assert_eq!(
            body.collect().await.unwrap().to_bytes(),
            "first|second|third"
        );
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(80) && elapsed < Duration::from_millis(300),
            "{elapsed:?}"
        );
    }
}
