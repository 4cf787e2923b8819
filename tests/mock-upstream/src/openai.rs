//! OpenAI encoders: Chat Completions, legacy Completions, Responses, and the model list.
//!
//! Shapes follow the recorded streams in `shared/fixtures/upstream/openai-{chat,responses}`:
//! - Chat stream: a first chunk with `role` and empty `content`, one chunk per piece, a chunk
//!   with an empty delta and `finish_reason: "stop"`, a `choices: []` usage chunk when
//!   `stream_options.include_usage` is set (every chunk then carries `"usage": null`), and
//!   `data: [DONE]`.
//! - Responses stream: `response.created`, `response.in_progress`, `response.output_item.added`,
//!   `response.content_part.added`, one `response.output_text.delta` per piece,
//!   `response.output_text.done`, `response.content_part.done`, `response.output_item.done`,
//!   `response.completed` with usage; every event has `event:` and `data:` lines and a
//!   `sequence_number` from 0.
//! - Tool calls (`MOCK_TOOL`): Chat sends a `role`/`content: null` chunk, a `tool_calls` chunk
//!   with the id, name and empty `arguments`, one chunk per argument fragment, and
//!   `finish_reason: "tool_calls"`; Responses sends one `function_call` item (see
//!   [`responses_tool_call`]).
//! - In-band errors: Chat and Completions send one `data: {"error": {...}}` chunk and end (no
//!   `[DONE]`); Responses sends `response.created`, `response.in_progress` and then
//!   `response.failed` whose `response.error.code` is e.g. `server_is_overloaded` (the SDK
//!   refuses a `response.failed` that is not preceded by `response.created`).

use crate::errors::openai_error;
use crate::ordered;
use crate::ordered::Ordered;
use crate::plan::{data_event, named_event, Planned, JSON, SSE};
use crate::reply::ReplyCtx;
use crate::schedule::InbandKind;
use crate::tools::ToolCall;
use bytes::Bytes;

const FINGERPRINT: &str = "fp_mock0000";

fn include_usage(ctx: &ReplyCtx<'_>) -> bool {
    ctx.request
        .pointer("/stream_options/include_usage")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
}

fn chat_usage(ctx: &ReplyCtx<'_>) -> Ordered {
    ordered!({
        "prompt_tokens": (ctx.input_tokens),
        "completion_tokens": (ctx.output_tokens),
        "total_tokens": (ctx.input_tokens + ctx.output_tokens),
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
        }
    })
}

/// `POST /v1/chat/completions`.
pub fn chat(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.chat();
    let tool = ctx.tool.map(|t| (t, ctx.ids.call()));
    let finish = if tool.is_some() { "tool_calls" } else { "stop" };
    if !stream {
        let message = match &tool {
            Some((t, call_id)) => ordered!({
                "role": "assistant", "content": null,
                "tool_calls": [{"id": call_id, "type": "function", "function": {"name": (&t.name), "arguments": (&t.args_json)}}],
                "refusal": null, "annotations": []
            }),
            None => {
                ordered!({"role": "assistant", "content": (ctx.text), "refusal": null, "annotations": []})
            }
        };
        let body = ordered!({
            "id": id, "object": "chat.completion", "created": (ctx.created), "model": (ctx.model),
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null, "finish_reason": finish
            }],
            "usage": (chat_usage(ctx)),
            "service_tier": "default", "system_fingerprint": FINGERPRINT
        });
        return Planned::json(200, JSON, body.compact());
    }
    let with_usage = include_usage(ctx);
    let chunk = |choices: Ordered, usage: Option<Ordered>| {
        let mut fields = vec![
            ("id", Ordered::from(&id)),
            ("object", Ordered::from("chat.completion.chunk")),
            ("created", Ordered::from(ctx.created)),
            ("model", Ordered::from(ctx.model)),
            ("service_tier", Ordered::from("default")),
            ("system_fingerprint", Ordered::from(FINGERPRINT)),
            ("choices", choices),
        ];
        if with_usage {
            fields.push(("usage", usage.unwrap_or(ordered!(null))));
        }
        data_event(&Ordered::Obj(fields).compact())
    };
    let choice = |delta: Ordered, finish: Option<&str>| ordered!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
    let mut events = Vec::new();
    match &tool {
        Some((t, call_id)) => {
            events.push(chunk(
                choice(ordered!({"role": "assistant", "content": null}), None),
                None,
            ));
            events.push(chunk(
                choice(
                    ordered!({"tool_calls": [{"index": 0, "id": call_id, "type": "function", "function": {"name": (&t.name), "arguments": ""}}]}),
                    None,
                ),
                None,
            ));
            for fragment in &t.fragments {
                events.push(chunk(
                    choice(
                        ordered!({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}),
                        None,
                    ),
                    None,
                ));
            }
        }
        None => {
            events.push(chunk(
                choice(
                    ordered!({"role": "assistant", "content": "", "refusal": null}),
                    None,
                ),
                None,
            ));
            for piece in ctx.pieces {
                events.push(chunk(choice(ordered!({"content": piece}), None), None));
            }
        }
    }
    events.push(chunk(choice(ordered!({}), Some(finish)), None));
    if with_usage {
        events.push(chunk(ordered!([]), Some(chat_usage(ctx))));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    Planned::stream(SSE, events)
}

/// `POST /v1/completions` (legacy).
pub fn completions(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.completion();
    let usage = ordered!({
        "prompt_tokens": (ctx.input_tokens),
        "completion_tokens": (ctx.output_tokens),
        "total_tokens": (ctx.input_tokens + ctx.output_tokens)
    });
    if !stream {
        let body = ordered!({
            "id": id, "object": "text_completion", "created": (ctx.created), "model": (ctx.model),
            "choices": [{"text": (ctx.text), "index": 0, "logprobs": null, "finish_reason": "stop"}],
            "usage": usage
        });
        return Planned::json(200, JSON, body.compact());
    }
    let chunk = |text: &str, finish: Option<&str>| {
        let body = ordered!({
            "id": (&id), "object": "text_completion", "created": (ctx.created),
            "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": finish}],
            "model": (ctx.model)
        });
        data_event(&body.compact())
    };
    let mut events: Vec<Bytes> = ctx.pieces.iter().map(|p| chunk(p, None)).collect();
    events.push(chunk("", Some("stop")));
    if include_usage(ctx) {
        let body = ordered!({
            "id": (&id), "object": "text_completion", "created": (ctx.created),
            "choices": [], "model": (ctx.model), "usage": usage
        });
        events.push(data_event(&body.compact()));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    Planned::stream(SSE, events)
}

fn output_text(text: &str) -> Ordered {
    ordered!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

fn message_item(item_id: &str, status: &str, content: Vec<Ordered>) -> Ordered {
    ordered!({"id": item_id, "type": "message", "status": status, "content": content, "role": "assistant"})
}

/// The Responses `response` object.
fn response_object(
    ctx: &ReplyCtx<'_>,
    id: &str,
    status: &str,
    output: Vec<Ordered>,
    error: Option<Ordered>,
) -> Ordered {
    let done = status == "completed";
    let usage = done.then(|| {
        ordered!({
            "input_tokens": (ctx.input_tokens),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": (ctx.output_tokens),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": (ctx.input_tokens + ctx.output_tokens)
        })
    });
    let store = ctx
        .request
        .get("store")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true);
    ordered!({
        "id": id, "object": "response", "created_at": (ctx.created), "status": status,
        "background": false, "completed_at": (done.then_some(ctx.created)),
        "error": error, "incomplete_details": null,
        "instructions": (ctx.request.get("instructions").cloned().unwrap_or_default()),
        "max_output_tokens": null, "max_tool_calls": null, "model": (ctx.model), "output": output,
        "parallel_tool_calls": true, "previous_response_id": null, "prompt_cache_key": null,
        "reasoning": {"effort": null, "summary": null}, "safety_identifier": null,
        "service_tier": "default", "store": (serde_json::Value::Bool(store)), "temperature": 1,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto", "tools": [], "top_logprobs": 0, "top_p": 1, "truncation": "disabled",
        "usage": usage, "user": null, "metadata": {}
    })
}

/// `POST /v1/responses`.
pub fn responses(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.response();
    if let Some(t) = ctx.tool {
        return responses_tool_call(ctx, &id, t, stream);
    }
    let item_id = ctx.ids.response_item();
    let done_item = message_item(&item_id, "completed", vec![output_text(ctx.text)]);
    let completed = response_object(ctx, &id, "completed", vec![done_item.clone()], None);
    if !stream {
        return Planned::json(200, JSON, completed.compact());
    }
    let mut seq = 0u64;
    let mut events = Vec::new();
    let mut push = |name: &'static str, mut fields: Vec<(&'static str, Ordered)>| {
        fields.insert(0, ("type", Ordered::from(name)));
        fields.insert(1, ("sequence_number", Ordered::from(seq)));
        seq += 1;
        events.push(named_event(name, &Ordered::Obj(fields).compact()));
    };
    let in_progress = response_object(ctx, &id, "in_progress", vec![], None);
    push("response.created", vec![("response", in_progress.clone())]);
    push("response.in_progress", vec![("response", in_progress)]);
    push(
        "response.output_item.added",
        vec![
            ("output_index", ordered!(0)),
            ("item", message_item(&item_id, "in_progress", vec![])),
        ],
    );
    let at = |extra: Vec<(&'static str, Ordered)>| {
        let mut f = vec![
            ("item_id", Ordered::from(&item_id)),
            ("output_index", ordered!(0)),
            ("content_index", ordered!(0)),
        ];
        f.extend(extra);
        f
    };
    push(
        "response.content_part.added",
        at(vec![("part", output_text(""))]),
    );
    for piece in ctx.pieces {
        push(
            "response.output_text.delta",
            at(vec![
                ("delta", Ordered::from(piece)),
                ("logprobs", ordered!([])),
            ]),
        );
    }
    push(
        "response.output_text.done",
        at(vec![
            ("text", Ordered::from(ctx.text)),
            ("logprobs", ordered!([])),
        ]),
    );
    push(
        "response.content_part.done",
        at(vec![("part", output_text(ctx.text))]),
    );
    push(
        "response.output_item.done",
        vec![("output_index", ordered!(0)), ("item", done_item)],
    );
    push("response.completed", vec![("response", completed)]);
    Planned::stream(SSE, events)
}

fn function_call_item(
    item_id: &str,
    status: &str,
    args: &str,
    call_id: &str,
    name: &str,
) -> Ordered {
    ordered!({"id": item_id, "type": "function_call", "status": status, "arguments": args, "call_id": call_id, "name": name})
}

/// A Responses answer that is one `function_call` item (shape of
/// `openai-responses/azure-tool-call.1.chunks.txt`): `output_item.added` with empty
/// `arguments`, one `function_call_arguments.delta` per fragment,
/// `function_call_arguments.done`, `output_item.done`, `response.completed`.
fn responses_tool_call(ctx: &ReplyCtx<'_>, id: &str, t: &ToolCall, stream: bool) -> Planned {
    let item_id = ctx.ids.function_call_item();
    let call_id = ctx.ids.call();
    let done_item = function_call_item(&item_id, "completed", &t.args_json, &call_id, &t.name);
    let completed = response_object(ctx, id, "completed", vec![done_item.clone()], None);
    if !stream {
        return Planned::json(200, JSON, completed.compact());
    }
    let mut seq = 0u64;
    let mut events = Vec::new();
    let mut push = |name: &'static str, mut fields: Vec<(&'static str, Ordered)>| {
        fields.insert(0, ("type", Ordered::from(name)));
        fields.insert(1, ("sequence_number", Ordered::from(seq)));
        seq += 1;
        events.push(named_event(name, &Ordered::Obj(fields).compact()));
    };
    let in_progress = response_object(ctx, id, "in_progress", vec![], None);
    push("response.created", vec![("response", in_progress.clone())]);
    push("response.in_progress", vec![("response", in_progress)]);
    push(
        "response.output_item.added",
        vec![
            ("output_index", ordered!(0)),
            (
                "item",
                function_call_item(&item_id, "in_progress", "", &call_id, &t.name),
            ),
        ],
    );
    for fragment in &t.fragments {
        push(
            "response.function_call_arguments.delta",
            vec![
                ("item_id", Ordered::from(&item_id)),
                ("output_index", ordered!(0)),
                ("delta", Ordered::from(fragment)),
            ],
        );
    }
    push(
        "response.function_call_arguments.done",
        vec![
            ("item_id", Ordered::from(&item_id)),
            ("output_index", ordered!(0)),
            ("arguments", Ordered::from(&t.args_json)),
        ],
    );
    push(
        "response.output_item.done",
        vec![("output_index", ordered!(0)), ("item", done_item)],
    );
    push("response.completed", vec![("response", completed)]);
    Planned::stream(SSE, events)
}

/// In-band error stream for Chat and legacy Completions.
pub fn chat_inband(kind: InbandKind) -> Planned {
    let status = crate::errors::inband_status(kind, crate::routes::Protocol::OpenAi);
    let body = ordered!({"error": (openai_error(status, None))});
    Planned::stream(SSE, vec![data_event(&body.compact())])
}

/// In-band error stream for Responses: `response.created`, `response.in_progress`, then
/// `response.failed`. The SDK's `responses.stream()` raises a `RuntimeError` (not an API error)
/// when `response.failed` comes without `response.created` before it, and the recorded real
/// failure (`openai-responses/openai-error.1.chunks.txt`) starts the same way.
pub fn responses_inband(ctx: &ReplyCtx<'_>, kind: InbandKind) -> Planned {
    let status = crate::errors::inband_status(kind, crate::routes::Protocol::OpenAi);
    let (_, code, message) = crate::errors::openai_kind(status);
    let id = ctx.ids.response();
    let in_progress = response_object(ctx, &id, "in_progress", vec![], None);
    let error = ordered!({"code": code, "message": message});
    let failed = response_object(ctx, &id, "failed", vec![], Some(error));
    let events = [
        ("response.created", in_progress.clone()),
        ("response.in_progress", in_progress),
        ("response.failed", failed),
    ]
    .into_iter()
    .enumerate()
    .map(|(seq, (name, response))| {
        named_event(
            name,
            &ordered!({"type": name, "sequence_number": seq, "response": response}).compact(),
        )
    })
    .collect();
    Planned::stream(SSE, events)
}

/// `GET /v1/models`.
pub fn models() -> Planned {
    let model = |id: &str, created: u64, owner: &str| ordered!({"id": id, "object": "model", "created": created, "owned_by": owner});
    let body = ordered!({
        "object": "list",
        "data": [
            (model("gpt-4.1", 1_744_316_542, "system")),
            (model("gpt-4.1-nano", 1_744_321_707, "system")),
            (model("gpt-5.1", 1_762_800_000, "system")),
            (model("gpt-5-nano", 1_754_426_384, "system"))
        ]
    });
    Planned::json(200, JSON, body.compact())
}
