//! Tests of [`super::UsageStats`]: counts, caps, the exact `/usage` shape, export/import,
//! the state file and the saver thread.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use switchyard_auth::timefmt::parse_rfc3339;

use super::{Limits, Tokens, UsageError, UsageEvent, UsageStats};

fn time(rfc3339: &str) -> SystemTime {
    let secs = parse_rfc3339(rfc3339).unwrap();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

fn tokens(input: u64, output: u64, cached: u64, reasoning: u64) -> Tokens {
    Tokens {
        input,
        output,
        cached,
        reasoning,
    }
}

fn event<'a>(key_id: &'a str, model: &'a str, account: &'a str, at: SystemTime) -> UsageEvent<'a> {
    UsageEvent {
        key_id,
        model,
        account,
        provider: "claude",
        at,
        latency: Duration::from_millis(250),
        failed: false,
        tokens: tokens(100, 10, 40, 5),
    }
}

/// A fresh directory under the system temp dir, per test and process.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "switchyard-usage-stats-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A few events over three keys, two models, two accounts, two days.
fn sample(stats: &UsageStats) {
    let t0 = time("2026-03-01T10:00:00Z");
    let t1 = time("2026-03-02T22:30:00Z");
    stats.record(&event("k1", "sonnet", "claude-api-key[0]", t0));
    stats.record(&event("k1", "sonnet", "claude-api-key[1]", t1));
    stats.record(&UsageEvent {
        failed: true,
        tokens: Tokens::default(),
        ..event("k1", "opus", "claude-api-key[0]", t1)
    });
    stats.record(&UsageEvent {
        provider: "codex-oauth",
        tokens: tokens(7, 3, 0, 2),
        ..event("k2", "gpt-5", "auth-dir/x.json", t0)
    });
    stats.record(&event("", "sonnet", "", t1));
}

#[test]
fn counts_and_token_sums_per_key_model_account_and_provider() {
    let stats = UsageStats::new(Limits::default());
    sample(&stats);
    let u = stats.usage_json();
    assert_eq!(u["usage"]["total_requests"], 5);
    assert_eq!(u["usage"]["success_count"], 4);
    assert_eq!(u["usage"]["failure_count"], 1);
    assert_eq!(u["failed_requests"], 1);
    assert_eq!(u["usage"]["total_tokens"], 110 * 3 + 10);
    let apis = &u["usage"]["apis"];
    assert_eq!(apis["k1"]["total_requests"], 3);
    assert_eq!(apis["k1"]["total_tokens"], 220);
    assert_eq!(apis["k1"]["models"]["sonnet"]["total_requests"], 2);
    assert_eq!(apis["k1"]["models"]["opus"]["total_tokens"], 0);
    assert_eq!(apis["k2"]["models"]["gpt-5"]["total_tokens"], 10);
    assert_eq!(apis["anonymous"]["models"]["sonnet"]["total_requests"], 1);
    assert_eq!(
        u["usage"]["requests_by_day"],
        json!({"2026-03-01": 2, "2026-03-02": 3})
    );
    assert_eq!(u["usage"]["tokens_by_hour"], json!({"10": 120, "22": 220}));

    let b = stats.by_account_json();
    assert_eq!(
        b["accounts"]["claude-api-key[0]"],
        json!({"total_requests": 2, "success_count": 1, "failure_count": 1,
               "input_tokens": 100, "output_tokens": 10, "cached_tokens": 40,
               "reasoning_tokens": 5, "total_tokens": 110})
    );
    assert_eq!(b["accounts"][""]["total_requests"], 1);
    assert_eq!(b["providers"]["claude"]["total_requests"], 4);
    assert_eq!(b["providers"]["claude"]["failure_count"], 1);
    assert_eq!(b["providers"]["codex-oauth"]["reasoning_tokens"], 2);
    assert_eq!(b["providers"]["codex-oauth"]["total_tokens"], 10);
}

#[test]
fn usage_json_has_cliproxyapis_exact_shape() {
    let stats = UsageStats::new(Limits::default());
    stats.record(&UsageEvent {
        key_id: "k1",
        model: "m1",
        account: "claude-api-key[0]",
        provider: "claude",
        at: time("2026-01-02T03:04:05Z"),
        latency: Duration::from_micros(1_500_900),
        failed: false,
        tokens: tokens(10, 20, 4, 5),
    });
    stats.record(&UsageEvent {
        key_id: "",
        model: "m2",
        account: "",
        provider: "",
        at: time("2026-01-03T23:00:00Z"),
        latency: Duration::ZERO,
        failed: true,
        tokens: Tokens::default(),
    });
    let expected = json!({
        "usage": {
            "total_requests": 2, "success_count": 1, "failure_count": 1, "total_tokens": 30,
            "apis": {
                "k1": {"total_requests": 1, "total_tokens": 30, "models": {
                    "m1": {"total_requests": 1, "total_tokens": 30, "details": [{
                        "timestamp": "2026-01-02T03:04:05Z", "latency_ms": 1500,
                        "source": "claude-api-key[0]", "auth_index": "claude",
                        "tokens": {"input_tokens": 10, "output_tokens": 20,
                                   "reasoning_tokens": 5, "cached_tokens": 4,
                                   "total_tokens": 30},
                        "failed": false}]}}},
                "anonymous": {"total_requests": 1, "total_tokens": 0, "models": {
                    "m2": {"total_requests": 1, "total_tokens": 0, "details": [{
                        "timestamp": "2026-01-03T23:00:00Z", "latency_ms": 0,
                        "source": "", "auth_index": "",
                        "tokens": {"input_tokens": 0, "output_tokens": 0,
                                   "reasoning_tokens": 0, "cached_tokens": 0,
                                   "total_tokens": 0},
                        "failed": true}]}}}
            },
            "requests_by_day": {"2026-01-02": 1, "2026-01-03": 1},
            "requests_by_hour": {"03": 1, "23": 1},
            "tokens_by_day": {"2026-01-02": 30, "2026-01-03": 0},
            "tokens_by_hour": {"03": 30, "23": 0}
        },
        "failed_requests": 1
    });
    assert_eq!(stats.usage_json(), expected);
}

#[test]
fn details_are_capped_keeping_the_newest() {
    let limits = Limits {
        details_per_model: 3,
        ..Limits::default()
    };
    let stats = UsageStats::new(limits);
    let base = time("2026-05-01T00:00:00Z");
    for i in [5u64, 1, 9, 7, 2, 8, 3, 6, 4, 0] {
        stats.record(&event("k", "m", "a", base + Duration::from_secs(i)));
    }
    let u = stats.usage_json();
    let m = &u["usage"]["apis"]["k"]["models"]["m"];
    assert_eq!(m["total_requests"], 10);
    let stamps: Vec<&str> = m["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(
        stamps,
        [
            "2026-05-01T00:00:07Z",
            "2026-05-01T00:00:08Z",
            "2026-05-01T00:00:09Z"
        ]
    );
}

#[test]
fn names_past_the_limits_count_under_other() {
    let limits = Limits {
        details_per_model: 2,
        keys: 10,
        models: 1_000,
        key_models: 500,
        accounts: 20,
    };
    let stats = UsageStats::new(limits);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 16
    };
    let at = time("2026-01-01T00:00:00Z");
    for _ in 0..100_000 {
        let model = format!("model-{:x}", next());
        let key = format!("key-{}", next() % 50);
        let account = format!("acct-{}", next() % 100);
        stats.record(&event(&key, &model, &account, at));
    }
    assert_eq!(super::state::DETAIL_BYTES, 64);
    let sizes = stats.lock().sizes();
    assert!(sizes.keys <= 11, "{sizes:?}");
    assert!(sizes.models <= 1_001, "{sizes:?}");
    assert!(sizes.pairs <= 500 + 11, "{sizes:?}");
    assert!(sizes.accounts <= 21, "{sizes:?}");
    assert!(sizes.providers <= 21, "{sizes:?}");
    assert!(sizes.details <= (500 + 11) * 2, "{sizes:?}");

    let u = stats.usage_json();
    assert_eq!(u["usage"]["total_requests"], 100_000);
    let apis = u["usage"]["apis"].as_object().unwrap();
    let sum: u64 = apis
        .values()
        .map(|a| a["total_requests"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 100_000);
    assert!(apis.contains_key("other"));
    assert!(apis["other"]["models"]
        .as_object()
        .unwrap()
        .contains_key("other"));
    assert!(stats.by_account_json()["accounts"]
        .as_object()
        .unwrap()
        .contains_key("other"));
}

#[test]
fn days_keep_the_newest_31() {
    let stats = UsageStats::new(Limits::default());
    let base = time("2026-01-01T12:00:00Z");
    for day in 0..40 {
        stats.record(&event(
            "k",
            "m",
            "a",
            base + Duration::from_secs(day * 86_400),
        ));
    }
    assert_eq!(stats.lock().sizes().days, 31);
    let u = stats.usage_json();
    let days = u["usage"]["requests_by_day"].as_object().unwrap();
    assert_eq!(days.len(), 31);
    assert!(days.contains_key("2026-02-09"));
    assert!(days.contains_key("2026-01-10"));
    assert!(!days.contains_key("2026-01-09"));
    assert_eq!(u["usage"]["total_requests"], 40);
    assert_eq!(u["usage"]["requests_by_hour"], json!({"12": 40}));
}

#[test]
fn export_then_import_into_empty_stats_gives_the_same_usage() {
    let limits = Limits {
        details_per_model: 2,
        ..Limits::default()
    };
    let a = UsageStats::new(limits);
    sample(&a);
    for i in 0..5 {
        a.record(&event(
            "k1",
            "sonnet",
            "x",
            time("2026-03-03T01:00:00Z") + Duration::from_secs(i),
        ));
    }
    let export = a.export_json();
    assert_eq!(export["version"], 1);
    assert!(export["exported_at"].is_string());

    let b = UsageStats::new(limits);
    let report = b.import_json(&export).unwrap();
    // Listed: k1/sonnet keeps its newest 2 of 7; opus, gpt-5 and anonymous/sonnet 1 each.
    assert_eq!(report.added, 5);
    assert_eq!(report.skipped, 0);
    assert_eq!(b.usage_json(), a.usage_json());

    let again = b.import_json(&export).unwrap();
    assert_eq!(again.added, 0);
    assert_eq!(again.skipped, 5);
    assert_eq!(b.usage_json(), a.usage_json());
}

#[test]
fn importing_into_non_empty_stats_twice_adds_nothing_the_second_time() {
    let small = Limits {
        details_per_model: 2,
        ..Limits::default()
    };
    let a = UsageStats::new(Limits::default());
    for i in 0..5 {
        a.record(&event(
            "k",
            "m",
            "acc",
            time("2026-03-03T01:00:00Z") + Duration::from_secs(i),
        ));
    }
    let b = UsageStats::new(small);
    b.record(&event(
        "k",
        "other-model",
        "acc",
        time("2026-03-04T01:00:00Z"),
    ));
    let first = b.import_json(&a.export_json()).unwrap();
    assert_eq!((first.added, first.skipped), (5, 0));
    let after_first = b.usage_json();
    assert_eq!(after_first["usage"]["total_requests"], 6);
    assert_eq!(
        after_first["usage"]["apis"]["k"]["models"]["m"]["total_requests"],
        5
    );
    let second = b.import_json(&a.export_json()).unwrap();
    assert_eq!((second.added, second.skipped), (0, 5));
    assert_eq!(b.usage_json(), after_first);
    assert_eq!(b.by_account_json()["accounts"]["acc"]["total_requests"], 6);
}

#[test]
fn imports_a_cliproxyapi_export() {
    let stats = UsageStats::new(Limits::default());
    let export = json!({
        "version": 1,
        "exported_at": "2026-01-02T12:00:00.5+08:00",
        "usage": {
            "total_requests": 1, "success_count": 1, "failure_count": 0, "total_tokens": 15,
            "apis": {"sk-abc": {"total_requests": 1, "total_tokens": 15, "models": {
                "gpt-5": {"total_requests": 1, "total_tokens": 15, "details": [{
                    "timestamp": "2026-01-02T11:04:05.123456789+08:00", "latency_ms": 12,
                    "source": "a@b.c", "auth_index": 3, "request_id": "r1",
                    "tokens": {"input_tokens": 5, "output_tokens": 10, "reasoning_tokens": 0,
                               "cached_tokens": 0, "total_tokens": 15},
                    "failed": false}]}}}},
            "requests_by_day": {"2026-01-02": 1}, "requests_by_hour": {"03": 1},
            "tokens_by_day": {"2026-01-02": 15}, "tokens_by_hour": {"03": 15}
        }
    });
    assert_eq!(stats.import_json(&export).unwrap().added, 1);
    let u = stats.usage_json();
    let d = &u["usage"]["apis"]["sk-abc"]["models"]["gpt-5"]["details"][0];
    assert_eq!(d["timestamp"], "2026-01-02T03:04:05Z");
    assert_eq!(d["auth_index"], "3");
    assert_eq!(u["usage"]["requests_by_hour"], json!({"03": 1}));
    assert_eq!(
        stats.by_account_json()["accounts"]["a@b.c"]["total_tokens"],
        15
    );
}

#[test]
fn a_wrong_shape_is_a_typed_error_and_changes_nothing() {
    let stats = UsageStats::new(Limits::default());
    sample(&stats);
    let before = stats.usage_json();
    assert!(matches!(
        stats.import_json(&json!({"apis": {}})),
        Err(UsageError::Shape(_))
    ));
    assert!(matches!(
        stats.import_json(&json!({"version": 2, "usage": {}})),
        Err(UsageError::Version(2))
    ));
    let bad_time = json!({"usage": {"apis": {"k": {"models": {"m": {"total_requests": 1,
        "details": [{"timestamp": "yesterday"}]}}}}}});
    assert!(matches!(
        stats.import_json(&bad_time),
        Err(UsageError::Field {
            field: "timestamp",
            ..
        })
    ));
    assert!(matches!(
        stats.import_json(&json!({"usage": {"requests_by_hour": {"24": 1}}})),
        Err(UsageError::Field { field: "hour", .. })
    ));
    assert_eq!(stats.usage_json(), before);
}

#[test]
fn save_then_load_round_trips() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("roundtrip");
    let path = dir.join("usage.json");
    let limits = Limits {
        details_per_model: 2,
        ..Limits::default()
    };
    let a = UsageStats::new(limits);
    sample(&a);
    for i in 0..4 {
        a.record(&event(
            "k1",
            "sonnet",
            "y",
            time("2026-03-03T01:00:00Z") + Duration::from_secs(i),
        ));
    }
    a.save(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let b = UsageStats::load(&path, limits).unwrap();
    assert_eq!(b.usage_json(), a.usage_json());
    assert_eq!(b.by_account_json(), a.by_account_json());
    // The drop marks survive too: re-importing what the first instance exported adds nothing.
    let again = b.import_json(&a.export_json()).unwrap();
    assert_eq!(again.added, 0);
    assert_eq!(b.usage_json(), a.usage_json());

    let missing = UsageStats::load(&dir.join("absent.json"), limits).unwrap();
    assert_eq!(missing.usage_json()["usage"]["total_requests"], 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_file_is_an_error_and_is_kept_aside() {
    let dir = temp_dir("corrupt");
    let path = dir.join("usage.json");
    std::fs::write(&path, b"{\"usage\": {\"total_requ").unwrap();
    let err = UsageStats::load(&path, Limits::default()).unwrap_err();
    assert!(matches!(err, UsageError::NotJson { .. }), "{err}");
    assert!(err.is_corrupt());

    let (stats, err) = UsageStats::load_or_quarantine(&path, Limits::default());
    assert!(err.is_some_and(|e| e.is_corrupt()));
    assert_eq!(stats.usage_json()["usage"]["total_requests"], 0);
    assert!(!path.exists());
    assert!(dir.join("usage.json.corrupt").exists());

    std::fs::write(&path, b"{\"usage\": {\"apis\": []}}").unwrap();
    assert!(matches!(
        UsageStats::load(&path, Limits::default()),
        Err(UsageError::Shape(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_saver_writes_after_a_change_and_stop_and_save_writes_the_final_state() {
    let dir = temp_dir("saver");
    let path = dir.join("usage.json");
    let stats = Arc::new(UsageStats::new(Limits::default()));
    let saver = stats
        .spawn_saver(path.clone(), Duration::from_millis(10))
        .unwrap();
    stats.record(&event("k", "m", "a", time("2026-01-01T00:00:00Z")));
    let mut waited = 0;
    while !path.exists() {
        assert!(waited < 1_000, "the saver did not write within 10 s");
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    }
    stats.record(&event("k", "m", "a", time("2026-01-01T00:00:01Z")));
    saver.stop_and_save().unwrap();
    let loaded = UsageStats::load(&path, Limits::default()).unwrap();
    assert_eq!(loaded.usage_json(), stats.usage_json());
    assert_eq!(loaded.usage_json()["usage"]["total_requests"], 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `commercial-mode`: `count` adds to every total and bucket as `record` does, and keeps no
/// detail (the details already held stay).
#[test]
fn count_keeps_the_totals_without_details() {
    let recorded = UsageStats::new(Limits::default());
    let counted = UsageStats::new(Limits::default());
    let t0 = time("2026-03-01T10:00:00Z");
    recorded.record(&event("k1", "sonnet", "claude-api-key[0]", t0));
    counted.record(&event("k1", "sonnet", "claude-api-key[0]", t0));
    for _ in 0..3 {
        recorded.record(&event("k1", "sonnet", "claude-api-key[0]", t0));
        counted.count(&event("k1", "sonnet", "claude-api-key[0]", t0));
    }
    let mut want = recorded.usage_json();
    let got = counted.usage_json();
    assert_eq!(
        want["usage"]["apis"]["k1"]["models"]["sonnet"]["details"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    assert_eq!(
        got["usage"]["apis"]["k1"]["models"]["sonnet"]["details"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    want["usage"]["apis"]["k1"]["models"]["sonnet"]["details"] =
        got["usage"]["apis"]["k1"]["models"]["sonnet"]["details"].clone();
    assert_eq!(got, want);
    assert_eq!(counted.by_account_json(), recorded.by_account_json());
}
