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
//!   with the id, name and empty `arguments`, one chunk per argument fragment (parallel calls
//!   one after the other), and `finish_reason: "tool_calls"`; Responses sends one
//!   `function_call` item per call, parallel ones with interleaved argument deltas (see
//!   [`responses`]). `MOCK_THINK` adds `reasoning_content` (Chat) or a reasoning item
//!   (Responses), `MOCK_UNKNOWN` an unknown field or item, `MOCK_CACHE_USAGE` cached and
//!   reasoning tokens ([`crate::extras`]).
//! - In-band errors: Chat and Completions send one `data: {"error": {...}}` chunk and end (no
//!   `[DONE]`); Responses sends `response.created`, `response.in_progress` and then
//!   `response.failed` whose `response.error.code` is e.g. `server_is_overloaded` (the SDK
//!   refuses a `response.failed` that is not preceded by `response.created`).

use crate::errors::openai_error;
use crate::extras::ENCRYPTED_CONTENT;
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
    let u = ctx.usage;
    ordered!({
        "prompt_tokens": (u.prompt()),
        "completion_tokens": (u.completion()),
        "total_tokens": (u.prompt() + u.completion()),
        "prompt_tokens_details": {"cached_tokens": (u.cache_read), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": (u.reasoning), "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
        }
    })
}

/// The field a Chat message or delta carries for `MOCK_UNKNOWN`.
fn chat_unknown() -> Ordered {
    ordered!({"note": "a field from the future"})
}

/// `POST /v1/chat/completions`.
pub fn chat(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.chat();
    let calls: Vec<(&ToolCall, String)> = ctx.tools.iter().map(|t| (t, ctx.ids.call())).collect();
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    if !stream {
        let mut message = vec![("role", ordered!("assistant"))];
        if calls.is_empty() {
            message.push(("content", Ordered::from(ctx.text)));
        } else {
            message.push(("content", ordered!(null)));
        }
        if let Some(thinking) = &ctx.extras.thinking {
            message.push(("reasoning_content", Ordered::from(thinking)));
        }
        if ctx.extras.unknown {
            message.push(("mock_future_field", chat_unknown()));
        }
        if !calls.is_empty() {
            message.push((
                "tool_calls",
                Ordered::Arr(calls.iter().map(|(t, call_id)| ordered!({"id": call_id, "type": "function", "function": {"name": (&t.name), "arguments": (&t.args_json)}})).collect()),
            ));
        }
        message.push(("refusal", ordered!(null)));
        message.push(("annotations", ordered!([])));
        let body = ordered!({
            "id": id, "object": "chat.completion", "created": (ctx.created), "model": (ctx.model),
            "choices": [{
                "index": 0,
                "message": (Ordered::Obj(message)),
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
    let first = if calls.is_empty() {
        ordered!({"role": "assistant", "content": "", "refusal": null})
    } else {
        ordered!({"role": "assistant", "content": null})
    };
    events.push(chunk(choice(first, None), None));
    for piece in ctx.thinking_pieces() {
        events.push(chunk(
            choice(ordered!({"reasoning_content": piece}), None),
            None,
        ));
    }
    if ctx.extras.unknown {
        events.push(chunk(
            choice(ordered!({"mock_future_field": (chat_unknown())}), None),
            None,
        ));
    }
    if calls.is_empty() {
        for piece in ctx.pieces {
            events.push(chunk(choice(ordered!({"content": piece}), None), None));
        }
    }
    // Parallel calls one after the other, as OpenAI sends them: the openai SDK's `.stream()`
    // helper finalises a call when a delta for another `index` arrives, so a Chat stream that
    // interleaves calls is one no real client reads.
    for (index, (t, call_id)) in calls.iter().enumerate() {
        events.push(chunk(
            choice(
                ordered!({"tool_calls": [{"index": index, "id": call_id, "type": "function", "function": {"name": (&t.name), "arguments": ""}}]}),
                None,
            ),
            None,
        ));
        for fragment in &t.fragments {
            events.push(chunk(
                choice(
                    ordered!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                    None,
                ),
                None,
            ));
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
    let u = ctx.usage;
    let usage = done.then(|| {
        ordered!({
            "input_tokens": (u.prompt()),
            "input_tokens_details": {"cached_tokens": (u.cache_read)},
            "output_tokens": (u.completion()),
            "output_tokens_details": {"reasoning_tokens": (u.reasoning)},
            "total_tokens": (u.prompt() + u.completion())
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

fn function_call_item(
    item_id: &str,
    status: &str,
    args: &str,
    call_id: &str,
    name: &str,
) -> Ordered {
    ordered!({"id": item_id, "type": "function_call", "status": status, "arguments": args, "call_id": call_id, "name": name})
}

fn reasoning_item(item_id: &str, summary: Option<&str>) -> Ordered {
    let summary = match summary {
        Some(text) => ordered!([{"type": "summary_text", "text": text}]),
        None => ordered!([]),
    };
    ordered!({"id": item_id, "type": "reasoning", "encrypted_content": ENCRYPTED_CONTENT, "summary": summary})
}

fn unknown_item(item_id: &str) -> Ordered {
    ordered!({"id": item_id, "type": "mock_future_item", "status": "completed", "note": "an item type from the future"})
}

/// One Responses stream event under construction.
type Fields = Vec<(&'static str, Ordered)>;

/// `POST /v1/responses`. Output items in order: a reasoning item (`MOCK_THINK`), an unknown
/// item (`MOCK_UNKNOWN`), then one message or one `function_call` item per tool call (shape of
/// `openai-responses/azure-tool-call.1.chunks.txt`: `output_item.added` with empty
/// `arguments`, `function_call_arguments.delta`s, `function_call_arguments.done`,
/// `output_item.done`). Parallel calls are all added first and their argument deltas
/// alternate between the items (each item's `output_item.added` right before its first delta).
pub fn responses(ctx: &ReplyCtx<'_>, stream: bool) -> Planned {
    let id = ctx.ids.response();
    let reasoning = ctx
        .extras
        .thinking
        .as_deref()
        .map(|t| (ctx.ids.reasoning_item(), t));
    let unknown = ctx.extras.unknown.then(|| ctx.ids.response_item());
    let message_id = ctx.tools.is_empty().then(|| ctx.ids.response_item());
    let calls: Vec<(&ToolCall, String, String)> = ctx
        .tools
        .iter()
        .map(|t| (t, ctx.ids.function_call_item(), ctx.ids.call()))
        .collect();
    let mut done_items = Vec::new();
    if let Some((rs_id, text)) = &reasoning {
        done_items.push(reasoning_item(rs_id, Some(*text)));
    }
    if let Some(item_id) = &unknown {
        done_items.push(unknown_item(item_id));
    }
    if let Some(item_id) = &message_id {
        done_items.push(message_item(
            item_id,
            "completed",
            vec![output_text(ctx.text)],
        ));
    }
    for (t, item_id, call_id) in &calls {
        done_items.push(function_call_item(
            item_id,
            "completed",
            &t.args_json,
            call_id,
            &t.name,
        ));
    }
    let completed = response_object(ctx, &id, "completed", done_items.clone(), None);
    if !stream {
        return Planned::json(200, JSON, completed.compact());
    }
    let mut seq = 0u64;
    let mut events = Vec::new();
    let mut push = |name: &'static str, mut fields: Fields| {
        fields.insert(0, ("type", Ordered::from(name)));
        fields.insert(1, ("sequence_number", Ordered::from(seq)));
        seq += 1;
        events.push(named_event(name, &Ordered::Obj(fields).compact()));
    };
    let in_progress = response_object(ctx, &id, "in_progress", vec![], None);
    push("response.created", vec![("response", in_progress.clone())]);
    push("response.in_progress", vec![("response", in_progress)]);
    let mut done_items = done_items.into_iter();
    let mut index = 0usize;
    let mut item_done = |push: &mut dyn FnMut(&'static str, Fields), index: usize| {
        if let Some(item) = done_items.next() {
            push(
                "response.output_item.done",
                vec![("output_index", ordered!(index)), ("item", item)],
            );
        }
    };
    if let Some((rs_id, text)) = &reasoning {
        push(
            "response.output_item.added",
            vec![
                ("output_index", ordered!(index)),
                ("item", reasoning_item(rs_id, None)),
            ],
        );
        let at = |extra: Fields| {
            let mut f = vec![
                ("item_id", Ordered::from(rs_id)),
                ("output_index", ordered!(index)),
                ("summary_index", ordered!(0)),
            ];
            f.extend(extra);
            f
        };
        push(
            "response.reasoning_summary_part.added",
            at(vec![(
                "part",
                ordered!({"type": "summary_text", "text": ""}),
            )]),
        );
        for piece in ctx.thinking_pieces() {
            push(
                "response.reasoning_summary_text.delta",
                at(vec![("delta", Ordered::from(piece))]),
            );
        }
        push(
            "response.reasoning_summary_text.done",
            at(vec![("text", Ordered::from(*text))]),
        );
        push(
            "response.reasoning_summary_part.done",
            at(vec![(
                "part",
                ordered!({"type": "summary_text", "text": (*text)}),
            )]),
        );
        item_done(&mut push, index);
        index += 1;
    }
    if let Some(item_id) = &unknown {
        push(
            "response.output_item.added",
            vec![
                ("output_index", ordered!(index)),
                ("item", unknown_item(item_id)),
            ],
        );
        push(
            "response.mock_future_event",
            vec![
                ("item_id", Ordered::from(item_id)),
                ("output_index", ordered!(index)),
            ],
        );
        item_done(&mut push, index);
        index += 1;
    }
    if let Some(item_id) = &message_id {
        push(
            "response.output_item.added",
            vec![
                ("output_index", ordered!(index)),
                ("item", message_item(item_id, "in_progress", vec![])),
            ],
        );
        let at = |extra: Fields| {
            let mut f = vec![
                ("item_id", Ordered::from(item_id)),
                ("output_index", ordered!(index)),
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
        item_done(&mut push, index);
    }
    let first_call = index;
    let rounds = calls
        .iter()
        .map(|(t, ..)| t.fragments.len())
        .max()
        .unwrap_or(0);
    for round in 0..rounds {
        for (k, (t, item_id, call_id)) in calls.iter().enumerate() {
            if round == 0 {
                push(
                    "response.output_item.added",
                    vec![
                        ("output_index", ordered!(first_call + k)),
                        (
                            "item",
                            function_call_item(item_id, "in_progress", "", call_id, &t.name),
                        ),
                    ],
                );
            }
            if let Some(fragment) = t.fragments.get(round) {
                push(
                    "response.function_call_arguments.delta",
                    vec![
                        ("item_id", Ordered::from(item_id)),
                        ("output_index", ordered!(first_call + k)),
                        ("delta", Ordered::from(fragment)),
                    ],
                );
            }
        }
    }
    for (k, (t, item_id, _)) in calls.iter().enumerate() {
        push(
            "response.function_call_arguments.done",
            vec![
                ("item_id", Ordered::from(item_id)),
                ("output_index", ordered!(first_call + k)),
                ("arguments", Ordered::from(&t.args_json)),
            ],
        );
        item_done(&mut push, first_call + k);
    }
    push("response.completed", vec![("response", completed)]);
    Planned::stream(SSE, events)
}

/// The Chat in-band error chunk `data: {"error": {...}}`, also used mid-stream.
pub fn chat_error_event(kind: InbandKind) -> Bytes {
    let status = crate::errors::inband_status(kind, crate::routes::Protocol::OpenAi);
    data_event(&ordered!({"error": (openai_error(status, None))}).compact())
}

/// In-band error stream for Chat and legacy Completions.
pub fn chat_inband(kind: InbandKind) -> Planned {
    Planned::stream(SSE, vec![chat_error_event(kind)])
}

/// A Responses `error` event, as OpenAI sends when a stream fails after it started.
pub fn responses_error_event(kind: InbandKind, sequence_number: usize) -> Bytes {
    let status = crate::errors::inband_status(kind, crate::routes::Protocol::OpenAi);
    let (_, code, message) = crate::errors::openai_kind(status);
    named_event(
        "error",
        &ordered!({"type": "error", "sequence_number": sequence_number, "code": code, "message": message, "param": null}).compact(),
    )
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
