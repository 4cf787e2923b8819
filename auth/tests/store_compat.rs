#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]
//! An existing CLIProxyAPI `auth-dir` loads unchanged: files in its exact formats for several
//! providers (cliproxyapi.md §3.3), with control metadata; a rewrite keeps every field we do not
//! model, and writes 0600 in a 0700 directory.

use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use switchyard_auth::{ProviderId, TokenSet, TokenStore};
use switchyard_conf::Secret;

fn write(dir: &std::path::Path, name: &str, v: serde_json::Value) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec(&v).unwrap()).unwrap();
}

fn cliproxyapi_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        "claude-a@example.com.json",
        json!({
            "id_token": "", "access_token": "sk-ant-oat01-A", "refresh_token": "sk-ant-ort01-R",
            "last_refresh": "2026-01-01T00:00:00+08:00", "email": "a@example.com", "type": "claude",
            "expired": "2026-01-01T08:00:00+08:00", "prefix": "team", "priority": 2,
            "headers": {"X-Team": "blue"}, "note": "shared"
        }),
    );
    write(
        p,
        "codex-1a2b3c4d-b@example.com-plus.json",
        json!({
            "id_token": "eyJ.e30.sig", "access_token": "at-codex", "refresh_token": "rt-codex",
            "account_id": "acc-123", "last_refresh": "2026-01-01T00:00:00Z", "email": "b@example.com",
            "type": "codex", "expired": "2026-01-11T00:00:00Z", "websockets": true,
            "refresh_interval_seconds": 3600, "weight": 3, "request_retry": 1
        }),
    );
    write(
        p,
        "c@example.com-my-project.json",
        json!({
            "token": {"access_token": "ya29.A", "token_type": "Bearer", "refresh_token": "1//R",
                      "expiry": "2026-01-01T01:00:00.123456789Z"},
            "project_id": "my-project", "email": "c@example.com", "auto": true, "checked": true,
            "type": "gemini", "disabled": true
        }),
    );
    write(
        p,
        "qwen-d@example.com.json",
        json!({
            "access_token": "qa", "refresh_token": "qr", "last_refresh": "2026-01-01T00:00:00Z",
            "resource_url": "portal.qwen.ai", "email": "d@example.com", "type": "qwen",
            "expired": "2026-01-01T06:00:00Z", "excluded_models": ["qwen3-coder-flash"],
            "disable_cooling": true
        }),
    );
    write(
        p,
        "iflow-e@example.com-1767225600.json",
        json!({
            "access_token": "ia", "refresh_token": "ir", "last_refresh": "2026-01-01T00:00:00Z",
            "expired": "2026-01-03T00:00:00Z", "api_key": "sk-iflow", "email": "e@example.com",
            "token_type": "bearer", "scope": "read", "cookie": "", "type": "iflow"
        }),
    );
    write(
        p,
        "sub/kimi-1767225600000.json",
        json!({
            "access_token": "ka", "refresh_token": "kr", "token_type": "Bearer", "scope": "kimi",
            "device_id": "dev-1", "expired": "2026-01-01T00:15:00Z", "type": "kimi"
        }),
    );
    write(p, "notes.json", json!({"not": "a credential"}));
    std::fs::write(p.join("broken.json"), b"{\"type\": \"claude\"").unwrap();
    std::fs::write(p.join(".hidden.json"), b"{").unwrap();
    std::fs::write(p.join("readme.txt"), b"x").unwrap();
    d
}

#[test]
fn loads_every_provider_format_and_its_metadata() {
    let d = cliproxyapi_dir();
    let (records, problems) = TokenStore::new(d.path()).load_all();
    let ids: Vec<(&str, Option<ProviderId>)> = records
        .iter()
        .map(|r| (r.id.as_str(), r.provider))
        .collect();
    assert_eq!(
        ids,
        [
            ("c@example.com-my-project.json", Some(ProviderId::Gemini)),
            ("claude-a@example.com.json", Some(ProviderId::Claude)),
            (
                "codex-1a2b3c4d-b@example.com-plus.json",
                Some(ProviderId::Codex)
            ),
            (
                "iflow-e@example.com-1767225600.json",
                Some(ProviderId::Iflow)
            ),
            ("qwen-d@example.com.json", Some(ProviderId::Qwen)),
            ("sub/kimi-1767225600000.json", Some(ProviderId::Kimi)),
        ]
    );
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].id, "broken.json");

    let by = |id: &str| records.iter().find(|r| r.id == id).unwrap();
    let claude = by("claude-a@example.com.json");
    assert_eq!(claude.access_token(), Some("sk-ant-oat01-A"));
    assert_eq!(claude.expiry(), Some(1_767_225_600));
    assert_eq!(claude.meta.prefix.as_deref(), Some("team"));
    assert_eq!(claude.meta.priority, 2);
    assert_eq!(claude.meta.headers["X-Team"], "blue");
    assert_eq!(claude.meta.note.as_deref(), Some("shared"));
    let codex = by("codex-1a2b3c4d-b@example.com-plus.json");
    assert_eq!(codex.account_id(), Some("acc-123"));
    assert_eq!(codex.meta.refresh_interval_seconds, Some(3600));
    assert_eq!(codex.meta.weight, Some(3));
    assert_eq!(codex.meta.request_retry, Some(1));
    let gemini = by("c@example.com-my-project.json");
    assert_eq!(gemini.access_token(), Some("ya29.A"));
    assert_eq!(gemini.refresh_token(), Some("1//R"));
    assert_eq!(gemini.expiry(), Some(1_767_229_200));
    assert!(gemini.meta.disabled && !gemini.usable());
    let qwen = by("qwen-d@example.com.json");
    assert_eq!(qwen.resource_url(), Some("portal.qwen.ai"));
    assert_eq!(qwen.meta.excluded_models, ["qwen3-coder-flash"]);
    assert!(qwen.meta.disable_cooling);
    assert_eq!(
        by("sub/kimi-1767225600000.json").refresh_token(),
        Some("kr")
    );
}

#[test]
fn rewrite_keeps_unknown_fields_and_tightens_modes() {
    let d = cliproxyapi_dir();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = TokenStore::new(d.path());
    let (records, _) = store.load_all();
    let mut codex = records
        .into_iter()
        .find(|r| r.provider == Some(ProviderId::Codex))
        .unwrap();
    codex.apply_tokens(
        &TokenSet {
            access_token: Secret::new("at-2"),
            refresh_token: Some(Secret::new("rt-2")),
            expires_in_secs: Some(864_000),
            ..TokenSet::default()
        },
        1_767_225_600,
    );
    assert!(store.save(&codex).unwrap());
    assert!(
        !store.save(&codex).unwrap(),
        "unchanged bytes are not rewritten"
    );
    let path = d.path().join(&codex.id);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        v,
        json!({
            "id_token": "eyJ.e30.sig", "access_token": "at-2", "refresh_token": "rt-2",
            "account_id": "acc-123", "last_refresh": "2026-01-01T00:00:00Z",
            "email": "b@example.com", "type": "codex", "expired": "2026-01-11T00:00:00Z",
            "websockets": true, "refresh_interval_seconds": 3600, "weight": 3, "request_retry": 1
        })
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(d.path()), 0o700);
}
