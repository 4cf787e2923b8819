//! A YAML reader for the VCR cassettes under `../shared/fixtures/upstream/` (the translators
//! crate has no YAML dependency, and tests may not add one). It covers what PyYAML writes in
//! block style: mappings, sequences (also unindented under a key), plain / single-quoted /
//! double-quoted scalars folded over several lines, literal and folded block scalars with
//! chomping, `!!binary` (kept as `{"!!binary": base64}`), empty `{}` / `[]` and JSON-compatible
//! flow collections. Anything else panics with the line, so a new cassette shape is noticed.

use serde_json::{Map, Number, Value};

pub fn parse(text: &str) -> Value {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut p = Parser { lines, i: 0 };
    p.skip_blank();
    if p.i >= p.lines.len() {
        return Value::Null;
    }
    let n = p.indent(p.i);
    p.node(n)
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

impl Parser {
    fn indent(&self, i: usize) -> usize {
        indent_of(&self.lines[i])
    }

    fn content(&self, i: usize) -> &str {
        self.lines[i].trim_start_matches(' ')
    }

    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && is_blank(&self.lines[self.i]) {
            self.i += 1;
        }
    }

    fn node(&mut self, n: usize) -> Value {
        let c = self.content(self.i).to_string();
        if c == "-" || c.starts_with("- ") {
            self.seq(n)
        } else if split_key(&c).is_some() {
            self.map(n)
        } else {
            self.i += 1;
            self.inline(&c, n.saturating_sub(1))
        }
    }

    fn seq(&mut self, n: usize) -> Value {
        let mut out = Vec::new();
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() || self.indent(self.i) != n {
                break;
            }
            let c = self.content(self.i).to_string();
            if c == "-" {
                self.i += 1;
                self.skip_blank();
                out.push(if self.i < self.lines.len() && self.indent(self.i) > n {
                    let m = self.indent(self.i);
                    self.node(m)
                } else {
                    Value::Null
                });
            } else if let Some(rest) = c.strip_prefix("- ") {
                // The item continues as if it started on its own line, two columns in.
                self.lines[self.i] = format!("{}{rest}", " ".repeat(n + 2));
                out.push(self.node(n + 2));
            } else {
                break;
            }
        }
        Value::Array(out)
    }

    fn map(&mut self, n: usize) -> Value {
        let mut out = Map::new();
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() || self.indent(self.i) != n {
                break;
            }
            let c = self.content(self.i).to_string();
            let Some((key, rest)) = split_key(&c) else {
                break;
            };
            if c.starts_with("- ") {
                break;
            }
            self.i += 1;
            let value = if rest.is_empty() {
                self.skip_blank();
                if self.i >= self.lines.len() {
                    Value::Null
                } else {
                    let m = self.indent(self.i);
                    let c = self.content(self.i);
                    if m > n || (m == n && (c == "-" || c.starts_with("- "))) {
                        self.node(m)
                    } else {
                        Value::Null
                    }
                }
            } else {
                self.inline(rest, n)
            };
            out.insert(key, value);
        }
        Value::Object(out)
    }

    /// A value starting on the current line (already consumed) after `key: ` or `- `;
    /// continuation lines are those indented more than `n`.
    fn inline(&mut self, rest: &str, n: usize) -> Value {
        let rest = rest.trim_end();
        if let Some(r) = rest.strip_prefix("!!binary") {
            let v = self.inline(r.trim_start(), n);
            let b64: String = v.as_str().unwrap_or("").split_whitespace().collect();
            return serde_json::json!({ "!!binary": b64 });
        }
        if rest.starts_with('|') || rest.starts_with('>') {
            return Value::String(self.block_scalar(rest, n));
        }
        if rest.starts_with('"') || rest.starts_with('\'') {
            return Value::String(self.quoted(rest));
        }
        if rest.starts_with('{') || rest.starts_with('[') {
            return serde_json::from_str(rest)
                .unwrap_or_else(|e| panic!("yaml: unsupported flow collection {rest:?} ({e})"));
        }
        let mut text = rest.to_string();
        let mut blank = 0;
        while self.i < self.lines.len() {
            let l = &self.lines[self.i];
            if l.trim().is_empty() {
                blank += 1;
                self.i += 1;
                continue;
            }
            if indent_of(l) <= n {
                break;
            }
            text.push_str(&if blank == 0 {
                " ".into()
            } else {
                "\n".repeat(blank)
            });
            text.push_str(l.trim());
            blank = 0;
            self.i += 1;
        }
        if blank > 0 {
            self.i -= blank;
        }
        plain(&text)
    }

    fn block_scalar(&mut self, header: &str, n: usize) -> String {
        let literal = header.starts_with('|');
        let chomp = if header.contains('+') {
            '+'
        } else if header.contains('-') {
            '-'
        } else {
            ' '
        };
        let explicit = header
            .chars()
            .find_map(|c| c.to_digit(10))
            .map(|d| d as usize);
        let mut body: Vec<String> = Vec::new();
        let mut indent = explicit.map(|d| n + d);
        while self.i < self.lines.len() {
            let l = &self.lines[self.i];
            if l.trim().is_empty() {
                body.push(String::new());
                self.i += 1;
                continue;
            }
            let m = indent_of(l);
            let ind = *indent.get_or_insert(m);
            if m < ind || m <= n {
                break;
            }
            body.push(l[ind..].to_string());
            self.i += 1;
        }
        // Trailing blank lines belong to the scalar only under `+`; give them back otherwise.
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let kept = body.len() - trailing;
        let mut text = if literal {
            body[..kept].join("\n")
        } else {
            fold(&body[..kept])
        };
        match chomp {
            '-' => {}
            '+' => text.push_str(&"\n".repeat(trailing + 1)),
            _ => {
                if kept > 0 {
                    text.push('\n');
                }
            }
        }
        text
    }

    fn quoted(&mut self, first: &str) -> String {
        let q = first.chars().next().unwrap_or('"');
        let mut raw = first[1..].to_string();
        loop {
            if let Some(end) = closing_quote(&raw, q) {
                let inner = &raw[..end];
                return if q == '"' {
                    unescape_double(inner)
                } else {
                    fold_lines(inner, false).replace("''", "'")
                };
            }
            assert!(
                self.i < self.lines.len(),
                "yaml: unterminated quoted scalar"
            );
            raw.push('\n');
            raw.push_str(&self.lines[self.i]);
            self.i += 1;
        }
    }
}

/// `key: rest` or `key:` at the start of a line (plain, single- or double-quoted key).
fn split_key(c: &str) -> Option<(String, &str)> {
    let c = c.strip_prefix("- ").unwrap_or(c);
    let (key, after) = if c.starts_with('"') || c.starts_with('\'') {
        let q = c.chars().next()?;
        let end = closing_quote(&c[1..], q)? + 1;
        let k = if q == '"' {
            unescape_double(&c[1..end])
        } else {
            c[1..end].replace("''", "'")
        };
        (k, &c[end + 1..])
    } else {
        if c.starts_with('{') || c.starts_with('[') {
            return None;
        }
        let at = c
            .find(": ")
            .or_else(|| c.ends_with(':').then(|| c.len() - 1))?;
        (c[..at].to_string(), &c[at..])
    };
    let after = after.strip_prefix(':')?;
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((key, after.trim_start()))
}

fn closing_quote(s: &str, q: char) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if q == '"' && c == '\\' {
            i += 2;
            continue;
        }
        if c == q {
            if q == '\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Line folding inside quoted scalars: a line break is a space, n blank lines are n
/// newlines, indentation of continuation lines is dropped. `escaped_break`: a `\` before
/// the break joins without a space (double-quoted only).
fn fold_lines(s: &str, escaped_break: bool) -> String {
    let lines: Vec<&str> = s.split('\n').collect();
    let mut out = String::new();
    let mut blank = 0;
    for (k, l) in lines.iter().enumerate() {
        let l = if k == 0 { *l } else { l.trim_start() };
        let l = if k + 1 < lines.len() { l.trim_end() } else { l };
        if k > 0 && l.is_empty() && k + 1 < lines.len() {
            blank += 1;
            continue;
        }
        if k > 0 {
            if escaped_break && out.ends_with('\u{0}') {
                out.pop();
            } else if blank > 0 {
                out.push_str(&"\n".repeat(blank));
            } else {
                out.push(' ');
            }
        }
        blank = 0;
        out.push_str(l);
    }
    out
}

fn unescape_double(s: &str) -> String {
    // Mark escaped line breaks (`\` at end of line) before folding.
    let marked = s.replace("\\\n", "\u{0}\n");
    let folded = fold_lines(&marked, true);
    let mut out = String::new();
    let mut it = folded.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next().unwrap_or('\\');
        let hex = |it: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> char {
            let h: String = (0..n).filter_map(|_| it.next()).collect();
            u32::from_str_radix(&h, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}')
        };
        match e {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' | '\t' => out.push('\t'),
            '0' => out.push('\0'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'N' => out.push('\u{85}'),
            '_' => out.push('\u{a0}'),
            'L' => out.push('\u{2028}'),
            'P' => out.push('\u{2029}'),
            'x' => out.push(hex(&mut it, 2)),
            'u' => out.push(hex(&mut it, 4)),
            'U' => out.push(hex(&mut it, 8)),
            other => out.push(other),
        }
    }
    out
}

fn fold(lines: &[String]) -> String {
    let mut out = String::new();
    for (k, l) in lines.iter().enumerate() {
        if k > 0 {
            out.push(if l.is_empty() || lines[k - 1].is_empty() {
                '\n'
            } else {
                ' '
            });
        }
        out.push_str(l);
    }
    out
}

fn plain(s: &str) -> Value {
    match s {
        "null" | "~" | "" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Value::Number(i.into());
    }
    if s.contains(['.', 'e', 'E']) && !s.starts_with('.') {
        if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

/// A cassette body value as bytes: a string as is; `{"!!binary": base64}` decoded, and
/// gunzipped when it is gzip (simonw's compressed bodies). Needs a sibling `gzip` module
/// (`common/gzip.rs`).
pub fn body_bytes(v: &Value) -> Option<Vec<u8>> {
    if let Some(s) = v.as_str() {
        return Some(s.as_bytes().to_vec());
    }
    let raw = super::gzip::base64_decode(v.get("!!binary")?.as_str()?).expect("base64");
    if raw.starts_with(&[0x1f, 0x8b]) {
        Some(super::gzip::gunzip(&raw).expect("gzip"))
    } else {
        Some(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gemini_cassette_shapes() {
        let doc = "interactions:\n- request:\n    body: '{\"a\":1,\n      \"b\":''x''}'\n    parsed_body:\n      contents:\n      - parts:\n        - text: How do\n            I cross?\n        role: user\n      temperature: 0.0\n      n: 3\n      flag: true\n      empty: {}\n      list: []\n    uri: https://x/y:generateContent?alt=sse\n  response:\n    body:\n      string:\n        \"data: {\\\"a\\\": [1,\n        2]}\\r\\n\\r\\n\"\n    error: |-\n      line one\n\n      line three\n    bin: !!binary |\n      SGVs\n      bG8=\nversion: 1\n";
        let v = parse(doc);
        assert_eq!(
            v,
            json!({
                "interactions": [{
                    "request": {
                        "body": "{\"a\":1, \"b\":'x'}",
                        "parsed_body": {
                            "contents": [{"parts": [{"text": "How do I cross?"}], "role": "user"}],
                            "temperature": 0.0, "n": 3, "flag": true, "empty": {}, "list": []
                        },
                        "uri": "https://x/y:generateContent?alt=sse"
                    },
                    "response": {
                        "body": {"string": "data: {\"a\": [1, 2]}\r\n\r\n"},
                        "error": "line one\n\nline three",
                        "bin": {"!!binary": "SGVsbG8="}
                    }
                }],
                "version": 1
            })
        );
        let bin = &v["interactions"][0]["response"]["bin"];
        assert_eq!(body_bytes(bin).as_deref(), Some(&b"Hello"[..]));
    }

    #[test]
    fn cassette_shapes() {
        let y = "interactions:\n- request:\n    headers:\n      accept:\n      - application/json\n    parsed_body:\n      max_tokens: 4096\n      stop: null\n      input: {}\n      t: 'it''s\n        folded'\n  response:\n    body:\n      string: |+\n        event: a\n        data: {\"x\": 1}\n\n    status:\n      code: 200\n- response:\n    body:\n      string: \"data: {\\\"a\\\":\n        1}\\r\\n\\r\\n\"\n    text: |-\n      one\n\n      two\n";
        let v = parse(y);
        assert_eq!(
            v,
            json!({"interactions": [
                {"request": {"headers": {"accept": ["application/json"]},
                             "parsed_body": {"max_tokens": 4096, "stop": null, "input": {}, "t": "it's folded"}},
                 "response": {"body": {"string": "event: a\ndata: {\"x\": 1}\n\n"}, "status": {"code": 200}}},
                {"response": {"body": {"string": "data: {\"a\": 1}\r\n\r\n"}, "text": "one\n\ntwo"}}
            ]})
        );
    }
}
