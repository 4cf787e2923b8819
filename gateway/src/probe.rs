//! `switchyard probe URL`: a plain-HTTP GET that succeeds on a 200, for container health
//! checks in an image that has no curl (deploy/Containerfile). HTTP only, a 3 s deadline.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(3);

/// Why a probe failed (printed as one line; the command exits 1).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}: only http:// URLs can be probed")]
    NotHttp(String),
    #[error("{at}: {source}")]
    Io { at: String, source: std::io::Error },
    #[error("{0}: no address")]
    NoAddress(String),
    /// The answer, when it is not a 200 (its status line, or that there was none).
    #[error("{url}: {line}")]
    Status { url: String, line: String },
}

/// `Ok(status line)` when the answer is a 200, why not otherwise.
pub fn probe(url: &str) -> Result<String, ProbeError> {
    let io = |at: &dyn std::fmt::Display| {
        let at = at.to_string();
        move |source| ProbeError::Io { at, source }
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ProbeError::NotHttp(url.to_owned()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(io(&authority))?
        .next()
        .ok_or_else(|| ProbeError::NoAddress(authority.to_owned()))?;
    let mut s = TcpStream::connect_timeout(&addr, DEADLINE).map_err(io(&addr))?;
    s.set_read_timeout(Some(DEADLINE))
        .and_then(|()| s.set_write_timeout(Some(DEADLINE)))
        .map_err(io(&addr))?;
    // One write: a request split over several segments can reach a server that answers and
    // closes after its first read, which then resets the connection under the answer.
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: switchyard-probe\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).map_err(io(&addr))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut buf).map_err(io(&addr))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or("").to_owned();
    match line.split_whitespace().nth(1) {
        Some("200") => Ok(line),
        Some(_) => Err(ProbeError::Status {
            url: url.to_owned(),
            line,
        }),
        None => Err(ProbeError::Status {
            url: url.to_owned(),
            line: "no HTTP answer".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve_once(answer: &'static str) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            // Read the whole request head before answering and closing.
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = c.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            c.write_all(answer.as_bytes()).unwrap();
        });
        format!("http://{addr}/healthz")
    }

    #[test]
    fn ok_on_200_only() {
        let url = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(probe(&url).unwrap(), "HTTP/1.1 200 OK");
        let url = serve_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        assert!(probe(&url)
            .unwrap_err()
            .to_string()
            .ends_with("HTTP/1.1 503 Service Unavailable"));
        assert!(probe("https://x/").is_err());
    }
}
