//! Tool calls: `MOCK_TOOL[name|{json args}]` in a request body makes the mock call a tool.
//!
//! The marker is found in the raw body like `MOCK_REPLY[...]` (it usually sits inside a JSON
//! string, so its JSON escapes are decoded). Every distinct marker is one call, in order of
//! first occurrence: two different markers make two parallel calls in one turn (a marker
//! repeated with the same name and arguments, e.g. a prompt sent again, still counts once). The name runs to the first `|`;
//! the arguments run to the first `]` after which the text is a JSON object (so arguments may
//! themselves contain `]`). While the request carries no tool result yet, the answer is one
//! call of that tool with those arguments, in the protocol's own shape, with the protocol's
//! tool stop reason. Once it carries a tool result, the answer is text: `MOCK_REPLY[...]` if
//! present, else `tool result was: <first 200 chars of the last tool result's text>`.
//!
//! A tool result is found by parsing the request, per protocol:
//! - Anthropic Messages: a `tool_result` block in `messages[].content[]`;
//! - OpenAI Chat: a `role: "tool"` message in `messages[]`;
//! - OpenAI Responses: a `function_call_output` item in `input[]`;
//! - Gemini: a `functionResponse` part in `contents[].parts[]`.

use crate::routes::Route;
use serde_json::Value;

const MARKER: &[u8] = b"MOCK_TOOL[";

/// Characters of the tool result repeated in the `tool result was: ...` answer.
pub const RESULT_ECHO_CHARS: usize = 200;

/// The tool call the mock makes.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// Tool name.
    pub name: String,
    /// The arguments.
    pub args: Value,
    /// The arguments as compact JSON text.
    pub args_json: String,
    /// `args_json` cut into 1-3 fragments (one per argument delta event).
    pub fragments: Vec<String>,
}

impl ToolCall {
    fn new(name: String, args: Value) -> Self {
        let args_json = args.to_string();
        let fragments = fragments(&args_json, 3);
        ToolCall {
            name,
            args,
            args_json,
            fragments,
        }
    }
}

/// Decodes JSON string escapes when `raw` is a valid JSON string body, else keeps it raw.
fn unescape(raw: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned())
}

/// Every distinct well-formed `MOCK_TOOL[name|args]` marker of a body, in order.
pub fn tool_markers(body: &[u8]) -> Vec<ToolCall> {
    let mut out: Vec<ToolCall> = Vec::new();
    let mut at = 0;
    while let Some(found) = body[at..].windows(MARKER.len()).position(|w| w == MARKER) {
        let start = at + found;
        if let Some(call) = tool_marker(&body[start..]) {
            if !out.contains(&call) {
                out.push(call);
            }
        }
        at = start + MARKER.len();
    }
    out
}

/// The first `MOCK_TOOL[name|args]` marker of a body, if any (and well formed).
pub fn tool_marker(body: &[u8]) -> Option<ToolCall> {
    let start = body.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let rest = &body[start..];
    let bar = rest.iter().position(|&b| b == b'|')?;
    let name = unescape(&String::from_utf8_lossy(&rest[..bar]));
    if name.is_empty() || name.contains(']') {
        return None;
    }
    let args_raw = &rest[bar + 1..];
    for (i, _) in args_raw.iter().enumerate().filter(|(_, &b)| b == b']') {
        let text = unescape(&String::from_utf8_lossy(&args_raw[..i]));
        if let Ok(args @ Value::Object(_)) = serde_json::from_str::<Value>(&text) {
            return Some(ToolCall::new(name, args));
        }
    }
    None
}

/// Cuts `s` into at most `n` non-empty pieces of about equal length, at char boundaries.
pub fn fragments(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    let n = n.clamp(1, chars.len());
    let per = chars.len().div_ceil(n);
    chars.chunks(per).map(|c| c.iter().collect()).collect()
}

/// The text of a tool result's content: strings as they are, text parts joined, objects by
/// their `text`/`output`/`content`/`result` field, anything else as compact JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text_of).collect(),
        Value::Object(o) => {
            for key in ["text", "output", "content", "result"] {
                if let Some(inner) = o.get(key) {
                    if !inner.is_null() {
                        return text_of(inner);
                    }
                }
            }
            v.to_string()
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// The text of the last tool result in the request, if it carries any.
pub fn tool_result(route: &Route, request: &Value) -> Option<String> {
    match route {
        Route::Messages | Route::CountTokens => items(request, "messages")
            .flat_map(|m| items(m, "content"))
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            .last()
            .map(|b| text_of(b.get("content").unwrap_or(&Value::Null))),
        Route::Chat => items(request, "messages")
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
            .last()
            .map(|m| text_of(m.get("content").unwrap_or(&Value::Null))),
        Route::Responses => items(request, "input")
            .filter(|i| i.get("type").and_then(Value::as_str) == Some("function_call_output"))
            .last()
            .map(|i| text_of(i.get("output").unwrap_or(&Value::Null))),
        Route::GeminiGenerate(_) | Route::GeminiStream(_) | Route::GeminiCountTokens(_) => {
            items(request, "contents")
                .flat_map(|c| items(c, "parts"))
                .filter_map(|p| p.get("functionResponse"))
                .last()
                .map(|f| text_of(f.get("response").unwrap_or(&Value::Null)))
        }
        Route::Completions | Route::Models(_) | Route::NotFound => None,
    }
}

/// Whether the route can answer with a tool call.
pub fn route_calls_tools(route: &Route) -> bool {
    matches!(
        route,
        Route::Messages
            | Route::Chat
            | Route::Responses
            | Route::GeminiGenerate(_)
            | Route::GeminiStream(_)
    )
}

/// `tool result was: <first 200 chars>`.
pub fn result_echo(result: &str) -> String {
    let head: String = result.chars().take(RESULT_ECHO_CHARS).collect();
    format!("tool result was: {head}")
}

#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::json;

    #[test]
    fn marker_in_json_string() {
        let body = json!({"m": r#"run MOCK_TOOL[Bash|{"command":"echo $((6*7))","x":[1,2]}] now MOCK_TOOL[b|{}]"#})
            .to_string();
        let t = tool_marker(body.as_bytes()).unwrap();
        assert_eq!(t.name, "Bash");
        assert_eq!(t.args, json!({"command": "echo $((6*7))", "x": [1, 2]}));
        assert_eq!(t.fragments.concat(), t.args_json);
        assert_eq!(t.fragments.len(), 3);
        let raw = tool_marker(br#"MOCK_TOOL[get|{"a":1}]"#).unwrap();
        assert_eq!(raw.args, json!({"a": 1}));
        assert_eq!(tool_marker(br#"MOCK_TOOL[get|not json]"#), None);
        assert_eq!(tool_marker(br#"MOCK_TOOL[noargs]"#), None);
        assert_eq!(tool_marker(b"nothing"), None);
        let all = tool_markers(body.as_bytes());
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].name, "b");
        let twice = br#"MOCK_TOOL[a|{"x":1}] MOCK_TOOL[a|{"x":1}] MOCK_TOOL[a|{"x":2}]"#;
        assert_eq!(tool_markers(twice).len(), 2);
    }

    #[test]
    fn fragments_cover_text() {
        assert_eq!(fragments("{}", 3), ["{", "}"]);
        assert_eq!(fragments("", 3), [""]);
        assert_eq!(fragments("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(fragments("äöü✓", 3).concat(), "äöü✓");
    }

    #[test]
    fn results_per_protocol() {
        let anthropic = json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "out1"}]}]}
        ]});
        assert_eq!(
            tool_result(&Route::Messages, &anthropic).as_deref(),
            Some("out1")
        );
        let chat = json!({"messages": [{"role": "tool", "tool_call_id": "c", "content": "out2"}]});
        assert_eq!(tool_result(&Route::Chat, &chat).as_deref(), Some("out2"));
        let responses =
            json!({"input": [{"type": "function_call_output", "call_id": "c", "output": "out3"}]});
        assert_eq!(
            tool_result(&Route::Responses, &responses).as_deref(),
            Some("out3")
        );
        let gemini = json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"output": "out4"}}}]}]});
        assert_eq!(
            tool_result(&Route::GeminiStream("m".into()), &gemini).as_deref(),
            Some("out4")
        );
        assert_eq!(tool_result(&Route::Chat, &anthropic), None);
        assert_eq!(tool_result(&Route::Messages, &json!("x")), None);
        assert_eq!(
            result_echo(&"x".repeat(300)).len(),
            "tool result was: ".len() + 200
        );
    }
}
