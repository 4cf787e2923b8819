//! `oauth-overrides`: every field read, unknown providers and keys rejected with the path,
//! URLs validated, the secret hidden from `Debug`.
#![expect(clippy::panic, reason = "a test fails by panicking")]

mod common;

use common::{ok, problems};
use switchyard_conf::{OAuthOverride, Secret};

#[test]
fn every_field_is_read() {
    let cfg = ok("
oauth-overrides:
  codex:
    auth-url: http://127.0.0.1:9/auth
    token-url: http://127.0.0.1:9/token/
    device-url: http://127.0.0.1:9/device
    client-id: test-client
    client-secret: s3cret
    base-url: http://127.0.0.1:10/backend-api/codex
  qwen: {}
")
    .config;
    assert_eq!(
        cfg.oauth_overrides.get("codex"),
        Some(&OAuthOverride {
            auth_url: Some("http://127.0.0.1:9/auth".into()),
            token_url: Some("http://127.0.0.1:9/token".into()),
            device_url: Some("http://127.0.0.1:9/device".into()),
            client_id: Some("test-client".into()),
            client_secret: Some(Secret::new("s3cret")),
            base_url: Some("http://127.0.0.1:10/backend-api/codex".into()),
        })
    );
    assert_eq!(
        cfg.oauth_overrides.get("qwen"),
        Some(&OAuthOverride::default())
    );
    assert!(!format!("{cfg:?}").contains("s3cret"));
}

#[test]
fn unknown_provider_key_and_bad_url_are_errors() {
    assert_eq!(
        problems("
oauth-overrides:
  openai: {client-id: x}
  codex:
    token_url: http://x
    base-url: ftp://x
"),
        [
            "oauth-overrides.openai: unknown OAuth provider; expected one of claude, codex, gemini, qwen, kimi, iflow, antigravity, vertex",
            "oauth-overrides.codex.token_url: unknown key; did you mean token-url?",
            "oauth-overrides.codex.base-url: expected an absolute http(s) URL, got \"ftp://x\" (scheme must be http or https)",
        ]
    );
}

#[test]
fn antigravity_base_url_lists_hosts_in_order() {
    let cfg = ok("
oauth-overrides:
  antigravity:
    base-url: 'http://127.0.0.1:9/, http://127.0.0.1:10'
")
    .config;
    assert_eq!(
        cfg.oauth_overrides["antigravity"].base_url.as_deref(),
        Some("http://127.0.0.1:9,http://127.0.0.1:10")
    );
    assert_eq!(
        problems("
oauth-overrides:
  antigravity: {base-url: 'http://127.0.0.1:9,ftp://x'}
  gemini: {base-url: 'http://127.0.0.1:9,http://127.0.0.1:10'}
"),
        [
            "oauth-overrides.antigravity.base-url: expected an absolute http(s) URL, got \"ftp://x\" (scheme must be http or https)",
            "oauth-overrides.gemini.base-url: expected an absolute http(s) URL, got \"http://127.0.0.1:9,http://127.0.0.1:10\" (invalid port)",
        ]
    );
}
