//! The problem collector and typed getters used while walking the [`Node`] tree.
//!
//! Pure; no I/O. Every getter records a [`Problem`] naming the path and returns `None` instead
//! of stopping, so one run reports every mistake. A YAML `null` (an empty value, `key:`) means
//! "absent": getters return `None` without a problem and the default applies, as in CLIProxyAPI.

use crate::error::ConfError;
use crate::node::Node;
use crate::schema::Section;
use crate::values;
use crate::Problem;

/// Collects errors and warnings during one load.
#[derive(Default)]
pub(crate) struct Walker {
    pub(crate) errors: Vec<Problem>,
    pub(crate) warnings: Vec<Problem>,
}

/// `parent.key` (or `key` at top level).
pub(crate) fn key_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[index]`.
pub(crate) fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

impl Walker {
    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(Problem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    pub(crate) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(Problem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// The value of a check, or `None` with its error recorded at `path`.
    pub(crate) fn checked<T>(&mut self, path: &str, checked: Result<T, ConfError>) -> Option<T> {
        checked.map_err(|e| self.error(path, e.to_string())).ok()
    }

    /// A key the section's walker does not read: a warning if CLIProxyAPI knows it, else an
    /// unknown-key error with a suggestion.
    pub(crate) fn other_key(&mut self, section: &Section, key: &str, path: &str) {
        if section.is_unsupported(key) {
            self.warn(
                path,
                "accepted but not supported by Switchyard yet; ignored",
            );
        } else if let Some(hint) = section.suggest(key) {
            self.error(path, format!("unknown key; did you mean {hint}?"));
        } else {
            self.error(path, "unknown key");
        }
    }

    pub(crate) fn expected(&mut self, path: &str, what: &str, got: &Node) {
        self.error(path, format!("expected {what}, got {}", got.shown()));
    }

    /// A mapping's entries; `null` is an empty mapping. A wrong type is reported by kind only:
    /// a misplaced scalar here is often a key (`api-keys: sk-...`).
    pub(crate) fn map<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [(String, Node)]> {
        match node {
            Node::Map(entries) => Some(entries),
            Node::Null => Some(&[]),
            other => {
                self.error(path, format!("expected a mapping, got {}", other.kind()));
                None
            }
        }
    }

    /// A list's items; `null` is an empty list. A wrong type is reported by kind only.
    pub(crate) fn seq<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match node {
            Node::Seq(items) => Some(items),
            Node::Null => Some(&[]),
            other => {
                self.error(path, format!("expected a list, got {}", other.kind()));
                None
            }
        }
    }

    /// A string, trimmed.
    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match node {
            Node::Str(s) => Some(s.trim().to_owned()),
            Node::Null => None,
            other => {
                self.expected(path, "a string", other);
                None
            }
        }
    }

    /// A secret string, trimmed. A wrong type is reported by kind only, never by value.
    pub(crate) fn secret(&mut self, node: &Node, path: &str) -> Option<String> {
        match node {
            Node::Str(s) => Some(s.trim().to_owned()),
            Node::Null => None,
            other => {
                self.error(path, format!("expected a string, got {}", other.kind()));
                None
            }
        }
    }

    /// The value of a required string field: the trimmed text (`null` is ""), or `None` if the
    /// value had the wrong type (reported here). Callers keep `Option<Option<String>>`, with the
    /// outer `None` for an absent key, and pass it to [`Walker::require`].
    pub(crate) fn text(&mut self, node: &Node, path: &str, secret: bool) -> Option<String> {
        match node {
            Node::Null => Some(String::new()),
            _ if secret => self.secret(node, path),
            _ => self.string(node, path),
        }
    }

    /// Reports a missing (outer `None`) or empty required field; the value if usable.
    pub(crate) fn require(&mut self, field: Option<Option<String>>, path: &str) -> Option<String> {
        match field {
            None => {
                self.error(path, "required key is missing");
                None
            }
            Some(None) => None,
            Some(Some(s)) if s.is_empty() => {
                self.error(path, "must not be empty");
                None
            }
            Some(Some(s)) => Some(s),
        }
    }

    /// A boolean. Like Go's yaml.v3 (CLIProxyAPI), the YAML 1.1 spellings `yes`/`no`/`on`/`off`
    /// are accepted where a boolean is expected, though elsewhere they stay strings.
    pub(crate) fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node {
            Node::Bool(b) => Some(*b),
            Node::Str(s) if matches!(s.as_str(), "yes" | "Yes" | "YES" | "on" | "On" | "ON") => {
                Some(true)
            }
            Node::Str(s) if matches!(s.as_str(), "no" | "No" | "NO" | "off" | "Off" | "OFF") => {
                Some(false)
            }
            Node::Null => None,
            other => {
                self.expected(path, "true or false", other);
                None
            }
        }
    }

    /// An integer in `min..=max`; `max == None` means no upper bound worth stating (the target
    /// type's maximum still applies, reported with the same message).
    pub(crate) fn int(
        &mut self,
        node: &Node,
        path: &str,
        min: i128,
        max: Option<i128>,
    ) -> Option<i128> {
        let want = match max {
            Some(max) => format!("an integer {min}-{max}"),
            None => format!("an integer >= {min}"),
        };
        match node {
            Node::Int(i) if *i >= min && max.is_none_or(|m| *i <= m) => Some(*i),
            Node::Null => None,
            other => {
                self.expected(path, &want, other);
                None
            }
        }
    }

    /// An integer `>= min` that fits `u64`.
    pub(crate) fn u64_at_least(&mut self, node: &Node, path: &str, min: u64) -> Option<u64> {
        let i = self.int(node, path, min.into(), None)?;
        match u64::try_from(i) {
            Ok(v) => Some(v),
            Err(_) => {
                self.expected(path, &format!("an integer >= {min}"), node);
                None
            }
        }
    }

    /// A `proxy-url` value (top level or per account), normalized by [`values::proxy_url`].
    pub(crate) fn proxy_url(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.string(node, path)?;
        self.checked(path, values::proxy_url(&text)).flatten()
    }

    /// A list of trimmed strings (each item must be a non-empty string).
    pub(crate) fn string_list(&mut self, node: &Node, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, item) in self.seq(node, path).unwrap_or_default().iter().enumerate() {
            let p = index_path(path, i);
            match item {
                Node::Str(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                Node::Str(_) | Node::Null => self.error(&p, "must not be empty"),
                other => self.expected(&p, "a string", other),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(key_path("", "port"), "port");
        assert_eq!(key_path("tls", "cert"), "tls.cert");
        assert_eq!(index_path("claude-api-key", 2), "claude-api-key[2]");
    }

    #[test]
    fn int_messages() {
        let mut w = Walker::default();
        assert_eq!(
            w.int(&Node::Str("abc".into()), "port", 1, Some(65535)),
            None
        );
        assert_eq!(w.int(&Node::Int(-1), "request-retry", 0, None), None);
        assert_eq!(w.int(&Node::Null, "x", 0, None), None);
        assert_eq!(w.int(&Node::Int(7), "x", 0, None), Some(7));
        let got: Vec<String> = w.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "port: expected an integer 1-65535, got \"abc\"",
                "request-retry: expected an integer >= 0, got -1",
            ]
        );
    }

    #[test]
    fn secret_type_error_does_not_echo_value() {
        let mut w = Walker::default();
        assert_eq!(w.secret(&Node::Int(123456789), "api-keys[0]"), None);
        assert_eq!(
            w.errors[0].to_string(),
            "api-keys[0]: expected a string, got an integer"
        );
    }

    #[test]
    fn string_list_reports_each_bad_item() {
        let mut w = Walker::default();
        let node = Node::Seq(vec![
            Node::Str(" a ".into()),
            Node::Str("".into()),
            Node::Int(3),
            Node::Null,
        ]);
        assert_eq!(w.string_list(&node, "l"), ["a"]);
        let got: Vec<String> = w.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "l[1]: must not be empty",
                "l[2]: expected a string, got 3",
                "l[3]: must not be empty"
            ]
        );
    }
}
