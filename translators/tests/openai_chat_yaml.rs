//! A small YAML reader for the VCR cassettes under `shared/fixtures/upstream/openai-chat`
//! (pydantic-ai writes them with PyYAML): block mappings and sequences, plain, single- and
//! double-quoted scalars (with line folding and escapes), `|`/`>` block scalars with chomping,
//! empty flow collections. Enough for those files; not a general YAML parser. The crate may
//! not take a YAML dependency, so the tests carry this instead.
//!
//! Included by `openai_chat_fixtures.rs` (`#[path]`); its own tests run here.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Number, Value};

/// Parse a YAML document into JSON.
pub fn parse(text: &str) -> Value {
    let mut p = Parser {
        lines: text.lines().map(str::to_owned).collect(),
        i: 0,
    };
    p.skip_blank();
    if p.i >= p.lines.len() {
        return Value::Null;
    }
    let ind = p.indent(p.i);
    p.node(ind)
}

struct Parser {
    lines: Vec<String>,
    i: usize,
}

fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn is_blank(l: &str) -> bool {
    let t = l.trim();
    t.is_empty() || t.starts_with('#')
}

fn is_seq_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

impl Parser {
    fn indent(&self, i: usize) -> usize {
        indent_of(&self.lines[i])
    }

    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && is_blank(&self.lines[self.i]) {
            self.i += 1;
        }
    }

    /// The block node starting at line `i`, indented by `ind`.
    fn node(&mut self, ind: usize) -> Value {
        let t = self.lines[self.i].trim_start().to_owned();
        if is_seq_item(&t) {
            self.sequence(ind)
        } else if key_split(&t).is_some() {
            self.mapping(ind)
        } else {
            let (v, _) = self.scalar(ind.saturating_sub(1), ind);
            v
        }
    }

    fn sequence(&mut self, ind: usize) -> Value {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() || self.indent(self.i) != ind {
                break;
            }
            let t = self.lines[self.i].trim_start().to_owned();
            if !is_seq_item(&t) {
                break;
            }
            let rest = t[1..].trim_start();
            if rest.is_empty() {
                self.i += 1;
                self.skip_blank();
                if self.i < self.lines.len() && self.indent(self.i) > ind {
                    let child = self.indent(self.i);
                    items.push(self.node(child));
                } else {
                    items.push(Value::Null);
                }
            } else {
                // Re-indent the item's content as if it started on its own line.
                let col = ind + (t.len() - rest.len());
                self.lines[self.i] = format!("{}{}", " ".repeat(col), rest);
                items.push(self.node(col));
            }
        }
        Value::Array(items)
    }

    fn mapping(&mut self, ind: usize) -> Value {
        let mut map = Map::new();
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() || self.indent(self.i) != ind {
                break;
            }
            let t = self.lines[self.i].trim_start().to_owned();
            let Some((key, rest)) = key_split(&t) else {
                break;
            };
            let value = if rest.is_empty() {
                self.i += 1;
                self.skip_blank();
                if self.i >= self.lines.len() {
                    Value::Null
                } else {
                    let child = self.indent(self.i);
                    let ct = self.lines[self.i].trim_start().to_owned();
                    if child > ind || (child == ind && is_seq_item(&ct)) {
                        self.node(child)
                    } else {
                        Value::Null
                    }
                }
            } else {
                let col = ind + (t.len() - rest.len());
                self.lines[self.i] = format!("{}{}", " ".repeat(col), rest);
                let (v, _) = self.scalar(ind, col);
                v
            };
            map.insert(key, value);
        }
        Value::Object(map)
    }

    /// A scalar starting on line `i` at column `col`, belonging to a node indented by
    /// `parent`. Returns the value and whether it was quoted.
    fn scalar(&mut self, parent: usize, col: usize) -> (Value, bool) {
        let line = self.lines[self.i].clone();
        let t = &line[col.min(line.len())..];
        match t.chars().next() {
            Some('|') | Some('>') => (Value::String(self.block_scalar(parent, t)), true),
            Some('"') => (Value::String(self.quoted(col, '"')), true),
            Some('\'') => (Value::String(self.quoted(col, '\'')), true),
            _ => {
                if t == "{}" {
                    self.i += 1;
                    return (Value::Object(Map::new()), false);
                }
                if t == "[]" {
                    self.i += 1;
                    return (Value::Array(Vec::new()), false);
                }
                let mut s = t.trim_end().to_owned();
                self.i += 1;
                let mut breaks = 0;
                while self.i < self.lines.len() {
                    let l = &self.lines[self.i];
                    if l.trim().is_empty() {
                        breaks += 1;
                        self.i += 1;
                        continue;
                    }
                    if indent_of(l) <= parent || l.trim_start().starts_with('#') {
                        break;
                    }
                    s.push_str(&if breaks == 0 {
                        " ".to_owned()
                    } else {
                        "\n".repeat(breaks)
                    });
                    s.push_str(l.trim());
                    breaks = 0;
                    self.i += 1;
                }
                (resolve_plain(&s), false)
            }
        }
    }

    fn block_scalar(&mut self, parent: usize, header: &str) -> String {
        let folded = header.starts_with('>');
        let chomp = if header.contains('+') {
            '+'
        } else if header.contains('-') {
            '-'
        } else {
            ' '
        };
        let explicit = header
            .chars()
            .find(|c| c.is_ascii_digit())
            .and_then(|c| c.to_digit(10))
            .map(|d| parent + d as usize);
        self.i += 1;
        let mut content_ind = explicit;
        let mut lines: Vec<String> = Vec::new();
        while self.i < self.lines.len() {
            let l = &self.lines[self.i];
            if l.trim().is_empty() {
                lines.push(String::new());
                self.i += 1;
                continue;
            }
            let ind = indent_of(l);
            let ci = *content_ind.get_or_insert(ind);
            if ind < ci || ind <= parent {
                break;
            }
            lines.push(l[ci..].to_owned());
            self.i += 1;
        }
        let trailing = lines.iter().rev().take_while(|l| l.is_empty()).count();
        let body = &lines[..lines.len() - trailing];
        let mut s = if folded {
            let mut out = String::new();
            for (k, l) in body.iter().enumerate() {
                if k > 0 {
                    out.push(if l.is_empty() || body[k - 1].is_empty() {
                        '\n'
                    } else {
                        ' '
                    });
                }
                out.push_str(l);
            }
            out
        } else {
            body.join("\n")
        };
        match chomp {
            '+' => {
                if !body.is_empty() {
                    s.push('\n');
                }
                s.push_str(&"\n".repeat(trailing));
            }
            '-' => {}
            _ => {
                if !body.is_empty() {
                    s.push('\n');
                }
            }
        }
        s
    }

    /// A quoted scalar from line `i`, column `col` (the opening quote), possibly spanning
    /// lines; leaves `i` after its last line.
    fn quoted(&mut self, col: usize, q: char) -> String {
        let mut out = String::new();
        let mut keep = 0; // `out` up to here must not be trimmed (escapes)
        let mut line = self.lines[self.i].clone();
        let mut chars: Vec<char> = line[col + 1..].chars().collect();
        let mut k = 0;
        loop {
            if k >= chars.len() {
                // Line folding.
                let trimmed = out[keep..].trim_end_matches([' ', '\t']).len() + keep;
                out.truncate(trimmed);
                self.i += 1;
                let mut breaks = 0;
                while self.i < self.lines.len() && self.lines[self.i].trim().is_empty() {
                    breaks += 1;
                    self.i += 1;
                }
                if self.i >= self.lines.len() {
                    return out;
                }
                out.push_str(&if breaks == 0 {
                    " ".to_owned()
                } else {
                    "\n".repeat(breaks)
                });
                line = self.lines[self.i].clone();
                chars = line.trim_start().chars().collect();
                k = 0;
                continue;
            }
            let c = chars[k];
            if c == q {
                if q == '\'' && chars.get(k + 1) == Some(&'\'') {
                    out.push('\'');
                    k += 2;
                    continue;
                }
                self.i += 1;
                return out;
            }
            if q == '"' && c == '\\' {
                let Some(&e) = chars.get(k + 1) else {
                    // Escaped line break: join without a space.
                    self.i += 1;
                    line = self.lines[self.i].clone();
                    chars = line.trim_start().chars().collect();
                    k = 0;
                    keep = out.len();
                    continue;
                };
                k += 2;
                let hex = |n: usize, k: &mut usize| {
                    let h: String = chars[*k..(*k + n).min(chars.len())].iter().collect();
                    *k += n;
                    u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
                };
                let ch = match e {
                    'n' => Some('\n'),
                    't' | '\t' => Some('\t'),
                    'r' => Some('\r'),
                    '0' => Some('\0'),
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'e' => Some('\x1b'),
                    'f' => Some('\x0c'),
                    'v' => Some('\x0b'),
                    'N' => Some('\u{85}'),
                    '_' => Some('\u{a0}'),
                    'L' => Some('\u{2028}'),
                    'P' => Some('\u{2029}'),
                    'x' => hex(2, &mut k),
                    'u' => hex(4, &mut k),
                    'U' => hex(8, &mut k),
                    other => Some(other),
                };
                if let Some(ch) = ch {
                    out.push(ch);
                }
                keep = out.len();
                continue;
            }
            out.push(c);
            k += 1;
        }
    }
}

/// `key: rest` → (key, rest); quoted keys allowed.
fn key_split(t: &str) -> Option<(String, &str)> {
    if let Some(q) = t.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = t[1..].find(q)? + 1;
        let after = &t[end + 1..];
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((t[1..end].to_owned(), rest.trim_start()));
    }
    if t.starts_with('{') || t.starts_with('[') {
        return None;
    }
    if let Some(k) = t.strip_suffix(':') {
        if !k.contains(": ") {
            return Some((k.to_owned(), ""));
        }
    }
    let pos = t.find(": ")?;
    Some((t[..pos].to_owned(), t[pos + 2..].trim_start()))
}

fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Value::Number(i.into());
    }
    let looks_numeric = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && s.chars().any(|c| c.is_ascii_digit());
    if looks_numeric {
        if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::json;

    #[test]
    fn subset() {
        let doc = "a:\n- b: 1\n  c: 'it''s\n    folded'\n- plain text\n  continued\nd: \"x\\n\\\n  \\ y\"\ne: |+\n  line1\n\n  line2\n\nf: {}\ng:\n  h: null\n  i: 0.5\n";
        assert_eq!(
            parse(doc),
            json!({
                "a": [{"b": 1, "c": "it's folded"}, "plain text continued"],
                "d": "x\n y",
                "e": "line1\n\nline2\n\n",
                "f": {},
                "g": {"h": null, "i": 0.5},
            })
        );
    }
}
