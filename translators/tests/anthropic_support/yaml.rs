//! Just enough YAML to read the VCR cassettes under `shared/fixtures/upstream/` (block
//! mappings and sequences, plain / single- / double-quoted scalars with line folding, literal
//! blocks, `!!binary`), into `serde_json::Value`. The translators crate takes no YAML
//! dependency, so its tests carry this instead; a cassette this cannot read fails loudly.

use serde_json::{Map, Number, Value};

struct Line {
    indent: usize,
    text: String,
}

pub fn parse(src: &str) -> Value {
    let mut lines: Vec<Line> = src
        .split('\n')
        .take_while(|l| *l != "..." && *l != "---")
        .map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let indent = l.len() - l.trim_start_matches(' ').len();
            Line {
                indent,
                text: l[indent..].to_string(),
            }
        })
        .collect();
    let mut i = 0;
    skip_blank(&lines, &mut i);
    let indent = lines.get(i).map_or(0, |l| l.indent);
    node(&mut lines, &mut i, indent)
}

fn skip_blank(lines: &[Line], i: &mut usize) {
    while *i < lines.len() && (lines[*i].text.is_empty() || lines[*i].text.starts_with('#')) {
        *i += 1;
    }
}

fn node(lines: &mut Vec<Line>, i: &mut usize, indent: usize) -> Value {
    skip_blank(lines, i);
    if *i >= lines.len() {
        return Value::Null;
    }
    if lines[*i].text == "-" || lines[*i].text.starts_with("- ") {
        sequence(lines, i, indent)
    } else {
        mapping(lines, i, indent)
    }
}

fn sequence(lines: &mut Vec<Line>, i: &mut usize, indent: usize) -> Value {
    let mut items = Vec::new();
    loop {
        skip_blank(lines, i);
        if *i >= lines.len() || lines[*i].indent != indent {
            break;
        }
        let t = &lines[*i].text;
        if t == "-" {
            *i += 1;
            skip_blank(lines, i);
            let child = lines.get(*i).map_or(indent + 2, |l| l.indent);
            items.push(node(lines, i, child));
        } else if let Some(rest) = t.strip_prefix("- ") {
            let rest_trim = rest.trim_start();
            let extra = rest.len() - rest_trim.len();
            lines[*i] = Line {
                indent: indent + 2 + extra,
                text: rest_trim.to_string(),
            };
            if is_key_line(&lines[*i].text) || lines[*i].text.starts_with("- ") {
                let ind = lines[*i].indent;
                items.push(node(lines, i, ind));
            } else {
                items.push(value_at(lines, i, indent));
            }
        } else {
            break;
        }
    }
    Value::Array(items)
}

/// `key: value` or `key:` (key plain or quoted).
fn split_key(t: &str) -> Option<(String, &str)> {
    if let Some(q) = t.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let end = t[1..].find(q)? + 1;
        let rest = t[end + 1..].strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((t[1..end].to_string(), rest.trim_start()));
    }
    if let Some(k) = t.strip_suffix(':') {
        if !k.contains(": ") {
            return Some((k.to_string(), ""));
        }
    }
    let p = t.find(": ")?;
    Some((t[..p].to_string(), t[p + 2..].trim_start()))
}

fn is_key_line(t: &str) -> bool {
    !t.starts_with('\'') && !t.starts_with('"') && split_key(t).is_some()
        || (t.starts_with('\'') || t.starts_with('"')) && split_key(t).is_some()
}

fn mapping(lines: &mut Vec<Line>, i: &mut usize, indent: usize) -> Value {
    let mut map = Map::new();
    loop {
        skip_blank(lines, i);
        if *i >= lines.len() || lines[*i].indent != indent {
            break;
        }
        let Some((key, rest)) = split_key(&lines[*i].text) else {
            panic!(
                "yaml: expected `key:` at line {}: {:?}",
                *i + 1,
                lines[*i].text
            );
        };
        let rest = rest.to_string();
        let v = if rest.is_empty() {
            *i += 1;
            skip_blank(lines, i);
            match lines.get(*i) {
                Some(l) if l.indent > indent => {
                    let ind = l.indent;
                    node(lines, i, ind)
                }
                Some(l) if l.indent == indent && (l.text == "-" || l.text.starts_with("- ")) => {
                    sequence(lines, i, indent)
                }
                _ => Value::Null,
            }
        } else {
            lines[*i].text = rest;
            value_at(lines, i, indent)
        };
        map.insert(key, v);
    }
    Value::Object(map)
}

/// The scalar starting at `lines[*i].text`, owned by a key at `indent`; consumes its lines.
fn value_at(lines: &mut [Line], i: &mut usize, indent: usize) -> Value {
    let t = lines[*i].text.clone();
    if t.starts_with("!!binary") {
        let s = block(lines, i, indent, "|");
        return Value::String(s.split_whitespace().collect());
    }
    if t.starts_with('|') || t.starts_with('>') {
        return Value::String(block(lines, i, indent, &t));
    }
    if t.starts_with('\'') || t.starts_with('"') {
        return Value::String(quoted(lines, i, t.starts_with('"')));
    }
    // Plain scalar, possibly continued on more-indented lines.
    let mut s = t.trim_end().to_string();
    *i += 1;
    while *i < lines.len() && lines[*i].indent > indent && !lines[*i].text.is_empty() {
        s.push(' ');
        s.push_str(lines[*i].text.trim_end());
        *i += 1;
    }
    plain(&s)
}

fn plain(s: &str) -> Value {
    match s {
        "null" | "~" | "" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "[]" => Value::Array(Vec::new()),
        "{}" => Value::Object(Map::new()),
        _ => {
            if let Ok(n) = s.parse::<i64>() {
                return Value::Number(n.into());
            }
            if s.contains('.') || s.contains('e') {
                if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
                    return Value::Number(n);
                }
            }
            Value::String(s.to_string())
        }
    }
}

/// Literal (`|`, `|+`, `|-`) or folded (`>`) block; content lines are indented past `indent`.
fn block(lines: &mut [Line], i: &mut usize, indent: usize, header: &str) -> String {
    let folded = header.starts_with('>');
    let keep = header.contains('+');
    let strip = header.contains('-');
    *i += 1;
    let mut raw: Vec<(usize, String)> = Vec::new();
    while *i < lines.len() && (lines[*i].text.is_empty() || lines[*i].indent > indent) {
        raw.push((lines[*i].indent, lines[*i].text.clone()));
        *i += 1;
    }
    // Trailing blank lines belong to the block only with `+`; give them back otherwise.
    let block_indent = raw
        .iter()
        .find(|(_, t)| !t.is_empty())
        .map_or(indent + 2, |(n, _)| *n);
    let mut body: Vec<String> = raw
        .iter()
        .map(|(n, t)| {
            if t.is_empty() {
                String::new()
            } else {
                format!("{}{}", " ".repeat(n - block_indent), t)
            }
        })
        .collect();
    let mut trailing = 0;
    while body.last().is_some_and(String::is_empty) {
        body.pop();
        trailing += 1;
    }
    let mut s = if folded {
        body.join(" ")
    } else {
        body.join("\n")
    };
    if !body.is_empty() {
        if keep {
            s.push('\n');
            for _ in 0..trailing {
                s.push('\n');
            }
        } else if !strip {
            s.push('\n');
        }
    }
    s
}

/// A quoted scalar that may span lines (line break = space, empty line = newline, `\` at
/// the end of a double-quoted line = no space).
fn quoted(lines: &mut [Line], i: &mut usize, double: bool) -> String {
    let q = if double { '"' } else { '\'' };
    let mut out = String::new();
    let mut first = true;
    let mut breaks = 0usize;
    let mut escaped_break = false;
    loop {
        assert!(*i < lines.len(), "yaml: unterminated quoted scalar");
        let text = lines[*i].text.clone();
        *i += 1;
        let seg: &str = if first { &text[1..] } else { text.trim_start() };
        if !first {
            if seg.is_empty() {
                breaks += 1;
                continue;
            }
            if escaped_break {
            } else if breaks > 0 {
                out.push_str(&"\n".repeat(breaks));
            } else {
                out.push(' ');
            }
            breaks = 0;
            escaped_break = false;
        }
        first = false;
        let mut chars = seg.chars().peekable();
        while let Some(c) = chars.next() {
            if c == q {
                if !double && chars.peek() == Some(&'\'') {
                    chars.next();
                    out.push('\'');
                    continue;
                }
                return out;
            }
            if double && c == '\\' {
                match chars.next() {
                    None => escaped_break = true,
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some(' ') => out.push(' '),
                    Some('0') => out.push('\0'),
                    Some('e') => out.push('\u{1b}'),
                    Some('x') => out.push(hex(&mut chars, 2)),
                    Some('u') => out.push(hex(&mut chars, 4)),
                    Some('U') => out.push(hex(&mut chars, 8)),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            out.push(c);
        }
        if !escaped_break {
            let t = out.trim_end_matches(' ').len();
            out.truncate(t);
        }
    }
}

fn hex(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize) -> char {
    let s: String = (0..n).filter_map(|_| chars.next()).collect();
    u32::from_str_radix(&s, 16)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}')
}
