//! The conf crate's one error type: what is wrong with a single value (a size, a URL, a
//! `proxy-url`, a prefix, a payload value).
//!
//! Pure; no I/O. A value error does not know where in `config.yaml` the value was: the walker
//! pairs it with the path in a [`Problem`](crate::Problem), which is what [`load_str`] returns.
//! [`parse_proxy_url`], which the gateway also calls for auth files, returns it directly.
//! Messages never echo a proxy URL (it may carry a password) or a header value.
//!
//! [`load_str`]: crate::load_str
//! [`parse_proxy_url`]: crate::parse_proxy_url

/// Which half of a proxy URL's `user:password@` is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyCredentialPart {
    UserName,
    Password,
}

impl std::fmt::Display for ProxyCredentialPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UserName => "user name",
            Self::Password => "password",
        })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfError {
    /// `max-body-size` is neither a number of bytes nor `<integer>[ ]<unit>`; `got` is the
    /// value as shown in messages.
    #[error("expected a size in bytes or a string like \"32MiB\" (units B, KB, MB, GB, KiB, MiB, GiB), got {got}")]
    BodySizeSyntax { got: String },
    /// `max-body-size` outside 1 KiB ..= 1 GiB.
    #[error("must be between 1KiB and 1GiB, got {got}")]
    BodySizeRange { got: String },
    /// `max-in-flight-memory` outside 1 MiB ..= 1 TiB (and not 0).
    #[error("must be 0 (no limit) or between 1MiB and 1TiB, got {got}")]
    MemorySizeRange { got: String },
    #[error("does not fit this platform's address space")]
    BodySizeAddressSpace,
    /// A `base-url` that is not an absolute http(s) URL; `why` names the broken part.
    #[error("expected an absolute http(s) URL, got {url:?} ({why})")]
    BaseUrl { url: String, why: &'static str },
    #[error("must not contain a query or fragment, got {url:?}")]
    BaseUrlQuery { url: String },
    /// A routing `prefix` with `/` or whitespace inside.
    #[error("must not contain \"/\" or spaces, got {prefix:?}")]
    Prefix { prefix: String },
    /// A `proxy-url` that does not parse; `why` names the broken part, never the value.
    #[error("expected an http, https, socks5 or socks5h URL, or direct or none ({why})")]
    ProxyUrlSyntax { why: &'static str },
    #[error("expected an http, https, socks5 or socks5h URL, or direct or none (scheme {scheme:?} is not supported)")]
    ProxyUrlScheme { scheme: String },
    #[error("a proxy URL has no path, query or fragment")]
    ProxyUrlPath,
    #[error("invalid percent-encoding in the proxy {part}")]
    ProxyUrlEncoding { part: ProxyCredentialPart },
    #[error("SOCKS5 user name and password must be 1 to 255 bytes each (RFC 1929)")]
    Socks5CredentialLength,
    /// A `payload.*-raw` value that is not JSON text; `reason` is serde_json's message.
    #[error("not valid JSON ({reason}); -raw values are JSON text")]
    PayloadRawJson { reason: String },
    /// A payload value with an integer JSON cannot carry.
    #[error("integer {0} does not fit JSON's 64-bit range")]
    PayloadInteger(i128),
    /// A payload value with a float JSON cannot carry (NaN, infinity).
    #[error("{0} is not a JSON number")]
    PayloadFloat(f64),
}
