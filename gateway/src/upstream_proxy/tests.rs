//! Unit tests: the handshakes byte for byte against in-memory proxies, and the pool keys of
//! proxied peers. The real proxies (tinyproxy, dante) are in `tests/e2e/test_upstream_proxy.py`.

use super::handshake::{self, Target};
use super::*;
use crate::accounts::Account;
use pingora_core::upstreams::peer::Peer;
use switchyard_conf::{ApiKeyAccount, ProviderKind, ProxyCredentials, Secret};
use switchyard_translators::b64::encode as base64;
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

const TARGET: Target<'static> = Target {
    host: "api.example.com",
    port: 443,
};

fn creds(user: &str, pass: &str) -> ProxyCredentials {
    ProxyCredentials {
        username: user.into(),
        password: Secret::new(pass),
    }
}

/// Runs `client` against a fake proxy that follows `script`: for each step, read that many
/// bytes, then write that answer. Returns the client's result and all bytes the proxy read.
async fn against<F, Fut>(script: Vec<(usize, &'static [u8])>, client: F) -> (Result<()>, Vec<u8>)
where
    F: FnOnce(DuplexStream) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let (c, mut s) = duplex(4096);
    let proxy = tokio::spawn(async move {
        let mut got = Vec::new();
        for (n, answer) in script {
            let mut buf = vec![0u8; n];
            s.read_exact(&mut buf).await.unwrap();
            got.extend_from_slice(&buf);
            s.write_all(answer).await.unwrap();
        }
        (got, s)
    });
    let r = tokio::time::timeout(Duration::from_secs(10), client(c))
        .await
        .expect("the client finished its handshake");
    let (got, _keep_open) = proxy.await.unwrap();
    (r, got)
}

#[test]
fn base64_vectors() {
    for (i, o) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ] {
        assert_eq!(base64(i.as_bytes()), o);
    }
    assert_eq!(base64(b"user:p@ss"), "dXNlcjpwQHNz");
}

#[tokio::test]
async fn http_connect_sends_authority_and_basic_credentials() {
    let want = "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\
                Proxy-Authorization: Basic dXNlcjpwQHNz\r\n\r\n";
    let (r, got) = against(
        vec![(want.len(), b"HTTP/1.1 200 Connection established\r\n\r\n")],
        |mut c| async move {
            handshake::http_connect(&mut c, TARGET, Some(&creds("user", "p@ss"))).await
        },
    )
    .await;
    r.unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), want);
}

#[tokio::test]
async fn http_connect_407_and_403_are_proxy_failures() {
    let want = "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n";
    let v6 = Target {
        host: "::1",
        port: 8080,
    };
    for (answer, text) in [
        (
            &b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"[..],
            "proxy authentication failed (407); the proxy wants credentials",
        ),
        (
            &b"HTTP/1.0 403 Forbidden\r\n\r\n"[..],
            "the proxy refused CONNECT with status 403",
        ),
        (
            &b"HTTP/1.1 200 OK\r\n\r\nEXTRA"[..],
            "the proxy sent data before the tunnel was used",
        ),
        (&b"SSH-2.0-OpenSSH\r\n\r\n"[..], "not HTTP/1.x"),
    ] {
        let (r, got) = against(vec![(want.len(), answer)], |mut c| async move {
            handshake::http_connect(&mut c, v6, None).await
        })
        .await;
        assert_eq!(String::from_utf8(got).unwrap(), want);
        let e = r.unwrap_err();
        assert_eq!(e.etype(), &ErrorType::ConnectProxyFailure);
        assert!(e.to_string().contains(text), "{e}");
    }
}

#[tokio::test]
async fn socks5h_sends_the_name_and_socks5_login_follows_rfc_1929() {
    // greeting (3) + login (1+1+4+1+6) + request (4+1+15+2)
    let greeting = [5u8, 1, 2];
    let login = b"\x01\x04user\x06secret";
    let mut request = vec![5u8, 1, 0, 3, 15];
    request.extend_from_slice(b"api.example.com");
    request.extend_from_slice(&443u16.to_be_bytes());
    let want = [&greeting[..], &login[..], &request[..]].concat();
    let script = vec![
        (greeting.len(), &b"\x05\x02"[..]),
        (login.len(), &b"\x01\x00"[..]),
        (
            request.len(),
            &b"\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90"[..],
        ),
    ];
    let (r, got) = against(script, |mut c| async move {
        handshake::socks5(&mut c, TARGET, Some(&creds("user", "secret")), true).await
    })
    .await;
    r.unwrap();
    assert_eq!(got, want);
}

#[tokio::test]
async fn socks5_resolves_locally_and_maps_failures() {
    // socks5:// with an IP literal sends the address, no name.
    let ip = Target {
        host: "127.0.0.1",
        port: 80,
    };
    let want = [5u8, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 80];
    let script = vec![
        (3, &b"\x05\x00"[..]),
        (want.len() - 3, &b"\x05\x05\x00\x01\0\0\0\0\0\0"[..]),
    ];
    let (r, got) = against(script, |mut c| async move {
        handshake::socks5(&mut c, ip, None, false).await
    })
    .await;
    assert_eq!(got, want);
    let e = r.unwrap_err();
    assert_eq!(e.etype(), &ErrorType::ConnectProxyFailure);
    assert!(e.to_string().contains("connection refused"), "{e}");

    let (r, _) = against(vec![(3, &b"\x05\xff"[..])], |mut c| async move {
        handshake::socks5(&mut c, ip, None, false).await
    })
    .await;
    assert!(r
        .unwrap_err()
        .to_string()
        .contains("the proxy wants credentials"));

    let script = vec![(3, &b"\x05\x02"[..]), (2 + 1 + 2, &b"\x01\x01"[..])];
    let (r, _) = against(script, |mut c| async move {
        handshake::socks5(&mut c, ip, Some(&creds("u", "p")), false).await
    })
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.etype(), &ErrorType::ConnectProxyFailure);
    assert!(
        e.to_string().contains("user name or password rejected"),
        "{e}"
    );
}

#[tokio::test]
async fn a_closed_proxy_is_a_connect_error() {
    let (c, s) = duplex(64);
    drop(s);
    let mut c = c;
    let e = handshake::socks5(&mut c, TARGET, None, true)
        .await
        .unwrap_err();
    assert!(matches!(e.etype(), ErrorType::ConnectError), "{e}");
}

fn account(proxy: Option<&str>) -> Account {
    let a = ApiKeyAccount {
        kind: ProviderKind::Claude,
        id: "claude-api-key[0]".into(),
        provider_name: String::new(),
        api_key: Secret::new("k"),
        base_url: "https://api.example.com".into(),
        prefix: None,
        headers: Default::default(),
        proxy_url: proxy.map(str::to_owned),
        models: vec![],
        excluded_models: vec![],
        disable_cooling: false,
        priority: 0,
        weight: 1,
        request_retry: None,
    };
    let mut acc = Account::from_config(&a).unwrap();
    acc.proxy = std::mem::take(&mut acc.proxy).or(&AccountProxy::Direct);
    acc
}

/// The peer `upstream_peer` builds: first hop resolved to `hop_ip`.
fn peer(acc: &Account, hop_ip: &str) -> HttpPeer {
    let (_, port) = first_hop(&acc.target.host, acc.target.port, &acc.proxy);
    let addr: std::net::SocketAddr = format!("{hop_ip}:{port}").parse().unwrap();
    let mut p = HttpPeer::new(addr, acc.target.tls, acc.target.host.clone());
    route(
        &mut p,
        &acc.target.host,
        acc.target.port,
        &acc.proxy,
        Duration::from_secs(1),
    );
    p
}

#[test]
fn proxied_and_direct_peers_never_share_a_pool_key() {
    let direct = account(None);
    let tiny = account(Some("http://10.0.0.2:3128"));
    let tiny_other_user = account(Some("http://alice:pw@10.0.0.2:3128"));
    let dante = account(Some("socks5h://10.0.0.3:1080"));
    assert_eq!(
        first_hop(&direct.target.host, 443, &direct.proxy),
        ("api.example.com", 443)
    );
    assert_eq!(
        first_hop(&dante.target.host, 443, &dante.proxy),
        ("10.0.0.3", 1080)
    );

    let d = peer(&direct, "10.0.0.1");
    let keys = [
        d.reuse_hash(),
        peer(&tiny, "10.0.0.2").reuse_hash(),
        peer(&tiny_other_user, "10.0.0.2").reuse_hash(),
        peer(&dante, "10.0.0.3").reuse_hash(),
        // Even a proxy that happens to listen on the origin's address and port.
        peer(&account(Some("http://10.0.0.1:443")), "10.0.0.1").reuse_hash(),
    ];
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            assert_ne!(a, b, "{keys:?}");
        }
    }
    assert_eq!(d.group_key, 0);
    assert!(d.options.custom_l4.is_none());
    // Two accounts through the same proxy to the same origin do share connections.
    assert_eq!(
        peer(&tiny, "10.0.0.2").reuse_hash(),
        peer(&account(Some("http://10.0.0.2:3128/")), "10.0.0.2").reuse_hash()
    );
}

#[test]
fn direct_overrides_the_global_proxy() {
    let global = AccountProxy::parse(Some("socks5://10.0.0.3:1080")).unwrap();
    let own = AccountProxy::parse(Some("none")).unwrap().or(&global);
    assert!(own.via().is_none());
    let inherited = AccountProxy::parse(None).unwrap().or(&global);
    assert_eq!(
        inherited.via().unwrap().url.display(),
        "socks5://10.0.0.3:1080"
    );
    assert!(AccountProxy::parse(None)
        .unwrap()
        .or(&AccountProxy::Inherit)
        .via()
        .is_none());
}
