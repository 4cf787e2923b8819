//! Upstream proxies (`proxy-url`, global and per account): a Pingora `custom_l4` connector that
//! reaches the upstream through an HTTP CONNECT proxy (`http://`, or `https://` with TLS to the
//! proxy) or a SOCKS5 proxy (`socks5://` resolves the upstream name here, `socks5h://` lets the
//! proxy resolve it). Pingora then speaks HTTP, or TLS to the origin, over the returned stream,
//! so the origin's SNI and certificate checks are unchanged.
//!
//! Contract, used by `upstream_peer`:
//! - [`first_hop`] is the host the gateway resolves itself: the proxy's, never the upstream's.
//! - [`route`] gives a proxied peer the proxy's address and a `group_key` naming the proxy and
//!   the upstream. Pingora keys its pool on both (`Hash for HttpPeer`) and checks a pooled
//!   socket's remote address against the peer's address, so a proxied and a direct connection
//!   to one origin, or connections through two proxies, never share a pooled connection.
//!   Connections through an `https://` proxy are not pooled at all (Pingora cannot check the
//!   remote address of a TLS-wrapped socket): each request pays its own proxy handshake.
//! - Every failure (proxy unreachable, proxy TLS, proxy authentication, proxy refused) is a
//!   connect error of the account (`fail_to_connect`): it counts as a transport failure, and
//!   the request fails over. Handshakes run under the account's connect timeout. Errors name
//!   the proxy as `scheme://host:port`, never its credentials.
//!
//! The wire protocols are in `upstream_proxy/handshake.rs`.

mod handshake;

use async_trait::async_trait;
use pingora_core::connectors::L4Connect;
use pingora_core::protocols::l4::socket::SocketAddr;
use pingora_core::protocols::l4::stream::Stream;
use pingora_core::protocols::l4::virt::{VirtualSockOpt, VirtualSocket, VirtualSocketStream};
use pingora_core::tls::{ClientConfig, ClientTlsStream, RootCertStore, ServerName, TlsConnector};
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::{Error, ErrorType, Result};
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use switchyard_conf::{ProxyScheme, ProxySetting, ProxyUrl};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// One configured proxy, ready to connect through.
pub struct UpstreamProxy {
    pub url: ProxyUrl,
    /// For `https://` proxies: TLS to the proxy, trusting the platform roots and
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` like Pingora's own upstream TLS.
    tls: Option<TlsConnector>,
    /// Hash of the whole URL, credentials included: part of every proxied peer's pool key.
    identity: u64,
}

impl std::fmt::Debug for UpstreamProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url.display())
    }
}

/// Why a `proxy-url` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The URL itself (conf's check).
    #[error(transparent)]
    Url(#[from] switchyard_conf::ConfError),
    /// TLS to an `https://` proxy cannot be set up.
    #[error("{0}")]
    Tls(String),
}

/// An account's proxy choice.
#[derive(Debug, Clone, Default)]
pub enum AccountProxy {
    /// No `proxy-url` on the account: the global one applies (resolved by `Runtime::build`).
    #[default]
    Inherit,
    /// `direct` / `none`, or no proxy configured anywhere.
    Direct,
    Via(Arc<UpstreamProxy>),
}

impl AccountProxy {
    /// Parses a `proxy-url` value (account or global; auth files use the same form).
    pub fn parse(value: Option<&str>) -> Result<Self, ProxyError> {
        match switchyard_conf::parse_proxy_url(value.unwrap_or(""))? {
            None => Ok(Self::Inherit),
            Some(ProxySetting::Direct) => Ok(Self::Direct),
            Some(ProxySetting::Via(url)) => Ok(Self::Via(Arc::new(UpstreamProxy::new(url)?))),
        }
    }

    /// The account's own choice, or `global` when it has none.
    pub fn or(self, global: &AccountProxy) -> Self {
        match self {
            Self::Inherit => match global {
                Self::Inherit => Self::Direct,
                g => g.clone(),
            },
            own => own,
        }
    }

    pub fn via(&self) -> Option<&Arc<UpstreamProxy>> {
        match self {
            Self::Via(p) => Some(p),
            Self::Inherit | Self::Direct => None,
        }
    }
}

impl UpstreamProxy {
    pub fn new(url: ProxyUrl) -> Result<Self, ProxyError> {
        let tls = match url.scheme {
            ProxyScheme::Https => Some(proxy_tls()?),
            ProxyScheme::Http | ProxyScheme::Socks5 | ProxyScheme::Socks5h => None,
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        url.hash(&mut h);
        Ok(Self {
            identity: h.finish(),
            url,
            tls,
        })
    }
}

fn proxy_tls() -> Result<TlsConnector, ProxyError> {
    pingora_core::tls::install_default_crypto_provider();
    let mut roots = RootCertStore::empty();
    pingora_core::tls::load_platform_certs_incl_env_into_store(&mut roots)
        .map_err(|e| ProxyError::Tls(format!("loading CA certificates for an https proxy: {e}")))?;
    let provider = pingora_core::tls::CryptoProvider::get_default()
        .cloned()
        .ok_or_else(|| ProxyError::Tls("no TLS crypto provider".into()))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProxyError::Tls(format!("TLS settings for an https proxy: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The host and port the gateway itself resolves to reach `host:port` through `proxy`: the
/// proxy's when there is one (a `socks5h` upstream name is never resolved here), else the
/// upstream's.
pub fn first_hop<'a>(host: &'a str, port: u16, proxy: &'a AccountProxy) -> (&'a str, u16) {
    match proxy.via() {
        Some(p) => (&p.url.host, p.url.port),
        None => (host, port),
    }
}

/// Sends a peer built for [`first_hop`] to `host:port` through the account's proxy; no-op
/// without one.
pub fn route(peer: &mut HttpPeer, host: &str, port: u16, proxy: &AccountProxy, timeout: Duration) {
    let Some(proxy) = proxy.via() else {
        return;
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (proxy.identity, host, port).hash(&mut h);
    // Never 0, the group of every direct peer.
    peer.group_key = h.finish() | 1;
    peer.options.custom_l4 = Some(Arc::new(ProxyConnector {
        proxy: proxy.clone(),
        host: host.to_owned(),
        port,
        timeout,
    }));
}

/// Connects to one upstream `host:port` through one proxy (built per attempt).
#[derive(Debug)]
struct ProxyConnector {
    proxy: Arc<UpstreamProxy>,
    host: String,
    port: u16,
    timeout: Duration,
}

#[async_trait]
impl L4Connect for ProxyConnector {
    /// `addr` is the proxy's resolved address (the peer's address).
    async fn connect(&self, addr: &SocketAddr) -> Result<Stream> {
        let SocketAddr::Inet(addr) = addr else {
            return Error::e_explain(ErrorType::InternalError, "proxy address is not TCP");
        };
        let what = || {
            format!(
                "via proxy {} to {}:{}",
                self.proxy.url.display(),
                self.host,
                self.port
            )
        };
        match tokio::time::timeout(self.timeout, self.connect_inner(*addr)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(e.more_context(what())),
            Err(_) => Error::e_explain(
                ErrorType::ConnectTimedout,
                format!(
                    "proxy handshake timed out after {:?} {}",
                    self.timeout,
                    what()
                ),
            ),
        }
    }
}

impl ProxyConnector {
    async fn connect_inner(&self, addr: std::net::SocketAddr) -> Result<Stream> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| {
            let kind = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => ErrorType::ConnectRefused,
                _ => ErrorType::ConnectError,
            };
            Error::explain(kind, format!("proxy unreachable: {e}"))
        })?;
        let _ = tcp.set_nodelay(true);
        let target = handshake::Target {
            host: &self.host,
            port: self.port,
        };
        let url = &self.proxy.url;
        match (&self.proxy.tls, url.scheme) {
            (Some(tls), _) => {
                let name = ServerName::try_from(url.host.clone()).map_err(|e| {
                    Error::explain(ErrorType::InvalidCert, format!("proxy TLS name: {e}"))
                })?;
                let mut s = tls.connect(name, tcp).await.map_err(|e| {
                    Error::explain(
                        ErrorType::TLSHandshakeFailure,
                        format!("TLS to the proxy failed: {e}"),
                    )
                })?;
                handshake::http_connect(&mut s, target, url.credentials.as_ref()).await?;
                Ok(Stream::from(VirtualSocketStream::new(Box::new(
                    TlsToProxy(s),
                ))))
            }
            (None, ProxyScheme::Http | ProxyScheme::Https) => {
                let mut tcp = tcp;
                handshake::http_connect(&mut tcp, target, url.credentials.as_ref()).await?;
                Ok(Stream::from(tcp))
            }
            (None, scheme @ (ProxyScheme::Socks5 | ProxyScheme::Socks5h)) => {
                let mut tcp = tcp;
                let remote_dns = scheme == ProxyScheme::Socks5h;
                handshake::socks5(&mut tcp, target, url.credentials.as_ref(), remote_dns).await?;
                Ok(Stream::from(tcp))
            }
        }
    }
}

/// The TLS session to an `https://` proxy, carrying the tunnel.
#[derive(Debug)]
struct TlsToProxy(ClientTlsStream<TcpStream>);

impl VirtualSocket for TlsToProxy {
    fn set_socket_option(&self, opt: VirtualSockOpt) -> std::io::Result<()> {
        match opt {
            VirtualSockOpt::NoDelay => self.0.get_ref().0.set_nodelay(true),
            // Keepalive is a TCP tuning knob; the tunnel works without it.
            _ => Ok(()),
        }
    }
}

impl AsyncRead for TlsToProxy {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsToProxy {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
