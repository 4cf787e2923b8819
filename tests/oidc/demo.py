"""The issue's "done when", as a newcomer runs it (`scripts/oauth-demo`).

Starts the test OpenID provider (tests/oidc/server.mjs) and the mock upstream on loopback,
writes a config whose `oauth-overrides.codex` points at them, runs
`switchyard login codex --no-browser`, plays the user at the browser (or waits for you to open
the URL), starts the gateway, sends a Responses request and shows that it reached the mock with
the account's current access token; then `switchyard refresh` rotates the tokens and the next
request carries the new one. Prints `DEMO OK` at the end; exits non-zero on any mismatch.

Standard library only. Environment: SWITCHYARD_BIN, SWITCHYARD_MOCK_BIN (default
target/debug/...), NODE_MODULES (default .tools/node/node_modules), DEMO_AUTO=1 to play the
browser, DEMO_DIR to keep the files (config, auth file, logs) there; by default they go to a
temporary directory that is removed at the end.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT_KEY = "sk-demo"


def say(msg: str) -> None:
    print(f"[oauth-demo] {msg}", flush=True)


def fail(msg: str) -> None:
    say(f"FAILED: {msg}")
    sys.exit(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], log: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(args, stderr=log.open("wb"), stdin=subprocess.DEVNULL, **kw)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def play_browser(url: str, stop: str) -> str:
    """Walks oidc-provider's login and consent pages as a user (any login name) and returns
    the callback URL the provider redirects to."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)
    form = None
    for _ in range(20):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with opener.open(urllib.request.Request(url, data=data), timeout=10) as r:
                status, location, page = r.status, r.headers.get("location", ""), r.read().decode()
        except urllib.error.HTTPError as e:
            status, location, page = e.code, e.headers.get("location", ""), e.read().decode()
        if status in (301, 302, 303, 307, 308):
            url = urllib.parse.urljoin(url, location)
            if url.startswith(stop):
                return url
            form = None
            continue
        if status != 200 or "<form" not in page:
            fail(f"unexpected page {status} at {url}")
        m = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
        if not m:
            fail(f"no form at {url}")
        form = {}
        for attrs in re.findall(r"<input([^>]*)>", m.group(2), re.S):
            name = re.search(r'name="([^"]+)"', attrs)
            value = re.search(r'value="([^"]*)"', attrs)
            if name:
                form[name.group(1)] = value.group(1) if value else ""
        if "login" in form:
            form["login"], form["password"] = "newcomer", "any-password"
        url = urllib.parse.urljoin(url, m.group(1))
    fail("the provider's pages did not end")
    return ""


def post_json(url: str, body: dict, headers: dict) -> tuple[int, bytes]:
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def wait_for(pred, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def main() -> None:
    bin_ = Path(os.environ.get("SWITCHYARD_BIN", REPO / "target/debug/switchyard"))
    mock_bin = Path(os.environ.get("SWITCHYARD_MOCK_BIN", REPO / "target/debug/switchyard-mock"))
    modules = os.environ.get("NODE_MODULES", str(REPO / ".tools/node/node_modules"))
    auto = os.environ.get("DEMO_AUTO") == "1"
    keep = bool(os.environ.get("DEMO_DIR"))
    work = Path(os.environ.get("DEMO_DIR") or tempfile.mkdtemp(prefix="switchyard-oauth-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []
    try:
        oidc = start(["node", str(REPO / "tests/oidc/server.mjs")], work / "oidc.log",
                     stdout=subprocess.PIPE, env={**os.environ, "NODE_MODULES": modules})
        procs.append(oidc)
        line = oidc.stdout.readline().decode()
        if not line.startswith("PORT "):
            fail(f"the test OpenID provider did not start (see {work / 'oidc.log'})")
        issuer = f"http://127.0.0.1:{line.split()[1]}"
        mock = start([str(mock_bin), "--listen", "127.0.0.1:0"], work / "mock.log",
                     stdout=subprocess.PIPE)
        procs.append(mock)
        mock_url = "http://" + mock.stdout.readline().decode().split()[1]
        say(f"test OpenID provider at {issuer}; mock upstream at {mock_url}")

        gw_port = free_port()
        cfg = work / "config.yaml"
        cfg.write_text("\n".join([
            "host: 127.0.0.1",
            f"port: {gw_port}",
            f"auth-dir: {work / 'auths'}",
            "api-keys:",
            f"  - {CLIENT_KEY}",
            "oauth-overrides:",
            "  codex:",
            f"    auth-url: {issuer}/auth",
            f"    token-url: {issuer}/token",
            "    client-id: switchyard-test",
            f"    base-url: {mock_url}/v1",
            "",
        ]))
        say(f"config written to {cfg}")

        cb_port = free_port()
        say(f"$ switchyard login codex --no-browser --callback-port {cb_port} --config {cfg}")
        login = subprocess.Popen(
            [str(bin_), "login", "codex", "--no-browser", "--callback-port", str(cb_port),
             "--config", str(cfg)], stdout=subprocess.PIPE, stderr=(work / "login.log").open("wb"))
        procs.append(login)
        url = ""
        while not url:
            raw = login.stdout.readline()
            if not raw:
                fail(f"login ended before printing its URL (see {work / 'login.log'})")
            text = raw.decode().rstrip("\n")
            print(f"    {text}", flush=True)
            url = text if text.startswith("http") else ""
        if auto:
            say("playing the user at the browser (log in with any name, approve)")
            callback = play_browser(url, "http://localhost:")
            urllib.request.urlopen(callback.replace("localhost", "127.0.0.1", 1), timeout=10).read()
        else:
            say("open that URL in a browser on this machine, log in with any name and approve")
        rest = login.stdout.read().decode()
        for text in rest.splitlines():
            print(f"    {text}", flush=True)
        if login.wait(timeout=600) != 0:
            fail(f"login failed (see {work / 'login.log'})")
        [path] = sorted((work / "auths").glob("*.json"))
        first = json.loads(path.read_text())["access_token"]
        say(f"saved {path.name}")

        say(f"$ switchyard serve --config {cfg}")
        gw = start([str(bin_), "serve", "--config", str(cfg)], work / "gateway.log")
        procs.append(gw)
        gw_url = f"http://127.0.0.1:{gw_port}"
        auth = {"authorization": f"Bearer {CLIENT_KEY}"}
        body = {"model": "gpt-5-codex", "input": "MOCK_REPLY[hello from your ChatGPT account]"}

        def ask() -> bytes | None:
            status, out = post_json(f"{gw_url}/v1/responses", body, auth)
            return out if status == 200 else None

        wait_for(lambda: ask() is not None, "the gateway to answer")
        answer = json.loads(ask() or b"{}")
        texts = [c.get("text") for item in answer.get("output", []) if item.get("type") == "message"
                 for c in item.get("content", [])]
        say(f"POST /v1/responses answered: {texts}")
        seen = get_json(f"{mock_url}/_mock/journal")[-1]["account"]
        if seen != first:
            fail("the upstream did not receive the account's access token")
        say("the mock upstream received the account's current access token")

        say(f"$ switchyard refresh --config {cfg}")
        r = subprocess.run([str(bin_), "refresh", "--config", str(cfg)], capture_output=True)
        if r.returncode != 0:
            fail(f"refresh failed: {r.stderr.decode()[-500:]}")
        second = json.loads(path.read_text())["access_token"]
        if second == first:
            fail("refresh did not rotate the access token")

        def carries_new_token() -> bool:
            ask()
            return get_json(f"{mock_url}/_mock/journal")[-1]["account"] == second

        wait_for(carries_new_token, "a request carrying the refreshed token")
        say("after the refresh, the next request carried the new access token (no restart)")
        say("DEMO OK")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
