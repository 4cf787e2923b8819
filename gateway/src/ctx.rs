//! Per-request state (STYLE 2): everything one request needs, created in `new_ctx`.
//!
//! Filters re-run on every failover attempt, so per-attempt fields are reset in
//! `upstream_peer`; per-request fields are set once in `request_filter`.

use crate::bootstrap::{Bootstrap, Downstream};
use crate::errors::GatewayError;
use crate::health::{Health, Outcome};
use crate::protocol::{ClientProtocol, Endpoint};
use crate::routing::Candidate;
use crate::runtime::Runtime;
use crate::translate::{Pair, ResponseMode};
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

/// One upstream attempt, for logs and (later) account health and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub account: usize,
    /// HTTP status the upstream answered, or 0 if there was no response.
    pub status: u16,
    /// Why the attempt failed without a status (Pingora's error type), if it did.
    pub cause: Option<&'static str>,
}

#[derive(Debug)]
pub struct Ctx {
    /// The config snapshot this request runs against, loaded once.
    pub rt: Arc<Runtime>,
    /// Account health; outlives config snapshots.
    pub health: Arc<Health>,
    pub started: Instant,
    /// How errors are rendered; set as soon as the route is known.
    pub protocol: ClientProtocol,
    pub endpoint: Option<Endpoint>,
    /// The model the client asked for.
    pub model: Option<String>,
    /// Where the `model` value sits in the raw body (quotes included).
    pub model_span: Option<Range<usize>>,
    pub stream: bool,
    pub body_len: usize,
    /// Every account the model's plan names, in plan order (each retry round picks from it).
    pub plan: Vec<Candidate>,
    /// Retry round in flight (0: the first pass).
    pub round: u32,
    /// Session affinity key (session id and model), when affinity is on and the client sent one.
    pub affinity_key: Option<String>,
    /// Accounts to try in this round, in order.
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the attempt in flight.
    pub current: Option<usize>,
    /// Replacement `model` literal for the attempt in flight (None: body passes unchanged).
    pub splice: Option<Vec<u8>>,
    /// Set when `upstream_response_filter` rejected a status to fail over.
    pub retry_status: Option<u16>,
    pub attempts: Vec<Attempt>,
    /// An error the gateway answered itself, for the log line.
    pub local_error: Option<GatewayError>,
    /// The client request in the IR, decoded once when some candidate needs translation.
    pub ir: Option<switchyard_translators::ir::Request>,
    /// Gemini stream asked without `alt=sse`: the client wants a JSON array.
    pub gemini_array: bool,
    /// The model name carried a reasoning suffix (`model(high)`): every attempt goes through
    /// the IR, even to an account of the client's own protocol, so the setting reaches the body.
    pub force_ir: bool,
    /// The protocol pair of the attempt in flight, when it is translated.
    pub pair: Option<Pair>,
    /// The translated request body of the attempt in flight.
    pub translated: Option<bytes::Bytes>,
    /// How the response of the attempt in flight is handled.
    pub response: ResponseMode,
    /// Response tasks of the attempt in flight held back from the client (its header while a
    /// stream is bootstrapping or an error body is being judged); see `hold_response_tasks`.
    pub held_tasks: Vec<pingora_core::protocols::http::HttpTask>,
    /// A 400/404/422 of the attempt in flight whose body is being collected to judge it.
    pub judge: Option<(u16, Vec<u8>)>,
    /// Stream bootstrap of the attempt in flight.
    pub bootstrap: Bootstrap,
    /// What the client has received so far (decides whether failover is still invisible).
    pub downstream: Downstream,
    /// The one refresh-and-retry after an OAuth account's 401 (`oauth.rs`).
    pub oauth_retry: crate::oauth::OAuthRetry,
    /// Code Assist host and envelope of the attempt in flight (`codeassist.rs`).
    pub codeassist: crate::codeassist::Attempt,
}

impl Ctx {
    pub fn new(rt: Arc<Runtime>, health: Arc<Health>) -> Self {
        Self {
            rt,
            health,
            started: Instant::now(),
            protocol: ClientProtocol::OpenAi,
            endpoint: None,
            model: None,
            model_span: None,
            stream: false,
            body_len: 0,
            plan: Vec::new(),
            round: 0,
            affinity_key: None,
            candidates: Vec::new(),
            current: None,
            splice: None,
            retry_status: None,
            attempts: Vec::new(),
            local_error: None,
            ir: None,
            gemini_array: false,
            force_ir: false,
            pair: None,
            translated: None,
            response: ResponseMode::Passthrough,
            held_tasks: Vec::new(),
            judge: None,
            bootstrap: Bootstrap::Off,
            downstream: Downstream::Nothing,
            oauth_retry: crate::oauth::OAuthRetry::None,
            codeassist: Default::default(),
        }
    }

    /// The candidate of the attempt in flight.
    pub fn candidate(&self) -> Option<&Candidate> {
        self.current.and_then(|i| self.candidates.get(i))
    }

    /// Whether another account is left to fail over to, in this round or a retry round.
    pub fn has_next(&self) -> bool {
        let in_round = self.current.map_or(!self.candidates.is_empty(), |i| {
            i + 1 < self.candidates.len()
        });
        in_round || self.next_round_wait().is_some()
    }

    /// When this round is used up: the wait before the next one, if it may run.
    pub fn next_round_wait(&self) -> Option<std::time::Duration> {
        crate::pool::next_round_wait(
            &self.rt,
            &self.health,
            &self.plan,
            self.round,
            Instant::now(),
        )
    }

    /// Report how the attempt in flight ended to account health.
    pub fn record_outcome(&self, outcome: Outcome) {
        let Some(c) = self.candidate() else { return };
        let policy = self.rt.cooling_for(c.account);
        let id = &self.rt.accounts[c.account].id;
        if let Some(d) = self
            .health
            .record(id, &c.upstream_model, outcome, policy, Instant::now())
        {
            tracing::info!(account = %id, model = %c.upstream_model, cooldown_secs = d.as_secs_f64(), "account cooling down");
        }
    }

    /// Record the upstream status of the attempt in flight.
    pub fn record_status(&mut self, status: u16) {
        if let Some(a) = self.attempts.last_mut() {
            a.status = status;
        }
    }

    /// Record why the attempt in flight failed, unless it already has a status.
    pub fn record_cause(&mut self, e: &pingora_error::Error) {
        if let Some(a) = self.attempts.last_mut().filter(|a| a.status == 0) {
            a.cause = Some(e.etype().as_str());
        }
    }
}
