//! The request path, one module per Pingora phase (STYLE 2). `proxy.rs` calls into these.

pub mod logging;
pub mod request;
pub mod response;
pub mod upstream;

use bytes::Bytes;
use pingora_http::ResponseHeader;
use pingora_proxy::Session;

/// Write a complete local response (status, JSON body) to the client.
pub async fn write_json(
    session: &mut Session,
    status: u16,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> pingora_error::Result<()> {
    let mut h = ResponseHeader::build(status, Some(4))?;
    h.insert_header("content-type", "application/json")?;
    h.insert_header("content-length", body.len().to_string())?;
    for (k, v) in extra {
        h.insert_header(k.to_string(), *v)?;
    }
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
