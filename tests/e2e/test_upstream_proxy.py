"""Upstream proxies (`proxy-url`, global and per account) against real proxy servers from
Debian's packages, all on 127.0.0.1 with ephemeral ports:

* tinyproxy: HTTP CONNECT, with and without BasicAuth; behind a small TLS relay it is an
  ``https://`` proxy (TLS to the proxy, then CONNECT).
* dante (``danted``): SOCKS5, without authentication and with RFC 1929 username/password.
  danted checks passwords against the system's password files and resolves names with the
  system resolver, so it runs in a private user+mount namespace (``unshare``) where
  ``/etc/passwd``, ``/etc/shadow`` and ``/etc/hosts`` are bind-mounted test files: its user
  exists only there, and ``upstream.switchyard.test`` resolves only there (a ``socks5h`` test
  reaches the mock through that name, which the gateway itself cannot resolve).

Each test asserts from the proxy's own log that the request went through it, and from the
mock's journal (or a relay in front of the mock) what reached the upstream.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import CLIENT_KEY, free_port, http_request, start_proc, wait_until

SOCKS_USER, SOCKS_PASS = "sockuser", "s0cks-pass"
HTTP_USER, HTTP_PASS = "alice", "tiny-pass"
#: Resolves only inside dante's namespace.
PROXY_ONLY_NAME = "upstream.switchyard.test"
UNREACHABLE = {"type": "error", "error": {"type": "api_error", "message": "upstream unreachable"}}


def need(binary: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if not path:
        pytest.fail(f"{binary} is missing: run scripts/install-test-deps.sh", pytrace=False)
    return path


def wait_port(port: int, proc, what: str) -> None:
    def up():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    wait_until(up, 20, what, proc)


# --------------------------------------------------------------------------- TLS material


def make_ca(d: Path) -> dict[str, Path]:
    """A throwaway CA and one leaf for localhost, the proxy-only name and 127.0.0.1."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=switchyard proxy test CA",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(d / "leaf.key"), "-out", str(d / "leaf.csr"))
    (d / "ext.cnf").write_text(f"subjectAltName=DNS:localhost,DNS:{PROXY_ONLY_NAME},IP:127.0.0.1\n"
                               "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", str(d / "leaf.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
        "-CAcreateserial", "-days", "2", "-extfile", str(d / "ext.cnf"), "-out", str(d / "leaf.pem"))
    return {"ca": d / "ca.pem", "cert": d / "leaf.pem", "key": d / "leaf.key"}


# --------------------------------------------------------------------------- relay


@dataclass
class Conn:
    sni: str | None = None
    upstream_bytes: bytearray = field(default_factory=bytearray)

    def keys(self) -> list[str]:
        """The account keys of the requests carried, in order."""
        return re.findall(r"(?im)^x-api-key:\s*(\S+)\r$", self.upstream_bytes.decode("latin-1"))


class Relay:
    """Accepts TCP (or TLS, terminated here) on 127.0.0.1 and pipes each connection to
    ``target``; remembers per connection the SNI and the bytes sent towards the target."""

    def __init__(self, target: tuple[str, int], tls: dict[str, Path] | None = None):
        self.target = target
        self.conns: list[Conn] = []
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(tls["cert"], tls["key"])
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        conn = Conn()
        try:
            if self.ctx is not None:
                def on_sni(_sock, name, _ctx):
                    conn.sni = name
                self.ctx.sni_callback = on_sni
                client = self.ctx.wrap_socket(client, server_side=True)
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        self.conns.append(conn)

        def pump(src, dst, record):
            try:
                while data := src.recv(65536):
                    if record is not None:
                        record += data
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, client, None), daemon=True).start()
        pump(client, upstream, conn.upstream_bytes)

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------- proxies


class ProxyServer:
    def __init__(self, proc, port: int, log: Path):
        self.proc, self.port, self.log = proc, port, log

    def mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, mark: int) -> str:
        return self.log.read_bytes()[mark:].decode("utf-8", "replace")


def start_tinyproxy(d: Path, auth: bool) -> ProxyServer:
    binary = need("tinyproxy")
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = d / "tinyproxy.log"
    lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 60", f'LogFile "{log}"', "LogLevel Connect",
             "MaxClients 50"]
    if auth:
        lines.append(f"BasicAuth {HTTP_USER} {HTTP_PASS}")
    (d / "tinyproxy.conf").write_text("\n".join(lines) + "\n")
    proc = start_proc("tinyproxy", [binary, "-d", "-c", str(d / "tinyproxy.conf")], d)
    wait_port(port, proc, "tinyproxy to listen")
    return ProxyServer(proc, port, log)


def start_dante(d: Path) -> ProxyServer:
    """danted offering no authentication and username/password, in its own namespace."""
    binary = need("danted")
    unshare = need("unshare")
    d.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = d / "danted.log"
    hashed = subprocess.run(["openssl", "passwd", "-6", SOCKS_PASS], check=True, capture_output=True,
                            text=True).stdout.strip()
    (d / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                              f"{SOCKS_USER}:x:0:0::/nonexistent:/usr/sbin/nologin\n")
    (d / "shadow").write_text(f"root:*:19000:0:99999:7:::\n{SOCKS_USER}:{hashed}:19000:0:99999:7:::\n")
    (d / "hosts").write_text(f"127.0.0.1 localhost {PROXY_ONLY_NAME}\n")
    (d / "danted.conf").write_text(f"""logoutput: {log}
internal: 127.0.0.1 port = {port}
external: 127.0.0.1
socksmethod: username none
clientmethod: none
user.privileged: root
user.unprivileged: root
client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 log: error connect }}
socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 log: error connect }}
""")
    mounts = " && ".join(f"mount --bind {d / f} /etc/{f}" for f in ("passwd", "shadow", "hosts"))
    # As root a mount namespace is enough; otherwise a user namespace maps us to root in it.
    ns = ["--mount"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--mount"]
    proc = start_proc("danted", [unshare, *ns, "sh", "-c", f"{mounts} && exec {binary} -N 1 -f {d / 'danted.conf'}"],
                      d)
    wait_port(port, proc, "danted to listen")
    return ProxyServer(proc, port, log)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("proxy-ca"))


@pytest.fixture(scope="module")
def tinyproxy(tmp_path_factory):
    p = start_tinyproxy(tmp_path_factory.mktemp("tinyproxy"), auth=False)
    yield p
    p.proc.stop()


@pytest.fixture(scope="module")
def tinyproxy_auth(tmp_path_factory):
    p = start_tinyproxy(tmp_path_factory.mktemp("tinyproxy-auth"), auth=True)
    yield p
    p.proc.stop()


@pytest.fixture(scope="module")
def dante(tmp_path_factory):
    p = start_dante(tmp_path_factory.mktemp("dante"))
    yield p
    p.proc.stop()


@pytest.fixture
def tls_mock(mock_upstream, certs):
    """``https://localhost:<port>`` in front of the mock (TLS terminated by a relay)."""
    relay = Relay(("127.0.0.1", mock_upstream.port), certs)
    yield relay
    relay.close()


# --------------------------------------------------------------------------- gateway config


@dataclass
class Acct:
    key: str
    base_url: str
    model: str
    proxy: str | None = None
    priority: int = 0


def config(accounts: list[Acct], proxy: str | None = None) -> str:
    lines = ["host: 127.0.0.1", f"port: {free_port()}", "shutdown-grace-seconds: 0",
             f"api-keys: [{json.dumps(CLIENT_KEY)}]", "disable-cooling: true",
             "upstream-timeouts: {connect-seconds: 5}"]
    if proxy is not None:
        lines.append(f"proxy-url: {json.dumps(proxy)}")
    lines.append("claude-api-key:")
    for a in accounts:
        lines += [f"  - api-key: {json.dumps(a.key)}", f"    base-url: {json.dumps(a.base_url)}",
                  f"    priority: {a.priority}", f"    models: [{{name: {json.dumps(a.model)}, alias: \"\"}}]"]
        if a.proxy is not None:
            lines.append(f"    proxy-url: {json.dumps(a.proxy)}")
    return "\n".join(lines) + "\n"


def ask(gw, model: str, stream: bool = False):
    body = {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body["stream"] = True
    return http_request("POST", f"{gw.url}/v1/messages", json.dumps(body).encode(),
                        {"content-type": "application/json", "x-api-key": CLIENT_KEY})


def journal_accounts(mock) -> list[str]:
    return [e["account"] for e in mock.journal()]


def connects(log: str, target: str) -> int:
    """tinyproxy's CONNECT request lines for ``target``."""
    return len(re.findall(rf"Request \(file descriptor \d+\): CONNECT {re.escape(target)} HTTP/1.1", log))


def socks_connects(log: str, port: int, user: str | None = None) -> int:
    """dante's `tcp/connect` lines to 127.0.0.1:``port``: as ``user``, or without a user."""
    n = 0
    for line in log.splitlines():
        if not re.search(rf"tcp/connect \[:.* 127\.0\.0\.1\.{port}\b", line):
            continue
        if (f"username%{user}@" in line) if user else ("username%" not in line):
            n += 1
    return n


# --------------------------------------------------------------------------- tests


def test_http_connect_proxy_carries_plain_and_tls_upstreams(gateway, mock_upstream, tls_mock, tinyproxy, certs):
    m = tinyproxy.mark()
    gw = gateway(config([Acct("acct-plain", mock_upstream.url, "m-plain"),
                         Acct("acct-tls", f"https://localhost:{tls_mock.port}", "m-tls")],
                        proxy=f"http://127.0.0.1:{tinyproxy.port}"),
                 env={"SSL_CERT_FILE": str(certs["ca"])})
    r = ask(gw, "m-plain")
    assert r.status == 200, r.body
    assert r.json()["type"] == "message"
    r = ask(gw, "m-tls", stream=True)
    assert r.status == 200, r.body
    assert b"event: message_stop" in r.body
    assert journal_accounts(mock_upstream) == ["acct-plain", "acct-tls"]
    log = tinyproxy.log_since(m)
    assert connects(log, f"127.0.0.1:{mock_upstream.port}") == 1, log
    assert connects(log, f"localhost:{tls_mock.port}") == 1, log
    # TLS to the origin went through the tunnel with the origin's own name.
    assert [c.sni for c in tls_mock.conns] == ["localhost"]


def test_http_proxy_basic_auth_and_wrong_credentials_fail_over(gateway, mock_upstream, tinyproxy_auth):
    p = tinyproxy_auth.port
    good = f"http://{HTTP_USER}:{HTTP_PASS}@127.0.0.1:{p}"
    bad = f"http://{HTTP_USER}:wrong@127.0.0.1:{p}"
    none = f"http://127.0.0.1:{p}"
    gw = gateway(config([Acct("acct-bad", mock_upstream.url, "m-shared", bad, priority=10),
                         Acct("acct-good", mock_upstream.url, "m-shared", good),
                         Acct("acct-bad-only", mock_upstream.url, "m-bad", bad),
                         Acct("acct-no-creds", mock_upstream.url, "m-none", none)]))
    target = f"127.0.0.1:{mock_upstream.port}"
    for model in ("m-bad", "m-none"):
        m = tinyproxy_auth.mark()
        r = ask(gw, model)
        assert (r.status, r.json()) == (502, UNREACHABLE), r.body
        assert connects(tinyproxy_auth.log_since(m), target) == 1
    assert mock_upstream.journal() == []

    m = tinyproxy_auth.mark()
    r = ask(gw, "m-shared")
    assert r.status == 200, r.body
    # The wrong credentials were tried first (one CONNECT), then the next account's (another).
    assert connects(tinyproxy_auth.log_since(m), target) == 2
    assert journal_accounts(mock_upstream) == ["acct-good"]
    gw.wait_log("proxy authentication failed (401)")


def test_https_proxy_tls_to_the_proxy_then_connect(gateway, mock_upstream, tls_mock, tinyproxy, certs):
    front = Relay(("127.0.0.1", tinyproxy.port), certs)
    try:
        m = tinyproxy.mark()
        gw = gateway(config([Acct("acct-tls", f"https://localhost:{tls_mock.port}", "m-tls",
                                  proxy=f"https://localhost:{front.port}")]),
                     env={"SSL_CERT_FILE": str(certs["ca"])})
        for _ in range(2):
            r = ask(gw, "m-tls")
            assert r.status == 200, r.body
        assert journal_accounts(mock_upstream) == ["acct-tls", "acct-tls"]
        assert connects(tinyproxy.log_since(m), f"localhost:{tls_mock.port}") == 2
        # TLS to the proxy named the proxy; TLS inside the tunnel named the origin.
        assert [c.sni for c in front.conns] == ["localhost", "localhost"]
        assert [c.sni for c in tls_mock.conns] == ["localhost", "localhost"]
    finally:
        front.close()


def test_socks5_without_and_with_username_auth(gateway, mock_upstream, tls_mock, dante, certs):
    p = dante.port
    m = dante.mark()
    gw = gateway(config([Acct("acct-anon", mock_upstream.url, "m-anon", f"socks5://127.0.0.1:{p}"),
                         Acct("acct-user", f"https://localhost:{tls_mock.port}", "m-user",
                              f"socks5://{SOCKS_USER}:{SOCKS_PASS}@127.0.0.1:{p}"),
                         Acct("acct-wrong", mock_upstream.url, "m-wrong",
                              f"socks5://{SOCKS_USER}:nope@127.0.0.1:{p}")]),
                 env={"SSL_CERT_FILE": str(certs["ca"])})
    r = ask(gw, "m-anon")
    assert r.status == 200, r.body
    r = ask(gw, "m-user", stream=True)
    assert r.status == 200, r.body
    assert b"event: message_stop" in r.body
    r = ask(gw, "m-wrong")
    assert (r.status, r.json()) == (502, UNREACHABLE), r.body
    assert journal_accounts(mock_upstream) == ["acct-anon", "acct-user"]
    assert [c.sni for c in tls_mock.conns] == ["localhost"]
    log = dante.log_since(m)
    assert socks_connects(log, mock_upstream.port) == 1, log
    assert socks_connects(log, tls_mock.port, SOCKS_USER) == 1, log
    gw.wait_log("user name or password rejected")


def test_socks5h_lets_the_proxy_resolve_the_name(gateway, mock_upstream, dante):
    url = f"http://{PROXY_ONLY_NAME}:{mock_upstream.port}"
    m = dante.mark()
    gw = gateway(config([Acct("acct-h", url, "m-h", f"socks5h://{SOCKS_USER}:{SOCKS_PASS}@127.0.0.1:{dante.port}"),
                         Acct("acct-local", url, "m-local", f"socks5://127.0.0.1:{dante.port}")]))
    r = ask(gw, "m-h")
    assert r.status == 200, r.body
    assert journal_accounts(mock_upstream) == ["acct-h"]
    assert mock_upstream.journal()[0]["headers"]["host"] == f"{PROXY_ONLY_NAME}:{mock_upstream.port}"
    # socks5:// resolves here, where the name does not exist: nothing reaches dante or the mock.
    r = ask(gw, "m-local")
    assert (r.status, r.json()) == (502, UNREACHABLE), r.body
    assert journal_accounts(mock_upstream) == ["acct-h"]
    log = dante.log_since(m)
    assert socks_connects(log, mock_upstream.port, SOCKS_USER) == 1, log
    assert socks_connects(log, mock_upstream.port) == 0, log


def test_direct_bypasses_a_dead_global_proxy_which_fails_over(gateway, mock_upstream):
    dead = f"http://127.0.0.1:{free_port()}"
    gw = gateway(config([Acct("acct-proxied", mock_upstream.url, "m", priority=10),
                         Acct("acct-direct", mock_upstream.url, "m", "direct"),
                         Acct("acct-none", mock_upstream.url, "m-none", "none"),
                         Acct("acct-dead-only", mock_upstream.url, "m-dead")], proxy=dead))
    r = ask(gw, "m")
    assert r.status == 200, r.body
    r = ask(gw, "m-none")
    assert r.status == 200, r.body
    assert journal_accounts(mock_upstream) == ["acct-direct", "acct-none"]
    r = ask(gw, "m-dead")
    assert (r.status, r.json()) == (502, UNREACHABLE), r.body
    assert journal_accounts(mock_upstream) == ["acct-direct", "acct-none"]
    gw.wait_log("proxy unreachable")


def test_pooled_connections_never_cross_proxies(gateway, mock_upstream, tinyproxy, dante):
    """One origin reached three ways (HTTP proxy, SOCKS5 proxy, direct): every connection the
    origin sees carries the requests of one account only, and each way is pooled."""
    origin = Relay(("127.0.0.1", mock_upstream.port))
    try:
        url = f"http://127.0.0.1:{origin.port}"
        gw = gateway(config([Acct("acct-http", url, "m", f"http://127.0.0.1:{tinyproxy.port}"),
                             Acct("acct-socks", url, "m", f"socks5://127.0.0.1:{dante.port}"),
                             Acct("acct-direct", url, "m", "direct")]))
        for _ in range(9):
            r = ask(gw, "m")
            assert r.status == 200, r.body
        per_conn = [c.keys() for c in origin.conns]
        assert sorted(k for keys in per_conn for k in keys) == sorted(["acct-http", "acct-socks", "acct-direct"] * 3)
        for keys in per_conn:
            assert len(set(keys)) == 1, per_conn
        # Pooling is on (so sharing would have been possible): one connection per way.
        assert len(per_conn) == 3, per_conn
    finally:
        origin.close()
