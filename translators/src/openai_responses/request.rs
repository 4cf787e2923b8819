//! Responses request body ↔ [`ir::Request`].
//!
//! Pure. Field mapping: `instructions` → `system`; `input` (a string or items) → messages (see
//! `items.rs`); flat function tools → [`Tool::Function`], built-ins → [`Tool::Unknown`];
//! `tool_choice` `auto|none|required|{type:function,name}` (other objects stay in `extra`);
//! `text.format` → [`OutputFormat`] (`text.verbosity` stays in `extra.text`);
//! `reasoning.effort` → [`ReasoningMode::Effort`] (`none` → `Disabled`), `reasoning.summary`;
//! `max_output_tokens`, `temperature`, `top_p`; `user` (else `safety_identifier`) → `user_id`;
//! `prompt_cache_key` → `cache_key`; everything else (`include`, `store`,
//! `previous_response_id`, `metadata`, `service_tier`, `truncation`, ...) → `extra`.
//!
//! Encoding drops what Responses cannot express: `top_k`, `stop`, `seed`, presence and
//! frequency penalties, `cache_control`, tool-result `is_error`. A token budget becomes the
//! nearest effort (CLIProxyAPI's thresholds: ≤512 minimal, ≤1024 low, ≤8192 medium, ≤24576
//! high, above xhigh; 0 is `none`); `Adaptive` leaves the effort to the model.

use serde_json::{json, Map, Value};

use crate::ir::{
    Effort, FunctionTool, OutputFormat, Part, Protocol, Reasoning, ReasoningMode, Request,
    Sampling, Tool, ToolChoice,
};
use crate::TranslateError;

use super::items::{items_to_messages, messages_to_items};
use super::wire::{
    ResponsesFunctionTool, ResponsesInput, ResponsesReasoningConfig, ResponsesRequest,
    ResponsesTextConfig, ResponsesTool,
};

fn invalid(e: impl std::fmt::Display) -> TranslateError {
    TranslateError::InvalidBody {
        protocol: "OpenAI Responses",
        message: e.to_string(),
    }
}

/// A Responses request body into the IR.
pub fn decode_request(body: &[u8]) -> Result<Request, TranslateError> {
    let req: ResponsesRequest = serde_json::from_slice(body).map_err(invalid)?;
    let mut extra = req.extra;
    let messages = match req.input {
        None => Vec::new(),
        Some(ResponsesInput::Text(t)) => vec![crate::ir::Message {
            role: crate::ir::Role::User,
            parts: vec![Part::Text {
                text: t,
                cache_control: None,
            }],
        }],
        Some(ResponsesInput::Items(items)) => items_to_messages(items),
    };
    let system = match req.instructions {
        None => Vec::new(),
        Some(ResponsesInput::Text(text)) if text.is_empty() => Vec::new(),
        Some(ResponsesInput::Text(text)) => vec![Part::Text {
            text,
            cache_control: None,
        }],
        // Instructions as message items: their content, in order.
        Some(ResponsesInput::Items(items)) => items_to_messages(items)
            .into_iter()
            .flat_map(|m| m.parts)
            .collect(),
    };
    let tool_choice = match req.tool_choice {
        None => None,
        Some(v) => match tool_choice_from(&v) {
            Some(c) => Some(c),
            None => {
                extra.insert("tool_choice".into(), v);
                None
            }
        },
    };
    let output_format = req.text.and_then(|t| {
        if !t.extra.is_empty() {
            extra.insert("text".into(), Value::Object(t.extra));
        }
        let format = t.format?;
        match output_format_from(&format) {
            Some(f) => Some(f),
            None => {
                let mut text = match extra.remove("text") {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                text.insert("format".into(), format);
                extra.insert("text".into(), Value::Object(text));
                None
            }
        }
    });
    let reasoning = req.reasoning.map(|r| {
        if !r.extra.is_empty() {
            extra.insert("reasoning".into(), Value::Object(r.extra));
        }
        Reasoning {
            mode: match r.effort.as_deref() {
                None => ReasoningMode::Default,
                Some("none") => ReasoningMode::Disabled,
                Some(e) => effort_from(e).map_or(ReasoningMode::Default, ReasoningMode::Effort),
            },
            include_thoughts: None,
            summary: r.summary,
        }
    });
    let user_id = match (req.user, req.safety_identifier) {
        (Some(u), Some(s)) => {
            extra.insert("safety_identifier".into(), Value::String(s));
            Some(u)
        }
        (u, s) => u.or(s),
    };
    Ok(Request {
        model: req.model,
        system,
        messages,
        tools: req.tools.into_iter().map(tool_from).collect(),
        tool_choice,
        parallel_tool_calls: req.parallel_tool_calls,
        sampling: Sampling {
            temperature: req.temperature,
            top_p: req.top_p,
            max_tokens: req.max_output_tokens,
            ..Sampling::default()
        },
        output_format,
        reasoning,
        stream: req.stream,
        include_usage: false,
        user_id,
        cache_key: req.prompt_cache_key,
        extra: (!extra.is_empty()).then_some((Protocol::OpenAiResponses, extra)),
    })
}

fn tool_from(t: ResponsesTool) -> Tool {
    match t {
        ResponsesTool::Function(f) => Tool::Function(FunctionTool {
            name: f.name,
            description: f.description,
            parameters: f
                .parameters
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            strict: f.strict,
            cache_control: None,
        }),
        ResponsesTool::Unknown(value) => Tool::Unknown {
            protocol: Protocol::OpenAiResponses,
            value,
        },
    }
}

fn tool_choice_from(v: &Value) -> Option<ToolChoice> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "none" => Some(ToolChoice::None),
            "required" => Some(ToolChoice::Required),
            _ => None,
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => o
            .get("name")
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Tool(n.to_string())),
        _ => None,
    }
}

fn output_format_from(v: &Value) -> Option<OutputFormat> {
    match v.get("type").and_then(Value::as_str)? {
        "text" => Some(OutputFormat::Text),
        "json_object" => Some(OutputFormat::JsonObject),
        "json_schema" => Some(OutputFormat::JsonSchema {
            name: v.get("name").and_then(Value::as_str).map(String::from),
            schema: v.get("schema").cloned().unwrap_or(Value::Null),
            strict: v.get("strict").and_then(Value::as_bool),
        }),
        _ => None,
    }
}

fn effort_from(s: &str) -> Option<Effort> {
    match s {
        "minimal" => Some(Effort::Minimal),
        "low" => Some(Effort::Low),
        "medium" => Some(Effort::Medium),
        "high" => Some(Effort::High),
        "xhigh" => Some(Effort::XHigh),
        _ => None,
    }
}

fn effort_name(e: Effort) -> &'static str {
    match e {
        Effort::Minimal => "minimal",
        Effort::Low => "low",
        Effort::Medium => "medium",
        Effort::High => "high",
        Effort::XHigh => "xhigh",
    }
}

fn effort_for_budget(budget: u64) -> &'static str {
    match budget {
        0 => "none",
        1..=512 => "minimal",
        513..=1024 => "low",
        1025..=8192 => "medium",
        8193..=24576 => "high",
        _ => "xhigh",
    }
}

fn system_text(parts: &[Part]) -> Option<String> {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n\n"))
}

/// An IR request as a Responses body.
pub fn encode_request(req: &Request) -> Result<Vec<u8>, TranslateError> {
    let mut extra = match &req.extra {
        Some((Protocol::OpenAiResponses, m)) => m.clone(),
        _ => Map::new(),
    };
    let text = encode_text(req.output_format.as_ref(), &mut extra);
    let reasoning = req.reasoning.as_ref().map(|r| {
        let effort = match r.mode {
            ReasoningMode::Default | ReasoningMode::Adaptive => None,
            ReasoningMode::Disabled => Some("none"),
            ReasoningMode::Budget(b) => Some(effort_for_budget(b)),
            ReasoningMode::Effort(e) => Some(effort_name(e)),
        };
        let summary = r
            .summary
            .clone()
            .or_else(|| (r.include_thoughts == Some(true)).then(|| "auto".to_string()));
        ResponsesReasoningConfig {
            effort: effort.map(String::from),
            summary,
            extra: match extra.remove("reasoning") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            },
        }
    });
    let tool_choice = req.tool_choice.as_ref().map(|c| match c {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "name": name}),
    });
    if tool_choice.is_some() {
        extra.remove("tool_choice");
    }
    let items = messages_to_items(&req.messages);
    let body = ResponsesRequest {
        model: req.model.clone(),
        instructions: system_text(&req.system).map(ResponsesInput::Text),
        input: (!items.is_empty()).then_some(ResponsesInput::Items(items)),
        tools: req.tools.iter().filter_map(encode_tool).collect(),
        tool_choice,
        parallel_tool_calls: req.parallel_tool_calls,
        text,
        reasoning,
        max_output_tokens: req.sampling.max_tokens,
        temperature: req.sampling.temperature,
        top_p: req.sampling.top_p,
        user: req.user_id.clone(),
        safety_identifier: None,
        prompt_cache_key: req.cache_key.clone(),
        stream: req.stream,
        extra,
    };
    serde_json::to_vec(&body).map_err(invalid)
}

fn encode_text(
    format: Option<&OutputFormat>,
    extra: &mut Map<String, Value>,
) -> Option<ResponsesTextConfig> {
    let mut text = match extra.remove("text") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let format = match format {
        Some(OutputFormat::Text) => Some(json!({"type": "text"})),
        Some(OutputFormat::JsonObject) => Some(json!({"type": "json_object"})),
        Some(OutputFormat::JsonSchema {
            name,
            schema,
            strict,
        }) => {
            let mut f = Map::new();
            f.insert("type".into(), json!("json_schema"));
            // `name` is required by OpenAI; other protocols have none.
            f.insert("name".into(), json!(name.as_deref().unwrap_or("response")));
            f.insert("schema".into(), schema.clone());
            if let Some(s) = strict {
                f.insert("strict".into(), json!(s));
            }
            Some(Value::Object(f))
        }
        None => text.remove("format"),
    };
    if format.is_none() && text.is_empty() {
        return None;
    }
    Some(ResponsesTextConfig {
        format,
        extra: text,
    })
}

fn encode_tool(t: &Tool) -> Option<ResponsesTool> {
    match t {
        Tool::Function(f) => Some(ResponsesTool::Function(ResponsesFunctionTool {
            kind: "function".into(),
            name: f.name.clone(),
            description: f.description.clone(),
            parameters: Some(f.parameters.clone()),
            strict: f.strict,
        })),
        Tool::Unknown {
            protocol: Protocol::OpenAiResponses,
            value,
        } => Some(ResponsesTool::Unknown(value.clone())),
        Tool::Unknown { .. } => None,
    }
}
