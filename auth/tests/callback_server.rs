#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]
//! The loopback callback server: other paths get 404 and the wait goes on, a matching state
//! yields the code, a provider `error=` redirect ends the login as a refusal.

use switchyard_auth::login::CallbackServer;
use switchyard_auth::AuthError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(port: u16, target: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {target} HTTP/1.1\r\nhost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn other_paths_404_then_the_code_with_the_right_state() {
    let server = CallbackServer::bind(0, "/auth/callback").await.unwrap();
    let port = server.port();
    let wait = tokio::spawn(server.wait("st-1"));
    let favicon = get(port, "/favicon.ico").await;
    assert!(favicon.starts_with("HTTP/1.1 404 "), "{favicon}");
    let ok = get(port, "/auth/callback?code=c%2F1&state=st-1&iss=x").await;
    assert!(
        ok.starts_with("HTTP/1.1 200 ") && ok.contains("Login complete"),
        "{ok}"
    );
    assert_eq!(wait.await.unwrap().unwrap(), "c/1");
}

#[tokio::test]
async fn provider_error_is_a_refusal() {
    let server = CallbackServer::bind(0, "/callback").await.unwrap();
    let port = server.port();
    let wait = tokio::spawn(server.wait("st"));
    let page = get(
        port,
        "/callback?error=access_denied&error_description=no+thanks&state=st",
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 400 "), "{page}");
    match wait.await.unwrap() {
        Err(AuthError::Denied(why)) => assert_eq!(why, "access_denied: no thanks"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_idle_preconnect_does_not_hold_up_the_callback() {
    let server = CallbackServer::bind(0, "/cb").await.unwrap();
    let port = server.port();
    let wait = tokio::spawn(server.wait("st"));
    // A browser's speculative connection: open, then silent for longer than the test lasts.
    let idle = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    // Well under the server's per-connection read timeout (5 s): only concurrency helps.
    let page = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        get(port, "/cb?code=the-code&state=st"),
    )
    .await
    .expect("the callback was answered while the idle connection stayed open");
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    let code = tokio::time::timeout(std::time::Duration::from_secs(2), wait)
        .await
        .expect("the login completed")
        .unwrap()
        .unwrap();
    assert_eq!(code, "the-code");
    drop(idle);
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_read_timeout() {
    let server = CallbackServer::bind(0, "/cb").await.unwrap();
    let port = server.port();
    let _wait = tokio::spawn(server.wait("st"));
    let mut idle = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut buf = Vec::new();
    // The server closes it (EOF) after its read timeout; never an answer.
    let n = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        idle.read_to_end(&mut buf),
    )
    .await
    .expect("closed by the server")
    .unwrap();
    assert_eq!(n, 0);
}
