//! What the gateway knows while it runs: usage statistics (CLIProxyAPI's `/usage`, export and
//! import) and `/accounts` (Switchyard's own): every account of the current snapshot with its
//! live health from `health.rs`.

use super::{Call, Reply};
use crate::health::ModelHealth;
use crate::live_config::LiveConfig;
use crate::shared::Shared;
use serde_json::{json, Value};
use std::time::{Instant, SystemTime};
use switchyard_auth::timefmt::format_rfc3339_system;

fn stats(shared: &Shared) -> Result<&crate::usage_stats::UsageStats, Reply> {
    shared.usage.as_deref().ok_or_else(|| {
        Reply::bad(
            "usage statistics are off (usage-statistics-enabled: false; takes effect at restart)",
        )
    })
}

pub(super) fn usage(shared: &Shared) -> Reply {
    stats(shared).map_or_else(|r| r, |s| Reply::ok(s.usage_json()))
}

pub(super) fn usage_export(shared: &Shared) -> Reply {
    stats(shared).map_or_else(|r| r, |s| Reply::ok(s.export_json()))
}

pub(super) fn usage_import(call: &Call, shared: &Shared) -> Reply {
    let s = match stats(shared) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let body: Value = match call.json() {
        Ok(v) => v,
        Err(r) => return r,
    };
    match s.import_json(&body) {
        Ok(report) => {
            let usage = s.usage_json();
            Reply::ok(json!({
                "added": report.added,
                "skipped": report.skipped,
                "total_requests": usage["usage"]["total_requests"],
                "failed_requests": usage["failed_requests"],
            }))
        }
        Err(e) => Reply::bad(e.to_string()),
    }
}

/// An `Instant` as wall-clock RFC 3339 (`now` is the same moment on both clocks).
fn wall(at: Instant, now: Instant, now_wall: SystemTime) -> String {
    let t = if at >= now {
        now_wall + (at - now)
    } else {
        now_wall - (now - at)
    };
    format_rfc3339_system(t)
}

/// `GET /accounts`: `{"accounts": [{id, provider, kind, state, in_flight, requests, failures,
/// last_status, last_used, last_error, cooldowns: [{model, reason, until, seconds_left}],
/// usage (with usage statistics on), models: [...]}]}`.
/// `state` is `cooling` when every model it has served is cooling, `partly-cooling` when
/// some are, else `active`.
pub(super) fn accounts(live: &LiveConfig, shared: &Shared) -> Reply {
    let rt = live.reloader().runtime();
    let health = shared.health.snapshot();
    let now = Instant::now();
    let now_wall = SystemTime::now();
    let usage = shared.usage.as_ref().map(|u| u.by_account_json());
    let mut out = Vec::with_capacity(rt.accounts.len());
    for a in &rt.accounts {
        let mine: Vec<(&str, &ModelHealth)> = health
            .iter()
            .filter(|((id, _), _)| *id == a.id)
            .map(|((_, model), h)| (model.as_str(), h))
            .collect();
        let cooling: Vec<Value> = mine
            .iter()
            .filter_map(|(model, h)| {
                let until = h.cooling_until.filter(|u| *u > now)?;
                Some(json!({
                    "model": model,
                    "reason": h.reason,
                    "until": wall(until, now, now_wall),
                    "seconds_left": until.duration_since(now).as_secs(),
                }))
            })
            .collect();
        let state = match (cooling.len(), mine.len()) {
            (0, _) => "active",
            (c, m) if c == m => "cooling",
            _ => "partly-cooling",
        };
        let last = mine
            .iter()
            .filter_map(|(_, h)| h.last_used.map(|t| (t, h.last_status)))
            .max_by_key(|(t, _)| *t);
        let last_error = mine
            .iter()
            .filter(|(_, h)| h.last_status.is_some_and(|s| s >= 400))
            .filter_map(|(model, h)| Some((h.last_used?, *model, h.last_status?)))
            .max_by_key(|(t, ..)| *t)
            .map(|(t, model, status)| {
                json!({"status": status, "model": model, "at": wall(t, now, now_wall)})
            });
        out.push(json!({
            "id": a.id,
            "provider": a.channel.provider_label(a.kind),
            "kind": if a.channel.oauth().is_some() { "oauth" } else { "api-key" },
            "base_url": format!("{}://{}{}", if a.target.tls { "https" } else { "http" }, a.target.authority, a.target.base_path),
            "priority": a.priority,
            "state": state,
            "in_flight": shared.in_flight.count(&a.id),
            "requests": mine.iter().map(|(_, h)| h.successes + h.failures).sum::<u64>(),
            "failures": mine.iter().map(|(_, h)| h.failures).sum::<u64>(),
            "last_status": last.and_then(|(_, s)| s),
            "last_used": last.map(|(t, _)| wall(t, now, now_wall)),
            "last_error": last_error,
            "cooldowns": cooling,
            "usage": usage.as_ref().and_then(|u| u["accounts"].get(&a.id)),
            "models": mine.iter().map(|(model, h)| json!({
                "model": model,
                "requests": h.successes + h.failures,
                "failures": h.failures,
                "last_status": h.last_status,
            })).collect::<Vec<_>>(),
        }));
    }
    Reply::ok(json!({ "accounts": out }))
}
