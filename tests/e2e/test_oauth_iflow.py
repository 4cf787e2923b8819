"""iFlow: `switchyard login iflow` (authorization code on the loopback callback, then the token
endpoint with HTTP Basic client authentication, then the user-info call that returns the API
key) and `--cookie` (a browser cookie exchanged for the key), both against the mock's scripted
iFlow routes; the account serves OpenAI Chat with `Authorization: Bearer <api_key>`, and
`switchyard refresh` re-fetches the key. iFlow's login page is not an OpenID provider (it reads
`redirect`, not `redirect_uri`, and no scope), so the test plays the browser's redirect back to
the callback with the state from the printed URL."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from pathlib import Path

import openai

from conftest import CLIENT_KEY, free_port, gateway_config
from test_login_oauth import Browser, Login, auth_files, run_refresh

SECRET = "s3cret"


def iflow_config(tmp_path: Path, mock, secret: str | None = SECRET) -> Path:
    lines = [
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  iflow:",
        f"    auth-url: {mock.url}/_auth/authorize",
        f"    token-url: {mock.url}/_auth/oauth/token",
        "    client-id: iflow-client",
        f"    base-url: {mock.url}/v1",
    ]
    if secret:
        lines.append(f"    client-secret: {secret}")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def login_iflow(request, tmp_path: Path, cfg: Path) -> tuple[int, str, str]:
    port = free_port()
    login = Login(request, tmp_path, cfg, "iflow", "--no-browser", "--callback-port", str(port))
    url = login.read_until(lambda l: l.startswith("http"))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    redirect = f"http://localhost:{port}/oauth2callback"
    assert (q["loginMethod"], q["type"], q["redirect"]) == ("phone", "phone", redirect)
    assert q["client_id"] == "iflow-client"
    status, _, page = Browser().fetch(
        f"http://127.0.0.1:{port}/oauth2callback?code=code-1&state={urllib.parse.quote(q['state'])}")
    assert status == 200, page
    return login.finish()


def test_iflow_code_login_fetches_the_api_key_serves_chat_and_refresh_refetches_it(
        request, tmp_path, mock_upstream, gateway):
    cfg = iflow_config(tmp_path, mock_upstream)
    code, out, log = login_iflow(request, tmp_path, cfg)
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    assert re.fullmatch(r"iflow-user@iflow\.test-\d{10}\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["type"] == "iflow" and data["email"] == "user@iflow.test"
    assert data["access_token"] == "at-iflow-client-1"
    assert data["api_key"] == "sk-iflow-at-iflow-client-1"
    token_call, info_call = mock_upstream.journal()
    basic = base64.b64encode(f"iflow-client:{SECRET}".encode()).decode()
    assert token_call["headers"]["authorization"] == f"Basic {basic}"
    form = dict(urllib.parse.parse_qsl(token_call["body"]))
    assert form["grant_type"] == "authorization_code" and form["code"] == "code-1"
    assert form["redirect_uri"].endswith("/oauth2callback")
    assert (info_call["path"], info_call["query"]) == (
        "/_auth/api/oauth/getUserInfo", "accessToken=at-iflow-client-1")
    for text in (out, log):
        assert data["api_key"] not in text and data["access_token"] not in text

    mock_upstream.reset()
    gw = gateway(gateway_config() + cfg.read_text())
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)
    r = client.chat.completions.create(
        model="qwen3-coder-plus", messages=[{"role": "user", "content": "MOCK_REPLY[from iflow]"}])
    assert r.choices[0].message.content == "from iflow"
    [e] = mock_upstream.journal()
    assert (e["path"], e["account"]) == ("/v1/chat/completions", "sk-iflow-at-iflow-client-1")

    mock_upstream.reset()
    rc, rlog = run_refresh(tmp_path, cfg)
    assert rc == 0, rlog
    after = json.loads(path.read_text())
    assert after["access_token"] == "at-iflow-client-refreshed-1"
    assert after["api_key"] == "sk-iflow-at-iflow-client-refreshed-1"
    assert [c["path"] for c in mock_upstream.journal()] == [
        "/_auth/oauth/token", "/_auth/api/oauth/getUserInfo"]


def test_iflow_cookie_login_saves_the_full_key_and_only_bxauth(request, tmp_path, mock_upstream):
    cfg = iflow_config(tmp_path, mock_upstream)
    login = Login(request, tmp_path, cfg, "iflow", "--cookie", "lang=zh; BXAuth=bx-secret; other=1")
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    assert re.fullmatch(r"iflow-cookie-user-\d{10}\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["api_key"] == "sk-iflow-from-cookie"
    assert data["cookie"] == "BXAuth=bx-secret;"
    get, post = mock_upstream.journal()
    assert (get["method"], post["method"]) == ("GET", "POST")
    assert json.loads(post["body"]) == {"name": "cookie-user"}
    assert "bx-secret" in get["headers"]["cookie"]


def test_iflow_without_client_secret_says_what_to_set(request, tmp_path, mock_upstream):
    cfg = iflow_config(tmp_path, mock_upstream, secret=None)
    code, out, log = login_iflow(request, tmp_path, cfg)
    assert code == 1
    assert "error: iflow login failed: iflow needs oauth-overrides.iflow.client-secret" in log
    assert auth_files(tmp_path) == []
