//! Anthropic Messages encoders.
//!
//! Shapes follow `shared/fixtures/upstream/anthropic-messages/anthropic-text.*`. A stream is
//! `message_start` (usage with the input tokens and `output_tokens: 1`), `content_block_start`
//! (text, index 0), `ping`, one `content_block_delta`/`text_delta` per piece,
//! `content_block_stop`, `message_delta` (`stop_reason: "end_turn"`, cumulative usage),
//! `message_stop`, each with its `event:` line. A tool call (`MOCK_TOOL`) is one `tool_use`
//! block instead (`input: {}` at the start, then `input_json_delta`s: an empty one, as real
//! streams send, then the argument fragments) and `stop_reason: "tool_use"`. The in-band error is `event: error` with
//! `{"type":"error","error":{"type":"overloaded_error",...}}` as the first event.

use crate::errors::{anthropic_error, inband_status};
use crate::ordered;
use crate::ordered::Ordered;
use crate::plan::{named_event, Planned, JSON, SSE};
use crate::reply::ReplyCtx;
use crate::routes::Protocol;
use crate::schedule::InbandKind;

fn usage(ctx: &ReplyCtx<'_>, output_tokens: u64) -> Ordered {
    ordered!({
        "input_tokens": (ctx.input_tokens),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
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

/// `POST /v1/messages`.
pub fn messages(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.anthropic_message();
    let request_id = ctx.ids.request();
    let tool = ctx.tool.map(|t| (t, ctx.ids.anthropic_tool()));
    let stop = if tool.is_some() {
        "tool_use"
    } else {
        "end_turn"
    };
    if !stream {
        let content = match &tool {
            Some((t, tool_id)) => {
                ordered!([{"type": "tool_use", "id": tool_id, "name": (&t.name), "input": (t.args.clone())}])
            }
            None => ordered!([{"type": "text", "text": (ctx.text)}]),
        };
        let body = message(ctx, &id, content, Some(stop), usage(ctx, ctx.output_tokens));
        return Planned::json(200, JSON, body.compact()).with_header("request-id", request_id);
    }
    let event = |name: &str, body: Ordered| named_event(name, &body.compact());
    let mut events = vec![event(
        "message_start",
        ordered!({"type": "message_start", "message": (message(ctx, &id, ordered!([]), None, usage(ctx, 1)))}),
    )];
    match &tool {
        Some((t, tool_id)) => {
            // Real tool_use streams open with an empty `input` and an empty first fragment.
            events.push(event(
                "content_block_start",
                ordered!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": tool_id, "name": (&t.name), "input": {}}}),
            ));
            events.push(event("ping", ordered!({"type": "ping"})));
            for fragment in std::iter::once("").chain(t.fragments.iter().map(String::as_str)) {
                events.push(event(
                    "content_block_delta",
                    ordered!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": fragment}}),
                ));
            }
        }
        None => {
            events.push(event(
                "content_block_start",
                ordered!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ));
            events.push(event("ping", ordered!({"type": "ping"})));
            for piece in ctx.pieces {
                events.push(event(
                    "content_block_delta",
                    ordered!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
                ));
            }
        }
    }
    events.push(event(
        "content_block_stop",
        ordered!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "message_delta",
        ordered!({
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {
                "input_tokens": (ctx.input_tokens), "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": (ctx.output_tokens)
            }
        }),
    ));
    events.push(event("message_stop", ordered!({"type": "message_stop"})));
    Planned::stream(SSE, events).with_header("request-id", request_id)
}

/// The in-band error stream.
pub fn inband(ctx: &ReplyCtx<'_>, kind: InbandKind) -> Planned {
    let request_id = ctx.ids.request();
    let status = inband_status(kind, Protocol::Anthropic);
    let body = ordered!({"type": "error", "error": (anthropic_error(status, None)), "request_id": (&request_id)});
    Planned::stream(SSE, vec![named_event("error", &body.compact())])
        .with_header("request-id", request_id)
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
