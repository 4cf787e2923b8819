//! Per-request state (STYLE 2, 20): everything one request needs, created in `new_ctx`.
//!
//! Three parts with three lifetimes: [`RequestState`] is set once in `request_filter`;
//! [`Failover`] is the queue of accounts and the log of attempts; [`AttemptState`] belongs to
//! the attempt in flight and is replaced whole when the next one starts (Pingora re-runs the
//! filters on every failover attempt). What the client has received ([`Downstream`]) spans
//! attempts.

use crate::channels::codeassist::Rewrap;
use crate::errors::GatewayError;
use crate::failover::Failover;
use crate::health::Outcome;
use crate::in_flight::InFlightGuard;
use crate::logs::Capture;
use crate::outgoing::OutBody;
use crate::protocol::Endpoint;
use crate::runtime::Runtime;
use crate::shared::Shared;
use crate::stream_hold::{Downstream, StreamHold};
use crate::translate::{Pair, ResponseMode};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_translators::ir::{self, Protocol};
use switchyard_translators::openai_chat::usage_chunk::UsageChunkFilter;
use switchyard_translators::usage::UsageScanner;

/// What the request asks for, decided once in `request_filter`.
#[derive(Debug, Default)]
pub struct RequestState {
    pub endpoint: Option<Endpoint>,
    /// The model the client asked for (after its reasoning suffix came off).
    pub model: Option<String>,
    /// Where the `model` value sits in the raw body (quotes included).
    pub model_span: Option<Range<usize>>,
    pub stream: bool,
    pub body_len: usize,
    /// The client request in the IR, decoded once when some candidate needs translation.
    pub ir: Option<ir::Request>,
    /// Gemini stream asked without `alt=sse`: the client wants a JSON array.
    pub gemini_array: bool,
    /// Every attempt goes through the IR, even to an account of the client's own protocol (a
    /// reasoning suffix, a fallback model, the local Gemini CLI endpoint).
    pub force_ir: bool,
    /// The request came to the local `/v1internal:*` endpoint (`gemini_cli_endpoint.rs`).
    pub gemini_cli_local: bool,
    /// Session affinity key (session id and model), when affinity is on and the client sent one.
    pub affinity_key: Option<String>,
    /// The client asked for OpenAI Chat's `stream_options.include_usage`.
    pub include_usage: bool,
    /// The body has a top-level `stream_options` (`BodyFacts::stream_options`).
    pub stream_options: bool,
    /// A model API request (not a local route such as `/healthz` or `/v1/models`): counted in
    /// usage statistics.
    pub api: bool,
    /// This request's share of `max-in-flight-memory` (given back with the context).
    pub memory: Option<crate::in_flight::Reservation>,
    /// A management API call (`/v0/management`): never in access records, request logs or
    /// usage statistics.
    pub management: bool,
}

/// A 400/404/422 whose body is being collected to judge whose problem it is.
#[derive(Debug)]
pub struct Judged {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The attempt in flight. A new attempt is `ctx.attempt = AttemptState::new(host, guard)`.
#[derive(Debug, Default)]
pub struct AttemptState {
    /// Index into the account's hosts (`Channel::next_host`).
    pub host: usize,
    /// The first hop's address in flight (the upstream's, or its proxy's), the addresses that
    /// already refused this request on this account and host (empty but after a connect
    /// failure, so nothing is allocated per request), and how many the name has (dns.rs).
    pub addr: Option<std::net::SocketAddr>,
    pub tried: Vec<std::net::SocketAddr>,
    pub addresses: usize,
    /// The body `request_body_filter` sends.
    pub body: OutBody,
    /// The protocol pair, when the attempt is translated.
    pub pair: Option<Pair>,
    /// How the response is handled.
    pub response: ResponseMode,
    /// Response tasks held back from the client (the header while a stream is held or an
    /// error body is judged); see `hold_response_tasks`.
    pub held_tasks: Vec<pingora_core::protocols::http::HttpTask>,
    pub judged: Option<Judged>,
    pub hold: StreamHold,
    /// Set when `upstream_response_filter` rejected a status to fail over.
    pub retry_status: Option<u16>,
    /// The channel's envelope taken off the response.
    pub unwrap: Rewrap,
    /// The envelope put around the answer for a local Gemini CLI caller.
    pub wrap: Rewrap,
    /// Reads the usage the upstream reports from its own bytes (every body, translated or not).
    pub usage: Option<Box<UsageScanner>>,
    /// The gateway asked for `include_usage` the client did not: the usage chunk is kept out
    /// of the client's stream.
    pub asked_usage: bool,
    pub usage_chunk: Option<UsageChunkFilter>,
    /// Counts this attempt on its account until the next attempt replaces it or the request
    /// ends.
    #[expect(dead_code, reason = "held for its Drop, never read")]
    pub in_flight: Option<InFlightGuard>,
}

/// What the gateway measures of a request: for `Server-Timing`, metrics, logs and usage.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// `X-Request-Id`: the client's when well-formed, else generated.
    pub request_id: String,
    /// A short hash of the client key (`None`: no key configured or presented).
    pub key_id: Option<String>,
    /// `server-timing` is on.
    pub server_timing: bool,
    /// Client authentication.
    pub auth: Duration,
    /// Routing: body inspection, the plan, decoding into the IR (not waiting for the body).
    pub route: Duration,
    /// Request translation, summed over attempts.
    pub translate_request: Duration,
    /// Response translation, summed over chunks.
    pub translate_response: Duration,
    /// When the attempt in flight sent its request.
    pub sent: Option<Instant>,
    /// Time to the response header of the attempt that answered.
    pub upstream: Option<Duration>,
    /// Time from the request's start to the first content sent to a streaming client.
    pub first_chunk: Option<Duration>,
    /// Tokens the upstream reported (summed over the attempts that reported any).
    pub usage: Option<ir::Usage>,
    /// Counted in `switchyard_inflight_requests`.
    pub inflight: bool,
    /// Counted in `switchyard_open_streams`.
    pub stream_open: bool,
    /// Body bytes sent to the client.
    pub bytes_out: u64,
}

impl Observed {
    /// The `Server-Timing` value: what is known when the response header goes out.
    /// Milliseconds with three decimals (microseconds), written without the float formatter.
    pub fn server_timing(&self) -> String {
        let mut v = String::with_capacity(96);
        let mut entry = |name: &str, d: Duration| {
            if !v.is_empty() {
                v.push_str(", ");
            }
            v.push_str(name);
            v.push_str(";dur=");
            let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
            v.push_str(itoa::Buffer::new().format(us / 1000));
            v.push('.');
            let frac = us % 1000;
            v.push(char::from(b'0' + (frac / 100) as u8));
            v.push(char::from(b'0' + (frac / 10 % 10) as u8));
            v.push(char::from(b'0' + (frac % 10) as u8));
        };
        entry("auth", self.auth);
        entry("route", self.route);
        entry("translate", self.translate_request);
        if let Some(u) = self.upstream {
            entry("upstream", u);
        }
        v
    }

    /// Adds one attempt's reported usage.
    pub fn add_usage(&mut self, u: ir::Usage) {
        let total = self.usage.get_or_insert_with(ir::Usage::default);
        total.input_tokens += u.input_tokens;
        total.output_tokens += u.output_tokens;
        total.cache_read_tokens += u.cache_read_tokens;
        total.cache_write_tokens += u.cache_write_tokens;
        total.reasoning_tokens += u.reasoning_tokens;
    }
}

impl AttemptState {
    pub fn new(host: usize, in_flight: InFlightGuard) -> Self {
        Self {
            host,
            in_flight: Some(in_flight),
            ..Self::default()
        }
    }
}

#[derive(Debug)]
pub struct Ctx {
    /// The config snapshot this request runs against, loaded once.
    pub rt: Arc<Runtime>,
    /// Account health, session bindings and metrics; outlive config snapshots.
    pub shared: Arc<Shared>,
    pub started: Instant,
    /// How errors are rendered; set as soon as the route is known.
    pub protocol: Protocol,
    pub req: RequestState,
    pub failover: Failover,
    pub attempt: AttemptState,
    /// What the client has received so far (decides whether failover is still invisible).
    pub downstream: Downstream,
    /// An error the gateway answered itself, for the log line.
    pub local_error: Option<GatewayError>,
    pub obs: Observed,
    /// The whole exchange, kept when `request-log` is on (`logs::Capture`).
    pub capture: Option<Capture>,
    /// This request in the count of requests in flight (what a SIGTERM waits for).
    _counted: InFlightGuard,
}

impl Ctx {
    pub fn new(rt: Arc<Runtime>, shared: Arc<Shared>) -> Self {
        let counted = shared.in_flight.request();
        Self {
            rt,
            shared,
            started: Instant::now(),
            protocol: Protocol::OpenAiChat,
            req: RequestState::default(),
            failover: Failover::default(),
            attempt: AttemptState::default(),
            downstream: Downstream::Nothing,
            local_error: None,
            obs: Observed::default(),
            capture: None,
            _counted: counted,
        }
    }

    /// Whether another account is left to fail over to, in this round or a retry round.
    pub fn has_next(&self) -> bool {
        self.failover.has_next(&self.rt, &self.shared.health)
    }

    /// Whether the attempt in flight may still be replaced by another account.
    pub fn may_fail_over(&self) -> bool {
        self.downstream.can_fail_over() && self.has_next()
    }

    /// Report how the attempt in flight ended to account health.
    /// Keep the upstream's message with the cooldown the last outcome started on the current
    /// candidate (see [`crate::health::Health::explain`]).
    pub fn explain_cooldown(&self, message: &str) {
        if let Some(c) = self.failover.candidate() {
            let id = &self.rt.accounts[c.account].id;
            self.shared.health.explain(id, &c.upstream_model, message);
        }
    }

    pub fn record_outcome(&self, outcome: Outcome) {
        let Some(c) = self.failover.candidate() else {
            return;
        };
        let policy = self.rt.cooling_for(c.account);
        let account = &self.rt.accounts[c.account];
        let id = &account.id;
        if let Some((d, reason)) =
            self.shared
                .health
                .record(id, &c.upstream_model, outcome, policy, Instant::now())
        {
            let provider = account.channel.provider_label(account.kind);
            self.shared.metrics.cooldown(provider, reason);
            if let Some(replica) = &self.shared.replica {
                replica.cooldown(id, &c.upstream_model, reason, d);
            }
            tracing::info!(request_id = %self.obs.request_id, account = %id, model = %c.upstream_model, cooldown_secs = d.as_secs_f64(), reason, "account cooling down");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_is_milliseconds_with_three_decimals() {
        let obs = Observed {
            auth: Duration::from_micros(7),
            route: Duration::from_micros(1_234),
            translate_request: Duration::ZERO,
            upstream: Some(Duration::from_micros(12_345_678)),
            ..Observed::default()
        };
        assert_eq!(
            obs.server_timing(),
            "auth;dur=0.007, route;dur=1.234, translate;dur=0.000, upstream;dur=12345.678"
        );
        let none = Observed::default();
        assert_eq!(
            none.server_timing(),
            "auth;dur=0.000, route;dur=0.000, translate;dur=0.000"
        );
    }
}
