//! The Prometheus endpoint: `GET /metrics` on its own listener (`metrics.listen`), the text
//! exposition format of the gateway's registry; and `GET /usage`, the usage statistics in
//! CLIProxyAPI's shape when `usage-statistics-enabled` is on. Anything else is a 404.
//!
//! Contract: a Pingora service of its own (its own worker thread), so a slow scraper never
//! takes a proxy worker; the scrape reads counters and gauges, it takes no request-path lock.

use crate::shared::Shared;
use async_trait::async_trait;
use http::Response;
use pingora_core::apps::http_app::{HttpServer, ServeHttp};
use pingora_core::protocols::http::ServerSession;
use pingora_core::services::listening::Service;
use prometheus::{Encoder, TextEncoder};
use std::sync::Arc;

/// Serves `/metrics` from the shared registry.
pub struct MetricsEndpoint {
    shared: Arc<Shared>,
}

/// The listening service for `addr`.
pub fn service(addr: &str, shared: Arc<Shared>) -> Service<HttpServer<MetricsEndpoint>> {
    let mut service = Service::new(
        "metrics".into(),
        HttpServer::new_app(MetricsEndpoint { shared }),
    );
    service.add_tcp(addr);
    service
}

#[async_trait]
impl ServeHttp for MetricsEndpoint {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        let path = req.uri.path();
        let (status, content_type, body) = if path != "/metrics" && path != "/usage" {
            (
                404,
                "text/plain",
                b"not found; metrics are at /metrics\n".to_vec(),
            )
        } else if req.method != http::Method::GET && req.method != http::Method::HEAD {
            (405, "text/plain", b"GET only\n".to_vec())
        } else if path == "/usage" {
            // CLIProxyAPI's `/usage` shape (`usage-statistics-enabled`), until the management
            // API serves it on the main port.
            match &self.shared.usage {
                Some(stats) => {
                    let body = stats.usage_json().to_string().into_bytes();
                    (200, "application/json", body)
                }
                None => (
                    404,
                    "text/plain",
                    b"usage-statistics-enabled is off\n".to_vec(),
                ),
            }
        } else {
            let encoder = TextEncoder::new();
            let mut out = Vec::with_capacity(16 * 1024);
            match encoder.encode(&self.shared.metrics.registry().gather(), &mut out) {
                Ok(()) => (200, prometheus::TEXT_FORMAT, out),
                Err(e) => (500, "text/plain", format!("{e}\n").into_bytes()),
            }
        };
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .header("content-length", body.len())
            .body(body)
            .unwrap_or_default()
    }
}
