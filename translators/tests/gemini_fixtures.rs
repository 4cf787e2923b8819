//! Golden tests over the recorded Gemini traffic in `../shared/fixtures/upstream/gemini/`
//! (see its README): every response and stream decodes into the IR with the facts asserted
//! below; responses and streams round-trip through the encoders. Requests:
//! `gemini_fixture_requests.rs`. Every stream split at every byte offset (SSE and the non-SSE
//! JSON array): `stream_splits.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test gemini_fixtures`
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod gemini_support;

use gemini_support::{cassette, dir, is_generate, read, FILES};
use serde_json::{json, Value};
use switchyard_translators::gemini::{self, ArrayStreamDecoder, StreamDecoder, StreamEncoder};
use switchyard_translators::ir::{
    BlockStart, Delta, EncodeContext, ErrorKind, MediaSource, Part, Response, StopReason,
    StreamEvent, Usage,
};
use switchyard_translators::sse::SseDecoder;
use switchyard_translators::StreamOptions;

/// `*.chunks.txt` replayed as the `alt=sse` bytes Google sends.
fn sse_bytes(name: &str) -> Vec<u8> {
    let text = String::from_utf8(read(name)).unwrap();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.extend_from_slice(format!("data: {line}\r\n\r\n").as_bytes());
    }
    out
}

fn decode_sse(chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::default();
    let mut dec = StreamDecoder::new();
    let (mut events, mut out) = (Vec::new(), Vec::new());
    for c in chunks {
        sse.feed(c, &mut events).unwrap();
    }
    sse.finish(&mut events);
    for e in &events {
        dec.feed(e, &mut out);
    }
    dec.finish(&mut out);
    out
}

fn decode_array(chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut framing = ArrayStreamDecoder::default();
    let mut dec = StreamDecoder::new();
    let (mut events, mut out) = (Vec::new(), Vec::new());
    for c in chunks {
        framing.feed(c, &mut events).unwrap();
    }
    framing.finish(&mut events);
    for e in &events {
        dec.feed(e, &mut out);
    }
    dec.finish(&mut out);
    out
}

/// What a stream or a response says, for assertions.
#[derive(Debug, Default)]
struct Facts {
    id: String,
    model: String,
    text: String,
    thinking: String,
    signatures: usize,
    /// (id, name, arguments as JSON, signature present)
    calls: Vec<(String, String, Value, bool)>,
    unknown: Vec<Value>,
    images: Vec<String>,
    stop: Option<StopReason>,
    usage: Usage,
}

/// Checks the IR event grammar while collecting the facts.
fn facts_of_events(events: &[StreamEvent]) -> Facts {
    let mut f = Facts::default();
    assert!(
        matches!(events.first(), Some(StreamEvent::Start { .. })),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&StreamEvent::End), "ends with End");
    let mut open: Vec<(usize, BlockStart, String, bool)> = Vec::new();
    let mut finished = false;
    for ev in events {
        assert!(
            !finished || matches!(ev, StreamEvent::End),
            "after Finish: {ev:?}"
        );
        match ev {
            StreamEvent::Start { id, model } => {
                f.id = id.clone();
                f.model = model.clone();
            }
            StreamEvent::BlockStart { index, block } => {
                assert!(open.iter().all(|(i, ..)| i != index), "index reused");
                if let BlockStart::Unknown { value, .. } = block {
                    f.unknown.push(value.clone());
                }
                open.push((*index, block.clone(), String::new(), false));
            }
            StreamEvent::Delta { index, delta } => {
                let entry = open
                    .iter_mut()
                    .find(|(i, ..)| i == index)
                    .expect("delta of an open block");
                match (delta, &entry.1) {
                    (Delta::Text(t), BlockStart::Text) => f.text.push_str(t),
                    (Delta::Thinking(t), BlockStart::Thinking) => f.thinking.push_str(t),
                    (Delta::Signature(_), BlockStart::Thinking) => f.signatures += 1,
                    (Delta::Signature(_), BlockStart::ToolCall { .. }) => {
                        f.signatures += 1;
                        entry.3 = true;
                    }
                    (Delta::ToolArguments(a), BlockStart::ToolCall { .. }) => entry.2.push_str(a),
                    other => panic!("unexpected delta {other:?}"),
                }
            }
            StreamEvent::BlockStop { index } => {
                let pos = open
                    .iter()
                    .position(|(i, ..)| i == index)
                    .expect("stop of an open block");
                let (_, block, args, signed) = open.remove(pos);
                if let BlockStart::ToolCall { id, name } = block {
                    let args: Value = serde_json::from_str(&args).expect("complete arguments JSON");
                    f.calls.push((id, name, args, signed));
                }
            }
            StreamEvent::Usage(u) => f.usage = *u,
            StreamEvent::Finish { stop } => {
                assert!(open.is_empty(), "blocks open at Finish: {open:?}");
                f.stop = Some(stop.clone());
                finished = true;
            }
            StreamEvent::Error(e) => panic!("unexpected error {e:?}"),
            StreamEvent::End => {}
        }
    }
    f
}

fn facts_of_response(r: &Response) -> Facts {
    let mut f = Facts {
        id: r.id.clone(),
        model: r.model.clone(),
        stop: Some(r.stop.clone()),
        usage: r.usage,
        ..Facts::default()
    };
    for p in &r.parts {
        match p {
            Part::Text { text, .. } => f.text.push_str(text),
            Part::Thinking { text, signature } => {
                f.thinking.push_str(text);
                f.signatures += usize::from(signature.is_some());
            }
            Part::ToolCall(c) => {
                f.signatures += usize::from(c.signature.is_some());
                let args = serde_json::from_str(&c.arguments).unwrap();
                f.calls
                    .push((c.id.clone(), c.name.clone(), args, c.signature.is_some()));
            }
            Part::Unknown { value, .. } => f.unknown.push(value.clone()),
            Part::Image(m) => match &m.source {
                MediaSource::Base64 { media_type, .. } => f.images.push(media_type.clone()),
                other => panic!("{other:?}"),
            },
            other => panic!("unexpected part {other:?}"),
        }
    }
    f
}

fn usage(input: u64, output: u64, read: u64, reasoning: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: read,
        cache_write_tokens: 0,
        reasoning_tokens: reasoning,
    }
}

fn ctx() -> EncodeContext {
    EncodeContext::new(1_764_000_000, "sy")
}

/// Encode IR events as an `alt=sse` stream and decode them again.
fn reencode(events: &[StreamEvent]) -> Vec<StreamEvent> {
    let mut enc = StreamEncoder::new(ctx(), StreamOptions::default());
    let mut bytes = Vec::new();
    for e in events {
        enc.encode(e, &mut bytes);
    }
    decode_sse(&[&bytes])
}

fn stream_facts(name: &str) -> Facts {
    let events = decode_sse(&[&sse_bytes(name)]);
    assert_eq!(
        reencode(&events),
        events,
        "{name}: encode → decode changes the events"
    );
    facts_of_events(&events)
}

fn response_facts(body: &[u8]) -> Facts {
    let r = gemini::decode_response(body).unwrap();
    let again = gemini::decode_response(&gemini::encode_response(&r, &mut ctx())).unwrap();
    assert_eq!(again, r, "encode → decode changes the response");
    facts_of_response(&r)
}

// -------------------------------------------------------------------------------- cassettes

/// The facts of every generateContent response in a cassette, checking the
/// round-trip properties of streams on the way.
fn cassette_facts(name: &str) -> Vec<Facts> {
    let mut out = Vec::new();
    for it in cassette(name).iter().filter(|it| is_generate(it)) {
        let body = it.body();
        let events = if it.uri.contains("alt=sse") {
            decode_sse(&[&body])
        } else if it.uri.contains(":streamGenerateContent") {
            decode_array(&[&body])
        } else {
            out.push(response_facts(&body));
            continue;
        };
        assert_eq!(reencode(&events), events, "{name}: encode → decode");
        out.push(facts_of_events(&events));
    }
    out
}

#[test]
fn every_fixture_file_is_covered() {
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk, FILES,
        "a fixture without a test (or a test without its fixture)"
    );
}

// ------------------------------------------------------------------------------------ facts

#[test]
fn text_streams_and_bodies() {
    let f = stream_facts("google-text.chunks.txt");
    assert_eq!(f.id, "bH6LaZW8Fp_3nsEPqtaSwQ4");
    assert_eq!(f.model, "gemini-3-pro-preview");
    assert_eq!(
        f.text,
        "There are **3** \"r\"s in strawberry.\n\nst**r**awbe**rr**y"
    );
    assert_eq!(
        (f.thinking.as_str(), f.signatures),
        ("", 1),
        "signature on the empty last part"
    );
    assert_eq!(f.stop, Some(StopReason::EndTurn));
    assert_eq!(f.usage, usage(9, 23 + 185, 0, 185));

    let f = response_facts(&read("google-text.json"));
    assert_eq!(
        f.text,
        "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y."
    );
    assert_eq!(f.signatures, 1);
    assert_eq!(f.usage, usage(9, 28 + 244, 0, 244));
    assert_eq!(f.id, "Un6LacrVMcjUxs0PmJfWoQc");

    let f = stream_facts("google-reasoning-gemini3.chunks.txt");
    assert_eq!(
        f.text,
        "There are **3** \"r\"s in strawberry.\n\nSt**r**awbe**rr**y"
    );
    assert_eq!(f.signatures, 1);
    assert_eq!(f.usage, usage(9, 23 + 302, 0, 302));

    let f = response_facts(&read("google-reasoning.json"));
    assert_eq!(
        f.text,
        "There are **3** \"r\"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y."
    );
    assert_eq!((f.signatures, f.usage), (1, usage(9, 29 + 282, 0, 282)));

    let [f] = &cassette_facts("test_google_vertex_service_tier_flex_stream.yaml")[..] else {
        panic!()
    };
    assert_eq!((f.text.as_str(), f.signatures), ("OK", 1));
    assert_eq!(f.usage, usage(5, 1 + 100, 0, 100));
}

#[test]
fn thinking_parts() {
    let [f] = &cassette_facts("test_google_model_thinking_part_iter.yaml")[..] else {
        panic!()
    };
    assert!(
        f.thinking
            .starts_with("**Clarifying User Goals**\n\nI'm currently focused"),
        "{}",
        f.thinking
    );
    assert_eq!(f.thinking.chars().count(), 1575);
    assert!(f
        .text
        .starts_with("This is a great question! Safely crossing the street"));
    assert!(f
        .text
        .ends_with("Always assume a driver might not see you."));
    assert_eq!(f.text.chars().count(), 1938);
    assert_eq!(f.signatures, 1);
    assert_eq!(f.usage, usage(34, 469 + 787, 0, 787));

    // llm-gemini: the non-SSE JSON-array stream, gzip-compressed.
    let [f] = &cassette_facts("test_prompt.yaml")[..] else {
        panic!()
    };
    assert!(f.thinking.starts_with("**Considering the Constraint**"));
    assert_eq!(f.thinking.chars().count(), 275);
    assert_eq!((f.text.as_str(), f.signatures), ("Scoop", 1));
    assert_eq!(f.id, "IopyaseNCL-s-8YP7urOoAY");
    assert_eq!(f.usage, usage(11, 2 + 291, 0, 291));
}

#[test]
fn tool_calls() {
    let f = stream_facts("google-tool-call-gemini3.chunks.txt");
    assert_eq!(
        f.calls,
        vec![(
            "call_weather_0_QHiLaa6LBrb8vdIPoNztsAg".into(),
            "weather".into(),
            json!({"location": "San Francisco"}),
            true
        )]
    );
    assert_eq!(f.stop, Some(StopReason::ToolUse));
    assert_eq!(f.usage, usage(29, 15 + 804, 0, 804));

    let f = response_facts(&read("google-tool-call-gemini3.json"));
    assert_eq!(
        f.calls,
        vec![(
            "call_weather_0_JniLacKqGqH0xs0P0O776As".into(),
            "weather".into(),
            json!({"location": "San Francisco"}),
            true
        )]
    );
    assert_eq!(
        (f.stop, f.usage),
        (Some(StopReason::ToolUse), usage(29, 15 + 1801, 0, 1801))
    );

    // Thought summary, then four parallel calls (one without args) with streamed arguments.
    let f = stream_facts("google-stream-no-args-tool-call.chunks.txt");
    assert!(f.thinking.starts_with("**Processing User Requests**"));
    assert_eq!(f.thinking.chars().count(), 320);
    assert_eq!(
        f.calls,
        vec![
            (
                "call_read_theme_0__vr4aYiWEJnYodAPkujX0QM".into(),
                "read_theme".into(),
                json!({}),
                true
            ),
            (
                "call_read_screen_1__vr4aYiWEJnYodAPkujX0QM".into(),
                "read_screen".into(),
                json!({"id": "A"}),
                false
            ),
            (
                "call_read_screen_2__vr4aYiWEJnYodAPkujX0QM".into(),
                "read_screen".into(),
                json!({"id": "B"}),
                false
            ),
            (
                "call_read_screen_3__vr4aYiWEJnYodAPkujX0QM".into(),
                "read_screen".into(),
                json!({"id": "C"}),
                false
            ),
        ]
    );
    assert_eq!(
        (f.stop, f.usage),
        (Some(StopReason::ToolUse), usage(249, 58 + 183, 0, 183))
    );

    // Vertex streamed arguments with nested JSON paths, assembled into one object.
    let f = stream_facts("google-vertex-stream-tool-call-arguments-nested.1.chunks.txt");
    let [(id, name, args, true)] = &f.calls[..] else {
        panic!("{:?}", f.calls)
    };
    assert_eq!(
        (id.as_str(), name.as_str()),
        ("call_cookRecipe_0_tjXVaYaxFISTq8YP_MWiyAo", "cookRecipe")
    );
    assert_eq!(args["recipe"]["name"], "Lasagna");
    assert_eq!(args["recipe"]["ingredients"].as_array().unwrap().len(), 10);
    assert_eq!(
        args["recipe"]["ingredients"][0],
        json!({"amount": "16 oz", "name": "Lasagna noodles"})
    );
    assert_eq!(
        args["recipe"]["ingredients"][9],
        json!({"amount": "1/2 tsp", "name": "Pepper"})
    );
    assert_eq!(args["recipe"]["steps"].as_array().unwrap().len(), 10);
    assert_eq!(
        args["recipe"]["steps"][1],
        "Cook lasagna noodles according to package directions, drain and set aside."
    );
    assert_eq!(
        args["recipe"]["steps"][4],
        "In a 9x13 baking dish, spread a thin layer of meat sauce."
    );
    assert_eq!(f.usage, usage(31, 684 + 1026, 0, 1026));

    let [first, second] =
        &cassette_facts("test_google_streaming_tool_call_thought_signature.yaml")[..]
    else {
        panic!()
    };
    assert_eq!(
        first.calls,
        vec![(
            "call_get_country_0_QUVVadTSNJ6_qtsPvN7J8Q0".into(),
            "get_country".into(),
            json!({}),
            true
        )]
    );
    assert_eq!(first.stop, Some(StopReason::ToolUse));
    assert_eq!(
        (second.text.as_str(), second.stop.clone()),
        (
            "The capital of Mexico is Mexico City.",
            Some(StopReason::EndTurn)
        )
    );

    // llm-gemini JSON-array stream.
    let [first, second] = &cassette_facts("test_tools_with_gemini_3_thought_signatures.yaml")[..]
    else {
        panic!()
    };
    assert_eq!(
        first.calls,
        vec![(
            "call_multiply_0_6XJFadi3PJOx-sAPgJ3S6Qs".into(),
            "multiply".into(),
            json!({"x": 5, "y": 3}),
            true
        )]
    );
    assert_eq!(first.usage, usage(60, 16 + 32, 0, 32));
    assert_eq!(second.text, "5 times 3 is 15.");

    let all = cassette_facts("test_google_instructions_only_with_tool_calls.yaml");
    assert_eq!(all.len(), 5);
    let parallel: Vec<_> = all[0]
        .calls
        .iter()
        .map(|(id, n, a, s)| (id.as_str(), n.as_str(), a.clone(), *s))
        .collect();
    assert_eq!(
        parallel,
        vec![
            (
                "call_generate_topic_0_wOd8abGuO5rgz7IP5tLEGA",
                "generate_topic",
                json!({}),
                true
            ),
            (
                "call_generate_topic_1_wOd8abGuO5rgz7IP5tLEGA",
                "generate_topic",
                json!({}),
                false
            ),
            (
                "call_generate_topic_2_wOd8abGuO5rgz7IP5tLEGA",
                "generate_topic",
                json!({}),
                false
            ),
        ]
    );
    assert!(all.iter().all(|f| f.stop == Some(StopReason::ToolUse)));
    assert_eq!(all[4].calls[0].2["response"].as_array().unwrap().len(), 3);

    let all = cassette_facts("test_google_model_retry.yaml");
    assert_eq!(
        all[0].calls,
        vec![(
            "call_get_capital_0_g5YoaezOBeyrqtsPwYqL2Q8".into(),
            "get_capital".into(),
            json!({"country": "France"}),
            true
        )]
    );
    assert_eq!(all[1].calls[0].2, json!({"country": "La France"}));
    assert_eq!(
        (all[2].text.as_str(), all[2].stop.clone()),
        ("Paris", Some(StopReason::EndTurn))
    );
    assert_eq!(all[2].usage, usage(142, 1 + 97, 0, 97));
}

#[test]
fn stop_reasons_usage_and_other_parts() {
    let [f] = &cassette_facts("test_google_model_max_tokens.yaml")[..] else {
        panic!()
    };
    assert_eq!(
        (f.text.as_str(), f.stop.clone()),
        ("The capital of France is", Some(StopReason::MaxTokens))
    );
    assert_eq!(f.usage, usage(15, 5, 0, 0));

    let [f] = &cassette_facts("test_google_model_safety_settings.yaml")[..] else {
        panic!()
    };
    assert_eq!(
        (f.text.as_str(), f.stop.clone()),
        ("", Some(StopReason::ContentFilter))
    );
    assert_eq!(f.usage, usage(14, 0, 0, 0));

    let all = cassette_facts("test_google_model_cached_content.yaml");
    assert_eq!(
        all.len(),
        2,
        "the cachedContents calls are not generateContent"
    );
    for f in &all {
        assert_eq!(f.text, "Paris.");
        assert_eq!(
            (f.usage.input_tokens, f.usage.cache_read_tokens),
            (3520, 3512)
        );
    }

    let [f] = &cassette_facts("test_google_model_image_url_input.yaml")[..] else {
        panic!()
    };
    assert_eq!(
        (f.text.as_str(), f.usage),
        ("That is a potato.", usage(1817, 5, 0, 0))
    );

    let [f] = &cassette_facts("test_google_vertexai_image_generation_with_output_format.yaml")[..]
    else {
        panic!()
    };
    assert_eq!(f.images.len(), 1);
    assert!(f.images[0].starts_with("image/"), "{:?}", f.images);
    assert_eq!(f.usage, usage(9, 1290, 0, 0));

    // Code execution: executableCode / codeExecutionResult stay Gemini unknown blocks;
    // toolUsePromptTokenCount counts as input.
    let [f] = &cassette_facts("test_code_execution_stream.yaml")[..] else {
        panic!()
    };
    assert_eq!(
        f.text,
        "The result of $65465 - 6544 \\times 65464 - 6 + 1.02255$ is **-428,330,955.97745**."
    );
    assert_eq!(f.unknown.len(), 2);
    assert!(
        f.unknown[0].get("executableCode").is_some(),
        "{:?}",
        f.unknown[0]
    );
    assert!(
        f.unknown[0].get("thoughtSignature").is_some(),
        "kept verbatim with its signature"
    );
    assert!(f.unknown[1].get("codeExecutionResult").is_some());
    assert_eq!(f.usage, usage(147 + 360, 108 + 168, 0, 168));

    let [stream, whole] = &cassette_facts("test_google_model_web_search_tool_stream.yaml")[..]
    else {
        panic!()
    };
    assert!(stream
        .text
        .starts_with("### Weather in San Francisco is Mild and Partly Cloudy Today"));
    assert_eq!(stream.usage, usage(17 + 102, 241 + 412, 0, 412));
    assert!(whole
        .text
        .starts_with("### Scattered Thunderstorms and Mild Temperatures in Mexico City Today"));
}

#[test]
fn error_body() {
    let it = &cassette("test_model_name_suggestion[google].yaml")[0];
    let err = gemini::decode_error(it.status, &it.body());
    assert_eq!((err.status, err.kind), (Some(404), ErrorKind::NotFound));
    assert!(
        err.message
            .starts_with("models/gemini-3.6-flahs is not found"),
        "{}",
        err.message
    );
    let (code, body) = gemini::encode_error(&err);
    assert_eq!(code, 404);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["status"], "NOT_FOUND");
    assert_eq!(gemini::decode_error(code, &body), err);
}
