//! Client API keys, checked as CLIProxyAPI checks them (cliproxyapi.md §3.7).
//!
//! Sources in order: `Authorization: Bearer <k>` (or bare `Authorization: <k>`),
//! `x-goog-api-key`, `x-api-key`, query `?key=`, query `?auth_token=`. An empty key list lets
//! every request through. Keys are compared as SHA-256 digests in constant time, against every
//! configured key without stopping early, so timing says nothing about which prefix matched.

use crate::errors::GatewayError;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_conf::Secret;

/// The configured client keys, stored as digests.
#[derive(Clone, Default)]
pub struct ClientKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ClientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKeys({} keys)", self.digests.len())
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// A client key's id: the first 6 bytes of its SHA-256, in hex (`sha256:1a2b3c4d5e6f`).
fn key_id(digest: &[u8; 32]) -> String {
    let mut id = String::with_capacity(19);
    id.push_str("sha256:");
    for b in &digest[..6] {
        id.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        id.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    id
}

impl ClientKeys {
    pub fn new(keys: &[Secret]) -> Self {
        Self {
            digests: keys.iter().map(|k| digest(k.expose())).collect(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.digests.is_empty()
    }

    /// Check the credential a request presents; on success, the key's id for logs, metrics and
    /// usage (a short hash, never the key; `None` when the gateway is open).
    pub fn check(&self, presented: Option<&str>) -> Result<Option<String>, GatewayError> {
        if self.is_open() {
            return Ok(None);
        }
        let Some(key) = presented.filter(|k| !k.is_empty()) else {
            return Err(GatewayError::MissingApiKey);
        };
        let d = digest(key);
        let mut found = subtle::Choice::from(0);
        for k in &self.digests {
            found |= k.ct_eq(&d);
        }
        if bool::from(found) {
            Ok(Some(key_id(&d)))
        } else {
            Err(GatewayError::InvalidApiKey)
        }
    }
}

/// The credential a client presented, from headers and query, in CLIProxyAPI's order.
pub fn presented_key<'a>(req: &'a http::request::Parts) -> Option<std::borrow::Cow<'a, str>> {
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(auth) = header("authorization") {
        let key = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .unwrap_or(auth)
            .trim();
        if !key.is_empty() {
            return Some(key.into());
        }
    }
    for name in ["x-goog-api-key", "x-api-key"] {
        if let Some(k) = header(name).filter(|k| !k.is_empty()) {
            return Some(k.into());
        }
    }
    let query = req.uri.query()?;
    for wanted in ["key", "auth_token"] {
        if let Some(v) = query_param(query, wanted) {
            return Some(v);
        }
    }
    None
}

/// The first value of `name` in a query string, percent-decoded.
pub fn query_param<'a>(query: &'a str, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name && !v.is_empty()).then(|| {
            if v.contains('%') || v.contains('+') {
                crate::protocol::percent_decode(&v.replace('+', " ")).into()
            } else {
                v.into()
            }
        })
    })
}

/// The query string without the parameters that carry client credentials.
pub fn strip_credential_params(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let k = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !pair.is_empty() && k != "key" && k != "auth_token"
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], uri: &str) -> http::request::Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn sources_in_cliproxyapi_order() {
        let p = parts(
            &[("authorization", "Bearer a"), ("x-api-key", "b")],
            "/x?key=c",
        );
        assert_eq!(presented_key(&p).as_deref(), Some("a"));
        let p = parts(&[("authorization", "bare")], "/");
        assert_eq!(presented_key(&p).as_deref(), Some("bare"));
        let p = parts(&[("x-api-key", "b"), ("x-goog-api-key", "g")], "/");
        assert_eq!(presented_key(&p).as_deref(), Some("g"));
        let p = parts(&[], "/x?alt=sse&key=c%2B");
        assert_eq!(presented_key(&p).as_deref(), Some("c+"));
        let p = parts(&[], "/x?auth_token=t");
        assert_eq!(presented_key(&p).as_deref(), Some("t"));
        assert_eq!(presented_key(&parts(&[], "/x?alt=sse")), None);
    }

    #[test]
    fn check_keys() {
        let keys = ClientKeys::new(&[Secret::new("k1"), Secret::new("k2")]);
        let id = keys.check(Some("k2")).unwrap().unwrap();
        assert!(id.starts_with("sha256:") && id.len() == 19, "{id}");
        assert!(!id.contains("k2"));
        assert_eq!(keys.check(Some("k2")), Ok(Some(id)), "stable");
        assert_eq!(keys.check(Some("k3")), Err(GatewayError::InvalidApiKey));
        assert_eq!(keys.check(None), Err(GatewayError::MissingApiKey));
        assert_eq!(keys.check(Some("")), Err(GatewayError::MissingApiKey));
        assert_eq!(ClientKeys::new(&[]).check(None), Ok(None));
        assert_eq!(format!("{keys:?}"), "ClientKeys(2 keys)");
    }

    #[test]
    fn strips_credentials_from_query() {
        assert_eq!(strip_credential_params("alt=sse&key=abc"), "alt=sse");
        assert_eq!(strip_credential_params("key=abc"), "");
        assert_eq!(
            strip_credential_params("auth_token=x&beta=true"),
            "beta=true"
        );
    }
}
