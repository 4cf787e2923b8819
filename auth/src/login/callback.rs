//! The loopback callback server of an authorization-code login: a minimal HTTP/1.1 listener on
//! `127.0.0.1:<port>` that waits for `GET <path>?code=..&state=..`.
//!
//! Contract: requests for other paths get 404 and the wait goes on (browsers ask for
//! `/favicon.ico`); the first request on the callback path ends the wait: with the code when
//! its `state` matches, [`AuthError::StateMismatch`] when it does not, [`AuthError::Denied`]
//! for an `error=` redirect. The browser always gets a short page saying which. Connections
//! are served concurrently, each with a few seconds to send its request: a browser's idle
//! pre-connect neither blocks the callback nor lives on.

use crate::error::AuthError;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A bound callback listener.
pub struct CallbackServer {
    listener: TcpListener,
    path: String,
}

impl CallbackServer {
    pub async fn bind(port: u16, path: &str) -> Result<Self, AuthError> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| AuthError::Listen { port, source })?;
        Ok(Self {
            listener,
            path: path.to_owned(),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Waits for the callback; returns the authorization code. Each connection is served on
    /// its own task, so an idle one (a browser's pre-connect) never holds up the callback.
    pub async fn wait(self, expected_state: &str) -> Result<String, AuthError> {
        let (tx, mut rx) = mpsc::channel(1);
        let path: Arc<str> = self.path.into();
        let state: Arc<str> = expected_state.into();
        loop {
            tokio::select! {
                Some(outcome) = rx.recv() => return outcome,
                accepted = self.listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let (tx, path, state) = (tx.clone(), path.clone(), state.clone());
                    tokio::spawn(async move {
                        if let Some(outcome) = serve(stream, &path, &state).await {
                            // The wait may be over (an earlier callback won): nobody listens.
                            let _ = tx.send(outcome).await;
                        }
                    });
                }
            }
        }
    }
}

/// How long a connection may take to send its request head before it is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers one connection; the outcome of the login when it was the callback, `None` for
/// another path, a malformed request or one not sent within [`READ_TIMEOUT`].
async fn serve(
    mut stream: TcpStream,
    callback_path: &str,
    expected_state: &str,
) -> Option<Result<String, AuthError>> {
    let target = tokio::time::timeout(READ_TIMEOUT, read_target(&mut stream))
        .await
        .ok()
        .flatten()?;
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    if path != callback_path {
        respond(&mut stream, 404, "Not found.").await;
        return None;
    }
    let params = parse_query(query);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(err) = get("error") {
        respond(
            &mut stream,
            400,
            "Login refused by the provider. You can close this tab.",
        )
        .await;
        let desc = get("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Some(Err(AuthError::Denied(format!("{err}{desc}"))));
    }
    if get("state") != Some(expected_state) {
        respond(
            &mut stream,
            400,
            "Login failed: state mismatch. Nothing was saved.",
        )
        .await;
        return Some(Err(AuthError::StateMismatch));
    }
    match get("code").filter(|c| !c.is_empty()) {
        Some(code) => {
            respond(&mut stream, 200, "Login complete. You can close this tab.").await;
            Some(Ok(code.to_owned()))
        }
        None => {
            respond(&mut stream, 400, "Login failed: no code in the callback.").await;
            Some(Err(AuthError::Protocol("callback without a code".into())))
        }
    }
}

/// The request target of the first line, or `None` for a malformed or oversized request.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 16 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_owned()),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!("<!doctype html><title>switchyard login</title><p>{text}</p>\n");
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(msg.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// `a=1&b=x%20y` decoded as `application/x-www-form-urlencoded` (`+` is a space; a malformed
/// escape such as `%zz` stays as it is; invalid UTF-8 becomes U+FFFD).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            parse_query("code=a%2Fb+c&state=x&e="),
            [
                ("code".to_owned(), "a/b c".to_owned()),
                ("state".to_owned(), "x".to_owned()),
                ("e".to_owned(), String::new())
            ]
        );
        assert_eq!(
            parse_query("x=%zz%4"),
            [("x".to_owned(), "%zz%4".to_owned())]
        );
    }

    #[test]
    fn malformed_escapes_pass_through() {
        let one = |q: &str| {
            parse_query(q)
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
        };
        assert_eq!(one("x=%41"), ["A"]);
        // `+` is a space before percent-decoding, so `%+A` is the malformed `% A`, kept as is.
        // (The hand-written decoder before form_urlencoded read `+A` as hex 0x0A.)
        assert_eq!(one("x=%+A"), ["% A"]);
        assert_eq!(one("x=%4"), ["%4"]);
    }
}
