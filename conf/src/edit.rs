//! Editing `config.yaml` in place: one node changes and the rest of the operator's file (its
//! comments, key order, quoting and blank lines) stays byte for byte.
//!
//! Pure; no I/O. The YAML event parser (`granit-parser`, the one `serde-saphyr` uses) reports
//! where every node is in the text; [`set`] finds the node at a key path and replaces the text
//! from the end of its key to the end of its value, inserts a missing key after its parent's
//! last entry, or removes a key's lines. New values are written in block style (two spaces per
//! level), strings plain when YAML reads them back as the same string, else double-quoted.
//!
//! Every edit checks itself: the new text must parse to the old document with exactly that
//! one change ([`document_json`] before and after). An edit that cannot be made in place
//! (a flow-style parent such as `routing: {strategy: x}`, anchors) is refused with
//! [`EditError::NotInPlace`] rather than written wrong.

use crate::node::Node;
use crate::Problem;
use granit_parser::{Event, Parser};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The current file does not parse (it is validated before any edit, so this is rare).
    #[error("config.yaml is not valid YAML: {0}")]
    Syntax(String),
    /// A key on the path holds something other than a mapping.
    #[error("{path}: is not a mapping")]
    NotAMapping { path: String },
    #[error("{path}: cannot be edited in place (flow style, anchors or an unusual layout); edit config.yaml and PUT it whole")]
    NotInPlace { path: String },
}

/// The document as JSON (mappings in file order when serde_json keeps order, integers as
/// numbers), for reading values and for checking edits.
pub fn document_json(text: &str) -> Result<Value, Problem> {
    Ok(node_json(&crate::parse::parse_yaml(text)?))
}

fn node_json(node: &Node) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => i64::try_from(*i)
            .map(Value::from)
            .or_else(|_| u64::try_from(*i).map(Value::from))
            .unwrap_or_else(|_| Value::String(i.to_string())),
        Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Seq(items) => Value::Array(items.iter().map(node_json).collect()),
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), node_json(v)))
                .collect(),
        ),
    }
}

/// `text` with the value at `path` (mapping keys from the top) set to `value`, or the key
/// removed when `value` is `None` (removing a missing key changes nothing). Missing parent
/// mappings are created.
pub fn set(text: &str, path: &[&str], value: Option<&Value>) -> Result<String, EditError> {
    let shown = path.join(".");
    let not_in_place = || EditError::NotInPlace {
        path: shown.clone(),
    };
    let before = document_json(text).map_err(|p| EditError::Syntax(p.message))?;
    let mut expected = before.clone();
    if !expect_set(&mut expected, path, value) {
        return Err(EditError::NotAMapping { path: shown });
    }
    if expected == before {
        return Ok(text.to_owned());
    }
    let root = spans(text).ok_or_else(not_in_place)?;
    let out = edit(text, &root, path, value).ok_or_else(not_in_place)?;
    match document_json(&out) {
        Ok(after) if after == expected => Ok(out),
        _ => Err(not_in_place()),
    }
}

/// What [`set`] must produce, on the JSON document; `false` when a key on the way is not a
/// mapping.
fn expect_set(doc: &mut Value, path: &[&str], value: Option<&Value>) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    if doc.is_null() {
        *doc = Value::Object(Map::new());
    }
    let mut at = doc;
    for key in parents {
        let Value::Object(map) = at else {
            return false;
        };
        let child = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if child.is_null() {
            *child = Value::Object(Map::new());
        }
        if value.is_none() && !child.is_object() {
            return false;
        }
        at = child;
    }
    let Value::Object(map) = at else {
        return false;
    };
    match value {
        Some(v) => {
            map.insert((*last).to_owned(), v.clone());
        }
        None => {
            map.remove(*last);
        }
    }
    true
}

/// A node of the text with where it is: byte offsets, and for mapping keys their column.
#[derive(Debug)]
enum Spanned {
    Scalar {
        end: usize,
    },
    Seq {
        end: usize,
    },
    Map {
        end: usize,
        flow: bool,
        entries: Vec<Entry>,
    },
}

#[derive(Debug)]
struct Entry {
    key: String,
    key_start: usize,
    key_end: usize,
    key_col: usize,
    value: Spanned,
}

impl Spanned {
    fn end(&self) -> usize {
        match self {
            Spanned::Scalar { end, .. } | Spanned::Seq { end, .. } | Spanned::Map { end, .. } => {
                *end
            }
        }
    }
}

struct Ev<'a> {
    event: Event<'a>,
    start: usize,
    end: usize,
    col: usize,
}

/// The document's top-level node with spans; an empty document is an empty block mapping.
fn spans(text: &str) -> Option<Spanned> {
    let mut events = Vec::new();
    for next in Parser::new_from_str(text) {
        let (event, span) = next.ok()?;
        match event {
            Event::Comment(..)
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(..)
            | Event::DocumentEnd => continue,
            Event::Alias(_) | Event::Anchor(..) | Event::UnresolvedAlias(_) => return None,
            _ => {}
        }
        events.push(Ev {
            event,
            start: span.start.byte_offset()?,
            end: span.end.byte_offset()?,
            col: span.start.col(),
        });
    }
    if events.is_empty() {
        return Some(Spanned::Map {
            end: 0,
            flow: false,
            entries: Vec::new(),
        });
    }
    let mut at = 0;
    let root = node(text, &events, &mut at)?;
    match root {
        // `~` or an empty scalar document: an empty mapping.
        Spanned::Scalar { .. } if events.len() == 1 => Some(Spanned::Map {
            end: 0,
            flow: false,
            entries: Vec::new(),
        }),
        other => Some(other),
    }
}

fn node(text: &str, events: &[Ev<'_>], at: &mut usize) -> Option<Spanned> {
    let ev = events.get(*at)?;
    *at += 1;
    match &ev.event {
        Event::Scalar(..) => Some(Spanned::Scalar { end: ev.end }),
        Event::SequenceStart(..) => {
            let mut end = ev.end;
            loop {
                let next = events.get(*at)?;
                if matches!(next.event, Event::SequenceEnd) {
                    *at += 1;
                    if next.end > next.start {
                        end = end.max(next.end);
                    }
                    return Some(Spanned::Seq { end });
                }
                end = end.max(node(text, events, at)?.end());
            }
        }
        Event::MappingStart(..) => {
            let flow = text.as_bytes().get(ev.start) == Some(&b'{');
            let mut end = ev.end;
            let mut entries = Vec::new();
            loop {
                let next = events.get(*at)?;
                if matches!(next.event, Event::MappingEnd) {
                    *at += 1;
                    if next.end > next.start {
                        end = end.max(next.end);
                    }
                    return Some(Spanned::Map { end, flow, entries });
                }
                let Event::Scalar(key, ..) = &next.event else {
                    return None;
                };
                let (key, key_start, key_end, key_col) =
                    (key.to_string(), next.start, next.end, next.col);
                *at += 1;
                let value = node(text, events, at)?;
                end = end.max(value.end()).max(key_end);
                entries.push(Entry {
                    key,
                    key_start,
                    key_end,
                    key_col,
                    value,
                });
            }
        }
        _ => None,
    }
}

fn edit(text: &str, root: &Spanned, path: &[&str], value: Option<&Value>) -> Option<String> {
    let mut parent = root;
    for (depth, key) in path.iter().enumerate() {
        let Spanned::Map { flow, entries, .. } = parent else {
            return None;
        };
        let rest = &path[depth + 1..];
        let found = entries.iter().find(|e| e.key == *key);
        match (found, value) {
            (None, None) => return Some(text.to_owned()),
            (None, Some(v)) => {
                if *flow {
                    return None;
                }
                return Some(insert(text, parent, key, &nested(rest, v)));
            }
            (Some(entry), _) if rest.is_empty() => {
                return match value {
                    Some(v) => Some(replace(text, entry, v)),
                    None => remove(text, entry),
                };
            }
            (Some(entry), _) => match &entry.value {
                Spanned::Map { .. } => parent = &entry.value,
                // `routing:` with nothing under it: the whole value is written.
                Spanned::Scalar { .. } => return Some(replace(text, entry, &nested(rest, value?))),
                Spanned::Seq { .. } => return None,
            },
        }
    }
    None
}

/// `{rest[0]: {rest[1]: ... value}}`, or `value` itself when `rest` is empty.
fn nested(rest: &[&str], value: &Value) -> Value {
    rest.iter().rev().fold(value.clone(), |inner, key| {
        let mut map = Map::new();
        map.insert((*key).to_owned(), inner);
        Value::Object(map)
    })
}

/// The entry's text from the end of its key to the end of its value, rewritten.
fn replace(text: &str, entry: &Entry, value: &Value) -> String {
    let colon = text[entry.key_end..]
        .find(':')
        .map_or(entry.key_end, |i| entry.key_end + i + 1);
    let end = entry.value.end().max(colon);
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..entry.key_end]);
    out.push_str(&after_key(value, entry.key_col));
    out.push_str(&text[end..]);
    out
}

/// A new `key: value` after the mapping's last entry, at its entries' indentation.
fn insert(text: &str, map: &Spanned, key: &str, value: &Value) -> String {
    let Spanned::Map { entries, end, .. } = map else {
        return text.to_owned();
    };
    let (col, at) = match entries.first() {
        Some(first) => (first.key_col, line_end(text, *end)),
        None => (0, text.len()),
    };
    let mut line = String::new();
    if at > 0 && !text[..at].ends_with('\n') {
        line.push('\n');
    }
    line.push_str(&" ".repeat(col));
    line.push_str(&scalar_text(key));
    line.push_str(&after_key(value, col));
    let mut out = String::with_capacity(text.len() + line.len() + 1);
    out.push_str(&text[..at]);
    out.push_str(&line);
    if at == text.len() {
        out.push('\n');
        out.push_str(&text[at..]);
    } else {
        // `at` is a line end: the new line goes before that line break.
        out.push_str(&text[at..]);
    }
    out
}

/// The entry's lines removed (from its line's start to the end of its value's last line).
fn remove(text: &str, entry: &Entry) -> Option<String> {
    let line_start = text[..entry.key_start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..entry.key_start].trim().is_empty() {
        return None;
    }
    let end = line_end(text, entry.value.end().max(entry.key_end));
    let end = if text[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    Some(format!("{}{}", &text[..line_start], &text[end..]))
}

/// The offset of the line break ending the line `at` is on (or the text's end).
fn line_end(text: &str, at: usize) -> usize {
    // A block collection's span may end at the start of the next line.
    let at = if at > 0 && text[..at].ends_with('\n') {
        at - 1
    } else {
        at
    };
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

/// What follows a key at column `col`: `: scalar`, or `:` and a block below it.
fn after_key(value: &Value, col: usize) -> String {
    match value {
        Value::Array(items) if !items.is_empty() => {
            let mut out = String::from(":");
            for item in items {
                out.push('\n');
                out.push_str(&" ".repeat(col + 2));
                out.push_str("- ");
                out.push_str(&item_text(item, col + 4));
            }
            out
        }
        Value::Object(map) if !map.is_empty() => {
            let mut out = String::from(":");
            for (k, v) in map {
                out.push('\n');
                out.push_str(&" ".repeat(col + 2));
                out.push_str(&scalar_text(k));
                out.push_str(&after_key(v, col + 2));
            }
            out
        }
        other => format!(": {}", inline(other)),
    }
}

/// A sequence item's text after its `- `, its content starting at column `col`.
fn item_text(value: &Value, col: usize) -> String {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut out = String::new();
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(col));
                }
                out.push_str(&scalar_text(k));
                out.push_str(&after_key(v, col));
            }
            out
        }
        Value::Array(items) if !items.is_empty() => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(col));
                }
                out.push_str("- ");
                out.push_str(&item_text(item, col + 2));
            }
            out
        }
        other => inline(other),
    }
}

/// Scalars and empty collections on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => scalar_text(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
        other => other.to_string(),
    }
}

/// A string plain when YAML reads it back as the same string, else double-quoted (JSON's
/// escapes are YAML's).
fn scalar_text(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "null");
    if plain {
        s.to_owned()
    } else {
        serde_json::Value::String(s.to_owned()).to_string()
    }
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
