//! Reasoning settings across protocols: CLIProxyAPI's model-name suffix (`model(16384)`,
//! `model(high)`, `model(none)`) and one level ↔ budget table, so a client's reasoning setting
//! becomes what the target protocol can express.
//!
//! Pure; no I/O. The gateway calls [`apply_model_suffix`] on the decoded client request (the
//! suffix overrides the body's reasoning settings, as in CLIProxyAPI) and [`for_target`] before
//! an encoder writes the upstream request.
//!
//! Source: CLIProxyAPI `internal/thinking` (inventory `../shared/reference/cliproxyapi.md`
//! §2.4: `suffix.go ParseSuffix`, `convert.go`, `validate.go`), with the per-model budget ranges
//! of its model registry (`ThinkingSupport{Min, Max}`) reduced to one range per protocol.
//!
//! # Suffix
//!
//! `name(value)`: the text after the *last* `(` up to a final `)`. Values are matched
//! case-insensitively; anything else leaves the name unchanged (`gpt-4o(mini)`,
//! `step-3.5-flash(free)`, `m( high )`) and gives [`ReasoningMode::Default`].
//!
//! | suffix | [`ReasoningMode`] |
//! | --- | --- |
//! | `none`, `0` | `Disabled` |
//! | `auto`, `-1` | `Adaptive` |
//! | `minimal` `low` `medium` `high` `xhigh` | `Effort(..)` |
//! | `max` | `Budget(128000)` (the IR has no `max` effort; 128000 is the table's budget) |
//! | decimal integer ≥ 1 (leading zeros and `+` accepted, as Go's `strconv.Atoi`) | `Budget(n)` |
//!
//! # Level ↔ budget table (`convert.go`)
//!
//! | level | none | auto | minimal | low | medium | high | xhigh | max |
//! | --- | --- | --- | --- | --- | --- | --- | --- | --- |
//! | budget | 0 | −1 | 512 | 1024 | 8192 | 24576 | 32768 | 128000 |
//!
//! Budget → level uses upper bounds: 0 none, 1–512 minimal, 513–1024 low, 1025–8192 medium,
//! 8193–24576 high, 24577+ xhigh.
//!
//! # What each target gets ([`for_target`])
//!
//! | mode | Anthropic | Gemini | OpenAI Chat / Responses |
//! | --- | --- | --- | --- |
//! | `Default` | `Default` | `Default` | `Default` |
//! | `Disabled`, `Budget(0)` | `Disabled` (`thinking.type: disabled`) | `Disabled` (budget 0) | `Disabled` (the encoder writes `none` or omits it) |
//! | `Adaptive` | `Adaptive` (`thinking.type: adaptive`) | `Adaptive` (`thinkingBudget: -1`) | `Effort(Medium)` (no dynamic mode: CLIProxyAPI's `convertAutoToMidRange`) |
//! | `Budget(n)` | `Budget(n)` clamped to 1024..=128000 | `Budget(n)` clamped to 128..=32768 | `Effort(level of n)` |
//! | `Effort(e)` | `Budget(budget of e)` clamped (minimal → 1024) | `Budget(budget of e)` clamped | `Effort(e)` |
//!
//! Ranges: Claude `ThinkingSupport{Min: 1024, Max: 128000}` (every Claude model in CLIProxyAPI's
//! registry; the Messages API rejects `budget_tokens` below 1024); Gemini `{Min: 128, Max:
//! 32768}` (2.5 Pro and 3; 2.5 Flash also allows 0 and stops at 24576, which only a per-model
//! catalogue can know). Gemini gets a budget rather than a `thinkingLevel` because 2.5 models
//! reject levels while 3 still accepts budgets. Effort → Claude is a budget because the IR's
//! `Adaptive` carries no effort (CLIProxyAPI writes `adaptive` + `output_config.effort` for
//! Opus 4.6+); a field `Adaptive { effort: Option<Effort> }` would let it do the same.

use crate::ir::{Effort, Protocol, Reasoning, ReasoningMode, Request};

/// Budget of the `max` level, also the Claude maximum.
pub const MAX_BUDGET: u64 = 128_000;
/// Claude `budget_tokens` range.
pub const CLAUDE_BUDGET: (u64, u64) = (1024, MAX_BUDGET);
/// Gemini `thinkingBudget` range (2.5 Pro, 3).
pub const GEMINI_BUDGET: (u64, u64) = (128, 32_768);
/// Gemini's "the model decides" budget.
pub const GEMINI_DYNAMIC_BUDGET: i64 = -1;

/// Split CLIProxyAPI's reasoning suffix off a model name: `("claude-sonnet-4-5",
/// Budget(16384))` for `claude-sonnet-4-5(16384)`. A name without a valid suffix is returned
/// whole, with [`ReasoningMode::Default`] (see the module docs for the table).
pub fn parse_model_suffix(model: &str) -> (&str, ReasoningMode) {
    let Some(open) = model.rfind('(') else {
        return (model, ReasoningMode::Default);
    };
    let Some(raw) = model[open + 1..].strip_suffix(')') else {
        return (model, ReasoningMode::Default);
    };
    match parse_suffix_value(raw) {
        Some(mode) => (&model[..open], mode),
        None => (model, ReasoningMode::Default),
    }
}

/// Apply the suffix to a decoded client request: `req.model` loses the suffix, and a valid
/// suffix replaces the body's reasoning mode (CLIProxyAPI: "the suffix overrides body thinking
/// parameters"; `include_thoughts` and `summary` from the body are kept). Returns whether a
/// suffix was found.
pub fn apply_model_suffix(req: &mut Request) -> bool {
    let (base, mode) = parse_model_suffix(&req.model);
    if mode == ReasoningMode::Default {
        return false;
    }
    req.model = base.to_string();
    req.reasoning.get_or_insert_with(Reasoning::default).mode = mode;
    true
}

fn parse_suffix_value(raw: &str) -> Option<ReasoningMode> {
    let lower = raw.to_ascii_lowercase();
    let mode = match lower.as_str() {
        "none" => ReasoningMode::Disabled,
        "auto" | "-1" => ReasoningMode::Adaptive,
        "max" => ReasoningMode::Budget(MAX_BUDGET),
        _ => match effort_from_str(&lower) {
            Some(e) => ReasoningMode::Effort(e),
            None => match raw.parse::<i64>() {
                Ok(0) => ReasoningMode::Disabled,
                Ok(n) if n > 0 => ReasoningMode::Budget(n.unsigned_abs()),
                _ => return None,
            },
        },
    };
    Some(mode)
}

/// An effort level by its OpenAI spelling (`minimal` … `xhigh`), lowercase.
pub fn effort_from_str(s: &str) -> Option<Effort> {
    Some(match s {
        "minimal" => Effort::Minimal,
        "low" => Effort::Low,
        "medium" => Effort::Medium,
        "high" => Effort::High,
        "xhigh" => Effort::XHigh,
        _ => return None,
    })
}

/// The OpenAI spelling of an effort level.
pub fn effort_str(e: Effort) -> &'static str {
    match e {
        Effort::Minimal => "minimal",
        Effort::Low => "low",
        Effort::Medium => "medium",
        Effort::High => "high",
        Effort::XHigh => "xhigh",
    }
}

/// Level → budget (`convert.go ConvertLevelToBudget`).
pub fn effort_to_budget(e: Effort) -> u64 {
    match e {
        Effort::Minimal => 512,
        Effort::Low => 1024,
        Effort::Medium => 8192,
        Effort::High => 24_576,
        Effort::XHigh => 32_768,
    }
}

/// Budget → nearest level by upper bound (`convert.go ConvertBudgetToLevel`); `None` for 0
/// (thinking off).
pub fn budget_to_effort(budget: u64) -> Option<Effort> {
    Some(match budget {
        0 => return None,
        1..=512 => Effort::Minimal,
        513..=1024 => Effort::Low,
        1025..=8192 => Effort::Medium,
        8193..=24_576 => Effort::High,
        _ => Effort::XHigh,
    })
}

/// Convert `mode` into what `target` can express (table in the module docs).
pub fn for_target(mode: ReasoningMode, target: Protocol) -> ReasoningMode {
    use ReasoningMode as M;
    let mode = match mode {
        M::Budget(0) => M::Disabled,
        m => m,
    };
    match (target, mode) {
        (_, M::Default) | (_, M::Disabled) => mode,
        (Protocol::Anthropic, M::Adaptive) | (Protocol::Gemini, M::Adaptive) => mode,
        (Protocol::Anthropic, M::Budget(n)) => M::Budget(clamp(n, CLAUDE_BUDGET)),
        (Protocol::Anthropic, M::Effort(e)) => M::Budget(clamp(effort_to_budget(e), CLAUDE_BUDGET)),
        (Protocol::Gemini, M::Budget(n)) => M::Budget(clamp(n, GEMINI_BUDGET)),
        (Protocol::Gemini, M::Effort(e)) => M::Budget(clamp(effort_to_budget(e), GEMINI_BUDGET)),
        (Protocol::OpenAiChat | Protocol::OpenAiResponses, M::Adaptive) => {
            M::Effort(Effort::Medium)
        }
        (Protocol::OpenAiChat | Protocol::OpenAiResponses, M::Budget(n)) => {
            budget_to_effort(n).map_or(M::Disabled, M::Effort)
        }
        (Protocol::OpenAiChat | Protocol::OpenAiResponses, M::Effort(_)) => mode,
    }
}

fn clamp(n: u64, (min, max): (u64, u64)) -> u64 {
    n.clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReasoningMode as M;

    #[test]
    fn suffixes() {
        let cases: &[(&str, &str, ReasoningMode)] = &[
            (
                "claude-sonnet-4-5(16384)",
                "claude-sonnet-4-5",
                M::Budget(16384),
            ),
            ("m(08192)", "m", M::Budget(8192)),
            ("m(+5)", "m", M::Budget(5)),
            ("gpt-5.2(high)", "gpt-5.2", M::Effort(Effort::High)),
            ("gpt-5.2(HIGH)", "gpt-5.2", M::Effort(Effort::High)),
            ("m(low)", "m", M::Effort(Effort::Low)),
            ("m(medium)", "m", M::Effort(Effort::Medium)),
            ("m(minimal)", "m", M::Effort(Effort::Minimal)),
            ("m(xhigh)", "m", M::Effort(Effort::XHigh)),
            ("m(max)", "m", M::Budget(128_000)),
            ("m(none)", "m", M::Disabled),
            ("m(0)", "m", M::Disabled),
            ("m(auto)", "m", M::Adaptive),
            ("m(-1)", "m", M::Adaptive),
            ("a(b)(high)", "a(b)", M::Effort(Effort::High)),
            ("(high)", "", M::Effort(Effort::High)),
        ];
        for (input, base, mode) in cases {
            assert_eq!(parse_model_suffix(input), (*base, *mode), "{input}");
        }
    }

    #[test]
    fn invalid_suffixes_leave_the_name_alone() {
        for input in [
            "gemini-2.5-pro",
            "gpt-4o(mini)",
            "stepfun-ai/step-3.5-flash(free)",
            "m(-2)",
            "m()",
            "m( high )",
            "m(high",
            "m(high) ",
            "m(1.5)",
            "m(99999999999999999999)",
            "m(ultra)",
        ] {
            assert_eq!(parse_model_suffix(input), (input, M::Default), "{input}");
        }
    }

    #[test]
    fn level_budget_table_both_ways() {
        let table = [
            (Effort::Minimal, 512),
            (Effort::Low, 1024),
            (Effort::Medium, 8192),
            (Effort::High, 24_576),
            (Effort::XHigh, 32_768),
        ];
        for (e, b) in table {
            assert_eq!(effort_to_budget(e), b);
            assert_eq!(
                budget_to_effort(b),
                Some(e),
                "budget {b} is its level's bound"
            );
            assert_eq!(effort_from_str(effort_str(e)), Some(e));
        }
        let thresholds = [
            (0, None),
            (1, Some(Effort::Minimal)),
            (513, Some(Effort::Low)),
            (1025, Some(Effort::Medium)),
            (8193, Some(Effort::High)),
            (24_577, Some(Effort::XHigh)),
            (128_000, Some(Effort::XHigh)),
        ];
        for (b, e) in thresholds {
            assert_eq!(budget_to_effort(b), e, "budget {b}");
        }
    }

    #[test]
    fn targets() {
        use Protocol::*;
        let cases: &[(ReasoningMode, Protocol, ReasoningMode)] = &[
            (M::Default, Anthropic, M::Default),
            (M::Default, OpenAiChat, M::Default),
            (M::Disabled, Gemini, M::Disabled),
            (M::Budget(0), Anthropic, M::Disabled),
            (M::Budget(0), OpenAiResponses, M::Disabled),
            (M::Adaptive, Anthropic, M::Adaptive),
            (M::Adaptive, Gemini, M::Adaptive),
            (M::Adaptive, OpenAiChat, M::Effort(Effort::Medium)),
            (M::Adaptive, OpenAiResponses, M::Effort(Effort::Medium)),
            (M::Effort(Effort::Minimal), Anthropic, M::Budget(1024)),
            (M::Effort(Effort::High), Anthropic, M::Budget(24_576)),
            (M::Effort(Effort::XHigh), Anthropic, M::Budget(32_768)),
            (M::Effort(Effort::Minimal), Gemini, M::Budget(512)),
            (M::Effort(Effort::XHigh), Gemini, M::Budget(32_768)),
            (M::Effort(Effort::Low), OpenAiChat, M::Effort(Effort::Low)),
            (M::Budget(16_384), Anthropic, M::Budget(16_384)),
            (M::Budget(100), Anthropic, M::Budget(1024)),
            (M::Budget(200_000), Anthropic, M::Budget(128_000)),
            (M::Budget(50), Gemini, M::Budget(128)),
            (M::Budget(128_000), Gemini, M::Budget(32_768)),
            (M::Budget(16_384), OpenAiChat, M::Effort(Effort::High)),
            (
                M::Budget(128_000),
                OpenAiResponses,
                M::Effort(Effort::XHigh),
            ),
            (M::Budget(300), OpenAiResponses, M::Effort(Effort::Minimal)),
        ];
        for (mode, target, want) in cases {
            assert_eq!(for_target(*mode, *target), *want, "{mode:?} -> {target:?}");
        }
    }

    #[test]
    fn suffix_overrides_the_body() {
        let mut req = Request {
            model: "claude-sonnet-4-5(high)".into(),
            reasoning: Some(Reasoning {
                mode: M::Budget(2048),
                include_thoughts: Some(true),
                summary: None,
            }),
            ..Request::default()
        };
        assert!(apply_model_suffix(&mut req));
        assert_eq!(req.model, "claude-sonnet-4-5");
        let r = req.reasoning.as_ref().unwrap();
        assert_eq!(
            (r.mode, r.include_thoughts),
            (M::Effort(Effort::High), Some(true))
        );

        let mut plain = Request {
            model: "gpt-4o(mini)".into(),
            ..Request::default()
        };
        assert!(!apply_model_suffix(&mut plain));
        assert_eq!(
            (plain.model.as_str(), plain.reasoning),
            ("gpt-4o(mini)", None)
        );

        let mut off = Request {
            model: "gemini-2.5-pro(none)".into(),
            ..Request::default()
        };
        assert!(apply_model_suffix(&mut off));
        assert_eq!(off.reasoning.map(|r| r.mode), Some(M::Disabled));
    }

    #[test]
    fn for_target_is_idempotent() {
        let modes = [
            M::Default,
            M::Disabled,
            M::Adaptive,
            M::Budget(0),
            M::Budget(1),
            M::Budget(700),
            M::Budget(40_000),
            M::Budget(u64::MAX),
            M::Effort(Effort::Minimal),
            M::Effort(Effort::XHigh),
        ];
        let targets = [
            Protocol::Anthropic,
            Protocol::Gemini,
            Protocol::OpenAiChat,
            Protocol::OpenAiResponses,
        ];
        for m in modes {
            for t in targets {
                let once = for_target(m, t);
                assert_eq!(for_target(once, t), once, "{m:?} -> {t:?}");
            }
        }
    }
}
