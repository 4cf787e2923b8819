//! Anthropic recorded traffic (`shared/fixtures/upstream/anthropic-messages/`): every file
//! decodes into the IR with the facts asserted below; decode → encode → decode gives the same
//! IR (streams also pass the client validator); error bodies map by the ErrorKind table. Every
//! stream at every chunk boundary: `stream_splits.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test anthropic_fixtures`

#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers outside #[test] fns fail loudly on bad fixtures"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod anthropic_support;

use std::collections::BTreeMap;

use anthropic_support as sup;
use switchyard_translators::anthropic;
use switchyard_translators::ir::{
    BlockStart, Delta, ErrorKind, Part, Response, StopReason, StreamEvent, Usage,
};
use switchyard_translators::StreamOptions;

/// What a fixture must decode to.
#[derive(Debug, Default, PartialEq)]
struct Facts {
    text: String,
    thinking: String,
    signatures: usize,
    redacted: usize,
    /// (name, arguments as JSON)
    tools: Vec<(String, serde_json::Value)>,
    /// `type` of each Unknown block, in order.
    unknown: Vec<String>,
    stop: Option<StopReason>,
    usage: Usage,
    ended: bool,
}

fn args(s: &str) -> serde_json::Value {
    if s.is_empty() {
        return serde_json::json!({});
    }
    serde_json::from_str(s).unwrap_or_else(|e| panic!("arguments {s:?}: {e}"))
}

fn facts_of_events(events: &[StreamEvent]) -> Facts {
    let mut f = Facts::default();
    let mut tool_args: BTreeMap<usize, (String, String)> = BTreeMap::new();
    for e in events {
        match e {
            StreamEvent::BlockStart { index, block } => match block {
                BlockStart::ToolCall { name, .. } => {
                    tool_args.insert(*index, (name.clone(), String::new()));
                }
                BlockStart::RedactedThinking { .. } => f.redacted += 1,
                BlockStart::Unknown { value, .. } => {
                    f.unknown.push(value["type"].as_str().unwrap_or("?").into())
                }
                _ => {}
            },
            StreamEvent::Delta { index, delta } => match delta {
                Delta::Text(t) => f.text.push_str(t),
                Delta::Thinking(t) => f.thinking.push_str(t),
                Delta::Signature(_) => f.signatures += 1,
                Delta::ToolArguments(a) => tool_args
                    .get_mut(index)
                    .expect("args after start")
                    .1
                    .push_str(a),
                Delta::EncryptedReasoning(_) => panic!("Anthropic has no encrypted reasoning"),
            },
            StreamEvent::Usage(u) => f.usage = *u,
            StreamEvent::Finish { stop } => f.stop = Some(stop.clone()),
            StreamEvent::End => f.ended = true,
            StreamEvent::Error(e) => panic!("unexpected error {e:?}"),
            StreamEvent::Start { .. } | StreamEvent::BlockStop { .. } => {}
        }
    }
    f.tools = tool_args
        .into_values()
        .map(|(n, a)| (n, args(&a)))
        .collect();
    f
}

fn facts_of_response(r: &Response) -> Facts {
    let mut f = Facts {
        stop: Some(r.stop.clone()),
        usage: r.usage,
        ended: true,
        ..Facts::default()
    };
    for p in &r.parts {
        match p {
            Part::Text { text, .. } => f.text.push_str(text),
            Part::Thinking { text, signature } => {
                f.thinking.push_str(text);
                f.signatures += usize::from(signature.is_some());
            }
            Part::RedactedThinking { .. } => f.redacted += 1,
            Part::ToolCall(c) => f.tools.push((c.name.clone(), args(&c.arguments))),
            Part::Unknown { value, .. } => {
                f.unknown.push(value["type"].as_str().unwrap_or("?").into())
            }
            other => panic!("unexpected part in a response: {other:?}"),
        }
    }
    f
}

fn usage(input: u64, output: u64, read: u64, write: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: read,
        cache_write_tokens: write,
        reasoning_tokens: 0,
    }
}

/// Split a chunk file into its streams (the programmatic-tool-calling file holds several
/// recorded calls back to back); each ends with `message_stop`.
fn streams_of_chunks(name: &str) -> Vec<Vec<u8>> {
    let body = sup::replay_chunks(name);
    let text = String::from_utf8(body).expect("utf-8");
    let mut out = Vec::new();
    let mut cur = String::new();
    for ev in text.split_inclusive("\n\n") {
        cur.push_str(ev);
        if ev.starts_with("event: message_stop\n") {
            out.push(std::mem::take(&mut cur).into_bytes());
        }
    }
    assert!(
        cur.is_empty(),
        "{name}: trailing events without message_stop"
    );
    out
}

/// Every recorded stream body: (label, SSE bytes). Read once per test binary.
fn all_streams() -> Vec<(String, Vec<u8>)> {
    static CACHE: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    CACHE.get_or_init(read_streams).clone()
}

fn read_streams() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for f in sup::all_files() {
        if f.ends_with(".chunks.txt") {
            for (i, s) in streams_of_chunks(&f).into_iter().enumerate() {
                v.push((format!("{f}#{i}"), s));
            }
        } else if f.ends_with(".yaml") {
            for (i, it) in sup::cassette(&f).into_iter().enumerate() {
                if let Some(raw) = it.raw.filter(|r| r.starts_with(b"event:")) {
                    v.push((format!("{f}#{i}"), raw));
                }
            }
        }
    }
    v
}

/// Every recorded whole response: (label, status, JSON body). Read once per test binary.
fn all_bodies() -> Vec<(String, u16, Vec<u8>)> {
    static CACHE: std::sync::OnceLock<Vec<(String, u16, Vec<u8>)>> = std::sync::OnceLock::new();
    CACHE.get_or_init(read_bodies).clone()
}

fn read_bodies() -> Vec<(String, u16, Vec<u8>)> {
    let mut v = Vec::new();
    for f in sup::all_files() {
        if f.ends_with(".json") {
            v.push((f.clone(), 200, sup::read(&f)));
        } else if f.ends_with(".yaml") {
            for (i, it) in sup::cassette(&f).into_iter().enumerate() {
                if let Some(j) = it.json {
                    v.push((format!("{f}#{i}"), it.status, j.to_string().into_bytes()));
                }
            }
        }
    }
    v
}

fn stream_facts(label: &str) -> Facts {
    let (_, body) = all_streams()
        .into_iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no stream {label}"));
    facts_of_events(&sup::decode(&body))
}

fn body_facts(label: &str) -> Facts {
    let (_, _, body) = all_bodies()
        .into_iter()
        .find(|(l, _, _)| l == label)
        .unwrap_or_else(|| panic!("no body {label}"));
    facts_of_response(&anthropic::decode_response(&body).expect("decodes"))
}

#[test]
fn every_fixture_file_is_read_by_these_tests() {
    let streams: Vec<String> = all_streams().into_iter().map(|(l, _)| l).collect();
    let bodies: Vec<String> = all_bodies().into_iter().map(|(l, _, _)| l).collect();
    for f in sup::all_files() {
        let prefix = format!("{f}#");
        assert!(
            streams
                .iter()
                .chain(&bodies)
                .any(|l| *l == f || l.starts_with(&prefix)),
            "{f} is not replayed"
        );
    }
    assert_eq!(
        sup::all_files().len(),
        32,
        "a fixture was added or removed: extend the facts below"
    );
    assert_eq!(streams.len(), 37);
    assert_eq!(bodies.len(), 16);
}

#[test]
fn text_stream_and_body() {
    let f = stream_facts("anthropic-text.chunks.txt#0");
    assert_eq!(
        f.text,
        "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?"
    );
    assert_eq!(f.stop, Some(StopReason::EndTurn));
    assert_eq!(f.usage, usage(12, 30, 0, 0));
    assert!(f.ended && f.tools.is_empty() && f.unknown.is_empty());

    let b = body_facts("anthropic-text.json");
    assert!(b
        .text
        .starts_with("Hello! I'm doing well, thanks for asking."));
    assert_eq!(
        (b.stop, b.usage),
        (Some(StopReason::EndTurn), usage(12, 29, 0, 0))
    );
}

#[test]
fn thinking_with_signature() {
    let f = stream_facts("anthropic-clear-thinking.1.chunks.txt#0");
    assert_eq!(
        f.thinking,
        "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185"
    );
    assert_eq!(f.text, "925 ÷ 5 = 185");
    assert_eq!(f.signatures, 1);
    assert_eq!(f.usage, usage(69, 53, 0, 0));

    let b = body_facts("anthropic-clear-thinking.1.json");
    assert_eq!(
        (b.thinking.as_str(), b.signatures),
        ("925 divided by 5 = 185", 1)
    );

    let f = stream_facts("test_anthropic_model_thinking_part_stream.yaml#0");
    assert!(f
        .thinking
        .starts_with("This is a straightforward question about pedestrian safety."));
    assert!(f
        .text
        .starts_with("Here are the basic steps for safely crossing the street:"));
    assert_eq!((f.signatures, f.usage), (1, usage(43, 282, 0, 0)));

    let f = stream_facts("test_opus_46_adaptive_thinking.yaml#0");
    assert_eq!(f.thinking, "Brief answer with two pet pelican names.");
    assert_eq!(f.text, "\n\n1. **Captain Scoop**\n2. **Gullet**");
    assert_eq!((f.signatures, f.usage), (1, usage(34, 44, 0, 0)));
}

#[test]
fn redacted_thinking() {
    let f = stream_facts("test_anthropic_model_thinking_part_redacted_stream.yaml#0");
    assert_eq!(f.redacted, 2);
    assert!(f.thinking.is_empty());
    assert!(f
        .text
        .starts_with("I notice that you've sent what appears to be some kind of test string"));
    assert_eq!(f.usage, usage(92, 189, 0, 0));
}

#[test]
fn tool_calls() {
    let f = stream_facts("anthropic-json-tool.2.chunks.txt#0");
    assert_eq!(f.text, "I'll invoke the JSON response tool.");
    assert_eq!(
        f.tools,
        vec![(
            "json".to_string(),
            serde_json::json!({"elements": [{"location": "San Francisco", "temperature": 58, "condition": "sunny"}]})
        )]
    );
    assert_eq!(
        (f.stop, f.usage),
        (Some(StopReason::ToolUse), usage(849, 47, 0, 0))
    );

    let f = stream_facts("anthropic-tool-no-args.chunks.txt#0");
    assert_eq!(
        f.tools,
        vec![("updateIssueList".to_string(), serde_json::json!({}))]
    );
    let b = body_facts("anthropic-tool-no-args.json");
    assert_eq!(
        b.tools,
        vec![("updateIssueList".to_string(), serde_json::json!({}))]
    );
    assert!(b.text.starts_with("<thinking>\nThe updateIssueList tool"));

    let b = body_facts("anthropic-json-tool.1.json");
    assert_eq!(b.tools.len(), 1);
    assert_eq!(b.tools[0].0, "json");
    assert!(b.tools[0].1["elements"].is_array());
    assert_eq!(
        (b.stop, b.usage),
        (Some(StopReason::ToolUse), usage(1151, 87, 0, 0))
    );

    let b = body_facts("anthropic-memory-20250818.1.json");
    assert_eq!(b.tools[0].0, "memory");
    assert_eq!(b.tools[0].1["command"], "view");

    // Two parallel calls with empty input, streamed (gzip cassette).
    let f = stream_facts("test_tools.yaml#0");
    assert_eq!(
        f.tools,
        vec![
            ("pelican_name_generator".to_string(), serde_json::json!({})),
            ("pelican_name_generator".to_string(), serde_json::json!({}))
        ]
    );
    assert_eq!(
        (f.stop, f.usage),
        (Some(StopReason::ToolUse), usage(542, 62, 0, 0))
    );
    let f = stream_facts("test_tools.yaml#1");
    assert!(f
        .text
        .starts_with("Here are two great names for your pet pelican:"));

    // Four parallel calls, non-stream.
    let b = body_facts("test_multiple_parallel_tool_calls.yaml#0");
    assert_eq!(b.tools.len(), 4);
    assert!(b
        .tools
        .iter()
        .all(|(n, a)| n == "retrieve_entity_info" && a["name"].is_string()));
    assert_eq!(
        (b.stop, b.usage),
        (Some(StopReason::ToolUse), usage(423, 202, 0, 0))
    );

    let b = body_facts("test_anthropic_tool_with_thinking.yaml#0");
    assert_eq!(
        (b.signatures, b.tools[0].0.as_str()),
        (1, "get_user_country")
    );
    assert!(b
        .thinking
        .starts_with("The user is asking about the largest city"));
}

#[test]
fn stop_sequence_and_pause_turn() {
    let f = stream_facts("test_prompt_with_prefill_and_stop_sequences.yaml#0");
    assert_eq!(f.stop, Some(StopReason::StopSequence(Some("```".into()))));
    assert_eq!(
        f.text,
        "\ndef pelican():\n    return \"A large waterbird with a long bill and a throat pouch for catching fish.\"\n"
    );
    let f = stream_facts("test_pause_turn_web_search_streaming_vcr.yaml#0");
    assert_eq!(f.stop, Some(StopReason::PauseTurn));
    assert_eq!(f.signatures, 1);
    assert_eq!(
        f.unknown.iter().filter(|t| *t == "server_tool_use").count(),
        11
    );
    assert_eq!(f.usage, usage(404_500, 943, 0, 0));
    let f = stream_facts("test_pause_turn_web_search_streaming_vcr.yaml#1");
    assert_eq!(f.stop, Some(StopReason::EndTurn));
    assert!(f
        .text
        .contains("All searches have been completed as requested."));
}

#[test]
fn server_tools_stay_unknown_with_their_input() {
    let events = sup::decode(&streams_of_chunks("anthropic-web-search-tool.1.chunks.txt")[0]);
    let f = facts_of_events(&events);
    assert_eq!(f.unknown, vec!["server_tool_use", "web_search_tool_result"]);
    assert!(f
        .text
        .starts_with("Based on my search results, here are the key tech news"));
    assert_eq!(f.usage, usage(15_665, 795, 0, 0));
    // The server tool's input_json_deltas were folded into the block.
    let input = events
        .iter()
        .find_map(|e| match e {
            StreamEvent::BlockStart {
                block: BlockStart::Unknown { value, .. },
                ..
            } if value["type"] == "server_tool_use" => Some(value["input"].clone()),
            _ => None,
        })
        .expect("server_tool_use");
    assert!(input["query"].is_string(), "{input}");

    let f = stream_facts("anthropic-mcp.1.chunks.txt#0");
    assert_eq!(f.unknown, vec!["mcp_tool_use", "mcp_tool_result"]);
    assert!(f.text.contains("**hello world**"));
    let f = stream_facts("test_anthropic_mcp_servers_stream.yaml#0");
    assert_eq!(f.unknown, vec!["mcp_tool_use", "mcp_tool_result"]);
    assert_eq!(f.signatures, 1);
    let f = stream_facts("anthropic-code-execution-20260120-prompt-cache.1.chunks.txt#0");
    assert_eq!(
        f.unknown,
        vec![
            "server_tool_use",
            "bash_code_execution_tool_result",
            "server_tool_use",
            "bash_code_execution_tool_result"
        ]
    );
    assert_eq!(
        f.text,
        "The sum of the squares of the numbers 1 through 12 is **650**."
    );
    // IR input = input + cache read + cache creation.
    assert_eq!(f.usage, usage(9632, 198, 6289, 3337));
    let f = stream_facts("anthropic-tool-search-deferred-regex.chunks.txt#0");
    assert_eq!(f.unknown[0], "server_tool_use");
    assert_eq!(f.tools[0].0, "readNoteTree");
    let f = stream_facts("test_anthropic_web_fetch_tool_stream.yaml#0");
    assert_eq!(f.unknown, vec!["server_tool_use", "web_fetch_tool_result"]);

    for name in [
        "anthropic-web-fetch-tool.1.json",
        "anthropic-web-fetch-tool.error.json",
    ] {
        let b = body_facts(name);
        assert_eq!(
            b.unknown,
            vec!["server_tool_use", "web_fetch_tool_result"],
            "{name}"
        );
        assert_eq!(b.stop, Some(StopReason::EndTurn));
    }
    let b = body_facts("anthropic-tool-search-bm25.1.json");
    assert_eq!(
        b.unknown,
        vec!["server_tool_use", "tool_search_tool_result"]
    );
    assert_eq!(b.tools[0].0, "get_weather");
}

#[test]
fn programmatic_tool_calling_streams_and_whole_messages_in_message_start() {
    let streams = streams_of_chunks("anthropic-programmatic-tool-calling.1.chunks.txt");
    assert_eq!(streams.len(), 15);
    let first = facts_of_events(&sup::decode(&streams[0]));
    assert_eq!(first.unknown, vec!["server_tool_use"]);
    assert_eq!(
        first.tools,
        vec![(
            "rollDie".to_string(),
            serde_json::json!({"player": "player1"})
        )]
    );
    assert_eq!(first.stop, Some(StopReason::ToolUse));
    // The later recorded calls carry the whole message inside message_start.
    let second = facts_of_events(&sup::decode(&streams[1]));
    assert_eq!(
        second.tools,
        vec![(
            "rollDie".to_string(),
            serde_json::json!({"player": "player2"})
        )]
    );
    assert_eq!(
        (second.stop, second.ended),
        (Some(StopReason::ToolUse), true)
    );
}

#[test]
fn structured_output_and_cache_usage() {
    let f = stream_facts("anthropic-json-output-format.1.chunks.txt#0");
    let v: serde_json::Value = serde_json::from_str(&f.text).expect("the text is the JSON object");
    assert_eq!(v["characters"][0]["name"], "Theron Ironheart");
    assert_eq!(f.usage, usage(313, 305, 0, 0));

    let b = body_facts("test_anthropic_cache_real_api.yaml#0");
    assert_eq!(b.usage, usage(1114, 406, 1111, 0));
    let b = body_facts("test_anthropic_cache_real_api.yaml#1");
    assert_eq!(b.usage, usage(1532, 33, 1111, 418));
    let b = body_facts("test_image_url_input.yaml#0");
    assert!(b.text.starts_with("This is a potato."));
    let f = stream_facts("test_image_prompt.yaml#0");
    assert_eq!(f.text, "Red square, green square.");
}

#[test]
fn error_bodies_map_by_the_table() {
    let (_, status, body) = all_bodies()
        .into_iter()
        .find(|(l, _, _)| l.starts_with("test_anthropic_explicit_effort_xhigh"))
        .expect("error cassette");
    assert_eq!(status, 400);
    let e = anthropic::decode_error(status, &body);
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(
        e.message,
        "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium."
    );
    let (st, out) = anthropic::encode_error(&e);
    assert_eq!(st, 400);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(anthropic::decode_error(st, &out), e);
}

/// SSE events of `body` fed in the given chunks (the framing layer alone).
fn without_repeated_usage(events: Vec<StreamEvent>) -> Vec<StreamEvent> {
    let mut last = None;
    events
        .into_iter()
        .filter(|e| match e {
            StreamEvent::Usage(u) => last.replace(*u) != Some(*u),
            _ => true,
        })
        .collect()
}

#[test]
fn streams_round_trip_through_the_encoder_and_pass_the_client_validator() {
    for (label, body) in all_streams() {
        let first = sup::decode(&body);
        let encoded = sup::encode(&first, StreamOptions::default());
        let assembled = sup::validate(&encoded).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert!(assembled.error.is_none(), "{label}");
        let second = sup::decode(&encoded);
        // The encoder always sends usage in message_delta; a repeat of the same usage is
        // no change.
        assert_eq!(
            without_repeated_usage(second),
            without_repeated_usage(first),
            "{label}"
        );
    }
}

#[test]
fn bodies_round_trip_through_the_encoder() {
    for (label, status, body) in all_bodies() {
        if status != 200 {
            continue;
        }
        let first = anthropic::decode_response(&body).unwrap_or_else(|e| panic!("{label}: {e}"));
        let encoded = anthropic::encode_response(&first, &mut sup::ctx());
        let second = anthropic::decode_response(&encoded).expect("re-decodes");
        assert_eq!(second, first, "{label}");
    }
}
