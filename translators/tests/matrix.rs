//! The cross-protocol replay (issue 3, "Real recorded traffic"): every recorded upstream
//! fixture is decoded with its own protocol's decoder and re-encoded by EVERY client
//! protocol's encoder, as a stream and as a whole response; the output must satisfy that
//! client's parser rules (`common::validate`, from ../shared/CLIENTS.md) and, decoded back by
//! the client protocol's decoder, mean the same (`common::summary`: text, thinking text, tool
//! names and argument JSON, stop reason, usage, error class — modulo what the client protocol
//! cannot express, listed on `Summary::as_seen_by`). Every stream is also decoded split at
//! byte offsets (see [`split_offsets`]) and must give the same IR events, hence (encoders
//! being deterministic, checked here too) byte-identical output for every client.
//!
//! Then the STYLE 13 scenario list (`common::scenarios`) through every encoder.
//!
//! Tables, not loops: `fixtures!` and `scenarios!` expand one test per (case × client
//! protocol), and `every_fixture_file_is_listed` fails when a fixture file has no row.
//!
//! Run: `cargo test -p switchyard-translators --test matrix`
#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test code (helpers included): a broken fixture or a failed check is a failed test"
)]

mod common;

use common::fixtures::Recorded;
use common::request_summary::RequestSummary;
use common::summary::{aggregate, to_events, Summary};
use common::{codec, fixtures, validate};
use switchyard_translators::ir::{Protocol, StreamEvent};
use switchyard_translators::StreamOptions;

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A non-stream response body (`*.json`).
    Response,
    /// An error body with the HTTP status the provider sends it with.
    Error(u16),
    /// A `*.chunks.txt` stream, replayed with the directory's framing.
    Stream,
    /// A VCR cassette (`*.yaml`): every generation call's answer, as recorded.
    Cassette,
}

/// The recorded answers of a fixture file, each named for failure messages.
fn recorded(src: Protocol, file: &str, kind: Kind) -> Vec<(String, Recorded)> {
    let case = format!("{}/{file}", fixtures::dir(src));
    match kind {
        Kind::Response => vec![(case, Recorded::Response(fixtures::read(src, file)))],
        Kind::Error(status) => vec![(case, Recorded::Error(status, fixtures::read(src, file)))],
        Kind::Stream => {
            let raw = fixtures::read(src, file);
            vec![(case, Recorded::Stream(fixtures::replay_chunks(src, &raw)))]
        }
        Kind::Cassette => fixtures::cassette(src, file)
            .into_iter()
            .map(|(i, r)| (format!("{case} #{i}"), r))
            .collect(),
    }
}

/// The model name the client asked for: every stream must show it, not the upstream's.
const CLIENT_MODEL: &str = "client-model-1";

fn opts() -> StreamOptions {
    StreamOptions {
        client_model: Some(CLIENT_MODEL.into()),
        include_usage: true,
    }
}

type Outcome = Result<(), String>;

fn fail<T>(
    case: &str,
    target: Protocol,
    path: &str,
    msg: impl std::fmt::Display,
) -> Result<T, String> {
    Err(format!("{case} -> {} ({path}): {msg}", codec::name(target)))
}

/// Encode `events` for `target` as a stream, validate, decode back, compare with `expected`.
fn check_stream(
    case: &str,
    events: &[StreamEvent],
    expected: &Summary,
    target: Protocol,
) -> Outcome {
    let out = codec::encode_stream(target, events, opts())
        .or_else(|e| fail(case, target, "stream encode", e))?;
    let again = codec::encode_stream(target, events, opts())
        .or_else(|e| fail(case, target, "stream encode", e))?;
    if out != again {
        return fail(
            case,
            target,
            "stream",
            "encoder output is not deterministic",
        );
    }
    if let Err(e) = validate::stream(target, &out, true) {
        return fail(case, target, "stream", e);
    }
    let models =
        validate::stream_models(target, &out).or_else(|e| fail(case, target, "stream", e))?;
    if let Some(m) = models.iter().find(|m| *m != CLIENT_MODEL) {
        return fail(
            case,
            target,
            "stream",
            format!("client model: shows {m:?}, the client asked for {CLIENT_MODEL:?}"),
        );
    }
    let back = codec::decode_stream(target, &[&out])
        .or_else(|e| fail(case, target, "stream decode back", e))?;
    let got = Summary::of_stream(&back).normalized_for(target);
    let want = expected.as_seen_by(target);
    if got != want {
        return fail(
            case,
            target,
            "stream",
            format!(
                "meaning changed\n want {want:?}\n  got {got:?}\n output: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    Ok(())
}

/// Encode a whole response for `target`, validate, decode back, compare.
fn check_whole(case: &str, r: &switchyard_translators::ir::Response, target: Protocol) -> Outcome {
    let out = codec::encode_response(target, r);
    if let Err(e) = validate::response(target, &out) {
        return fail(case, target, "whole", e);
    }
    let back = codec::decode_response(target, &out)
        .or_else(|e| fail(case, target, "whole decode back", e))?;
    let got = Summary::of_response(&back).normalized_for(target);
    let want = Summary::of_response(r).as_seen_by(target);
    if got != want {
        return fail(
            case,
            target,
            "whole",
            format!(
                "meaning changed\n want {want:?}\n  got {got:?}\n output: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    Ok(())
}

fn check_error(
    case: &str,
    err: &switchyard_translators::ir::StreamError,
    target: Protocol,
) -> Outcome {
    let (status, body) = codec::encode_error(target, err);
    if let Err(e) = validate::error_body(target, status, &body) {
        return fail(case, target, "error body", e);
    }
    let back = codec::decode_error(target, status, &body);
    if back.kind != err.kind {
        return fail(
            case,
            target,
            "error body",
            format!("kind {:?} came back as {:?}", err.kind, back.kind),
        );
    }
    Ok(())
}

fn check_recorded(case: &str, src: Protocol, rec: &Recorded, target: Protocol) -> Outcome {
    match rec {
        Recorded::Response(raw) => {
            let r = codec::decode_response(src, raw)
                .or_else(|e| fail(case, src, "decode fixture", e))?;
            check_whole(case, &r, target)?;
            check_stream(case, &to_events(&r), &Summary::of_response(&r), target)
        }
        Recorded::Error(status, raw) => {
            let err = codec::decode_error(src, *status, raw);
            check_error(case, &err, target)?;
            let events = [StreamEvent::Error(err.clone())];
            check_stream(case, &events, &Summary::of_stream(&events), target)
        }
        Recorded::Stream(bytes) => {
            let events = codec::decode_stream(src, &[bytes.as_slice()])
                .or_else(|e| fail(case, src, "decode fixture", e))?;
            check_stream(case, &events, &Summary::of_stream(&events), target)?;
            match events.iter().find_map(|e| match e {
                StreamEvent::Error(err) => Some(err.clone()),
                _ => None,
            }) {
                Some(err) => check_error(case, &err, target),
                None => check_whole(case, &aggregate(&events).response, target),
            }
        }
    }
}

fn replay(src: Protocol, file: &str, kind: Kind, target: Protocol) {
    let failures: Vec<String> = recorded(src, file, kind)
        .iter()
        .filter_map(|(case, rec)| check_recorded(case, src, rec, target).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Split points. Every byte offset for streams up to 4 KiB. A larger recorded stream (up to
/// ~90 KB replayed) costs one full decode per offset, so it gets the offsets where the state
/// of the decoders differs: one byte either side of every line break and inside the first
/// multi-byte UTF-8 characters, thinned evenly to at most 400, plus the ends. (Every offset
/// of every line shape is covered exhaustively by `sse.rs`'s own tests, and each protocol's
/// fixture tests split its own streams at every offset.)
fn split_offsets(b: &[u8]) -> Vec<usize> {
    const FULL: usize = 4 * 1024;
    const MAX: usize = 400;
    if b.len() <= FULL {
        return (0..=b.len()).collect();
    }
    let mut set = std::collections::BTreeSet::new();
    let mut utf8 = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || c == b'\r' {
            set.extend([i, i + 1]);
        } else if c >= 0xc0 && utf8 < 50 {
            utf8 += 1;
            set.extend(i..(i + 4).min(b.len()));
        }
    }
    let all: Vec<usize> = set.into_iter().collect();
    let step = all.len().div_ceil(MAX).max(1);
    let mut out: Vec<usize> = all.into_iter().step_by(step).collect();
    out.extend([0, 1, b.len() - 1, b.len()]);
    out
}

fn split(src: Protocol, file: &str, kind: Kind) {
    for (case, rec) in recorded(src, file, kind) {
        match rec {
            Recorded::Response(raw) => {
                codec::decode_response(src, &raw).unwrap_or_else(|e| panic!("{case}: {e}"));
            }
            Recorded::Error(status, raw) => {
                let e = codec::decode_error(src, status, &raw);
                assert_eq!(e.status, Some(status), "{case}");
            }
            Recorded::Stream(bytes) => {
                let whole =
                    codec::decode_stream(src, &[&bytes]).unwrap_or_else(|e| panic!("{case}: {e}"));
                assert!(
                    matches!(
                        whole.first(),
                        Some(StreamEvent::Start { .. } | StreamEvent::Error(_))
                    ),
                    "{case}: first IR event {:?}",
                    whole.first()
                );
                for i in split_offsets(&bytes) {
                    let parts = codec::decode_stream(src, &[&bytes[..i], &bytes[i..]])
                        .unwrap_or_else(|e| panic!("{case} split at {i}: {e}"));
                    assert!(
                        parts == whole,
                        "{case}: split at byte {i} gives different IR events"
                    );
                }
            }
        }
    }
}

// Protocols whose module has not landed: every test touching them is ignored with the
// reason below (the same text `common::codec` panics with). Remove an arm pair when its
// module lands.
macro_rules! gate {
    // Known bugs in a protocol module, by (case, client protocol): reported, not hidden.
    // KNOWN-BUGS-START
    (req_test_google_instructions_only_with_tool_calls, Gemini, Anthropic, $($i:tt)*) => {
        #[ignore = "known bug (anthropic encode_request): a Gemini request with no user turn (instructions only, or starting with the model's function calls) gives `messages: []` / a first `assistant` turn, which the Messages API rejects"]
        $($i)*
    };
    (upstream_errors, Anthropic, Anthropic, $($i:tt)*) => {
        #[ignore = "known bug (anthropic decode_error): api_error with status 504 decodes as Server, not Timeout"]
        $($i)*
    };
    // KNOWN-BUGS-END
    // PENDING-START
    // PENDING-END
    ($id:ident, $s:ident, $t:ident, $($i:tt)*) => { $($i)* };
}

macro_rules! fixtures {
    ($( $id:ident: $src:ident, $file:literal, $kind:expr; )*) => {
        const LISTED: &[(Protocol, &str)] = &[$((Protocol::$src, $file)),*];
        $(
            mod $id {
                use super::*;
                gate!($id, $src, $src, #[test] fn decode_split_at_every_offset() { split(Protocol::$src, $file, $kind) });
                gate!($id, $src, Anthropic, #[test] fn to_anthropic() { replay(Protocol::$src, $file, $kind, Protocol::Anthropic) });
                gate!($id, $src, OpenAiChat, #[test] fn to_openai_chat() { replay(Protocol::$src, $file, $kind, Protocol::OpenAiChat) });
                gate!($id, $src, OpenAiResponses, #[test] fn to_openai_responses() { replay(Protocol::$src, $file, $kind, Protocol::OpenAiResponses) });
                gate!($id, $src, Gemini, #[test] fn to_gemini() { replay(Protocol::$src, $file, $kind, Protocol::Gemini) });
                mod next_turn {
                    use super::super::*;
                    gate!($id, $src, Anthropic, #[test] fn via_anthropic() { next_turn(Protocol::$src, $file, $kind, Protocol::Anthropic) });
                    gate!($id, $src, OpenAiChat, #[test] fn via_openai_chat() { next_turn(Protocol::$src, $file, $kind, Protocol::OpenAiChat) });
                    gate!($id, $src, OpenAiResponses, #[test] fn via_openai_responses() { next_turn(Protocol::$src, $file, $kind, Protocol::OpenAiResponses) });
                    gate!($id, $src, Gemini, #[test] fn via_gemini() { next_turn(Protocol::$src, $file, $kind, Protocol::Gemini) });
                }
            }
        )*
    };
}

fixtures! {
    anthropic_clear_thinking_1_json: Anthropic, "anthropic-clear-thinking.1.json", Kind::Response;
    anthropic_json_tool_1_json: Anthropic, "anthropic-json-tool.1.json", Kind::Response;
    anthropic_memory_20250818_1_json: Anthropic, "anthropic-memory-20250818.1.json", Kind::Response;
    anthropic_text_json: Anthropic, "anthropic-text.json", Kind::Response;
    anthropic_tool_no_args_json: Anthropic, "anthropic-tool-no-args.json", Kind::Response;
    anthropic_tool_search_bm25_1_json: Anthropic, "anthropic-tool-search-bm25.1.json", Kind::Response;
    anthropic_web_fetch_tool_1_json: Anthropic, "anthropic-web-fetch-tool.1.json", Kind::Response;
    anthropic_web_fetch_tool_error_json: Anthropic, "anthropic-web-fetch-tool.error.json", Kind::Response;
    anthropic_clear_thinking_1_stream: Anthropic, "anthropic-clear-thinking.1.chunks.txt", Kind::Stream;
    anthropic_code_execution_prompt_cache_1_stream: Anthropic, "anthropic-code-execution-20260120-prompt-cache.1.chunks.txt", Kind::Stream;
    anthropic_json_output_format_1_stream: Anthropic, "anthropic-json-output-format.1.chunks.txt", Kind::Stream;
    anthropic_json_tool_2_stream: Anthropic, "anthropic-json-tool.2.chunks.txt", Kind::Stream;
    anthropic_mcp_1_stream: Anthropic, "anthropic-mcp.1.chunks.txt", Kind::Stream;
    anthropic_programmatic_tool_calling_1_stream: Anthropic, "anthropic-programmatic-tool-calling.1.chunks.txt", Kind::Stream;
    anthropic_text_stream: Anthropic, "anthropic-text.chunks.txt", Kind::Stream;
    anthropic_tool_no_args_stream: Anthropic, "anthropic-tool-no-args.chunks.txt", Kind::Stream;
    anthropic_tool_search_deferred_regex_stream: Anthropic, "anthropic-tool-search-deferred-regex.chunks.txt", Kind::Stream;
    anthropic_web_search_tool_1_stream: Anthropic, "anthropic-web-search-tool.1.chunks.txt", Kind::Stream;

    google_reasoning_json: Gemini, "google-reasoning.json", Kind::Response;
    google_text_json: Gemini, "google-text.json", Kind::Response;
    google_tool_call_gemini3_json: Gemini, "google-tool-call-gemini3.json", Kind::Response;
    google_reasoning_gemini3_stream: Gemini, "google-reasoning-gemini3.chunks.txt", Kind::Stream;
    google_stream_no_args_tool_call_stream: Gemini, "google-stream-no-args-tool-call.chunks.txt", Kind::Stream;
    google_text_stream: Gemini, "google-text.chunks.txt", Kind::Stream;
    google_tool_call_gemini3_stream: Gemini, "google-tool-call-gemini3.chunks.txt", Kind::Stream;
    google_vertex_tool_call_arguments_nested_1_stream: Gemini, "google-vertex-stream-tool-call-arguments-nested.1.chunks.txt", Kind::Stream;

    deepseek_reasoning_json: OpenAiChat, "deepseek-reasoning.json", Kind::Response;
    deepseek_text_json: OpenAiChat, "deepseek-text.json", Kind::Response;
    groq_reasoning_json: OpenAiChat, "groq-reasoning.json", Kind::Response;
    openai_chat_text_json: OpenAiChat, "openai-text.json", Kind::Response;
    reasoning_model_legacy_parameter_error_json: OpenAiChat, "reasoning-model-legacy-parameter-error.json", Kind::Error(400);
    alibaba_tool_call_stream: OpenAiChat, "alibaba-tool-call.chunks.txt", Kind::Stream;
    azure_model_router_1_stream: OpenAiChat, "azure-model-router.1.chunks.txt", Kind::Stream;
    deepseek_tool_call_stream: OpenAiChat, "deepseek-tool-call.chunks.txt", Kind::Stream;
    moonshotai_stream: OpenAiChat, "moonshotai-stream.chunks.txt", Kind::Stream;
    openai_chat_text_stream: OpenAiChat, "openai-text.chunks.txt", Kind::Stream;
    xai_text_stream: OpenAiChat, "xai-text.chunks.txt", Kind::Stream;
    xai_tool_call_stream: OpenAiChat, "xai-tool-call.chunks.txt", Kind::Stream;

    azure_text_1_json: OpenAiResponses, "azure-text.1.json", Kind::Response;
    openai_code_interpreter_tool_1_json: OpenAiResponses, "openai-code-interpreter-tool.1.json", Kind::Response;
    openai_error_1_json: OpenAiResponses, "openai-error.1.json", Kind::Error(429);
    openai_reasoning_encrypted_content_1_json: OpenAiResponses, "openai-reasoning-encrypted-content.1.json", Kind::Response;
    azure_text_1_stream: OpenAiResponses, "azure-text.1.chunks.txt", Kind::Stream;
    azure_tool_call_1_stream: OpenAiResponses, "azure-tool-call.1.chunks.txt", Kind::Stream;
    openai_client_tool_search_2_stream: OpenAiResponses, "openai-client-tool-search.2.chunks.txt", Kind::Stream;
    openai_error_1_stream: OpenAiResponses, "openai-error.1.chunks.txt", Kind::Stream;
    openai_file_search_tool_1_stream: OpenAiResponses, "openai-file-search-tool.1.chunks.txt", Kind::Stream;
    openai_local_shell_tool_1_stream: OpenAiResponses, "openai-local-shell-tool.1.chunks.txt", Kind::Stream;
    openai_phase_1_stream: OpenAiResponses, "openai-phase.1.chunks.txt", Kind::Stream;
    openai_reasoning_encrypted_content_1_stream: OpenAiResponses, "openai-reasoning-encrypted-content.1.chunks.txt", Kind::Stream;
    openai_web_search_tool_1_stream: OpenAiResponses, "openai-web-search-tool.1.chunks.txt", Kind::Stream;
    programmatic_tool_calling_1_stream: OpenAiResponses, "programmatic-tool-calling.1.chunks.txt", Kind::Stream;

    test_anthropic_cache_real_api: Anthropic, "test_anthropic_cache_real_api.yaml", Kind::Cassette;
    test_anthropic_explicit_effort_xhigh_unsupported_model_errors: Anthropic, "test_anthropic_explicit_effort_xhigh_unsupported_model_errors.yaml", Kind::Cassette;
    test_anthropic_mcp_servers_stream: Anthropic, "test_anthropic_mcp_servers_stream.yaml", Kind::Cassette;
    test_anthropic_model_thinking_part_redacted_stream: Anthropic, "test_anthropic_model_thinking_part_redacted_stream.yaml", Kind::Cassette;
    test_anthropic_model_thinking_part_stream: Anthropic, "test_anthropic_model_thinking_part_stream.yaml", Kind::Cassette;
    test_anthropic_tool_with_thinking: Anthropic, "test_anthropic_tool_with_thinking.yaml", Kind::Cassette;
    test_anthropic_web_fetch_tool_stream: Anthropic, "test_anthropic_web_fetch_tool_stream.yaml", Kind::Cassette;
    test_image_prompt: Anthropic, "test_image_prompt.yaml", Kind::Cassette;
    test_image_url_input: Anthropic, "test_image_url_input.yaml", Kind::Cassette;
    test_multiple_parallel_tool_calls: Anthropic, "test_multiple_parallel_tool_calls.yaml", Kind::Cassette;
    test_opus_46_adaptive_thinking: Anthropic, "test_opus_46_adaptive_thinking.yaml", Kind::Cassette;
    test_pause_turn_web_search_streaming_vcr: Anthropic, "test_pause_turn_web_search_streaming_vcr.yaml", Kind::Cassette;
    test_prompt_with_prefill_and_stop_sequences: Anthropic, "test_prompt_with_prefill_and_stop_sequences.yaml", Kind::Cassette;
    test_tools: Anthropic, "test_tools.yaml", Kind::Cassette;
    test_code_execution_stream: Gemini, "test_code_execution_stream.yaml", Kind::Cassette;
    test_google_instructions_only_with_tool_calls: Gemini, "test_google_instructions_only_with_tool_calls.yaml", Kind::Cassette;
    test_google_model_cached_content: Gemini, "test_google_model_cached_content.yaml", Kind::Cassette;
    test_google_model_image_url_input: Gemini, "test_google_model_image_url_input.yaml", Kind::Cassette;
    test_google_model_max_tokens: Gemini, "test_google_model_max_tokens.yaml", Kind::Cassette;
    test_google_model_retry: Gemini, "test_google_model_retry.yaml", Kind::Cassette;
    test_google_model_safety_settings: Gemini, "test_google_model_safety_settings.yaml", Kind::Cassette;
    test_google_model_thinking_part_iter: Gemini, "test_google_model_thinking_part_iter.yaml", Kind::Cassette;
    test_google_model_web_search_tool_stream: Gemini, "test_google_model_web_search_tool_stream.yaml", Kind::Cassette;
    test_google_streaming_tool_call_thought_signature: Gemini, "test_google_streaming_tool_call_thought_signature.yaml", Kind::Cassette;
    test_google_vertex_service_tier_flex_stream: Gemini, "test_google_vertex_service_tier_flex_stream.yaml", Kind::Cassette;
    test_google_vertexai_image_generation_with_output_format: Gemini, "test_google_vertexai_image_generation_with_output_format.yaml", Kind::Cassette;
    test_model_name_suggestion_google: Gemini, "test_model_name_suggestion[google].yaml", Kind::Cassette;
    test_prompt: Gemini, "test_prompt.yaml", Kind::Cassette;
    test_tools_with_gemini_3_thought_signatures: Gemini, "test_tools_with_gemini_3_thought_signatures.yaml", Kind::Cassette;
    test_complex_agent_run: OpenAiChat, "test_complex_agent_run.yaml", Kind::Cassette;
    test_dbos_agent_with_hitl_tool: OpenAiChat, "test_dbos_agent_with_hitl_tool.yaml", Kind::Cassette;
    test_image_url_tool_response: OpenAiChat, "test_image_url_tool_response.yaml", Kind::Cassette;
    test_max_completion_tokens_o3_mini: OpenAiChat, "test_max_completion_tokens[o3-mini].yaml", Kind::Cassette;
    test_openai_chat_prompt_cache_e2e: OpenAiChat, "test_openai_chat_prompt_cache_e2e.yaml", Kind::Cassette;
    test_openai_o1_mini_system_role_developer: OpenAiChat, "test_openai_o1_mini_system_role[developer].yaml", Kind::Cassette;
    test_openrouter_errors_raised: OpenAiChat, "test_openrouter_errors_raised.yaml", Kind::Cassette;
    test_run_stream_sync_streams_real_model: OpenAiChat, "test_run_stream_sync_streams_real_model.yaml", Kind::Cassette;
    test_tool_use_failed_error_streaming: OpenAiChat, "test_tool_use_failed_error_streaming.yaml", Kind::Cassette;
    test_openai_include_raw_annotations_streaming: OpenAiResponses, "test_openai_include_raw_annotations_streaming.yaml", Kind::Cassette;
    test_openai_responses_image_generation_jpeg: OpenAiResponses, "test_openai_responses_image_generation_jpeg.yaml", Kind::Cassette;
    test_openai_responses_image_url_input: OpenAiResponses, "test_openai_responses_image_url_input.yaml", Kind::Cassette;
    test_openai_responses_model_http_error: OpenAiResponses, "test_openai_responses_model_http_error.yaml", Kind::Cassette;
    test_openai_responses_model_mcp_server_tool_stream: OpenAiResponses, "test_openai_responses_model_mcp_server_tool_stream.yaml", Kind::Cassette;
    test_openai_responses_model_retry: OpenAiResponses, "test_openai_responses_model_retry.yaml", Kind::Cassette;
    test_openai_responses_prompt_cache_e2e: OpenAiResponses, "test_openai_responses_prompt_cache_e2e.yaml", Kind::Cassette;
    test_openai_responses_stream: OpenAiResponses, "test_openai_responses_stream.yaml", Kind::Cassette;
    test_openai_responses_streaming_usage: OpenAiResponses, "test_openai_responses_streaming_usage.yaml", Kind::Cassette;
    test_openai_responses_thinking_part_iter: OpenAiResponses, "test_openai_responses_thinking_part_iter.yaml", Kind::Cassette;
    test_openai_responses_thinking_with_tool_calls: OpenAiResponses, "test_openai_responses_thinking_with_tool_calls.yaml", Kind::Cassette;
}

#[test]
fn every_fixture_file_is_listed() {
    let mut listed: Vec<String> = LISTED
        .iter()
        .map(|(p, f)| format!("{}/{f}", fixtures::dir(*p)))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        fixtures::all_replayable(),
        "fixtures! table vs files on disk"
    );
}

// ------------------------------------------------------------------------------ scenarios

fn scenario(name: &str, events: Vec<StreamEvent>, target: Protocol) {
    let case = format!("scenario {name}");
    let expected = Summary::of_stream(&events);
    let mut result = check_stream(&case, &events, &expected, target);
    if result.is_ok() {
        let a = aggregate(&events);
        result = match events.iter().find_map(|e| match e {
            StreamEvent::Error(err) => Some(err.clone()),
            _ => None,
        }) {
            Some(err) => check_error(&case, &err, target),
            None => check_whole(&case, &a.response, target),
        };
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod scenario {
            $(
                mod $name {
                    use super::super::*;
                    gate!($name, Anthropic, Anthropic, #[test] fn to_anthropic() { scenario(stringify!($name), common::scenarios::$name(), Protocol::Anthropic) });
                    gate!($name, OpenAiChat, OpenAiChat, #[test] fn to_openai_chat() { scenario(stringify!($name), common::scenarios::$name(), Protocol::OpenAiChat) });
                    gate!($name, OpenAiResponses, OpenAiResponses, #[test] fn to_openai_responses() { scenario(stringify!($name), common::scenarios::$name(), Protocol::OpenAiResponses) });
                    gate!($name, Gemini, Gemini, #[test] fn to_gemini() { scenario(stringify!($name), common::scenarios::$name(), Protocol::Gemini) });
                }
            )*
        }
    };
}

scenarios! {
    text,
    thinking_then_text,
    one_tool_call,
    parallel_tool_calls,
    parallel_tool_calls_interleaved,
    usage_with_cache,
    max_tokens,
    unknown_block,
    empty_content_filtered,
    stop_sequence,
    redacted_thinking,
    reasoning_item,
    error_before_content,
    error_as_first_event,
    error_mid_stream,
}

fn error_bodies(target: Protocol) {
    for err in common::scenarios::error_bodies() {
        let case = format!("error body {:?}", err.kind);
        let events = [StreamEvent::Error(err.clone())];
        let r = check_error(&case, &err, target)
            .and_then(|()| check_stream(&case, &events, &Summary::of_stream(&events), target));
        if let Err(e) = r {
            panic!("{e}");
        }
    }
}

mod upstream_errors {
    use super::*;
    gate!(
        upstream_errors,
        Anthropic,
        Anthropic,
        #[test]
        fn to_anthropic() {
            error_bodies(Protocol::Anthropic)
        }
    );
    gate!(
        upstream_errors,
        OpenAiChat,
        OpenAiChat,
        #[test]
        fn to_openai_chat() {
            error_bodies(Protocol::OpenAiChat)
        }
    );
    gate!(
        upstream_errors,
        OpenAiResponses,
        OpenAiResponses,
        #[test]
        fn to_openai_responses() {
            error_bodies(Protocol::OpenAiResponses)
        }
    );
    gate!(
        upstream_errors,
        Gemini,
        Gemini,
        #[test]
        fn to_gemini() {
            error_bodies(Protocol::Gemini)
        }
    );
}

#[test]
#[ignore = "manual: prints the encoders' output for one scenario"]
fn eyeball() {
    for t in codec::ALL {
        let out = codec::encode_stream(t, &common::scenarios::one_tool_call(), opts()).unwrap();
        println!("==== {}\n{}", codec::name(t), String::from_utf8_lossy(&out));
    }
}

// ------------------------------------------------------------------------------- requests

/// The request half: every request a client sent in a cassette, decoded with its protocol
/// and encoded for every upstream protocol, must be a body that upstream accepts
/// (`validate::request`) and, decoded back, say the same (`RequestSummary`, with the
/// documented exceptions).
fn check_request(case: &str, src: Protocol, body: &[u8], target: Protocol) -> Outcome {
    let r = codec::decode_request(src, body).or_else(|e| fail(case, src, "decode request", e))?;
    let out = codec::encode_request(target, &for_upstream(&r, target))
        .or_else(|e| fail(case, target, "encode request", e))?;
    if let Err(e) = validate::request(target, &out) {
        return fail(
            case,
            target,
            "request",
            format!(
                "{e}\n body: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    let back = codec::decode_request(target, &out)
        .or_else(|e| fail(case, target, "decode request back", e))?;
    let got = RequestSummary::of(&back).normalized_for(target);
    let mut want = RequestSummary::of(&r).as_sent_to(target);
    if want.max_tokens.is_none() && target == Protocol::Anthropic {
        // Anthropic requires max_tokens: its encoder supplies a default.
        want.max_tokens = got.max_tokens;
    }
    if want.model.is_empty() {
        want.model = got.model.clone();
    }
    if got != want {
        return fail(
            case,
            target,
            "request",
            format!(
                "meaning changed\n want {want:?}\n  got {got:?}\n body: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    Ok(())
}

/// What the gateway does before encoding for an upstream: the reasoning mode becomes what the
/// upstream protocol can express (`reasoning::for_target`; some encoders also apply it, which
/// is harmless: it is idempotent).
fn for_upstream(
    r: &switchyard_translators::ir::Request,
    target: Protocol,
) -> switchyard_translators::ir::Request {
    let mut r = r.clone();
    if let Some(x) = r.reasoning.as_mut() {
        x.mode = switchyard_translators::reasoning::for_target(x.mode, target);
    }
    r
}

fn requests(src: Protocol, file: &str, target: Protocol) {
    let bodies = fixtures::cassette_requests(src, file);
    assert!(!bodies.is_empty(), "{file}: no request bodies");
    let failures: Vec<String> = bodies
        .iter()
        .filter_map(|(i, body)| {
            let case = format!("{}/{file} #{i} request", fixtures::dir(src));
            check_request(&case, src, body, target).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

macro_rules! requests {
    ($( $id:ident: $src:ident, $file:literal; )*) => {
        const REQUEST_CASSETTES: &[(Protocol, &str)] = &[$((Protocol::$src, $file)),*];
        mod requests {
            use super::*;
            $(
                mod $id {
                    use super::*;
                    gate!($id, $src, Anthropic, #[test] fn to_anthropic() { requests(Protocol::$src, $file, Protocol::Anthropic) });
                    gate!($id, $src, OpenAiChat, #[test] fn to_openai_chat() { requests(Protocol::$src, $file, Protocol::OpenAiChat) });
                    gate!($id, $src, OpenAiResponses, #[test] fn to_openai_responses() { requests(Protocol::$src, $file, Protocol::OpenAiResponses) });
                    gate!($id, $src, Gemini, #[test] fn to_gemini() { requests(Protocol::$src, $file, Protocol::Gemini) });
                }
            )*
        }
    };
}

#[test]
fn every_cassette_has_a_request_row() {
    let cassettes: Vec<(Protocol, &str)> = LISTED
        .iter()
        .filter(|(_, f)| f.ends_with(".yaml"))
        .copied()
        .collect();
    assert_eq!(
        REQUEST_CASSETTES,
        cassettes.as_slice(),
        "requests! table vs fixtures! cassettes"
    );
}

requests! {
    req_test_anthropic_cache_real_api: Anthropic, "test_anthropic_cache_real_api.yaml";
    req_test_anthropic_explicit_effort_xhigh_unsupported_model_errors: Anthropic, "test_anthropic_explicit_effort_xhigh_unsupported_model_errors.yaml";
    req_test_anthropic_mcp_servers_stream: Anthropic, "test_anthropic_mcp_servers_stream.yaml";
    req_test_anthropic_model_thinking_part_redacted_stream: Anthropic, "test_anthropic_model_thinking_part_redacted_stream.yaml";
    req_test_anthropic_model_thinking_part_stream: Anthropic, "test_anthropic_model_thinking_part_stream.yaml";
    req_test_anthropic_tool_with_thinking: Anthropic, "test_anthropic_tool_with_thinking.yaml";
    req_test_anthropic_web_fetch_tool_stream: Anthropic, "test_anthropic_web_fetch_tool_stream.yaml";
    req_test_image_prompt: Anthropic, "test_image_prompt.yaml";
    req_test_image_url_input: Anthropic, "test_image_url_input.yaml";
    req_test_multiple_parallel_tool_calls: Anthropic, "test_multiple_parallel_tool_calls.yaml";
    req_test_opus_46_adaptive_thinking: Anthropic, "test_opus_46_adaptive_thinking.yaml";
    req_test_pause_turn_web_search_streaming_vcr: Anthropic, "test_pause_turn_web_search_streaming_vcr.yaml";
    req_test_prompt_with_prefill_and_stop_sequences: Anthropic, "test_prompt_with_prefill_and_stop_sequences.yaml";
    req_test_tools: Anthropic, "test_tools.yaml";
    req_test_code_execution_stream: Gemini, "test_code_execution_stream.yaml";
    req_test_google_instructions_only_with_tool_calls: Gemini, "test_google_instructions_only_with_tool_calls.yaml";
    req_test_google_model_cached_content: Gemini, "test_google_model_cached_content.yaml";
    req_test_google_model_image_url_input: Gemini, "test_google_model_image_url_input.yaml";
    req_test_google_model_max_tokens: Gemini, "test_google_model_max_tokens.yaml";
    req_test_google_model_retry: Gemini, "test_google_model_retry.yaml";
    req_test_google_model_safety_settings: Gemini, "test_google_model_safety_settings.yaml";
    req_test_google_model_thinking_part_iter: Gemini, "test_google_model_thinking_part_iter.yaml";
    req_test_google_model_web_search_tool_stream: Gemini, "test_google_model_web_search_tool_stream.yaml";
    req_test_google_streaming_tool_call_thought_signature: Gemini, "test_google_streaming_tool_call_thought_signature.yaml";
    req_test_google_vertex_service_tier_flex_stream: Gemini, "test_google_vertex_service_tier_flex_stream.yaml";
    req_test_google_vertexai_image_generation_with_output_format: Gemini, "test_google_vertexai_image_generation_with_output_format.yaml";
    req_test_model_name_suggestion_google: Gemini, "test_model_name_suggestion[google].yaml";
    req_test_prompt: Gemini, "test_prompt.yaml";
    req_test_tools_with_gemini_3_thought_signatures: Gemini, "test_tools_with_gemini_3_thought_signatures.yaml";
    req_test_complex_agent_run: OpenAiChat, "test_complex_agent_run.yaml";
    req_test_dbos_agent_with_hitl_tool: OpenAiChat, "test_dbos_agent_with_hitl_tool.yaml";
    req_test_image_url_tool_response: OpenAiChat, "test_image_url_tool_response.yaml";
    req_test_max_completion_tokens_o3_mini: OpenAiChat, "test_max_completion_tokens[o3-mini].yaml";
    req_test_openai_chat_prompt_cache_e2e: OpenAiChat, "test_openai_chat_prompt_cache_e2e.yaml";
    req_test_openai_o1_mini_system_role_developer: OpenAiChat, "test_openai_o1_mini_system_role[developer].yaml";
    req_test_openrouter_errors_raised: OpenAiChat, "test_openrouter_errors_raised.yaml";
    req_test_run_stream_sync_streams_real_model: OpenAiChat, "test_run_stream_sync_streams_real_model.yaml";
    req_test_tool_use_failed_error_streaming: OpenAiChat, "test_tool_use_failed_error_streaming.yaml";
    req_test_openai_include_raw_annotations_streaming: OpenAiResponses, "test_openai_include_raw_annotations_streaming.yaml";
    req_test_openai_responses_image_generation_jpeg: OpenAiResponses, "test_openai_responses_image_generation_jpeg.yaml";
    req_test_openai_responses_image_url_input: OpenAiResponses, "test_openai_responses_image_url_input.yaml";
    req_test_openai_responses_model_http_error: OpenAiResponses, "test_openai_responses_model_http_error.yaml";
    req_test_openai_responses_model_mcp_server_tool_stream: OpenAiResponses, "test_openai_responses_model_mcp_server_tool_stream.yaml";
    req_test_openai_responses_model_retry: OpenAiResponses, "test_openai_responses_model_retry.yaml";
    req_test_openai_responses_prompt_cache_e2e: OpenAiResponses, "test_openai_responses_prompt_cache_e2e.yaml";
    req_test_openai_responses_stream: OpenAiResponses, "test_openai_responses_stream.yaml";
    req_test_openai_responses_streaming_usage: OpenAiResponses, "test_openai_responses_streaming_usage.yaml";
    req_test_openai_responses_thinking_part_iter: OpenAiResponses, "test_openai_responses_thinking_part_iter.yaml";
    req_test_openai_responses_thinking_with_tool_calls: OpenAiResponses, "test_openai_responses_thinking_with_tool_calls.yaml";
}

fn request_scenario(name: &str, r: switchyard_translators::ir::Request, target: Protocol) {
    // Every scenario is also a client request of every protocol: encode it as that client
    // would send it, decode, and translate that for the upstream.
    let case = format!("request scenario {name}");
    let failures: Vec<String> = codec::ALL
        .iter()
        .filter_map(|&client| {
            let body = match codec::encode_request(client, &r) {
                Ok(b) => b,
                Err(e) => {
                    return Some(format!(
                        "{case}: {} cannot send it: {e}",
                        codec::name(client)
                    ))
                }
            };
            check_request(
                &format!("{case} from {}", codec::name(client)),
                client,
                &body,
                target,
            )
            .err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

macro_rules! request_scenarios {
    ($($name:ident),* $(,)?) => {
        mod request_scenario {
            $(
                mod $name {
                    use super::super::*;
                    gate!($name, Anthropic, Anthropic, #[test] fn to_anthropic() { request_scenario(stringify!($name), common::scenarios::requests::$name(), Protocol::Anthropic) });
                    gate!($name, OpenAiChat, OpenAiChat, #[test] fn to_openai_chat() { request_scenario(stringify!($name), common::scenarios::requests::$name(), Protocol::OpenAiChat) });
                    gate!($name, OpenAiResponses, OpenAiResponses, #[test] fn to_openai_responses() { request_scenario(stringify!($name), common::scenarios::requests::$name(), Protocol::OpenAiResponses) });
                    gate!($name, Gemini, Gemini, #[test] fn to_gemini() { request_scenario(stringify!($name), common::scenarios::requests::$name(), Protocol::Gemini) });
                }
            )*
        }
    };
}

request_scenarios! {
    system_and_sampling,
    multi_turn,
    mid_conversation_system,
    developer_first,
    tool_choice_auto,
    tool_choice_none,
    tool_choice_required,
    tool_choice_named,
    tool_round_trip,
    images,
    tool_result_with_image,
    reasoning_disabled,
    reasoning_adaptive,
    reasoning_budget,
    reasoning_effort,
    structured_output,
    streaming,
}

// ------------------------------------------------------------------------------ next turn

/// The next turn (issue 3: thinking, signatures and tool ids "carried so that the next turn
/// can send them back"): an upstream answer goes to a client of another protocol, the client
/// sends its assistant turn back with tool results in its own protocol, and the gateway
/// translates that for the same upstream. The upstream body must be one it accepts
/// (`validate::request`), every tool result must point at a call of that body, and the calls
/// must be the upstream's own (name, arguments; ids unless Gemini is on either side).
/// Signatures and encrypted reasoning must come back unchanged when the client speaks the
/// upstream's protocol (other clients have no field for them; `next_turn_carry_table` prints
/// what survives where).
fn next_turn_request(
    answer: &switchyard_translators::ir::Response,
    client: Protocol,
) -> Result<Vec<u8>, String> {
    use switchyard_translators::ir::{Message, Part, Request, Role, ToolResult};
    let text = |t: &str| Part::Text {
        text: t.into(),
        cache_control: None,
    };
    let seen = codec::decode_response(client, &codec::encode_response(client, answer))?;
    let assistant: Vec<Part> = seen
        .parts
        .iter()
        .filter(|p| !matches!(p, Part::Unknown { .. }))
        .cloned()
        .collect();
    let results: Vec<Part> = assistant
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some(Part::ToolResult(ToolResult {
                call_id: c.id.clone(),
                name: Some(c.name.clone()),
                content: vec![text("ok")],
                is_error: false,
            })),
            _ => None,
        })
        .collect();
    let mut messages = vec![Message {
        role: Role::User,
        parts: vec![text("question")],
    }];
    if !assistant.is_empty() {
        messages.push(Message {
            role: Role::Assistant,
            parts: assistant,
        });
        messages.push(Message {
            role: Role::User,
            parts: if results.is_empty() {
                vec![text("next")]
            } else {
                results
            },
        });
    }
    let req = Request {
        model: CLIENT_MODEL.into(),
        messages,
        sampling: switchyard_translators::ir::Sampling {
            max_tokens: Some(1024),
            ..Default::default()
        },
        ..Request::default()
    };
    codec::encode_request(client, &req)
}

#[derive(Debug, Default, PartialEq)]
struct Carried {
    calls: Vec<(String, String, serde_json::Value)>,
    thinking_signatures: Vec<String>,
    redacted: Vec<String>,
    call_signatures: Vec<String>,
    encrypted: Vec<String>,
}

fn carried(parts: &[switchyard_translators::ir::Part]) -> Carried {
    use switchyard_translators::ir::Part;
    let mut c = Carried::default();
    for p in parts {
        match p {
            Part::ToolCall(t) => {
                let args = serde_json::from_str(if t.arguments.trim().is_empty() {
                    "{}"
                } else {
                    &t.arguments
                })
                .unwrap_or_else(|_| serde_json::Value::String(t.arguments.clone()));
                c.calls.push((t.id.clone(), t.name.clone(), args));
                c.call_signatures.extend(t.signature.clone());
            }
            Part::Thinking {
                signature: Some(s), ..
            } => c.thinking_signatures.push(s.clone()),
            Part::RedactedThinking { data } => c.redacted.push(data.clone()),
            Part::Reasoning(r) => c.encrypted.extend(r.encrypted_content.clone()),
            _ => {}
        }
    }
    c
}

fn check_next_turn(
    case: &str,
    src: Protocol,
    answer: &switchyard_translators::ir::Response,
    client: Protocol,
) -> Outcome {
    use switchyard_translators::ir::{Part, Role};
    let body = next_turn_request(answer, client)
        .or_else(|e| fail(case, client, "next turn: client request", e))?;
    let q = codec::decode_request(client, &body)
        .or_else(|e| fail(case, client, "next turn: decode", e))?;
    let up = codec::encode_request(src, &for_upstream(&q, src))
        .or_else(|e| fail(case, src, "next turn: encode", e))?;
    if let Err(e) = validate::request(src, &up) {
        return fail(
            case,
            src,
            "next turn",
            format!(
                "{e}\n body: {}",
                validate::snippet(&String::from_utf8_lossy(&up))
            ),
        );
    }
    let q2 = codec::decode_request(src, &up)
        .or_else(|e| fail(case, src, "next turn: decode back", e))?;
    let sent: Vec<Part> = q2
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .flat_map(|m| m.parts.clone())
        .collect();
    let mut got = carried(&sent);
    let mut want = carried(&answer.parts);
    if src != client {
        for c in [&mut got, &mut want] {
            c.thinking_signatures.clear();
            c.redacted.clear();
            c.call_signatures.clear();
            c.encrypted.clear();
        }
    }
    if src == Protocol::Gemini || client == Protocol::Gemini {
        for c in [&mut got, &mut want] {
            c.calls.iter_mut().for_each(|x| x.0.clear());
        }
    }
    if got != want {
        return fail(
            case,
            client,
            "next turn",
            format!("carried changed\n want {want:?}\n  got {got:?}"),
        );
    }
    // Every tool result answers a call of this request.
    let ids: Vec<&str> = sent
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some(c.id.as_str()),
            _ => None,
        })
        .collect();
    for m in &q2.messages {
        for p in &m.parts {
            if let Part::ToolResult(r) = p {
                if src != Protocol::Gemini && !ids.contains(&r.call_id.as_str()) {
                    return fail(
                        case,
                        client,
                        "next turn",
                        format!("tool result for {:?}, calls are {ids:?}", r.call_id),
                    );
                }
            }
        }
    }
    Ok(())
}

fn next_turn(src: Protocol, file: &str, kind: Kind, client: Protocol) {
    let failures: Vec<String> = recorded(src, file, kind)
        .iter()
        .filter_map(|(case, rec)| {
            let answer = match rec {
                Recorded::Response(raw) => codec::decode_response(src, raw).ok()?,
                Recorded::Stream(bytes) => {
                    let events = codec::decode_stream(src, &[bytes.as_slice()]).ok()?;
                    let a = aggregate(&events);
                    if a.error.is_some() {
                        return None;
                    }
                    a.response
                }
                Recorded::Error(..) => return None,
            };
            check_next_turn(case, src, &answer, client).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Prints, per (upstream, client), how many signatures / encrypted reasoning items of the
/// recorded answers come back on the next turn. Manual: the numbers are a finding, not a rule.
#[test]
#[ignore = "manual: prints what survives a round trip through each client protocol"]
fn next_turn_carry_table() {
    for src in codec::ALL {
        for client in codec::ALL {
            let (mut want, mut got) = ([0usize; 4], [0usize; 4]);
            for (p, file) in LISTED.iter().filter(|(p, _)| *p == src) {
                let kind = if file.ends_with(".yaml") {
                    Kind::Cassette
                } else if file.ends_with(".json") {
                    Kind::Response
                } else {
                    Kind::Stream
                };
                for (_, rec) in recorded(*p, file, kind) {
                    let answer = match rec {
                        Recorded::Response(raw) => match codec::decode_response(src, &raw) {
                            Ok(r) => r,
                            Err(_) => continue,
                        },
                        Recorded::Stream(b) => match codec::decode_stream(src, &[&b]) {
                            Ok(e) => aggregate(&e).response,
                            Err(_) => continue,
                        },
                        Recorded::Error(..) => continue,
                    };
                    let Ok(body) = next_turn_request(&answer, client) else {
                        continue;
                    };
                    let Ok(q) = codec::decode_request(client, &body) else {
                        continue;
                    };
                    let Ok(up) = codec::encode_request(src, &q) else {
                        continue;
                    };
                    let Ok(q2) = codec::decode_request(src, &up) else {
                        continue;
                    };
                    let sent: Vec<_> = q2.messages.iter().flat_map(|m| m.parts.clone()).collect();
                    let (w, g) = (carried(&answer.parts), carried(&sent));
                    for (i, (a, b)) in [
                        (w.thinking_signatures.len(), g.thinking_signatures.len()),
                        (w.redacted.len(), g.redacted.len()),
                        (w.call_signatures.len(), g.call_signatures.len()),
                        (w.encrypted.len(), g.encrypted.len()),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        want[i] += a;
                        got[i] += b.min(a);
                    }
                }
            }
            println!(
                "{:>16} via {:>16}: thinking signatures {}/{}, redacted {}/{}, call signatures {}/{}, encrypted reasoning {}/{}",
                codec::name(src), codec::name(client), got[0], want[0], got[1], want[1], got[2], want[2], got[3], want[3]
            );
        }
    }
}
