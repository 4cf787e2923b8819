//! The official Python SDKs (openai, anthropic, google-genai) against the mock: their stream
//! parsers and helpers are the strictest readers of each event sequence.
//!
//! Uses the project's venv (`.tools/venv`, made by `scripts/install-test-deps.sh`); without it,
//! or without one of the SDKs, the test says so on stderr and passes.

#[expect(dead_code, reason = "this test uses part of the shared support")]
mod common;

use common::Mock;
use std::path::Path;
use std::process::Command;

#[test]
fn official_python_sdks_accept_every_stream() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = manifest.join("../../.tools/venv/bin/python");
    // Under CI (and scripts/test, which installs the SDKs first) a missing venv is a failure.
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("SWITCHYARD_REQUIRE_SDKS").is_some();
    if !python.exists() {
        assert!(
            !required,
            "{} not found; run scripts/install-test-deps.sh",
            python.display()
        );
        eprintln!(
            "SKIP: {} not found; run scripts/install-test-deps.sh",
            python.display()
        );
        return;
    }
    let mock = Mock::start(&[]);
    let out = Command::new(&python)
        .arg(manifest.join("tests/sdk_check.py"))
        .arg(&mock.addr)
        .env("NO_PROXY", "*")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        assert!(!required, "official SDKs missing: {stderr}");
        eprintln!("SKIP: {stderr}");
        return;
    }
    assert!(
        out.status.success(),
        "sdk_check.py failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    eprintln!("{stdout}");
}
