//! Anthropic Messages encoders.
//!
//! Shapes follow `shared/fixtures/upstream/anthropic-messages/anthropic-text.*`. A stream is
//! `message_start` (usage with the input tokens and `output_tokens: 1`), `content_block_start`
//! (text, index 0), `ping`, one `content_block_delta`/`text_delta` per piece,
//! `content_block_stop`, `message_delta` (`stop_reason: "end_turn"`, cumulative usage),
//! `message_stop`, each with its `event:` line. A tool call (`MOCK_TOOL`) is one `tool_use`
//! block instead (`input: {}` at the start, then `input_json_delta`s: an empty one, as real
//! streams send, then the argument fragments) and `stop_reason: "tool_use"`; parallel calls
//! are one such block after the other. Extras ([`crate::extras`]) add a `thinking` block
//! (`thinking_delta`s, then one `signature_delta`) and a `redacted_thinking` block, and an
//! unknown `mock_future_block`, before the answer. The in-band error is `event: error` with
//! `{"type":"error","error":{"type":"overloaded_error",...}}`, as the first event or after
//! some events (`after_events`).

use crate::errors::{anthropic_error, inband_status};
use crate::extras::{REDACTED_DATA, THINKING_SIGNATURE};
use crate::ordered;
use crate::ordered::Ordered;
use crate::plan::{named_event, Planned, JSON, SSE};
use crate::reply::ReplyCtx;
use crate::routes::Protocol;
use crate::schedule::InbandKind;
use bytes::Bytes;

fn usage(ctx: &ReplyCtx<'_>, output_tokens: u64) -> Ordered {
    let u = ctx.usage;
    ordered!({
        "input_tokens": (u.base_input),
        "cache_creation_input_tokens": (u.cache_write),
        "cache_read_input_tokens": (u.cache_read),
        "cache_creation": {"ephemeral_5m_input_tokens": (u.cache_write), "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard"
    })
}

fn message(
    ctx: &ReplyCtx<'_>,
    id: &str,
    content: Ordered,
    stop: Option<&str>,
    usage: Ordered,
) -> Ordered {
    ordered!({
        "model": (ctx.model), "id": id, "type": "message", "role": "assistant",
        "content": content, "stop_reason": stop, "stop_sequence": null, "usage": usage
    })
}

/// One content block: its `content_block_start` form, its deltas, and its whole form.
struct Block {
    start: Ordered,
    deltas: Vec<Ordered>,
    whole: Ordered,
}

/// The blocks of an answer, in order: thinking, redacted thinking, an unknown block, then the
/// text or the tool calls.
fn blocks(ctx: &ReplyCtx<'_>) -> Vec<Block> {
    let mut out = Vec::new();
    if let Some(thinking) = &ctx.extras.thinking {
        let mut deltas: Vec<Ordered> = ctx
            .thinking_pieces()
            .into_iter()
            .map(|p| ordered!({"type": "thinking_delta", "thinking": p}))
            .collect();
        deltas.push(ordered!({"type": "signature_delta", "signature": THINKING_SIGNATURE}));
        out.push(Block {
            start: ordered!({"type": "thinking", "thinking": "", "signature": ""}),
            deltas,
            whole: ordered!({"type": "thinking", "thinking": thinking, "signature": THINKING_SIGNATURE}),
        });
        let redacted = ordered!({"type": "redacted_thinking", "data": REDACTED_DATA});
        out.push(Block {
            start: redacted.clone(),
            deltas: Vec::new(),
            whole: redacted,
        });
    }
    if ctx.extras.unknown {
        let unknown = ordered!({"type": "mock_future_block", "payload": {"note": "a block type from the future"}});
        out.push(Block {
            start: unknown.clone(),
            deltas: Vec::new(),
            whole: unknown,
        });
    }
    if ctx.tools.is_empty() {
        out.push(Block {
            start: ordered!({"type": "text", "text": ""}),
            deltas: ctx
                .pieces
                .iter()
                .map(|p| ordered!({"type": "text_delta", "text": p}))
                .collect(),
            whole: ordered!({"type": "text", "text": (ctx.text)}),
        });
    }
    for t in ctx.tools {
        let tool_id = ctx.ids.anthropic_tool();
        // Real tool_use streams open with an empty `input` and an empty first fragment.
        out.push(Block {
            start: ordered!({"type": "tool_use", "id": (&tool_id), "name": (&t.name), "input": {}}),
            deltas: std::iter::once("")
                .chain(t.fragments.iter().map(String::as_str))
                .map(|f| ordered!({"type": "input_json_delta", "partial_json": f}))
                .collect(),
            whole: ordered!({"type": "tool_use", "id": (&tool_id), "name": (&t.name), "input": (t.args.clone())}),
        });
    }
    out
}

/// `POST /v1/messages`.
pub fn messages(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.anthropic_message();
    let request_id = ctx.ids.request();
    let stop = if ctx.tools.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let blocks = blocks(ctx);
    if !stream {
        let content = Ordered::Arr(blocks.into_iter().map(|b| b.whole).collect());
        let body = message(ctx, &id, content, Some(stop), usage(ctx, ctx.output_tokens));
        return Planned::json(200, JSON, body.compact()).with_header("request-id", request_id);
    }
    let event = |name: &str, body: Ordered| named_event(name, &body.compact());
    let mut events = vec![event(
        "message_start",
        ordered!({"type": "message_start", "message": (message(ctx, &id, ordered!([]), None, usage(ctx, 1)))}),
    )];
    for (index, block) in blocks.into_iter().enumerate() {
        events.push(event(
            "content_block_start",
            ordered!({"type": "content_block_start", "index": index, "content_block": (block.start)}),
        ));
        if index == 0 {
            events.push(event("ping", ordered!({"type": "ping"})));
        }
        for delta in block.deltas {
            events.push(event(
                "content_block_delta",
                ordered!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        events.push(event(
            "content_block_stop",
            ordered!({"type": "content_block_stop", "index": index}),
        ));
    }
    let u = ctx.usage;
    events.push(event(
        "message_delta",
        ordered!({
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {
                "input_tokens": (u.base_input), "cache_creation_input_tokens": (u.cache_write),
                "cache_read_input_tokens": (u.cache_read), "output_tokens": (ctx.output_tokens)
            }
        }),
    ));
    events.push(event("message_stop", ordered!({"type": "message_stop"})));
    Planned::stream(SSE, events).with_header("request-id", request_id)
}

/// The in-band error event (`event: error`), also used mid-stream.
pub fn error_event(ctx: &ReplyCtx<'_>, kind: InbandKind) -> Bytes {
    let status = inband_status(kind, Protocol::Anthropic);
    let body = ordered!({"type": "error", "error": (anthropic_error(status, None)), "request_id": (ctx.ids.request())});
    named_event("error", &body.compact())
}

/// The in-band error stream.
pub fn inband(ctx: &ReplyCtx<'_>, kind: InbandKind) -> Planned {
    Planned::stream(SSE, vec![error_event(ctx, kind)]).with_header("request-id", ctx.ids.request())
}

/// `POST /v1/messages/count_tokens`.
pub fn count_tokens(ctx: &ReplyCtx<'_>) -> Planned {
    Planned::json(
        200,
        JSON,
        ordered!({"input_tokens": (ctx.input_tokens)}).compact(),
    )
}

/// `GET /v1/models` with `anthropic-version`.
pub fn models() -> Planned {
    let model = |id: &str, name: &str, created: &str| ordered!({"type": "model", "id": id, "display_name": name, "created_at": created});
    let body = ordered!({
        "data": [
            (model("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z")),
            (model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z")),
            (model("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"))
        ],
        "has_more": false,
        "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-opus-4-1-20250805"
    });
    Planned::json(200, JSON, body.compact())
}
