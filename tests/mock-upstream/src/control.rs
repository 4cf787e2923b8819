//! The control API under `/_mock/` (no auth, JSON):
//!
//! | request | answer |
//! |---|---|
//! | `POST /_mock/reset` | clears journal, counters and schedules, closes hung requests; `{"ok":true}` |
//! | `POST /_mock/release` | lets every held stream (`hold_after_events`) go on; `{"ok":true}` |
//! | `POST /_mock/schedule` `{"account","steps","then"}` | installs the account's schedule; `{"ok":true,"account":K,"steps":n}`, 400 `{"error":..}` if invalid |
//! | `GET /_mock/journal[?account=K]` | array of journal entries in arrival order |
//! | `GET /_mock/count[?account=K]` | `{"count": n}` requests since the last reset |

use crate::ordered;
use crate::plan::{Planned, JSON};
use crate::routes::query_param;
use crate::schedule::Schedule;
use crate::state::State;
use http::Method;

/// Answers a control request.
pub fn handle(state: &State, method: &Method, path: &str, query: &str, body: &[u8]) -> Planned {
    let account = query_param(query, "account");
    match (method.as_str(), path) {
        ("POST", "/_mock/reset") => {
            state.reset();
            Planned::json(200, JSON, ordered!({"ok": true}).compact())
        }
        ("POST", "/_mock/release") => {
            state.holds.release();
            Planned::json(200, JSON, ordered!({"ok": true}).compact())
        }
        ("POST", "/_mock/schedule") => {
            let parsed = serde_json::from_slice(body)
                .map_err(|e| format!("schedule body is not JSON: {e}"))
                .and_then(|v| Schedule::parse(&v));
            match parsed {
                Ok((account, schedule)) => {
                    let steps = schedule.remaining();
                    state.set_schedule(account.clone(), schedule);
                    Planned::json(200, JSON, ordered!({"ok": true, "account": account, "steps": steps}).compact())
                }
                Err(e) => Planned::json(400, JSON, ordered!({"error": e}).compact()),
            }
        }
        ("GET", "/_mock/journal") => match serde_json::to_string(&state.journal(account.as_deref())) {
            Ok(text) => Planned::json(200, JSON, text),
            Err(e) => Planned::json(500, JSON, ordered!({"error": (e.to_string())}).compact()),
        },
        ("GET", "/_mock/count") => {
            Planned::json(200, JSON, ordered!({"count": (state.count(account.as_deref()))}).compact())
        }
        _ => Planned::json(
            404,
            JSON,
            ordered!({"error": (format!("unknown control endpoint {method} {path}: use POST /_mock/reset, POST /_mock/release, POST /_mock/schedule, GET /_mock/journal, GET /_mock/count"))})
                .compact(),
        ),
    }
}
