//! `passthrough-headers`: which upstream response headers reach the client.
//!
//! Runs in `upstream_response_filter`, before the gateway sets its own headers (content type
//! and cache control of a translated answer), so the gateway's always win. CLIProxyAPI's rule
//! (`sdk/api/handlers/header_filter.go`, `DownstreamHeaders`), kept exactly:
//!
//! - never forwarded: hop-by-hop headers (`Connection` and the names it lists, `Keep-Alive`,
//!   `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailer`, `Upgrade`), `Set-Cookie`,
//!   and headers other AI gateways add (`x-litellm-*`, `helicone-*`, `x-portkey-*`, `cf-aig-*`,
//!   `x-kong-*`, `x-bt-*`);
//! - `passthrough-headers: true`: everything else;
//! - `false` (the default): only rate-limit information, which clients act on: `Retry-After`,
//!   names containing `ratelimit` or `rate-limit`, and Codex's quota headers.
//!
//! Framing and representation stay the gateway's business, whatever the setting:
//! `Content-Type`, `Content-Length`, `Content-Encoding`, `Transfer-Encoding` and
//! `Cache-Control` are left for Pingora and the response phase (CLIProxyAPI drops
//! `Content-Length`/`Content-Encoding` because it re-frames every body; Switchyard passes
//! same-protocol bodies through unchanged, so their framing must stay with them).

use pingora_http::ResponseHeader;

/// Left alone: the gateway manages them.
const MANAGED: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "cache-control",
];

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "set-cookie",
];

const GATEWAY_PREFIXES: &[&str] = &[
    "x-litellm-",
    "helicone-",
    "x-portkey-",
    "cf-aig-",
    "x-kong-",
    "x-bt-",
];

/// Whether the upstream header `name` (lowercase) reaches the client.
pub fn forwarded(name: &str, passthrough_all: bool, connection_scoped: &[String]) -> bool {
    if MANAGED.contains(&name) {
        return true;
    }
    if HOP_BY_HOP.contains(&name)
        || connection_scoped.iter().any(|s| s == name)
        || GATEWAY_PREFIXES.iter().any(|p| name.starts_with(p))
    {
        return false;
    }
    passthrough_all || is_rate_limit(name)
}

fn is_rate_limit(name: &str) -> bool {
    if name == "retry-after" || name.contains("ratelimit") || name.contains("rate-limit") {
        return true;
    }
    if name == "x-codex-plan-type" || name.starts_with("x-codex-credits-") {
        return true;
    }
    name.starts_with("x-codex-")
        && [
            "-allowed",
            "-limit-reached",
            "-limit-name",
            "-used-percent",
            "-window-minutes",
            "-reset-after-seconds",
            "-reset-at",
            "-over-secondary-limit-percent",
        ]
        .iter()
        .any(|m| name.contains(m))
}

/// Remove from `resp` every upstream header the client must not see.
pub fn filter(resp: &mut ResponseHeader, passthrough_all: bool) {
    let scoped: Vec<String> = resp
        .headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let drop: Vec<String> = resp
        .headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| !forwarded(k, passthrough_all, &scoped))
        .collect();
    for name in drop {
        resp.remove_header(&name);
    }
    // The gateway's own `X-Request-Id` goes on every answer; a provider's id that passes
    // through keeps its value under another name (what a provider's support asks for).
    if let Some(id) = resp.remove_header("x-request-id") {
        let _ = resp.insert_header("x-upstream-request-id", id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keeps_rate_limits_and_framing_only() {
        let mut resp = ResponseHeader::build(200, None).unwrap();
        for (k, v) in [
            ("content-type", "application/json"),
            ("content-length", "2"),
            ("x-request-id", "req_1"),
            ("anthropic-ratelimit-requests-remaining", "9"),
            ("x-ratelimit-limit-tokens", "100"),
            ("retry-after", "3"),
            ("x-codex-primary-used-percent", "12"),
            ("set-cookie", "a=b"),
            ("connection", "x-private"),
            ("x-private", "1"),
            ("helicone-id", "h"),
        ] {
            resp.append_header(k, v).unwrap();
        }
        let mut off = resp.clone();
        filter(&mut off, false);
        let mut names: Vec<&str> = off.headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "anthropic-ratelimit-requests-remaining",
                "content-length",
                "content-type",
                "retry-after",
                "x-codex-primary-used-percent",
                "x-ratelimit-limit-tokens"
            ]
        );
        filter(&mut resp, true);
        let mut names: Vec<&str> = resp.headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "anthropic-ratelimit-requests-remaining",
                "content-length",
                "content-type",
                "retry-after",
                "x-codex-primary-used-percent",
                "x-ratelimit-limit-tokens",
                "x-upstream-request-id"
            ]
        );
        assert_eq!(
            resp.headers.get("x-upstream-request-id").unwrap(),
            "req_1",
            "the provider's id is kept for the gateway's own to take its name"
        );
    }
}
