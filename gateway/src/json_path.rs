//! Edits one path of a JSON document in place, byte for byte: every byte outside the edited
//! value stays as it was (key order, spacing, number spelling), so a payload rule never
//! re-serialises a request.
//!
//! Pure; no I/O. The input must be valid JSON (the gateway validated it, or encoded it). Paths
//! follow the part of gjson/sjson syntax CLIProxyAPI's payload rules use: keys separated by
//! `.`, `\.` for a literal dot, a number indexes an array, `-1` appends (set only). As in sjson,
//! setting through a missing key creates objects (arrays for numeric keys, padded with `null`),
//! and setting through a scalar replaces it; padding stops at [`MAX_PAD`]. A path that cannot
//! be followed (a key into an array, an index too far past its array's end) leaves the
//! document unchanged.

use crate::body::{skip_string, skip_value, skip_ws};
use std::ops::Range;

/// Split a path into keys; `None` for an empty path or an empty key.
pub fn parse(path: &str) -> Option<Vec<String>> {
    let mut keys = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.push(chars.next().unwrap_or('\\')),
            '.' => keys.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    keys.push(cur);
    (!keys.iter().any(String::is_empty)).then_some(keys)
}

/// One member of an object (`key` span starts at its quote) or one array element (`key` empty).
struct Item {
    key: Range<usize>,
    value: Range<usize>,
}

/// The members or elements of the container starting at `at` (`{` or `[`).
fn items(raw: &[u8], at: usize) -> Vec<Item> {
    let object = raw.get(at) == Some(&b'{');
    let mut out = Vec::new();
    let mut i = at + 1;
    loop {
        i = skip_ws(raw, i);
        match raw.get(i) {
            None | Some(b'}' | b']') => return out,
            Some(b',') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_start = i;
        if object {
            i = skip_string(raw, i);
            let key_end = i;
            i = skip_ws(raw, i) + 1; // ':'
            i = skip_ws(raw, i);
            let v = i;
            i = skip_value(raw, i);
            out.push(Item {
                key: key_start..key_end,
                value: v..i,
            });
        } else {
            i = skip_value(raw, i);
            out.push(Item {
                key: key_start..key_start,
                value: key_start..i,
            });
        }
    }
}

fn key_is(raw: &[u8], key: &Range<usize>, want: &str) -> bool {
    let lit = &raw[key.clone()];
    if !lit.contains(&b'\\') {
        return lit.get(1..lit.len().saturating_sub(1)) == Some(want.as_bytes());
    }
    serde_json::from_slice::<String>(lit).is_ok_and(|k| k == want)
}

/// Where the walk along `keys` ended.
enum Walk {
    /// Every key resolved: the value, and its member/element span in the parent.
    Found { item: Item, parent: usize },
    /// `keys[depth]` is missing from the container (or scalar) whose value starts at `at`.
    Missing { at: usize, depth: usize },
    /// A key cannot be followed (a name into an array).
    Blocked,
}

fn walk(raw: &[u8], keys: &[String]) -> Walk {
    let root = skip_ws(raw, 0);
    let mut at = root;
    let mut found: Option<(Item, usize)> = None;
    for (depth, key) in keys.iter().enumerate() {
        let children = match raw.get(at) {
            Some(b'{' | b'[') => items(raw, at),
            _ => return Walk::Missing { at, depth },
        };
        let hit = if raw[at] == b'{' {
            children.into_iter().find(|m| key_is(raw, &m.key, key))
        } else {
            match key.parse::<usize>() {
                Ok(n) => children.into_iter().nth(n),
                Err(_) if key == "-1" => None,
                Err(_) => return Walk::Blocked,
            }
        };
        match hit {
            Some(item) => {
                let next = item.value.start;
                found = Some((item, at));
                at = next;
            }
            None => return Walk::Missing { at, depth },
        }
    }
    match found {
        Some((item, parent)) => Walk::Found { item, parent },
        None => Walk::Blocked,
    }
}

/// Whether `path` exists in `raw`.
pub fn exists(raw: &[u8], keys: &[String]) -> bool {
    matches!(walk(raw, keys), Walk::Found { .. })
}

/// `value` nested under `keys` as sjson creates it.
/// The most `null`s a set pads an array with. An index farther past the end of its array is a
/// path that cannot be followed: a typo such as `tools.66666866` in a payload rule wrote
/// 330 MB of `null,` into every request it matched.
pub const MAX_PAD: usize = 1024;

/// Whether creating `keys` below a missing key would pad an array past [`MAX_PAD`].
fn pads_too_far(keys: &[String]) -> bool {
    keys.iter()
        .any(|k| k.parse::<usize>().is_ok_and(|n| n > MAX_PAD))
}

fn nested(keys: &[String], value: &str) -> String {
    let Some((first, rest)) = keys.split_first() else {
        return value.to_owned();
    };
    let inner = nested(rest, value);
    if first == "-1" {
        return format!("[{inner}]");
    }
    match first.parse::<usize>() {
        Ok(n) => format!("[{}{inner}]", "null,".repeat(n)),
        Err(_) => format!("{{{}:{inner}}}", serde_json::Value::from(first.as_str())),
    }
}

fn replaced(raw: &[u8], span: Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + with.len());
    out.extend_from_slice(&raw[..span.start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&raw[span.end..]);
    out
}

/// `raw`, a JSON object known not to have the member, with `member` (`"key":value`)
/// appended before its closing brace: reads only the trailing whitespace, not the body (the
/// caller knows the member is absent, e.g. from `BodyFacts`). `None` when `raw` does not end
/// in `}`.
pub fn append_member(raw: &[u8], member: &[u8]) -> Option<Vec<u8>> {
    let last_non_ws = |end: usize| raw[..end].iter().rposition(|b| !b" \t\r\n".contains(b));
    let close = last_non_ws(raw.len()).filter(|&i| raw[i] == b'}')?;
    let empty = last_non_ws(close).is_some_and(|i| raw[i] == b'{');
    let mut out = Vec::with_capacity(raw.len() + member.len() + 1);
    out.extend_from_slice(&raw[..close]);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(member);
    out.extend_from_slice(&raw[close..]);
    Some(out)
}

/// `raw` with `keys` set to the JSON text `value`; `None` when the path cannot be followed.
pub fn set(raw: &[u8], keys: &[String], value: &str) -> Option<Vec<u8>> {
    match walk(raw, keys) {
        Walk::Found { item, .. } => Some(replaced(raw, item.value, value.as_bytes())),
        Walk::Blocked => None,
        Walk::Missing { at, depth } => {
            let key = &keys[depth];
            let rest = &keys[depth + 1..];
            if pads_too_far(rest) {
                return None;
            }
            match raw.get(at) {
                Some(b'{') => {
                    let member = format!(
                        "{}:{}",
                        serde_json::Value::from(key.as_str()),
                        nested(rest, value)
                    );
                    Some(append(raw, at, &member))
                }
                Some(b'[') => {
                    let len = items(raw, at).len();
                    let pad = match key.parse::<usize>() {
                        Ok(n) => n.saturating_sub(len),
                        Err(_) => 0, // "-1": append
                    };
                    if pad > MAX_PAD {
                        return None;
                    }
                    let element = format!("{}{}", "null,".repeat(pad), nested(rest, value));
                    Some(append(raw, at, &element))
                }
                _ if pads_too_far(std::slice::from_ref(key)) => None,
                _ => {
                    // A scalar (or null) in the way: replaced by the structure, as sjson does.
                    let end = skip_value(raw, at);
                    Some(replaced(
                        raw,
                        at..end,
                        nested(&keys[depth..], value).as_bytes(),
                    ))
                }
            }
        }
    }
}

/// Insert `text` as the last member/element of the container starting at `at`.
fn append(raw: &[u8], at: usize, text: &str) -> Vec<u8> {
    let end = skip_value(raw, at) - 1; // the closing bracket
    let empty = items(raw, at).is_empty();
    let mut ins = String::with_capacity(text.len() + 1);
    if !empty {
        ins.push(',');
    }
    ins.push_str(text);
    // Insert right after the last value, before any whitespace preceding the bracket.
    let mut pos = end;
    while pos > at + 1 && matches!(raw[pos - 1], b' ' | b'\t' | b'\n' | b'\r') {
        pos -= 1;
    }
    replaced(raw, pos..pos, ins.as_bytes())
}

/// `raw` without `keys`; `None` when it is not there.
pub fn delete(raw: &[u8], keys: &[String]) -> Option<Vec<u8>> {
    let Walk::Found { item, parent } = walk(raw, keys) else {
        return None;
    };
    let start = if raw[parent] == b'{' {
        item.key.start
    } else {
        item.value.start
    };
    let after = skip_ws(raw, item.value.end);
    if raw.get(after) == Some(&b',') {
        let next = skip_ws(raw, after + 1);
        return Some(replaced(raw, start..next, b""));
    }
    let mut before = start;
    while before > parent + 1 && matches!(raw[before - 1], b' ' | b'\t' | b'\n' | b'\r') {
        before -= 1;
    }
    if raw[before - 1] == b',' {
        return Some(replaced(raw, before - 1..item.value.end, b""));
    }
    Some(replaced(raw, start..item.value.end, b""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_member_adds_before_the_closing_brace() {
        let m = br#""s":{"u":true}"#;
        let cases: [(&[u8], &[u8]); 4] = [
            (br#"{"a":1}"#, br#"{"a":1,"s":{"u":true}}"#),
            (b"{\"a\":{}} \n", b"{\"a\":{},\"s\":{\"u\":true}} \n"),
            (b"{ }", br#"{ "s":{"u":true}}"#),
            (b"{\n}\n", b"{\n\"s\":{\"u\":true}}\n"),
        ];
        for (raw, want) in cases {
            let got = append_member(raw, m).unwrap();
            assert_eq!(got, want, "{}", String::from_utf8_lossy(raw));
            serde_json::from_slice::<serde_json::Value>(&got).unwrap();
        }
        assert_eq!(append_member(b"[1]", m), None);
        assert_eq!(append_member(b"", m), None);
        assert_eq!(append_member(b"   ", m), None);
    }

    fn k(p: &str) -> Vec<String> {
        parse(p).unwrap()
    }
    fn s(v: Option<Vec<u8>>) -> String {
        String::from_utf8(v.unwrap()).unwrap()
    }

    #[test]
    fn paths() {
        assert_eq!(k("a.b\\.c.0"), ["a", "b.c", "0"]);
        assert_eq!(parse(""), None);
        assert_eq!(parse("a..b"), None);
    }

    #[test]
    fn set_replaces_in_place_and_keeps_every_other_byte() {
        let raw = br#"{ "z": 1, "generationConfig": {"thinkingConfig": {"thinkingBudget": 100}} , "a":[1] }"#;
        let out = s(set(
            raw,
            &k("generationConfig.thinkingConfig.thinkingBudget"),
            "32768",
        ));
        assert_eq!(
            out,
            r#"{ "z": 1, "generationConfig": {"thinkingConfig": {"thinkingBudget": 32768}} , "a":[1] }"#
        );
        assert!(exists(raw, &k("a.0")));
        assert!(!exists(raw, &k("a.1")));
        assert!(!exists(raw, &k("generationConfig.x")));
    }

    #[test]
    fn set_creates_missing_structure() {
        assert_eq!(s(set(b"{}", &k("a.b"), "1")), r#"{"a":{"b":1}}"#);
        assert_eq!(
            s(set(br#"{"x":true }"#, &k("r.effort"), r#""high""#)),
            r#"{"x":true,"r":{"effort":"high"} }"#
        );
        assert_eq!(s(set(br#"{"a":[1]}"#, &k("a.-1"), "2")), r#"{"a":[1,2]}"#);
        assert_eq!(
            s(set(br#"{"a":[]}"#, &k("a.2"), "2")),
            r#"{"a":[null,null,2]}"#
        );
        assert_eq!(s(set(br#"{"a":"s"}"#, &k("a.b"), "2")), r#"{"a":{"b":2}}"#);
        assert_eq!(s(set(b"{}", &k("a.1.b"), "2")), r#"{"a":[null,{"b":2}]}"#);
        assert_eq!(set(br#"{"a":[1]}"#, &k("a.b"), "2"), None);
        // Padding is bounded: past MAX_PAD the path cannot be followed.
        assert_eq!(set(br#"{"a":[1]}"#, &k("a.1026"), "2"), None);
        assert!(set(br#"{"a":[1]}"#, &k("a.1025"), "2").is_some());
        assert_eq!(set(b"{}", &k("a.66666866"), "2"), None);
        assert_eq!(set(b"0", &k("66666866"), "0"), None);
        assert_eq!(set(br#"{"a":"s"}"#, &k("a.0.2000"), "0"), None);
        assert_eq!(s(set(br#"{"k\"q":1}"#, &k("k\"q"), "2")), r#"{"k\"q":2}"#);
    }

    #[test]
    fn delete_removes_member_and_one_comma() {
        let d = |raw: &[u8], p: &str| delete(raw, &k(p)).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(d(br#"{"a":1,"b":2}"#, "a").unwrap(), r#"{"b":2}"#);
        assert_eq!(d(br#"{"a":1, "b":2}"#, "b").unwrap(), r#"{"a":1}"#);
        assert_eq!(d(br#"{"a":1}"#, "a").unwrap(), r#"{}"#);
        assert_eq!(
            d(br#"{"a":{"x":[1,2,3]}}"#, "a.x.1").unwrap(),
            r#"{"a":{"x":[1,3]}}"#
        );
        assert_eq!(d(br#"{"a":1}"#, "b"), None);
        for raw in [
            &br#"{"a":1,"b":{"c":2},"d":[3]}"#[..],
            br#"{ "b" : {"c":2} }"#,
        ] {
            for p in ["a", "b", "b.c", "d", "d.0"] {
                if let Some(out) = delete(raw, &k(p)) {
                    serde_json::from_slice::<serde_json::Value>(&out).unwrap();
                }
            }
        }
    }
}
