//! Golden tests over the recorded OpenAI Responses traffic in
//! `../shared/fixtures/upstream/openai-responses/` (see its README): every stream (chunk files
//! replayed as `event: <type>\ndata: <line>\n\n`, one stream per `response.created`; cassette
//! SSE bodies as recorded), every JSON body and every cassette request and error decodes into
//! IR with the concrete facts below. The expectations were computed from each fixture's own
//! final response object (`response.completed` or the JSON body), independently of this crate.
//! Every stream split at every byte offset: `stream_splits.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test openai_responses_fixtures`

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod openai_responses_support;

use openai_responses_support as s;
use serde_json::Value;
use switchyard_translators::ir::{
    Effort, ErrorKind, MediaSource, Part, ReasoningMode, Role, StopReason, StreamEvent,
};
use switchyard_translators::openai_responses as r;

struct Expect {
    label: &'static str,
    stream: bool,
    id: &'static str,
    model: &'static str,
    text_chars: usize,
    text_start: &'static str,
    text_end: &'static str,
    /// `(name, argument JSON text)`.
    tools: &'static [(&'static str, &'static str)],
    thinking_chars: usize,
    thinking_start: &'static str,
    reasoning: usize,
    encrypted: usize,
    unknown: &'static [&'static str],
    stop: StopReason,
    /// `(input, output, cache read, reasoning)`.
    usage: (u64, u64, u64, u64),
}

fn expectations() -> Vec<Expect> {
    vec![
    Expect { label: "azure-text.1.chunks.txt#0", stream: true, id: "resp_02ce8deeb6197db200698c5196e9588197a572bbea62d38cd1", model: "gpt-5.1", text_chars: 5, text_start: "Hello", text_end: "Hello", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (11, 11, 0, 0) },
    Expect { label: "azure-text.1.json", stream: false, id: "resp_0d6bb044bb6ff37200698c51948054819385e24e2ad931ae6e", model: "gpt-5.1", text_chars: 4, text_start: "Word", text_end: "Word", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (11, 11, 0, 0) },
    Expect { label: "azure-tool-call.1.chunks.txt#0", stream: true, id: "resp_04041325ab8ae30400698c519fb7fc81979972618138fc336d", model: "gpt-5.1", text_chars: 0, text_start: "", text_end: "", tools: &[("weather", "{\"location\":\"San Francisco\"}")], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::ToolUse, usage: (45, 24, 0, 0) },
    Expect { label: "openai-client-tool-search.2.chunks.txt#0", stream: true, id: "resp_05147bbe356953b60069ab6736cddc8196933842ce635db83f", model: "gpt-5.4-2026-03-05", text_chars: 0, text_start: "", text_end: "", tools: &[("get_weather", "{\"location\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}")], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::ToolUse, usage: (467, 26, 0, 0) },
    Expect { label: "openai-code-interpreter-tool.1.json", stream: false, id: "resp_024ee52fc1900767006903bf276a60819395647a8a01d4a3d8", model: "gpt-5-nano-2025-08-07", text_chars: 461, text_start: "I ran 10,000 trials of rolling two dice ", text_end: "djust and re-upload.", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 4, encrypted: 0, unknown: &["code_interpreter_call","code_interpreter_call","code_interpreter_call"], stop: StopReason::EndTurn, usage: (2283, 1928, 0, 1792) },
    Expect { label: "openai-file-search-tool.1.chunks.txt#0", stream: true, id: "resp_0459517ad68504ad0068cabfba22b88192836339640e9a765a", model: "gpt-5-mini-2025-08-07", text_chars: 383, text_start: "According to the document, an embedding ", text_end: "odels or NLP tasks .", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 2, encrypted: 0, unknown: &["file_search_call"], stop: StopReason::EndTurn, usage: (3737, 621, 2304, 512) },
    Expect { label: "openai-local-shell-tool.1.chunks.txt#0", stream: true, id: "resp_68da7fd5d24481949fc2cf1cc60377050faf5df54b42d9a6", model: "gpt-5-codex", text_chars: 0, text_start: "", text_end: "", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 1, encrypted: 0, unknown: &["local_shell_call"], stop: StopReason::EndTurn, usage: (407, 151, 0, 128) },
    Expect { label: "openai-phase.1.chunks.txt#0", stream: true, id: "resp_0a63f40a2632b74300699f8818e5648196a8fa657ae8091421", model: "gpt-5.3-codex", text_chars: 1638, text_start: "Got it — I’ll quickly check reliable, up", text_end: "ief with timestamps.", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (7112, 463, 3072, 64) },
    Expect { label: "openai-reasoning-encrypted-content.1.chunks.txt#0", stream: true, id: "resp_01830d662ab3856501693c321345c88190b0de00f3b9975691", model: "gpt-5.1-codex-max", text_chars: 0, text_start: "", text_end: "", tools: &[("calculator", "{\"a\":12,\"b\":7,\"op\":\"add\"}")], thinking_chars: 163, thinking_start: "**Calculating step-by-step usi", reasoning: 1, encrypted: 1, unknown: &[], stop: StopReason::ToolUse, usage: (134, 28, 0, 0) },
    Expect { label: "openai-reasoning-encrypted-content.1.chunks.txt#1", stream: true, id: "resp_01830d662ab3856501693c3215903881909b710d150ff65014", model: "gpt-5.1-codex-max", text_chars: 0, text_start: "", text_end: "", tools: &[("calculator", "{\"a\":19,\"b\":3,\"op\":\"multiply\"}")], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::ToolUse, usage: (221, 26, 0, 0) },
    Expect { label: "openai-reasoning-encrypted-content.1.chunks.txt#2", stream: true, id: "resp_01830d662ab3856501693c3216bef88190bf0e034cff24137b", model: "gpt-5.1-codex-max", text_chars: 0, text_start: "", text_end: "", tools: &[("calculator", "{\"a\":57,\"b\":10,\"op\":\"multiply\"}")], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::ToolUse, usage: (260, 26, 0, 0) },
    Expect { label: "openai-reasoning-encrypted-content.1.chunks.txt#3", stream: true, id: "resp_01830d662ab3856501693c3217ba4c8190a3ddf6c839d4f12a", model: "gpt-5.1-codex-max", text_chars: 28, text_start: "The final result is **570**.", text_end: "l result is **570**.", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (299, 12, 0, 0) },
    Expect { label: "openai-reasoning-encrypted-content.1.json", stream: false, id: "resp_0f35ed53160b395301693cc957829881909359e7f80cdd20b5", model: "gpt-5-mini-2025-08-07", text_chars: 56, text_start: "12 + 7 = 19\n19 × 3 = 57\n57 × 10 = 570\n\nF", text_end: "0\n\nFinal result: 570", tools: &[], thinking_chars: 399, thinking_start: "**Reporting final result**\n\nTh", reasoning: 1, encrypted: 1, unknown: &[], stop: StopReason::EndTurn, usage: (865, 163, 0, 128) },
    Expect { label: "openai-web-search-tool.1.chunks.txt#0", stream: true, id: "resp_0cc96ac817fdc57e00693337060a408198b92bf1f99cf1b8ec", model: "gpt-5-mini-2025-08-07", text_chars: 3645, text_start: "I checked today’s tech headlines (today ", text_end: "ut more details now?", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 7, encrypted: 0, unknown: &["web_search_call","web_search_call","web_search_call","web_search_call","web_search_call","web_search_call"], stop: StopReason::EndTurn, usage: (31073, 4416, 3712, 3712) },
    Expect { label: "programmatic-tool-calling.1.chunks.txt#0", stream: true, id: "resp_0bac52ec5f239d30016a6145ff09a4819291ced3bf727cda6b", model: "gpt-5.6-sol", text_chars: 0, text_start: "", text_end: "", tools: &[("getInventory", "{\"sku\":\"sku_123\"}")], thinking_chars: 0, thinking_start: "", reasoning: 1, encrypted: 1, unknown: &["program"], stop: StopReason::ToolUse, usage: (631, 87, 0, 37) },
    Expect { label: "test_openai_include_raw_annotations_streaming.yaml#0", stream: true, id: "resp_0a4bc5e23769d65c00696d5e657050819db65effaff8424729", model: "gpt-5.2-2025-12-11", text_chars: 162, text_start: "The tallest mountain in Alberta is **Mou", text_end: "?utm_source=openai))", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &["web_search_call","web_search_call"], stop: StopReason::EndTurn, usage: (12243, 140, 0, 100) },
    Expect { label: "test_openai_include_raw_annotations_streaming.yaml#1", stream: true, id: "resp_0b5cbf1ce3f8b01c00696d5e6d1bdc819c849e7ff3935fc167", model: "gpt-5.2-2025-12-11", text_chars: 179, text_start: "Alberta’s tallest mountain (highest poin", text_end: "?utm_source=openai))", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &["web_search_call"], stop: StopReason::EndTurn, usage: (8234, 79, 0, 34) },
    Expect { label: "test_openai_include_raw_annotations_streaming.yaml#2", stream: true, id: "resp_0dbef2d9d14a548c00696d5e6f5080819086a0a3791c4d6b0c", model: "gpt-5.2-2025-12-11", text_chars: 7, text_start: "2+2 = 4", text_end: "2+2 = 4", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (20, 10, 0, 0) },
    Expect { label: "test_openai_responses_image_generation_jpeg.yaml#0", stream: false, id: "resp_08acbdf1ae54befc0068dd9ced226c8197a2e974b29c565407", model: "gpt-5-2025-08-07", text_chars: 0, text_start: "", text_end: "", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 1, encrypted: 1, unknown: &["image_generation_call"], stop: StopReason::EndTurn, usage: (1889, 1434, 0, 1280) },
    Expect { label: "test_openai_responses_image_url_input.yaml#0", stream: false, id: "resp_67e543cc186c8191a80e0735f8c14c8800ad571c503f65a0", model: "gpt-4o-2024-08-06", text_chars: 76, text_start: "Hello! I see you've shared an image of a", text_end: " I assist you today?", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (663, 20, 0, 0) },
    Expect { label: "test_openai_responses_model_mcp_server_tool_stream.yaml#0", stream: true, id: "resp_00b9cc7a23d047270068faa0e25934819f9c3bfdec80065bc4", model: "o4-mini-2025-04-16", text_chars: 687, text_start: "pydantic-ai is a Python “agent” framewor", text_end: "I agent development.", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 2, encrypted: 2, unknown: &["mcp_list_tools","mcp_call"], stop: StopReason::EndTurn, usage: (1401, 480, 0, 256) },
    Expect { label: "test_openai_responses_model_retry.yaml#0", stream: false, id: "resp_67e547c48c9481918c5c4394464ce0c60ae6111e84dd5c08", model: "gpt-4o-2024-08-06", text_chars: 0, text_start: "", text_end: "", tools: &[("get_location", "{\"loc_name\":\"Londos\"}"),("get_location", "{\"loc_name\":\"London\"}")], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::ToolUse, usage: (0, 0, 0, 0) },
    Expect { label: "test_openai_responses_model_retry.yaml#1", stream: false, id: "resp_67e547c5a2f08191802a1f43620f348503a2086afed73b47", model: "gpt-4o-2024-08-06", text_chars: 175, text_start: "It seems \"Londos\" might be incorrect or ", text_end: " and longitude 0° W.", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (335, 44, 0, 0) },
    Expect { label: "test_openai_responses_prompt_cache_e2e.yaml#0", stream: false, id: "resp_026af6d29369608b006a5716618c60819bac3694425c3ff9d8", model: "gpt-5.6-sol", text_chars: 2, text_start: "OK", text_end: "OK", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (4020, 5, 0, 0) },
    Expect { label: "test_openai_responses_prompt_cache_e2e.yaml#1", stream: false, id: "resp_0dec647b9ff1df8d006a5716666d8c8199aaf0491f9a22e34d", model: "gpt-5.6-sol", text_chars: 2, text_start: "OK", text_end: "OK", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (4020, 5, 4012, 0) },
    Expect { label: "test_openai_responses_stream.yaml#0", stream: true, id: "resp_67e554a155508191900ee113293c4c830794405d35281ae2", model: "gpt-4o-2024-08-06", text_chars: 0, text_start: "", text_end: "", tools: &[("get_capital", "{\"country\":\"France\"}")], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::ToolUse, usage: (255, 16, 0, 0) },
    Expect { label: "test_openai_responses_stream.yaml#1", stream: true, id: "resp_67e554a21aa88191b65876ac5e5bbe0406c52f0e511c76ed", model: "gpt-4o-2024-08-06", text_chars: 31, text_start: "The capital of France is Paris.", text_end: " of France is Paris.", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (278, 9, 0, 0) },
    Expect { label: "test_openai_responses_streaming_usage.yaml#0", stream: true, id: "resp_0050471a34b36ae60068c97b94a480819587a9d70cf2979b33", model: "gpt-5-2025-08-07", text_chars: 0, text_start: "", text_end: "", tools: &[("final_result", "{\"result\":6666}")], thinking_chars: 0, thinking_start: "", reasoning: 1, encrypted: 1, unknown: &[], stop: StopReason::ToolUse, usage: (53, 469, 0, 448) },
    Expect { label: "test_openai_responses_thinking_part_iter.yaml#0", stream: true, id: "resp_68c42d0fb418819dbfa579f69406b49508fbf9b1584184ff", model: "o3-mini-2025-01-31", text_chars: 1251, text_start: "I'm not a road safety professional, but ", text_end: "our area. Stay safe!", tools: &[], thinking_chars: 2028, thinking_start: "**Providing street crossing in", reasoning: 1, encrypted: 1, unknown: &[], stop: StopReason::EndTurn, usage: (13, 1680, 0, 1408) },
    Expect { label: "test_openai_responses_thinking_with_tool_calls.yaml#0", stream: false, id: "resp_68c42d28772c819684459966ee2201ed0e8bc41441c948f6", model: "gpt-5-2025-08-07", text_chars: 0, text_start: "", text_end: "", tools: &[("update_plan", "{\"plan\":\"Plan:\\n1) Determine required first-letter acrostics for lines: odd lines -> SAMIRA; even lines -> DAWOOD (12 total lines).\\n2) For each line, select a world capital whose name begins with the required first letter.\\n3) Compose each line so that the first letter of every word spells that chosen capital (word-initial acrostic), while keeping imagery poetic and coherent.\\n4) Double-check all acrostics (line-initial and word-initial) for accuracy.\\n5) Deliver the 12-line poem.\"}")], thinking_chars: 2919, thinking_start: "**Creating a structured poem**", reasoning: 1, encrypted: 1, unknown: &[], stop: StopReason::ToolUse, usage: (124, 1926, 0, 1792) },
    Expect { label: "test_openai_responses_thinking_with_tool_calls.yaml#1", stream: false, id: "resp_68c42d3fd6a08196bce23d6be960ff8a0e8bc41441c948f6", model: "gpt-5-2025-08-07", text_chars: 499, text_start: "Softly old fountains illumine alleys\nDun", text_end: "curl under starlight", tools: &[], thinking_chars: 0, thinking_start: "", reasoning: 0, encrypted: 0, unknown: &[], stop: StopReason::EndTurn, usage: (2087, 124, 2048, 0) },

    ]
}

#[expect(clippy::panic, reason = "test helper: a failure fails the test")]
fn check(e: &Expect, f: &s::Facts) {
    let l = e.label;
    assert_eq!(f.id, e.id, "{l}: id");
    assert_eq!(f.model, e.model, "{l}: model");
    let chars: Vec<char> = f.text.chars().collect();
    assert_eq!(chars.len(), e.text_chars, "{l}: text length");
    let start: String = chars.iter().take(40).collect();
    let end: String = chars[chars.len().saturating_sub(20)..].iter().collect();
    assert_eq!(start, e.text_start, "{l}: text start");
    assert_eq!(end, e.text_end, "{l}: text end");
    let tools: Vec<(&str, &str)> = f
        .tools
        .iter()
        .map(|t| (t.1.as_str(), t.2.as_str()))
        .collect();
    assert_eq!(tools, e.tools, "{l}: tool calls");
    for (id, _, args) in &f.tools {
        assert!(id.starts_with("call_"), "{l}: call id {id}");
        serde_json::from_str::<Value>(args).unwrap_or_else(|err| panic!("{l}: args {err}"));
    }
    let think: Vec<char> = f.thinking.chars().collect();
    assert_eq!(think.len(), e.thinking_chars, "{l}: thinking length");
    assert_eq!(
        think.iter().take(30).collect::<String>(),
        e.thinking_start,
        "{l}: thinking"
    );
    assert_eq!(f.reasoning, e.reasoning, "{l}: reasoning items");
    assert_eq!(f.encrypted, e.encrypted, "{l}: encrypted_content");
    assert_eq!(f.unknown, e.unknown, "{l}: unknown items");
    assert_eq!(f.stop.as_ref(), Some(&e.stop), "{l}: stop");
    let u = &f.usage;
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.cache_read_tokens,
            u.reasoning_tokens
        ),
        e.usage,
        "{l}: usage"
    );
    assert_eq!(u.cache_write_tokens, 0, "{l}: no cache writes in OpenAI");
    assert!(f.error.is_none(), "{l}: error {:?}", f.error);
}

#[expect(clippy::panic, reason = "test helper: a failure fails the test")]
fn expect(label: &str, stream: bool) -> Expect {
    expectations()
        .into_iter()
        .find(|e| e.label == label && e.stream == stream)
        .unwrap_or_else(|| panic!("no expectation for {label}"))
}

const ERROR_STREAM: &str = "openai-error.1.chunks.txt#0";

#[test]
fn every_fixture_file_is_covered() {
    let files = s::all_files();
    assert_eq!(files.len(), 25, "README lists 25 files: {files:?}");
    let labels: Vec<String> = expectations()
        .iter()
        .map(|e| e.label.split('#').next().unwrap().to_string())
        .collect();
    for f in files {
        let known = labels.contains(&f)
            || f == "openai-error.1.json"
            || f == "openai-error.1.chunks.txt"
            || f == "test_openai_responses_model_http_error.yaml";
        assert!(known, "fixture {f} has no expectation");
    }
    // Every recorded 200 response has a row.
    let streams = s::all_streams();
    assert_eq!(streams.len(), 21);
    for (label, _) in &streams {
        if label != ERROR_STREAM {
            expect(label, true);
        }
    }
}

#[test]
fn streams_decode_to_the_recorded_facts() {
    for (label, body) in s::all_streams() {
        let events = s::decode(&body);
        assert!(
            matches!(events.first(), Some(StreamEvent::Start { .. })),
            "{label}: Start first"
        );
        let terminal = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::End | StreamEvent::Error(_)))
            .count();
        assert_eq!(terminal, 1, "{label}: one End or Error");
        let f = s::facts_of_events(&events);
        if label == ERROR_STREAM {
            assert_eq!(
                f.id,
                "resp_05500b38c2cd9bfc00691c7c9d222481a3b595421266dab424"
            );
            let e = f.error.expect("error");
            assert_eq!(
                e.kind,
                ErrorKind::RateLimit,
                "insufficient_quota is a rate limit"
            );
            assert!(e.message.starts_with("You exceeded your current quota"));
            assert!(f.stop.is_none());
            assert!(matches!(events.last(), Some(StreamEvent::Error(_))));
            continue;
        }
        assert!(
            matches!(events.last(), Some(StreamEvent::End)),
            "{label}: End last"
        );
        check(&expect(&label, true), &f);
    }
}

/// The deltas add up to the final response object the same stream ends with.
#[test]
fn stream_deltas_agree_with_the_final_response_object() {
    for (label, body) in s::all_streams() {
        if label == ERROR_STREAM {
            continue;
        }
        let text = String::from_utf8(body.clone()).unwrap();
        let last = text
            .split("\n\n")
            .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("data: ")))
            .filter(|d| d.contains("\"response.completed\""))
            .last()
            .unwrap_or_else(|| panic!("{label}: no response.completed"));
        let v: Value = serde_json::from_str(last).unwrap();
        let whole = r::decode_response(v["response"].to_string().as_bytes()).unwrap();
        let from_stream = s::facts_of_events(&s::decode(&body));
        assert_eq!(from_stream, s::facts_of_response(&whole), "{label}");
    }
}

#[test]
fn json_bodies_decode_to_the_recorded_facts() {
    let mut n = 0;
    for f in s::all_files() {
        if f.ends_with(".json") && f != "openai-error.1.json" {
            let resp = r::decode_response(&s::read(&f)).unwrap();
            check(&expect(&f, false), &s::facts_of_response(&resp));
            n += 1;
        } else if f.ends_with(".yaml") {
            for (i, it) in s::cassette(&f).iter().enumerate() {
                if let (Some(j), 200) = (&it.json, it.status) {
                    let resp = r::decode_response(j.to_string().as_bytes()).unwrap();
                    check(
                        &expect(&format!("{f}#{i}"), false),
                        &s::facts_of_response(&resp),
                    );
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 11);
}

#[test]
fn error_bodies() {
    let body = s::read("openai-error.1.json");
    let e = r::decode_error(429, &body);
    assert_eq!(e.kind, ErrorKind::RateLimit);
    assert_eq!(e.status, Some(429));
    assert!(e.message.starts_with("You exceeded your current quota"));
    assert!(
        r::decode_response(&body).is_err(),
        "an error body is not a response"
    );

    let c = s::cassette("test_openai_responses_model_http_error.yaml");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].status, 400);
    let e = r::decode_error(400, c[0].json.as_ref().unwrap().to_string().as_bytes());
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert_eq!(
        e.message,
        "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead."
    );
    // Not JSON at all: the status decides.
    let e = r::decode_error(503, b"<html>upstream down</html>");
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(e.message, "<html>upstream down</html>");
}

#[test]
fn cassette_requests_decode() {
    let mut n = 0;
    for f in s::all_files().into_iter().filter(|f| f.ends_with(".yaml")) {
        for it in s::cassette(&f) {
            let body = it
                .request
                .as_ref()
                .unwrap_or_else(|| panic!("{f}: no request"));
            let req = r::decode_request(body.to_string().as_bytes()).unwrap();
            assert_eq!(req.model, body["model"].as_str().unwrap(), "{f}");
            assert!(!req.messages.is_empty(), "{f}");
            n += 1;
        }
    }
    assert_eq!(n, 17);

    let c = s::cassette("test_openai_responses_image_url_input.yaml");
    let req = r::decode_request(c[0].request.as_ref().unwrap().to_string().as_bytes()).unwrap();
    assert!(
        req.system.is_empty(),
        "empty instructions are no system prompt"
    );
    let parts = &req.messages[0].parts;
    assert!(matches!(&parts[0], Part::Text { text, .. } if text == "hello"));
    let Part::Image(m) = &parts[1] else {
        panic!("image")
    };
    assert!(
        matches!(&m.source, MediaSource::Url { url, .. } if url.starts_with("https://t3.ftcdn.net/"))
    );

    // Second turn of a tool run: user, assistant with two calls, user with both results.
    let c = s::cassette("test_openai_responses_model_retry.yaml");
    let req = r::decode_request(c[1].request.as_ref().unwrap().to_string().as_bytes()).unwrap();
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
    let calls: Vec<&str> = req.messages[1]
        .parts
        .iter()
        .map(|p| match p {
            Part::ToolCall(c) => c.id.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        calls,
        [
            "call_LWVp74L5HaH2KNvgVz9PJsrj",
            "call_YnRAWeTyxI91m5uNa5bxXwVO"
        ]
    );
    for (p, id) in req.messages[2].parts.iter().zip(calls) {
        let Part::ToolResult(t) = p else {
            panic!("{p:?}")
        };
        assert_eq!(t.call_id, id);
        assert_eq!(
            t.name.as_deref(),
            Some("get_location"),
            "name found from the call"
        );
        assert!(!t.is_error);
    }

    // Reasoning sent back with encrypted_content; effort and summary.
    let c = s::cassette("test_openai_responses_thinking_with_tool_calls.yaml");
    let req = r::decode_request(c[1].request.as_ref().unwrap().to_string().as_bytes()).unwrap();
    let rs = req.reasoning.as_ref().unwrap();
    assert_eq!(rs.mode, ReasoningMode::Effort(Effort::Low));
    assert_eq!(rs.summary.as_deref(), Some("detailed"));
    assert!(req.system[0] == Part::Text { text: "You are a helpful assistant that uses planning. You MUST use the update_plan tool and continually update it as you make progress against the user's prompt".into(), cache_control: None });
    let assistant = &req.messages[1];
    assert_eq!(assistant.role, Role::Assistant);
    let Part::Reasoning(item) = &assistant.parts[0] else {
        panic!("reasoning first")
    };
    assert!(item
        .encrypted_content
        .as_deref()
        .unwrap()
        .starts_with("gAAAAABoxC0_"));
    assert!(item.id.as_deref().unwrap().starts_with("rs_"));
    assert!(matches!(&assistant.parts[1], Part::ToolCall(c) if c.name == "update_plan"));
    let extra = &req.extra.as_ref().unwrap().1;
    assert_eq!(
        extra["include"],
        serde_json::json!(["reasoning.encrypted_content"])
    );
}
