//! The scrape-time families on a runtime of 1,000 accounts and 100 models (config generated
//! here), and the cost of a whole scrape of it: `scrape_cost` (ignored; run it with
//! `cargo test --release -p switchyard-gateway scrape_cost -- --ignored --nocapture`).

use super::*;
use crate::health::{CoolingPolicy, Outcome};
use crate::metrics::{Metrics, RequestObservation};
use crate::runtime::Runtime;
use prometheus::Encoder;
use std::fmt::Write as _;
use std::time::Duration;
use switchyard_translators::ir::Usage;

const ACCOUNTS_PER_SECTION: usize = 250;
const MODELS: usize = 100;
const MODELS_PER_ACCOUNT: usize = 10;

/// 250 accounts in each of `claude-api-key`, `gemini-api-key`, `codex-api-key` and
/// `openai-compatibility` (5 providers of 50 keys), each serving 10 of 100 models.
fn big_config() -> String {
    let mut y = String::from("auth-dir: /nonexistent-sy-metrics-collect\n");
    let models = |y: &mut String, j: usize, indent: &str| {
        let _ = writeln!(y, "{indent}models:");
        for k in 0..MODELS_PER_ACCOUNT {
            let m = (j * MODELS_PER_ACCOUNT + k) % MODELS;
            let _ = writeln!(y, "{indent}  - {{name: up-{m}, alias: model-{m}}}");
        }
    };
    for section in ["claude-api-key", "gemini-api-key", "codex-api-key"] {
        let _ = writeln!(y, "{section}:");
        for j in 0..ACCOUNTS_PER_SECTION {
            let _ = writeln!(y, "  - api-key: k{j}\n    base-url: http://127.0.0.1:1");
            models(&mut y, j, "    ");
        }
    }
    y.push_str("openai-compatibility:\n");
    for p in 0..5 {
        let _ = writeln!(
            y,
            "  - name: p{p}\n    base-url: http://127.0.0.1:1/v1\n    api-key-entries:"
        );
        for j in 0..ACCOUNTS_PER_SECTION / 5 {
            let _ = writeln!(y, "      - api-key: o{p}-{j}");
        }
        models(&mut y, p, "    ");
    }
    y
}

struct Fixture {
    shared: Arc<Shared>,
    holder: Arc<RuntimeHolder>,
}

fn fixture() -> Fixture {
    let cfg = switchyard_conf::load_str(&big_config())
        .map(|l| l.config)
        .unwrap_or_else(|p| panic!("{p:?}"));
    let refresher = crate::channels::oauth::new_refresher(&cfg).unwrap();
    let runtime = Runtime::build_with(&cfg, refresher.clone()).unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(runtime.accounts.len(), 4 * ACCOUNTS_PER_SECTION);
    let holder = Arc::new(RuntimeHolder::new(runtime));
    let shared = Arc::new(Shared {
        health: Default::default(),
        affinity: Default::default(),
        metrics: Metrics::new(true, false).unwrap(),
        logs: crate::logs::Logs::start(&cfg, &std::env::temp_dir().join("sy-metrics.yaml"))
            .unwrap(),
        usage: None,
        in_flight: Default::default(),
        replica: None,
    });
    register(
        shared.metrics.registry(),
        holder.clone(),
        &shared,
        refresher,
    )
    .unwrap();
    Fixture { shared, holder }
}

/// Traffic on every model from every client protocol; every account used on its models;
/// one claude account in ten rate limited (cooling).
fn record_traffic(f: &Fixture) {
    let runtime = f.holder.load();
    let policy = CoolingPolicy {
        disabled: false,
        transient: None,
    };
    let now = Instant::now();
    for (i, account) in runtime.accounts.iter().enumerate() {
        let provider = account.channel.provider_label(account.kind);
        for k in 0..MODELS_PER_ACCOUNT {
            let model = format!("model-{}", (i * MODELS_PER_ACCOUNT + k) % MODELS);
            f.shared
                .health
                .record(&account.id, &model, Outcome::Success, policy, now);
            f.shared.metrics.attempt(provider, &account.id, 200);
        }
    }
    let claude = runtime
        .accounts
        .iter()
        .filter(|a| a.channel.provider_label(a.kind) == "claude");
    for account in claude.step_by(10) {
        let quota = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(600)),
        };
        f.shared
            .health
            .record(&account.id, "model-0", quota, policy, now);
        f.shared.metrics.cooldown("claude", "quota");
    }
    for m in 0..MODELS {
        let model = format!("model-{m}");
        for client in ["openai_chat", "openai_responses", "anthropic", "gemini"] {
            f.shared.metrics.request(&RequestObservation {
                client_protocol: client,
                upstream_protocol: "anthropic",
                model: &model,
                code: 200,
                provider: "claude",
                gen_ai_provider: "anthropic",
                operation: "chat",
                duration: Duration::from_millis(300),
                first_chunk: Some(Duration::from_millis(40)),
                usage: Some(Usage {
                    input_tokens: 100,
                    output_tokens: 20,
                    ..Usage::default()
                }),
            });
        }
    }
}

fn scrape(shared: &Shared) -> String {
    let mut out = Vec::with_capacity(256 * 1024);
    prometheus::TextEncoder::new()
        .encode(&shared.metrics.registry().gather(), &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn accounts_by_provider_and_state_build_info_and_process() {
    let f = fixture();
    record_traffic(&f);
    let text = scrape(&f.shared);
    for (provider, ready, cooling) in [
        ("claude", 225, 25),
        ("gemini", 250, 0),
        ("codex", 250, 0),
        ("openai-compatible", 250, 0),
    ] {
        for (state, n) in [
            ("ready", ready),
            ("cooling", cooling),
            ("refreshing", 0),
            ("disabled", 0),
        ] {
            let line =
                format!(r#"switchyard_accounts{{provider="{provider}",state="{state}"}} {n}"#);
            assert!(text.contains(&line), "{line} missing:\n{text}");
        }
    }
    assert!(text.contains("# TYPE switchyard_oauth_refreshes_total counter"));
    assert!(
        text.contains(r#"switchyard_oauth_refreshes_total{provider="codex-oauth",result="ok"} 0"#)
    );
    let build = format!(
        r#"switchyard_build_info{{commit="{}",version="{}"}} 1"#,
        env!("SWITCHYARD_COMMIT"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&build), "{build} missing");
    assert!(text.contains("process_cpu_seconds_total"));
    assert!(text.contains("process_resident_memory_bytes"));
}

#[test]
fn a_cooldown_that_ended_is_ready_again_and_a_reload_is_seen() {
    let f = fixture();
    let runtime = f.holder.load();
    let policy = CoolingPolicy {
        disabled: false,
        transient: None,
    };
    let past = Instant::now() - Duration::from_secs(10);
    let quota = Outcome::Status {
        status: 429,
        retry_after: Some(Duration::from_secs(1)),
    };
    let id = &runtime.accounts[0].id;
    f.shared.health.record(id, "model-0", quota, policy, past);
    let text = scrape(&f.shared);
    assert!(text.contains(r#"switchyard_accounts{provider="claude",state="ready"} 250"#));
    // A snapshot with one account: the gauge follows the holder, not the first snapshot.
    let cfg = switchyard_conf::load_str(
        "auth-dir: /nonexistent-sy-metrics-collect\nclaude-api-key:\n  - api-key: a\n    base-url: http://127.0.0.1:1\n",
    )
    .unwrap()
    .config;
    f.holder.swap(Runtime::build(&cfg).unwrap());
    let text = scrape(&f.shared);
    assert!(text.contains(r#"switchyard_accounts{provider="claude",state="ready"} 1"#));
    assert!(!text.contains(r#"switchyard_accounts{provider="gemini""#));
}

/// CPU time of this thread in nanoseconds (`/proc/thread-self/schedstat`, first field).
fn thread_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
#[ignore = "a measurement, not a check: prints the CPU of 100 scrapes"]
fn scrape_cost() {
    let f = fixture();
    record_traffic(&f);
    let bytes = scrape(&f.shared).len();
    const N: u32 = 100;
    let (cpu0, wall0) = (thread_cpu_ns(), Instant::now());
    for _ in 0..N {
        std::hint::black_box(scrape(&f.shared));
    }
    let cpu = Duration::from_nanos(thread_cpu_ns() - cpu0) / N;
    let wall = wall0.elapsed() / N;
    println!(
        "scrape of 1000 accounts, 100 models ({bytes} bytes of text): {cpu:?} CPU, {wall:?} wall per scrape (mean of {N})"
    );
}
