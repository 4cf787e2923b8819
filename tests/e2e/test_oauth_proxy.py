"""OAuth traffic (refresh, login) follows `proxy-url` and the certificate store as upstream
requests do: the global `proxy-url`, an auth file's own `proxy_url`, and a token endpoint
behind TLS signed by a CA given only through `SSL_CERT_FILE`.

The token endpoint is the mock's `/_auth/device/token` (a `refresh_token` grant answers
`at-<client_id>-refreshed-<n>`); tinyproxy's log shows which requests went through it, the
mock's journal which reached the endpoint.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

from conftest import CLIENT_KEY, gateway_config, http_request, wait_until
from test_login_oauth import Login, auth_files
from test_management import HEADER, MGMT, mgmt
from test_upstream_proxy import Relay, certs, tinyproxy  # noqa: F401

CLIENT_ID = "proxied"
TOKEN_ROUTE = "auth:device/token"


def write_auth(auths: Path, name: str, *, proxy_url: str | None = None) -> Path:
    """A codex auth file whose access token expired a minute ago."""
    auths.mkdir(parents=True, exist_ok=True)
    expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    data = {"type": "codex", "email": f"{name}@example.test", "account_id": name,
            "access_token": f"stale-{name}", "refresh_token": f"rt-{name}", "id_token": "",
            "expired": expired, "last_refresh": expired}
    if proxy_url is not None:
        data["proxy_url"] = proxy_url
    path = auths / f"codex-{name}.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return path


def oauth_config(auths: Path, token_url: str, base_url: str, proxy: str | None = None) -> str:
    extra = [f"auth-dir: {auths}", "oauth-overrides:", "  codex:",
             f"    token-url: {token_url}", f"    client-id: {CLIENT_ID}", f"    base-url: {base_url}"]
    if proxy is not None:
        extra.insert(0, f"proxy-url: {json.dumps(proxy)}")
    return gateway_config(extra="\n".join(extra))


def responses(gw) -> int:
    body = json.dumps({"model": "gpt-5-codex", "input": "hi", "stream": False}).encode()
    r = http_request("POST", f"{gw.url}/v1/responses", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    return r.status


def refresh_grants(mock) -> list[dict]:
    return [e for e in mock.journal(TOKEN_ROUTE) if "grant_type=refresh_token" in (e.get("body") or "")]


def proxied_posts(log: str, url: str) -> int:
    """tinyproxy's request lines for a plain-HTTP request forwarded to ``url``."""
    return len(re.findall(rf"Request \(file descriptor \d+\): POST {re.escape(url)} HTTP/1\.1", log))


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refresh_goes_through_the_global_proxy_and_the_request_carries_the_new_token(
        tmp_path, gateway, mock_upstream, tinyproxy):
    m = tinyproxy.mark()
    auths = tmp_path / "auths"
    path = write_auth(auths, "a")
    token_url = f"{mock_upstream.url}/_auth/device/token"
    gw = gateway(oauth_config(auths, token_url, f"{mock_upstream.url}/v1",
                              proxy=f"http://127.0.0.1:{tinyproxy.port}"))
    assert responses(gw) == 200
    new = json.loads(path.read_text())["access_token"]
    assert re.fullmatch(rf"at-{CLIENT_ID}-refreshed-\d+", new), new
    [grant] = refresh_grants(mock_upstream)
    assert "refresh_token=rt-a" in grant["body"]
    [upstream] = [e for e in mock_upstream.journal() if e["path"] == "/v1/responses"]
    assert upstream["account"] == new
    log = tinyproxy.log_since(m)
    # The token request was forwarded by the proxy (plain HTTP: absolute-form POST), and the
    # upstream request tunnelled through it (CONNECT), as before.
    assert proxied_posts(log, token_url) == 1, log
    assert f"CONNECT 127.0.0.1:{mock_upstream.port} HTTP/1.1" in log, log


def test_a_dead_proxy_in_the_auth_file_fails_its_refresh_only(tmp_path, gateway, mock_upstream):
    auths = tmp_path / "auths"
    dead = f"http://127.0.0.1:{dead_port()}"
    blocked = write_auth(auths, "blocked", proxy_url=dead)
    direct = write_auth(auths, "direct")
    before = blocked.read_text()
    gw = gateway(oauth_config(auths, f"{mock_upstream.url}/_auth/device/token",
                              f"{mock_upstream.url}/v1"))
    # The background refresh runs both at start; the one through the dead proxy fails and
    # says which way it went.
    log = gw.wait_log(f"(via {dead})", timeout=20)
    assert "OAuth refresh failed" in log
    wait_until(lambda: json.loads(direct.read_text())["access_token"].startswith(f"at-{CLIENT_ID}-refreshed-"),
               20, "the direct account's refresh", gw.proc)
    grants = refresh_grants(mock_upstream)
    assert ["refresh_token=rt-direct" in g["body"] for g in grants] == [True], grants
    assert blocked.read_text() == before
    # Requests still work: the refreshed account serves (the blocked one keeps its old token).
    fresh = json.loads(direct.read_text())["access_token"]

    def served_by_fresh():
        assert responses(gw) == 200
        return mock_upstream.journal()[-1]["account"] == fresh

    wait_until(served_by_fresh, 20, "a request with the refreshed token", gw.proc, interval=0.2)
    assert not any("refresh_token=rt-blocked" in g["body"] for g in refresh_grants(mock_upstream))


def test_direct_in_the_auth_file_skips_a_dead_global_proxy(tmp_path, gateway, mock_upstream):
    auths = tmp_path / "auths"
    own = write_auth(auths, "own", proxy_url="direct")
    inherits = write_auth(auths, "inherits")
    before = inherits.read_text()
    dead = f"http://127.0.0.1:{dead_port()}"
    gw = gateway(oauth_config(auths, f"{mock_upstream.url}/_auth/device/token",
                              f"{mock_upstream.url}/v1", proxy=dead))
    # The account without a proxy_url takes the dead global proxy and fails; `direct` gets
    # through.
    gw.wait_log(f"(via {dead})", timeout=20)
    wait_until(lambda: json.loads(own.read_text())["access_token"].startswith(f"at-{CLIENT_ID}-refreshed-"),
               20, "the direct account's refresh", gw.proc)
    grants = refresh_grants(mock_upstream)
    assert ["refresh_token=rt-own" in g["body"] for g in grants] == [True], grants
    assert inherits.read_text() == before


def test_a_tls_token_endpoint_is_trusted_through_ssl_cert_file(tmp_path, gateway, mock_upstream, certs):
    relay = Relay(("127.0.0.1", mock_upstream.port), certs)
    try:
        token_url = f"https://localhost:{relay.port}/_auth/device/token"
        # Without the test CA the refresh fails on the certificate.
        auths = tmp_path / "untrusted"
        path = write_auth(auths, "untrusted")
        gw = gateway(oauth_config(auths, token_url, f"{mock_upstream.url}/v1"))
        log = gw.wait_log("OAuth refresh failed", timeout=20)
        assert "certificate" in log.lower(), log
        assert refresh_grants(mock_upstream) == []
        assert json.loads(path.read_text())["access_token"] == "stale-untrusted"

        # With SSL_CERT_FILE naming it, the same endpoint is trusted.
        auths = tmp_path / "trusted"
        path = write_auth(auths, "trusted")
        gw = gateway(oauth_config(auths, token_url, f"{mock_upstream.url}/v1"),
                     env={"SSL_CERT_FILE": str(certs["ca"])})
        wait_until(lambda: json.loads(path.read_text())["access_token"].startswith(f"at-{CLIENT_ID}-refreshed-"),
                   20, "the refresh over TLS", gw.proc)
        [grant] = refresh_grants(mock_upstream)
        assert "refresh_token=rt-trusted" in grant["body"]
        assert "localhost" in [c.sni for c in relay.conns]
    finally:
        relay.close()


def kimi_login_config(tmp_path: Path, mock, proxy_port: int) -> str:
    return "\n".join([
        f"proxy-url: http://127.0.0.1:{proxy_port}",
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  kimi:",
        f"    device-url: {mock.url}/_auth/device/code",
        f"    token-url: {mock.url}/_auth/device/token",
        "    client-id: ok",
        f"    base-url: {mock.url}/v1",
    ]) + "\n"


def test_login_goes_through_the_global_proxy(request, tmp_path, mock_upstream, tinyproxy):
    """`switchyard login kimi` (device flow) with `proxy-url` in its config: both the device
    code and the token request went through tinyproxy, with Kimi's device headers."""
    m = tinyproxy.mark()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(kimi_login_config(tmp_path, mock_upstream, tinyproxy.port))
    code, out, log = Login(request, tmp_path, cfg, "kimi").finish()
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    assert json.loads(path.read_text())["access_token"] == "at-ok-1"
    proxy_log = tinyproxy.log_since(m)
    for route in ("device/code", "device/token"):
        assert proxied_posts(proxy_log, f"{mock_upstream.url}/_auth/{route}") == 1, proxy_log
    for e in mock_upstream.journal():
        assert e["headers"]["x-msh-platform"] == "cli-proxy-api"


def test_management_login_goes_through_the_global_proxy(tmp_path, gateway, mock_upstream, tinyproxy):
    """`GET /kimi-auth-url` on a gateway whose config has `proxy-url`: the login's device-code
    and token requests went through tinyproxy."""
    m = tinyproxy.mark()
    gw = gateway(HEADER + gateway_config(extra=MGMT + kimi_login_config(tmp_path, mock_upstream,
                                                                          tinyproxy.port)))
    status, body = mgmt(gw, "GET", "/kimi-auth-url")
    assert status == 200 and body["status"] == "ok", body
    state = body["state"]
    done = wait_until(lambda: (s := mgmt(gw, "GET", f"/get-auth-status?state={state}")[1])["status"] != "wait"
                      and s, 30, "the device login to finish", gw.proc, interval=0.2)
    assert done == {"status": "ok"}, done
    [path] = auth_files(tmp_path)
    assert json.loads(path.read_text())["access_token"] == "at-ok-1"
    proxy_log = tinyproxy.log_since(m)
    for route in ("device/code", "device/token"):
        assert proxied_posts(proxy_log, f"{mock_upstream.url}/_auth/{route}") == 1, proxy_log
