//! OpenAI Chat Completions wire types: requests, whole responses, stream chunks and error
//! bodies, as typed serde structs.
//!
//! Pure data. Top-level objects keep unknown fields in `extra`, open-ended enums (content
//! parts, tools) fall back to `Unknown(Value)` (for the hot-path types the `Deserialize` that
//! does this is hand-written in `wire_de.rs`, as derived `flatten`/`untagged` buffer the whole
//! body), and nothing uses
//! `deny_unknown_fields`: a field or part type OpenAI adds tomorrow is carried or dropped on
//! purpose, never a failed request. Fields OpenAI-compatible providers add (DeepSeek and Moonshot
//! `reasoning_content`, Groq `reasoning`, DeepSeek `prompt_cache_hit_tokens`) are modelled next
//! to the official ones.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

// ----------------------------------------------------------------------------------- requests

/// `POST /v1/chat/completions` body. `Deserialize` is written by hand (`wire_de.rs`): a
/// derived `flatten` tail would buffer the whole body before reading it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenAiChatRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub messages: Vec<OpenAiChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<OpenAiChatTool>>,
    /// `"auto" | "none" | "required" | {"type":"function","function":{"name"}}`; parsed by
    /// hand so a shape the IR does not know (`allowed_tools`) stays in `extra`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<OpenAiChatResponseFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// `{effort, max_tokens, enabled, exclude}`: OpenRouter and a few compatible providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<OpenAiChatReasoning>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Not OpenAI's; vLLM, DashScope and others accept it. Read, never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<OpenAiChatStop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<OpenAiChatStreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenAiChatStreamOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenAiChatReasoning {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `stop`: one string or several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OpenAiChatStop {
    One(String),
    Many(Vec<String>),
}

/// One message of `messages` (and a response's `message`); every role shares the struct.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenAiChatMessage {
    pub role: String,
    /// A string, an array of parts, or `null` (assistant with tool calls). Serialised as
    /// `null` when `None` only for assistants (see `request.rs`).
    #[serde(default, skip_serializing_if = "OpenAiChatContent::is_absent")]
    pub content: OpenAiChatContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Groq's spelling of `reasoning_content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<OpenAiChatToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Legacy `function` role / participant names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    // No `flatten` tail: a message's other fields (`audio`, `annotations`, participant names of
    // non-function roles) have no IR place, and buffering every field of every message would
    // cost a large request (Claude Code sends ~76 KB) most of its decode time.
}

/// Message content: absent, `null`, a string or parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum OpenAiChatContent {
    #[default]
    Absent,
    Null,
    Text(String),
    Parts(Vec<OpenAiChatPart>),
}

impl OpenAiChatContent {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }
}

impl Serialize for OpenAiChatContent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent | Self::Null => s.serialize_none(),
            Self::Text(t) => s.serialize_str(t),
            Self::Parts(p) => p.serialize(s),
        }
    }
}

/// A content part; unknown types (and known ones missing a field) are kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OpenAiChatPart {
    Known(OpenAiChatKnownPart),
    Unknown(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpenAiChatKnownPart {
    Text {
        text: String,
        /// Not OpenAI's: OpenRouter and LiteLLM accept Anthropic's marker here. Read only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    ImageUrl {
        image_url: OpenAiChatImageUrl,
    },
    File {
        file: OpenAiChatFile,
    },
    /// Assistant history only.
    Refusal {
        refusal: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatImageUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatFile {
    /// A data URL (`data:application/pdf;base64,...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenAiChatToolCall {
    pub id: String,
    /// `function`, or `custom` (whose payload stays in `extra`).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<OpenAiChatFunctionCall>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatFunctionCall {
    #[serde(default)]
    pub name: String,
    /// JSON text; a few providers send an object, which is re-serialised.
    #[serde(default)]
    pub arguments: Value,
}

/// A tool definition; non-function tools (`custom`, provider built-ins) stay verbatim.
/// Serialised as `{"type":"function","function":{...}}`; both directions in `wire_de.rs`.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenAiChatTool {
    Function(OpenAiChatFunctionDef),
    Unknown(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatFunctionDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpenAiChatResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: OpenAiChatJsonSchema },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatJsonSchema {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// ---------------------------------------------------------------------------------- responses

/// A whole `chat.completion` (`Deserialize` by hand in `wire_de.rs`, as for the request).
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenAiChatResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub choices: Vec<OpenAiChatChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<OpenAiChatUsage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenAiChatChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub message: OpenAiChatMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// `usage`, in responses and in the final stream chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<OpenAiChatPromptDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<OpenAiChatCompletionDetails>,
    /// DeepSeek's cache-hit count (also in `prompt_tokens_details.cached_tokens` lately).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_hit_tokens: Option<u64>,
    /// Moonshot's spelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatPromptDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChatCompletionDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ------------------------------------------------------------------------------------ streams

/// One `chat.completion.chunk` (or the usage-only chunk with `choices: []`, or an in-stream
/// `{"error":{...}}`). Decode-only and on the per-chunk hot path: no `flatten` tail (it makes
/// serde buffer every field); unknown fields are skipped, nothing is re-emitted from it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenAiChatChunk {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub choices: Vec<OpenAiChatChunkChoice>,
    #[serde(default)]
    pub usage: Option<OpenAiChatUsage>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenAiChatChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: OpenAiChatDelta,
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Moonshot puts usage inside the choice on some models.
    #[serde(default)]
    pub usage: Option<OpenAiChatUsage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenAiChatDelta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<OpenAiChatToolCallDelta>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenAiChatToolCallDelta {
    #[serde(default)]
    pub index: Option<usize>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<OpenAiChatFunctionDelta>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OpenAiChatFunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<Value>,
}

// ------------------------------------------------------------------------------------- errors

/// `{"error": {...}}`, as a body and as an in-stream chunk.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenAiChatErrorBody {
    pub error: OpenAiChatError,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenAiChatError {
    #[serde(default)]
    pub message: Value,
    #[serde(rename = "type", default)]
    pub kind: Value,
    #[serde(default)]
    pub param: Value,
    /// A string for OpenAI, a number for OpenRouter.
    #[serde(default)]
    pub code: Value,
    /// Groq's in-stream errors carry the HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
