"""Kimi: `switchyard login kimi` (RFC 8628 device flow) against the mock's scripted device
endpoint, with the `X-Msh-*` device headers on every login request and the device id kept in
the file; then the account serves OpenAI Chat with Bearer and the same device headers. An
expired device code says so and writes nothing. (The `slow_down` interval growth is asserted
with an injected sleeper in tests/mock-upstream/tests/device_slow_down.rs.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openai

from conftest import CLIENT_KEY, gateway_config
from test_login_oauth import Login, auth_files, run_refresh


def kimi_config(tmp_path: Path, mock, client_id: str) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join([
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  kimi:",
        f"    device-url: {mock.url}/_auth/device/code",
        f"    token-url: {mock.url}/_auth/device/token",
        f"    client-id: {client_id}",
        f"    base-url: {mock.url}/v1",
    ]) + "\n")
    return cfg


def test_kimi_login_keeps_the_device_id_and_the_account_serves_chat(
        request, tmp_path, mock_upstream, gateway):
    cfg = kimi_config(tmp_path, mock_upstream, "ok")
    login = Login(request, tmp_path, cfg, "kimi")
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    assert "User code: MOCK-CODE" in out
    [path] = auth_files(tmp_path)
    assert re.fullmatch(r"kimi-\d{13}\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["type"] == "kimi" and data["access_token"] == "at-ok-1"
    assert data["refresh_token"] == "rt-ok-1" and data["token_type"] == "Bearer"
    device_id = data["device_id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", device_id)
    login_calls = mock_upstream.journal()
    assert [e["path"] for e in login_calls] == ["/_auth/device/code", "/_auth/device/token"]
    for e in login_calls:
        assert e["headers"]["x-msh-device-id"] == device_id
        assert e["headers"]["x-msh-platform"] == "cli-proxy-api"
        assert e["headers"]["x-msh-version"] == "1.0.0"
        assert e["headers"]["x-msh-device-model"]

    mock_upstream.reset()
    gw = gateway(gateway_config() + cfg.read_text())
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)
    r = client.chat.completions.create(
        model="kimi-k2", messages=[{"role": "user", "content": "MOCK_REPLY[kimi here]"}])
    assert r.choices[0].message.content == "kimi here"
    [e] = mock_upstream.journal()
    assert (e["path"], e["account"]) == ("/v1/chat/completions", "at-ok-1")
    assert e["headers"]["x-msh-device-id"] == device_id
    assert e["headers"]["x-msh-platform"] == "cli-proxy-api"

    # A refresh carries the same device identity.
    mock_upstream.reset()
    code, log = run_refresh(tmp_path, cfg)
    assert code == 0, log
    [grant] = mock_upstream.journal()
    assert "grant_type=refresh_token" in grant["body"]
    assert grant["headers"]["x-msh-device-id"] == device_id
    after = json.loads(path.read_text())
    assert (after["access_token"], after["device_id"]) == ("at-ok-refreshed-1", device_id)


def test_kimi_expired_device_code_says_so_and_writes_nothing(request, tmp_path, mock_upstream):
    cfg = kimi_config(tmp_path, mock_upstream, "expire")
    code, out, log = Login(request, tmp_path, cfg, "kimi").finish()
    assert code == 1
    assert ("error: kimi login failed: the device code expired before it was approved; "
            "nothing was saved") in log
    assert auth_files(tmp_path) == []
