//! Property tests: what survives a round trip through the IR survives for generated inputs,
//! not only the recorded ones (issue 16, item 2). For every pair (client protocol A, upstream
//! protocol B), the sixteen same-protocol pairs included:
//!
//! - requests: A's client body -> IR -> B's upstream body -> IR -> A's body -> IR; the
//!   conversation (roles, text, images, tool calls with their JSON arguments and the results
//!   that answer them), system prompt, tools, model and max tokens are the same;
//! - whole responses: B's upstream body -> IR -> A's client body -> IR; text, tool calls,
//!   stop reason class, usage and model are the same;
//! - streams: the response rendered as B's upstream stream, cut into random chunks, translated
//!   to A's stream and aggregated by A's decoder: the same as the whole response.
//!
//! What a protocol has no place for is not generated, each with the reason next to the
//! generator. Cases: 64 per property by default; `PROPTEST_CASES=20000` for a long run.
//!
//! Run: `cargo test -p switchyard-translators --test proptest_roundtrip`

#![expect(
    clippy::expect_used,
    reason = "test code: a generated case that does not encode is a failed test"
)]

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};
use std::collections::HashMap;
use switchyard_translators::any::{self, StreamAggregator, StreamTranslator};
use switchyard_translators::ir::{
    EncodeContext, FunctionTool, Media, MediaSource, Message, Part, Protocol, Request, Response,
    Role, StopReason, Tool, ToolCall, ToolResult, Usage,
};
use switchyard_translators::{aggregate, b64, StreamOptions};

const PROTOCOLS: [Protocol; 4] = [
    Protocol::OpenAiChat,
    Protocol::OpenAiResponses,
    Protocol::Anthropic,
    Protocol::Gemini,
];

fn config() -> Config {
    // `PROPTEST_CASES` overrides this (proptest reads it into the default config).
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn cx() -> EncodeContext {
    EncodeContext::new(1_700_000_000, "prop")
}

// -------------------------------------------------------------------------------- generators

/// Text with spaces, punctuation, newlines, quotes, non-ASCII and astral characters. Never
/// empty or only whitespace: every protocol drops (or refuses) an empty text block.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][ -~\u{e9}\u{4e2d}\u{1F600}\n\"\\\\]{0,40}"
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,15}"
}

/// JSON arguments: objects of strings, integers, booleans, nulls, arrays and nested objects.
/// Integers only: Gemini carries arguments as a parsed object, and serde_json does not promise
/// that every float's text survives parse and print.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[ -~\u{e9}]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(name(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arguments() -> impl Strategy<Value = String> {
    prop::collection::btree_map(name(), json_value(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()).to_string())
}

/// Inline base64 images. Only in user messages: OpenAI Chat and Responses carry no images in
/// assistant output or in tool results (`tool` messages are text).
fn image() -> impl Strategy<Value = Part> {
    (
        prop::sample::select(vec!["image/png", "image/jpeg", "image/webp", "image/gif"]),
        prop::collection::vec(any::<u8>(), 1..48),
    )
        .prop_map(|(media_type, bytes)| {
            Part::Image(Media {
                source: MediaSource::Base64 {
                    media_type: media_type.into(),
                    data: b64::encode(&bytes),
                },
                cache_control: None,
                title: None,
            })
        })
}

fn text_part(text: String) -> Part {
    Part::Text {
        text,
        cache_control: None,
    }
}

/// One exchange: the assistant's answer (text and/or tool calls) and the user's next turn
/// (the calls' results, or text with images).
#[derive(Debug, Clone)]
struct Exchange {
    answer: Option<String>,
    calls: Vec<(usize, String)>,
    results: Vec<String>,
    user_text: String,
    images: Vec<Part>,
}

fn exchange(tools: usize) -> impl Strategy<Value = Exchange> {
    (
        prop::option::of(text()),
        prop::collection::vec((0..tools, arguments()), 0..3),
        prop::collection::vec(text(), 3),
        text(),
        prop::collection::vec(image(), 0..2),
    )
        .prop_map(|(answer, calls, results, user_text, images)| Exchange {
            // An assistant turn says something or calls something.
            answer: if calls.is_empty() {
                Some(answer.unwrap_or_else(|| "ok".into()))
            } else {
                answer
            },
            calls,
            results,
            user_text,
            images,
        })
}

fn request() -> impl Strategy<Value = Request> {
    (1usize..4)
        .prop_flat_map(|tools| {
            (
                name(),
                prop::option::of(text()),
                prop::collection::vec((name(), prop::option::of(text())), tools),
                text(),
                prop::collection::vec(image(), 0..2),
                prop::collection::vec(exchange(tools), 0..3),
                // Always set: Anthropic requires `max_tokens`, and its encoder supplies a default
                // when the client gave none (which then survives as if the client had sent it).
                1u64..100_000,
            )
        })
        .prop_map(
            |(model, system, tools, first, images, exchanges, max_tokens)| {
                // Distinct tool names (a protocol keys tools by name).
                let tools: Vec<(String, Option<String>)> = tools
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, d))| (format!("{n}_{i}"), d))
                    .collect();
                let mut messages = vec![Message {
                    role: Role::User,
                    parts: std::iter::once(text_part(first)).chain(images).collect(),
                }];
                let mut call_no = 0;
                for ex in exchanges {
                    let mut parts = Vec::new();
                    parts.extend(ex.answer.map(text_part));
                    let mut results = Vec::new();
                    for (i, (tool, args)) in ex.calls.iter().enumerate() {
                        call_no += 1;
                        let id = format!("call_{call_no}");
                        let name = tools[*tool].0.clone();
                        parts.push(Part::ToolCall(ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            arguments: args.clone(),
                            signature: None,
                        }));
                        results.push(Part::ToolResult(ToolResult {
                            call_id: id,
                            name: Some(name),
                            content: vec![text_part(ex.results[i].clone())],
                            is_error: false,
                        }));
                    }
                    messages.push(Message {
                        role: Role::Assistant,
                        parts,
                    });
                    // Tool results first, then the user's text, as Anthropic requires.
                    let user: Vec<Part> = if results.is_empty() {
                        std::iter::once(text_part(ex.user_text))
                            .chain(ex.images)
                            .collect()
                    } else {
                        results
                    };
                    messages.push(Message {
                        role: Role::User,
                        parts: user,
                    });
                }
                Request {
                model,
                system: system.map(text_part).into_iter().collect(),
                messages,
                tools: tools
                    .into_iter()
                    .map(|(name, description)| {
                        Tool::Function(FunctionTool {
                            name,
                            description,
                            parameters: json!({
                                "type": "object",
                                "properties": {"x": {"type": "string"}, "n": {"type": "integer"}},
                                "required": ["x"],
                            }),
                            strict: None,
                            cache_control: None,
                        })
                    })
                    .collect(),
                sampling: switchyard_translators::ir::Sampling {
                    max_tokens: Some(max_tokens),
                    ..Default::default()
                },
                ..Default::default()
            }
            },
        )
}

/// A whole response: text and/or tool calls, a stop reason that fits them, and usage.
/// Not generated: reasoning tokens (Anthropic has no count for them) and cache writes (only
/// Anthropic reports them); thinking (OpenAI Chat has no standard place for it).
fn response() -> impl Strategy<Value = Response> {
    (
        name(),
        prop::option::of(text()),
        prop::collection::vec((name(), arguments()), 0..3),
        any::<bool>(),
        (0u64..1_000_000, 0u64..100_000, 0u64..1_000_000),
    )
        .prop_map(|(model, text, calls, truncated, (input, output, cached))| {
            let mut parts: Vec<Part> = Vec::new();
            let text = if calls.is_empty() {
                Some(text.unwrap_or_else(|| "ok".into()))
            } else {
                text
            };
            parts.extend(text.map(text_part));
            for (i, (name, arguments)) in calls.iter().enumerate() {
                parts.push(Part::ToolCall(ToolCall {
                    id: format!("call_{i}"),
                    name: name.clone(),
                    arguments: arguments.clone(),
                    signature: None,
                }));
            }
            let stop = match (calls.is_empty(), truncated) {
                (false, _) => StopReason::ToolUse,
                (true, true) => StopReason::MaxTokens,
                (true, false) => StopReason::EndTurn,
            };
            Response {
                id: "resp_1".into(),
                model,
                parts,
                stop,
                usage: Usage {
                    input_tokens: input,
                    output_tokens: output,
                    cache_read_tokens: cached.min(input),
                    cache_write_tokens: 0,
                    reasoning_tokens: 0,
                },
            }
        })
}

// ------------------------------------------------------------------------------- summaries

/// One thing in a conversation, with tool call ids replaced by their order of appearance
/// (Gemini has no ids: its decoder makes new ones, so only the links must survive).
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Text(String),
    Image {
        media_type: String,
        data: String,
    },
    Call {
        id: usize,
        name: String,
        args: Value,
    },
    Result {
        id: Option<usize>,
        text: String,
    },
}

fn args(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn text_of(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn items(parts: &[Part], ids: &mut HashMap<String, usize>, out: &mut Vec<Item>) {
    for p in parts {
        match p {
            Part::Text { text, .. } => match out.last_mut() {
                // Adjacent text is one text whatever the blocks (a protocol may join them).
                Some(Item::Text(prev)) => prev.push_str(text),
                _ => out.push(Item::Text(text.clone())),
            },
            Part::Image(m) => match &m.source {
                MediaSource::Base64 { media_type, data } => out.push(Item::Image {
                    media_type: media_type.clone(),
                    data: data.clone(),
                }),
                other => out.push(Item::Text(format!("{other:?}"))),
            },
            Part::ToolCall(c) => {
                let n = ids.len();
                let id = *ids.entry(c.id.clone()).or_insert(n);
                out.push(Item::Call {
                    id,
                    name: c.name.clone(),
                    args: args(&c.arguments),
                });
            }
            Part::ToolResult(r) => out.push(Item::Result {
                id: ids.get(&r.call_id).copied(),
                text: text_of(&r.content),
            }),
            other => out.push(Item::Text(format!("{other:?}"))),
        }
    }
}

#[derive(Debug, PartialEq)]
struct RequestSummary {
    model: String,
    system: String,
    /// The conversation as (role, item), messages flattened (a protocol may merge or split
    /// messages of one role).
    conversation: Vec<(Role, Item)>,
    tools: Vec<(String, Option<String>, Value)>,
    max_tokens: Option<u64>,
}

fn summarize_request(r: &Request) -> RequestSummary {
    let mut ids = HashMap::new();
    let mut conversation = Vec::new();
    for m in &r.messages {
        let mut its = Vec::new();
        items(&m.parts, &mut ids, &mut its);
        for it in its {
            match (conversation.last_mut(), &it) {
                (Some((role, Item::Text(prev))), Item::Text(t)) if *role == m.role => {
                    prev.push_str(t)
                }
                _ => conversation.push((m.role, it)),
            }
        }
    }
    RequestSummary {
        model: r.model.clone(),
        system: text_of(&r.system),
        conversation,
        tools: r
            .tools
            .iter()
            .map(|t| match t {
                Tool::Function(f) => (f.name.clone(), f.description.clone(), f.parameters.clone()),
                Tool::Unknown { value, .. } => ("?".into(), None, value.clone()),
            })
            .collect(),
        max_tokens: r.sampling.max_tokens,
    }
}

#[derive(Debug, PartialEq)]
struct ResponseSummary {
    model: String,
    items: Vec<Item>,
    stop: &'static str,
    usage: Usage,
}

fn stop_class(s: &StopReason) -> &'static str {
    match s {
        StopReason::EndTurn | StopReason::StopSequence(_) | StopReason::PauseTurn => "end",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::ContentFilter => "filter",
        StopReason::Other(_) => "other",
    }
}

fn summarize_response(r: &Response) -> ResponseSummary {
    let mut its = Vec::new();
    items(&r.parts, &mut HashMap::new(), &mut its);
    ResponseSummary {
        model: r.model.clone(),
        items: its,
        stop: stop_class(&r.stop),
        usage: r.usage,
    }
}

// ------------------------------------------------------------------------------- properties

/// The client's request as the client's protocol reads it, then through upstream `b` and
/// back: A -> IR -> B -> IR -> A -> IR.
fn request_round_trip(req: &Request, a: Protocol, b: Protocol) -> Result<(), TestCaseError> {
    let client_body = any::encode_request(a, req).expect("A encodes the generated request");
    let from_client = any::decode_request(a, &client_body).expect("A reads its own body");
    let upstream_body = any::encode_request(b, &from_client).expect("B encodes the request");
    let at_upstream = any::decode_request(b, &upstream_body).expect("B reads its own body");
    let again = any::encode_request(a, &at_upstream).expect("A encodes it again");
    let back = any::decode_request(a, &again).expect("A reads it again");
    // Gemini's model is in the URL path, not the body: the gateway carries it there.
    let without_model = |r: &Request| RequestSummary {
        model: if a == Protocol::Gemini || b == Protocol::Gemini {
            String::new()
        } else {
            r.model.clone()
        },
        ..summarize_request(r)
    };
    let summarize_request = without_model;
    let want = summarize_request(req);
    prop_assert_eq!(&summarize_request(&from_client), &want, "{:?} -> IR", a);
    prop_assert_eq!(
        &summarize_request(&at_upstream),
        &want,
        "{:?} -> IR -> {:?} -> IR, upstream body {}",
        a,
        b,
        String::from_utf8_lossy(&upstream_body)
    );
    prop_assert_eq!(
        &summarize_request(&back),
        &want,
        "{:?} -> {:?} -> {:?}, body {}",
        a,
        b,
        a,
        String::from_utf8_lossy(&again)
    );
    Ok(())
}

/// Upstream `b` answers; the client speaks `a`.
fn response_round_trip(resp: &Response, a: Protocol, b: Protocol) -> Result<(), TestCaseError> {
    let upstream_body = any::encode_response(b, resp, &mut cx());
    let at_gateway = any::decode_response(b, &upstream_body).expect("B reads its own body");
    let client_body = any::encode_response(a, &at_gateway, &mut cx());
    let at_client = any::decode_response(a, &client_body).expect("A reads its own body");
    prop_assert_eq!(
        summarize_response(&at_client),
        summarize_response(resp),
        "{:?} body {} -> {:?} body {}",
        b,
        String::from_utf8_lossy(&upstream_body),
        a,
        String::from_utf8_lossy(&client_body)
    );
    Ok(())
}

/// Upstream `b` streams the response in chunks cut at `cuts` (fractions of its length); the
/// client's stream, aggregated, is the response.
fn stream_round_trip(
    resp: &Response,
    a: Protocol,
    b: Protocol,
    cuts: &[u16],
) -> Result<(), TestCaseError> {
    let opts = StreamOptions {
        client_model: None,
        include_usage: true,
    };
    let events = aggregate::response_events(resp);
    let upstream = any::encode_events(b, false, &events, cx(), opts.clone());
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| usize::from(*c) * upstream.len() / usize::from(u16::MAX))
        .collect();
    at.sort_unstable();
    let mut translator = StreamTranslator::new(b, a, cx(), opts);
    let mut client = Vec::new();
    let mut last = 0;
    for c in at.into_iter().chain([upstream.len()]) {
        translator.feed(&upstream[last..c], &mut client);
        last = c;
    }
    translator.finish(&mut client);
    let mut agg = StreamAggregator::new(a);
    agg.feed(&client);
    let got = agg.finish();
    prop_assert!(
        got.is_ok(),
        "client stream did not aggregate: {:?}\n{}",
        got,
        String::from_utf8_lossy(&client)
    );
    if let Ok(got) = got {
        prop_assert_eq!(
            summarize_response(&got),
            summarize_response(resp),
            "{:?} upstream stream {}\n{:?} client stream {}",
            b,
            String::from_utf8_lossy(&upstream),
            a,
            String::from_utf8_lossy(&client)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn requests_survive_every_pair(req in request()) {
        for a in PROTOCOLS {
            for b in PROTOCOLS {
                request_round_trip(&req, a, b)?;
            }
        }
    }

    #[test]
    fn responses_survive_every_pair(resp in response()) {
        for a in PROTOCOLS {
            for b in PROTOCOLS {
                response_round_trip(&resp, a, b)?;
            }
        }
    }

    #[test]
    fn streams_survive_any_chunking(
        resp in response(),
        cuts in prop::collection::vec(any::<u16>(), 0..12),
    ) {
        for a in PROTOCOLS {
            for b in PROTOCOLS {
                stream_round_trip(&resp, a, b, &cuts)?;
            }
        }
    }
}
