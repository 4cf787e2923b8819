//! The refresh service: holds every OAuth account of `auth-dir`, hands out current access
//! tokens, and refreshes them in the background.
//!
//! Contract:
//! - Single flight per account: one refresh at a time; [`Refresher::token`] waits for a
//!   refresh in progress instead of starting one; [`Refresher::refresh_after_401`] started by
//!   many requests that saw the same stale token performs one grant.
//! - A rotated refresh token is written to the file (atomically) before the new tokens are
//!   used or returned; the in-memory copy changes only after the write.
//! - `invalid_grant` marks the account unusable with a status and one warning line (its id,
//!   never a token); it is never retried until its file changes. Other failures back off
//!   ([`schedule::backoff`]).
//! - A renewal is per provider ([`grant`]): the refresh-token grant (JSON first for Claude,
//!   Kimi's device headers), iFlow's API-key re-fetch after it, Vertex's JWT-bearer grant
//!   from the service-account key (a Vertex file without a token gets one on first use).
//! - Each grant goes through the account's route ([`crate::egress`]): the file's `proxy_url`,
//!   else the global `proxy-url` ([`Refresher::set_proxy_url`] after a config reload), on one
//!   client per route built at first use. A route that does not parse fails the grant; it never
//!   falls back to another way out.
//! - The credential handed out is the access token, or iFlow's API key.
//! - Every finished grant counts once per provider, `ok` or `error`
//!   ([`Refresher::refresh_counts`]); [`Refresher::refreshing`] says whether a grant of an
//!   account is on the wire now. Both are for metrics and read without waiting.
//! - Between processes sharing `auth-dir`: one refreshes a token, the others adopt what it
//!   wrote, through a lock per account ([`coordinate`]; a process alone uses [`LocalLock`]).
//! - Background work runs on at most `workers` concurrent refreshes. Timing rules live in
//!   [`schedule`] and take the clock as an argument.

pub mod coordinate;
mod grant;
pub(crate) mod schedule;
mod service;

pub use coordinate::{Coordination, Lease, LocalLock, LockAttempt, LockEvent, RefreshLock};
pub use service::{AccountStatus, Clock, RefreshCounts, Refresher, SystemClock};
