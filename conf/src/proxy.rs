//! `proxy-url` values parsed into a typed [`ProxySetting`]: the one parser behind config
//! validation (global and per-account `proxy-url`) and the gateway's upstream connector, so a
//! value that loads is a value the gateway can use.
//!
//! Pure; no I/O, no DNS. Accepted forms (CLIProxyAPI's, cliproxyapi.md §3.6):
//! `http://`, `https://` (TLS to the proxy, then CONNECT), `socks5://` (the gateway resolves
//! the upstream name), `socks5h://` (the proxy resolves it), each with optional
//! `user:password@` (percent-decoded, like Go's `net/url`) and optional port (defaults 80,
//! 443, 1080, 1080); a trailing `/` is allowed, any other path, query or fragment is not.
//! `direct` and `none` (any case) mean "no proxy, not even the global one". Error messages
//! never echo the value, which may carry a password.

use crate::error::{ConfError, ProxyCredentialPart};
use crate::Secret;

/// The proxy protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyScheme {
    /// HTTP CONNECT over plain TCP.
    Http,
    /// HTTP CONNECT over TLS to the proxy.
    Https,
    /// SOCKS5; the gateway resolves the upstream host name and sends an address.
    Socks5,
    /// SOCKS5; the host name goes to the proxy, which resolves it.
    Socks5h,
}

impl ProxyScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Socks5 => "socks5",
            Self::Socks5h => "socks5h",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
            Self::Socks5 | Self::Socks5h => 1080,
        }
    }
}

/// A parsed proxy URL. `Debug` shows no password.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyUrl {
    pub scheme: ProxyScheme,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// `user:password@`, decoded. SOCKS5 limits each to 255 bytes (RFC 1929).
    pub credentials: Option<ProxyCredentials>,
}

/// Proxy credentials: Basic for HTTP CONNECT, RFC 1929 username/password for SOCKS5.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyCredentials {
    pub username: String,
    pub password: Secret,
}

impl std::hash::Hash for Secret {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.expose().hash(state);
    }
}

impl ProxyUrl {
    /// `scheme://host:port`, without credentials: safe for logs and errors.
    pub fn display(&self) -> String {
        if self.host.contains(':') {
            format!("{}://[{}]:{}", self.scheme.as_str(), self.host, self.port)
        } else {
            format!("{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }
}

/// What a non-empty `proxy-url` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// `direct` / `none`: connect directly, ignoring any global proxy.
    Direct,
    Via(ProxyUrl),
}

/// Parses a `proxy-url`. `Ok(None)` for the empty string (no setting: inherit the global one).
pub fn parse_proxy_url(s: &str) -> Result<Option<ProxySetting>, ConfError> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.eq_ignore_ascii_case("direct") || s.eq_ignore_ascii_case("none") {
        return Ok(Some(ProxySetting::Direct));
    }
    let syntax = |why| ConfError::ProxyUrlSyntax { why };
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(syntax("contains whitespace"));
    }
    let Some((scheme, after)) = s.split_once("://") else {
        return Err(syntax("missing scheme, like https://"));
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => ProxyScheme::Http,
        "https" => ProxyScheme::Https,
        "socks5" => ProxyScheme::Socks5,
        "socks5h" => ProxyScheme::Socks5h,
        other => {
            return Err(ConfError::ProxyUrlScheme {
                scheme: other.to_owned(),
            })
        }
    };
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    if !rest.is_empty() && rest != "/" {
        return Err(ConfError::ProxyUrlPath);
    }
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, hp)) => (Some(u), hp),
        None => (None, authority),
    };
    let (host, port) = host_and_port(host_port).map_err(syntax)?;
    let credentials = userinfo.map(credentials).transpose()?;
    if let (ProxyScheme::Socks5 | ProxyScheme::Socks5h, Some(c)) = (scheme, &credentials) {
        if c.username.is_empty() || c.username.len() > 255 || c.password.expose().len() > 255 {
            return Err(ConfError::Socks5CredentialLength);
        }
    }
    Ok(Some(ProxySetting::Via(ProxyUrl {
        scheme,
        host: host.to_owned(),
        port: port.unwrap_or(scheme.default_port()),
        credentials,
    })))
}

/// The host and port of the authority, or why they are invalid.
fn host_and_port(host_port: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, tail) = bracketed.split_once(']').ok_or("unclosed [ in host")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 host");
        }
        match tail {
            "" => (host, None),
            t => (host, Some(t.strip_prefix(':').ok_or("invalid host")?)),
        }
    } else {
        let (h, p) = match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        };
        if !h
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        {
            return Err("invalid host");
        }
        (h, p)
    };
    if host.is_empty() {
        return Err("missing host");
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => Some(n),
            _ => return Err("invalid port"),
        },
    };
    Ok((host, port))
}

fn credentials(userinfo: &str) -> Result<ProxyCredentials, ConfError> {
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode =
        |text: &str, part| percent_decode(text).ok_or(ConfError::ProxyUrlEncoding { part });
    Ok(ProxyCredentials {
        username: decode(user, ProxyCredentialPart::UserName)?,
        password: Secret::new(decode(pass, ProxyCredentialPart::Password)?),
    })
}

/// `%XX` escapes to bytes; the result must be UTF-8. Like Go's `net/url`, every `%` must start
/// an escape of two hex digits (`percent_decode_str` alone would keep `%zz` as text).
fn percent_decode(s: &str) -> Option<String> {
    let well_formed = s.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via(s: &str) -> ProxyUrl {
        match parse_proxy_url(s) {
            Ok(Some(ProxySetting::Via(u))) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn schemes_ports_and_hosts() {
        let u = via("http://proxy.corp:3128");
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (ProxyScheme::Http, "proxy.corp", 3128)
        );
        assert_eq!(via("HTTPS://p").port, 443);
        assert_eq!(via("socks5://10.0.0.1/").port, 1080);
        let u = via("socks5h://[::1]:9050");
        assert_eq!((u.scheme, u.host.as_str()), (ProxyScheme::Socks5h, "::1"));
        assert_eq!(u.display(), "socks5h://[::1]:9050");
        assert_eq!(parse_proxy_url(""), Ok(None));
        assert_eq!(parse_proxy_url("None"), Ok(Some(ProxySetting::Direct)));
        assert_eq!(parse_proxy_url("DIRECT"), Ok(Some(ProxySetting::Direct)));
    }

    #[test]
    fn credentials_are_percent_decoded_and_hidden() {
        let u = via("socks5://us%40er:p%3Ass@h:1");
        let c = u.credentials.clone().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.expose()),
            ("us@er", "p:ss")
        );
        assert!(!format!("{u:?}").contains("p:ss"));
        assert_eq!(u.display(), "socks5://h:1");
        let c = via("http://%41:%41%42@h").credentials.unwrap();
        assert_eq!((c.username.as_str(), c.password.expose()), ("A", "AB"));
        let c = via("http://user@h").credentials.unwrap();
        assert_eq!((c.username.as_str(), c.password.expose()), ("user", ""));
    }

    #[test]
    fn rejects_without_echoing_the_value() {
        for (bad, why) in [
            ("ftp://u:secret@h", "(scheme \"ftp\" is not supported)"),
            ("u:secret@h:1", "(missing scheme, like https://)"),
            ("http://u:secret@h:1/path", "no path, query or fragment"),
            ("http://u:secret@h:1?x", "no path, query or fragment"),
            ("http://u:secret@:1", "missing host"),
            ("http://u:secret@h:0", "invalid port"),
            ("http://u:secret@h:99999", "invalid port"),
            (
                "http://u:sec%zzret@h",
                "invalid percent-encoding in the proxy password",
            ),
            // Not hex 0x0A: the decoder before percent-encoding took `+A` as a signed number.
            (
                "http://u:sec%+Aret@h",
                "invalid percent-encoding in the proxy password",
            ),
            (
                "http://u:secret%4@h",
                "invalid percent-encoding in the proxy password",
            ),
            (
                "http://u%ff:secret@h",
                "invalid percent-encoding in the proxy user name",
            ),
            ("socks5://:secret@h", "1 to 255 bytes"),
            ("http://u:secret@[nothex]:1", "invalid IPv6 host"),
        ] {
            let e = parse_proxy_url(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains("secret"), "{bad}: {e}");
        }
        let long = "x".repeat(256);
        assert!(parse_proxy_url(&format!("socks5://{long}:p@h")).is_err());
        assert!(parse_proxy_url(&format!("http://{long}:p@h")).is_ok());
    }
}
