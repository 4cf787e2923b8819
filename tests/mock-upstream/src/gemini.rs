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
//! the part with `finishReason: "STOP"`.

use crate::errors::{gemini_error, inband_status};
use crate::ordered;
use crate::ordered::Ordered;
use crate::plan::{crlf_data_event, json_array_events, Planned, GEMINI_JSON, SSE};
use crate::reply::ReplyCtx;
use crate::routes::Protocol;
use crate::schedule::InbandKind;
use crate::tools::ToolCall;

fn usage(ctx: &ReplyCtx<'_>, candidates: u64) -> Ordered {
    ordered!({
        "promptTokenCount": (ctx.input_tokens),
        "candidatesTokenCount": candidates,
        "totalTokenCount": (ctx.input_tokens + candidates),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": (ctx.input_tokens)}]
    })
}

fn chunk(ctx: &ReplyCtx<'_>, id: &str, text: &str, finish: bool, candidates: u64) -> Ordered {
    chunk_of(ctx, id, ordered!({"text": text}), finish, candidates)
}

fn function_call_part(t: &ToolCall) -> Ordered {
    ordered!({"functionCall": {"name": (&t.name), "args": (t.args.clone())}})
}

fn chunk_of(ctx: &ReplyCtx<'_>, id: &str, part: Ordered, finish: bool, candidates: u64) -> Ordered {
    let content = ordered!({"parts": [part], "role": "model"});
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
    if let Some(t) = ctx.tool {
        let body = chunk_of(
            ctx,
            &ctx.ids.gemini_response(),
            function_call_part(t),
            true,
            ctx.output_tokens,
        );
        return Planned::json(200, GEMINI_JSON, body.pretty());
    }
    let body = chunk(
        ctx,
        &ctx.ids.gemini_response(),
        ctx.text,
        true,
        ctx.output_tokens,
    );
    Planned::json(200, GEMINI_JSON, body.pretty())
}

/// `:streamGenerateContent`, SSE when `alt=sse`.
pub fn stream(ctx: &ReplyCtx<'_>, sse: bool) -> Planned {
    let id = ctx.ids.gemini_response();
    if let Some(t) = ctx.tool {
        let n = ctx.output_tokens;
        let chunks = [
            chunk_of(ctx, &id, function_call_part(t), false, n),
            chunk(ctx, &id, "", true, n),
        ];
        return frame(&chunks, sse);
    }
    let last = ctx.pieces.len().saturating_sub(1);
    let mut chunks: Vec<Ordered> = ctx
        .pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| chunk(ctx, &id, piece, i == last, i as u64 + 1))
        .collect();
    if chunks.is_empty() {
        chunks.push(chunk(ctx, &id, "", true, 0));
    }
    frame(&chunks, sse)
}

/// The in-band error stream.
pub fn inband(kind: InbandKind, sse: bool) -> Planned {
    let status = inband_status(kind, Protocol::Gemini);
    frame(&[ordered!({"error": (gemini_error(status, None))})], sse)
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
