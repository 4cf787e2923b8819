//! OpenAI Responses wire types: requests, response objects, output/input items, content parts
//! and stream events, as typed serde structs.
//!
//! Pure data. Top-level objects keep a `#[serde(flatten)] extra` tail so fields we do not model
//! pass through; open-ended enums (items, content parts, stream events) fall back to an
//! `Unknown(Value)` arm instead of failing the whole body. Items and parts are dispatched on
//! their `type` by hand (a message item may omit `type`), and a known `type` whose fields do
//! not parse also lands in `Unknown`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

fn is_false(b: &bool) -> bool {
    !*b
}

// ----------------------------------------------------------------------------------- requests

/// `POST /v1/responses` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResponsesRequest {
    #[serde(default)]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<ResponsesInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<ResponsesInput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ResponsesTool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ResponsesTextConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ResponsesReasoningConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub stream: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input` (and `instructions`): a plain string or a list of items.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesInput {
    Text(String),
    Items(Vec<ResponsesItem>),
}

/// A tool definition. Function tools are flat (`{type, name, description, parameters,
/// strict}`); built-ins (`web_search`, `file_search`, `custom`, `local_shell`, ...) are kept
/// verbatim.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ResponsesTool {
    Function(ResponsesFunctionTool),
    Unknown(Value),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponsesFunctionTool {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl<'de> Deserialize<'de> for ResponsesTool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if v.get("type").and_then(Value::as_str) == Some("function") {
            if let Ok(f) = ResponsesFunctionTool::deserialize(&v) {
                return Ok(Self::Function(f));
            }
        }
        Ok(Self::Unknown(v))
    }
}

/// `text`: output format plus passthrough (`verbosity`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResponsesTextConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `{type: text | json_object | json_schema, name, schema, strict}`; other types are
    /// kept as they are.
    pub format: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `reasoning`: `{effort, summary}` plus passthrough (`generate_summary`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResponsesReasoningConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// -------------------------------------------------------------------------------------- items

/// An input or output item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponsesItem {
    Message(ResponsesMessage),
    FunctionCall(ResponsesFunctionCall),
    FunctionCallOutput(ResponsesFunctionCallOutput),
    Reasoning(ResponsesReasoning),
    Unknown(Value),
}

impl<'de> Deserialize<'de> for ResponsesItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let kind = v.get("type").and_then(Value::as_str);
        let parsed = match kind {
            Some("message") => ResponsesMessage::deserialize(&v).map(Self::Message).ok(),
            None if v.get("role").is_some() => {
                ResponsesMessage::deserialize(&v).map(Self::Message).ok()
            }
            Some("function_call") => ResponsesFunctionCall::deserialize(&v)
                .map(Self::FunctionCall)
                .ok(),
            Some("function_call_output") => ResponsesFunctionCallOutput::deserialize(&v)
                .map(Self::FunctionCallOutput)
                .ok(),
            Some("reasoning") => ResponsesReasoning::deserialize(&v)
                .map(Self::Reasoning)
                .ok(),
            _ => None,
        };
        Ok(parsed.unwrap_or(Self::Unknown(v)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub role: String,
    pub content: ResponsesContent,
}

/// Message content: a string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesContent {
    Text(String),
    Parts(Vec<ResponsesPart>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFunctionCall {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default)]
    pub arguments: String,
    pub call_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFunctionCallOutput {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub call_id: String,
    pub output: ResponsesContent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesReasoning {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub summary: Vec<ResponsesSummaryPart>,
    /// Raw reasoning text (`reasoning_text` parts; open-weight models and some providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ResponsesSummaryPart>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl ResponsesReasoning {
    /// The visible reasoning: the summary parts, else the raw reasoning text parts.
    pub fn texts(self) -> Vec<String> {
        let parts = if self.summary.is_empty() {
            self.content.unwrap_or_default()
        } else {
            self.summary
        };
        parts.into_iter().map(|p| p.text).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesSummaryPart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
}

// ------------------------------------------------------------------------------ content parts

/// One content part of a message (or of a `function_call_output`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponsesPart {
    /// `input_text`, `output_text` (with `annotations`) and `refusal` (text in `refusal`).
    Text(ResponsesTextPart),
    Image(ResponsesImagePart),
    File(ResponsesFilePart),
    Unknown(Value),
}

impl<'de> Deserialize<'de> for ResponsesPart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let parsed = match v.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "refusal") => {
                ResponsesTextPart::deserialize(&v).map(Self::Text).ok()
            }
            Some("input_image") => ResponsesImagePart::deserialize(&v).map(Self::Image).ok(),
            Some("input_file") => ResponsesFilePart::deserialize(&v).map(Self::File).ok(),
            _ => None,
        };
        Ok(parsed.unwrap_or(Self::Unknown(v)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesTextPart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesImagePart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesFilePart {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

// ---------------------------------------------------------------------------------- responses

/// The response object (non-stream body, and inside lifecycle stream events).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResponsesResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default = "response_object")]
    pub object: String,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default)]
    pub error: Option<ResponsesErrorBody>,
    #[serde(default)]
    pub incomplete_details: Option<ResponsesIncompleteDetails>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub output: Vec<ResponsesItem>,
    #[serde(default)]
    pub usage: Option<ResponsesUsage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn response_object() -> String {
    "response".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesIncompleteDetails {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: Option<ResponsesInputTokensDetails>,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub output_tokens_details: Option<ResponsesOutputTokensDetails>,
    #[serde(default)]
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesInputTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesOutputTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

/// `{"message","type","param","code"}`: the error body, `response.error` and the `error`
/// stream event's payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<Value>,
    #[serde(default)]
    pub code: Option<Value>,
}

/// `{"error": {...}}`, a whole HTTP error body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResponsesErrorEnvelope {
    pub error: ResponsesErrorBody,
}
