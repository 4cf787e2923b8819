"""`switchyard login` and `switchyard refresh` against a real OpenID provider.

The provider is oidc-provider (tests/oidc/server.mjs) on an ephemeral loopback port; the tests
drive its login, consent and device-code forms over HTTP as a user's browser would, and point
`oauth-overrides` at it. The provider's test accounts have no email claim, so every login here
also exercises the file-name fallback.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, NODE_MODULES, free_port, need_tool, repo_path, start_proc, _register_log

CLIENT_ID = "switchyard-test"
OIDC_SCRIPT = REPO / "tests" / "oidc" / "server.mjs"


# --------------------------------------------------------------------------- provider


class Oidc:
    def __init__(self, proc, port: int):
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def token_request(self, **form: str) -> tuple[int, dict]:
        data = urllib.parse.urlencode({"client_id": CLIENT_ID, **form}).encode()
        req = urllib.request.Request(f"{self.base}/token", data=data, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def revoke(self, token: str) -> int:
        data = urllib.parse.urlencode({"client_id": CLIENT_ID, "token": token}).encode()
        req = urllib.request.Request(f"{self.base}/token/revocation", data=data, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status


@pytest.fixture
def oidc(request, tmp_path) -> Oidc:
    need_tool(NODE_MODULES / "oidc-provider" / "package.json")
    proc = start_proc("oidc-provider", ["node", str(OIDC_SCRIPT)], tmp_path / "logs",
                      env={**os.environ, "NODE_MODULES": str(NODE_MODULES)}, stdout_pipe=True)
    _register_log(request, proc)
    line = proc.popen.stdout.readline().decode()
    if not line.startswith("PORT "):
        proc.stop()
        pytest.fail(f"oidc-provider did not start: {line!r}\n{proc.log_text()}", pytrace=False)
    yield Oidc(proc, int(line.split()[1]))
    proc.stop()


# --------------------------------------------------------------------------- the "browser"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies, no automatic redirects, and a form filler for oidc-provider's dev pages."""

    def __init__(self, user: str = "alice"):
        self.user = user
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def fetch(self, url: str, form: dict | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=10) as r:
                return r.status, r.headers.get("location", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("location", ""), e.read().decode()

    def fill(self, page: str) -> tuple[str, dict]:
        m = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
        assert m, f"no form on the page:\n{page[:2000]}"
        action, body = m.group(1), m.group(2)
        form = {}
        for attrs in re.findall(r"<input([^>]*)>", body, re.S):
            name = re.search(r'name="([^"]+)"', attrs)
            if not name:
                continue
            value = re.search(r'value="([^"]*)"', attrs)
            form[name.group(1)] = value.group(1) if value else ""
        if "login" in form:
            form["login"], form["password"] = self.user, "any-password"
        return action, form

    def walk(self, url: str, stop: str) -> str:
        """Follows the provider's pages from ``url`` until a redirect to ``stop...``; returns
        that redirect URL (the callback the provider sends the browser to)."""
        form = None
        for _ in range(20):
            status, location, page = self.fetch(url, form)
            form = None
            if status in (301, 302, 303, 307, 308):
                url = urllib.parse.urljoin(url, location)
                if url.startswith(stop):
                    return url
                continue
            assert status == 200, f"{status} at {url}:\n{page[:2000]}"
            if "<form" not in page:
                return url  # a final page (device flow success)
            action, form = self.fill(page)
            url = urllib.parse.urljoin(url, action)
        pytest.fail("the provider's pages did not end")


# --------------------------------------------------------------------------- switchyard


def write_config(tmp_path: Path, oidc: Oidc, base_url: str = "http://127.0.0.1:9/unused") -> Path:
    lines = [f"auth-dir: {tmp_path / 'auths'}", "oauth-overrides:"]
    for provider in ("codex", "qwen"):
        lines += [
            f"  {provider}:",
            f"    auth-url: {oidc.base}/auth",
            f"    token-url: {oidc.base}/token",
            f"    device-url: {oidc.base}/device/auth",
            f"    client-id: {CLIENT_ID}",
            f"    base-url: {base_url}",
        ]
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


class Login:
    """A running `switchyard login`, its stdout read line by line."""

    def __init__(self, request, tmp_path: Path, cfg: Path, *args: str):
        self.bin = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
        self.proc = start_proc("switchyard-login", [str(self.bin), "login", *args, "--config", str(cfg)],
                               tmp_path / "logs", env={**os.environ, "RUST_LOG": "debug"},
                               stdout_pipe=True)
        _register_log(request, self.proc)
        self.lines: list[str] = []

    def read_until(self, pred) -> str:
        while True:
            raw = self.proc.popen.stdout.readline()
            if not raw:
                pytest.fail(f"login ended early; stdout {self.lines}\n{self.proc.log_text()}",
                            pytrace=False)
            line = raw.decode().rstrip("\n")
            self.lines.append(line)
            if pred(line):
                return line

    def finish(self) -> tuple[int, str, str]:
        rest = self.proc.popen.stdout.read().decode()
        code = self.proc.popen.wait(timeout=60)
        self.lines += rest.splitlines()
        return code, "\n".join(self.lines), self.proc.log_text()


def auth_files(tmp_path: Path) -> list[Path]:
    d = tmp_path / "auths"
    return sorted(p for p in d.glob("*.json")) if d.exists() else []


def login_codex(request, tmp_path: Path, oidc: Oidc, cfg: Path) -> tuple[Path, str]:
    port = free_port()
    login = Login(request, tmp_path, cfg, "codex", "--no-browser", "--callback-port", str(port))
    url = login.read_until(lambda l: l.startswith("http"))
    assert url.startswith(f"{oidc.base}/auth?"), url
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["code_challenge_method"] == "S256" and q["client_id"] == CLIENT_ID
    assert q["redirect_uri"] == f"http://localhost:{port}/auth/callback"
    callback = Browser().walk(url, "http://localhost:")
    status, _, page = Browser().fetch(callback.replace("localhost", "127.0.0.1", 1))
    assert status == 200, page
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    return auth_files(tmp_path)[0], out + "\n" + log


# --------------------------------------------------------------------------- tests


def test_login_codex_pkce_end_to_end(request, tmp_path, oidc):
    cfg = write_config(tmp_path, oidc)
    path, out = login_codex(request, tmp_path, oidc, cfg)
    files = auth_files(tmp_path)
    assert files == [path]
    # No email from this provider: the stable fallback name from the `sub` claim.
    assert re.fullmatch(r"codex-sub-[0-9a-f]{8}\.json", path.name), path.name
    assert f"Saved {path}" in out
    data = json.loads(path.read_text())
    assert data["type"] == "codex"
    assert data["email"] == "" and data["account_id"] == ""
    for k in ("access_token", "refresh_token", "id_token", "expired", "last_refresh"):
        assert data[k], k
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    # The token works at the provider: the userinfo endpoint answers with the subject.
    req = urllib.request.Request(f"{oidc.base}/me",
                                 headers={"Authorization": f"Bearer {data['access_token']}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert json.load(r)["sub"] == "alice"
    # A second login of the same account lands in the same file.
    path2, _ = login_codex(request, tmp_path, oidc, cfg)
    assert path2 == path and auth_files(tmp_path) == [path]


def test_login_codex_wrong_state_is_refused_and_writes_nothing(request, tmp_path, oidc):
    cfg = write_config(tmp_path, oidc)
    port = free_port()
    login = Login(request, tmp_path, cfg, "codex", "--no-browser", "--callback-port", str(port))
    url = login.read_until(lambda l: l.startswith("http"))
    callback = Browser().walk(url, "http://localhost:")
    parts = urllib.parse.urlsplit(callback)
    q = dict(urllib.parse.parse_qsl(parts.query))
    assert q["code"]
    q["state"] = "forged-" + q["state"]
    forged = f"http://127.0.0.1:{port}{parts.path}?{urllib.parse.urlencode(q)}"
    status, _, page = Browser().fetch(forged)
    assert status == 400 and "state mismatch" in page
    code, out, log = login.finish()
    assert code == 1
    assert "error: codex login failed: the callback's state did not match this login" in log
    assert auth_files(tmp_path) == []


def login_qwen(request, tmp_path: Path, oidc: Oidc, cfg: Path, *args: str) -> Path:
    """A device-code login (`qwen`, or `codex --device` with ``args``) approved by the user."""
    login = Login(request, tmp_path, cfg, *(args or ("qwen",)))
    complete = login.read_until(lambda l: l.startswith("http"))
    code_line = login.read_until(lambda l: l.startswith("User code: "))
    user_code = code_line.removeprefix("User code: ")
    assert complete.startswith(f"{oidc.base}/device?user_code=")
    assert any(l == f"(or open {oidc.base}/device and enter the code)" for l in login.lines)
    # The user opens the plain verification page and types the code.
    b = Browser()
    status, _, page = b.fetch(f"{oidc.base}/device")
    action, form = b.fill(page)
    form["user_code"] = user_code
    status, location, page = b.fetch(urllib.parse.urljoin(oidc.base, action), form)
    assert status == 200 and "deviceConfirmForm" in page, page[:2000]
    action, form = b.fill(page)
    status, location, page = b.fetch(urllib.parse.urljoin(oidc.base, action), form)
    assert status in (302, 303), page[:2000]
    # Then the provider's own login and consent pages, ending on its success page.
    final = b.walk(urllib.parse.urljoin(oidc.base, location), "http://never/")
    assert final.startswith(oidc.base)
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    files = auth_files(tmp_path)
    assert len(files) == 1
    return files[0]


def test_login_qwen_device_flow(request, tmp_path, oidc):
    cfg = write_config(tmp_path, oidc)
    path = login_qwen(request, tmp_path, oidc, cfg)
    assert re.fullmatch(r"qwen-sub-[0-9a-f]{8}\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["type"] == "qwen" and data["access_token"] and data["refresh_token"]


def test_login_codex_device_flow(request, tmp_path, oidc):
    cfg = write_config(tmp_path, oidc)
    path = login_qwen(request, tmp_path, oidc, cfg, "codex", "--device")
    assert re.fullmatch(r"codex-sub-[0-9a-f]{8}\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["type"] == "codex" and data["access_token"] and data["refresh_token"]


def run_refresh(tmp_path: Path, cfg: Path) -> tuple[int, str]:
    bin_ = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    p = subprocess.run([str(bin_), "refresh", "--config", str(cfg)], capture_output=True,
                       env={**os.environ, "RUST_LOG": "debug"}, timeout=60)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def test_refresh_rotates_and_old_token_is_rejected_then_revoked_account_is_unusable(
        request, tmp_path, oidc):
    cfg = write_config(tmp_path, oidc)
    path, login_log = login_codex(request, tmp_path, oidc, cfg)
    before = json.loads(path.read_text())

    code, log1 = run_refresh(tmp_path, cfg)
    assert code == 0, log1
    assert f"{path.name}: refreshed" in log1
    after = json.loads(path.read_text())
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert {k: v for k, v in after.items() if k not in ("access_token", "refresh_token", "id_token", "expired", "last_refresh")} \
        == {k: v for k, v in before.items() if k not in ("access_token", "refresh_token", "id_token", "expired", "last_refresh")}
    # Rotation: the provider now rejects the old refresh token.
    status, body = oidc.token_request(grant_type="refresh_token", refresh_token=before["refresh_token"])
    assert (status, body.get("error")) == (400, "invalid_grant")

    # Revoke the current one: the next refresh marks the account unusable, once, and stops.
    assert oidc.revoke(after["refresh_token"]) == 200
    code, log2 = run_refresh(tmp_path, cfg)
    assert code == 1
    assert f"{path.name}: unusable: refresh token rejected by the provider (invalid_grant); log in again" in log2
    assert log2.count("OAuth account unusable") == 1
    assert json.loads(path.read_text()) == after, "a failed refresh must not touch the file"

    # No token seen in this run appears in any log line.
    tokens = {t for d in (before, after) for k in ("access_token", "refresh_token", "id_token")
              if (t := d.get(k))}
    for text in (login_log, log1, log2):
        for t in tokens:
            assert t not in text, "a token leaked into the output"


def test_login_cancelled_with_ctrl_c_or_timed_out_writes_nothing(request, tmp_path, oidc):
    import signal

    cfg = write_config(tmp_path, oidc)
    login = Login(request, tmp_path, cfg, "codex", "--no-browser", "--callback-port", str(free_port()))
    login.read_until(lambda l: l.startswith("http"))
    login.proc.popen.send_signal(signal.SIGINT)
    code, _, log = login.finish()
    assert code == 1
    assert "error: codex login failed: login cancelled; nothing was saved" in log

    login = Login(request, tmp_path, cfg, "qwen", "--timeout-seconds", "1")
    login.read_until(lambda l: l.startswith("User code: "))
    code, _, log = login.finish()
    assert code == 1
    assert "error: qwen login failed: login timed out after 1s; nothing was saved" in log
    assert auth_files(tmp_path) == []


def test_google_and_iflow_logins_without_a_client_secret_stop_before_the_browser(tmp_path):
    # Their real token endpoints authenticate the client; Switchyard does not ship the secret,
    # so without `client-secret` the login says what to set before any URL is shown.
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"auth-dir: {tmp_path / 'auths'}\n")
    bin_ = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    for provider in ("gemini", "antigravity", "iflow"):
        r = subprocess.run([str(bin_), "login", provider, "--no-browser", "--config", str(cfg)],
                           capture_output=True, timeout=30)
        assert r.returncode == 1, r
        assert r.stdout == b"", r.stdout
        assert (f"set oauth-overrides.{provider}.client-secret in the config"
                in r.stderr.decode()), r.stderr
    assert auth_files(tmp_path) == []
