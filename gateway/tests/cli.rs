//! The `switchyard` command line: `check-config` reports every problem at once and its exit
//! status says whether there was one; `serve` refuses a bad config before binding anything.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failed check or a bad fixture fails the test"
)]

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str], config: &str) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!(
        "switchyard-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn check_config_reports_every_problem_and_fails() {
    let (code, _out, err) = run(
        &["check-config", "--config"],
        "port: 99999\nclaude-api-key:\n  - api-kye: x\nrouting:\n  strategy: random\nremote-management:\n  allow-remote: false\n",
    );
    assert_eq!(code, 1, "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 4, "{err}");
    assert!(err.contains("port"), "{err}");
    assert!(
        err.contains("claude-api-key[0].api-kye: unknown key; did you mean api-key?"),
        "{err}"
    );
    assert!(err.contains("routing.strategy"), "{err}");
    assert!(err.contains("problem(s)"), "{err}");
}

#[test]
fn check_config_accepts_a_good_config_with_warnings() {
    let (code, out, err) = run(
        &["check-config", "--config"],
        "port: 8400\nremote-management:\n  allow-remote: false\n  disable-control-panel: true\n  disable-auto-update-panel: true\nclaude-api-key:\n  - api-key: k\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.trim_end().ends_with(": ok"), "{out}");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("warning: remote-management."))
            .count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("warning: remote-management.disable-auto-update-panel"),
        "{err}"
    );
}

#[test]
fn proxy_urls_are_checked_at_load_with_their_key_path() {
    let (code, out, err) = run(
        &["check-config", "--config"],
        "proxy-url: socks5h://user:pw@127.0.0.1:1080\nclaude-api-key:\n  - api-key: k\n    proxy-url: direct\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.trim_end().ends_with(": ok"), "{out}");
    let (code, _out, err) = run(
        &["check-config", "--config"],
        "proxy-url: http://proxy:3128/path\nclaude-api-key:\n  - api-key: k\n    proxy-url: socks4://user:hunter2@h:1\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("proxy-url: a proxy URL has no path, query or fragment"),
        "{err}"
    );
    assert!(
        err.contains("claude-api-key[0].proxy-url: expected an http, https, socks5 or socks5h URL, or direct or none (scheme \"socks4\" is not supported)"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn every_deploy_config_passes_check_config() {
    let deploy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let mut seen = 0;
    for entry in std::fs::read_dir(&deploy).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
                .args(["check-config", "--config"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "expected the quickstart and the example config under deploy/"
    );
}

#[test]
fn pingora_does_not_take_over_the_command_line() {
    // Pingora's own parser would accept `-t` (test config) and `-d` (daemon); ours rejects them.
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "-d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument '-d'"));
}
