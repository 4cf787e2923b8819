//! `Debug` for the config types that hold credentials besides [`Secret`]s: header values
//! (often `Authorization` or `X-Api-Key`) and proxy URLs with `user:password@`.
//!
//! Pure; no I/O. Contract: `format!("{config:?}")` is safe to log; it never contains a client
//! key, an account key, a header value or proxy credentials.

use std::collections::BTreeMap;
use std::fmt;

use crate::{ApiKeyAccount, Config, Secret};

/// A proxy URL with any `userinfo@` replaced by `<redacted>@`.
pub(crate) struct RedactedUrl<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let Some((scheme, rest)) = url.split_once("://") else {
            return write!(f, "{url:?}");
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        match rest[..authority_end].rsplit_once('@') {
            Some((_, host)) => {
                write!(
                    f,
                    "\"{scheme}://<redacted>@{host}{}\"",
                    &rest[authority_end..]
                )
            }
            None => write!(f, "{url:?}"),
        }
    }
}

struct OptUrl<'a>(&'a Option<String>);

impl fmt::Debug for OptUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(url) => f.debug_tuple("Some").field(&RedactedUrl(url)).finish(),
            None => f.write_str("None"),
        }
    }
}

/// Header names with every value hidden.
struct Headers<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, Secret::default())))
            .finish()
    }
}

impl fmt::Debug for ApiKeyAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyAccount")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("provider_name", &self.provider_name)
            .field("api_key", &self.api_key)
            .field("base_url", &RedactedUrl(&self.base_url))
            .field("prefix", &self.prefix)
            .field("headers", &Headers(&self.headers))
            .field("proxy_url", &OptUrl(&self.proxy_url))
            .field("models", &self.models)
            .field("excluded_models", &self.excluded_models)
            .field("disable_cooling", &self.disable_cooling)
            .field("priority", &self.priority)
            .field("weight", &self.weight)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("api_keys", &self.api_keys)
            .field("auth_dir", &self.auth_dir)
            .field("debug", &self.debug)
            .field("request_retry", &self.request_retry)
            .field("max_retry_interval_secs", &self.max_retry_interval_secs)
            .field("routing_strategy", &self.routing_strategy)
            .field("proxy_url", &OptUrl(&self.proxy_url))
            .field("accounts", &self.accounts)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("max_connections", &self.max_connections)
            .field("max_in_flight_memory", &self.max_in_flight_memory)
            .field("client_timeouts", &self.client_timeouts)
            .field("workers", &self.workers)
            .field("upstream_timeouts", &self.upstream_timeouts)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("disable_cooling", &self.disable_cooling)
            .field("transient_cooldown_secs", &self.transient_cooldown_secs)
            .field("force_model_prefix", &self.force_model_prefix)
            .field(
                "enable_gemini_cli_endpoint",
                &self.enable_gemini_cli_endpoint,
            )
            .field("passthrough_headers", &self.passthrough_headers)
            .field("payload", &self.payload)
            .field("model_fallback", &self.model_fallback)
            .field("oauth_overrides", &self.oauth_overrides)
            .field("model_catalog", &self.model_catalog)
            .field("oauth_model_alias", &self.oauth_model_alias)
            .field("oauth_excluded_models", &self.oauth_excluded_models)
            .field("remote_management", &self.remote_management)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_userinfo_is_hidden() {
        let shown = format!("{:?}", RedactedUrl("socks5://user:pa@ss@proxy:1080/x"));
        assert_eq!(shown, "\"socks5://<redacted>@proxy:1080/x\"");
        assert_eq!(
            format!("{:?}", RedactedUrl("http://proxy:3128")),
            "\"http://proxy:3128\""
        );
        assert_eq!(format!("{:?}", RedactedUrl("direct")), "\"direct\"");
    }

    #[test]
    fn header_values_are_hidden() {
        let headers = BTreeMap::from([("Authorization".to_owned(), "Bearer abc".to_owned())]);
        assert_eq!(
            format!("{:?}", Headers(&headers)),
            "{\"Authorization\": Secret(<redacted>)}"
        );
    }
}
