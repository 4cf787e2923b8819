//! A local token estimate for `count_tokens` / `countTokens` when the upstream has no such
//! endpoint (OpenAI-family upstreams). It is an estimate: clients use it to decide when to
//! compact, not to bill.
//!
//! Method (no tokenizer, pure): characters of everything the model reads (system, message
//! text, thinking, reasoning summaries, tool call names and arguments, tool results, unknown
//! blocks as JSON) divided by 4 (`CHARS_PER_TOKEN`, the usual English/code ratio for BPE
//! tokenizers); tool names, descriptions and compact JSON schemas divided by 6
//! (`SCHEMA_CHARS_PER_TOKEN`); plus 4 tokens per message, 8 per tool definition, 20 per tool
//! call and per tool result (ids and wrappers), and a flat 400 per image or document, whatever
//! its size.
//!
//! Measured error (2026-11-26, `tests/tokens_accuracy.rs`): every generation call of the VCR
//! cassettes `shared/fixtures/upstream/*/*.yaml` (pydantic-ai, simonw/llm-anthropic,
//! llm-gemini; commits in each folder's README) whose response has usage, estimate ÷ the
//! provider's input count (Anthropic `input_tokens` + cache creation + cache read, Chat
//! `prompt_tokens`, Responses `input_tokens`, Gemini `promptTokenCount`):
//!
//! | protocol | n | median | p10 | p90 | MAPE |
//! | --- | ---: | ---: | ---: | ---: | ---: |
//! | Anthropic | 18 | 0.34 | 0.01 | 1.39 | 85% |
//! | OpenAI Chat | 14 | 1.14 | 0.78 | 1.66 | 29% |
//! | OpenAI Responses | 15 | 0.51 | 0.01 | 0.89 | 54% |
//! | Gemini | 24 | 0.95 | 0.23 | 1.39 | 43% |
//! | all | 71 | 0.78 | 0.03 | 1.39 | 53% |
//! | all without server-side input | 58 | 0.86 | 0.26 | 1.41 | 45% |
//!
//! The previous constants (everything at 4 characters a token, no tool call overhead, 1,600
//! per image) measured median 0.82, p10 0.03, p90 1.98, MAPE 87% overall (0.94 / 86% without
//! server-side input). Where the error comes from:
//!
//! - Server-side input the request does not carry (13 samples): hosted tools (web search and
//!   fetch results, MCP tool lists, code execution, image generation), Anthropic
//!   `mcp_servers`, Gemini `cachedContent`: ratios down to 0.00. No local method can see it.
//! - Anthropic's hidden prompts: with tools it adds a tool-use system prompt (~300-500 tokens
//!   here; `test_tools` is 29 estimated against 542), and with thinking a smaller one. Not
//!   added, since the estimate is used when the upstream is not Anthropic.
//! - OpenAI Responses with one function tool on gpt-4o (`test_openai_responses_stream`) has
//!   ~200 tokens the request does not show (0.16, 0.35).
//! - Images cost from ~75 (a small Anthropic image) to ~1,800 tokens (Gemini,
//!   `test_google_model_image_url_input`): the flat 400 is the middle of that range.
//! - Chat tool schemas cost less than their JSON (rendered as TypeScript-like declarations):
//!   19 tools are 1.66x over.
//! - Plain text: the six text-only requests over 1,000 tokens are 0.78-1.22; prompts of 5-20
//!   tokens swing 0.55-2.00 on a few tokens of framing.

use crate::ir::{Part, Request, Tool};

/// Characters of prose, code, tool arguments and results per token.
const CHARS_PER_TOKEN: u64 = 4;
/// Characters of a tool's name, description and compact JSON schema per token: schema keys and
/// punctuation tokenize densely, and OpenAI renders schemas more compactly than the JSON.
const SCHEMA_CHARS_PER_TOKEN: u64 = 6;
/// Role and framing tokens of a message.
const PER_MESSAGE: u64 = 4;
/// Framing of a tool definition.
const PER_TOOL: u64 = 8;
/// Framing (ids, wrappers) of each tool call and each tool result.
const PER_TOOL_CALL: u64 = 20;
/// One image or document, whatever its size.
const PER_MEDIA: u64 = 400;

pub fn estimate_input_tokens(req: &Request) -> u64 {
    let mut chars = 0usize;
    let mut schema_chars = 0usize;
    let mut fixed = 0u64;
    let add_parts = |parts: &[Part], chars: &mut usize, fixed: &mut u64| {
        for p in parts {
            part_cost(p, chars, fixed);
        }
    };
    add_parts(&req.system, &mut chars, &mut fixed);
    for m in &req.messages {
        fixed += PER_MESSAGE;
        add_parts(&m.parts, &mut chars, &mut fixed);
    }
    for t in &req.tools {
        fixed += PER_TOOL;
        match t {
            Tool::Function(f) => {
                schema_chars += f.name.len() + f.description.as_ref().map_or(0, String::len);
                schema_chars += f.parameters.to_string().len();
            }
            Tool::Unknown { value, .. } => schema_chars += value.to_string().len(),
        }
    }
    fixed
        + (chars as u64).div_ceil(CHARS_PER_TOKEN)
        + (schema_chars as u64).div_ceil(SCHEMA_CHARS_PER_TOKEN)
}

fn part_cost(p: &Part, chars: &mut usize, fixed: &mut u64) {
    match p {
        Part::Text { text, .. } | Part::Thinking { text, .. } => *chars += text.chars().count(),
        Part::RedactedThinking { data } => *chars += data.len() / 4,
        Part::Image(_) | Part::Document(_) => *fixed += PER_MEDIA,
        Part::Reasoning(r) => *chars += r.summary.iter().map(|s| s.chars().count()).sum::<usize>(),
        Part::ToolCall(c) => {
            *fixed += PER_TOOL_CALL;
            *chars += c.name.len() + c.arguments.len();
        }
        Part::ToolResult(r) => {
            *fixed += PER_TOOL_CALL;
            for inner in &r.content {
                part_cost(inner, chars, fixed);
            }
        }
        Part::Unknown { value, .. } => *chars += value.to_string().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FunctionTool, Media, MediaSource, Message, Role, ToolCall, ToolResult};

    #[test]
    fn counts_text_messages_and_tools() {
        let req = Request {
            system: vec![Part::Text {
                text: "a".repeat(40),
                cache_control: None,
            }],
            messages: vec![Message {
                role: Role::User,
                parts: vec![Part::Text {
                    text: "b".repeat(40),
                    cache_control: None,
                }],
            }],
            ..Default::default()
        };
        assert_eq!(estimate_input_tokens(&req), 4 + 20);
    }

    #[test]
    fn counts_tools_calls_results_and_media() {
        let params = serde_json::json!({"type": "object"}); // 17 characters compact
        let req = Request {
            messages: vec![
                Message {
                    role: Role::Assistant,
                    parts: vec![Part::ToolCall(ToolCall {
                        id: "call_1".into(),
                        name: "f".into(),
                        arguments: r#"{"a":1}"#.into(), // with the name: 8 characters
                        signature: None,
                    })],
                },
                Message {
                    role: Role::User,
                    parts: vec![Part::ToolResult(ToolResult {
                        call_id: "call_1".into(),
                        name: None,
                        content: vec![
                            Part::Text {
                                text: "c".repeat(8),
                                cache_control: None,
                            },
                            Part::Image(Media {
                                source: MediaSource::Url {
                                    url: "https://example.com/a.png".into(),
                                    media_type: None,
                                },
                                cache_control: None,
                                title: None,
                            }),
                        ],
                        is_error: false,
                    })],
                },
            ],
            tools: vec![Tool::Function(FunctionTool {
                name: "f".into(),
                description: None,
                parameters: params,
                strict: None,
                cache_control: None,
            })],
            ..Default::default()
        };
        let messages = 2 * PER_MESSAGE;
        let calls = 2 * PER_TOOL_CALL + (8 + 8) / CHARS_PER_TOKEN;
        let tool = PER_TOOL + (1 + 17_u64).div_ceil(SCHEMA_CHARS_PER_TOKEN);
        assert_eq!(
            estimate_input_tokens(&req),
            messages + calls + PER_MEDIA + tool
        );
        assert_eq!(estimate_input_tokens(&req), 8 + 44 + 400 + 11);
    }
}
