//! Admission of client connections, around Pingora's HTTP app: `max-connections` and the
//! request-header deadline (`client-timeouts.header-seconds`).
//!
//! Pingora reads a request header with a timeout per read (60 s), so a client that sends one
//! byte every few seconds holds its connection, and a worker's memory for it, forever
//! (slowloris). [`Admission`] wraps each accepted HTTP/1 stream in a [`HeaderDeadline`]: the
//! header block of the first request must be complete `header-seconds` after the connection
//! opened, and that of a later request on the same connection `header-seconds` after its first
//! byte. Past it the read fails and Pingora closes the connection. HTTP/2 connections (ALPN
//! `h2`) are not wrapped: their frames are not an HTTP/1 header block.
//!
//! Connections past `max-connections` are closed as soon as they are accepted, before a byte
//! is read (the client sees its connection closed; nothing in its protocol can be said before
//! its request is read). Both limits are read from the current runtime snapshot, so a reload
//! changes them for the next connection.

use crate::in_flight::InFlight;
use crate::reload::RuntimeHolder;
use async_trait::async_trait;
use pingora_core::apps::ServerApp;
use pingora_core::protocols::tls::TlsRef;
use pingora_core::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use pingora_core::server::ShutdownWatch;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Pingora's HTTP app `A`, behind the connection limit and the header deadline.
pub struct Admission<A> {
    inner: Arc<A>,
    holder: Arc<RuntimeHolder>,
    in_flight: Arc<InFlight>,
    /// A refusal was logged since the count was last under the limit (one warning per burst).
    warned: AtomicBool,
}

impl<A> Admission<A> {
    pub fn new(inner: A, holder: Arc<RuntimeHolder>, in_flight: Arc<InFlight>) -> Self {
        Self {
            inner: Arc::new(inner),
            holder,
            in_flight,
            warned: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for Admission<A> {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let rt = self.holder.load();
        let Some(_open) = self.in_flight.connection(rt.max_connections) else {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    limit = rt.max_connections,
                    "max-connections reached: new connections are closed until some end"
                );
            }
            self.in_flight.refused_connection();
            return None;
        };
        if self.warned.load(Ordering::Relaxed) {
            self.warned.store(false, Ordering::Relaxed);
        }
        let stream = if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            stream
        } else {
            Box::new(HeaderDeadline::new(stream, rt.header_timeout)) as Stream
        };
        drop(rt);
        self.inner.process_new(stream, shutdown).await
    }

    async fn cleanup(&self) {
        self.inner.cleanup().await;
    }
}

/// Where the stream is in the request/response cycle, for the header deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a header block; `newlines` counts the line ends seen in a row (a `\r` does not
    /// break the run), so two end it.
    Header { newlines: u8 },
    /// The header block is in: body bytes, or the next pipelined request, have no deadline.
    Body,
    /// A response was written: the next byte read starts the next request's header.
    Idle,
}

/// A client stream whose request header blocks must each arrive within `limit`.
#[derive(Debug)]
pub struct HeaderDeadline {
    inner: Stream,
    limit: Duration,
    phase: Phase,
    /// The header block's deadline, armed while one is being read (one timer per connection,
    /// reset for each request).
    deadline: Pin<Box<Sleep>>,
    armed: bool,
}

impl HeaderDeadline {
    pub fn new(inner: Stream, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            phase: Phase::Header { newlines: 0 },
            deadline: Box::pin(tokio::time::sleep(limit)),
            armed: true,
        }
    }

    /// Advance the phase over bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.phase == Phase::Idle {
            self.phase = Phase::Header { newlines: 0 };
            let at = Instant::now() + self.limit;
            self.deadline.as_mut().reset(at);
            self.armed = true;
        }
        let Phase::Header { mut newlines } = self.phase else {
            return;
        };
        // Only line ends matter: jump from one `\n` to the next, and look at what lies between
        // (nothing, or a lone `\r`, keeps a run of line ends going).
        let mut from = 0;
        while let Some(at) = memchr::memchr(b'\n', &bytes[from..]) {
            let between = &bytes[from..from + at];
            if !(between.is_empty() || between == b"\r") {
                newlines = 0;
            }
            newlines += 1;
            if newlines == 2 {
                self.phase = Phase::Body;
                self.armed = false;
                return;
            }
            from += at + 1;
        }
        if bytes[from..].iter().any(|&b| b != b'\r') {
            newlines = 0;
        }
        self.phase = Phase::Header { newlines };
    }
}

impl HeaderDeadline {
    /// A response went out: the next byte read starts the next request's header.
    fn wrote(&mut self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) && self.phase == Phase::Body {
            self.phase = Phase::Idle;
        }
    }
}

impl AsyncRead for HeaderDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.saw(buf.filled().get(before..).unwrap_or_default());
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.armed && this.deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "request header not complete within {} s (client-timeouts.header-seconds)",
                            this.limit.as_secs()
                        ),
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for HeaderDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&written);
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for HeaderDeadline {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await;
    }
}

impl UniqueID for HeaderDeadline {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for HeaderDeadline {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<pingora_core::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for HeaderDeadline {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for HeaderDeadline {
    fn get_proxy_digest(&self) -> Option<Arc<pingora_core::protocols::raw_connect::ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: pingora_core::protocols::raw_connect::ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for HeaderDeadline {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[async_trait]
impl Peek for HeaderDeadline {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn wrapped(mock: tokio_test::io::Mock, secs: u64) -> HeaderDeadline {
        HeaderDeadline::new(Box::new(mock), Duration::from_secs(secs))
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_header_is_cut_at_the_deadline() {
        let mut builder = tokio_test::io::Builder::new();
        for _ in 0..40 {
            builder.wait(Duration::from_secs(1)).read(b"X");
        }
        let mut s = wrapped(builder.build(), 30);
        let mut buf = [0u8; 64];
        let mut got = 0;
        let err = loop {
            match s.read(&mut buf).await {
                Ok(n) => got += n,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!((29..=30).contains(&got), "{got} bytes before the cut");
        // The scripted client still had bytes to send (the mock asserts none are left).
        std::mem::forget(s);
    }

    #[tokio::test(start_paused = true)]
    async fn a_complete_header_disarms_and_a_response_rearms_on_the_next_byte() {
        let mut s = wrapped(
            tokio_test::io::Builder::new()
                .read(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n{")
                .wait(Duration::from_secs(100))
                .read(b"}")
                .write(b"HTTP/1.1 200 OK\r\n\r\n")
                // An idle kept-alive connection has no header deadline ...
                .wait(Duration::from_secs(100))
                .read(b"GET / HTTP/1.1\r\n")
                // ... but once the next request starts, its header has one.
                .wait(Duration::from_secs(31))
                .read(b"\r\n")
                .build(),
            30,
        );
        let mut buf = [0u8; 64];
        assert_eq!(s.read(&mut buf).await.ok(), Some(29));
        assert_eq!(s.read(&mut buf).await.ok(), Some(1));
        assert!(s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.is_ok());
        assert_eq!(s.read(&mut buf).await.ok(), Some(16));
        let err = s.read(&mut buf).await.err().map(|e| e.kind());
        assert_eq!(err, Some(io::ErrorKind::TimedOut));
        // The end of the header was still to come (the mock asserts nothing is left).
        std::mem::forget(s);
    }

    #[tokio::test(start_paused = true)]
    async fn bare_line_feeds_end_a_header_too() {
        let mut s = wrapped(tokio_test::io::Builder::new().build(), 30);
        s.saw(b"GET / HTTP/1.1\nHost: x\n");
        assert!(matches!(s.phase, Phase::Header { .. }));
        s.saw(b"\n");
        assert_eq!(s.phase, Phase::Body);
        assert!(!s.armed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_header_end_split_across_reads_is_found() {
        for split in 0..=4 {
            let end = b"\r\n\r\n";
            let mut s = wrapped(tokio_test::io::Builder::new().build(), 30);
            s.saw(b"GET / HTTP/1.1");
            s.saw(&end[..split]);
            s.saw(&end[split..]);
            assert_eq!(s.phase, Phase::Body, "split at {split}");
        }
        let mut s = wrapped(tokio_test::io::Builder::new().build(), 30);
        s.saw(b"GET / HTTP/1.1\r\nA: b\r\n\r");
        s.saw(b"x\n");
        assert!(
            matches!(s.phase, Phase::Header { .. }),
            "\\r then a byte breaks the run"
        );
    }
}
