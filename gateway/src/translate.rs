//! Cross-protocol requests in the gateway: which wire protocol each side speaks, the
//! translated request body of each attempt, and the response translation state.
//!
//! Runs in `upstream_request_filter` (encode the request for the chosen account),
//! `upstream_response_filter` (pick the response mode) and `response_body_filter` (translate
//! chunk by chunk; synchronous). Same protocol on both sides never comes here: those bytes pass
//! through untouched.

use crate::protocol::encode_path_segment;
use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use switchyard_conf::ProviderKind;
use switchyard_translators::any::{self, StreamTranslator};
use switchyard_translators::ir::{self, EncodeContext, Protocol};
use switchyard_translators::{reasoning, StreamOptions, TranslateError};

/// The wire protocol an account of `kind` speaks.
pub fn upstream_wire(kind: ProviderKind) -> Protocol {
    match kind {
        ProviderKind::Claude => Protocol::Anthropic,
        ProviderKind::Gemini => Protocol::Gemini,
        ProviderKind::Codex => Protocol::OpenAiResponses,
        ProviderKind::OpenAiCompat => Protocol::OpenAiChat,
    }
}

/// The translation of the attempt in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub client: Protocol,
    pub upstream: Protocol,
}

/// Upstream path (after the base URL's path) and query for a translated generation request.
pub fn upstream_path(kind: ProviderKind, model: &str, stream: bool) -> (String, &'static str) {
    match kind {
        ProviderKind::Claude => ("/v1/messages".into(), ""),
        ProviderKind::Codex => ("/responses".into(), ""),
        ProviderKind::OpenAiCompat => ("/chat/completions".into(), ""),
        ProviderKind::Gemini => {
            let method = if stream {
                "streamGenerateContent"
            } else {
                "generateContent"
            };
            let query = if stream { "alt=sse" } else { "" };
            (
                format!("/v1beta/models/{}:{method}", encode_path_segment(model)),
                query,
            )
        }
    }
}

/// The request body for `pair.upstream`, with the account's model name.
///
/// The per-attempt fields are set on `req` for the encoder and restored afterwards, so a
/// failover to an account of another protocol starts from the client's request again, and a
/// large request is never copied just to change its model name.
pub fn encode_request(
    req: &mut ir::Request,
    pair: Pair,
    model: &str,
    stream: bool,
) -> Result<Bytes, TranslateError> {
    let saved_model = std::mem::replace(&mut req.model, model.to_owned());
    let saved_stream = std::mem::replace(&mut req.stream, stream);
    let saved_usage = req.include_usage;
    req.include_usage |= pair.upstream == Protocol::OpenAiChat && stream;
    let saved_mode = req.reasoning.as_ref().map(|r| r.mode);
    if let Some(reasoning) = req.reasoning.as_mut() {
        reasoning.mode = reasoning::for_target(reasoning.mode, pair.upstream);
    }
    let out = any::encode_request(pair.upstream, req).map(Bytes::from);
    req.model = saved_model;
    req.stream = saved_stream;
    req.include_usage = saved_usage;
    if let (Some(reasoning), Some(mode)) = (req.reasoning.as_mut(), saved_mode) {
        reasoning.mode = mode;
    }
    out
}

/// The client's whole response from an aggregated upstream stream (or its error).
pub fn finish_aggregate(
    pair: Pair,
    agg: switchyard_translators::any::StreamAggregator,
    client_model: &str,
) -> Vec<u8> {
    match agg.finish() {
        Ok(mut resp) => {
            resp.model = client_model.to_owned();
            any::encode_response(pair.client, &resp, &mut encode_context())
        }
        Err(err) => any::encode_error(pair.client, &err).1,
    }
}

/// A fresh encoding context: the wall clock and a per-process unique id seed.
pub fn encode_context() -> EncodeContext {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    EncodeContext::new(now.as_secs() as i64, unique_id())
}

/// A per-process unique hex id (response ids, request ids).
pub fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let seed = (now.as_nanos() as u64).rotate_left(17) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{seed:x}")
}

/// How the response of a translated attempt is handled.
#[derive(Default)]
pub enum ResponseMode {
    /// Same protocol: bytes pass through.
    #[default]
    Passthrough,
    /// Stream translated chunk by chunk.
    Stream(Box<StreamState>),
    /// The client asked for one body but the upstream streams: collect, then answer whole.
    Aggregate(Box<switchyard_translators::any::StreamAggregator>),
    /// A whole body is collected, then translated: a response, or an error with its status.
    /// `as_stream`: the client asked for a stream but the upstream answered with one JSON
    /// body; the translated answer is emitted as the client's stream.
    Whole {
        buf: Vec<u8>,
        error_status: Option<u16>,
        as_stream: bool,
    },
    /// An error answer after an earlier attempt's stream header went out: collected, then
    /// sent as the client protocol's stream error event.
    ErrorEvent {
        buf: Vec<u8>,
        status: u16,
        client: Protocol,
        upstream: Protocol,
    },
}

impl std::fmt::Debug for ResponseMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passthrough => f.write_str("Passthrough"),
            Self::Stream(_) => f.write_str("Stream"),
            Self::Aggregate(_) => f.write_str("Aggregate"),
            Self::Whole {
                buf,
                error_status,
                as_stream,
            } => {
                write!(
                    f,
                    "Whole({} bytes, {error_status:?}, stream: {as_stream})",
                    buf.len()
                )
            }
            Self::ErrorEvent { status, .. } => write!(f, "ErrorEvent({status})"),
        }
    }
}

pub struct StreamState {
    translator: StreamTranslator,
}

impl StreamState {
    /// `gemini_array`: a Gemini client that asked without `alt=sse` gets a JSON array.
    pub fn new(pair: Pair, client_model: &str, gemini_array: bool) -> Self {
        let opts = stream_options(client_model);
        let translator = if gemini_array && pair.client == Protocol::Gemini {
            StreamTranslator::gemini_json_array(pair.upstream, encode_context(), opts)
        } else {
            StreamTranslator::new(pair.upstream, pair.client, encode_context(), opts)
        };
        Self { translator }
    }

    pub fn feed(&mut self, chunk: &[u8], eos: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len() + 64);
        self.translator.feed(chunk, &mut out);
        if eos {
            self.translator.finish(&mut out);
        }
        out
    }
}

/// One stream error event in the client's protocol, for a stream that cannot end any other
/// way (a later attempt's error, or a final transport failure after the stream header).
pub fn stream_error_event(client: Protocol, gemini_array: bool, err: &ir::StreamError) -> Vec<u8> {
    let ev = ir::StreamEvent::Error(err.clone());
    any::encode_events(
        client,
        gemini_array,
        &[ev],
        encode_context(),
        StreamOptions::default(),
    )
}

fn stream_options(client_model: &str) -> StreamOptions {
    StreamOptions {
        client_model: Some(client_model.to_owned()),
        include_usage: true,
    }
}

/// A count-tokens answer (`{"totalTokens": n}` from Gemini or Code Assist, `{"input_tokens":
/// n}` from Anthropic) in the client's shape; an answer without a count is a 502 in the
/// client's error shape.
pub fn translate_count(client: Protocol, buf: &[u8]) -> Vec<u8> {
    let n = serde_json::from_slice::<serde_json::Value>(buf)
        .ok()
        .and_then(|v| {
            v.get("totalTokens")
                .or_else(|| v.get("input_tokens"))
                .and_then(serde_json::Value::as_u64)
        });
    match (n, client) {
        (Some(n), Protocol::Gemini) => serde_json::json!({ "totalTokens": n })
            .to_string()
            .into_bytes(),
        (Some(n), _) => serde_json::json!({ "input_tokens": n })
            .to_string()
            .into_bytes(),
        (None, _) => {
            let err = ir::StreamError {
                status: Some(502),
                kind: ir::ErrorKind::Server,
                message: "the upstream's count-tokens answer has no count".into(),
            };
            any::encode_error(client, &err).1
        }
    }
}

/// Translate a whole upstream body (response or error) into the client's protocol.
pub fn translate_whole(
    pair: Pair,
    buf: &[u8],
    error_status: Option<u16>,
    client_model: &str,
    as_stream: bool,
    gemini_array: bool,
) -> Vec<u8> {
    if let Some(status) = error_status {
        let err = any::decode_error(pair.upstream, status, buf);
        return any::encode_error(pair.client, &err).1;
    }
    match any::decode_response(pair.upstream, buf) {
        Ok(mut resp) if as_stream => {
            resp.model = client_model.to_owned();
            let events = switchyard_translators::aggregate::response_events(&resp);
            let opts = stream_options(client_model);
            any::encode_events(pair.client, gemini_array, &events, encode_context(), opts)
        }
        Ok(mut resp) => {
            resp.model = client_model.to_owned();
            any::encode_response(pair.client, &resp, &mut encode_context())
        }
        Err(e) => {
            let err = ir::StreamError {
                status: Some(502),
                kind: ir::ErrorKind::Server,
                message: e.to_string(),
            };
            any::encode_error(pair.client, &err).1
        }
    }
}
