//! The log writer thread: the one consumer of the bounded queue every log output goes
//! through (tracing lines, access records, request and error logs). It redacts, formats
//! access records, writes to stderr or the rotating `main.log`, writes request and error log
//! files, and runs the total-size cleaner after each rotation and once a minute.
//!
//! Contract: producers call [`Sender::send`], which never blocks on the writer (it takes an
//! uncontended lock for a push) and never makes a system call while the writer is busy or
//! lingering: the writer takes whole batches and, after each one, sleeps [`LINGER`] so that
//! the next batch gathers, so under load it wakes about 100 times a second instead of once per
//! line. Only a writer parked on an empty queue is woken, by the first message. A full (or
//! closed) queue drops the message and counts it, as does a failed write (a full disk).
//! Memory: at most `capacity` messages in flight (a request log holds its capture, up to a few
//! MiB), plus one batch of stderr output (up to [`BATCH_BYTES`]).

use super::access::{self, AccessRecord};
use super::capture::Capture;
use super::files::{self, RotatingFile};
use super::redact;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(test)]
use std::sync::mpsc::Receiver;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use switchyard_conf::LogFormat;

/// How often the cleaner runs besides after a rotation.
const CLEAN_EVERY: Duration = Duration::from_secs(60);
/// Stderr output is written in batches of at most this many bytes.
const BATCH_BYTES: usize = 64 * 1024;
/// After a batch, the writer waits this long for the next one to gather: the bound on how
/// late a line reaches its file under load.
pub(super) const LINGER: Duration = Duration::from_millis(10);

pub(super) enum Msg {
    /// A formatted tracing event (not yet redacted).
    Line(Vec<u8>),
    Access(Box<AccessRecord>, SystemTime),
    Exchange(Box<Exchange>),
    /// Write out everything before this message, then answer.
    Flush(SyncSender<()>),
    /// Tests: say so on the first channel, then block until the second one answers.
    #[cfg(test)]
    Pause(SyncSender<()>, Receiver<()>),
}

/// A request's capture on its way to a request log or an error log.
pub(super) struct Exchange {
    pub(super) request_id: String,
    pub(super) status: u16,
    pub(super) failed: bool,
    /// An error log (request-log off, request failed) rather than a request log.
    pub(super) error_log: bool,
    /// `error-logs-max-files` when it was sent.
    pub(super) error_logs_max_files: u64,
    pub(super) capture: Capture,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) dropped: AtomicU64,
}

/// The queue between the producers and the writer thread.
pub(super) struct Queue {
    state: Mutex<QueueState>,
    wake: Condvar,
    capacity: usize,
    /// Live [`Sender`]s; the last one to go closes the queue.
    senders: AtomicUsize,
}

#[derive(Default)]
struct QueueState {
    msgs: Vec<Msg>,
    /// The writer waits on `wake` (the queue was empty).
    parked: bool,
    /// No sender is left: the writer drains and ends.
    closed: bool,
}

impl Queue {
    /// The queue and its first sender.
    pub(super) fn new(capacity: usize, counters: Arc<Counters>) -> (Arc<Queue>, Sender) {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
            wake: Condvar::new(),
            capacity,
            senders: AtomicUsize::new(1),
        });
        let sender = Sender {
            queue: Arc::clone(&queue),
            counters,
        };
        (queue, sender)
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic while holding this lock leaves a Vec of messages: still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Pushes `msg` (past the capacity when `control`); `false` if it was dropped.
    fn push(&self, msg: Msg, control: bool) -> bool {
        let mut st = self.lock();
        if st.closed || (!control && st.msgs.len() >= self.capacity) {
            return false;
        }
        st.msgs.push(msg);
        if std::mem::take(&mut st.parked) {
            self.wake.notify_one();
        }
        true
    }

    /// The next batch into `batch` (empty on entry), waiting at most `wait` for one; `false`
    /// when the queue is closed and drained.
    fn take(&self, batch: &mut Vec<Msg>, wait: Duration) -> bool {
        let mut st = self.lock();
        if st.msgs.is_empty() && !st.closed {
            st.parked = true;
            st = self
                .wake
                .wait_timeout(st, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            st.parked = false;
        }
        std::mem::swap(&mut st.msgs, batch);
        !(st.closed && batch.is_empty())
    }
}

/// The producers' end: never blocks on the writer.
pub(super) struct Sender {
    queue: Arc<Queue>,
    pub(super) counters: Arc<Counters>,
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.queue.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            queue: Arc::clone(&self.queue),
            counters: Arc::clone(&self.counters),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if self.queue.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut st = self.queue.lock();
            st.closed = true;
            self.queue.wake.notify_one();
        }
    }
}

impl Sender {
    /// Queues `msg`; `false` (and one more dropped line) if the queue is full or closed.
    pub(super) fn send(&self, msg: Msg) -> bool {
        let sent = self.queue.push(msg, false);
        if !sent {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Queues a control message (a flush) even when the queue is full; `false` if closed.
    pub(super) fn send_control(&self, msg: Msg) -> bool {
        self.queue.push(msg, true)
    }
}

/// Where lines go.
pub(super) enum Sink {
    /// Batched, written when the channel runs empty or a batch is full.
    Stderr(Vec<u8>),
    File(RotatingFile),
}

pub(super) struct Writer {
    pub(super) format: LogFormat,
    /// Colour the access lines (text format on a terminal).
    pub(super) ansi: bool,
    pub(super) sink: Sink,
    pub(super) dir: PathBuf,
    /// `logs-max-total-size-mb` in bytes; 0: no cap.
    pub(super) max_total_bytes: u64,
    pub(super) counters: Arc<Counters>,
}

impl Writer {
    pub(super) fn run(mut self, queue: &Queue) {
        self.clean();
        let mut next_clean = Instant::now() + CLEAN_EVERY;
        let mut batch = Vec::new();
        loop {
            let wait = next_clean.saturating_duration_since(Instant::now());
            let open = queue.take(&mut batch, wait);
            let had = !batch.is_empty();
            for msg in batch.drain(..) {
                self.handle(msg);
            }
            if had {
                self.flush();
            }
            if !open {
                self.flush();
                return;
            }
            if Instant::now() >= next_clean {
                self.clean();
                next_clean = Instant::now() + CLEAN_EVERY;
            }
            if had {
                std::thread::sleep(LINGER);
            }
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Line(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                self.line(redact::text(&text).as_bytes());
            }
            Msg::Access(rec, at) => {
                let line = match self.format {
                    LogFormat::Text => access::text_line(&rec, at, self.ansi),
                    LogFormat::Json => access::json_line(&rec, at),
                };
                self.line(line.as_bytes());
            }
            Msg::Exchange(ex) => self.exchange(&ex),
            Msg::Flush(done) => {
                self.flush();
                let _ = done.send(());
            }
            #[cfg(test)]
            Msg::Pause(paused, resume) => {
                self.flush();
                let _ = paused.send(());
                let _ = resume.recv();
            }
        }
    }

    fn dropped(&self, lines: u64) {
        self.counters.dropped.fetch_add(lines, Ordering::Relaxed);
    }

    fn line(&mut self, line: &[u8]) {
        match &mut self.sink {
            Sink::Stderr(batch) => {
                batch.extend_from_slice(line);
                if batch.len() >= BATCH_BYTES {
                    self.flush();
                }
            }
            Sink::File(file) => match file.write_line(line) {
                Ok(true) => self.clean(),
                Ok(false) => {}
                Err(_) => self.dropped(1),
            },
        }
    }

    fn flush(&mut self) {
        let failed = match &mut self.sink {
            Sink::Stderr(batch) => {
                let result = io::stderr().lock().write_all(batch);
                let lost = result
                    .err()
                    .map(|_| batch.iter().filter(|b| **b == b'\n').count() as u64);
                batch.clear();
                lost
            }
            Sink::File(file) => file.flush().err().map(|_| 1),
        };
        if let Some(lines) = failed {
            self.dropped(lines);
        }
    }

    fn clean(&mut self) {
        if self.max_total_bytes == 0 {
            return;
        }
        let keep = match &self.sink {
            Sink::File(file) => Some(file.path().to_owned()),
            Sink::Stderr(_) => None,
        };
        files::enforce_total_size(&self.dir, self.max_total_bytes, keep.as_deref());
    }

    fn exchange(&mut self, ex: &Exchange) {
        let path = files::exchange_path(
            &self.dir,
            ex.capture.started(),
            &ex.request_id,
            ex.error_log,
        );
        let text = ex.capture.render(&ex.request_id, ex.status, ex.failed);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if written.is_err() {
            self.dropped(1);
            return;
        }
        if ex.error_log {
            files::prune_error_logs(&self.dir, ex.error_logs_max_files);
        }
    }
}
