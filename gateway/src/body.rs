//! Request bodies: validate JSON, find the top-level `model` and `stream` fields without
//! building a DOM, and splice a new model name in with every other byte left as it was.
//!
//! Pure; runs in `request_filter` (scan) and `upstream_request_filter` (splice).

use std::ops::Range;

/// The skimmers `scan_top_level` and `json_path` walk a validated body with.
pub(crate) use switchyard_translators::json_skim::{skip_string, skip_value, skip_ws};

/// What the gateway needs from a JSON request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFacts {
    /// Decoded value of the top-level `model` string, if present.
    pub model: Option<String>,
    /// Byte range of the `model` value *including* its quotes.
    pub model_span: Option<Range<usize>>,
    /// Top-level `"stream": true`.
    pub stream: bool,
    /// A client session id carried in the body (for session affinity): top-level
    /// `prompt_cache_key` (OpenAI), else `metadata.user_id` (Claude Code puts its session in it).
    pub session_hint: Option<String>,
    /// OpenAI Chat's `stream_options.include_usage: true`.
    pub include_usage: bool,
    /// A top-level `stream_options` member is present (any value): adding `include_usage`
    /// then edits it; without one, the member is appended (no walk of the body).
    pub stream_options: bool,
}

/// Why a body is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("request body is not valid JSON: {0}")]
    Malformed(String),
    #[error("request body must be a JSON object")]
    NotAnObject,
    #[error("`model` must be a string")]
    ModelNotString,
    /// A top-level field the gateway reads has another JSON type than its protocol's.
    #[error("`{field}` must be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    /// Routing would read one occurrence and an upstream parser maybe the other.
    #[error("`{0}` appears more than once in the request body")]
    Duplicate(&'static str),
}

/// Validate `raw` as a JSON object and extract [`BodyFacts`].
pub fn inspect(raw: &[u8]) -> Result<BodyFacts, BodyError> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| BodyError::Malformed(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    validate(text).map_err(|e| BodyError::Malformed(e.to_string()))?;
    scan_top_level(raw)
}

/// Strict JSON validation without building a document, of a body already checked to be
/// UTF-8 as a whole (one pass, much cheaper than serde_json checking each string of a byte
/// slice): nesting is bounded by serde_json's recursion limit (128). `IgnoredAny` checks
/// neither: it walks any depth, so a body nested 100,000 levels or holding invalid UTF-8 used
/// to pass and reach the upstream.
fn validate(raw: &str) -> serde_json::Result<()> {
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    struct Checked;
    impl<'de> Deserialize<'de> for Checked {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(CheckedVisitor)
        }
    }
    struct CheckedVisitor;
    impl<'de> Visitor<'de> for CheckedVisitor {
        type Value = Checked;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_unit<E>(self) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
            while seq.next_element::<Checked>()?.is_some() {}
            Ok(Checked)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
            while map.next_entry::<Checked, Checked>()?.is_some() {}
            Ok(Checked)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    Checked::deserialize(&mut de)?;
    de.end()
}

/// Scan an already-valid JSON document's top-level object for `model` and `stream`.
fn scan_top_level(raw: &[u8]) -> Result<BodyFacts, BodyError> {
    let mut i = skip_ws(raw, 0);
    if raw.get(i) != Some(&b'{') {
        return Err(BodyError::NotAnObject);
    }
    i += 1;
    let mut facts = BodyFacts::default();
    let (mut seen_model, mut seen_stream) = (false, false);
    loop {
        i = skip_ws(raw, i);
        match raw.get(i) {
            Some(b'}') | None => return Ok(facts),
            Some(b',') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_start = i;
        i = skip_string(raw, i);
        let key = &raw[key_start..i];
        i = skip_ws(raw, i);
        i += 1; // ':'
        i = skip_ws(raw, i);
        let value_start = i;
        i = skip_value(raw, i);
        let value = &raw[value_start..i];
        let kind = value.first().copied();
        let null = value == b"null";
        let wrong = |field, expected| Err(BodyError::WrongType { field, expected });
        if key == b"\"model\"" {
            if std::mem::replace(&mut seen_model, true) {
                return Err(BodyError::Duplicate("model"));
            }
            if kind != Some(b'"') {
                return Err(BodyError::ModelNotString);
            }
            let name: String =
                serde_json::from_slice(value).map_err(|e| BodyError::Malformed(e.to_string()))?;
            facts.model = Some(name);
            facts.model_span = Some(value_start..i);
        } else if key == b"\"stream\"" {
            if std::mem::replace(&mut seen_stream, true) {
                return Err(BodyError::Duplicate("stream"));
            }
            if !(null || value == b"true" || value == b"false") {
                return wrong("stream", "true or false");
            }
            facts.stream = value == b"true";
        } else if key == b"\"prompt_cache_key\"" {
            if !(null || kind == Some(b'"')) {
                return wrong("prompt_cache_key", "a string");
            }
            if let Ok(k) = serde_json::from_slice::<String>(value) {
                facts.session_hint = Some(k);
            }
        } else if key == b"\"stream_options\"" {
            if !(null || kind == Some(b'{')) {
                return wrong("stream_options", "an object");
            }
            facts.stream_options = true;
            #[derive(serde::Deserialize)]
            struct StreamOptions {
                include_usage: Option<bool>,
            }
            if let Ok(o) = serde_json::from_slice::<StreamOptions>(value) {
                facts.include_usage = o.include_usage == Some(true);
            }
        } else if key == b"\"metadata\"" {
            if !(null || kind == Some(b'{')) {
                return wrong("metadata", "an object");
            }
            if facts.session_hint.is_some() {
                continue;
            }
            #[derive(serde::Deserialize)]
            struct Metadata {
                user_id: Option<String>,
            }
            if let Ok(Metadata { user_id: Some(u) }) = serde_json::from_slice(value) {
                facts.session_hint = Some(u);
            }
        }
    }
}

/// The JSON string literal for `model` (quotes and escapes included).
pub fn model_literal(model: &str) -> Vec<u8> {
    // Serialising a &str cannot fail.
    serde_json::to_vec(model).unwrap_or_default()
}

/// `raw` with `span` replaced by `literal`: one copy, every other byte unchanged.
pub fn splice(raw: &[u8], span: &Range<usize>, literal: &[u8]) -> bytes::Bytes {
    let mut out = Vec::with_capacity(raw.len() - span.len() + literal.len());
    out.extend_from_slice(&raw[..span.start]);
    out.extend_from_slice(literal);
    out.extend_from_slice(&raw[span.end..]);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_model_and_stream_at_top_level_only() {
        let raw = br#"{"messages":[{"model":"inner","x":{"stream":true}}], "model" : "gpt-4o" ,"stream":true}"#;
        let f = inspect(raw).unwrap();
        assert_eq!(f.model.as_deref(), Some("gpt-4o"));
        assert!(f.stream);
        let span = f.model_span.unwrap();
        assert_eq!(&raw[span.clone()], br#""gpt-4o""#);
        let out = splice(raw, &span, &model_literal("claude \"x\""));
        assert_eq!(
            &out[..],
            &br#"{"messages":[{"model":"inner","x":{"stream":true}}], "model" : "claude \"x\"" ,"stream":true}"#[..]
        );
    }

    #[test]
    fn escaped_strings_and_numbers() {
        let raw = br#"{"a":"q\"}{","n":-1.5e3,"b":[1,{"c":"]"}],"model":"m\u00e9","stream":false}"#;
        let f = inspect(raw).unwrap();
        assert_eq!(f.model.as_deref(), Some("m\u{e9}"));
        assert!(!f.stream);
    }

    #[test]
    fn rejects_bad_bodies() {
        assert!(matches!(
            inspect(b"{\"model\":"),
            Err(BodyError::Malformed(_))
        ));
        assert_eq!(inspect(b"[1]"), Err(BodyError::NotAnObject));
        assert_eq!(inspect(br#"{"model":3}"#), Err(BodyError::ModelNotString));
        assert_eq!(inspect(b"{}").unwrap(), BodyFacts::default());
    }

    #[test]
    fn rejects_deep_nesting_invalid_utf8_duplicates_and_wrong_types() {
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            matches!(inspect(deep.as_bytes()), Err(BodyError::Malformed(m)) if m.contains("recursion"))
        );
        let ok = format!("{{\"x\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(inspect(ok.as_bytes()).is_ok());
        assert!(matches!(
            inspect(b"{\"a\":\"\xff\"}"),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            inspect(b"{\"\xc3\x28\":1}"),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(inspect(b"{} {}"), Err(BodyError::Malformed(_))));
        assert_eq!(
            inspect(br#"{"model":"a","x":1,"model":"b"}"#),
            Err(BodyError::Duplicate("model"))
        );
        assert_eq!(
            inspect(br#"{"stream":false,"stream":true}"#),
            Err(BodyError::Duplicate("stream"))
        );
        for (body, field) in [
            (&br#"{"stream":"yes"}"#[..], "stream"),
            (br#"{"stream":1}"#, "stream"),
            (br#"{"stream_options":"x"}"#, "stream_options"),
            (br#"{"prompt_cache_key":7}"#, "prompt_cache_key"),
            (br#"{"metadata":[]}"#, "metadata"),
        ] {
            assert!(
                matches!(inspect(body), Err(BodyError::WrongType { field: f, .. }) if f == field),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // null is "not given" for every one of them.
        let f = inspect(
            br#"{"stream":null,"stream_options":null,"prompt_cache_key":null,"metadata":null}"#,
        )
        .unwrap();
        // (A null `stream_options` is still a member: adding `include_usage` must replace it,
        // not append a second one.)
        let present = BodyFacts {
            stream_options: true,
            ..BodyFacts::default()
        };
        assert_eq!(f, present);
        // Duplicates below the top level are the upstream's business.
        assert!(inspect(br#"{"messages":[{"model":1,"model":2}]}"#).is_ok());
    }
}
