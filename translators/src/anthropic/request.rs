//! Anthropic Messages requests ↔ IR. Pure.
//!
//! | Anthropic | IR |
//! | --- | --- |
//! | `system` (string or text blocks with `cache_control`) | `Request::system` |
//! | `messages[]` role `user` / `assistant` / `system` (mid-conversation) | `Message` with `Role::{User, Assistant, System}` at its position (`Developer` goes out as `system`) |
//! | `tools[]` custom (`input_schema`, `strict`, `cache_control`) | `Tool::Function` |
//! | `tools[]` typed (`web_search_20250305`, `bash_*`, `memory_*`, ...) | `Tool::Unknown` |
//! | `tool_choice` auto / any / tool{name} / none | `ToolChoice::{Auto, Required, Tool, None}` |
//! | `tool_choice.disable_parallel_tool_use` | `parallel_tool_calls = !disable` |
//! | `thinking` enabled{budget_tokens} / adaptive / disabled | `ReasoningMode::{Budget, Adaptive, Disabled}` |
//! | `thinking` adaptive + `output_config.effort` | `ReasoningMode::Effort` (low, medium, high; `max` and `xhigh` are `XHigh`, which goes out as `max`) |
//! | `output_config.format` / beta `output_format` `{type: json_schema, schema}` | `OutputFormat::JsonSchema` (goes out as `output_config.format`) |
//! | `metadata.user_id` | `user_id` |
//! | `max_tokens`, `temperature`, `top_p`, `top_k`, `stop_sequences`, `stream` | `Sampling`, `stream` |
//! | everything else (`context_management`, `anthropic_beta`, `container`, `mcp_servers`, `service_tier`, leftover `metadata` / `output_config` keys, unknown `thinking` / `tool_choice` shapes) | `extra` |
//!
//! Encoding for an Anthropic upstream also fixes what the API would reject: `max_tokens` is
//! required (a default per model family, above the thinking budget), empty text blocks and
//! unsigned thinking are dropped, tool results go first in their user message, a
//! conversation that does not start with a user turn gets one ([`CONTINUE_TEXT`]), thinking
//! is left off when the last assistant turn called tools without a signed thinking block
//! first (the API would reject the request), and with
//! thinking on, `temperature` other than 1, `top_k` and `top_p` below 0.95 are dropped. Not
//! expressible and dropped: `seed`, presence/frequency penalties, `OutputFormat::JsonObject`
//! (no JSON mode without a schema), `cache_key`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::blocks::{cache, content_to_parts, part_to_block};
use super::wire::*;
use crate::ir::{
    Effort, FunctionTool, Message, OutputFormat, Part, Protocol, Reasoning, ReasoningMode, Request,
    Role, Sampling, Tool, ToolChoice,
};
use crate::TranslateError;

fn invalid(e: impl std::fmt::Display) -> TranslateError {
    TranslateError::InvalidBody {
        protocol: "anthropic",
        message: e.to_string(),
    }
}

/// Decode a client's `/v1/messages` body.
pub fn decode_request(body: &[u8]) -> Result<Request, TranslateError> {
    let req: AnthropicMessagesRequest = serde_json::from_slice(body).map_err(invalid)?;
    let mut extra = req.extra;

    let system = match req.system {
        None => Vec::new(),
        Some(AnthropicSystem::Text(t)) => content_to_parts(AnthropicContent::Text(t)),
        Some(AnthropicSystem::Blocks(b)) => content_to_parts(AnthropicContent::Blocks(b)),
    };

    let mut names: HashMap<String, String> = HashMap::new();
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in req.messages {
        let role = match m.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "system" => Role::System,
            other => return Err(invalid(format!("unknown message role {other:?}"))),
        };
        let mut parts = content_to_parts(m.content);
        for p in &mut parts {
            match p {
                Part::ToolCall(c) => {
                    names.insert(c.id.clone(), c.name.clone());
                }
                Part::ToolResult(r) => r.name = names.get(&r.call_id).cloned(),
                _ => {}
            }
        }
        messages.push(Message { role, parts });
    }

    let tools = req
        .tools
        .unwrap_or_default()
        .into_iter()
        .map(decode_tool)
        .collect();

    let (tool_choice, parallel_tool_calls) = match req.tool_choice {
        None => (None, None),
        Some(Lenient::Unknown(v)) => {
            extra.insert("tool_choice".into(), v);
            (None, None)
        }
        Some(Lenient::Known(tc)) => {
            let (choice, disable) = match tc {
                AnthropicToolChoice::Auto {
                    disable_parallel_tool_use,
                } => (ToolChoice::Auto, disable_parallel_tool_use),
                AnthropicToolChoice::Any {
                    disable_parallel_tool_use,
                } => (ToolChoice::Required, disable_parallel_tool_use),
                AnthropicToolChoice::Tool {
                    name,
                    disable_parallel_tool_use,
                } => (ToolChoice::Tool(name), disable_parallel_tool_use),
                AnthropicToolChoice::None {} => (ToolChoice::None, None),
            };
            (Some(choice), disable.map(|d| !d))
        }
    };

    let mut output_config = req.output_config.unwrap_or_default();
    let format = output_config.format.take().or(req.output_format);
    let output_format = match format {
        Some(f) if f.kind == "json_schema" && f.extra.is_empty() => {
            f.schema.map(|schema| OutputFormat::JsonSchema {
                name: None,
                schema,
                strict: None,
            })
        }
        Some(f) => {
            // A format we do not model stays where it was, for an Anthropic upstream.
            output_config.format = Some(f);
            None
        }
        None => None,
    };

    let reasoning = match req.thinking {
        None => None,
        Some(Lenient::Unknown(v)) => {
            extra.insert("thinking".into(), v);
            None
        }
        Some(Lenient::Known(t)) => Some(match t {
            AnthropicThinking::Enabled { budget_tokens } => ReasoningMode::Budget(budget_tokens),
            AnthropicThinking::Disabled {} => ReasoningMode::Disabled,
            AnthropicThinking::Adaptive {} => {
                match output_config.effort.as_deref().and_then(effort_in) {
                    Some(e) => {
                        output_config.effort = None;
                        ReasoningMode::Effort(e)
                    }
                    None => ReasoningMode::Adaptive,
                }
            }
        }),
    }
    .map(|mode| Reasoning {
        mode,
        include_thoughts: None,
        summary: None,
    });

    if output_config.effort.is_some()
        || output_config.format.is_some()
        || !output_config.extra.is_empty()
    {
        extra.insert("output_config".into(), to_value(&output_config)?);
    }

    let mut user_id = None;
    if let Some(mut md) = req.metadata {
        user_id = md.user_id.take();
        if !md.extra.is_empty() {
            extra.insert("metadata".into(), Value::Object(md.extra));
        }
    }

    Ok(Request {
        model: req.model,
        system,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        sampling: Sampling {
            temperature: req.temperature,
            top_p: req.top_p,
            top_k: req.top_k,
            max_tokens: req.max_tokens,
            stop: req.stop_sequences.unwrap_or_default(),
            seed: None,
            presence_penalty: None,
            frequency_penalty: None,
        },
        output_format,
        reasoning,
        stream: req.stream.unwrap_or(false),
        // Anthropic always reports usage, so its clients always get it.
        include_usage: true,
        user_id,
        cache_key: None,
        extra: (!extra.is_empty()).then_some((Protocol::Anthropic, extra)),
    })
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, TranslateError> {
    serde_json::to_value(v).map_err(invalid)
}

fn decode_tool(t: AnthropicTool) -> Tool {
    match t {
        Lenient::Known(c) if c.kind.as_deref().is_none_or(|k| k == "custom") => {
            Tool::Function(FunctionTool {
                name: c.name,
                description: c.description,
                parameters: c.input_schema,
                strict: c.strict,
                cache_control: cache(c.cache_control),
            })
        }
        Lenient::Known(c) => Tool::Unknown {
            protocol: Protocol::Anthropic,
            value: serde_json::to_value(&c).unwrap_or(Value::Null),
        },
        Lenient::Unknown(value) => Tool::Unknown {
            protocol: Protocol::Anthropic,
            value,
        },
    }
}

fn effort_in(s: &str) -> Option<Effort> {
    Some(match s {
        "minimal" => Effort::Minimal,
        "low" => Effort::Low,
        "medium" => Effort::Medium,
        "high" => Effort::High,
        "xhigh" | "max" => Effort::XHigh,
        _ => return None,
    })
}

fn effort_out(e: Effort) -> &'static str {
    match e {
        Effort::Minimal | Effort::Low => "low",
        Effort::Medium => "medium",
        Effort::High => "high",
        // `max` is the top level every effort-capable model accepts (`xhigh` is not).
        Effort::XHigh => "max",
    }
}

/// `max_tokens` is required by Anthropic; used when the client sent none. The largest output
/// every model of the family accepts (Claude 3 Haiku: 4096; other Claude 3 / 3.5: 8192).
pub fn default_max_tokens(model: &str) -> u64 {
    if model.contains("claude-3-haiku")
        || model.contains("claude-3-opus")
        || model.contains("claude-3-sonnet")
    {
        4096
    } else if model.contains("claude-3-5") || model.contains("claude-3.5") {
        8192
    } else {
        32_000
    }
}

fn role_out(r: Role) -> &'static str {
    match r {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::System | Role::Developer => "system",
    }
}

/// Parts of one message as blocks, in the order Anthropic accepts: tool results first in a
/// user message; unsigned thinking dropped (the API rejects thinking it cannot verify).
fn message_blocks(role: Role, parts: &[Part]) -> Vec<AnthropicContentBlock> {
    // Unsigned thinking and OpenAI reasoning items: Claude cannot verify them.
    let keep = |p: &&Part| {
        !matches!(
            p,
            Part::Thinking {
                signature: None,
                ..
            } | Part::Reasoning(_)
        )
    };
    let mut blocks: Vec<AnthropicContentBlock> = Vec::with_capacity(parts.len());
    if role == Role::User {
        let results = parts.iter().filter(|p| matches!(p, Part::ToolResult(_)));
        let rest = parts.iter().filter(|p| !matches!(p, Part::ToolResult(_)));
        blocks.extend(results.chain(rest).filter(keep).filter_map(part_to_block));
    } else {
        blocks.extend(parts.iter().filter(keep).filter_map(part_to_block));
    }
    blocks
}

/// Text of the user turn added when a conversation from another protocol has none before
/// the assistant's (Gemini allows `contents` that start with the model, or only a
/// `systemInstruction`); the Messages API rejects both.
pub const CONTINUE_TEXT: &str = "Continue.";

fn ensure_user_turn_first(messages: &mut Vec<AnthropicMessage>) {
    let first = messages.iter().position(|m| m.role != "system");
    if first.is_none_or(|i| messages[i].role != "user") {
        let at = first.unwrap_or(messages.len());
        messages.insert(
            at,
            AnthropicMessage {
                role: "user".into(),
                content: AnthropicContent::Blocks(vec![Lenient::Known(
                    AnthropicKnownBlock::Text {
                        text: CONTINUE_TEXT.into(),
                        cache_control: None,
                    },
                )]),
            },
        );
    }
}

/// With thinking on, the API requires the assistant turn of an ongoing tool loop (the last
/// one, when it called tools) to start with a signed thinking block. History from another
/// provider (or a client that dropped thinking) has none: such a request goes out without
/// thinking rather than fail ("Expected `thinking` or `redacted_thinking`, but found
/// `tool_use`").
fn thinking_would_be_rejected(messages: &[AnthropicMessage]) -> bool {
    let Some(at) = messages.iter().rposition(|m| m.role == "assistant") else {
        return false;
    };
    let AnthropicContent::Blocks(blocks) = &messages[at].content else {
        return false;
    };
    let loop_ongoing = messages[at + 1..].iter().any(|m| {
        matches!(&m.content, AnthropicContent::Blocks(b) if b.iter().any(|b| matches!(b, Lenient::Known(AnthropicKnownBlock::ToolResult { .. }))))
    });
    let calls_tools = blocks
        .iter()
        .any(|b| matches!(b, Lenient::Known(AnthropicKnownBlock::ToolUse { .. })));
    let starts_with_thinking = matches!(
        blocks.first(),
        Some(Lenient::Known(
            AnthropicKnownBlock::Thinking { .. } | AnthropicKnownBlock::RedactedThinking { .. }
        ))
    );
    loop_ongoing && calls_tools && !starts_with_thinking
}

/// Encode a request for an Anthropic upstream.
pub fn encode_request(req: &Request) -> Result<Vec<u8>, TranslateError> {
    let mut extra = match &req.extra {
        Some((Protocol::Anthropic, m)) => m.clone(),
        _ => Map::new(),
    };
    let from_extra = |extra: &mut Map<String, Value>, key: &str| extra.remove(key);

    let system_blocks: Vec<AnthropicContentBlock> =
        req.system.iter().filter_map(part_to_block).collect();
    let system = (!system_blocks.is_empty()).then_some(AnthropicSystem::Blocks(system_blocks));

    let mut messages: Vec<AnthropicMessage> = req
        .messages
        .iter()
        .filter_map(|m| {
            let blocks = message_blocks(m.role, &m.parts);
            (!blocks.is_empty()).then(|| AnthropicMessage {
                role: role_out(m.role).into(),
                content: AnthropicContent::Blocks(blocks),
            })
        })
        .collect();
    ensure_user_turn_first(&mut messages);

    let tools: Vec<AnthropicTool> = req
        .tools
        .iter()
        .filter_map(|t| match t {
            Tool::Function(f) => Some(Lenient::Known(AnthropicCustomTool {
                kind: None,
                name: f.name.clone(),
                description: f.description.clone(),
                input_schema: f.parameters.clone(),
                strict: f.strict,
                cache_control: f.cache_control.as_ref().map(|c| c.0.clone()),
            })),
            Tool::Unknown {
                protocol: Protocol::Anthropic,
                value,
            } => Some(Lenient::Unknown(value.clone())),
            Tool::Unknown { .. } => None,
        })
        .collect();

    let disable = req.parallel_tool_calls.map(|p| !p);
    let tool_choice = match (&req.tool_choice, disable) {
        (Some(ToolChoice::Auto), d) | (None, d @ Some(_)) => Some(AnthropicToolChoice::Auto {
            disable_parallel_tool_use: d,
        }),
        (Some(ToolChoice::Required), d) => Some(AnthropicToolChoice::Any {
            disable_parallel_tool_use: d,
        }),
        (Some(ToolChoice::Tool(name)), d) => Some(AnthropicToolChoice::Tool {
            name: name.clone(),
            disable_parallel_tool_use: d,
        }),
        (Some(ToolChoice::None), _) => Some(AnthropicToolChoice::None {}),
        (None, None) => None,
    }
    .map(Lenient::Known)
    .or_else(|| from_extra(&mut extra, "tool_choice").map(Lenient::Unknown));
    // The API rejects a tool_choice without tools (and `none` without tools means nothing).
    let tool_choice = if tools.is_empty() { None } else { tool_choice };
    let mut output_config: AnthropicOutputConfig = match from_extra(&mut extra, "output_config") {
        Some(v) => serde_json::from_value(v).map_err(invalid)?,
        None => AnthropicOutputConfig::default(),
    };
    if let Some(OutputFormat::JsonSchema { schema, .. }) = &req.output_format {
        output_config.format = Some(AnthropicOutputFormat {
            kind: "json_schema".into(),
            schema: Some(schema.clone()),
            extra: Map::new(),
        });
    }

    let mut mode = req.reasoning.as_ref().map(|r| r.mode);
    if thinking_would_be_rejected(&messages) {
        mode = None;
    }
    let thinking = match mode {
        None | Some(ReasoningMode::Default) => {
            from_extra(&mut extra, "thinking").map(Lenient::Unknown)
        }
        Some(ReasoningMode::Disabled) => Some(Lenient::Known(AnthropicThinking::Disabled {})),
        Some(ReasoningMode::Adaptive) => Some(Lenient::Known(AnthropicThinking::Adaptive {})),
        Some(ReasoningMode::Budget(n)) => Some(Lenient::Known(AnthropicThinking::Enabled {
            budget_tokens: n,
        })),
        Some(ReasoningMode::Effort(e)) => {
            output_config.effort = Some(effort_out(e).into());
            Some(Lenient::Known(AnthropicThinking::Adaptive {}))
        }
    };
    let thinking_on = matches!(
        mode,
        Some(ReasoningMode::Adaptive | ReasoningMode::Budget(_) | ReasoningMode::Effort(_))
    );

    let s = &req.sampling;
    let mut max_tokens = s
        .max_tokens
        .unwrap_or_else(|| default_max_tokens(&req.model));
    if let Some(ReasoningMode::Budget(n)) = mode {
        if s.max_tokens.is_none() && max_tokens <= n {
            max_tokens = n + 8192;
        }
    }
    let (temperature, top_p, top_k) = if thinking_on {
        (
            s.temperature.filter(|t| (*t - 1.0).abs() < f64::EPSILON),
            s.top_p.filter(|p| *p >= 0.95),
            None,
        )
    } else {
        (s.temperature, s.top_p, s.top_k)
    };

    let mut metadata: AnthropicMetadata = match from_extra(&mut extra, "metadata") {
        Some(Value::Object(m)) => AnthropicMetadata {
            user_id: None,
            extra: m,
        },
        _ => AnthropicMetadata::default(),
    };
    metadata.user_id = req.user_id.clone();
    let metadata = (metadata.user_id.is_some() || !metadata.extra.is_empty()).then_some(metadata);

    let has_output_config = output_config.effort.is_some()
        || output_config.format.is_some()
        || !output_config.extra.is_empty();
    let out = AnthropicMessagesRequest {
        model: req.model.clone(),
        system,
        messages,
        max_tokens: Some(max_tokens),
        stop_sequences: (!s.stop.is_empty()).then(|| s.stop.clone()),
        temperature,
        top_p,
        top_k,
        stream: req.stream.then_some(true),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        thinking,
        metadata,
        output_config: has_output_config.then_some(output_config),
        output_format: None,
        extra,
    };
    serde_json::to_vec(&out).map_err(invalid)
}
