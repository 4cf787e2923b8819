//! Prometheus metrics: the families operators scrape, in one registry of the gateway's own.
//! The names are an interface (dashboards and alerts depend on them); README "Observability"
//! lists them.
//!
//! | family | kind | labels |
//! |---|---|---|
//! | `switchyard_requests_total` | counter | `client_protocol`, `upstream_protocol` (`none`: answered locally), `model`, `code` |
//! | `switchyard_upstream_attempts_total` | counter | `provider`, `code` (`error`: no response) |
//! | `switchyard_failovers_total` | counter | `reason` |
//! | `switchyard_account_cooldowns_total` | counter | `provider`, `reason` |
//! | `switchyard_inflight_requests`, `switchyard_open_streams` | gauge | |
//! | `switchyard_overhead_seconds` | histogram from 10 µs | `phase` |
//! | `switchyard_tokens_total` | counter | `model`, `provider`, `type` |
//! | `gen_ai_client_operation_duration_seconds` | histogram | `gen_ai_operation_name`, `gen_ai_provider_name`, `gen_ai_request_model` |
//! | `gen_ai_client_operation_time_to_first_chunk_seconds` | histogram | same |
//! | `gen_ai_client_token_usage` | histogram | same, `gen_ai_token_type` |
//!
//! Cardinality is bounded: no client key, account, email or token is a label; `model` is a
//! configured model name or `other` (the caller passes [`Runtime::model_label`]), `provider`
//! a channel's fixed label. Per-account series are an opt-in (`metrics.account-labels`).
//!
//! Contract: one `Metrics` per process, shared by every request and config snapshot; the
//! request path only increments (a hash lookup per family, no allocation once a series
//! exists). Runs on the worker that calls it; scrape-time gauges are collected elsewhere.
//!
//! [`Runtime::model_label`]: crate::runtime::Runtime::model_label

#[cfg(test)]
use prometheus::Histogram;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use std::time::Duration;
use switchyard_translators::ir::Usage;

/// The gateway's own time, per phase (`switchyard_overhead_seconds{phase}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    ClientAuth,
    Routing,
    RequestTranslation,
    ResponseTranslation,
}

impl Phase {
    const ALL: [Phase; 4] = [
        Self::ClientAuth,
        Self::Routing,
        Self::RequestTranslation,
        Self::ResponseTranslation,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn label(self) -> &'static str {
        match self {
            Self::ClientAuth => "client_auth",
            Self::Routing => "routing",
            Self::RequestTranslation => "request_translation",
            Self::ResponseTranslation => "response_translation",
        }
    }
}

/// Why a request moved on from an attempt (`switchyard_failovers_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverReason {
    /// 429.
    Quota,
    /// 401, 402, 403.
    Auth,
    /// 408, 5xx.
    Server,
    /// No response: connect, TLS, timeout, reset.
    Transport,
    /// An in-band error before the stream's first content.
    InBand,
    /// A "model not supported" answer.
    ModelNotSupported,
    /// A refresh-and-retry after a 401, or the channel's next host.
    Retry,
}

impl FailoverReason {
    fn label(self) -> &'static str {
        match self {
            Self::Quota => "quota",
            Self::Auth => "auth",
            Self::Server => "server",
            Self::Transport => "transport",
            Self::InBand => "in_band",
            Self::ModelNotSupported => "model_not_supported",
            Self::Retry => "retry",
        }
    }
}

/// One finished client request.
#[derive(Debug)]
pub struct RequestObservation<'a> {
    /// `openai_chat`, `openai_completions`, `openai_responses`, `anthropic`, `gemini`.
    pub client_protocol: &'static str,
    /// The last attempt's upstream protocol, `none` when no upstream was called.
    pub upstream_protocol: &'static str,
    /// A configured model name or `other`.
    pub model: &'a str,
    /// The final status the client got.
    pub code: u16,
    /// The provider label of the account that answered (`none`: no attempt).
    pub provider: &'static str,
    /// OpenTelemetry's provider name for it (`anthropic`, `openai`, `gcp.gemini`, ...).
    pub gen_ai_provider: &'static str,
    /// `chat`, or `count_tokens`.
    pub operation: &'static str,
    pub duration: Duration,
    /// Time to the first content event of a stream.
    pub first_chunk: Option<Duration>,
    pub usage: Option<Usage>,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    attempts: IntCounterVec,
    failovers: IntCounterVec,
    cooldowns: IntCounterVec,
    inflight: IntGauge,
    open_streams: IntGauge,
    /// `switchyard_overhead_seconds`' series of each [`Phase`], resolved once (no label lookup per request).
    overhead_by_phase: [prometheus::Histogram; 4],
    tokens: IntCounterVec,
    gen_ai_duration: HistogramVec,
    gen_ai_first_chunk: HistogramVec,
    gen_ai_tokens: HistogramVec,
    /// Per-account attempts, when `metrics.account-labels` is on.
    account_attempts: Option<IntCounterVec>,
    /// Whether the request path counts at all: `metrics.listen` is set. Off, every method
    /// below returns at once (nobody can scrape what it would count).
    on: bool,
}

/// Overhead buckets: 10 µs to about 0.3 s.
fn overhead_buckets() -> Vec<f64> {
    prometheus::exponential_buckets(0.000_01, 2.0, 16).unwrap_or_default()
}

/// OpenTelemetry GenAI's advisory buckets for operation durations (seconds).
const DURATION_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/// OpenTelemetry GenAI's advisory buckets for token counts.
const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];
const GEN_AI_LABELS: [&str; 3] = [
    "gen_ai_operation_name",
    "gen_ai_provider_name",
    "gen_ai_request_model",
];

impl Metrics {
    /// The families, registered in a fresh registry. `account_labels`: also count attempts per
    /// account id.
    /// The families, registered; `on`: whether the request path counts (see [`Metrics::on`]).
    pub fn new(on: bool, account_labels: bool) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>, labels: &[&str]| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)?;
            registry.register(Box::new(h.clone()))?;
            Ok::<_, prometheus::Error>(h)
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok::<_, prometheus::Error>(g)
        };
        let token_labels = [&GEN_AI_LABELS[..], &["gen_ai_token_type"]].concat();
        let overhead = histogram(
            "switchyard_overhead_seconds",
            "The gateway's own time per request, by phase.",
            overhead_buckets(),
            &["phase"],
        )?;
        Ok(Self {
            requests: counter(
                "switchyard_requests_total",
                "Client requests, by client and upstream protocol, model and final status.",
                &["client_protocol", "upstream_protocol", "model", "code"],
            )?,
            attempts: counter(
                "switchyard_upstream_attempts_total",
                "Upstream attempts, by provider and status (error: no response).",
                &["provider", "code"],
            )?,
            failovers: counter(
                "switchyard_failovers_total",
                "Requests moved from one attempt to the next, by reason.",
                &["reason"],
            )?,
            cooldowns: counter(
                "switchyard_account_cooldowns_total",
                "Cooldowns started, by provider and reason.",
                &["provider", "reason"],
            )?,
            inflight: gauge(
                "switchyard_inflight_requests",
                "Client requests being served.",
            )?,
            open_streams: gauge(
                "switchyard_open_streams",
                "Streams whose first bytes reached the client and which are still open.",
            )?,
            tokens: counter(
                "switchyard_tokens_total",
                "Tokens the upstreams reported, by model, provider and type.",
                &["model", "provider", "type"],
            )?,
            gen_ai_duration: histogram(
                "gen_ai_client_operation_duration_seconds",
                "GenAI operation duration (OpenTelemetry GenAI semantic conventions).",
                DURATION_BUCKETS.to_vec(),
                &GEN_AI_LABELS,
            )?,
            gen_ai_first_chunk: histogram(
                "gen_ai_client_operation_time_to_first_chunk_seconds",
                "Time to the first content chunk of a streamed GenAI operation.",
                DURATION_BUCKETS.to_vec(),
                &GEN_AI_LABELS,
            )?,
            gen_ai_tokens: histogram(
                "gen_ai_client_token_usage",
                "Tokens per GenAI operation, by token type (input, output).",
                TOKEN_BUCKETS.to_vec(),
                &token_labels,
            )?,
            account_attempts: if account_labels {
                Some(counter(
                    "switchyard_account_attempts_total",
                    "Upstream attempts per account (metrics.account-labels).",
                    &["account", "code"],
                )?)
            } else {
                None
            },
            overhead_by_phase: Phase::ALL.map(|p| overhead.with_label_values(&[p.label()])),
            registry,
            on,
        })
    }

    /// The registry, for the scrape endpoint and scrape-time collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// One finished client request.
    /// `switchyard_inflight_requests` by `delta`.
    pub fn inflight(&self, delta: i64) {
        if self.on {
            self.inflight.add(delta);
        }
    }

    /// `switchyard_open_streams` by `delta`.
    pub fn open_streams(&self, delta: i64) {
        if self.on {
            self.open_streams.add(delta);
        }
    }

    pub fn request(&self, r: &RequestObservation<'_>) {
        if !self.on {
            return;
        }
        let code = status_label(r.code);
        self.requests
            .with_label_values(&[r.client_protocol, r.upstream_protocol, r.model, code])
            .inc();
        if r.upstream_protocol == "none" {
            return;
        }
        let gen_ai = [r.operation, r.gen_ai_provider, r.model];
        self.gen_ai_duration
            .with_label_values(&gen_ai)
            .observe(r.duration.as_secs_f64());
        if let Some(d) = r.first_chunk {
            self.gen_ai_first_chunk
                .with_label_values(&gen_ai)
                .observe(d.as_secs_f64());
        }
        let Some(u) = &r.usage else {
            return;
        };
        for (kind, n) in [
            ("input", u.input_tokens),
            ("output", u.output_tokens),
            ("cache_read", u.cache_read_tokens),
            ("cache_write", u.cache_write_tokens),
            ("reasoning", u.reasoning_tokens),
        ] {
            if n > 0 {
                self.tokens
                    .with_label_values(&[r.model, r.provider, kind])
                    .inc_by(n);
            }
        }
        for (kind, n) in [("input", u.input_tokens), ("output", u.output_tokens)] {
            self.gen_ai_tokens
                .with_label_values(&[r.operation, r.gen_ai_provider, r.model, kind])
                .observe(n as f64);
        }
    }

    /// One upstream attempt (`status` 0: no response).
    pub fn attempt(&self, provider: &str, account: &str, status: u16) {
        if !self.on {
            return;
        }
        let code = if status == 0 {
            "error"
        } else {
            status_label(status)
        };
        self.attempts.with_label_values(&[provider, code]).inc();
        if let Some(per_account) = &self.account_attempts {
            per_account.with_label_values(&[account, code]).inc();
        }
    }

    pub fn failover(&self, reason: FailoverReason) {
        if !self.on {
            return;
        }
        self.failovers.with_label_values(&[reason.label()]).inc();
    }

    pub fn cooldown(&self, provider: &str, reason: &str) {
        if !self.on {
            return;
        }
        self.cooldowns.with_label_values(&[provider, reason]).inc();
    }

    pub fn overhead(&self, phase: Phase, d: Duration) {
        if !self.on {
            return;
        }
        self.overhead_by_phase[phase.index()].observe(d.as_secs_f64());
    }

    /// A histogram of one phase, for tests.
    #[cfg(test)]
    fn overhead_of(&self, phase: Phase) -> Histogram {
        self.overhead_by_phase[phase.index()].clone()
    }
}

/// The status as a label without allocating: the common ones are static strings.
fn status_label(code: u16) -> &'static str {
    match code {
        0 => "0",
        200 => "200",
        400 => "400",
        401 => "401",
        402 => "402",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        422 => "422",
        429 => "429",
        499 => "499",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        529 => "529",
        other => match other / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::Encoder;

    fn text(m: &Metrics) -> String {
        let mut out = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&m.registry().gather(), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_request_counts_once_with_its_tokens() {
        let m = Metrics::new(true, false).unwrap();
        m.request(&RequestObservation {
            client_protocol: "anthropic",
            upstream_protocol: "openai_chat",
            model: "gpt-x",
            code: 200,
            provider: "openai-compatible",
            gen_ai_provider: "openai",
            operation: "chat",
            duration: Duration::from_millis(120),
            first_chunk: Some(Duration::from_millis(30)),
            usage: Some(Usage {
                input_tokens: 11,
                output_tokens: 7,
                ..Usage::default()
            }),
        });
        let t = text(&m);
        assert!(t.contains(r#"switchyard_requests_total{client_protocol="anthropic",code="200",model="gpt-x",upstream_protocol="openai_chat"} 1"#), "{t}");
        assert!(t.contains(r#"switchyard_tokens_total{model="gpt-x",provider="openai-compatible",type="input"} 11"#), "{t}");
        assert!(t.contains(r#"gen_ai_client_operation_time_to_first_chunk_seconds_count{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-x"} 1"#), "{t}");
        assert!(!t.contains("switchyard_account_attempts_total"));
    }

    #[test]
    fn local_answers_count_without_gen_ai_series() {
        let m = Metrics::new(true, true).unwrap();
        m.request(&RequestObservation {
            client_protocol: "openai_chat",
            upstream_protocol: "none",
            model: "other",
            code: 401,
            provider: "none",
            gen_ai_provider: "none",
            operation: "chat",
            duration: Duration::ZERO,
            first_chunk: None,
            usage: None,
        });
        m.attempt("claude", "claude-api-key[0]", 0);
        m.overhead(Phase::Routing, Duration::from_micros(15));
        let t = text(&m);
        assert!(t.contains(r#"code="401",model="other",upstream_protocol="none"} 1"#));
        assert!(!t.contains("gen_ai_client_operation_duration_seconds_count"));
        assert!(
            t.contains(r#"switchyard_upstream_attempts_total{code="error",provider="claude"} 1"#)
        );
        assert!(t.contains(
            r#"switchyard_account_attempts_total{account="claude-api-key[0]",code="error"} 1"#
        ));
        assert_eq!(m.overhead_of(Phase::Routing).get_sample_count(), 1);
    }

    #[test]
    fn status_labels_are_static_and_bounded() {
        assert_eq!(status_label(200), "200");
        assert_eq!(status_label(206), "2xx");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
    }
}
