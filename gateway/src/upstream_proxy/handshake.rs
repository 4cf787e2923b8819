//! The proxy handshakes, over any byte stream: HTTP CONNECT (RFC 9110 §9.3.6, Basic
//! `Proxy-Authorization`) and SOCKS5 (RFC 1928, username/password per RFC 1929).
//!
//! Contract: on success the stream is positioned at the first byte of the tunnel, nothing of
//! it consumed (CONNECT answers are read only up to their blank line; bytes after it are an
//! error, since the upstream never speaks first). Failures are Pingora connect errors:
//! `ConnectProxyFailure` for anything the proxy said no to (authentication, refused target,
//! protocol violation), `ConnectNoRoute` when a `socks5://` upstream name does not resolve,
//! `ConnectError` when the proxy closes the connection. No timeouts here: the caller bounds the
//! whole handshake.

use pingora_error::{Error, ErrorType, Result};
use switchyard_conf::ProxyCredentials;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where the tunnel should lead.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
}

/// The longest CONNECT response header accepted.
const MAX_CONNECT_RESPONSE: usize = 16 * 1024;

fn refused(msg: impl Into<String>) -> Box<Error> {
    Error::explain(ErrorType::ConnectProxyFailure, msg.into())
}

fn io_error(e: std::io::Error) -> Box<Error> {
    let msg = match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "the proxy closed the connection".to_owned(),
        _ => format!("talking to the proxy: {e}"),
    };
    Error::explain(ErrorType::ConnectError, msg)
}

/// `CONNECT host:port`; a `2xx` answer opens the tunnel.
pub(super) async fn http_connect<S>(
    s: &mut S,
    target: Target<'_>,
    credentials: Option<&ProxyCredentials>,
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authority = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let mut req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(c) = credentials {
        let pair = format!("{}:{}", c.username, c.password.expose());
        req.push_str("Proxy-Authorization: Basic ");
        req.push_str(&switchyard_translators::b64::encode(pair.as_bytes()));
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.map_err(io_error)?;
    s.flush().await.map_err(io_error)?;

    let mut buf = Vec::with_capacity(512);
    let header_end = loop {
        let mut chunk = [0u8; 1024];
        let n = s.read(&mut chunk).await.map_err(io_error)?;
        if n == 0 {
            return Err(io_error(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_CONNECT_RESPONSE {
            return Err(refused("the proxy's CONNECT answer is too long"));
        }
    };
    let status = connect_status(&buf[..header_end])?;
    match status {
        200..=299 => {}
        // 407 is the standard answer; tinyproxy answers 401 to wrong credentials.
        401 | 407 => {
            return Err(refused(format!(
                "proxy authentication failed ({status}){}",
                if credentials.is_some() {
                    ""
                } else {
                    "; the proxy wants credentials"
                }
            )))
        }
        s => {
            return Err(refused(format!(
                "the proxy refused CONNECT with status {s}"
            )))
        }
    }
    if header_end != buf.len() {
        return Err(refused("the proxy sent data before the tunnel was used"));
    }
    Ok(())
}

/// The status of `HTTP/1.x NNN reason`.
fn connect_status(head: &[u8]) -> Result<u16> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(v), Some(Ok(code))) if v.starts_with("HTTP/1.") => Ok(code),
        _ => Err(refused("the proxy's answer to CONNECT is not HTTP/1.x")),
    }
}

/// A SOCKS5 `CONNECT`. `remote_dns`: send the host name (`socks5h`); else resolve it here and
/// send the address (`socks5`).
pub(super) async fn socks5<S>(
    s: &mut S,
    target: Target<'_>,
    credentials: Option<&ProxyCredentials>,
    remote_dns: bool,
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Greeting: offer exactly what is configured, so missing credentials are an error here and
    // configured ones are never silently skipped.
    let method = if credentials.is_some() { 0x02 } else { 0x00 };
    s.write_all(&[0x05, 0x01, method]).await.map_err(io_error)?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await.map_err(io_error)?;
    if reply[0] != 0x05 {
        return Err(refused("the proxy does not speak SOCKS5"));
    }
    match (reply[1], credentials) {
        (0x02, Some(c)) => socks5_login(s, c).await?,
        (0x00, None) => {}
        (0xFF, None) => {
            return Err(refused(
                "SOCKS5 proxy authentication failed: the proxy wants credentials",
            ))
        }
        (0xFF, Some(_)) => {
            return Err(refused(
                "SOCKS5 proxy authentication failed: the proxy does not accept username/password",
            ))
        }
        (m, _) => {
            return Err(refused(format!(
                "the proxy chose SOCKS5 method {m:#04x}, which was not offered"
            )))
        }
    }

    let mut req = vec![0x05, 0x01, 0x00];
    let literal = target.host.parse::<std::net::IpAddr>().ok();
    let addr = match (literal, remote_dns) {
        (Some(ip), _) => Some(ip),
        (None, true) => None,
        (None, false) => Some(resolve(target).await?),
    };
    match addr {
        Some(std::net::IpAddr::V4(ip)) => {
            req.push(0x01);
            req.extend_from_slice(&ip.octets());
        }
        Some(std::net::IpAddr::V6(ip)) => {
            req.push(0x04);
            req.extend_from_slice(&ip.octets());
        }
        None => {
            let name = target.host.as_bytes();
            let len = u8::try_from(name.len())
                .map_err(|_| refused("the upstream host name is longer than SOCKS5 allows"))?;
            req.push(0x03);
            req.push(len);
            req.extend_from_slice(name);
        }
    }
    req.extend_from_slice(&target.port.to_be_bytes());
    s.write_all(&req).await.map_err(io_error)?;

    let mut head = [0u8; 4];
    s.read_exact(&mut head).await.map_err(io_error)?;
    if head[0] != 0x05 {
        return Err(refused("the proxy's SOCKS5 reply is malformed"));
    }
    if head[1] != 0x00 {
        return Err(refused(format!(
            "the SOCKS5 proxy refused the connection: {}",
            socks5_reply(head[1])
        )));
    }
    // The bound address, which nobody needs, then the tunnel starts.
    let skip = match head[3] {
        0x01 => 4 + 2,
        0x04 => 16 + 2,
        0x03 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await.map_err(io_error)?;
            usize::from(len[0]) + 2
        }
        _ => return Err(refused("the proxy's SOCKS5 reply is malformed")),
    };
    let mut bound = vec![0u8; skip];
    s.read_exact(&mut bound).await.map_err(io_error)?;
    Ok(())
}

async fn socks5_login<S>(s: &mut S, c: &ProxyCredentials) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let user = c.username.as_bytes();
    let pass = c.password.expose().as_bytes();
    let (Ok(ulen), Ok(plen)) = (u8::try_from(user.len()), u8::try_from(pass.len())) else {
        return Err(refused(
            "SOCKS5 user name or password longer than 255 bytes",
        ));
    };
    let mut msg = Vec::with_capacity(3 + user.len() + pass.len());
    msg.extend_from_slice(&[0x01, ulen]);
    msg.extend_from_slice(user);
    msg.push(plen);
    msg.extend_from_slice(pass);
    s.write_all(&msg).await.map_err(io_error)?;
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).await.map_err(io_error)?;
    if reply[1] != 0x00 {
        return Err(refused(
            "SOCKS5 proxy authentication failed: user name or password rejected",
        ));
    }
    Ok(())
}

async fn resolve(target: Target<'_>) -> Result<std::net::IpAddr> {
    let mut addrs = tokio::net::lookup_host((target.host, target.port))
        .await
        .map_err(|e| {
            Error::explain(
                ErrorType::ConnectNoRoute,
                format!("resolving {} for the SOCKS5 proxy: {e}", target.host),
            )
        })?;
    addrs.next().map(|a| a.ip()).ok_or_else(|| {
        Error::explain(
            ErrorType::ConnectNoRoute,
            format!("{} has no address", target.host),
        )
    })
}

/// RFC 1928 §6 reply codes.
fn socks5_reply(code: u8) -> &'static str {
    match code {
        0x01 => "general failure",
        0x02 => "connection not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unknown error",
    }
}
