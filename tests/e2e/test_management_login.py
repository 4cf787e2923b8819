"""OAuth logins started from the management API against a real OpenID provider
(oidc-provider, tests/oidc/server.mjs), as CLIProxyAPI's panel drives them: `*-auth-url`
starts the login, the user's browser goes through the provider's pages, the final redirect
comes back pasted into `POST /oauth-callback` or through the main port's `/<provider>/callback`
sink, `get-auth-status` reports the outcome, and the account the login wrote to auth-dir
serves the next request without a restart."""

from __future__ import annotations

import json
import re
import urllib.parse

from conftest import CLIENT_KEY, gateway_config, http_request, wait_until
from test_login_oauth import CLIENT_ID, Browser, oidc  # noqa: F401 - the fixture
from test_management import HEADER, MGMT, mgmt


def login_config(tmp_path, oidc, upstream: str) -> str:  # noqa: F811
    lines = [f"auth-dir: {tmp_path / 'auths'}", "oauth-overrides:"]
    for provider in ("codex", "qwen"):
        lines += [
            f"  {provider}:",
            f"    auth-url: {oidc.base}/auth",
            f"    token-url: {oidc.base}/token",
            f"    device-url: {oidc.base}/device/auth",
            f"    client-id: {CLIENT_ID}",
            f"    base-url: {upstream}/v1",
        ]
    return HEADER + gateway_config(extra=MGMT + "\n".join(lines) + "\n")


def auth_files(tmp_path):
    d = tmp_path / "auths"
    return sorted(d.glob("*.json")) if d.exists() else []


def status_of(gw, state: str) -> dict:
    status, body = mgmt(gw, "GET", f"/get-auth-status?state={urllib.parse.quote(state)}")
    assert status == 200, body
    return body


def start_codex(gw, oidc):  # noqa: F811
    status, body = mgmt(gw, "GET", "/codex-auth-url")
    assert status == 200 and body["status"] == "ok", body
    url, state = body["url"], body["state"]
    assert url.startswith(f"{oidc.base}/auth?"), url
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["state"] == state and q["code_challenge_method"] == "S256"
    # The provider's own redirect URI, as the real client registered it.
    assert q["redirect_uri"] == "http://localhost:1455/auth/callback"
    assert status_of(gw, state) == {"status": "wait"}
    # The user's browser goes through the provider's login and consent pages.
    callback = Browser().walk(url, "http://localhost:1455/")
    return state, callback


def codex_request(gw):
    body = json.dumps({"model": "gpt-5-codex", "input": "hi", "stream": False}).encode()
    return http_request("POST", f"{gw.url}/v1/responses", body,
                        {"Authorization": f"Bearer {CLIENT_KEY}",
                         "Content-Type": "application/json"})


def test_codex_login_pasted_redirect_writes_the_file_and_serves(
        tmp_path, oidc, mock_upstream, gateway):  # noqa: F811
    gw = gateway(login_config(tmp_path, oidc, mock_upstream.url))
    assert codex_request(gw).status in (400, 404)  # no account yet
    state, callback = start_codex(gw, oidc)
    # A remote user pastes the final URL (their browser could not reach localhost:1455).
    assert mgmt(gw, "POST", "/oauth-callback",
                {"provider": "codex", "redirect_url": callback}) == (200, {"status": "ok"})
    done = wait_until(lambda: (s := status_of(gw, state))["status"] != "wait" and s, 20,
                      "the login to finish", gw.proc)
    assert done == {"status": "ok"}, done
    [path] = auth_files(tmp_path)
    assert re.fullmatch(r"codex-sub-[0-9a-f]{8}\.json", path.name), path.name
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert data["type"] == "codex" and data["access_token"] and data["refresh_token"]
    # The new account serves at once, with the token the login got.
    r = codex_request(gw)
    assert r.status == 200, r.body
    [entry] = mock_upstream.journal()
    assert entry["account"] == data["access_token"]
    files = mgmt(gw, "GET", "/auth-files")[1]["files"]
    assert [f["name"] for f in files] == [path.name] and files[0]["status"] == "active"
    # The callback is spent: a second one is refused; no token in any answer or log line.
    assert mgmt(gw, "POST", "/oauth-callback",
                {"provider": "codex", "redirect_url": callback})[0] == 409
    log = gw.log_text()
    for secret in (data["access_token"], data["refresh_token"]):
        assert secret not in log


def test_codex_login_through_the_main_port_sink(tmp_path, oidc, mock_upstream, gateway):  # noqa: F811
    gw = gateway(login_config(tmp_path, oidc, mock_upstream.url))
    state, callback = start_codex(gw, oidc)
    query = urllib.parse.urlsplit(callback).query
    # Another provider's sink does not take it; the codex sink does (no management key).
    r = http_request("GET", f"{gw.url}/anthropic/callback?{query}")
    assert r.status == 409, r.body
    r = http_request("GET", f"{gw.url}/codex/callback?{query}")
    assert r.status == 200 and b"You can close this tab" in r.body, r.body
    done = wait_until(lambda: (s := status_of(gw, state))["status"] != "wait" and s, 20,
                      "the login to finish", gw.proc)
    assert done == {"status": "ok"}, done
    assert len(auth_files(tmp_path)) == 1
    assert codex_request(gw).status == 200
    # Once the later request's access line is written, the callback's would be too.
    log = wait_until(lambda: "/v1/responses" in (t := gw.log_text()) and t, 5,
                     "the access line", gw.proc)
    assert "/codex/callback" not in log, "a login callback reached the access log"


def test_refused_forged_and_unknown_callbacks(tmp_path, oidc, mock_upstream, gateway):  # noqa: F811
    gw = gateway(login_config(tmp_path, oidc, mock_upstream.url))
    status, body = mgmt(gw, "GET", "/codex-auth-url")
    state = body["state"]
    for bad, code, needle in (
            ({"provider": "codex"}, 400, "missing state"),
            ({"provider": "codex", "state": state}, 400, "missing code"),
            ({"provider": "nope", "state": state, "code": "x"}, 400, "unsupported provider"),
            ({"provider": "qwen", "state": state, "code": "x"}, 400, "another provider"),
            ({"provider": "codex", "state": "forged", "code": "x"}, 404, "unknown or expired"),
            ({"provider": "codex", "state": state, "code": "x", "extra": 1}, 400, "unknown field"),
            ({"provider": "codex", "redirect_url": "http://localhost:1455/auth/callback"}, 400,
             "no query")):
        status, reply = mgmt(gw, "POST", "/oauth-callback", bad)
        assert status == code and reply["status"] == "error" and needle in reply["error"], (bad, reply)
    assert status_of(gw, state) == {"status": "wait"}, "a refused callback ended the login"
    # The provider's refusal ends it with the reason, and nothing is written.
    refused = f"http://localhost:1455/auth/callback?error=access_denied&state={state}"
    assert mgmt(gw, "POST", "/oauth-callback",
                {"provider": "codex", "redirect_url": refused}) == (200, {"status": "ok"})
    done = wait_until(lambda: (s := status_of(gw, state))["status"] != "wait" and s, 10,
                      "the refusal", gw.proc)
    assert done["status"] == "error" and "access_denied" in done["error"], done
    # A code the provider never issued fails at the exchange.
    status, body = mgmt(gw, "GET", "/codex-auth-url")
    assert mgmt(gw, "POST", "/oauth-callback", {"provider": "codex", "state": body["state"],
                                                "code": "made-up"})[0] == 200
    done = wait_until(lambda: (s := status_of(gw, body["state"]))["status"] != "wait" and s, 20,
                      "the failed exchange", gw.proc)
    assert done["status"] == "error", done
    assert auth_files(tmp_path) == []
    assert mgmt(gw, "GET", "/get-auth-status?state=nope") == (
        404, {"status": "error", "error": "unknown or expired state"})
    assert mgmt(gw, "GET", "/get-auth-status")[0] == 400
    assert mgmt(gw, "POST", "/codex-auth-url")[0] == 405
    # Google's real endpoint needs the client secret Switchyard does not ship: said up front.
    status, body = mgmt(gw, "GET", "/gemini-cli-auth-url")
    assert status == 400 and "client-secret" in body["error"], body
    # Without the management key nothing starts.
    assert mgmt(gw, "GET", "/codex-auth-url", key=None)[0] == 401


def test_qwen_device_login_from_the_api(tmp_path, oidc, mock_upstream, gateway):  # noqa: F811
    gw = gateway(login_config(tmp_path, oidc, mock_upstream.url))
    status, body = mgmt(gw, "GET", "/qwen-auth-url")
    assert status == 200 and body["status"] == "ok", body
    url, state = body["url"], body["state"]
    assert url.startswith(f"{oidc.base}/device?user_code="), url
    user_code = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["user_code"][0]
    assert status_of(gw, state) == {"status": "wait"}
    # The user approves on the provider's pages.
    b = Browser()
    status, _, page = b.fetch(f"{oidc.base}/device")
    action, form = b.fill(page)
    form["user_code"] = user_code
    status, location, page = b.fetch(urllib.parse.urljoin(oidc.base, action), form)
    assert status == 200 and "deviceConfirmForm" in page, page[:2000]
    action, form = b.fill(page)
    status, location, page = b.fetch(urllib.parse.urljoin(oidc.base, action), form)
    assert status in (302, 303), page[:2000]
    b.walk(urllib.parse.urljoin(oidc.base, location), "http://never/")
    done = wait_until(lambda: (s := status_of(gw, state))["status"] != "wait" and s, 30,
                      "the device login to finish", gw.proc, interval=0.2)
    assert done == {"status": "ok"}, done
    [path] = auth_files(tmp_path)
    assert path.name.startswith("qwen-") and json.loads(path.read_text())["type"] == "qwen"
    assert [f["name"] for f in mgmt(gw, "GET", "/auth-files")[1]["files"]] == [path.name]


def test_anthropic_login_with_the_pasted_code_hash_state(tmp_path, oidc, mock_upstream, gateway):  # noqa: F811
    # Claude's page shows `code#state` for the user to copy: pasted as the code, the state
    # half is checked and dropped, then the Claude account serves Anthropic requests.
    cfg = "\n".join([f"auth-dir: {tmp_path / 'auths'}", "oauth-overrides:", "  claude:",
                     f"    auth-url: {oidc.base}/auth", f"    token-url: {oidc.base}/token",
                     f"    client-id: {CLIENT_ID}", f"    base-url: {mock_upstream.url}"])
    gw = gateway(HEADER + gateway_config(extra=MGMT + cfg + "\n"))
    status, body = mgmt(gw, "GET", "/anthropic-auth-url")
    assert status == 200, body
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(body["url"]).query))
    assert q["redirect_uri"] == "http://localhost:54545/callback" and q["code"] == "true"
    callback = Browser().walk(body["url"], "http://localhost:54545/")
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]
    assert mgmt(gw, "POST", "/oauth-callback", {"provider": "claude", "state": body["state"],
                                                "code": f"{code}#{body['state']}"}) == (
        200, {"status": "ok"})
    done = wait_until(lambda: (s := status_of(gw, body["state"]))["status"] != "wait" and s, 20,
                      "the login to finish", gw.proc)
    assert done == {"status": "ok"}, done
    [path] = auth_files(tmp_path)
    data = json.loads(path.read_text())
    assert data["type"] == "claude"
    r = http_request("POST", f"{gw.url}/v1/messages", json.dumps(
        {"model": "claude-sonnet-4-5", "max_tokens": 16,
         "messages": [{"role": "user", "content": "hi"}]}).encode(),
        {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
         "content-type": "application/json"})
    assert r.status == 200, r.body
    assert mock_upstream.journal()[-1]["account"] == data["access_token"]


def test_a_device_login_that_fails_before_its_url_says_why(tmp_path, gateway):
    cfg = "\n".join([f"auth-dir: {tmp_path / 'auths'}", "oauth-overrides:", "  qwen:",
                     "    device-url: http://127.0.0.1:9/device/auth",
                     "    token-url: http://127.0.0.1:9/token", "    client-id: x"])
    gw = gateway(HEADER + gateway_config(extra=MGMT + cfg + "\n"))
    status, body = mgmt(gw, "GET", "/qwen-auth-url")
    assert status == 502 and body["status"] == "error", body
    assert body["error"] != "the device login ended before it gave a URL", body
    assert auth_files(tmp_path) == []
