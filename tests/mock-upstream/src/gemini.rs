//! Gemini `generateContent` encoders.
//!
//! Shapes follow `shared/fixtures/upstream/gemini/`. Each stream chunk is
//! `{"candidates":[{"content":{"parts":[{"text":piece}],"role":"model"},"index":0}],
//! "usageMetadata":{...},"modelVersion":model,"responseId":id}`; the chunk with the last piece
//! also carries `finishReason: "STOP"` (an empty reply sends one chunk with `""`). With `alt=sse`
//! chunks are compact `data: {json}\r\n\r\n` events; without it the stream is one JSON array
//! written element by element, pretty-printed, the way the real API does. The in-band error is
//! an `{"error":{"code":503,"message":..,"status":"UNAVAILABLE"}}` element/event.
//!
//! A tool call (`MOCK_TOOL`) is one `functionCall` part with the whole `args` object (the
//! Gemini API does not stream arguments in pieces): a stream sends it in one chunk, then a
//! last chunk with an empty text part and `finishReason: "STOP"` (the tool stop reason
//! Gemini uses), as `gemini/google-tool-call-gemini3.chunks.txt` does; `generateContent` sends
//! the part with `finishReason: "STOP"`. Parallel calls are several `functionCall` parts in
//! that one chunk. Extras ([`crate::extras`]) add, in a chunk of their own before the answer, a
//! `thought: true` part with a `thoughtSignature` and an unknown `mockFuturePart` part;
//! `MOCK_CACHE_USAGE` adds `cachedContentTokenCount` and `thoughtsTokenCount`.

use crate::errors::{gemini_error, inband_status};
use crate::extras::THOUGHT_SIGNATURE;
use crate::ordered;
use crate::ordered::Ordered;
use crate::plan::{crlf_data_event, json_array_events, Planned, GEMINI_JSON, SSE};
use crate::reply::ReplyCtx;
use crate::routes::Protocol;
use crate::schedule::InbandKind;
use crate::tools::ToolCall;

fn usage(ctx: &ReplyCtx<'_>, candidates: u64) -> Ordered {
    let u = ctx.usage;
    let thoughts = u.reasoning;
    let mut fields = vec![
        ("promptTokenCount", Ordered::from(u.prompt())),
        ("candidatesTokenCount", Ordered::from(candidates)),
        (
            "totalTokenCount",
            Ordered::from(u.prompt() + candidates + thoughts),
        ),
    ];
    if u.cache_read > 0 {
        fields.push(("cachedContentTokenCount", Ordered::from(u.cache_read)));
    }
    fields.push((
        "promptTokensDetails",
        ordered!([{"modality": "TEXT", "tokenCount": (u.prompt())}]),
    ));
    if thoughts > 0 {
        fields.push(("thoughtsTokenCount", Ordered::from(thoughts)));
    }
    Ordered::Obj(fields)
}

fn function_call_part(t: &ToolCall) -> Ordered {
    ordered!({"functionCall": {"name": (&t.name), "args": (t.args.clone())}})
}

fn chunk_of(
    ctx: &ReplyCtx<'_>,
    id: &str,
    parts: Vec<Ordered>,
    finish: bool,
    candidates: u64,
) -> Ordered {
    let content = ordered!({"parts": (Ordered::Arr(parts)), "role": "model"});
    let candidate = if finish {
        ordered!({"content": content, "finishReason": "STOP", "index": 0})
    } else {
        ordered!({"content": content, "index": 0})
    };
    ordered!({
        "candidates": [candidate],
        "usageMetadata": (usage(ctx, candidates)),
        "modelVersion": (ctx.model),
        "responseId": id
    })
}

fn text_part(text: &str) -> Ordered {
    ordered!({"text": text})
}

/// The parts before the answer: the thought (`MOCK_THINK`) and the unknown part
/// (`MOCK_UNKNOWN`).
fn leading_parts(ctx: &ReplyCtx<'_>) -> Vec<Ordered> {
    let mut out = Vec::new();
    if let Some(thinking) = &ctx.extras.thinking {
        out.push(
            ordered!({"text": thinking, "thought": true, "thoughtSignature": THOUGHT_SIGNATURE}),
        );
    }
    if ctx.extras.unknown {
        out.push(ordered!({"mockFuturePart": {"note": "a part type from the future"}}));
    }
    out
}

fn frame(chunks: &[Ordered], sse: bool) -> Planned {
    if sse {
        Planned::stream(
            SSE,
            chunks
                .iter()
                .map(|c| crlf_data_event(&c.compact()))
                .collect(),
        )
    } else {
        let pretty: Vec<String> = chunks.iter().map(Ordered::pretty).collect();
        Planned::stream(GEMINI_JSON, json_array_events(&pretty))
    }
}

/// `:generateContent`.
pub fn generate(ctx: &ReplyCtx<'_>) -> Planned {
    let mut parts = leading_parts(ctx);
    if ctx.tools.is_empty() {
        parts.push(text_part(ctx.text));
    } else {
        parts.extend(ctx.tools.iter().map(function_call_part));
    }
    let body = chunk_of(
        ctx,
        &ctx.ids.gemini_response(),
        parts,
        true,
        ctx.output_tokens,
    );
    Planned::json(200, GEMINI_JSON, body.pretty())
}

/// `:streamGenerateContent`, SSE when `alt=sse`. The leading parts come in a chunk of their
/// own; parallel calls are all in one chunk.
pub fn stream(ctx: &ReplyCtx<'_>, sse: bool) -> Planned {
    let id = ctx.ids.gemini_response();
    let mut chunks = Vec::new();
    let leading = leading_parts(ctx);
    if !leading.is_empty() {
        chunks.push(chunk_of(ctx, &id, leading, false, 0));
    }
    if !ctx.tools.is_empty() {
        let n = ctx.output_tokens;
        let calls = ctx.tools.iter().map(function_call_part).collect();
        chunks.push(chunk_of(ctx, &id, calls, false, n));
        chunks.push(chunk_of(ctx, &id, vec![text_part("")], true, n));
        return frame(&chunks, sse);
    }
    let last = ctx.pieces.len().saturating_sub(1);
    chunks.extend(
        ctx.pieces
            .iter()
            .enumerate()
            .map(|(i, piece)| chunk_of(ctx, &id, vec![text_part(piece)], i == last, i as u64 + 1)),
    );
    if ctx.pieces.is_empty() {
        chunks.push(chunk_of(ctx, &id, vec![text_part("")], true, 0));
    }
    frame(&chunks, sse)
}

/// The in-band error element (`{"error": {...}}`), also used mid-stream.
pub fn error_element(kind: InbandKind) -> Ordered {
    let status = inband_status(kind, Protocol::Gemini);
    ordered!({"error": (gemini_error(status, None))})
}

/// The in-band error as the stream's element after `index` others (`index` >= 1 for the JSON
/// array: it continues the array and closes it).
pub fn error_event(kind: InbandKind, sse: bool, index: usize) -> bytes::Bytes {
    let element = error_element(kind);
    if sse {
        crlf_data_event(&element.compact())
    } else {
        let sep = if index == 0 { "[" } else { ",\r\n" };
        bytes::Bytes::from(format!("{sep}{}\n]", element.pretty()))
    }
}

/// The in-band error stream.
pub fn inband(kind: InbandKind, sse: bool) -> Planned {
    frame(&[error_element(kind)], sse)
}

/// `:countTokens`.
pub fn count_tokens(ctx: &ReplyCtx<'_>) -> Planned {
    let body = ordered!({
        "totalTokens": (ctx.input_tokens),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": (ctx.input_tokens)}]
    });
    Planned::json(200, GEMINI_JSON, body.pretty())
}

/// `GET /v1beta/models`.
pub fn models() -> Planned {
    let model = |name: &str, display: &str| {
        ordered!({
            "name": name, "version": "001", "displayName": display,
            "inputTokenLimit": 1_048_576, "outputTokenLimit": 65_536,
            "supportedGenerationMethods": ["generateContent", "countTokens"]
        })
    };
    let body = ordered!({
        "models": [
            (model("models/gemini-2.5-flash", "Gemini 2.5 Flash")),
            (model("models/gemini-2.5-pro", "Gemini 2.5 Pro")),
            (model("models/gemini-3-pro-preview", "Gemini 3 Pro Preview"))
        ]
    });
    Planned::json(200, GEMINI_JSON, body.pretty())
}
