//! Test helper for the crash-safety test (`tests/crash_safety.rs`): rewrites one auth file
//! through [`switchyard_auth::store::write_atomic`] in a loop, alternating two versions, until
//! it is killed. Not installed; not for users.
//!
//! Usage: `switchyard-auth-rewrite-loop <file>`; prints `ready` once the first write is done.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        let _ = writeln!(
            std::io::stderr(),
            "usage: switchyard-auth-rewrite-loop <file>"
        );
        return ExitCode::FAILURE;
    };
    // Two versions of very different sizes, so a torn write could not look like either.
    let version = |i: u64| {
        let pad = "x".repeat(if i.is_multiple_of(2) { 10 } else { 200_000 });
        serde_json::json!({"type": "codex", "access_token": format!("a{i}"), "pad": pad})
    };
    let mut i = 0u64;
    loop {
        let mut bytes = serde_json::to_vec(&version(i)).unwrap_or_default();
        bytes.push(b'\n');
        if let Err(e) = switchyard_auth::store::write_atomic(&path, &bytes) {
            let _ = writeln!(std::io::stderr(), "write failed: {e}");
            return ExitCode::FAILURE;
        }
        if i == 0 {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "ready");
            let _ = out.flush();
        }
        i += 1;
    }
}
