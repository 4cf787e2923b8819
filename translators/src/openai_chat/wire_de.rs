//! Hand-written serde for the OpenAI Chat wire types on the hot path.
//!
//! Pure. Derived `#[serde(flatten)]` and `#[serde(untagged)]` make serde buffer the whole value
//! and read it again (a 3 KB request took ~115 us to decode and re-encode; see the commit that
//! added this file). Here the top-level request and response read their known fields in one pass
//! and keep every other field in `extra`; content, parts, tools and tool calls dispatch on
//! their shape or `type` once. Behaviour is the derived one's: unknown part and tool types, and
//! known ones missing a required field, are kept verbatim as `Unknown`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire::*;

/// `Deserialize` for a struct with an `extra: Map<String, Value>` tail: each listed key reads
/// into its field (`null` included, as serde's `default` would), every other key into `extra`.
macro_rules! struct_with_tail {
    ($ty:ident, $what:literal, { $($key:literal => $field:ident),* $(,)? }) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let mut out = $ty::default();
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                $($key => out.$field = map.next_value()?,)*
                                _ => {
                                    let v: Value = map.next_value()?;
                                    out.extra.insert(key, v);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

struct_with_tail!(OpenAiChatRequest, "a chat completions request object", {
    "model" => model,
    "messages" => messages,
    "tools" => tools,
    "tool_choice" => tool_choice,
    "parallel_tool_calls" => parallel_tool_calls,
    "response_format" => response_format,
    "reasoning_effort" => reasoning_effort,
    "reasoning" => reasoning,
    "max_tokens" => max_tokens,
    "max_completion_tokens" => max_completion_tokens,
    "temperature" => temperature,
    "top_p" => top_p,
    "top_k" => top_k,
    "stop" => stop,
    "seed" => seed,
    "presence_penalty" => presence_penalty,
    "frequency_penalty" => frequency_penalty,
    "stream" => stream,
    "stream_options" => stream_options,
    "user" => user,
    "safety_identifier" => safety_identifier,
    "prompt_cache_key" => prompt_cache_key,
});

struct_with_tail!(OpenAiChatResponse, "a chat.completion object", {
    "id" => id,
    "object" => object,
    "created" => created,
    "model" => model,
    "choices" => choices,
    "usage" => usage,
});

/// `null`, a string, an array of parts; anything else is one unknown part.
impl<'de> Deserialize<'de> for OpenAiChatContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OpenAiChatContent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("message content: null, a string or an array of parts")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OpenAiChatContent::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OpenAiChatContent::Null)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(OpenAiChatContent::Text(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(OpenAiChatContent::Text(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::new();
                while let Some(p) = seq.next_element::<OpenAiChatPart>()? {
                    parts.push(p);
                }
                Ok(OpenAiChatContent::Parts(parts))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(OpenAiChatContent::Parts(vec![OpenAiChatPart::Unknown(v)]))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(unknown(Value::Bool(b)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(unknown(Value::from(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(unknown(Value::from(n)))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(unknown(Value::from(n)))
            }
        }
        d.deserialize_any(V)
    }
}

fn unknown(v: Value) -> OpenAiChatContent {
    OpenAiChatContent::Parts(vec![OpenAiChatPart::Unknown(v)])
}

fn take_string(o: &mut Map<String, Value>, key: &str) -> Option<String> {
    match o.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            o.insert(key.to_owned(), other);
            None
        }
        None => None,
    }
}

impl<'de> Deserialize<'de> for OpenAiChatPart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(part_from_value(v))
    }
}

fn part_from_value(v: Value) -> OpenAiChatPart {
    let Value::Object(mut o) = v else {
        return OpenAiChatPart::Unknown(v);
    };
    let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
    let known = match kind {
        "text" => take_string(&mut o, "text").map(|text| OpenAiChatKnownPart::Text {
            text,
            cache_control: o.remove("cache_control"),
        }),
        "image_url" => match o.get("image_url") {
            Some(Value::Object(_)) => o
                .get("image_url")
                .cloned()
                .and_then(|i| serde_json::from_value(i).ok())
                .map(|image_url| OpenAiChatKnownPart::ImageUrl { image_url }),
            // Some clients send the URL as a bare string.
            Some(Value::String(url)) => Some(OpenAiChatKnownPart::ImageUrl {
                image_url: OpenAiChatImageUrl {
                    url: url.clone(),
                    detail: None,
                },
            }),
            _ => None,
        },
        "file" => o
            .get("file")
            .cloned()
            .and_then(|f| serde_json::from_value(f).ok())
            .map(|file| OpenAiChatKnownPart::File { file }),
        "refusal" => {
            take_string(&mut o, "refusal").map(|refusal| OpenAiChatKnownPart::Refusal { refusal })
        }
        _ => None,
    };
    match known {
        Some(k) => OpenAiChatPart::Known(k),
        None => OpenAiChatPart::Unknown(Value::Object(o)),
    }
}

impl<'de> Deserialize<'de> for OpenAiChatTool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let is_function = v.get("type").and_then(Value::as_str) == Some("function")
            && v.get("function").is_some_and(Value::is_object);
        if !is_function {
            return Ok(Self::Unknown(v));
        }
        let Value::Object(mut o) = v else {
            return Ok(Self::Unknown(v));
        };
        let function = o.remove("function").unwrap_or(Value::Null);
        match serde_json::from_value::<OpenAiChatFunctionDef>(function) {
            Ok(f) => Ok(Self::Function(f)),
            Err(e) => Err(de::Error::custom(format!("tools[].function: {e}"))),
        }
    }
}

impl Serialize for OpenAiChatTool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Function(f) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "function")?;
                m.serialize_entry("function", f)?;
                m.end()
            }
            Self::Unknown(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for OpenAiChatToolCall {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(mut o) = Value::deserialize(d)? else {
            return Err(de::Error::custom("a tool call must be an object"));
        };
        let id = take_string(&mut o, "id").unwrap_or_default();
        let kind = take_string(&mut o, "type").unwrap_or_else(|| "function".to_owned());
        let function = match o.remove("function") {
            None | Some(Value::Null) => None,
            Some(f) => Some(serde_json::from_value(f).map_err(de::Error::custom)?),
        };
        Ok(Self {
            id,
            kind,
            function,
            extra: o,
        })
    }
}
