//! Helpers for the Gemini fixture tests: the recorded files under
//! `../shared/fixtures/upstream/gemini/` and their cassettes (`common/cassette.rs`).
#![expect(
    clippy::panic,
    reason = "test helpers outside #[test] fns: a fixture they cannot read must fail loudly"
)]

#[path = "../common/cassette.rs"]
pub mod cassette;

use std::path::{Path, PathBuf};

pub use cassette::Interaction;

pub fn dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/upstream/gemini");
    assert!(d.is_dir(), "fixture directory missing: {}", d.display());
    d
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn cassette(name: &str) -> Vec<Interaction> {
    cassette::load(&dir().join(name))
}

pub fn is_generate(it: &Interaction) -> bool {
    it.is_generation(switchyard_translators::ir::Protocol::Gemini)
}

/// Every file of the fixture directory: `every_fixture_file_is_covered` checks the list.
pub const FILES: &[&str] = &[
    "google-reasoning-gemini3.chunks.txt",
    "google-reasoning.json",
    "google-stream-no-args-tool-call.chunks.txt",
    "google-text.chunks.txt",
    "google-text.json",
    "google-tool-call-gemini3.chunks.txt",
    "google-tool-call-gemini3.json",
    "google-vertex-stream-tool-call-arguments-nested.1.chunks.txt",
    "test_code_execution_stream.yaml",
    "test_google_instructions_only_with_tool_calls.yaml",
    "test_google_model_cached_content.yaml",
    "test_google_model_image_url_input.yaml",
    "test_google_model_max_tokens.yaml",
    "test_google_model_retry.yaml",
    "test_google_model_safety_settings.yaml",
    "test_google_model_thinking_part_iter.yaml",
    "test_google_model_web_search_tool_stream.yaml",
    "test_google_streaming_tool_call_thought_signature.yaml",
    "test_google_vertex_service_tier_flex_stream.yaml",
    "test_google_vertexai_image_generation_with_output_format.yaml",
    "test_model_name_suggestion[google].yaml",
    "test_prompt.yaml",
    "test_tools_with_gemini_3_thought_signatures.yaml",
];
