#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]
//! The refresh service against a scripted token endpoint on loopback: timing with an injected
//! clock (no sleeps), single flight (concurrent callers after a 401 cause one grant), the
//! rotated refresh token on disk before the new access token is handed out, and
//! `invalid_grant` marking the account unusable without further grants.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use switchyard_auth::egress::Route;
use switchyard_auth::refresh::{AccountStatus, Clock, RefreshCounts, Refresher};
use switchyard_auth::ProviderId;

mod support;
use support::token_endpoint;

struct Fixed(i64);
impl Clock for Fixed {
    fn now(&self) -> i64 {
        self.0
    }
}

fn setup(token_url: &str, now: i64) -> (tempfile::TempDir, Arc<Refresher>) {
    let dir = tempfile::tempdir().unwrap();
    let auths = dir.path().join("auths");
    std::fs::create_dir_all(&auths).unwrap();
    std::fs::write(
        auths.join("codex-x.json"),
        serde_json::to_vec(&serde_json::json!({
            "type": "codex", "access_token": "at-1", "refresh_token": "rt-1",
            "expired": switchyard_auth::timefmt::format_rfc3339(now + 10 * 86_400),
            "last_refresh": switchyard_auth::timefmt::format_rfc3339(now - 86_400),
            "extra": "kept"
        }))
        .unwrap(),
    )
    .unwrap();
    let yaml = format!(
        "auth-dir: {}\noauth-overrides:\n  codex:\n    token-url: {token_url}\n    client-id: c\n",
        auths.display()
    );
    let cfg = switchyard_conf::load_str(&yaml).unwrap().config;
    let r = Refresher::new(&cfg, 2, Arc::new(Fixed(now))).unwrap();
    (dir, r)
}

const NOW: i64 = 1_800_000_000;

fn codex_counts(r: &Refresher) -> RefreshCounts {
    let all = r.refresh_counts();
    for (p, c) in all {
        if p != ProviderId::Codex {
            assert_eq!(c, RefreshCounts::default(), "{p:?}");
        }
    }
    all.into_iter()
        .find_map(|(p, c)| (p == ProviderId::Codex).then_some(c))
        .unwrap()
}

#[tokio::test]
async fn due_follows_the_codex_lead_with_an_injected_clock() {
    let (_dir, r) = setup("http://127.0.0.1:9/token", NOW);
    // expiry = now + 10 d, lead 5 d: due at now + 5 d.
    assert!(r.due(NOW).is_empty());
    assert!(r.due(NOW + 5 * 86_400 - 1).is_empty());
    assert_eq!(r.due(NOW + 5 * 86_400), ["codex-x.json"]);
}

#[tokio::test]
async fn concurrent_401s_cause_one_grant_and_rotation_is_persisted_first() {
    let (url, count, bodies) = token_endpoint(|n| {
        (200, format!(r#"{{"access_token":"at-{}","refresh_token":"rt-{}","token_type":"Bearer","expires_in":3600}}"#, n + 1, n + 1))
    })
    .await;
    let (dir, r) = setup(&url, NOW);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.refresh_after_401("codex-x.json", "at-1").await })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap().expose(), "at-2");
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(codex_counts(&r), RefreshCounts { ok: 1, error: 0 });
    assert!(!r.refreshing("codex-x.json"));
    assert!(bodies.lock().await[0].contains("refresh_token=rt-1"));
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("auths/codex-x.json")).unwrap())
            .unwrap();
    assert_eq!(file["refresh_token"], "rt-2");
    assert_eq!(file["access_token"], "at-2");
    assert_eq!(file["extra"], "kept");
    assert_eq!(r.token("codex-x.json").await.unwrap().expose(), "at-2");
    // A 1-hour token: next due at half its life, not immediately.
    assert!(r.due(NOW + 1799).is_empty());
    assert_eq!(r.due(NOW + 1800), ["codex-x.json"]);
}

#[tokio::test]
async fn invalid_grant_marks_unusable_once_and_never_retries() {
    let (url, count, _) = token_endpoint(|_| {
        (
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#.into(),
        )
    })
    .await;
    let (dir, r) = setup(&url, NOW);
    let before = std::fs::read(dir.path().join("auths/codex-x.json")).unwrap();
    let err = r.refresh_now("codex-x.json").await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    assert_eq!(
        r.status("codex-x.json"),
        Some(AccountStatus::Unusable(
            "refresh token rejected by the provider (invalid_grant); log in again".into()
        ))
    );
    assert!(r.token("codex-x.json").await.is_err());
    assert!(r.refresh_now("codex-x.json").await.is_err());
    assert!(r.due(i64::MAX / 2).is_empty());
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // One grant finished (badly); the refusals after it never reached the provider.
    assert_eq!(codex_counts(&r), RefreshCounts { ok: 0, error: 1 });
    assert_eq!(
        std::fs::read(dir.path().join("auths/codex-x.json")).unwrap(),
        before
    );
}

#[tokio::test]
async fn other_failures_back_off() {
    let (url, count, _) = token_endpoint(|_| (503, "{}".into())).await;
    let (_dir, r) = setup(&url, NOW);
    assert!(r.refresh_now("codex-x.json").await.is_err());
    assert_eq!(r.status("codex-x.json"), Some(AccountStatus::Active));
    // The first failure backs off 30 s from the (fixed) clock.
    assert!(r.due(NOW + 29).is_empty());
    assert_eq!(r.due(NOW + 30), ["codex-x.json"]);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(r.token("codex-x.json").await.unwrap().expose(), "at-1");
}

/// `auth-dir` with one codex file per `(name, proxy_url)`, and a refresher whose config has
/// `proxy-url: global` (when given).
fn setup_proxied(
    token_url: &str,
    global: Option<&str>,
    files: &[(&str, Option<&str>)],
) -> (tempfile::TempDir, Arc<Refresher>) {
    let dir = tempfile::tempdir().unwrap();
    let auths = dir.path().join("auths");
    std::fs::create_dir_all(&auths).unwrap();
    for (name, proxy) in files {
        let mut file = serde_json::json!({
            "type": "codex", "access_token": format!("old-{name}"), "refresh_token": "rt-1",
            "expired": switchyard_auth::timefmt::format_rfc3339(NOW - 60),
        });
        if let Some(p) = proxy {
            file["proxy_url"] = serde_json::Value::String((*p).to_owned());
        }
        std::fs::write(
            auths.join(format!("{name}.json")),
            serde_json::to_vec(&file).unwrap(),
        )
        .unwrap();
    }
    let global = global
        .map(|g| format!("proxy-url: {g}\n"))
        .unwrap_or_default();
    let yaml = format!(
        "{global}auth-dir: {}\noauth-overrides:\n  codex:\n    token-url: {token_url}\n    client-id: c\n",
        auths.display()
    );
    let cfg = switchyard_conf::load_str(&yaml).unwrap().config;
    (dir, Refresher::new(&cfg, 2, Arc::new(Fixed(NOW))).unwrap())
}

fn via(s: &str) -> Route {
    let setting = switchyard_conf::parse_proxy_url(s).unwrap();
    let Some(switchyard_conf::ProxySetting::Via(u)) = setting else {
        unreachable!("{s} is a proxy URL")
    };
    Route::Via(u)
}

#[tokio::test]
async fn each_account_refreshes_through_its_files_proxy_else_the_global_one() {
    let (_dir, r) = setup_proxied(
        "http://127.0.0.1:9/token",
        Some("http://127.0.0.1:3128"),
        &[
            ("plain", None),
            ("own", Some("socks5://127.0.0.1:1080")),
            ("direct", Some("direct")),
            ("none", Some("NONE")),
        ],
    );
    assert_eq!(r.route("plain.json").unwrap(), via("http://127.0.0.1:3128"));
    assert_eq!(r.route("own.json").unwrap(), via("socks5://127.0.0.1:1080"));
    assert_eq!(r.route("direct.json").unwrap(), Route::Direct);
    assert_eq!(r.route("none.json").unwrap(), Route::Direct);
    // A config reload changes the global proxy; the files' own choices stay.
    r.set_proxy_url(Some("direct"));
    assert_eq!(r.route("plain.json").unwrap(), Route::Direct);
    assert_eq!(r.route("own.json").unwrap(), via("socks5://127.0.0.1:1080"));
    r.set_proxy_url(None);
    assert_eq!(r.route("plain.json").unwrap(), Route::Environment);

    let (_dir, r) = setup_proxied("http://127.0.0.1:9/token", None, &[("plain", None)]);
    assert_eq!(r.route("plain.json").unwrap(), Route::Environment);
}

#[tokio::test]
async fn the_grant_goes_to_the_proxy_and_direct_skips_it() {
    // An HTTP proxy is sent `POST http://<token host>/token` in absolute form; this one
    // answers it itself, so only a request that went through it gets its token.
    let (proxy, via_proxy, proxied_bodies) = token_endpoint(|_| {
        (
            200,
            r#"{"access_token":"at-proxy","token_type":"Bearer","expires_in":3600}"#.into(),
        )
    })
    .await;
    let (url, direct, _) = token_endpoint(|_| {
        (
            200,
            r#"{"access_token":"at-direct","token_type":"Bearer","expires_in":3600}"#.into(),
        )
    })
    .await;
    let proxy = proxy.trim_end_matches("/token").to_owned();
    let (_dir, r) = setup_proxied(
        &url,
        Some(&proxy),
        &[
            ("plain", None),
            ("direct", Some("direct")),
            ("dead", Some("http://127.0.0.1:9")),
        ],
    );
    assert_eq!(
        r.refresh_now("plain.json").await.unwrap().expose(),
        "at-proxy"
    );
    assert_eq!(via_proxy.load(Ordering::SeqCst), 1);
    assert_eq!(direct.load(Ordering::SeqCst), 0);
    assert!(proxied_bodies.lock().await[0].contains("refresh_token=rt-1"));

    assert_eq!(
        r.refresh_now("direct.json").await.unwrap().expose(),
        "at-direct"
    );
    assert_eq!(direct.load(Ordering::SeqCst), 1);
    assert_eq!(via_proxy.load(Ordering::SeqCst), 1);

    // A dead proxy in the file: the refresh fails, naming the proxy, and neither the global
    // proxy nor a direct connection is tried.
    let err = r.refresh_now("dead.json").await.unwrap_err().to_string();
    assert!(err.contains("via http://127.0.0.1:9"), "{err}");
    assert_eq!(via_proxy.load(Ordering::SeqCst), 1);
    assert_eq!(direct.load(Ordering::SeqCst), 1);
    assert_eq!(r.current_token("dead.json").unwrap().expose(), "old-dead");
}
