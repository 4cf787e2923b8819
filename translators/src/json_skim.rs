//! Skimming JSON without decoding it: skip whitespace, a string or a whole value, and find a
//! top-level member's raw bytes.
//!
//! Contract: pure, allocation-free, O(n) in the bytes skipped. The input is assumed to be
//! valid JSON (the gateway validates request bodies first; a response body that is not valid
//! gives some slice or `None`, never a panic, and whatever reads the slice then rejects it).
//! Strings are skipped with `memchr` to the next quote or backslash, so a long text costs a
//! few instructions per 16 bytes; nothing is unescaped or checked for UTF-8.

/// The index of the first byte at or after `i` that is not JSON whitespace.
pub fn skip_ws(raw: &[u8], mut i: usize) -> usize {
    while matches!(raw.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `raw[i]` is `"`: the index after the closing quote (`raw.len()` if there is none).
pub fn skip_string(raw: &[u8], i: usize) -> usize {
    let mut i = i + 1;
    while let Some(at) = raw
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        i += at;
        if raw[i] == b'"' {
            return i + 1;
        }
        i += 2; // a backslash and the byte it escapes
    }
    raw.len()
}

/// The index after the JSON value starting at `i` (a string, an object or array with
/// everything inside it, or a scalar up to the next delimiter).
pub fn skip_value(raw: &[u8], mut i: usize) -> usize {
    match raw.get(i) {
        Some(b'"') => skip_string(raw, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while let Some(&c) = raw.get(i) {
                match c {
                    b'"' => {
                        i = skip_string(raw, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            raw.len()
        }
        _ => {
            while let Some(&c) = raw.get(i) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            i
        }
    }
}

/// The raw value of the top-level member `key` (given with its quotes, e.g. `b"\"usage\""`)
/// of the object `raw`; the last one if the key repeats (what serde_json keeps for a struct
/// field is an error there, and the gateway's own bodies never repeat it). `None` when `raw`
/// is not an object or has no such member. Every other member is skipped undecoded, so a
/// response whose text is megabytes long costs a `memchr` over it.
pub fn top_level_member<'a>(raw: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut i = skip_ws(raw, 0);
    if raw.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut found = None;
    loop {
        i = skip_ws(raw, i);
        match raw.get(i) {
            Some(b'"') => {}
            Some(b',') => {
                i += 1;
                continue;
            }
            _ => return found,
        }
        let key_start = i;
        i = skip_string(raw, i);
        let name = &raw[key_start..i];
        i = skip_ws(raw, i);
        if raw.get(i) != Some(&b':') {
            return found;
        }
        i = skip_ws(raw, i + 1);
        let value_start = i;
        i = skip_value(raw, i);
        if i == value_start {
            return found;
        }
        if name == key {
            found = Some(&raw[value_start..i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_skip_escapes_and_stop_at_the_closing_quote() {
        let raw = br#""a\"b\\" , x"#;
        assert_eq!(skip_string(raw, 0), 8);
        assert_eq!(skip_string(br#""unterminated"#, 0), 13);
        assert_eq!(skip_string(b"\"ends in a backslash\\", 0), 21);
    }

    #[test]
    fn values_skip_whole_objects_arrays_and_scalars() {
        let raw = br#"{"a":[1,{"b":"}]"}],"c":2} tail"#;
        assert_eq!(&raw[..skip_value(raw, 0)], br#"{"a":[1,{"b":"}]"}],"c":2}"#);
        assert_eq!(skip_value(b"-12.5e3,", 0), 7);
        assert_eq!(skip_value(b"true}", 0), 4);
        assert_eq!(
            skip_value(b"[[[", 0),
            3,
            "an unclosed array ends at the input"
        );
        assert_eq!(skip_value(b"]]", 0), 0, "a stray closer is no value");
    }

    #[test]
    fn finds_only_top_level_members() {
        let raw = br#" { "choices" : [{"usage":{"x":1},"text":"\"usage\":{}"}],
            "data":{"usage":{"y":2}}, "usage" : {"prompt_tokens":3} }"#;
        assert_eq!(
            top_level_member(raw, b"\"usage\""),
            Some(&br#"{"prompt_tokens":3}"#[..])
        );
        assert_eq!(
            top_level_member(br#"{"usage":null}"#, b"\"usage\""),
            Some(&b"null"[..])
        );
        assert_eq!(
            top_level_member(br#"{"a":{"usage":{}}}"#, b"\"usage\""),
            None
        );
        assert_eq!(
            top_level_member(br#"{"a":1,"a":2}"#, b"\"a\""),
            Some(&b"2"[..])
        );
        assert_eq!(top_level_member(br#"["usage",{}]"#, b"\"usage\""), None);
        assert_eq!(top_level_member(b"", b"\"usage\""), None);
        for broken in [
            &b"{\"usage\""[..],
            b"{\"usage\":",
            b"{\"a\" 1,\"usage\":{}}",
            b"{,,}",
        ] {
            assert_eq!(top_level_member(broken, b"\"usage\""), None, "{broken:?}");
        }
    }
}
