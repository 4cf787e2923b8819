//! `logging`: one line per request, the only place a request's outcome is logged.

use crate::ctx::Ctx;
use pingora_proxy::Session;

pub fn logging(session: &Session, e: Option<&pingora_error::Error>, ctx: &Ctx) {
    if e.is_none() && ctx.local_error.is_none() {
        crate::pool::remember_session(ctx);
    }
    let req = session.req_header();
    let status = session.response_written().map_or(0, |r| r.status.as_u16());
    let accounts: Vec<String> = ctx
        .attempts
        .iter()
        .map(|a| match a.cause {
            Some(cause) => format!("{}={cause}", ctx.rt.accounts[a.account].id),
            None => format!("{}={}", ctx.rt.accounts[a.account].id, a.status),
        })
        .collect();
    let elapsed_ms = ctx.started.elapsed().as_secs_f64() * 1000.0;
    let error = ctx.local_error.as_ref().map(|e| e.label()).unwrap_or("");
    let cause = e.map(|e| e.to_string()).unwrap_or_default();
    tracing::info!(
        target: "switchyard::access",
        method = %req.method,
        path = req.uri.path(),
        status,
        model = ctx.model.as_deref().unwrap_or(""),
        stream = ctx.stream,
        body_bytes = ctx.body_len,
        attempts = %accounts.join(","),
        error,
        cause = %cause,
        ms = format_args!("{elapsed_ms:.1}"),
    );
}
