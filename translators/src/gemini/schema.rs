//! JSON Schema ↔ Gemini's OpenAPI-subset `Schema` (tool `parameters`, `responseSchema`).
//!
//! Pure functions on `serde_json::Value`; pass them one schema, never a whole request (a
//! schema keyword can also be an argument name).
//!
//! [`clean_for_gemini`] follows what CLIProxyAPI's `CleanJSONSchemaForGemini` does for the same
//! upstream, keeping more where Gemini accepts it:
//! - local `$ref`s (`#/$defs/X`, `#/definitions/X`, any JSON pointer) are inlined, siblings
//!   override the target; a cycle or an external ref becomes a `See: X` description hint;
//! - `allOf` branches are merged into the parent (parent keys win, `required` is the union);
//! - `anyOf`/`oneOf`: `{"type":"null"}` branches become `nullable: true`; a single remaining
//!   branch is merged into the parent; several stay as `anyOf` (which Gemini accepts);
//! - `type: [T, "null"]` becomes `type: T, nullable: true`; several non-null types keep the first
//!   and add an `Accepts: a | b` hint;
//! - `const` becomes a one-value `enum`; enum values become strings and the type `string`
//!   (Gemini only has string enums); boolean enums are dropped;
//! - `exclusiveMinimum`/`exclusiveMaximum` become inclusive bounds (exact for integers, with a
//!   hint for numbers);
//! - `pattern`, `default`, `examples`, `example` and `format`s Gemini does not know become
//!   description hints (`(pattern: ^a+$)`), as CLIProxyAPI does;
//! - an `array` without `items` gets `items: {"type":"string"}`; tuple `items` keep the first;
//! - `required` names that are not in `properties` are removed;
//! - every other keyword (`$schema`, `$id`, `additionalProperties`, `patternProperties`,
//!   `title`, `if`/`then`/`else`, `not`, `x-*`, ...) is dropped.
//!
//! Property order cannot be kept: the crate's `serde_json` has no `preserve_order`, so objects
//! are sorted by key once parsed (the IR holds a parsed `Value`).
//!
//! [`from_gemini`] goes the other way for Gemini `parameters`/`responseSchema` decoded into the
//! IR: `type` values are lowercased (`OBJECT` → `object`) and `nullable: true` becomes
//! `type: [T, "null"]`, so other protocols receive plain JSON Schema.

use serde_json::{Map, Value};

/// Keywords Gemini's `Schema` accepts; everything else is dropped after conversion.
const KEEP: &[&str] = &[
    "type",
    "format",
    "description",
    "nullable",
    "enum",
    "items",
    "properties",
    "required",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "anyOf",
];

/// Keywords moved into the description as hints.
const HINTED: &[&str] = &["pattern", "default", "examples", "example"];

/// `format` values Gemini documents; others become hints.
const FORMATS: &[&str] = &["enum", "date-time", "int32", "int64", "float", "double"];

/// Clean a JSON Schema so Gemini accepts it as `parameters` / `responseSchema`.
pub fn clean_for_gemini(schema: &Value) -> Value {
    let mut active = Vec::new();
    let inlined = inline_refs(schema, schema, &mut active);
    clean_node(&inlined)
}

/// Convert a Gemini (OpenAPI-subset) schema into plain JSON Schema.
pub fn from_gemini(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        let converted = match key.as_str() {
            "type" => match value {
                Value::String(t) => Value::String(t.to_ascii_lowercase()),
                other => other.clone(),
            },
            "properties" => map_values(value, from_gemini),
            "items" => from_gemini(value),
            "anyOf" | "oneOf" | "allOf" => map_array(value, from_gemini),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if out.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.remove("nullable");
            out.insert(
                "type".into(),
                Value::Array(vec![Value::String(t), Value::String("null".into())]),
            );
        }
    }
    Value::Object(out)
}

fn map_values(value: &Value, f: fn(&Value) -> Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
        other => other.clone(),
    }
}

fn map_array(value: &Value, f: fn(&Value) -> Value) -> Value {
    match value {
        Value::Array(a) => Value::Array(a.iter().map(f).collect()),
        other => other.clone(),
    }
}

// ------------------------------------------------------------------------------------- $ref

fn inline_refs(root: &Value, node: &Value, active: &mut Vec<String>) -> Value {
    match node {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| inline_refs(root, item, active))
                .collect(),
        ),
        Value::Object(obj) => {
            if let Some(Value::String(reference)) = obj.get("$ref") {
                return inline_one_ref(root, obj, reference, active);
            }
            let mut out = Map::new();
            for (key, value) in obj {
                if key == "$defs" || key == "definitions" {
                    continue;
                }
                out.insert(key.clone(), inline_refs(root, value, active));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn inline_one_ref(
    root: &Value,
    obj: &Map<String, Value>,
    reference: &str,
    active: &mut Vec<String>,
) -> Value {
    let target = reference
        .strip_prefix('#')
        .and_then(|pointer| root.pointer(pointer));
    let mut out = Map::new();
    match target {
        Some(target) if !active.iter().any(|r| r == reference) => {
            active.push(reference.to_string());
            if let Value::Object(resolved) = inline_refs(root, target, active) {
                out = resolved;
            }
            active.pop();
        }
        _ => {
            // A cycle or a ref we cannot resolve: keep the type if known, and say where to look.
            if let Some(Value::Object(t)) = target {
                if let Some(ty) = t.get("type") {
                    out.insert("type".into(), ty.clone());
                }
            }
            let name = reference.rsplit('/').next().unwrap_or(reference);
            add_hint(&mut out, &format!("See: {name}"));
        }
    }
    for (key, value) in obj {
        if key != "$ref" && key != "$defs" && key != "definitions" {
            out.insert(key.clone(), inline_refs(root, value, active));
        }
    }
    Value::Object(out)
}

// ------------------------------------------------------------------------------------ clean

fn clean_node(node: &Value) -> Value {
    let Value::Object(obj) = node else {
        // `true` / `{}`-like schemas: accept anything, which Gemini spells as no constraint.
        return Value::Object(Map::new());
    };
    let mut m = obj.clone();
    let mut hints = Vec::new();
    merge_all_of(&mut m);
    flatten_unions(&mut m);
    flatten_type_array(&mut m, &mut hints);
    convert_const_and_enum(&mut m);
    project_exclusive_bounds(&mut m, &mut hints);
    collect_hints(&mut m, &mut hints);
    if !m.contains_key("type") && m.contains_key("properties") {
        m.insert("type".into(), Value::String("object".into()));
    }
    if m.get("type").and_then(Value::as_str) == Some("array") {
        match m.get("items") {
            Some(Value::Array(tuple)) => {
                let first = tuple.first().cloned().unwrap_or_else(string_schema);
                m.insert("items".into(), first);
            }
            Some(_) => {}
            None => {
                m.insert("items".into(), string_schema());
            }
        }
    }
    let mut out = Map::new();
    for (key, value) in m {
        if !KEEP.contains(&key.as_str()) {
            continue;
        }
        let cleaned = match key.as_str() {
            "properties" => map_values(&value, clean_node),
            "items" => clean_node(&value),
            "anyOf" => map_array(&value, clean_node),
            _ => value,
        };
        out.insert(key, cleaned);
    }
    clean_required(&mut out);
    for hint in hints {
        add_hint(&mut out, &hint);
    }
    Value::Object(out)
}

fn string_schema() -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String("string".into()));
    Value::Object(m)
}

fn add_hint(m: &mut Map<String, Value>, hint: &str) {
    let text = match m.get("description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() => format!("{d} ({hint})"),
        _ => hint.to_string(),
    };
    m.insert("description".into(), Value::String(text));
}

/// Insert the keys of `branch` that `m` does not have; `required` is merged as a union.
fn merge_missing(m: &mut Map<String, Value>, branch: Map<String, Value>) {
    for (key, value) in branch {
        match (key.as_str(), m.get_mut(&key)) {
            ("required", Some(Value::Array(existing))) => {
                if let Value::Array(more) = value {
                    for name in more {
                        if !existing.contains(&name) {
                            existing.push(name);
                        }
                    }
                }
            }
            ("properties", Some(Value::Object(existing))) => {
                if let Value::Object(more) = value {
                    for (name, schema) in more {
                        existing.entry(name).or_insert(schema);
                    }
                }
            }
            (_, Some(_)) => {}
            (_, None) => {
                m.insert(key, value);
            }
        }
    }
}

fn merge_all_of(m: &mut Map<String, Value>) {
    if let Some(Value::Array(branches)) = m.remove("allOf") {
        for branch in branches {
            if let Value::Object(b) = clean_branch_for_merge(branch) {
                merge_missing(m, b);
            }
        }
    }
}

/// A branch merged into its parent must itself be flattened first (nested `allOf`).
fn clean_branch_for_merge(branch: Value) -> Value {
    match branch {
        Value::Object(mut b) => {
            merge_all_of(&mut b);
            Value::Object(b)
        }
        other => other,
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn flatten_unions(m: &mut Map<String, Value>) {
    let mut branches = Vec::new();
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = m.remove(key) {
            branches.extend(list);
        }
    }
    if branches.is_empty() {
        return;
    }
    let nullable = branches.iter().any(is_null_schema);
    let mut others: Vec<Value> = branches
        .into_iter()
        .filter(|b| !is_null_schema(b))
        .collect();
    if others.len() == 1 {
        if let Some(Value::Object(only)) = others.pop().map(clean_branch_for_merge) {
            merge_missing(m, only);
        }
    } else if !others.is_empty() {
        m.insert("anyOf".into(), Value::Array(others));
    }
    if nullable {
        m.insert("nullable".into(), Value::Bool(true));
    }
}

fn flatten_type_array(m: &mut Map<String, Value>, hints: &mut Vec<String>) {
    let Some(Value::Array(types)) = m.get("type").cloned() else {
        return;
    };
    let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
    let non_null: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
    let first = non_null.first().copied().unwrap_or("string");
    m.insert("type".into(), Value::String(first.to_string()));
    if non_null.len() > 1 {
        hints.push(format!("Accepts: {}", non_null.join(" | ")));
    }
    if names.contains(&"null") {
        m.insert("nullable".into(), Value::Bool(true));
    }
}

fn convert_const_and_enum(m: &mut Map<String, Value>) {
    if let Some(c) = m.remove("const") {
        m.entry("enum").or_insert_with(|| Value::Array(vec![c]));
    }
    let Some(Value::Array(values)) = m.get("enum").cloned() else {
        return;
    };
    let boolean = m.get("type").and_then(Value::as_str) == Some("boolean")
        || (!values.is_empty() && values.iter().all(Value::is_boolean));
    if boolean {
        m.remove("enum");
        m.entry("type")
            .or_insert_with(|| Value::String("boolean".into()));
        return;
    }
    let strings = values
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        })
        .collect();
    m.insert("enum".into(), Value::Array(strings));
    m.insert("type".into(), Value::String("string".into()));
}

fn project_exclusive_bounds(m: &mut Map<String, Value>, hints: &mut Vec<String>) {
    let integer = m.get("type").and_then(Value::as_str) == Some("integer");
    for (key, inclusive, step) in [
        ("exclusiveMinimum", "minimum", 1i64),
        ("exclusiveMaximum", "maximum", -1i64),
    ] {
        let Some(value) = m.remove(key) else {
            continue;
        };
        match value {
            Value::Number(n) => {
                if let (true, Some(i)) = (integer, n.as_i64()) {
                    m.insert(inclusive.into(), Value::from(i.saturating_add(step)));
                } else {
                    m.insert(inclusive.into(), Value::Number(n.clone()));
                    hints.push(format!("{key}: {n}"));
                }
            }
            // Draft 4: a boolean flag on `minimum` / `maximum`.
            Value::Bool(true) => match m.get(inclusive).and_then(Value::as_i64) {
                Some(i) if integer => {
                    m.insert(inclusive.into(), Value::from(i.saturating_add(step)));
                }
                _ if m.contains_key(inclusive) => hints.push(format!("{key}: true")),
                _ => {}
            },
            _ => {}
        }
    }
}

fn collect_hints(m: &mut Map<String, Value>, hints: &mut Vec<String>) {
    for key in HINTED {
        if let Some(value) = m.remove(*key) {
            hints.push(format!("{key}: {}", hint_value(&value)));
        }
    }
    let unknown_format = match m.get("format") {
        Some(Value::String(f)) => !FORMATS.contains(&f.as_str()),
        Some(_) => true,
        None => false,
    };
    if unknown_format {
        if let Some(value) = m.remove("format") {
            hints.push(format!("format: {}", hint_value(&value)));
        }
    }
}

fn hint_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn clean_required(m: &mut Map<String, Value>) {
    let Some(Value::Array(required)) = m.get("required") else {
        return;
    };
    let kept: Vec<Value> = match m.get("properties") {
        Some(Value::Object(props)) => required
            .iter()
            .filter(|r| r.as_str().is_some_and(|name| props.contains_key(name)))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    if kept.is_empty() {
        m.remove("required");
    } else {
        m.insert("required".into(), Value::Array(kept));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_rejected_keywords_and_keeps_property_names() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "x",
            "type": "object",
            "additionalProperties": false,
            "patternProperties": {"^x": {"type": "string"}},
            "properties": {
                "default": {"type": "string", "default": "a", "examples": ["b"]},
                "format": {"type": "string", "format": "uri"},
                "when": {"type": "string", "format": "date-time", "x-google": 1},
                "title": {"type": "string", "title": "T"}
            },
            "required": ["default", "missing"]
        });
        assert_eq!(
            clean_for_gemini(&schema),
            json!({
                "type": "object",
                "properties": {
                    "default": {"type": "string", "description": "default: a (examples: [\"b\"])"},
                    "format": {"type": "string", "description": "format: uri"},
                    "when": {"type": "string", "format": "date-time"},
                    "title": {"type": "string"}
                },
                "required": ["default"]
            })
        );
    }

    #[test]
    fn inlines_refs_and_stops_at_cycles() {
        let schema = json!({
            "type": "object",
            "$defs": {
                "Point": {"type": "object", "properties": {"x": {"type": "number"}}},
                "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
            },
            "properties": {
                "p": {"$ref": "#/$defs/Point", "description": "where"},
                "n": {"$ref": "#/$defs/Node"},
                "ext": {"$ref": "https://example.com/s.json"}
            }
        });
        assert_eq!(
            clean_for_gemini(&schema),
            json!({
                "type": "object",
                "properties": {
                    "p": {"type": "object", "description": "where", "properties": {"x": {"type": "number"}}},
                    "n": {"type": "object", "properties": {"next": {"type": "object", "description": "See: Node"}}},
                    "ext": {"description": "See: s.json"}
                }
            })
        );
    }

    #[test]
    fn unions_consts_enums_and_bounds() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "B"},
                "c": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "d": {"const": "fixed"},
                "e": {"type": "integer", "enum": [1, 2]},
                "f": {"type": "boolean", "enum": [true]},
                "g": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
                "h": {"type": "number", "exclusiveMinimum": 0.5},
                "i": {"type": "array"},
                "j": {"type": ["integer", "string"]},
                "k": {"allOf": [{"properties": {"x": {"type": "string"}}, "required": ["x"]}]}
            }
        });
        assert_eq!(
            clean_for_gemini(&schema),
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "string", "nullable": true},
                    "b": {"type": "integer", "nullable": true, "description": "B"},
                    "c": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    "d": {"type": "string", "enum": ["fixed"]},
                    "e": {"type": "string", "enum": ["1", "2"]},
                    "f": {"type": "boolean"},
                    "g": {"type": "integer", "minimum": 1, "maximum": 9},
                    "h": {"type": "number", "minimum": 0.5, "description": "exclusiveMinimum: 0.5"},
                    "i": {"type": "array", "items": {"type": "string"}},
                    "j": {"type": "integer", "description": "Accepts: integer | string"},
                    "k": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}
                }
            })
        );
    }

    #[test]
    fn gemini_schema_to_json_schema() {
        let gemini = json!({
            "type": "OBJECT",
            "properties": {"a": {"type": "STRING", "nullable": true}, "b": {"type": "ARRAY", "items": {"type": "INTEGER"}}},
            "required": ["a"]
        });
        let plain = from_gemini(&gemini);
        assert_eq!(
            plain,
            json!({
                "type": "object",
                "properties": {"a": {"type": ["string", "null"]}, "b": {"type": "array", "items": {"type": "integer"}}},
                "required": ["a"]
            })
        );
        // And back: cleaning gives Gemini's spelling again (lowercase types are accepted).
        assert_eq!(
            clean_for_gemini(&plain),
            json!({
                "type": "object",
                "properties": {"a": {"type": "string", "nullable": true}, "b": {"type": "array", "items": {"type": "integer"}}},
                "required": ["a"]
            })
        );
    }
}
