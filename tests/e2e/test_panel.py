"""The control panel (`/management.html`): when it is served, and the page itself in a real
browser. Debian's chromium runs headless, driven by playwright-core (both installed by
scripts/install-test-deps.sh) through tests/e2e/panel_driver.mjs, against the real gateway and
the mock upstream: sign in with the management key, see the accounts, add a client key and
serve a request with it, see it in the usage by key, add a provider key, turn the request log
on, log in to Codex with OAuth against the test OpenID provider (tests/oidc/server.mjs: its
pages in a second tab, the final redirect pasted into the panel) and see the account appear,
read the gateway's log file, sign out.

Without chromium the browser test is skipped, unless SWITCHYARD_REQUIRE_SDKS or CI is set
(scripts/test sets it): there it fails."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse

import pytest

from conftest import (ACCT_CLAUDE, CLIENT_KEY, MODEL_CLAUDE, NODE_MODULES, REPO, Account,
                      assert_one_call, gateway_config, http_request, need_tool, wait_until)
from test_login_oauth import CLIENT_ID, oidc  # noqa: F401 - the fixture

SECRET = "panel-secret-1"
DRIVER = REPO / "tests" / "e2e" / "panel_driver.mjs"
NEW_CLIENT_KEY = "sk-added-in-the-panel-0001"
NEW_PROVIDER_KEY = "sk-ant-added-in-the-panel-0002"
ACCOUNT_ID = "claude-api-key[0]"  # what /accounts calls the config's first Claude key


# The redirect URI of Codex's registered client (the login's `redirect_uri`).
CODEX_REDIRECT = "http://localhost:1455/auth/callback"


def oauth_config(auth_dir, oidc, upstream: str) -> str:  # noqa: F811
    """Codex logins against the test OpenID provider; its accounts served by the mock."""
    return "\n".join([f"auth-dir: {auth_dir}", "oauth-overrides:", "  codex:",
                      f"    auth-url: {oidc.base}/auth", f"    token-url: {oidc.base}/token",
                      f"    client-id: {CLIENT_ID}", f"    base-url: {upstream}/v1"]) + "\n"


def panel_config(mock, extra: str = "") -> str:
    return gateway_config(
        claude=[Account(ACCT_CLAUDE, mock.url, [(MODEL_CLAUDE, "")])],
        extra=f'remote-management:\n  secret-key: "{SECRET}"\nusage-statistics-enabled: true\n'
              + extra)


def chromium() -> str:
    """The system chromium; a skip (or, where it is required, a failure) without it."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("SWITCHYARD_REQUIRE_SDKS") or os.environ.get("CI"):
        pytest.fail("chromium is missing: run scripts/install-test-deps.sh", pytrace=False)
    pytest.skip("chromium is not installed (scripts/install-test-deps.sh installs it)")


def drive(args: dict, timeout: float = 60) -> dict:
    need_tool(NODE_MODULES / "playwright-core" / "package.json")
    p = subprocess.run(["node", str(DRIVER), json.dumps(args)], capture_output=True,
                       timeout=timeout, env={**os.environ, "NODE_MODULES": str(NODE_MODULES)})
    lines = p.stdout.decode().strip().splitlines()
    seen = json.loads(lines[-1]) if lines else {}
    assert p.returncode == 0 and seen.get("done"), (
        f"panel driver failed (exit {p.returncode})\nstderr:\n{p.stderr.decode()[-4000:]}\n"
        f"saw: {json.dumps(seen, indent=1)}")
    return seen


def get_panel(gw) -> tuple[int, dict, bytes]:
    r = http_request("GET", f"{gw.url}/management.html")
    return r.status, r.headers, r.body


def test_panel_is_served_only_with_a_secret_and_not_disabled(mock_upstream, gateway):
    off = gateway(gateway_config(claude=[Account(ACCT_CLAUDE, mock_upstream.url,
                                                 [(MODEL_CLAUDE, "")])]))
    status, _, body = get_panel(off)
    assert (status, json.loads(body)) == (404, {"error": "not found"})

    gw = gateway(panel_config(mock_upstream))
    status, headers, body = get_panel(gw)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'sha256-" in headers["content-security-policy"], headers
    assert b"<title>Switchyard control panel</title>" in body
    # disable-control-panel, written through the API, follows the reload; the API stays.
    key = {"authorization": f"Bearer {SECRET}"}
    text = gw.config_path.read_text().replace(
        "remote-management:\n", "remote-management:\n  disable-control-panel: true\n")
    r = http_request("PUT", f"{gw.url}/v0/management/config.yaml", text.encode(), key)
    assert r.status == 200, r.body
    assert get_panel(gw)[0] == 404
    assert http_request("GET", f"{gw.url}/v0/management/debug", None, key).status == 200


def test_panel_in_a_real_browser(tmp_path, oidc, mock_upstream, gateway):  # noqa: F811
    browser = chromium()
    auth_dir = tmp_path / "auths"
    gw = gateway(panel_config(mock_upstream, "logging-to-file: true\n"
                              + oauth_config(auth_dir, oidc, mock_upstream.url)))
    main_log = gw.config_path.parent / "logs" / "main.log"
    seen = drive({
        "mode": "flow",
        "chromium": browser,
        "gateway": gw.url,
        "upstream": mock_upstream.url,
        "key": SECRET,
        "account": ACCOUNT_ID,
        "model": MODEL_CLAUDE,
        "newClientKey": NEW_CLIENT_KEY,
        "newProviderKey": NEW_PROVIDER_KEY,
        "oauthProvider": "codex",
        "oauthRedirect": CODEX_REDIRECT,
        "authAccountPrefix": "auth-dir/",
        "followPath": "/v1/models",
    })
    assert seen["status"] == 200
    assert seen["consoleErrors"] == [], seen["consoleErrors"]  # CSP violations show here too
    assert seen["wrongKeyMessage"] == "invalid management key"
    assert seen["stored"] is True
    assert seen["accounts"] == [ACCOUNT_ID]

    # The key added in the panel is in the file, masked in the page, and serves a request.
    assert NEW_CLIENT_KEY in gw.config_path.read_text()
    assert seen["clientKeys"] == ["****", "sk-a****0001"], seen["clientKeys"]
    assert seen["requestStatus"] == 200
    assert_one_call(mock_upstream, account=ACCT_CLAUDE, path="/v1/messages",
                    client_key=NEW_CLIENT_KEY)
    assert seen["totalRequests"] == "1"
    key_id = "sha256:" + hashlib.sha256(NEW_CLIENT_KEY.encode()).hexdigest()[:12]
    assert seen["usageByKey"] == [[key_id, "1"]], seen["usageByKey"]
    assert seen["chartBars"] == 24
    assert seen["usageByAccount"] == [[ACCOUNT_ID, "1"]], seen["usageByAccount"]

    # A provider key added through the list PUT: the existing key is written back whole.
    text = gw.config_path.read_text()
    assert ACCT_CLAUDE in text and NEW_PROVIDER_KEY in text and "****" not in text, text
    assert seen["providerKeys"] == ["acct****de-1", "sk-a****0002"], seen["providerKeys"]

    assert seen["settingsMessage"] == "Request log on."
    assert "request-log: true" in gw.config_path.read_text()

    # The OAuth login: the panel showed the provider's URL, the provider's pages (login and
    # consent, in a second tab) sent the browser to Codex's loopback callback, whose URL was
    # pasted into the panel; the panel followed the login to its end.
    url = seen["oauthUrl"]
    assert url and url.startswith(f"{oidc.base}/auth?"), seen
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["redirect_uri"] == CODEX_REDIRECT and q["code_challenge_method"] == "S256", q
    redirected = urllib.parse.urlsplit(seen["oauthRedirected"])
    assert redirected.path == "/auth/callback", seen["oauthRedirected"]
    assert dict(urllib.parse.parse_qsl(redirected.query))["state"] == q["state"]
    assert seen["oauthRedirectFailure"] == "net::ERR_NAME_NOT_RESOLVED", seen
    assert seen["oauthStatus"] == "Signed in: the codex account is added.", seen["oauthStatus"]
    assert seen["oauthFlowVisible"] is False
    [auth_file] = sorted(auth_dir.glob("*.json"))
    assert re.fullmatch(r"codex-sub-[0-9a-f]{8}\.json", auth_file.name), auth_file.name
    data = json.loads(auth_file.read_text())
    assert data["type"] == "codex" and data["access_token"], data.keys()
    assert seen["authFiles"] == [auth_file.name], seen["authFiles"]
    # The accounts table: the config's Claude key, the one added in the panel, then the new
    # account (named by its file, as /accounts names an auth-dir account).
    assert seen["accountsAfterLogin"] == [ACCOUNT_ID, "claude-api-key[1]",
                                          f"auth-dir/{auth_file.name}"], seen["accountsAfterLogin"]
    # ... and it serves a Codex request with the token the login got.
    r = http_request("POST", f"{gw.url}/v1/responses",
                     json.dumps({"model": "gpt-5-codex", "input": "hi", "stream": False}).encode(),
                     {"Authorization": f"Bearer {NEW_CLIENT_KEY}",
                      "Content-Type": "application/json"})
    assert r.status == 200, r.body
    assert mock_upstream.journal()[-1]["account"] == data["access_token"]

    # The logs view reads main.log (`logging-to-file: true`) through `/logs`: it holds the
    # access line of the request served with the panel's client key.
    assert seen["logsMessage"] == "", seen["logsMessage"]
    lines = seen["logsText"].splitlines()
    assert any('path="/v1/messages"' in line and "status=200" in line for line in lines), lines
    assert re.fullmatch(r"(the last [\d,]+ of )?[\d,]+ lines", seen["logsHint"]), seen["logsHint"]
    # Following (`?after=`) appends the access line of a request made afterwards, once.
    assert seen["followStatus"] == 200
    followed = seen["followedText"].splitlines()
    assert followed[:len(lines)] == lines, "following replaced the lines already shown"
    assert sum('path="/v1/models"' in line for line in followed) == 1, followed[len(lines):]

    assert seen["storedAfterSignOut"] is False
    # The page, like the API, is not in the access log (records are written by a log thread:
    # wait for the last request's record first); no token reached the log.
    log = wait_until(lambda: 'path="/v1/responses"' in (t := main_log.read_text()) and t, 5,
                     "the access record", gw.proc)
    assert "/management.html" not in log and "/v0/management" not in log
    assert data["access_token"] not in log and data["refresh_token"] not in log
