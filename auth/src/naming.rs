//! Auth file names in CLIProxyAPI's scheme (cliproxyapi.md §3.3; Codex's
//! `internal/auth/codex/filename.go`), with a stable fallback when the provider gave no email
//! (a test provider, or a provider that never does).
//!
//! Pure; no I/O. Untrusted parts (claims) are sanitised so a name never leaves `auth-dir`.

use sha2::{Digest, Sha256};

/// What the name is built from.
#[derive(Debug, Clone, Default)]
pub struct NameParts<'a> {
    pub email: Option<&'a str>,
    /// The OpenID `sub` claim: stable per account, used when there is no email.
    pub subject: Option<&'a str>,
    /// Codex: ChatGPT account id and plan type.
    pub account_id: Option<&'a str>,
    pub plan: Option<&'a str>,
    /// Gemini: the project id.
    pub project: Option<&'a str>,
    /// Vertex: the service account's project id.
    pub name: Option<&'a str>,
    /// Used by the kinds that carry a time (kimi, iflow) and as the last fallback.
    pub now_ms: i64,
}

/// The file name for a new login of `file_type`.
pub fn file_name(file_type: &str, p: &NameParts<'_>) -> String {
    let who = p
        .email
        .filter(|e| !e.trim().is_empty())
        .map(sanitize)
        .or_else(|| {
            p.subject
                .filter(|s| !s.trim().is_empty())
                .map(|s| format!("sub-{}", short_hash(s)))
        });
    let stamp = p.now_ms.to_string();
    match file_type {
        "codex" => {
            let hash = p.account_id.filter(|a| !a.is_empty()).map(short_hash);
            let plan = p.plan.map(normalize_plan).filter(|s| !s.is_empty());
            let mut parts = vec!["codex".to_owned()];
            parts.extend(hash);
            parts.push(who.unwrap_or(stamp));
            parts.extend(plan);
            format!("{}.json", parts.join("-"))
        }
        "gemini" => match p.project.filter(|s| !s.is_empty()) {
            Some(project) => format!("{}-{}.json", who.unwrap_or(stamp), sanitize(project)),
            None => format!("gemini-{}.json", who.unwrap_or(stamp)),
        },
        "iflow" => format!(
            "iflow-{}-{}.json",
            who.unwrap_or_else(|| "account".into()),
            p.now_ms / 1000
        ),
        "kimi" => format!("kimi-{stamp}.json"),
        "vertex" => format!("vertex-{}.json", p.name.map(sanitize).unwrap_or(stamp)),
        other => format!("{other}-{}.json", who.unwrap_or(stamp)),
    }
}

/// First 8 hex digits of SHA-256, as CLIProxyAPI hashes the ChatGPT account id.
fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn sanitize(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_owned()
}

fn normalize_plan(plan: &str) -> String {
    plan.split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cliproxyapi() {
        let mut p = NameParts {
            email: Some("a@b.c"),
            account_id: Some("acc-1"),
            plan: Some("Plus"),
            now_ms: 1_700_000_000_123,
            ..NameParts::default()
        };
        let h = short_hash("acc-1");
        assert_eq!(file_name("codex", &p), format!("codex-{h}-a@b.c-plus.json"));
        p.account_id = None;
        assert_eq!(file_name("codex", &p), "codex-a@b.c-plus.json");
        assert_eq!(file_name("claude", &p), "claude-a@b.c.json");
        assert_eq!(file_name("qwen", &p), "qwen-a@b.c.json");
        assert_eq!(file_name("iflow", &p), "iflow-a@b.c-1700000000.json");
        assert_eq!(file_name("kimi", &p), "kimi-1700000000123.json");
        p.project = Some("proj");
        assert_eq!(file_name("gemini", &p), "a@b.c-proj.json");
        let evil = NameParts {
            email: Some("../../etc/x"),
            ..NameParts::default()
        };
        assert_eq!(file_name("claude", &evil), "claude-_.._etc_x.json");
    }

    #[test]
    fn missing_email_falls_back_to_a_stable_name() {
        let p = NameParts {
            subject: Some("user-1"),
            plan: None,
            now_ms: 5,
            ..NameParts::default()
        };
        let a = file_name("codex", &p);
        assert_eq!(a, format!("codex-sub-{}.json", short_hash("user-1")));
        assert_eq!(
            file_name(
                "codex",
                &NameParts {
                    now_ms: 6,
                    ..p.clone()
                }
            ),
            a
        );
        assert_eq!(file_name("qwen", &NameParts::default()), "qwen-0.json");
    }
}
