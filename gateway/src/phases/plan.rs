//! The pure part of `request_filter`: from what the client asked (endpoint, body facts) and
//! the snapshot's router and accounts, which accounts serve the request under which names, and
//! whether the body must be decoded into the IR ([`route`]); then, once it was decoded, what
//! the request becomes ([`after_decode`]). No I/O, no clock: the caller passes what cools.

use crate::accounts::{kind_name, Account};
use crate::body::BodyFacts;
use crate::channels::passes_through;
use crate::errors::GatewayError;
use crate::protocol::{Endpoint, GeminiMethod};
use crate::routing::{Candidate, Plan, Router, Via};
use switchyard_translators::ir::{self, Protocol, ReasoningMode};
use switchyard_translators::reasoning;
use switchyard_translators::tokens::estimate_input_tokens;
use switchyard_translators::TranslateError;

/// What the client asked for.
#[derive(Debug)]
pub struct Asked<'a> {
    pub endpoint: &'a Endpoint,
    pub facts: BodyFacts,
    /// The query has `alt=sse` (Gemini streams: SSE rather than a JSON array).
    pub alt_sse: bool,
    /// The request came to the local Gemini CLI endpoint (always through the IR).
    pub gemini_cli_local: bool,
}

/// The routed request.
#[derive(Debug, PartialEq)]
pub struct Routed {
    /// The model the client asked for, without its reasoning suffix.
    pub model: String,
    pub stream: bool,
    /// A Gemini stream without `alt=sse`: the answer is a JSON array.
    pub gemini_array: bool,
    /// The reasoning setting of a `model(high)` suffix.
    pub suffix: Option<ReasoningMode>,
    /// Every attempt goes through the IR (suffix, fallback, local Gemini CLI endpoint).
    pub forced: bool,
    /// The accounts, in plan order.
    pub candidates: Vec<Candidate>,
    /// The client's wire protocol, when some candidate needs the body in the IR.
    pub decode: Option<Protocol>,
}

/// Resolve the request to its candidates. `cooling(c)`: whether a candidate is cooling now
/// (`auto` skips models whose accounts all are).
pub fn route(
    router: &Router,
    accounts: &[Account],
    cooling: impl Fn(&Candidate) -> bool,
    asked: Asked<'_>,
) -> Result<Routed, GatewayError> {
    let endpoint = asked.endpoint;
    let (model, stream) = match endpoint {
        Endpoint::Gemini { model, method } => (
            Some(model.clone()),
            *method == GeminiMethod::StreamGenerateContent,
        ),
        _ => (asked.facts.model, asked.facts.stream),
    };
    let model = model
        .filter(|m| !m.is_empty())
        .ok_or(GatewayError::MissingModel)?;
    // CLIProxyAPI's reasoning suffix: route by the base name; the suffix becomes the IR's
    // reasoning setting (only when the full name is not itself a configured model).
    let (base, mode) = reasoning::parse_model_suffix(&model);
    let suffix = (mode != ReasoningMode::Default && router.listed().iter().all(|m| m.id != model))
        .then_some(mode);
    let model = match suffix {
        Some(_) => base.to_owned(),
        None => model,
    };
    let gemini_array = stream && matches!(endpoint, Endpoint::Gemini { .. }) && !asked.alt_sse;
    let wire = endpoint.wire();
    let resolved = router.resolve(
        &model,
        accounts,
        |k| endpoint.passthrough_to(k) || wire.is_some(),
        |c| !cooling(c),
    );
    // `auto` and a fallback route like an alias: the client's name stays the request's model
    // (spliced out of same-protocol bodies, shown in translated answers) and the candidates
    // carry the upstream names. A fallback's attempts also go through the IR, so that every
    // answer, same-protocol ones included, reports the name the client asked for.
    let fallback = resolved.via == Via::Fallback && wire.is_some();
    let mut candidates = match resolved.plan {
        Plan::Candidates(c) => c,
        Plan::Unknown => return Err(GatewayError::UnknownModel(model)),
        Plan::Incompatible(kinds) => {
            return Err(GatewayError::UnsupportedPair {
                model,
                client: client_api_name(endpoint),
                upstream: kinds.first().map_or("other", |k| kind_name(*k)),
            })
        }
    };
    let counting = endpoint.is_count_tokens();
    let forced = ((suffix.is_some() || fallback) && !counting) || asked.gemini_cli_local;
    let passthrough =
        |c: &Candidate| !forced && passes_through(endpoint, &accounts[c.account], stream);
    let decode = match wire {
        Some(wire) if !candidates.iter().all(passthrough) => {
            if counting && candidates.iter().any(passthrough) {
                // A real count beats an estimate.
                candidates.retain(passthrough);
                None
            } else {
                Some(wire)
            }
        }
        _ => None,
    };
    Ok(Routed {
        model,
        stream,
        gemini_array,
        suffix,
        forced,
        candidates,
        decode,
    })
}

/// What a routed request whose body was decoded becomes.
#[derive(Debug, PartialEq)]
pub enum Decided {
    /// Proxied, with the IR when it decoded.
    Proxy(Option<Box<ir::Request>>),
    /// A token count no upstream can give, answered here (in the client's shape).
    LocalCount(serde_json::Value),
}

/// Applies the decoding's outcome to `routed` (its candidates may narrow).
pub fn after_decode(
    routed: &mut Routed,
    accounts: &[Account],
    endpoint: &Endpoint,
    decoded: Result<ir::Request, TranslateError>,
) -> Result<Decided, GatewayError> {
    let counting = endpoint.is_count_tokens();
    let enveloped = |c: &Candidate| accounts[c.account].channel.enveloped();
    match decoded {
        // Code Assist counts (`v1internal:countTokens`): a real count again.
        Ok(ir) if counting && !routed.forced && routed.candidates.iter().any(enveloped) => {
            routed.candidates.retain(enveloped);
            Ok(Decided::Proxy(Some(Box::new(ir))))
        }
        Ok(ir) if counting => {
            let n = estimate_input_tokens(&ir);
            Ok(Decided::LocalCount(match endpoint.protocol() {
                Protocol::Gemini => serde_json::json!({ "totalTokens": n }),
                Protocol::OpenAiChat | Protocol::OpenAiResponses | Protocol::Anthropic => {
                    serde_json::json!({ "input_tokens": n })
                }
            }))
        }
        Ok(mut ir) => {
            if let Some(mode) = routed.suffix {
                ir.reasoning.get_or_insert_with(Default::default).mode = mode;
            }
            Ok(Decided::Proxy(Some(Box::new(ir))))
        }
        Err(e) => {
            let forced = routed.forced;
            let stream = routed.stream;
            let passthrough =
                |c: &Candidate| !forced && passes_through(endpoint, &accounts[c.account], stream);
            if !routed.candidates.iter().any(passthrough) {
                return Err(GatewayError::MalformedBody(e.to_string()));
            }
            routed.candidates.retain(passthrough);
            Ok(Decided::Proxy(None))
        }
    }
}

fn client_api_name(e: &Endpoint) -> &'static str {
    match e {
        Endpoint::OpenAiChat => "OpenAI Chat Completions",
        Endpoint::OpenAiCompletions => "OpenAI Completions",
        Endpoint::OpenAiResponses => "OpenAI Responses",
        Endpoint::AnthropicMessages | Endpoint::AnthropicCountTokens => "Anthropic Messages",
        Endpoint::Gemini { .. } => "Gemini",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The router and accounts of a config snippet.
    fn accounts(yaml: &str) -> (Router, Vec<Account>) {
        let config = switchyard_conf::load_str(yaml).unwrap().config;
        let accounts = config
            .accounts
            .iter()
            .map(|c| Account::from_config(c).unwrap())
            .collect();
        (Router::from_config(&config, &config.accounts), accounts)
    }

    /// A Claude account serving `claude-x` and an OpenAI-compatible one serving `gpt-x`.
    fn pool() -> (Router, Vec<Account>) {
        accounts(concat!(
            "claude-api-key:\n  - api-key: k\n    base-url: http://127.0.0.1:9\n",
            "    models: [{name: claude-x}]\n",
            "openai-compatibility:\n  - name: o\n    base-url: http://127.0.0.1:9/v1\n",
            "    api-key-entries: [{api-key: k}]\n    models: [{name: gpt-x}]\n",
        ))
    }

    fn asked<'a>(endpoint: &'a Endpoint, model: &str, stream: bool) -> Asked<'a> {
        Asked {
            endpoint,
            facts: BodyFacts {
                model: Some(model.into()),
                stream,
                ..BodyFacts::default()
            },
            alt_sse: false,
            gemini_cli_local: false,
        }
    }

    #[test]
    fn same_protocol_needs_no_decoding_and_another_protocol_does() {
        let (router, accounts) = pool();
        let messages = Endpoint::AnthropicMessages;
        let r = route(
            &router,
            &accounts,
            |_| false,
            asked(&messages, "claude-x", true),
        )
        .unwrap();
        assert_eq!((r.decode, r.forced, r.stream), (None, false, true));
        assert_eq!(r.candidates[0].account, 0);
        let r = route(
            &router,
            &accounts,
            |_| false,
            asked(&messages, "gpt-x", false),
        )
        .unwrap();
        assert_eq!(r.decode, Some(Protocol::Anthropic));
        assert_eq!(r.candidates[0].upstream_model, "gpt-x");
    }

    #[test]
    fn unknown_and_missing_models_are_the_clients_errors() {
        let (router, accounts) = pool();
        let chat = Endpoint::OpenAiChat;
        assert_eq!(
            route(&router, &accounts, |_| false, asked(&chat, "nope", false)),
            Err(GatewayError::UnknownModel("nope".into()))
        );
        assert_eq!(
            route(&router, &accounts, |_| false, asked(&chat, "", false)),
            Err(GatewayError::MissingModel)
        );
        // Legacy completions have no translator: a Claude model is another protocol's.
        let completions = Endpoint::OpenAiCompletions;
        assert!(matches!(
            route(
                &router,
                &accounts,
                |_| false,
                asked(&completions, "claude-x", false)
            ),
            Err(GatewayError::UnsupportedPair {
                upstream: "Claude",
                ..
            })
        ));
    }

    #[test]
    fn a_reasoning_suffix_routes_by_the_base_name_through_the_ir() {
        let (router, accounts) = pool();
        let messages = Endpoint::AnthropicMessages;
        let r = route(
            &router,
            &accounts,
            |_| false,
            asked(&messages, "claude-x(high)", false),
        )
        .unwrap();
        assert_eq!(r.model, "claude-x");
        assert!(matches!(r.suffix, Some(ReasoningMode::Effort(_))));
        assert!(r.forced);
        assert_eq!(r.decode, Some(Protocol::Anthropic));
    }

    #[test]
    fn gemini_streams_without_alt_sse_are_json_arrays() {
        let (router, accounts) = accounts(
            "gemini-api-key:\n  - api-key: k\n    base-url: http://127.0.0.1:9\n    models: [{name: g}]\n",
        );
        let ep = Endpoint::Gemini {
            model: "g".into(),
            method: GeminiMethod::StreamGenerateContent,
        };
        let mut a = asked(&ep, "ignored: the path names the model", false);
        let r = route(&router, &accounts, |_| false, a).unwrap();
        assert!(r.stream && r.gemini_array);
        a = asked(&ep, "", false);
        a.alt_sse = true;
        assert!(
            !route(&router, &accounts, |_| false, a)
                .unwrap()
                .gemini_array
        );
    }

    #[test]
    fn counts_prefer_a_real_count_and_estimate_otherwise() {
        let (router, accounts) = pool();
        let count = Endpoint::AnthropicCountTokens;
        let r = route(
            &router,
            &accounts,
            |_| false,
            asked(&count, "claude-x", false),
        )
        .unwrap();
        assert_eq!(r.decode, None, "Claude counts for real");
        let mut r = route(&router, &accounts, |_| false, asked(&count, "gpt-x", false)).unwrap();
        assert_eq!(r.decode, Some(Protocol::Anthropic));
        let ir = ir::Request::default();
        let d = after_decode(&mut r, &accounts, &count, Ok(ir)).unwrap();
        assert!(matches!(d, Decided::LocalCount(v) if v.get("input_tokens").is_some()));
    }

    #[test]
    fn an_undecodable_body_keeps_only_same_protocol_accounts_or_fails() {
        let (router, accounts) = pool();
        let messages = Endpoint::AnthropicMessages;
        let bad = || TranslateError::Unsupported("x".into());
        let mut r = route(
            &router,
            &accounts,
            |_| false,
            asked(&messages, "gpt-x", false),
        )
        .unwrap();
        assert_eq!(
            after_decode(&mut r, &accounts, &messages, Err(bad())),
            Err(GatewayError::MalformedBody("x".into()))
        );
        let mut r = route(
            &router,
            &accounts,
            |_| false,
            asked(&messages, "claude-x", false),
        )
        .unwrap();
        r.candidates.push(Candidate {
            account: 1,
            upstream_model: "gpt-x".into(),
        });
        assert_eq!(
            after_decode(&mut r, &accounts, &messages, Err(bad())),
            Ok(Decided::Proxy(None))
        );
        assert_eq!(r.candidates.len(), 1);
    }
}
