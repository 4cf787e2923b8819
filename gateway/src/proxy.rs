//! The `ProxyHttp` implementation: a table of contents of the request path (STYLE 2). Each
//! phase is a few lines that call into `phases/`.

use crate::ctx::Ctx;
use crate::dns::Resolver;
use crate::phases;
use crate::reload::RuntimeHolder;
use crate::runtime::Runtime;
use crate::shared::Shared;
use async_trait::async_trait;
use bytes::Bytes;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::{Error, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_proxy::{FailToProxy, ProxyHttp, Session};
use std::sync::Arc;

/// The gateway service. Holds the current runtime snapshot; a reload swaps it
/// (`reload.rs`), and each request keeps the one it started with.
pub struct Gateway {
    runtime: Arc<RuntimeHolder>,
    resolver: Resolver,
    shared: Arc<Shared>,
    readiness: Arc<crate::readiness::Readiness>,
    management: Option<Arc<crate::management::Management>>,
}

impl Gateway {
    pub fn new(runtime: Arc<RuntimeHolder>, shared: Arc<Shared>) -> Self {
        Self {
            runtime,
            resolver: Resolver::default(),
            shared,
            readiness: Arc::default(),
            management: None,
        }
    }

    /// Share the process's readiness state (draining) with `/readyz`.
    pub fn with_readiness(mut self, readiness: Arc<crate::readiness::Readiness>) -> Self {
        self.readiness = readiness;
        self
    }

    /// Serve the management API (`/v0/management`) from this gateway.
    pub fn with_management(mut self, management: Arc<crate::management::Management>) -> Self {
        self.management = Some(management);
        self
    }

    fn snapshot(&self) -> Arc<Runtime> {
        self.runtime.load()
    }
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = Ctx;

    fn new_ctx(&self) -> Ctx {
        Ctx::new(self.snapshot(), self.shared.clone())
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<bool> {
        phases::request::begin(session, ctx);
        if let Some(answered) =
            crate::readiness::request_filter(session, ctx, &self.readiness).await
        {
            return answered;
        }
        if let Some(m) = &self.management {
            if let Some(answered) = crate::management::request_filter(session, ctx, m).await {
                return answered;
            }
        }
        phases::request::request_filter(session, ctx).await
    }

    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
        phases::upstream::upstream_peer(&self.resolver, ctx).await
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        req: &mut RequestHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        phases::upstream::upstream_request_filter(session, req, ctx)
    }

    async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut Ctx,
    ) -> Result<()> {
        phases::upstream::request_body_filter(body, end_of_stream, ctx)
    }

    async fn upstream_response_filter(
        &self,
        session: &mut Session,
        resp: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        phases::response::upstream_response_filter(session, resp, ctx)
    }

    fn response_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<std::time::Duration>> {
        let header_out = session.response_written().is_some();
        phases::response::response_body_filter(body, end_of_stream, header_out, ctx)?;
        Ok(None)
    }

    fn upstream_body_read_timeout(&self, ctx: &Ctx) -> Option<std::time::Duration> {
        Some(ctx.rt.idle_timeout)
    }

    fn hold_response_tasks(
        &self,
        tasks: &mut Vec<pingora_core::protocols::http::HttpTask>,
        ends: bool,
        ctx: &mut Ctx,
    ) {
        phases::response::hold_response_tasks(tasks, ends, ctx);
    }

    fn downstream_idle_interval(&self, ctx: &Ctx) -> Option<std::time::Duration> {
        phases::response::idle_interval(ctx)
    }

    async fn downstream_idle(&self, session: &mut Session, ctx: &mut Ctx) -> Result<()> {
        phases::response::keep_alive(session, ctx).await
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut Ctx,
        e: Box<Error>,
    ) -> Box<Error> {
        phases::upstream::fail_to_connect(&self.resolver, ctx, e)
    }

    fn error_while_proxy(
        &self,
        _peer: &HttpPeer,
        _session: &mut Session,
        e: Box<Error>,
        ctx: &mut Ctx,
        _client_reused: bool,
    ) -> Box<Error> {
        phases::upstream::error_while_proxy(ctx, e)
    }

    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, ctx: &mut Ctx) -> FailToProxy {
        phases::upstream::fail_to_proxy(session, e, ctx).await
    }

    /// Every attempt and the final outcome are in the `logging` phase's one line per request.
    fn suppress_error_log(&self, _session: &Session, _ctx: &Ctx, _error: &Error) -> bool {
        true
    }

    fn suppress_proxy_warn_log(
        &self,
        _session: &Session,
        _ctx: &Ctx,
        _error: &Error,
        _context: pingora_proxy::ProxyWarnLogContext,
    ) -> bool {
        true
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut Ctx) {
        phases::logging::logging(session, e, ctx);
    }
}
