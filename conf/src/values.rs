//! Checks and conversions for single values: sizes, URLs, proxy URLs, prefixes, headers.
//!
//! Pure; no I/O. Each function returns the normalized value or a [`ConfError`] for a
//! [`Problem`] (the caller adds the path). Messages never echo proxy URLs or header values, which may
//! carry credentials.
//!
//! [`Problem`]: crate::Problem

use crate::error::ConfError;
use crate::node::Node;

pub(crate) const KIB: u64 = 1024;
pub(crate) const MIB: u64 = 1024 * KIB;
pub(crate) const GIB: u64 = 1024 * MIB;

/// `max-body-size`: an integer number of bytes or a string `<integer>[ ]<unit>` with unit
/// `B`, `KB`, `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024), case
/// insensitive. Must lie in 1 KiB ..= 1 GiB.
pub(crate) fn body_size(node: &Node) -> Result<usize, ConfError> {
    let bytes = size(node)?;
    if !(KIB..=GIB).contains(&bytes) {
        return Err(ConfError::BodySizeRange {
            got: node.shown().to_string(),
        });
    }
    usize::try_from(bytes).map_err(|_| ConfError::BodySizeAddressSpace)
}

/// `max-in-flight-memory`: a size as for `max-body-size`, 0 (no limit) or 1 MiB ..= 1 TiB.
pub(crate) fn memory_size(node: &Node) -> Result<u64, ConfError> {
    let bytes = size(node)?;
    if bytes != 0 && !(MIB..=GIB * KIB).contains(&bytes) {
        return Err(ConfError::MemorySizeRange {
            got: node.shown().to_string(),
        });
    }
    Ok(bytes)
}

/// A size in bytes: an integer, or a string with a unit ([`parse_size`]).
fn size(node: &Node) -> Result<u64, ConfError> {
    let bytes = match node {
        Node::Int(i) => u64::try_from(*i).ok(),
        Node::Str(s) => parse_size(s),
        _ => None,
    };
    bytes.ok_or_else(|| ConfError::BodySizeSyntax {
        got: node.shown().to_string(),
    })
}

fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    let factor = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "kib" => KIB,
        "mib" => MIB,
        "gib" => GIB,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// The parts of `scheme://[userinfo@]host[:port][/path][?query][#fragment]` we check.
struct UrlParts<'a> {
    scheme: String,
    /// Path, query and fragment: everything after the authority.
    rest: &'a str,
}

fn split_url(s: &str) -> Result<UrlParts<'_>, &'static str> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace");
    }
    let Some((scheme, after)) = s.split_once("://") else {
        return Err("missing scheme, like https://");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    if !scheme_ok {
        return Err("invalid scheme");
    }
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((host, tail)) = bracketed.split_once(']') else {
            return Err("unclosed [ in host");
        };
        match tail {
            "" => (host, None),
            t => match t.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("invalid host"),
            },
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("missing host");
    }
    if host.contains(['[', ']', ':']) && !host_port.starts_with('[') {
        return Err("invalid host");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.chars().all(|c| c.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p));
        if !valid {
            return Err("invalid port");
        }
    }
    Ok(UrlParts {
        scheme: scheme.to_ascii_lowercase(),
        rest,
    })
}

/// An upstream base URL: absolute http(s), no query or fragment; trailing `/` removed.
pub(crate) fn base_url(s: &str) -> Result<String, ConfError> {
    let bad = |why| ConfError::BaseUrl {
        url: s.to_owned(),
        why,
    };
    let parts = split_url(s).map_err(bad)?;
    if parts.scheme != "http" && parts.scheme != "https" {
        return Err(bad("scheme must be http or https"));
    }
    if parts.rest.contains(['?', '#']) {
        return Err(ConfError::BaseUrlQuery { url: s.to_owned() });
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// A `proxy-url`: empty means none; `direct` / `none` (any case) bypass every proxy;
/// otherwise an `http`, `https`, `socks5` or `socks5h` URL with a host (checked by
/// [`crate::parse_proxy_url`], the parser the gateway uses too).
pub(crate) fn proxy_url(s: &str) -> Result<Option<String>, ConfError> {
    match crate::parse_proxy_url(s)? {
        None => Ok(None),
        Some(crate::ProxySetting::Direct) => Ok(Some(s.to_ascii_lowercase())),
        Some(crate::ProxySetting::Via(_)) => Ok(Some(s.to_owned())),
    }
}

/// A routing `prefix`: surrounding `/` trimmed; empty means none; no `/` or whitespace inside.
pub(crate) fn prefix(s: &str) -> Result<Option<String>, ConfError> {
    let trimmed = s.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.contains(|c: char| c == '/' || c.is_whitespace()) {
        return Err(ConfError::Prefix {
            prefix: s.to_owned(),
        });
    }
    Ok(Some(trimmed.to_owned()))
}

/// An HTTP header name is an RFC 9110 token.
pub(crate) fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// A header value must not contain CR, LF or NUL (header injection).
pub(crate) fn header_value_ok(value: &str) -> bool {
    !value.contains(['\r', '\n', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    // The checks with their messages, as the walker records them.
    fn size(n: Node) -> Result<usize, String> {
        body_size(&n).map_err(|e| e.to_string())
    }

    fn base_url(s: &str) -> Result<String, String> {
        super::base_url(s).map_err(|e| e.to_string())
    }

    fn proxy_url(s: &str) -> Result<Option<String>, String> {
        super::proxy_url(s).map_err(|e| e.to_string())
    }

    fn prefix(s: &str) -> Result<Option<String>, String> {
        super::prefix(s).map_err(|e| e.to_string())
    }

    #[test]
    fn sizes() {
        assert_eq!(size(Node::Str("32MiB".into())), Ok(32 << 20));
        assert_eq!(size(Node::Str("512KiB".into())), Ok(512 << 10));
        assert_eq!(size(Node::Str("1GiB".into())), Ok(1 << 30));
        assert_eq!(size(Node::Str("10MB".into())), Ok(10_000_000));
        assert_eq!(size(Node::Str("10 mb".into())), Ok(10_000_000));
        assert_eq!(size(Node::Str("2048".into())), Ok(2048));
        assert_eq!(size(Node::Int(1024)), Ok(1024));
        assert_eq!(size(Node::Str("1KiB".into())), Ok(1024));
        assert_eq!(
            size(Node::Str("2GiB".into())),
            Err("must be between 1KiB and 1GiB, got \"2GiB\"".into())
        );
        assert_eq!(
            size(Node::Int(1023)),
            Err("must be between 1KiB and 1GiB, got 1023".into())
        );
        assert_eq!(
            size(Node::Int(-5)).unwrap_err().split(", got").nth(1),
            Some(" -5")
        );
        assert_eq!(
            size(Node::Str("32 potatoes".into())),
            Err("expected a size in bytes or a string like \"32MiB\" (units B, KB, MB, GB, KiB, MiB, GiB), got \"32 potatoes\"".into())
        );
        assert!(size(Node::Str("1.5GiB".into())).is_err());
        assert!(size(Node::Str("99999999999999999999GiB".into())).is_err());
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url("https://api.example.com/"),
            Ok("https://api.example.com".into())
        );
        assert_eq!(
            base_url("http://127.0.0.1:18317/v1//"),
            Ok("http://127.0.0.1:18317/v1".into())
        );
        assert_eq!(
            base_url("HTTPS://[::1]:8443/v1"),
            Ok("HTTPS://[::1]:8443/v1".into())
        );
        assert_eq!(
            base_url("api.example.com"),
            Err("expected an absolute http(s) URL, got \"api.example.com\" (missing scheme, like https://)".into())
        );
        assert_eq!(
            base_url("ftp://x"),
            Err(
                "expected an absolute http(s) URL, got \"ftp://x\" (scheme must be http or https)"
                    .into()
            )
        );
        assert!(base_url("https://")
            .unwrap_err()
            .ends_with("(missing host)"));
        assert!(base_url("https://h:0")
            .unwrap_err()
            .ends_with("(invalid port)"));
        assert!(base_url("https://h:/v1")
            .unwrap_err()
            .ends_with("(invalid port)"));
        assert!(base_url("https://h x")
            .unwrap_err()
            .ends_with("(contains whitespace)"));
        assert_eq!(
            base_url("https://h/v1?key=1"),
            Err("must not contain a query or fragment, got \"https://h/v1?key=1\"".into())
        );
    }

    #[test]
    fn proxy_urls() {
        assert_eq!(proxy_url(""), Ok(None));
        assert_eq!(proxy_url("DIRECT"), Ok(Some("direct".into())));
        assert_eq!(proxy_url("none"), Ok(Some("none".into())));
        for ok in [
            "http://proxy:3128",
            "https://proxy",
            "socks5://user:pass@192.168.1.1:1080/",
            "socks5h://[::1]:1080",
        ] {
            assert_eq!(proxy_url(ok), Ok(Some(ok.into())), "{ok}");
        }
        assert_eq!(
            proxy_url("ftp://user:secret@x"),
            Err("expected an http, https, socks5 or socks5h URL, or direct or none (scheme \"ftp\" is not supported)".into())
        );
        let e = proxy_url("user:secret@proxy:1080").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
        assert!(e.ends_with("(missing scheme, like https://)"), "{e}");
        assert!(proxy_url("socks5://:1080")
            .unwrap_err()
            .ends_with("(missing host)"));
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefix("/team/"), Ok(Some("team".into())));
        assert_eq!(prefix("  "), Ok(None));
        assert_eq!(
            prefix("a/b"),
            Err("must not contain \"/\" or spaces, got \"a/b\"".into())
        );
        assert!(prefix("a b").is_err());
    }

    #[test]
    fn headers() {
        assert!(header_name_ok("X-Custom-Header"));
        assert!(!header_name_ok("X Custom"));
        assert!(!header_name_ok(""));
        assert!(header_value_ok("a b"));
        assert!(!header_value_ok("a\r\nInjected: 1"));
    }
}
