//! Held streams: a `{"hold_after_events": N}` step answers 200 and plays the first N events of
//! the normal answer, then waits until `POST /_mock/release` (or `/_mock/reset`) before the
//! rest. A test can then act while a stream is certainly in flight (delete the account's
//! credential, reload, ...) and let it finish afterwards, without any timing assumption.
//!
//! [`Holds`] lives in the shared state; each held body gets a [`Gate`] that opens at the next
//! release after it was created.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::watch;

/// The release signal shared by every held stream.
#[derive(Debug)]
pub struct Holds {
    tx: watch::Sender<u64>,
}

impl Default for Holds {
    fn default() -> Self {
        Holds {
            tx: watch::channel(0).0,
        }
    }
}

impl Holds {
    /// Opens every gate created before this call.
    pub fn release(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A gate that opens at the next [`Holds::release`].
    pub fn gate(&self) -> Gate {
        let mut rx = self.tx.subscribe();
        rx.mark_unchanged();
        Gate(Box::pin(async move {
            let _ = rx.changed().await;
        }))
    }
}

/// A future that completes when the stream may go on.
pub struct Gate(Pin<Box<dyn Future<Output = ()> + Send>>);

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Gate")
    }
}

impl Gate {
    /// Ready once released.
    pub fn poll_open(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn a_gate_opens_at_the_next_release_only() {
        let holds = Holds::default();
        holds.release();
        let mut gate = holds.gate();
        let pending = poll_fn(|cx| Poll::Ready(gate.poll_open(cx).is_pending())).await;
        assert!(pending, "a release before the gate does not open it");
        holds.release();
        poll_fn(|cx| gate.poll_open(cx)).await;
    }
}
