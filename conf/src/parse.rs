//! YAML text to [`Node`]: the only place that talks to the YAML parser.
//!
//! Pure; no I/O. Uses `serde-saphyr` (pure Rust, panic-free; see pingora.md §1) with YAML 1.2
//! core booleans (`yes`/`on` stay strings, like Go's yaml.v3 that CLIProxyAPI uses; boolean
//! fields still accept them, see `Walker::bool`), duplicate keys rejected, and numbers with leading zeros kept as strings. A syntax error becomes one
//! [`Problem`] carrying the line and column the parser reports.

use crate::node::Node;
use crate::Problem;

/// Parses one YAML document. An empty document is an empty mapping (all defaults).
pub(crate) fn parse_yaml(yaml: &str) -> Result<Node, Problem> {
    if yaml.trim().is_empty() {
        return Ok(Node::Map(Vec::new()));
    }
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Node>(yaml, options) {
        Ok(Node::Null) => Ok(Node::Map(Vec::new())),
        Ok(node) => Ok(node),
        Err(err) => Err(syntax_problem(&err)),
    }
}

fn syntax_problem(err: &serde_saphyr::Error) -> Problem {
    let err = err.without_snippet();
    let text = err.to_string();
    // The parser's own text may already end with the position; keep only the first line.
    let first = text.lines().next().unwrap_or("").trim();
    let message = match err.location() {
        Some(loc) if loc.line() > 0 => {
            let bare = strip_position(first);
            format!(
                "invalid YAML at line {}, column {}: {bare}",
                loc.line(),
                loc.column()
            )
        }
        _ => format!("invalid YAML: {}", strip_position(first)),
    };
    Problem {
        path: String::new(),
        message,
    }
}

/// Removes a position suffix the parser may add (we print our own) and advice meant for
/// the programmer rather than the user ("set DuplicateKeyPolicy in Options").
fn strip_position(text: &str) -> &str {
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => text,
    };
    let text = match text.find(", set DuplicateKeyPolicy") {
        Some(i) => &text[..i],
        None => text,
    };
    text.trim_end_matches([',', ' '])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(yaml: &str) -> String {
        match parse_yaml(yaml) {
            Err(p) => p.to_string(),
            Ok(n) => format!("parsed: {n:?}"),
        }
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        assert_eq!(
            err("a:\n  - x\n b: 2\n"),
            "invalid YAML at line 3, column 2: while parsing a block mapping, did not find expected key"
        );
        assert_eq!(
            err("k: \"unterminated\n"),
            "invalid YAML at line 1, column 4: unclosed quote"
        );
        assert_eq!(
            err("a: 1\na: 2\n"),
            "invalid YAML at line 2, column 1: duplicate mapping key: a"
        );
    }

    #[test]
    fn yaml_1_2_scalars() {
        let node = parse_yaml("a: yes\nb: 0123\nc: 0x10\nd: ~\ne: 1.5\nf: 2023-06-01\ng: true\n");
        let expected = Node::Map(vec![
            ("a".into(), Node::Str("yes".into())),
            ("b".into(), Node::Str("0123".into())),
            ("c".into(), Node::Int(16)),
            ("d".into(), Node::Null),
            ("e".into(), Node::Float(1.5)),
            ("f".into(), Node::Str("2023-06-01".into())),
            ("g".into(), Node::Bool(true)),
        ]);
        assert_eq!(node, Ok(expected));
    }

    #[test]
    fn empty_documents_are_empty_mappings() {
        for y in ["", "  \n", "# only a comment\n", "~\n", "---\n"] {
            assert_eq!(parse_yaml(y), Ok(Node::Map(Vec::new())), "{y:?}");
        }
    }
}
