//! How far [`estimate_input_tokens`] is from what the providers billed: every generation call
//! recorded in the VCR cassettes under `../shared/fixtures/upstream/*/*.yaml` whose response
//! carries usage is decoded with its protocol's `decode_request`, estimated, and compared with
//! the real input token count:
//!
//! - Anthropic: `usage.input_tokens + cache_creation_input_tokens + cache_read_input_tokens`
//! - OpenAI Chat: `usage.prompt_tokens`
//! - OpenAI Responses: `usage.input_tokens`
//! - Gemini: `usageMetadata.promptTokenCount`
//!
//! (streams: the last event carrying usage). Requests whose input the provider expands
//! server-side (hosted tools, Anthropic `mcp_servers`, Gemini `cachedContent`) are marked `*`
//! and also summarised without them. Prints the per-sample rows and the table of
//! count, median / p10 / p90 of estimate ÷ real and mean absolute percentage error, and fails
//! when the overall median leaves [0.7, 1.4]. The numbers are quoted in `src/tokens.rs`.
//!
//! Run: `cargo test -p switchyard-translators --test tokens_accuracy -- --nocapture`
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test code (common/ included): a broken fixture or a failed check is a failed test"
)]

#[expect(
    dead_code,
    reason = "shared test helpers: this binary uses only some of them"
)]
mod common;

use common::codec::{name, ALL};
use common::fixtures::{cassette, cassette_requests, dir, root, Recorded};
use serde_json::Value;
use switchyard_translators::ir::{Protocol, Tool};
use switchyard_translators::tokens::estimate_input_tokens;

struct Sample {
    protocol: Protocol,
    /// The provider adds input the request does not carry: server-side tools (web search and
    /// fetch, MCP, code execution, image generation: their prompts and fetched results),
    /// Anthropic `mcp_servers`, Gemini `cachedContent`.
    server_side: bool,
    label: String,
    estimate: u64,
    real: u64,
}

/// The real input token count of one usage object, if it has one.
fn usage_input(p: Protocol, u: &Value) -> Option<u64> {
    let n = |k: &str| u.get(k).and_then(Value::as_u64);
    match p {
        Protocol::Anthropic => Some(
            n("input_tokens")?
                + n("cache_creation_input_tokens").unwrap_or(0)
                + n("cache_read_input_tokens").unwrap_or(0),
        ),
        Protocol::OpenAiChat => n("prompt_tokens"),
        Protocol::OpenAiResponses => n("input_tokens"),
        Protocol::Gemini => n("promptTokenCount"),
    }
}

/// The last usage object with an input count anywhere in `v` (depth first, in order).
fn find_usage(p: Protocol, v: &Value, found: &mut Option<u64>) {
    let key = if p == Protocol::Gemini {
        "usageMetadata"
    } else {
        "usage"
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == key {
                    if let Some(n) = usage_input(p, child) {
                        *found = Some(n);
                    }
                } else {
                    find_usage(p, child, found);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| find_usage(p, c, found)),
        _ => {}
    }
}

/// The real input count of a recorded answer: the body's usage, or for a stream the last
/// `data:` event that carries one.
fn real_input(p: Protocol, rec: &Recorded) -> Option<u64> {
    let mut found = None;
    match rec {
        Recorded::Error(..) => {}
        Recorded::Response(body) => {
            let v: Value = serde_json::from_slice(body).ok()?;
            find_usage(p, &v, &mut found);
        }
        Recorded::Stream(body) => {
            let text = String::from_utf8_lossy(body);
            for line in text.lines() {
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                    find_usage(p, &v, &mut found);
                }
            }
        }
    }
    found.filter(|n| *n > 0)
}

fn samples() -> Vec<Sample> {
    let mut out = Vec::new();
    for p in ALL {
        let d = root().join(dir(p));
        let mut files: Vec<String> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("fixture dir {} missing: {e}", d.display()))
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".yaml"))
            .collect();
        files.sort();
        for file in files {
            let answers = cassette(p, &file);
            for (i, body) in cassette_requests(p, &file) {
                let Some(real) = answers
                    .iter()
                    .find(|(j, _)| *j == i)
                    .and_then(|(_, rec)| real_input(p, rec))
                else {
                    continue;
                };
                let req = switchyard_translators::any::decode_request(p, &body)
                    .unwrap_or_else(|e| panic!("{file} #{i}: decode_request: {e}"));
                let top: Value = serde_json::from_slice(&body).expect("request is JSON");
                let server_side = req.tools.iter().any(|t| matches!(t, Tool::Unknown { .. }))
                    || top.get("mcp_servers").is_some()
                    || top.get("cachedContent").is_some();
                out.push(Sample {
                    protocol: p,
                    server_side,
                    label: format!("{}/{file} #{i}", dir(p)),
                    estimate: estimate_input_tokens(&req),
                    real,
                });
            }
        }
    }
    out
}

struct Stats {
    count: usize,
    median: f64,
    p10: f64,
    p90: f64,
    mape: f64,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn stats(s: &[&Sample]) -> Stats {
    let mut ratios: Vec<f64> = s
        .iter()
        .map(|x| x.estimate as f64 / x.real as f64)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let n = ratios.len();
    let median = if n % 2 == 1 {
        ratios[n / 2]
    } else {
        (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0
    };
    Stats {
        count: n,
        median,
        p10: percentile(&ratios, 0.10),
        p90: percentile(&ratios, 0.90),
        mape: 100.0 * ratios.iter().map(|r| (r - 1.0).abs()).sum::<f64>() / n as f64,
    }
}

#[test]
fn estimate_against_recorded_usage() {
    let all = samples();
    println!(
        "{:<85} {:>8} {:>8} {:>6}",
        "sample (* server-side input)", "estimate", "real", "ratio"
    );
    for s in &all {
        println!(
            "{:<85} {:>8} {:>8} {:>6.2}",
            format!("{}{}", s.label, if s.server_side { " *" } else { "" }),
            s.estimate,
            s.real,
            s.estimate as f64 / s.real as f64
        );
    }
    println!();
    println!("| protocol | n | median est/real | p10 | p90 | MAPE |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let row = |label: &str, st: &Stats| {
        println!(
            "| {label} | {} | {:.2} | {:.2} | {:.2} | {:.0}% |",
            st.count, st.median, st.p10, st.p90, st.mape
        );
    };
    for p in ALL {
        let of_p: Vec<&Sample> = all.iter().filter(|s| s.protocol == p).collect();
        assert!(!of_p.is_empty(), "no {} sample with usage", name(p));
        row(name(p), &stats(&of_p));
    }
    let overall = stats(&all.iter().collect::<Vec<_>>());
    row("all", &overall);
    let client_side: Vec<&Sample> = all.iter().filter(|s| !s.server_side).collect();
    row("all without server-side input", &stats(&client_side));
    assert!(
        (0.7..=1.4).contains(&overall.median),
        "overall median estimate/real {:.2} left [0.7, 1.4]: the method in src/tokens.rs \
         no longer matches the recorded usage",
        overall.median
    );
}
