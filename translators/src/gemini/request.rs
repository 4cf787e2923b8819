//! Gemini `generateContent` request body ↔ [`ir::Request`]. Pure.
//!
//! The model is in the URL, not the body: decoding leaves `model` empty (the gateway fills it
//! from the path) and encoding never writes it. `stream` is also in the URL (`:stream...`).
//!
//! Mapping (decoder ← / encoder →):
//! - `systemInstruction.parts` ↔ `system`. Leading IR `system`/`developer` messages join it; a
//!   system message later in the conversation becomes a `user` turn at its place (Gemini has no
//!   system role in `contents`), so it decodes back as a user message.
//! - `contents[]` (`user`/`model`) ↔ messages; consecutive IR messages with the same Gemini
//!   role are merged into one content (Gemini wants every function response of a parallel call
//!   in the one turn after the calls). Parts: see [`super::parts`].
//! - `tools[].functionDeclarations` ↔ function tools: `parametersJsonSchema` is taken as is,
//!   `parameters` through [`schema::from_gemini`]; the encoder writes `parameters` cleaned by
//!   [`schema::clean_for_gemini`]. Other `tools[]` entries (`googleSearch`, `codeExecution`,
//!   `urlContext`, ...) ↔ `Tool::Unknown`; other protocols' built-in tools are dropped.
//! - `toolConfig.functionCallingConfig`: `AUTO` ↔ Auto, `NONE` ↔ None, `ANY` ↔ Required,
//!   `ANY` + one `allowedFunctionNames` ↔ Tool(name); `VALIDATED` → Auto; `ANY` with several
//!   names → Required (the list is kept in `extra`).
//! - `generationConfig`: temperature, topP, topK, maxOutputTokens, stopSequences, seed,
//!   presencePenalty, frequencyPenalty ↔ sampling; `responseMimeType: application/json` with
//!   `responseJsonSchema` (as is) or `responseSchema` (via `from_gemini`) ↔ JsonSchema, without a
//!   schema ↔ JsonObject, `text/plain` ↔ Text (the encoder writes `responseSchema`, cleaned);
//!   `thinkingConfig`: thinkingBudget `-1` ↔ Adaptive, `0` ↔ Disabled, `n` ↔ Budget(n),
//!   thinkingLevel ↔ Effort (XHigh → `high`), includeThoughts ↔ include_thoughts (the encoder
//!   sets it when reasoning is on and the source did not say).
//! - Everything else (`safetySettings`, `cachedContent`, `labels`, unmapped generationConfig
//!   and toolConfig fields) ↔ `extra`, written back only to Gemini and never over a field the
//!   IR sets. `parallel_tool_calls`, `user_id`, `cache_key`, `include_usage` have no Gemini
//!   field and are dropped.

use serde_json::{Map, Value};

use super::parts::{decode_parts, encode_parts, CallIds, EncodeParts};
use super::schema;
use super::wire::{GeminiContent, GeminiFunctionCallingConfig, GeminiFunctionDeclaration};
use super::wire::{GeminiGenerationConfig, GeminiRequest, GeminiThinkingConfig};
use super::wire::{GeminiTool, GeminiToolConfig};
use crate::ir::{Effort, FunctionTool, Message, OutputFormat, Part, Protocol, Reasoning};
use crate::ir::{ReasoningMode, Request, Role, Sampling, Tool, ToolChoice};
use crate::TranslateError;

pub(crate) fn invalid(message: impl std::fmt::Display) -> TranslateError {
    TranslateError::InvalidBody {
        protocol: "gemini",
        message: message.to_string(),
    }
}

// ------------------------------------------------------------------------------------ decode

/// Decode a Gemini request body.
pub fn decode_request(body: &[u8]) -> Result<Request, TranslateError> {
    let wire: GeminiRequest = serde_json::from_slice(body).map_err(invalid)?;
    let mut ids = CallIds::default();
    let mut req = Request::default();
    let mut extra = wire.extra;
    if let Some(system) = wire.system_instruction {
        decode_parts(system.parts, &mut ids, &mut req.system);
    }
    for content in wire.contents {
        let role = match content.role.as_deref() {
            Some("model") | Some("assistant") => Role::Assistant,
            Some("system") => Role::System,
            _ => Role::User,
        };
        let mut parts = Vec::new();
        decode_parts(content.parts, &mut ids, &mut parts);
        req.messages.push(Message { role, parts });
    }
    for tool in wire.tools {
        decode_tool(tool, &mut req.tools);
    }
    if let Some(config) = wire.tool_config {
        let leftover = decode_tool_config(config, &mut req.tool_choice);
        if !leftover.is_empty() {
            extra.insert("toolConfig".into(), Value::Object(leftover));
        }
    }
    if let Some(config) = wire.generation_config {
        let leftover = decode_generation_config(config, &mut req);
        if !leftover.is_empty() {
            extra.insert("generationConfig".into(), Value::Object(leftover));
        }
    }
    if !extra.is_empty() {
        req.extra = Some((Protocol::Gemini, extra));
    }
    Ok(req)
}

fn decode_tool(tool: GeminiTool, out: &mut Vec<Tool>) {
    for decl in tool.function_declarations.unwrap_or_default() {
        let parameters = match (decl.parameters_json_schema, decl.parameters) {
            (Some(json_schema), _) => json_schema,
            (None, Some(openapi)) => schema::from_gemini(&openapi),
            (None, None) => serde_json::json!({"type": "object", "properties": {}}),
        };
        out.push(Tool::Function(FunctionTool {
            name: decl.name,
            description: decl.description,
            parameters,
            strict: None,
            cache_control: None,
        }));
    }
    if !tool.extra.is_empty() {
        out.push(Tool::Unknown {
            protocol: Protocol::Gemini,
            value: Value::Object(tool.extra),
        });
    }
}

fn decode_tool_config(
    config: GeminiToolConfig,
    choice: &mut Option<ToolChoice>,
) -> Map<String, Value> {
    let mut leftover = config.extra;
    let Some(fcc) = config.function_calling_config else {
        return leftover;
    };
    let mut names = fcc.allowed_function_names.clone().unwrap_or_default();
    *choice = match fcc.mode.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("NONE") => Some(ToolChoice::None),
        Some("ANY") if names.len() == 1 => names.pop().map(ToolChoice::Tool),
        Some("ANY") => Some(ToolChoice::Required),
        Some("AUTO") | Some("VALIDATED") => Some(ToolChoice::Auto),
        _ => None,
    };
    let mut kept = fcc.extra;
    if fcc
        .allowed_function_names
        .as_ref()
        .is_some_and(|n| n.len() > 1)
    {
        kept.insert(
            "allowedFunctionNames".into(),
            serde_json::to_value(fcc.allowed_function_names).unwrap_or(Value::Null),
        );
    }
    if !kept.is_empty() {
        leftover.insert("functionCallingConfig".into(), Value::Object(kept));
    }
    leftover
}

fn decode_generation_config(
    config: GeminiGenerationConfig,
    req: &mut Request,
) -> Map<String, Value> {
    let mut leftover = config.extra;
    req.sampling = Sampling {
        temperature: config.temperature,
        top_p: config.top_p,
        top_k: config.top_k.as_ref().and_then(|k| {
            k.as_u64()
                .or_else(|| k.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        }),
        max_tokens: config.max_output_tokens,
        stop: config.stop_sequences.unwrap_or_default(),
        seed: config.seed,
        presence_penalty: config.presence_penalty,
        frequency_penalty: config.frequency_penalty,
    };
    let schema = match (config.response_json_schema, config.response_schema) {
        (Some(json_schema), _) => Some(json_schema),
        (None, Some(openapi)) => Some(schema::from_gemini(&openapi)),
        (None, None) => None,
    };
    let mime = config.response_mime_type;
    req.output_format = match (mime.as_deref(), schema) {
        (Some("application/json"), Some(schema)) => Some(OutputFormat::JsonSchema {
            name: None,
            schema,
            strict: None,
        }),
        (Some("application/json"), None) => Some(OutputFormat::JsonObject),
        (Some("text/plain"), None) => Some(OutputFormat::Text),
        (mime, schema) => {
            if let Some(mime) = mime {
                leftover.insert("responseMimeType".into(), Value::String(mime.to_string()));
            }
            if let Some(schema) = schema {
                leftover.insert("responseJsonSchema".into(), schema);
            }
            None
        }
    };
    if let Some(thinking) = config.thinking_config {
        req.reasoning = Some(decode_thinking(thinking));
    }
    leftover
}

fn decode_thinking(t: GeminiThinkingConfig) -> Reasoning {
    let level = t.thinking_level.as_deref().map(str::to_ascii_lowercase);
    let mode = match (t.thinking_budget, level.as_deref()) {
        (Some(-1), _) => ReasoningMode::Adaptive,
        (Some(0), _) => ReasoningMode::Disabled,
        (Some(n), _) if n > 0 => ReasoningMode::Budget(n.unsigned_abs()),
        (_, Some("minimal")) => ReasoningMode::Effort(Effort::Minimal),
        (_, Some("low")) => ReasoningMode::Effort(Effort::Low),
        (_, Some("medium")) => ReasoningMode::Effort(Effort::Medium),
        (_, Some("high")) => ReasoningMode::Effort(Effort::High),
        _ => ReasoningMode::Default,
    };
    Reasoning {
        mode,
        include_thoughts: t.include_thoughts,
        summary: None,
    }
}

// ------------------------------------------------------------------------------------ encode

/// Encode a request for Gemini (body only; the caller puts the model in the URL).
pub fn encode_request(req: &Request) -> Result<Vec<u8>, TranslateError> {
    let call_names: Vec<(String, String)> = req
        .messages
        .iter()
        .flat_map(|m| m.parts.iter())
        .filter_map(|p| match p {
            Part::ToolCall(c) => Some((c.id.clone(), c.name.clone())),
            _ => None,
        })
        .collect();
    let mut wire = GeminiRequest::default();

    let leading = req
        .messages
        .iter()
        .take_while(|m| matches!(m.role, Role::System | Role::Developer))
        .count();
    let system: Vec<Part> = req
        .system
        .iter()
        .chain(req.messages[..leading].iter().flat_map(|m| m.parts.iter()))
        .cloned()
        .collect();
    let text_only = EncodeParts {
        dummy_signatures: false,
        call_names: &call_names,
    };
    let system_parts = encode_parts(&system, &text_only);
    if !system_parts.is_empty() {
        wire.system_instruction = Some(GeminiContent {
            role: None,
            parts: system_parts,
            extra: Map::new(),
        });
    }
    let opts = EncodeParts {
        dummy_signatures: true,
        call_names: &call_names,
    };
    for message in &req.messages[leading..] {
        let role = match message.role {
            Role::Assistant => "model",
            Role::User | Role::System | Role::Developer => "user",
        };
        let parts = encode_parts(&message.parts, &opts);
        match wire.contents.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
            _ => wire.contents.push(GeminiContent {
                role: Some(role.to_string()),
                parts,
                extra: Map::new(),
            }),
        }
    }
    wire.tools = encode_tools(&req.tools);
    wire.tool_config = req.tool_choice.as_ref().map(encode_tool_choice);
    wire.generation_config = encode_generation_config(req);

    match &req.extra {
        Some((Protocol::Gemini, extra)) if !extra.is_empty() => {
            let mut value = serde_json::to_value(&wire).map_err(invalid)?;
            if let Value::Object(obj) = &mut value {
                merge_missing(obj, extra);
            }
            serde_json::to_vec(&value).map_err(invalid)
        }
        _ => serde_json::to_vec(&wire).map_err(invalid),
    }
}

/// Add the keys of `extra` that `target` lacks, recursing into objects both have.
fn merge_missing(target: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (key, value) in extra {
        match (target.get_mut(key), value) {
            (Some(Value::Object(t)), Value::Object(e)) => merge_missing(t, e),
            (Some(_), _) => {}
            (None, v) => {
                target.insert(key.clone(), v.clone());
            }
        }
    }
}

fn encode_tools(tools: &[Tool]) -> Vec<GeminiTool> {
    let declarations: Vec<GeminiFunctionDeclaration> = tools
        .iter()
        .filter_map(|t| match t {
            Tool::Function(f) => Some(GeminiFunctionDeclaration {
                name: f.name.clone(),
                description: f.description.clone(),
                parameters: Some(schema::clean_for_gemini(&f.parameters)),
                ..GeminiFunctionDeclaration::default()
            }),
            Tool::Unknown { .. } => None,
        })
        .collect();
    let mut out = Vec::new();
    if !declarations.is_empty() {
        out.push(GeminiTool {
            function_declarations: Some(declarations),
            extra: Map::new(),
        });
    }
    for tool in tools {
        if let Tool::Unknown {
            protocol: Protocol::Gemini,
            value: Value::Object(obj),
        } = tool
        {
            out.push(GeminiTool {
                function_declarations: None,
                extra: obj.clone(),
            });
        }
    }
    out
}

fn encode_tool_choice(choice: &ToolChoice) -> GeminiToolConfig {
    let (mode, names) = match choice {
        ToolChoice::Auto => ("AUTO", None),
        ToolChoice::None => ("NONE", None),
        ToolChoice::Required => ("ANY", None),
        ToolChoice::Tool(name) => ("ANY", Some(vec![name.clone()])),
    };
    GeminiToolConfig {
        function_calling_config: Some(GeminiFunctionCallingConfig {
            mode: Some(mode.to_string()),
            allowed_function_names: names,
            extra: Map::new(),
        }),
        extra: Map::new(),
    }
}

fn encode_generation_config(req: &Request) -> Option<GeminiGenerationConfig> {
    let s = &req.sampling;
    let mut config = GeminiGenerationConfig {
        temperature: s.temperature,
        top_p: s.top_p,
        top_k: s.top_k.map(Value::from),
        max_output_tokens: s.max_tokens,
        stop_sequences: (!s.stop.is_empty()).then(|| s.stop.clone()),
        seed: s.seed,
        presence_penalty: s.presence_penalty,
        frequency_penalty: s.frequency_penalty,
        ..GeminiGenerationConfig::default()
    };
    match &req.output_format {
        Some(OutputFormat::Text) => config.response_mime_type = Some("text/plain".into()),
        Some(OutputFormat::JsonObject) => {
            config.response_mime_type = Some("application/json".into())
        }
        Some(OutputFormat::JsonSchema { schema, .. }) => {
            config.response_mime_type = Some("application/json".into());
            config.response_schema = Some(schema::clean_for_gemini(schema));
        }
        None => {}
    }
    config.thinking_config = req.reasoning.as_ref().and_then(encode_thinking);
    (config != GeminiGenerationConfig::default()).then_some(config)
}

fn encode_thinking(r: &Reasoning) -> Option<GeminiThinkingConfig> {
    let mut t = GeminiThinkingConfig::default();
    match r.mode {
        ReasoningMode::Default => {}
        ReasoningMode::Disabled => t.thinking_budget = Some(0),
        ReasoningMode::Adaptive => t.thinking_budget = Some(-1),
        ReasoningMode::Budget(n) => t.thinking_budget = Some(i64::try_from(n).unwrap_or(i64::MAX)),
        ReasoningMode::Effort(e) => {
            let level = match e {
                Effort::Minimal => "minimal",
                Effort::Low => "low",
                Effort::Medium => "medium",
                Effort::High | Effort::XHigh => "high",
            };
            t.thinking_level = Some(level.to_string());
        }
    }
    let enabled = !matches!(r.mode, ReasoningMode::Default | ReasoningMode::Disabled);
    t.include_thoughts = r.include_thoughts.or(enabled.then_some(true));
    (t != GeminiThinkingConfig::default()).then_some(t)
}
