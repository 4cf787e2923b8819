//! The intermediate representation every protocol decodes into and encodes out of.
//!
//! Pure data. Rich enough to carry what coding clients depend on across protocols: thinking
//! with signatures, redacted thinking, encrypted reasoning items, Gemini thought signatures,
//! cache-control markers, tool call ids, images and documents, usage with cache and reasoning
//! tokens. What one protocol has and the IR does not model is kept as `Unknown` (blocks, tools)
//! or in `extra` (top-level fields) so an encoder of the same family can put it back and others
//! can drop it on purpose.
//!
//! Conventions (one table each, here and nowhere else):
//! - **Usage:** `input_tokens` counts *all* input, cached or not (OpenAI's and Gemini's
//!   meaning). Anthropic reports `input_tokens` without cache reads and writes, so its decoder
//!   adds `cache_read_input_tokens` and `cache_creation_input_tokens`, and its encoder
//!   subtracts them. `output_tokens` includes reasoning tokens (OpenAI's meaning; Gemini's
//!   decoder adds `thoughtsTokenCount`).
//! - **System prompts:** instructions that precede the conversation are [`Request::system`]
//!   (Anthropic `system`, Gemini `systemInstruction`, Responses `instructions`, leading OpenAI
//!   `system`/`developer` messages). A system message *inside* the conversation (Claude Code
//!   sends one) stays a [`Message`] with [`Role::System`] at its position.
//! - **Tool results** are [`Part::ToolResult`] inside a [`Role::User`] message, as Anthropic
//!   and Gemini have them; OpenAI encoders turn them into `tool` messages / output items.
//! - **Tool call arguments** are JSON text, streamed as fragments; never re-parsed mid-stream.

use serde_json::{Map, Value};

/// The four wire protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    OpenAiChat,
    OpenAiResponses,
    Anthropic,
    Gemini,
}

// ----------------------------------------------------------------------------------- requests

/// A generation request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    pub model: String,
    /// Instructions before the conversation (see module docs).
    pub system: Vec<Part>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub sampling: Sampling,
    pub output_format: Option<OutputFormat>,
    pub reasoning: Option<Reasoning>,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`; other protocols always send usage.
    pub include_usage: bool,
    /// Anthropic `metadata.user_id`, OpenAI `user` / `safety_identifier`.
    pub user_id: Option<String>,
    /// OpenAI `prompt_cache_key` and friends: cache routing hints.
    pub cache_key: Option<String>,
    /// Top-level fields of the source protocol the IR does not model, with the protocol they
    /// came from. Encoders of the same protocol put them back; others drop them.
    pub extra: Option<(Protocol, Map<String, Value>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub parts: Vec<Part>,
}

/// Anthropic's `cache_control` object, kept verbatim (`{"type":"ephemeral","ttl":"1h"}`).
#[derive(Debug, Clone, PartialEq)]
pub struct CacheControl(pub Value);

/// One piece of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text {
        text: String,
        cache_control: Option<CacheControl>,
    },
    Image(Media),
    /// PDFs and other documents.
    Document(Media),
    /// Visible reasoning: Claude `thinking` (with `signature`), Gemini `thought: true` parts
    /// (signature = `thoughtSignature`), OpenAI reasoning summaries.
    Thinking {
        text: String,
        signature: Option<String>,
    },
    /// Claude `redacted_thinking`: opaque, must be sent back as is.
    RedactedThinking {
        data: String,
    },
    /// OpenAI Responses reasoning item: id, summaries and `encrypted_content`.
    Reasoning(ReasoningItem),
    ToolCall(ToolCall),
    ToolResult(ToolResult),
    /// A block the IR does not model (server tool use, citations, MCP, ...), verbatim.
    Unknown {
        protocol: Protocol,
        value: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub source: MediaSource,
    pub cache_control: Option<CacheControl>,
    /// Document title or file name, where the protocol has one.
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MediaSource {
    /// Inline bytes, base64 (data URLs are split into this).
    Base64 { media_type: String, data: String },
    /// A URL the provider fetches itself.
    Url {
        url: String,
        media_type: Option<String>,
    },
    /// A provider-side file: Gemini `fileData.fileUri`, OpenAI `file_id`, Anthropic `file_id`.
    File {
        id: String,
        media_type: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReasoningItem {
    pub id: Option<String>,
    pub summary: Vec<String>,
    pub encrypted_content: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// Kept consistent across a response and the next turn's tool result. Gemini has no ids:
    /// its decoder makes deterministic ones from the function name and position.
    pub id: String,
    pub name: String,
    /// JSON text of the arguments (`"{}"` when there are none).
    pub arguments: String,
    /// Gemini `thoughtSignature` attached to a function call part.
    pub signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub call_id: String,
    /// Gemini's `functionResponse.name` needs the function name; decoders fill it when known.
    pub name: Option<String>,
    /// Text, images or both.
    pub content: Vec<Part>,
    pub is_error: bool,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq)]
pub enum Tool {
    Function(FunctionTool),
    /// Provider built-in tools (web search, code execution, ...), verbatim.
    Unknown {
        protocol: Protocol,
        value: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments (`{"type":"object","properties":{}}` when none).
    pub parameters: Value,
    pub strict: Option<bool>,
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    None,
    /// Must call some tool (OpenAI `required`, Anthropic `any`, Gemini mode `ANY`).
    Required,
    /// Must call this tool.
    Tool(String),
}

/// Sampling settings; `None` means "the provider's default".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sampling {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    /// Every spelling: `max_tokens`, `max_completion_tokens`, `max_output_tokens`,
    /// `maxOutputTokens`.
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutputFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: Option<String>,
        schema: Value,
        strict: Option<bool>,
    },
}

/// Reasoning settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reasoning {
    pub mode: ReasoningMode,
    /// Gemini `includeThoughts`; Claude always returns thinking when enabled.
    pub include_thoughts: Option<bool>,
    /// OpenAI `reasoning.summary` (`auto`, `concise`, `detailed`).
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReasoningMode {
    /// Not specified: the provider's default.
    #[default]
    Default,
    Disabled,
    /// The model decides (Claude `adaptive`, Gemini budget `-1`).
    Adaptive,
    /// A token budget (Claude `budget_tokens`, Gemini `thinkingBudget`).
    Budget(u64),
    /// A level (OpenAI `reasoning.effort`, Gemini 3 `thinkingLevel`).
    Effort(Effort),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
}

// ---------------------------------------------------------------------------------- responses

/// A whole (non-stream) response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub id: String,
    pub model: String,
    pub parts: Vec<Part>,
    pub stop: StopReason,
    pub usage: Usage,
}

/// Why generation stopped. Mapping table (decoder ← / encoder →):
///
/// | IR | Anthropic | OpenAI Chat | Responses | Gemini |
/// | --- | --- | --- | --- | --- |
/// | EndTurn | end_turn | stop | completed | STOP |
/// | MaxTokens | max_tokens | length | incomplete: max_output_tokens | MAX_TOKENS |
/// | StopSequence | stop_sequence | stop | completed | STOP |
/// | ToolUse | tool_use | tool_calls | completed (function_call items) | STOP (with functionCall) |
/// | ContentFilter | refusal | content_filter | incomplete: content_filter | SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII |
/// | PauseTurn | pause_turn | stop | completed | STOP |
/// | Other | end_turn | stop | completed | OTHER, anything else |
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence(Option<String>),
    ToolUse,
    ContentFilter,
    PauseTurn,
    Other(String),
}

/// Token usage (see the module docs for what each count includes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

// ------------------------------------------------------------------------------------ streams

/// One event of a response stream, in the order a client parser needs them:
/// `Start`, then per block `BlockStart` → `Delta`* → `BlockStop` (blocks may interleave only
/// by index), `Usage`* anywhere after `Start`, `Finish`, `End`. An `Error` may come at any
/// point and ends the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Ids and model come from the upstream's first event, never placeholders.
    Start {
        id: String,
        model: String,
    },
    BlockStart {
        index: usize,
        block: BlockStart,
    },
    Delta {
        index: usize,
        delta: Delta,
    },
    BlockStop {
        index: usize,
    },
    /// Cumulative usage so far (replaces earlier values).
    Usage(Usage),
    Finish {
        stop: StopReason,
    },
    Error(StreamError),
    /// The upstream stream ended cleanly.
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockStart {
    Text,
    Thinking,
    RedactedThinking {
        data: String,
    },
    /// OpenAI reasoning item (its summary streams as `Delta::Thinking`).
    Reasoning {
        id: Option<String>,
    },
    ToolCall {
        id: String,
        name: String,
    },
    Unknown {
        protocol: Protocol,
        value: Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    Text(String),
    Thinking(String),
    /// Claude `signature_delta`, Gemini `thoughtSignature`.
    Signature(String),
    /// A fragment of tool call arguments (JSON text), forwarded as it arrives.
    ToolArguments(String),
    /// OpenAI `encrypted_content` of a reasoning item.
    EncryptedReasoning(String),
}

/// An upstream error, before or during a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// HTTP status, when the error came as one (or the status a client should see).
    pub status: Option<u16>,
    pub kind: ErrorKind,
    pub message: String,
}

/// Error classes. Mapping table:
///
/// | IR | HTTP | Anthropic `error.type` | OpenAI `type` / code | Gemini `status` |
/// | --- | --- | --- | --- | --- |
/// | InvalidRequest | 400 | invalid_request_error | invalid_request_error | INVALID_ARGUMENT |
/// | Authentication | 401 | authentication_error | authentication_error / invalid_api_key | UNAUTHENTICATED |
/// | Permission | 403 | permission_error | permission_error | PERMISSION_DENIED |
/// | NotFound | 404 | not_found_error | invalid_request_error / model_not_found | NOT_FOUND |
/// | RateLimit | 429 | rate_limit_error | rate_limit_error / rate_limit_exceeded | RESOURCE_EXHAUSTED |
/// | Overloaded | 529 (503 for non-Anthropic) | overloaded_error | server_error / server_is_overloaded | UNAVAILABLE |
/// | Server | 500 | api_error | server_error | INTERNAL |
/// | Timeout | 504 | timeout_error (`api_error` with 504 also decodes as Timeout) | server_error / timeout | DEADLINE_EXCEEDED |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    RateLimit,
    Overloaded,
    Server,
    Timeout,
}

/// What encoders need from outside: a clock and id generation, passed in so output is
/// deterministic (tests fix both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeContext {
    /// Unix seconds, for OpenAI `created` / `created_at`.
    pub created: i64,
    /// Unique per request; ids an encoder must invent are `<prefix>_<seed><counter>`.
    pub id_seed: String,
    counter: u64,
}

impl EncodeContext {
    pub fn new(created: i64, id_seed: impl Into<String>) -> Self {
        Self {
            created,
            id_seed: id_seed.into(),
            counter: 0,
        }
    }

    /// A fresh id such as `call_abc1`.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{}{}", self.id_seed, self.counter)
    }
}
