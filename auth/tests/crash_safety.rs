//! Crash safety of the token store: a child process rewrites one auth file in a loop and is
//! killed with SIGKILL at arbitrary moments; after every kill the file parses and is one of
//! the versions written, never a mix, and it is 0600 in a 0700 directory.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

#[test]
fn sigkill_during_rewrites_leaves_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let auth_dir = dir.path().join("auths");
    let file = auth_dir.join("codex-a@b.c-plus.json");
    let bin = env!("CARGO_BIN_EXE_switchyard-auth-rewrite-loop");
    for round in 0..20u64 {
        let mut child = Command::new(bin)
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n");
        // Let it run a varying number of rewrites before the kill: count renames by polling
        // the file's content, so the kill lands at a different point each round.
        let mut seen = 0;
        while seen < round % 7 + 1 {
            if std::fs::read(&file).is_ok() {
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let bytes = std::fs::read(&file).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("round {round}: torn file ({e}), {} bytes", bytes.len()));
        let token = v["access_token"].as_str().unwrap();
        let n: u64 = token[1..].parse().unwrap();
        let pad = v["pad"].as_str().unwrap().len();
        assert_eq!(
            pad,
            if n.is_multiple_of(2) { 10 } else { 200_000 },
            "round {round}"
        );
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(&auth_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
    }
    // Temporary files of killed writers may remain (dot-files, ignored by the loader), but
    // the loader sees exactly one credential.
    let (records, problems) = switchyard_auth::TokenStore::new(&auth_dir).load_all();
    assert_eq!(records.len(), 1);
    assert!(problems.is_empty());
}
