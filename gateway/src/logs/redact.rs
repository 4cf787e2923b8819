//! Secret redaction for every log output: header values by name, query parameters by name,
//! JSON string values by key, and free text (bearer tokens, `name=value` pairs, well-known key
//! prefixes). Pure; no I/O. Runs on the log writer thread (request and error logs, access
//! records) and on that thread for every tracing line before it reaches stderr or `main.log`.
//!
//! A masked value keeps at most its last 4 characters, and only when it is at least 16 long:
//! `Bearer ****abcd`. Masking is idempotent (a value that starts with `****` is left alone).

use std::borrow::Cow;

/// Header names whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
    "x-management-key",
];

/// Query parameters (and free-text `name=value` pairs) whose values are secrets.
const SECRET_PARAMS: &[&str] = &["key", "auth_token", "api_key", "access_token"];

/// JSON keys whose string values are secrets, compared after [`normalize_key`]
/// (`access_token`, `accessToken` and `access-token` all match).
const SECRET_JSON_KEYS: &[&str] = &[
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "apikey",
    "clientsecret",
    "password",
    "authtoken",
];

/// Prefixes of well-known key formats, masked wherever they appear in free text
/// (Anthropic/OpenAI `sk-`, Google API keys `AIza`, Google OAuth access tokens `ya29.`,
/// Google refresh tokens `1//`).
const SECRET_PREFIXES: &[&str] = &["sk-", "AIza", "ya29.", "1//"];

const MASK: &str = "****";

/// `****` plus the last 4 characters when the value is at least 16 characters long and
/// they are plain (`[A-Za-z0-9._-]`: a tail cut from an escape sequence could break the
/// JSON line it sits in).
pub(super) fn mask(value: &str) -> String {
    if value.starts_with(MASK) {
        return value.to_owned();
    }
    let n = value.chars().count();
    let tail: String = value.chars().skip(n.saturating_sub(4)).collect();
    let plain = tail
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if n >= 16 && plain {
        format!("{MASK}{tail}")
    } else {
        MASK.to_owned()
    }
}

pub(super) fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// A header value as it may be logged: secret headers masked (keeping an auth scheme such as
/// `Bearer`), the others passed through [`text`].
pub(super) fn header_value(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return text(value).into_owned();
    }
    match value.split_once(' ') {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            format!("{scheme} {}", mask(rest.trim()))
        }
        _ => mask(value),
    }
}

/// A URI or path-and-query with the values of secret query parameters masked.
pub(super) fn uri(uri: &str) -> String {
    let Some((path, query)) = uri.split_once('?') else {
        return uri.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if is_secret_param(k) => format!("{k}={}", mask(v)),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// Whether `key`, without `_` and `-` and in lower case, is `want` (lower case). No
/// allocation: this runs for every `name=` and `"name":` of every log line.
fn normalized_eq(key: &str, want: &str) -> bool {
    let mut k = key
        .bytes()
        .filter(|c| *c != b'_' && *c != b'-')
        .map(|c| c.to_ascii_lowercase());
    want.bytes().all(|w| k.next() == Some(w)) && k.next().is_none()
}

fn is_secret_json_key(key: &str) -> bool {
    SECRET_JSON_KEYS.iter().any(|w| normalized_eq(key, w)) || is_secret_header(key)
}

/// Free text (a body, a log line) with secrets masked: JSON string values of secret keys
/// (also inside an escaped JSON string, `\"api_key\":\"...\"`), `Bearer <token>`,
/// `name=value` for secret parameter names, and words with a well-known key prefix.
///
/// Each pass runs only when the text holds what it looks for (a quote, a space, a `=`, a key
/// prefix), found with `memchr`: a short field or a plain line costs a few vectorised scans.
pub(super) fn text(s: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    let b = s.as_bytes();
    if b.is_empty() {
        return out;
    }
    // The first bytes of SECRET_PREFIXES (a test keeps the two in step). The `1//` searcher is
    // built once: `memmem::find` builds one per call, which cost more than the rest of a
    // short field's scan.
    static GOOGLE_REFRESH: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"1//"));
    let prefixed_words =
        memchr::memchr3(b's', b'A', b'y', b).is_some() || GOOGLE_REFRESH.find(b).is_some();
    for (wanted, pass) in [
        (
            memchr::memchr(b'"', b).is_some(),
            json_values as fn(&str) -> Option<String>,
        ),
        (memchr::memchr(b' ', b).is_some(), bearer),
        (memchr::memchr(b'=', b).is_some(), pairs),
        (prefixed_words, prefixed),
    ] {
        if !wanted {
            continue;
        }
        if let Some(changed) = pass(&out) {
            out = Cow::Owned(changed);
        }
    }
    out
}

/// Replaces byte ranges of `s` (sorted, disjoint, on char boundaries) by their mask.
fn replace_ranges(s: &str, ranges: &[(usize, usize)]) -> Option<String> {
    if ranges.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for &(start, end) in ranges {
        out.push_str(&s[at..start]);
        out.push_str(&mask(&s[start..end]));
        at = end;
    }
    out.push_str(&s[at..]);
    Some(out)
}

/// `"key": "value"` and `\"key\":\"value\"` for secret keys.
fn json_values(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let quote: &[u8] = if b[i] == b'"' {
            b"\""
        } else if b[i..].starts_with(b"\\\"") {
            b"\\\""
        } else {
            i += 1;
            continue;
        };
        let key_start = i + quote.len();
        let key_len = b[key_start..]
            .iter()
            .take(64)
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'))
            .unwrap_or(0);
        let key_end = key_start + key_len;
        if key_len == 0 || !b[key_end..].starts_with(quote) {
            i = key_start;
            continue;
        }
        let mut j = key_end + quote.len();
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if j >= b.len() || b[j] != b':' {
            i = key_end;
            continue;
        }
        j += 1;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if !b[j..].starts_with(quote) {
            i = key_end;
            continue;
        }
        let value_start = j + quote.len();
        let value_end = string_end(b, value_start, quote);
        if is_secret_json_key(&s[key_start..key_end]) && value_end > value_start {
            ranges.push((value_start, value_end));
        }
        i = (value_end + quote.len()).min(b.len()).max(key_end);
    }
    replace_ranges(s, &ranges)
}

/// Where the string starting at `from` ends: the next unescaped `"` (or, for an escaped
/// JSON string, the next `\"`), or the end of the text (a cut body).
fn string_end(b: &[u8], from: usize, quote: &[u8]) -> usize {
    let mut j = from;
    while j < b.len() {
        if b[j..].starts_with(quote) {
            return j;
        }
        if quote.len() == 1 && b[j] == b'\\' {
            j += 2;
            continue;
        }
        j += 1;
    }
    b.len()
}

/// A secret token ends at whitespace, a quote, a comma or a bracket.
fn token_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|c| {
            c.is_ascii_whitespace()
                || matches!(c, b'"' | b'\'' | b',' | b'}' | b']' | b'&' | b';')
                || *c == b'\\'
        })
        .map_or(b.len(), |p| from + p)
}

fn word_boundary_before(b: &[u8], at: usize) -> bool {
    at == 0 || !(b[at - 1].is_ascii_alphanumeric() || matches!(b[at - 1], b'_' | b'-' | b'.'))
}

/// `Bearer <token>` (any case).
fn bearer(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i + 7 <= b.len() {
        if matches!(b[i], b'b' | b'B')
            && b[i..i + 7].eq_ignore_ascii_case(b"bearer ")
            && word_boundary_before(b, i)
        {
            let start = i + 7;
            let end = token_end(b, start);
            if end > start {
                ranges.push((start, end));
            }
            i = end.max(start);
        } else {
            i += 1;
        }
    }
    replace_ranges(s, &ranges)
}

/// `name=value` (a query string, a tracing field) for secret parameter and JSON key names.
fn pairs(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'=' {
            i += 1;
            continue;
        }
        // Names are short: look back at most 64 bytes (ASCII name bytes are char boundaries).
        let window = i.saturating_sub(64);
        let name_start = b[window..i]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'))
            .map_or(window, |p| window + p + 1);
        let name = &s[name_start..i];
        let mut start = i + 1;
        if b.get(start) == Some(&b'"') {
            start += 1;
        }
        let end = token_end(b, start);
        if !name.is_empty() && (is_secret_param(name) || is_secret_json_key(name)) && end > start {
            ranges.push((start, end));
            i = end;
        } else {
            // A value that is not a secret may hold a pair that is (`url=https://h?key=...`).
            i += 1;
        }
    }
    replace_ranges(s, &ranges)
}

/// Words that start with a well-known key prefix and are at least 16 characters long.
fn prefixed(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Every prefix starts with one of these bytes: most positions end here.
        let hit = matches!(b[i], b's' | b'A' | b'y' | b'1')
            && SECRET_PREFIXES
                .iter()
                .any(|p| b[i..].starts_with(p.as_bytes()))
            && word_boundary_before(b, i);
        if !hit {
            i += 1;
            continue;
        }
        let end = token_end(b, i);
        if end - i >= 16 {
            ranges.push((i, end));
        }
        i = end.max(i + 1);
    }
    replace_ranges(s, &ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_scheme_and_last_four() {
        assert_eq!(
            header_value("Authorization", "Bearer sk-abcdefghijklmnop1234"),
            "Bearer ****1234"
        );
        assert_eq!(header_value("x-api-key", "short"), "****");
        assert_eq!(header_value("cookie", "a=1; b=2"), "****");
        assert_eq!(
            header_value("content-type", "application/json"),
            "application/json"
        );
        assert_eq!(mask("****1234"), "****1234");
    }

    #[test]
    fn masks_query_parameters() {
        assert_eq!(
            uri("/v1beta/models/m:generateContent?alt=sse&key=AIzaSecretSecretSecret99"),
            "/v1beta/models/m:generateContent?alt=sse&key=****et99"
        );
        assert_eq!(uri("/v1/x?access_token=abc"), "/v1/x?access_token=****");
        assert_eq!(uri("/v1/x?model=a"), "/v1/x?model=a");
    }

    #[test]
    fn masks_json_values_by_key() {
        let body = r#"{"refresh_token": "1//0gRefreshRefreshRefresh", "clientSecret":"GOCSPX-abcdefghijklmnop","n":"x","password":"hunter2"}"#;
        let out = text(body);
        assert!(!out.contains("RefreshRefresh"), "{out}");
        assert!(!out.contains("GOCSPX"), "{out}");
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains(r#""n":"x""#), "{out}");
        let escaped = r#"body="{\"api_key\":\"plainsecretvalue000\"}""#;
        assert!(!text(escaped).contains("plainsecretvalue000"));
    }

    #[test]
    fn the_quick_checks_cover_every_prefix() {
        for p in SECRET_PREFIXES {
            assert!(
                matches!(p.as_bytes()[0], b's' | b'A' | b'y') || *p == "1//",
                "{p}"
            );
        }
        for p in SECRET_PREFIXES {
            let line = format!("token {p}0123456789abcdefghij end");
            assert!(!text(&line).contains("0123456789abcdef"), "{p}");
        }
    }

    #[test]
    fn masks_free_text() {
        let line = "upstream said: authorization=Bearer abcdefghijklmnopqrstuvwx url=https://h/x?key=qwertyuiopasdfghjkl sk-ant-api03-zzzzzzzzzzzzzzzz ok";
        let out = text(line);
        for secret in ["abcdefghijklmnop", "qwertyuiopasdf", "zzzzzzzzzzzzzzzz"] {
            assert!(!out.contains(secret), "{out}");
        }
        assert!(out.ends_with(" ok"), "{out}");
        assert_eq!(text("nothing here"), "nothing here");
        assert!(matches!(text("nothing here"), Cow::Borrowed(_)));
    }
}
