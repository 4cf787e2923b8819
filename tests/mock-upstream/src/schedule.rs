//! Per-account fault schedules.
//!
//! `POST /_mock/schedule` with `{"account": "K", "steps": [...], "then": "ok"}`: each request of
//! account K takes the next step; when the steps run out `then` applies to every later request.
//! A step is `"ok"`, `"hang"`, or an object:
//!
//! | object | effect |
//! |---|---|
//! | `{"status": 429, "retry_after": "2", "body": {...}}` | that status; `retry-after` header if given; `body` replaces the protocol's default error body |
//! | `{"inband_error": "overloaded"}` | stream answers 200, first event is the protocol's in-band error (`overloaded`, `rate_limit`, `server_error`); Responses streams send `response.created` and `response.in_progress` before `response.failed`; non-stream requests get the matching HTTP error |
//! | `{"inband_error": "overloaded", "after_events": N}` | stream answers 200 with the normal answer's first N events, then the protocol's in-band error instead of the rest (Responses: an `error` event; Gemini JSON array: the error element closes the array); non-stream requests get the matching HTTP error |
//! | `{"drop_after_events": N}` | 200, N events, then the connection is closed without ending the body |
//! | `{"delay_ms": N}` | N ms more before the headers, then ok; may be added to any other step object |
//! | `{"hold_after_events": N}` | 200 stream: N events of the answer, then a pause until `POST /_mock/release` (or reset), then the rest ([`crate::hold`]) |
//! | `{"hang": true}` | never answers (until `POST /_mock/reset`, which closes the connection) |

use serde_json::Value;
use std::collections::VecDeque;

/// Which in-band error a stream starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InbandKind {
    /// Anthropic `overloaded_error`, OpenAI `server_is_overloaded`, Gemini 503 `UNAVAILABLE`.
    Overloaded,
    /// Anthropic `rate_limit_error`, OpenAI `rate_limit_exceeded`, Gemini 429 `RESOURCE_EXHAUSTED`.
    RateLimit,
    /// Anthropic `api_error`, OpenAI `server_error`, Gemini 500 `INTERNAL`.
    ServerError,
}

impl InbandKind {
    fn parse(name: &str) -> Result<Self, String> {
        match name {
            "overloaded" => Ok(InbandKind::Overloaded),
            "rate_limit" => Ok(InbandKind::RateLimit),
            "server_error" => Ok(InbandKind::ServerError),
            other => Err(format!(
                "unknown inband_error {other:?}: use \"overloaded\", \"rate_limit\" or \"server_error\""
            )),
        }
    }

    /// The HTTP status a non-streaming request gets instead.
    pub fn http_status(self, anthropic: bool) -> u16 {
        match self {
            InbandKind::Overloaded if anthropic => 529,
            InbandKind::Overloaded => 503,
            InbandKind::RateLimit => 429,
            InbandKind::ServerError => 500,
        }
    }
}

/// What a step does to the response.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Normal answer.
    Ok,
    /// An HTTP error.
    Status {
        /// HTTP status code.
        status: u16,
        /// `retry-after` header value.
        retry_after: Option<String>,
        /// Body replacing the default error body.
        body: Option<Value>,
    },
    /// 200 stream whose first event is an in-band error.
    Inband(InbandKind),
    /// 200 stream: this many events of the answer, then an in-band error.
    InbandAfter(InbandKind, usize),
    /// 200 stream cut after this many events.
    Drop(usize),
    /// No answer.
    Hang,
    /// 200 stream: this many events, then wait for `/_mock/release`, then the rest.
    Hold(usize),
}

/// One schedule step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Extra latency before the response headers.
    pub delay_ms: u64,
    /// What to answer.
    pub action: Action,
}

impl Step {
    /// The plain ok step.
    pub const OK: Step = Step {
        delay_ms: 0,
        action: Action::Ok,
    };

    /// Parses one step from its JSON form.
    pub fn parse(v: &Value) -> Result<Step, String> {
        let obj = match v {
            Value::String(s) if s == "ok" => return Ok(Step::OK),
            Value::String(s) if s == "hang" => {
                return Ok(Step {
                    delay_ms: 0,
                    action: Action::Hang,
                })
            }
            Value::Object(obj) => obj,
            other => {
                return Err(format!(
                    "a step is \"ok\", \"hang\" or an object, got {other}"
                ))
            }
        };
        let delay_ms = match obj.get("delay_ms") {
            None => 0,
            Some(d) => d
                .as_u64()
                .ok_or("delay_ms must be a non-negative integer")?,
        };
        let mut actions = Vec::new();
        if let Some(status) = obj.get("status") {
            let status = status
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (100..=599).contains(s))
                .ok_or("status must be an integer in 100..=599")?;
            let retry_after = match obj.get("retry_after") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(_) => return Err("retry_after must be a string or a number".into()),
            };
            let body = obj.get("body").cloned();
            actions.push(Action::Status {
                status,
                retry_after,
                body,
            });
        }
        if let Some(kind) = obj.get("inband_error") {
            let kind = InbandKind::parse(kind.as_str().ok_or("inband_error must be a string")?)?;
            actions.push(match obj.get("after_events") {
                None => Action::Inband(kind),
                Some(n) => Action::InbandAfter(
                    kind,
                    n.as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or("after_events must be a non-negative integer")?,
                ),
            });
        }
        if let Some(n) = obj.get("drop_after_events") {
            let n = n.as_u64().and_then(|n| usize::try_from(n).ok());
            actions.push(Action::Drop(
                n.ok_or("drop_after_events must be a non-negative integer")?,
            ));
        }
        if let Some(n) = obj.get("hold_after_events") {
            let n = n.as_u64().and_then(|n| usize::try_from(n).ok());
            actions.push(Action::Hold(
                n.ok_or("hold_after_events must be a non-negative integer")?,
            ));
        }
        match obj.get("hang") {
            None | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => actions.push(Action::Hang),
            Some(_) => return Err("hang must be true or false".into()),
        }
        if obj.contains_key("after_events") && !obj.contains_key("inband_error") {
            return Err("after_events goes with inband_error".into());
        }
        const KNOWN: [&str; 9] = [
            "status",
            "after_events",
            "retry_after",
            "body",
            "inband_error",
            "drop_after_events",
            "delay_ms",
            "hang",
            "hold_after_events",
        ];
        if let Some(unknown) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!(
                "unknown step key {unknown:?} (known: {})",
                KNOWN.join(", ")
            ));
        }
        if actions.len() > 1 {
            return Err(
                "a step has at most one of status, inband_error, drop_after_events, hang, hold_after_events".into(),
            );
        }
        Ok(Step {
            delay_ms,
            action: actions.pop().unwrap_or(Action::Ok),
        })
    }
}

/// The steps left for one account, then the step that repeats forever.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    steps: VecDeque<Step>,
    then: Step,
}

impl Schedule {
    /// Parses a `POST /_mock/schedule` body into the account and its schedule.
    pub fn parse(body: &Value) -> Result<(String, Schedule), String> {
        let account = match body.get("account") {
            Some(Value::String(a)) => a.clone(),
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err("account must be a string".into()),
        };
        let steps = match body.get("steps") {
            None | Some(Value::Null) => VecDeque::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| Step::parse(s).map_err(|e| format!("steps[{i}]: {e}")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("steps must be an array".into()),
        };
        let then = match body.get("then") {
            None | Some(Value::Null) => Step::OK,
            Some(t) => Step::parse(t).map_err(|e| format!("then: {e}"))?,
        };
        Ok((account, Schedule { steps, then }))
    }

    /// The step for the next request.
    pub fn next_step(&mut self) -> Step {
        self.steps.pop_front().unwrap_or_else(|| self.then.clone())
    }

    /// Steps left before `then`.
    pub fn remaining(&self) -> usize {
        self.steps.len()
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::json;

    #[test]
    fn steps_then_forever() {
        let (account, mut s) = Schedule::parse(&json!({
            "account": "k1",
            "steps": [{"status": 429, "retry_after": 2}, "ok", {"delay_ms": 5, "inband_error": "overloaded"}],
            "then": {"drop_after_events": 3}
        }))
        .unwrap();
        assert_eq!(account, "k1");
        assert_eq!(
            s.next_step().action,
            Action::Status {
                status: 429,
                retry_after: Some("2".into()),
                body: None
            }
        );
        assert_eq!(s.next_step(), Step::OK);
        assert_eq!(
            s.next_step(),
            Step {
                delay_ms: 5,
                action: Action::Inband(InbandKind::Overloaded)
            }
        );
        for _ in 0..3 {
            assert_eq!(s.next_step().action, Action::Drop(3));
        }
    }

    #[test]
    fn rejects_bad_steps() {
        for bad in [
            json!({"steps": [{"status": 99}]}),
            json!({"steps": [{"stauts": 429}]}),
            json!({"steps": [{"status": 429, "hang": true}]}),
            json!({"steps": [{"inband_error": "boom"}]}),
            json!({"steps": [{"after_events": 3}]}),
            json!({"steps": [{"inband_error": "overloaded", "after_events": -1}]}),
            json!({"steps": ["nope"]}),
            json!({"then": 3}),
        ] {
            assert!(Schedule::parse(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            Step::parse(&json!({"inband_error": "rate_limit", "after_events": 4}))
                .unwrap()
                .action,
            Action::InbandAfter(InbandKind::RateLimit, 4)
        );
        assert_eq!(
            Step::parse(&json!({"delay_ms": 10})).unwrap(),
            Step {
                delay_ms: 10,
                action: Action::Ok
            }
        );
    }
}
