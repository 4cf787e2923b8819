//! The request path, one module per Pingora phase (STYLE 2). `proxy.rs` calls into these.

pub mod logging;
mod plan;
pub mod request;
pub mod response;
pub mod upstream;

use crate::ctx::Observed;
use bytes::Bytes;
use pingora_http::ResponseHeader;
use pingora_proxy::Session;

/// Write a complete local response (status, JSON body) to the client, with the request's id
/// and timings.
pub async fn write_json(
    session: &mut Session,
    obs: &Observed,
    status: u16,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> pingora_error::Result<()> {
    let mut h = ResponseHeader::build(status, Some(6))?;
    h.insert_header("content-type", "application/json")?;
    h.insert_header("content-length", body.len().to_string())?;
    for (k, v) in extra {
        h.insert_header(k.to_string(), *v)?;
    }
    observed_headers(&mut h, obs)?;
    let head_only = session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(h), head_only)
        .await?;
    if !head_only {
        session
            .write_response_body(Some(Bytes::from(body)), true)
            .await?;
    }
    Ok(())
}

/// `X-Request-Id` and, unless switched off, `Server-Timing` on a response the client gets.
pub fn observed_headers(h: &mut ResponseHeader, obs: &Observed) -> pingora_error::Result<()> {
    if !obs.request_id.is_empty() {
        h.insert_header("x-request-id", obs.request_id.as_str())?;
    }
    if obs.server_timing {
        h.insert_header("server-timing", obs.server_timing())?;
    }
    Ok(())
}
