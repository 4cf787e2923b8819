//! The checks behind tests/matrix.rs: replaying a recorded answer or an IR scenario through a
//! client protocol's encoder (stream and whole response), the client-parser validators, the
//! decode-back comparison; the request half; the next turn. `matrix.rs` holds only the tables.

use super::fixtures::{self, Recorded};
use super::request_summary::RequestSummary;
use super::summary::{aggregate, to_events, Summary};
use super::{codec, validate};
use switchyard_translators::ir::{Protocol, StreamEvent};
use switchyard_translators::StreamOptions;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A non-stream response body (`*.json`).
    Response,
    /// An error body with the HTTP status the provider sends it with.
    Error(u16),
    /// A `*.chunks.txt` stream, replayed with the directory's framing.
    Stream,
    /// A VCR cassette (`*.yaml`): every generation call's answer, as recorded.
    Cassette,
}

/// The recorded answers of a fixture file, each named for failure messages.
pub fn recorded(src: Protocol, file: &str, kind: Kind) -> Vec<(String, Recorded)> {
    let case = format!("{}/{file}", fixtures::dir(src));
    match kind {
        Kind::Response => vec![(case, Recorded::Response(fixtures::read(src, file)))],
        Kind::Error(status) => vec![(case, Recorded::Error(status, fixtures::read(src, file)))],
        Kind::Stream => {
            let raw = fixtures::read(src, file);
            vec![(case, Recorded::Stream(fixtures::replay_chunks(src, &raw)))]
        }
        Kind::Cassette => fixtures::cassette(src, file)
            .into_iter()
            .map(|(i, r)| (format!("{case} #{i}"), r))
            .collect(),
    }
}

/// The model name the client asked for: every stream must show it, not the upstream's.
pub const CLIENT_MODEL: &str = "client-model-1";

pub fn opts() -> StreamOptions {
    StreamOptions {
        client_model: Some(CLIENT_MODEL.into()),
        include_usage: true,
    }
}

pub type Outcome = Result<(), String>;

pub fn fail<T>(
    case: &str,
    target: Protocol,
    path: &str,
    msg: impl std::fmt::Display,
) -> Result<T, String> {
    Err(format!("{case} -> {} ({path}): {msg}", codec::name(target)))
}

/// Encode `events` for `target` as a stream, validate, decode back, compare with `expected`.
pub fn check_stream(
    case: &str,
    events: &[StreamEvent],
    expected: &Summary,
    target: Protocol,
) -> Outcome {
    let out = codec::encode_stream(target, events, opts())
        .or_else(|e| fail(case, target, "stream encode", e))?;
    let again = codec::encode_stream(target, events, opts())
        .or_else(|e| fail(case, target, "stream encode", e))?;
    if out != again {
        return fail(
            case,
            target,
            "stream",
            "encoder output is not deterministic",
        );
    }
    if let Err(e) = validate::stream(target, &out, true) {
        return fail(case, target, "stream", e);
    }
    let models =
        validate::stream_models(target, &out).or_else(|e| fail(case, target, "stream", e))?;
    if let Some(m) = models.iter().find(|m| *m != CLIENT_MODEL) {
        return fail(
            case,
            target,
            "stream",
            format!("client model: shows {m:?}, the client asked for {CLIENT_MODEL:?}"),
        );
    }
    // A client that named no model and asked for no usage chunk: still a valid stream, showing
    // the upstream's model.
    let plain_opts = StreamOptions::default();
    let plain = codec::encode_stream(target, events, plain_opts)
        .or_else(|e| fail(case, target, "stream encode", e))?;
    if let Err(e) = validate::stream(target, &plain, false) {
        return fail(case, target, "stream without options", e);
    }
    if let Some(StreamEvent::Start { model, .. }) = events.first() {
        let shown = validate::stream_models(target, &plain)
            .or_else(|e| fail(case, target, "stream without options", e))?;
        if let Some(m) = shown.iter().find(|m| *m != model) {
            return fail(
                case,
                target,
                "stream without options",
                format!("model: shows {m:?}, the upstream said {model:?}"),
            );
        }
    }
    let back = codec::decode_stream(target, &[&out])
        .or_else(|e| fail(case, target, "stream decode back", e))?;
    let got = Summary::of_stream(&back).normalized_for(target);
    let want = expected.as_seen_by(target);
    if got != want {
        return fail(
            case,
            target,
            "stream",
            format!(
                "meaning changed\n want {want:?}\n  got {got:?}\n output: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    Ok(())
}

/// Encode a whole response for `target`, validate, decode back, compare.
pub fn check_whole(
    case: &str,
    r: &switchyard_translators::ir::Response,
    target: Protocol,
) -> Outcome {
    let out = codec::encode_response(target, r);
    if let Err(e) = validate::response(target, &out) {
        return fail(case, target, "whole", e);
    }
    let back = codec::decode_response(target, &out)
        .or_else(|e| fail(case, target, "whole decode back", e))?;
    let got = Summary::of_response(&back).normalized_for(target);
    let want = Summary::of_response(r).as_seen_by(target);
    if got != want {
        return fail(
            case,
            target,
            "whole",
            format!(
                "meaning changed\n want {want:?}\n  got {got:?}\n output: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    Ok(())
}

pub fn check_error(
    case: &str,
    err: &switchyard_translators::ir::StreamError,
    target: Protocol,
) -> Outcome {
    let (status, body) = codec::encode_error(target, err);
    if let Err(e) = validate::error_body(target, status, &body) {
        return fail(case, target, "error body", e);
    }
    let back = codec::decode_error(target, status, &body);
    if back.kind != err.kind {
        return fail(
            case,
            target,
            "error body",
            format!("kind {:?} came back as {:?}", err.kind, back.kind),
        );
    }
    Ok(())
}

pub fn check_recorded(case: &str, src: Protocol, rec: &Recorded, target: Protocol) -> Outcome {
    match rec {
        Recorded::Response(raw) => {
            let r = codec::decode_response(src, raw)
                .or_else(|e| fail(case, src, "decode fixture", e))?;
            check_whole(case, &r, target)?;
            check_stream(case, &to_events(&r), &Summary::of_response(&r), target)
        }
        Recorded::Error(status, raw) => {
            let err = codec::decode_error(src, *status, raw);
            if err.status != Some(*status) {
                return fail(
                    case,
                    src,
                    "decode fixture",
                    format!("status {:?}", err.status),
                );
            }
            check_error(case, &err, target)?;
            let events = [StreamEvent::Error(err.clone())];
            check_stream(case, &events, &Summary::of_stream(&events), target)
        }
        Recorded::Stream(bytes) => {
            let events = codec::decode_stream(src, &[bytes.as_slice()])
                .or_else(|e| fail(case, src, "decode fixture", e))?;
            if !matches!(
                events.first(),
                Some(StreamEvent::Start { .. } | StreamEvent::Error(_))
            ) {
                return fail(
                    case,
                    src,
                    "decode fixture",
                    format!("first IR event {:?}", events.first()),
                );
            }
            check_stream(case, &events, &Summary::of_stream(&events), target)?;
            match events.iter().find_map(|e| match e {
                StreamEvent::Error(err) => Some(err.clone()),
                _ => None,
            }) {
                Some(err) => check_error(case, &err, target),
                None => check_whole(case, &aggregate(&events).response, target),
            }
        }
    }
}

pub fn replay(src: Protocol, file: &str, kind: Kind, target: Protocol) {
    let failures: Vec<String> = recorded(src, file, kind)
        .iter()
        .filter_map(|(case, rec)| check_recorded(case, src, rec, target).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

pub fn scenario(name: &str, events: Vec<StreamEvent>, target: Protocol) {
    let case = format!("scenario {name}");
    let expected = Summary::of_stream(&events);
    let mut result = check_stream(&case, &events, &expected, target);
    if result.is_ok() {
        let a = aggregate(&events);
        result = match events.iter().find_map(|e| match e {
            StreamEvent::Error(err) => Some(err.clone()),
            _ => None,
        }) {
            Some(err) => check_error(&case, &err, target),
            None => check_whole(&case, &a.response, target),
        };
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}

pub fn error_bodies(target: Protocol) {
    for err in super::scenarios::error_bodies() {
        let case = format!("error body {:?}", err.kind);
        let events = [StreamEvent::Error(err.clone())];
        let r = check_error(&case, &err, target)
            .and_then(|()| check_stream(&case, &events, &Summary::of_stream(&events), target));
        if let Err(e) = r {
            panic!("{e}");
        }
    }
}

// ------------------------------------------------------------------------------- requests

/// The request half: every request a client sent in a cassette, decoded with its protocol
/// and encoded for every upstream protocol, must be a body that upstream accepts
/// (`validate::request`) and, decoded back, say the same (`RequestSummary`, with the
/// documented exceptions).
pub fn check_request(case: &str, src: Protocol, body: &[u8], target: Protocol) -> Outcome {
    let r = codec::decode_request(src, body).or_else(|e| fail(case, src, "decode request", e))?;
    let out = codec::encode_request(target, &for_upstream(&r, target))
        .or_else(|e| fail(case, target, "encode request", e))?;
    if let Err(e) = validate::request(target, &out) {
        return fail(
            case,
            target,
            "request",
            format!(
                "{e}\n body: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    let back = codec::decode_request(target, &out)
        .or_else(|e| fail(case, target, "decode request back", e))?;
    let got = RequestSummary::of(&back).normalized_for(target);
    let mut want = RequestSummary::of(&r).as_sent_to(target);
    if want.max_tokens.is_none() && target == Protocol::Anthropic {
        // Anthropic requires max_tokens: its encoder supplies a default.
        want.max_tokens = got.max_tokens;
    }
    if want.model.is_empty() {
        want.model = got.model.clone();
    }
    if got != want {
        return fail(
            case,
            target,
            "request",
            format!(
                "meaning changed\n want {want:?}\n  got {got:?}\n body: {}",
                validate::snippet(&String::from_utf8_lossy(&out))
            ),
        );
    }
    Ok(())
}

/// What the gateway does before encoding for an upstream: the reasoning mode becomes what the
/// upstream protocol can express (`reasoning::for_target`; some encoders also apply it, which
/// is harmless: it is idempotent).
pub fn for_upstream(
    r: &switchyard_translators::ir::Request,
    target: Protocol,
) -> switchyard_translators::ir::Request {
    let mut r = r.clone();
    if let Some(x) = r.reasoning.as_mut() {
        x.mode = switchyard_translators::reasoning::for_target(x.mode, target);
    }
    r
}

pub fn requests(src: Protocol, file: &str, target: Protocol) {
    let bodies = fixtures::cassette_requests(src, file);
    assert!(!bodies.is_empty(), "{file}: no request bodies");
    let failures: Vec<String> = bodies
        .iter()
        .filter_map(|(i, body)| {
            let case = format!("{}/{file} #{i} request", fixtures::dir(src));
            check_request(&case, src, body, target).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

pub fn request_scenario(name: &str, r: switchyard_translators::ir::Request, target: Protocol) {
    // Every scenario is also a client request of every protocol: encode it as that client
    // would send it, decode, and translate that for the upstream.
    let case = format!("request scenario {name}");
    let failures: Vec<String> = codec::ALL
        .iter()
        .filter_map(|&client| {
            let body = match codec::encode_request(client, &r) {
                Ok(b) => b,
                Err(e) => {
                    return Some(format!(
                        "{case}: {} cannot send it: {e}",
                        codec::name(client)
                    ))
                }
            };
            check_request(
                &format!("{case} from {}", codec::name(client)),
                client,
                &body,
                target,
            )
            .err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ------------------------------------------------------------------------------ next turn

/// The next turn (issue 3: thinking, signatures and tool ids "carried so that the next turn
/// can send them back"): an upstream answer goes to a client of another protocol, the client
/// sends its assistant turn back with tool results in its own protocol, and the gateway
/// translates that for the same upstream. The upstream body must be one it accepts
/// (`validate::request`), every tool result must point at a call of that body, and the calls
/// must be the upstream's own (name, arguments; ids unless Gemini is on either side).
/// Signatures and encrypted reasoning must come back unchanged when the client speaks the
/// upstream's protocol (other clients have no field for them; `next_turn_carry_table` prints
/// what survives where).
pub fn next_turn_request(
    answer: &switchyard_translators::ir::Response,
    client: Protocol,
) -> Result<Vec<u8>, String> {
    use switchyard_translators::ir::{Message, Part, Request, Role, ToolResult};
    let text = |t: &str| Part::Text {
        text: t.into(),
        cache_control: None,
    };
    let seen = codec::decode_response(client, &codec::encode_response(client, answer))?;
    let assistant: Vec<Part> = seen
        .parts
        .iter()
        .filter(|p| !matches!(p, Part::Unknown { .. }))
        .cloned()
        .collect();
    let results: Vec<Part> = assistant
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some(Part::ToolResult(ToolResult {
                call_id: c.id.clone(),
                name: Some(c.name.clone()),
                content: vec![text("ok")],
                is_error: false,
            })),
            _ => None,
        })
        .collect();
    let mut messages = vec![Message {
        role: Role::User,
        parts: vec![text("question")],
    }];
    if !assistant.is_empty() {
        messages.push(Message {
            role: Role::Assistant,
            parts: assistant,
        });
        messages.push(Message {
            role: Role::User,
            parts: if results.is_empty() {
                vec![text("next")]
            } else {
                results
            },
        });
    }
    let req = Request {
        model: CLIENT_MODEL.into(),
        messages,
        sampling: switchyard_translators::ir::Sampling {
            max_tokens: Some(1024),
            ..Default::default()
        },
        ..Request::default()
    };
    codec::encode_request(client, &req)
}

#[derive(Debug, Default, PartialEq)]
pub struct Carried {
    pub calls: Vec<(String, String, serde_json::Value)>,
    pub thinking_signatures: Vec<String>,
    pub redacted: Vec<String>,
    pub call_signatures: Vec<String>,
    pub encrypted: Vec<String>,
}

pub fn carried(parts: &[switchyard_translators::ir::Part]) -> Carried {
    use switchyard_translators::ir::Part;
    let mut c = Carried::default();
    for p in parts {
        match p {
            Part::ToolCall(t) => {
                let args = serde_json::from_str(if t.arguments.trim().is_empty() {
                    "{}"
                } else {
                    &t.arguments
                })
                .unwrap_or_else(|_| serde_json::Value::String(t.arguments.clone()));
                c.calls.push((t.id.clone(), t.name.clone(), args));
                c.call_signatures.extend(t.signature.clone());
            }
            Part::Thinking {
                signature: Some(s), ..
            } => c.thinking_signatures.push(s.clone()),
            Part::RedactedThinking { data } => c.redacted.push(data.clone()),
            Part::Reasoning(r) => c.encrypted.extend(r.encrypted_content.clone()),
            _ => {}
        }
    }
    c
}

pub fn check_next_turn(
    case: &str,
    src: Protocol,
    answer: &switchyard_translators::ir::Response,
    client: Protocol,
) -> Outcome {
    use switchyard_translators::ir::{Part, Role};
    let body = next_turn_request(answer, client)
        .or_else(|e| fail(case, client, "next turn: client request", e))?;
    let q = codec::decode_request(client, &body)
        .or_else(|e| fail(case, client, "next turn: decode", e))?;
    let up = codec::encode_request(src, &for_upstream(&q, src))
        .or_else(|e| fail(case, src, "next turn: encode", e))?;
    if let Err(e) = validate::request(src, &up) {
        return fail(
            case,
            src,
            "next turn",
            format!(
                "{e}\n body: {}",
                validate::snippet(&String::from_utf8_lossy(&up))
            ),
        );
    }
    let q2 = codec::decode_request(src, &up)
        .or_else(|e| fail(case, src, "next turn: decode back", e))?;
    let sent: Vec<Part> = q2
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .flat_map(|m| m.parts.clone())
        .collect();
    let mut got = carried(&sent);
    let mut want = carried(&answer.parts);
    if src != client {
        for c in [&mut got, &mut want] {
            c.thinking_signatures.clear();
            c.redacted.clear();
            c.call_signatures.clear();
            c.encrypted.clear();
        }
    }
    if src == Protocol::Gemini || client == Protocol::Gemini {
        for c in [&mut got, &mut want] {
            c.calls.iter_mut().for_each(|x| x.0.clear());
        }
    }
    if got != want {
        return fail(
            case,
            client,
            "next turn",
            format!("carried changed\n want {want:?}\n  got {got:?}"),
        );
    }
    // Every tool result answers a call of this request.
    let ids: Vec<&str> = sent
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some(c.id.as_str()),
            _ => None,
        })
        .collect();
    for m in &q2.messages {
        for p in &m.parts {
            if let Part::ToolResult(r) = p {
                if src != Protocol::Gemini && !ids.contains(&r.call_id.as_str()) {
                    return fail(
                        case,
                        client,
                        "next turn",
                        format!("tool result for {:?}, calls are {ids:?}", r.call_id),
                    );
                }
            }
        }
    }
    Ok(())
}

pub fn next_turn(src: Protocol, file: &str, kind: Kind, client: Protocol) {
    let failures: Vec<String> = recorded(src, file, kind)
        .iter()
        .filter_map(|(case, rec)| {
            let answer = match rec {
                Recorded::Response(raw) => codec::decode_response(src, raw).ok()?,
                Recorded::Stream(bytes) => {
                    let events = codec::decode_stream(src, &[bytes.as_slice()]).ok()?;
                    let a = aggregate(&events);
                    if a.error.is_some() {
                        return None;
                    }
                    a.response
                }
                Recorded::Error(..) => return None,
            };
            check_next_turn(case, src, &answer, client).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
