//! Key-ordered JSON for response bodies and stream events.
//!
//! `serde_json::Value` sorts object keys (the workspace does not enable `preserve_order`, and
//! turning it on here would change it for every crate in a workspace build). Real providers
//! send `type` first, `id` before `choices` and so on, and a mock that stands in for them
//! should too, so bodies are built with [`ordered!`], which keeps keys in source order. Leaves
//! are ordinary `serde_json::Value`s.

use serde_json::Value;
use std::fmt::Write as _;

/// A JSON value whose objects keep their keys in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Ordered {
    /// A leaf (or a nested value whose key order does not matter).
    Val(Value),
    /// An object, keys in order.
    Obj(Vec<(&'static str, Ordered)>),
    /// An array.
    Arr(Vec<Ordered>),
}

/// Builds an [`Ordered`] value with `json!`-like syntax. Values that are more than one token
/// (`a + b`, `x.len()`) must be wrapped in parentheses.
#[macro_export]
macro_rules! ordered {
    (null) => { $crate::ordered::Ordered::Val(serde_json::Value::Null) };
    (true) => { $crate::ordered::Ordered::Val(serde_json::Value::Bool(true)) };
    (false) => { $crate::ordered::Ordered::Val(serde_json::Value::Bool(false)) };
    ({ $($key:literal : $val:tt),* $(,)? }) => {
        $crate::ordered::Ordered::Obj(vec![ $( ($key, $crate::ordered!($val)) ),* ])
    };
    ([ $($val:tt),* $(,)? ]) => {
        $crate::ordered::Ordered::Arr(vec![ $( $crate::ordered!($val) ),* ])
    };
    ($other:expr) => { $crate::ordered::Ordered::from($other) };
}

impl From<Value> for Ordered {
    fn from(v: Value) -> Self {
        Ordered::Val(v)
    }
}

impl From<&str> for Ordered {
    fn from(v: &str) -> Self {
        Ordered::Val(Value::String(v.to_owned()))
    }
}

impl From<String> for Ordered {
    fn from(v: String) -> Self {
        Ordered::Val(Value::String(v))
    }
}

impl From<&String> for Ordered {
    fn from(v: &String) -> Self {
        Ordered::Val(Value::String(v.clone()))
    }
}

impl From<u64> for Ordered {
    fn from(v: u64) -> Self {
        Ordered::Val(Value::from(v))
    }
}

impl From<u16> for Ordered {
    fn from(v: u16) -> Self {
        Ordered::Val(Value::from(v))
    }
}

impl From<usize> for Ordered {
    fn from(v: usize) -> Self {
        Ordered::Val(Value::from(v))
    }
}

impl From<i32> for Ordered {
    fn from(v: i32) -> Self {
        Ordered::Val(Value::from(v))
    }
}

impl From<Vec<Ordered>> for Ordered {
    fn from(v: Vec<Ordered>) -> Self {
        Ordered::Arr(v)
    }
}

impl<T: Into<Ordered>> From<Option<T>> for Ordered {
    fn from(v: Option<T>) -> Self {
        v.map_or(Ordered::Val(Value::Null), Into::into)
    }
}

impl Ordered {
    /// Compact JSON text (what OpenAI and Anthropic send).
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// Two-space indented JSON text (what Gemini sends in its non-SSE streams and bodies).
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, depth: usize) {
        let newline = |out: &mut String, depth: usize| {
            if let Some(step) = indent {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', step * depth));
            }
        };
        match self {
            Ordered::Val(v) => {
                // Display for Value is infallible and compact.
                let _ = write!(out, "{v}");
            }
            Ordered::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Ordered::Arr(items) if items.is_empty() => out.push_str("[]"),
            Ordered::Obj(fields) => {
                out.push('{');
                for (i, (key, val)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    let _ = write!(out, "{}", Value::String((*key).to_owned()));
                    out.push_str(if indent.is_some() { ": " } else { ":" });
                    val.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
            Ordered::Arr(items) => {
                out.push('[');
                for (i, val) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    val.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push(']');
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn keeps_key_order_and_escapes() {
        let text = "a \"quoted\"\nline";
        let o = ordered!({"type": "x", "b": null, "a": [1, true, text], "n": (2 + 3), "e": {}});
        assert_eq!(
            o.compact(),
            r#"{"type":"x","b":null,"a":[1,true,"a \"quoted\"\nline"],"n":5,"e":{}}"#
        );
        let parsed: Value = serde_json::from_str(&o.pretty()).unwrap();
        assert_eq!(parsed["a"][2], text);
        assert_eq!(
            ordered!({"k": [1]}).pretty(),
            "{\n  \"k\": [\n    1\n  ]\n}"
        );
    }
}
