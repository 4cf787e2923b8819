"""`switchyard login gemini`: the Google OAuth code flow against the test OpenID provider
(tests/oidc/server.mjs), then Code Assist onboarding against the mock's `cloudcode-pa` routes
(`loadCodeAssist`, `onboardUser` polled until done, Cloud Resource Manager's project list at
the same overridden base-url). The saved file is CLIProxyAPI's gemini layout; the gateway then
serves it. The test provider gives no email, so names fall back to a timestamp."""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

from conftest import CLIENT_KEY, free_port, gateway_config, http_request
from test_login_oauth import CLIENT_ID, Browser, Login, auth_files, oidc  # noqa: F401


def write_config(tmp_path: Path, oidc, base_url: str) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join([
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  gemini:",
        f"    auth-url: {oidc.base}/auth",
        f"    token-url: {oidc.base}/token",
        f"    client-id: {CLIENT_ID}",
        f"    base-url: {base_url}",
    ]) + "\n")
    return cfg


def login_gemini(request, tmp_path: Path, oidc, cfg: Path, *args: str) -> tuple[Path, str]:
    port = free_port()
    login = Login(request, tmp_path, cfg, "gemini", "--no-browser", "--callback-port", str(port),
                  *args)
    url = login.read_until(lambda l: l.startswith("http"))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["redirect_uri"] == f"http://localhost:{port}/oauth2callback"
    assert q["access_type"] == "offline" and q["prompt"] == "consent"
    callback = Browser().walk(url, "http://localhost:")
    status, _, page = Browser().fetch(callback.replace("localhost", "127.0.0.1", 1))
    assert status == 200, callback
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    return path, out


def onboarding_calls(mock) -> list[tuple[str, dict]]:
    return [(e["method"] + " " + e["path"], json.loads(e["body"]) if e["body"] else None)
            for e in mock.journal()]


def test_login_gemini_onboards_the_given_project(request, tmp_path, oidc, mock_upstream):
    cfg = write_config(tmp_path, oidc, mock_upstream.url)
    path, out = login_gemini(request, tmp_path, oidc, cfg, "--project-id", "my-proj")
    assert re.fullmatch(r"\d+-my-proj\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["type"] == "gemini" and data["project_id"] == "my-proj"
    assert data["auto"] is False and data["checked"] is True
    token = data["token"]["access_token"]
    assert token and data["token"]["refresh_token"] and data["token"]["expiry"]
    assert "Code Assist project: my-proj" in out
    calls = onboarding_calls(mock_upstream)
    # No project listing when one is named; not onboarded yet, so onboardUser with the default
    # tier, polled until the operation is done.
    assert [c for c, _ in calls] == ["POST /v1internal:loadCodeAssist",
                                     "POST /v1internal:onboardUser",
                                     "POST /v1internal:onboardUser"], calls
    assert calls[0][1]["cloudaicompanionProject"] == "my-proj"
    assert calls[0][1]["metadata"]["pluginType"] == "GEMINI"
    assert calls[1][1]["tierId"] == "free-tier"
    assert calls[1][1]["cloudaicompanionProject"] == "my-proj"
    assert all(e["headers"]["authorization"] == f"Bearer {token}" for e in mock_upstream.journal())


def test_login_gemini_all_projects_in_one_file(request, tmp_path, oidc, mock_upstream):
    cfg = write_config(tmp_path, oidc, mock_upstream.url)
    path, _ = login_gemini(request, tmp_path, oidc, cfg, "--project-id", "ALL")
    assert re.fullmatch(r"\d+-all\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["project_id"] == "mock-project-1,mock-project-2", data
    calls = [c for c, _ in onboarding_calls(mock_upstream)]
    assert calls[0] == "GET /v1/projects", calls
    # The first project onboards the user; the second finds them onboarded.
    assert calls[1:] == ["POST /v1internal:loadCodeAssist", "POST /v1internal:onboardUser",
                         "POST /v1internal:onboardUser", "POST /v1internal:loadCodeAssist"], calls


def test_login_gemini_then_the_gateway_serves_the_account(
        request, tmp_path, oidc, mock_upstream, gateway):
    cfg = write_config(tmp_path, oidc, mock_upstream.url)
    path, _ = login_gemini(request, tmp_path, oidc, cfg)
    data = json.loads(path.read_text())
    # No --project-id: the first listed project, picked automatically.
    assert data["project_id"] == "mock-project-1" and data["auto"] is True
    assert path.name.endswith("-mock-project-1.json"), path.name
    mock_upstream.reset()
    gw = gateway(gateway_config() + cfg.read_text())
    body = json.dumps({"model": "gemini-2.5-flash", "messages": [
        {"role": "user", "content": "MOCK_REPLY[served after login]"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 200, r.body
    assert json.loads(r.body)["choices"][0]["message"]["content"] == "served after login"
    [entry] = mock_upstream.journal()
    assert entry["path"] == "/v1internal:generateContent"
    assert entry["headers"]["authorization"] == f"Bearer {data['token']['access_token']}"
    assert json.loads(entry["body"])["project"] == "mock-project-1"


def test_login_antigravity_onboards_and_the_gateway_sends_its_project(
        request, tmp_path, oidc, mock_upstream, gateway):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join([
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  antigravity:",
        f"    auth-url: {oidc.base}/auth",
        f"    token-url: {oidc.base}/token",
        f"    client-id: {CLIENT_ID}",
        # The first host is the one asked at login; the closed one after it is never used.
        f"    base-url: {mock_upstream.url},http://127.0.0.1:9",
    ]) + "\n")
    port = free_port()
    login = Login(request, tmp_path, cfg, "antigravity", "--no-browser", "--callback-port",
                  str(port))
    url = login.read_until(lambda l: l.startswith("http"))
    assert f"redirect_uri={urllib.parse.quote(f'http://localhost:{port}/oauth-callback', safe='')}" in url
    callback = Browser().walk(url, "http://localhost:")
    status, _, _ = Browser().fetch(callback.replace("localhost", "127.0.0.1", 1))
    assert status == 200, callback
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    assert "Code Assist project: mock-onboarded-project" in out, out
    [path] = auth_files(tmp_path)
    data = json.loads(path.read_text())
    assert data["type"] == "antigravity" and data["project_id"] == "mock-onboarded-project", data
    calls = onboarding_calls(mock_upstream)
    # No project listing; not onboarded yet: onboardUser until done, with Antigravity's ideType.
    assert [c for c, _ in calls] == ["POST /v1internal:loadCodeAssist",
                                     "POST /v1internal:onboardUser",
                                     "POST /v1internal:onboardUser"], calls
    assert calls[0][1]["metadata"]["ideType"] == "ANTIGRAVITY"

    mock_upstream.reset()
    gw = gateway(gateway_config() + cfg.read_text())
    body = json.dumps({"model": "gemini-2.5-flash", "messages": [
        {"role": "user", "content": "MOCK_REPLY[antigravity after login]"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 200, r.body
    assert json.loads(r.body)["choices"][0]["message"]["content"] == "antigravity after login"
    [entry] = mock_upstream.journal()
    assert entry["path"] == "/v1internal:generateContent"
    assert json.loads(entry["body"])["project"] == "mock-onboarded-project"
