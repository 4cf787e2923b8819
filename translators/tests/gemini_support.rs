//! Test support for the Gemini fixture tests: a YAML subset reader for the VCR cassettes,
//! base64 and gzip (inflate) decoding for simonw's compressed bodies. The crate may not take
//! dev-dependencies for this, and the cassettes only use a small part of YAML: block mappings
//! and sequences, plain (multi-line), single- and double-quoted scalars, `|`/`|-` block scalars,
//! `!!binary` tags and empty flow collections.
//!
//! Included by `gemini_fixtures.rs` with `#[path]`; also a test target of its own, whose tests
//! check the readers. Run: `cargo test -p switchyard-translators --test gemini_support`.
#![allow(dead_code)]

use serde_json::{Map, Number, Value};

// --------------------------------------------------------------------------------------- yaml

/// Parse a YAML document of the subset above.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let chars: Vec<char> = text.chars().filter(|c| *c != '\r').collect();
    let mut y = Yaml { s: chars, pos: 0 };
    y.skip_to_token();
    if y.starts_with("---") {
        y.pos += 3;
        y.skip_to_token();
    }
    if y.eof() {
        return Ok(Value::Null);
    }
    y.block(0)
}

struct Yaml {
    s: Vec<char>,
    pos: usize,
}

impl Yaml {
    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }
    fn starts_with(&self, p: &str) -> bool {
        p.chars()
            .enumerate()
            .all(|(k, c)| self.at(self.pos + k) == Some(c))
    }
    fn col(&self) -> usize {
        let mut i = self.pos;
        while i > 0 && self.s[i - 1] != '\n' {
            i -= 1;
        }
        self.pos - i
    }
    /// Skip spaces, newlines and comment lines; stop at the next token.
    fn skip_to_token(&mut self) {
        loop {
            match self.peek() {
                Some(' ') | Some('\t') | Some('\n') => self.pos += 1,
                Some('#') if self.pos == 0 || matches!(self.at(self.pos - 1), Some(' ' | '\n')) => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ') | Some('\t')) {
            self.pos += 1;
        }
    }
    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some('\n') | Some('#'))
    }
    fn is_seq_item(&self) -> bool {
        self.peek() == Some('-') && matches!(self.at(self.pos + 1), None | Some(' ') | Some('\n'))
    }
    /// Whether the current line (from pos) is `key: ...`.
    fn is_mapping_key(&self) -> bool {
        let mut i = self.pos;
        if let Some(q @ ('"' | '\'')) = self.peek() {
            i += 1;
            while let Some(c) = self.at(i) {
                if c == '\\' && q == '"' {
                    i += 2;
                    continue;
                }
                if c == q {
                    if q == '\'' && self.at(i + 1) == Some('\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            while self.at(i) == Some(' ') {
                i += 1;
            }
            return self.at(i) == Some(':') && matches!(self.at(i + 1), None | Some(' ' | '\n'));
        }
        while let Some(c) = self.at(i) {
            if c == '\n' {
                return false;
            }
            if c == ':' && matches!(self.at(i + 1), None | Some(' ' | '\n')) {
                return true;
            }
            if c == '#' && self.at(i.wrapping_sub(1)) == Some(' ') {
                return false;
            }
            i += 1;
        }
        false
    }

    /// A node starting at the current token, belonging to a parent at `parent` indentation.
    fn block(&mut self, parent: usize) -> Result<Value, String> {
        if self.is_seq_item() {
            let col = self.col();
            self.sequence(col)
        } else if self.is_mapping_key() {
            let col = self.col();
            self.mapping(col)
        } else {
            self.scalar(parent)
        }
    }

    fn sequence(&mut self, col: usize) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            self.pos += 1;
            self.skip_spaces();
            let item = if self.at_line_end() {
                self.skip_to_token();
                if !self.eof() && self.col() > col {
                    self.block(col)?
                } else {
                    Value::Null
                }
            } else {
                self.block(col)?
            };
            items.push(item);
            self.skip_to_token();
            if self.eof() || self.col() != col || !self.is_seq_item() {
                return Ok(Value::Array(items));
            }
        }
    }

    fn mapping(&mut self, col: usize) -> Result<Value, String> {
        let mut map = Map::new();
        loop {
            let key = self.key()?;
            self.skip_spaces();
            let value = if self.at_line_end() {
                self.skip_to_token();
                if self.eof() {
                    Value::Null
                } else if self.col() > col {
                    self.block(col)?
                } else if self.col() == col && self.is_seq_item() {
                    self.sequence(col)?
                } else {
                    Value::Null
                }
            } else {
                self.scalar(col)?
            };
            map.insert(key, value);
            self.skip_to_token();
            if self.eof() || self.col() != col || self.is_seq_item() || !self.is_mapping_key() {
                return Ok(Value::Object(map));
            }
        }
    }

    fn key(&mut self) -> Result<String, String> {
        let key = match self.peek() {
            Some('"') => self.double_quoted()?,
            Some('\'') => self.single_quoted()?,
            _ => {
                let start = self.pos;
                while !(self.peek() == Some(':')
                    && matches!(self.at(self.pos + 1), None | Some(' ' | '\n')))
                {
                    if self.eof() {
                        return Err("unterminated key".into());
                    }
                    self.pos += 1;
                }
                self.s[start..self.pos]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string()
            }
        };
        self.skip_spaces();
        if self.peek() != Some(':') {
            return Err(format!("expected ':' after key {key:?}"));
        }
        self.pos += 1;
        Ok(key)
    }

    /// A scalar or flow value on the current line (possibly continuing on later lines).
    fn scalar(&mut self, parent: usize) -> Result<Value, String> {
        if self.peek() == Some('!') {
            while !matches!(self.peek(), None | Some(' ' | '\n')) {
                self.pos += 1;
            }
            self.skip_spaces();
            if self.at_line_end() {
                self.skip_to_token();
            }
        }
        match self.peek() {
            Some('"') => Ok(Value::String(self.double_quoted()?)),
            Some('\'') => Ok(Value::String(self.single_quoted()?)),
            Some('|') | Some('>') => Ok(Value::String(self.block_scalar(parent))),
            Some('{') if self.starts_with("{}") => {
                self.pos += 2;
                Ok(Value::Object(Map::new()))
            }
            Some('[') if self.starts_with("[]") => {
                self.pos += 2;
                Ok(Value::Array(Vec::new()))
            }
            _ => Ok(self.plain(parent)),
        }
    }

    fn rest_of_line(&mut self) -> String {
        let start = self.pos;
        while !matches!(self.peek(), None | Some('\n')) {
            if self.peek() == Some('#') && self.at(self.pos.wrapping_sub(1)) == Some(' ') {
                break;
            }
            self.pos += 1;
        }
        let line: String = self.s[start..self.pos].iter().collect();
        while !matches!(self.peek(), None | Some('\n')) {
            self.pos += 1;
        }
        line.trim_end().to_string()
    }

    /// Indentation of the line starting at `i` (None for a blank line).
    fn line_indent(&self, i: usize) -> Option<usize> {
        let mut k = i;
        while self.at(k) == Some(' ') {
            k += 1;
        }
        match self.at(k) {
            None | Some('\n') => None,
            _ => Some(k - i),
        }
    }

    fn plain(&mut self, parent: usize) -> Value {
        let mut text = self.rest_of_line();
        let mut blank_lines = 0;
        loop {
            if self.peek() != Some('\n') {
                break;
            }
            let next = self.pos + 1;
            match self.line_indent(next) {
                None if self.at(next).is_some() => {
                    blank_lines += 1;
                    let mut k = next;
                    while self.at(k) == Some(' ') {
                        k += 1;
                    }
                    self.pos = k;
                }
                Some(ind) if ind > parent => {
                    self.pos = next + ind;
                    let line = self.rest_of_line();
                    if blank_lines > 0 {
                        text.push_str(&"\n".repeat(blank_lines));
                    } else {
                        text.push(' ');
                    }
                    blank_lines = 0;
                    text.push_str(&line);
                }
                _ => break,
            }
        }
        resolve_plain(&text)
    }

    fn double_quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated double-quoted string")?;
            self.pos += 1;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let e = self.peek().ok_or("bad escape")?;
                    self.pos += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        ' ' => out.push(' '),
                        'x' => out.push(self.hex_char(2)?),
                        'u' => out.push(self.hex_char(4)?),
                        'U' => out.push(self.hex_char(8)?),
                        '\n' => {
                            // Escaped line break: joined without a space.
                            self.skip_spaces();
                        }
                        other => return Err(format!("unknown escape \\{other}")),
                    }
                }
                '\n' => {
                    // Folding: trailing spaces gone, one break = space, more = newlines.
                    while out.ends_with(' ') || out.ends_with('\t') {
                        out.pop();
                    }
                    let mut breaks = 0;
                    loop {
                        self.skip_spaces();
                        if self.peek() == Some('\n') {
                            breaks += 1;
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    if breaks == 0 {
                        out.push(' ');
                    } else {
                        out.push_str(&"\n".repeat(breaks));
                    }
                }
                other => out.push(other),
            }
        }
    }

    fn hex_char(&mut self, n: usize) -> Result<char, String> {
        let hex: String = self
            .s
            .get(self.pos..self.pos + n)
            .ok_or("short hex")?
            .iter()
            .collect();
        self.pos += n;
        let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
        char::from_u32(code).ok_or_else(|| "bad code point".to_string())
    }

    fn single_quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated single-quoted string")?;
            self.pos += 1;
            match c {
                '\'' if self.peek() == Some('\'') => {
                    self.pos += 1;
                    out.push('\'');
                }
                '\'' => return Ok(out),
                '\n' => {
                    while out.ends_with(' ') {
                        out.pop();
                    }
                    let mut breaks = 0;
                    loop {
                        self.skip_spaces();
                        if self.peek() == Some('\n') {
                            breaks += 1;
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    if breaks == 0 {
                        out.push(' ');
                    } else {
                        out.push_str(&"\n".repeat(breaks));
                    }
                }
                other => out.push(other),
            }
        }
    }

    fn block_scalar(&mut self, parent: usize) -> String {
        let folded = self.peek() == Some('>');
        let header = self.rest_of_line();
        let chomp = if header.contains('-') {
            '-'
        } else if header.contains('+') {
            '+'
        } else {
            ' '
        };
        let mut lines: Vec<String> = Vec::new();
        let mut indent = None;
        while self.peek() == Some('\n') {
            let next = self.pos + 1;
            match self.line_indent(next) {
                None => {
                    if self.at(next).is_none() {
                        break;
                    }
                    lines.push(String::new());
                    let mut k = next;
                    while self.at(k) == Some(' ') {
                        k += 1;
                    }
                    self.pos = k;
                }
                Some(ind) if ind > parent && indent.is_none_or(|i| ind >= i) => {
                    let base = *indent.get_or_insert(ind);
                    let start = next + base;
                    let mut end = start;
                    while !matches!(self.at(end), None | Some('\n')) {
                        end += 1;
                    }
                    lines.push(self.s[start..end].iter().collect());
                    self.pos = end;
                }
                _ => break,
            }
        }
        let mut text = if folded {
            lines.join(" ")
        } else {
            lines.join("\n")
        };
        match chomp {
            '-' => {
                while text.ends_with('\n') {
                    text.pop();
                }
            }
            '+' => text.push('\n'),
            _ => {
                while text.ends_with('\n') {
                    text.pop();
                }
                text.push('\n');
            }
        }
        text
    }
}

fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
    }
    let looks_float = !digits.is_empty()
        && digits.bytes().all(|b| {
            b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || b == b'-' || b == b'+'
        })
        && digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && digits.contains(['.', 'e', 'E']);
    if looks_float {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_string())
}

// ------------------------------------------------------------------------------------- base64

pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            other => return Err(format!("bad base64 byte {other}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

// --------------------------------------------------------------------------------------- gzip

/// Decompress a gzip member (RFC 1952 header, RFC 1951 deflate body).
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
        return Err("not gzip".into());
    }
    let flags = data[3];
    let mut pos = 10;
    if flags & 4 != 0 {
        let len = usize::from(data[pos]) | usize::from(data[pos + 1]) << 8;
        pos += 2 + len;
    }
    for flag in [8u8, 16] {
        if flags & flag != 0 {
            while data.get(pos).ok_or("truncated header")? != &0 {
                pos += 1;
            }
            pos += 1;
        }
    }
    if flags & 2 != 0 {
        pos += 2;
    }
    inflate(data.get(pos..).ok_or("truncated")?)
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> Result<u32, String> {
        while self.count < n {
            let byte = *self.data.get(self.pos).ok_or("out of input")?;
            self.pos += 1;
            self.buf |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }
}

struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Self {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut offs = [0u16; 16];
        for i in 1..16 {
            offs[i] = offs[i - 1] + count[i - 1];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[usize::from(offs[usize::from(l)])] = sym as u16;
                offs[usize::from(l)] += 1;
            }
        }
        Self { count, symbol }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.bits(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return Ok(self.symbol[(index + (code - first)) as usize]);
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err("bad huffman code".into())
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Raw deflate (RFC 1951).
pub fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut bits = Bits {
        data,
        pos: 0,
        buf: 0,
        count: 0,
    };
    let mut out = Vec::new();
    loop {
        let last = bits.bits(1)?;
        match bits.bits(2)? {
            0 => {
                bits.buf = 0;
                bits.count = 0;
                let p = bits.pos;
                let len = usize::from(*data.get(p).ok_or("eof")?)
                    | usize::from(*data.get(p + 1).ok_or("eof")?) << 8;
                let block = data.get(p + 4..p + 4 + len).ok_or("short stored block")?;
                out.extend_from_slice(block);
                bits.pos = p + 4 + len;
            }
            1 => {
                let mut lengths = [0u8; 288];
                for (i, l) in lengths.iter_mut().enumerate() {
                    *l = match i {
                        0..=143 => 8,
                        144..=255 => 9,
                        256..=279 => 7,
                        _ => 8,
                    };
                }
                let lit = Huffman::new(&lengths);
                let dist = Huffman::new(&[5u8; 30]);
                codes(&mut bits, &lit, &dist, &mut out)?;
            }
            2 => {
                let (lit, dist) = dynamic_tables(&mut bits)?;
                codes(&mut bits, &lit, &dist, &mut out)?;
            }
            _ => return Err("bad block type".into()),
        }
        if last == 1 {
            return Ok(out);
        }
    }
}

fn dynamic_tables(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
    const ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    let nlen = bits.bits(5)? as usize + 257;
    let ndist = bits.bits(5)? as usize + 1;
    let ncode = bits.bits(4)? as usize + 4;
    let mut code_lengths = [0u8; 19];
    for &i in ORDER.iter().take(ncode) {
        code_lengths[i] = bits.bits(3)? as u8;
    }
    let code = Huffman::new(&code_lengths);
    let mut lengths = Vec::with_capacity(nlen + ndist);
    while lengths.len() < nlen + ndist {
        let sym = code.decode(bits)?;
        match sym {
            0..=15 => lengths.push(sym as u8),
            16 => {
                let prev = *lengths.last().ok_or("repeat without previous")?;
                let n = 3 + bits.bits(2)?;
                lengths.extend(std::iter::repeat_n(prev, n as usize));
            }
            17 => {
                let n = 3 + bits.bits(3)?;
                lengths.extend(std::iter::repeat_n(0, n as usize));
            }
            _ => {
                let n = 11 + bits.bits(7)?;
                lengths.extend(std::iter::repeat_n(0, n as usize));
            }
        }
    }
    Ok((
        Huffman::new(&lengths[..nlen]),
        Huffman::new(&lengths[nlen..nlen + ndist]),
    ))
}

fn codes(
    bits: &mut Bits<'_>,
    lit: &Huffman,
    dist: &Huffman,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        let sym = lit.decode(bits)?;
        match sym {
            0..=255 => out.push(sym as u8),
            256 => return Ok(()),
            _ => {
                let i = usize::from(sym - 257);
                let len = usize::from(*LEN_BASE.get(i).ok_or("bad length")?)
                    + bits.bits(u32::from(LEN_EXTRA[i]))? as usize;
                let d = usize::from(dist.decode(bits)?);
                let distance = usize::from(*DIST_BASE.get(d).ok_or("bad distance")?)
                    + bits.bits(u32::from(DIST_EXTRA[d]))? as usize;
                if distance > out.len() {
                    return Err("distance too far".into());
                }
                for _ in 0..len {
                    out.push(out[out.len() - distance]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_subset() {
        let doc = "interactions:\n- request:\n    body: '{\"a\":1,\n      \"b\":''x''}'\n    parsed_body:\n      contents:\n      - parts:\n        - text: How do\n            I cross?\n        role: user\n      temperature: 0.0\n      n: 3\n      flag: true\n      empty: {}\n      list: []\n    uri: https://x/y:generateContent?alt=sse\n  response:\n    body:\n      string:\n        \"data: {\\\"a\\\": [1,\n        2]}\\r\\n\\r\\n\"\n    error: |-\n      line one\n\n      line three\n    bin: !!binary |\n      SGVs\n      bG8=\nversion: 1\n";
        let v = parse_yaml(doc).unwrap();
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
                        "bin": "SGVs\nbG8=\n"
                    }
                }],
                "version": 1
            })
        );
        assert_eq!(base64_decode("SGVs\nbG8=\n").unwrap(), b"Hello");
    }

    #[test]
    fn inflate_fixed_and_stored_blocks() {
        // `printf 'hello hello hello' | gzip -n | base64`
        let gz = base64_decode("H4sIAAAAAAAAA8tIzcnJV8hAkACAiPnlEQAAAA==").unwrap();
        assert_eq!(gunzip(&gz).unwrap(), b"hello hello hello");
        // A stored block: BFINAL=1, BTYPE=00, LEN=3, NLEN=!3, "abc".
        assert_eq!(
            inflate(&[1, 3, 0, 0xfc, 0xff, b'a', b'b', b'c']).unwrap(),
            b"abc"
        );
    }
}
