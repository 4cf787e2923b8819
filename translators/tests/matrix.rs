//! The cross-protocol matrix (issue 3, "Real recorded traffic"), as tables; the checks are
//! in `common::replay`.
//!
//! - Responses: every recorded upstream answer (`*.json`, `*.chunks.txt`, the cassettes'
//!   bodies) is decoded with its own protocol and re-encoded by EVERY client protocol, as a
//!   stream and as a whole response; the output must satisfy that client's parser rules
//!   (`common::validate`, from ../shared/CLIENTS.md), show the model the client asked for, and,
//!   decoded back by the client protocol, mean the same (`common::summary`: text, thinking,
//!   tool names, ids and argument JSON, stop reason, usage, error class, modulo what the
//!   client protocol cannot express, listed on `Summary::as_seen_by`). Every stream split at
//!   every byte offset: `stream_splits.rs`.
//! - The STYLE 13 scenario list (`common::scenarios`) through every encoder, and upstream
//!   errors of every class.
//! - Requests: every cassette request and the request scenarios, from every client protocol
//!   to every upstream protocol (`RequestSummary`, `validate::request`).
//! - The next turn: an answer goes to a client, comes back with tool results, and must be
//!   acceptable to the same upstream with its calls (and, same protocol, signatures) intact.
//!
//! Tables, not loops: the macros expand one test per (case × protocol), and
//! `every_fixture_file_is_listed` fails when a fixture file has no row. Known bugs of a
//! protocol module are `#[ignore = "known bug ..."]` arms of `gate!`, visible in every run.
//!
//! Run: `cargo test -p switchyard-translators --test matrix`
#![expect(
    clippy::panic,
    clippy::expect_used,
    reason = "test code (helpers included): a broken fixture or a failed check is a failed test"
)]

mod common;

use common::fixtures::Recorded;
use common::replay::*;
use common::summary::aggregate;
use common::{codec, fixtures};
use switchyard_translators::ir::Protocol;

// Protocols whose module has not landed: every test touching them is ignored with the
// reason below (the same text `common::codec` panics with). Remove an arm pair when its
// module lands.
macro_rules! gate {
    // Known bugs in a protocol module, by (case, client protocol): reported, not hidden.
    // KNOWN-BUGS-START
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
