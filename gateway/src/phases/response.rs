//! `upstream_response_filter`: the upstream answered. A failover-worthy status (429, 408,
//! 5xx, 529) with another account left becomes a retryable error before anything reaches the
//! client; everything else passes through unchanged (status, headers, body, `retry-after`).

use crate::ctx::Ctx;
use crate::health::{parse_retry_after, Outcome};
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::Session;

pub fn upstream_response_filter(
    session: &Session,
    resp: &mut ResponseHeader,
    ctx: &mut Ctx,
) -> Result<()> {
    let status = resp.status.as_u16();
    ctx.record_status(status);
    ctx.record_outcome(if status < 400 {
        Outcome::Success
    } else {
        let retry_after = resp
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        Outcome::Status {
            status,
            retry_after,
        }
    });
    if fails_over(status) && ctx.has_next() && session.response_written().is_none() {
        ctx.retry_status = Some(status);
        let mut e = Error::explain(
            ErrorType::HTTPStatus(status),
            "upstream status triggers failover",
        );
        e.set_retry(true);
        return Err(e);
    }
    Ok(())
}

/// Statuses that move a request to the next account (client errors never do).
pub fn fails_over(status: u16) -> bool {
    matches!(status, 401 | 402 | 403 | 408 | 429) || status >= 500
}
