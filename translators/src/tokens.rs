//! A local token estimate for `count_tokens` / `countTokens` when the upstream has no such
//! endpoint (OpenAI-family upstreams).
//!
//! Method: count the characters of everything the model reads (system, message text, thinking,
//! tool call arguments, tool results, tool names, descriptions and schemas), divide by 4
//! (the usual English/code ratio for BPE tokenizers), add 4 tokens per message and 8 per tool
//! for role and framing tokens, and a flat 1,600 per image or document (the order of
//! magnitude providers bill for a typical screenshot or page). It is an estimate: clients use
//! it to decide when to compact, not to bill.

use crate::ir::{Part, Request, Tool};

pub fn estimate_input_tokens(req: &Request) -> u64 {
    let mut chars = 0usize;
    let mut fixed = 0u64;
    let add_parts = |parts: &[Part], chars: &mut usize, fixed: &mut u64| {
        for p in parts {
            part_cost(p, chars, fixed);
        }
    };
    add_parts(&req.system, &mut chars, &mut fixed);
    for m in &req.messages {
        fixed += 4;
        add_parts(&m.parts, &mut chars, &mut fixed);
    }
    for t in &req.tools {
        fixed += 8;
        match t {
            Tool::Function(f) => {
                chars += f.name.len() + f.description.as_ref().map_or(0, String::len);
                chars += f.parameters.to_string().len();
            }
            Tool::Unknown { value, .. } => chars += value.to_string().len(),
        }
    }
    fixed + (chars as u64).div_ceil(4)
}

fn part_cost(p: &Part, chars: &mut usize, fixed: &mut u64) {
    match p {
        Part::Text { text, .. } | Part::Thinking { text, .. } => *chars += text.chars().count(),
        Part::RedactedThinking { data } => *chars += data.len() / 4,
        Part::Image(_) | Part::Document(_) => *fixed += 1600,
        Part::Reasoning(r) => *chars += r.summary.iter().map(|s| s.chars().count()).sum::<usize>(),
        Part::ToolCall(c) => *chars += c.name.len() + c.arguments.len(),
        Part::ToolResult(r) => {
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
    use crate::ir::{Message, Role};

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
}
