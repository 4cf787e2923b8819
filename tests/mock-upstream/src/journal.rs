//! Journal helpers shared by the provider handler and the scripted `/_auth/` routes: the
//! entry for a request answered outside the provider routes, and the header map and body hash
//! every journal entry carries.
//!
//! Below `handler` and `auth_routes`; depends only on `state`.

use crate::state::{Entry, State, JOURNAL_BODY_MAX};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Journals a request answered outside the provider routes (Code Assist onboarding, the
/// scripted `/_auth/` endpoints).
pub(crate) fn journal_plain(
    state: &State,
    parts: &http::request::Parts,
    account: &str,
    body: &[u8],
) {
    state.record(Entry {
        seq: 0,
        account: account.to_owned(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: headers_map(&parts.headers),
        body_len: body.len(),
        body_sha256: sha256_hex(body),
        model: None,
        stream: false,
        outcome: "ok".into(),
        has_tool_result: false,
        body: (body.len() <= JOURNAL_BODY_MAX).then(|| String::from_utf8_lossy(body).into_owned()),
    });
}

pub(crate) fn headers_map(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

pub(crate) fn sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
