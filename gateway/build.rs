//! Build script: the commit `switchyard --version` reports. `SWITCHYARD_COMMIT` wins (a
//! container build has no `.git`: deploy/Containerfile passes it as a build argument), then
//! `git rev-parse`, then "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=SWITCHYARD_COMMIT");
    let given = std::env::var("SWITCHYARD_COMMIT")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let commit = given.or_else(|| {
        // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it names (a commit)
        // and packed-refs (a gc).
        for name in ["HEAD", "packed-refs"] {
            if let Some(p) = git(&["rev-parse", "--git-path", name]) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            if let Some(p) = git(&["rev-parse", "--git-path", &r]) {
                println!("cargo:rerun-if-changed={p}");
            }
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    println!(
        "cargo:rustc-env=SWITCHYARD_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
