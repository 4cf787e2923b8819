//! What must survive when a client's request is translated for an upstream of another
//! protocol: the conversation (role and text, whitespace-insensitive), tool calls (id, name,
//! argument JSON), tool results (call id, error flag, text), images, tool definitions,
//! `tool_choice`, and the sampling settings every protocol has.
//!
//! Exceptions (what the upstream protocol cannot express), applied by
//! [`RequestSummary::as_sent_to`]:
//! - a `system` / `developer` message after the first turn: Gemini has no system role inside
//!   the conversation; its encoder puts it at its place as a `user` turn. (Anthropic keeps it:
//!   Claude Code sends such turns itself.)
//! - Gemini has no tool call ids (its decoder makes deterministic ones) and no error flag on a
//!   function response: ids and `is_error` are not compared for it.
//! - OpenAI Chat tool messages and Responses `function_call_output` items have no error flag
//!   (the text is kept): `is_error` is not compared for them.
//! - Responses has no stop sequences.
//! - `tool_choice` without any function tool is dropped (OpenAI rejects it; it means nothing).
//! - Anthropic needs a user turn first: a conversation without one gets a placeholder user
//!   turn (`Continue.`) from the Anthropic encoder.
//! - the reasoning mode is `reasoning::for_target` of the client's (the level/budget table);
//!   for Anthropic, none when the assistant turn of an ongoing tool loop does not start with
//!   signed Claude thinking (the API would reject thinking then; OpenAI reasoning items are
//!   not sent to Claude).
//! - the model name is compared when the source had one and the target carries it in the body
//!   (Gemini's is in the URL).

use serde_json::Value;
use switchyard_translators::ir::{
    OutputFormat, Part, Protocol, ReasoningMode, Request, Role, ToolChoice,
};
use switchyard_translators::reasoning::for_target;

#[derive(Debug, Clone, PartialEq)]
pub struct RequestSummary {
    pub model: String,
    /// (role, text without whitespace), consecutive turns of the same role merged.
    pub conversation: Vec<(&'static str, String)>,
    pub tool_calls: Vec<(String, String, Value)>,
    pub tool_results: Vec<(String, bool, String)>,
    pub images: usize,
    pub tools: Vec<String>,
    pub tool_choice: Option<ToolChoice>,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub stop: Vec<String>,
    /// Reasoning mode; what the upstream gets is `reasoning::for_target` of the client's.
    pub reasoning: ReasoningMode,
    /// `text`, `json_object` or `json_schema:<name>`.
    pub output_format: Option<String>,
    pub stream: bool,
    /// The last assistant turn called tools, a tool result follows it, and it does not start
    /// with signed Claude thinking (used by `as_sent_to(Anthropic)`, then cleared).
    pub unsigned_tool_loop: bool,
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn text_of(parts: &[Part]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text { text, .. } => Some(squash(text)),
            _ => None,
        })
        .collect()
}

/// See [`RequestSummary::unsigned_tool_loop`].
fn unsigned_tool_loop(r: &Request) -> bool {
    let Some(at) = r.messages.iter().rposition(|m| m.role == Role::Assistant) else {
        return false;
    };
    let turn = &r.messages[at].parts;
    let calls = turn.iter().any(|p| matches!(p, Part::ToolCall(_)));
    let answered = r.messages[at + 1..]
        .iter()
        .any(|m| m.parts.iter().any(|p| matches!(p, Part::ToolResult(_))));
    let signed = matches!(
        turn.first(),
        Some(
            Part::Thinking {
                signature: Some(_),
                ..
            } | Part::RedactedThinking { .. }
        )
    );
    calls && answered && !signed
}

impl RequestSummary {
    pub fn of(r: &Request) -> Self {
        let mut s = RequestSummary {
            model: r.model.clone(),
            conversation: Vec::new(),
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
            images: 0,
            tools: Vec::new(),
            tool_choice: r.tool_choice.clone(),
            max_tokens: r.sampling.max_tokens,
            temperature: r.sampling.temperature,
            stop: r.sampling.stop.clone(),
            reasoning: r.reasoning.as_ref().map(|x| x.mode).unwrap_or_default(),
            unsigned_tool_loop: unsigned_tool_loop(r),
            output_format: r.output_format.as_ref().map(|f| match f {
                OutputFormat::Text => "text".to_string(),
                OutputFormat::JsonObject => "json_object".to_string(),
                OutputFormat::JsonSchema { .. } => "json_schema".to_string(),
            }),
            stream: r.stream,
        };
        let mut push = |role: &'static str, text: String| {
            if text.is_empty() {
                return;
            }
            match s.conversation.last_mut() {
                Some((r, t)) if *r == role => t.push_str(&text),
                _ => s.conversation.push((role, text)),
            }
        };
        push("system", text_of(&r.system));
        for m in &r.messages {
            let role = match m.role {
                Role::System | Role::Developer => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            push(role, text_of(&m.parts));
        }
        for m in &r.messages {
            for p in &m.parts {
                match p {
                    Part::ToolCall(c) => {
                        let args = if c.arguments.trim().is_empty() {
                            Value::Object(Default::default())
                        } else {
                            serde_json::from_str(&c.arguments)
                                .unwrap_or_else(|_| Value::String(c.arguments.clone()))
                        };
                        s.tool_calls.push((c.id.clone(), c.name.clone(), args));
                    }
                    Part::ToolResult(t) => {
                        s.tool_results
                            .push((t.call_id.clone(), t.is_error, text_of(&t.content)));
                        s.images += t
                            .content
                            .iter()
                            .filter(|p| matches!(p, Part::Image(_)))
                            .count();
                    }
                    Part::Image(_) => s.images += 1,
                    _ => {}
                }
            }
        }
        s.tools = r
            .tools
            .iter()
            .filter_map(|t| match t {
                switchyard_translators::ir::Tool::Function(f) => Some(f.name.clone()),
                switchyard_translators::ir::Tool::Unknown { .. } => None,
            })
            .collect();
        s
    }

    /// What an upstream of `target` can receive of `self` (the exceptions in the module docs).
    pub fn as_sent_to(&self, target: Protocol) -> Self {
        let mut s = self.clone();
        if target == Protocol::Gemini {
            // Only a leading system turn stays a system prompt.
            let mut conv: Vec<(&'static str, String)> = Vec::new();
            for (i, (role, text)) in s.conversation.iter().enumerate() {
                let role = if *role == "system" && i > 0 {
                    "user"
                } else {
                    *role
                };
                match conv.last_mut() {
                    Some((r, t)) if *r == role => t.push_str(text),
                    _ => conv.push((role, text.clone())),
                }
            }
            s.conversation = conv;
        }
        if target == Protocol::Anthropic {
            // The Messages API wants a user turn first: the encoder opens with a placeholder.
            let at = s.conversation.iter().position(|(r, _)| *r != "system");
            if at.is_none_or(|i| s.conversation[i].0 != "user") {
                let at = at.unwrap_or(s.conversation.len());
                s.conversation.insert(at, ("user", "Continue.".into()));
            }
        }
        s.reasoning = for_target(s.reasoning, target);
        if target == Protocol::Anthropic && s.unsigned_tool_loop {
            s.reasoning = ReasoningMode::Default;
        }
        s.normalized_for(target)
    }

    /// The normalisation both sides get.
    pub fn normalized_for(&self, target: Protocol) -> Self {
        let mut s = self.clone();
        s.unsigned_tool_loop = false;
        if s.tools.is_empty() {
            s.tool_choice = None;
        }
        if matches!(target, Protocol::OpenAiChat | Protocol::OpenAiResponses) {
            for t in &mut s.tool_results {
                t.1 = false;
            }
        }
        if target == Protocol::OpenAiResponses {
            s.stop.clear();
        }
        if target == Protocol::Gemini {
            // Gemini has the model and streaming in the URL, not the body.
            s.model.clear();
            s.stream = false;
            for c in &mut s.tool_calls {
                c.0.clear();
            }
            for t in &mut s.tool_results {
                t.0.clear();
                t.1 = false;
            }
        }
        s
    }
}
