"""`switchyard login codex --device` with OpenAI's own device login (not RFC 8628): the user
code from `deviceauth/usercode`, polls of `deviceauth/token` until approved, then the returned
authorization code exchanged with its PKCE verifier and the `deviceauth/callback` redirect URI.
The mock's scripted `/_auth/` routes stand in for auth.openai.com (an override of `device-url`
ending in `/deviceauth/usercode` keeps the OpenAI flow)."""

from __future__ import annotations

import json
import urllib.parse

from test_login_oauth import Login, auth_files


def test_login_codex_device_with_openais_device_login(request, tmp_path, mock_upstream):
    base = f"{mock_upstream.url}/_auth"
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join([
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  codex:",
        f"    device-url: {base}/api/accounts/deviceauth/usercode",
        f"    token-url: {base}/openai/token",
        "    client-id: app_test",
    ]) + "\n")
    login = Login(request, tmp_path, cfg, "codex", "--device")
    assert login.read_until(lambda l: l.startswith("http")) == f"{base}/codex/device"
    assert login.read_until(lambda l: l.startswith("User code:")) == "User code: OPEN-AI42"
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    data = json.loads(path.read_text())
    assert data["type"] == "codex"
    assert (data["access_token"], data["refresh_token"]) == ("at-app_test-1", "rt-app_test-1")

    calls = [(e["path"], e["body"]) for e in mock_upstream.journal()]
    assert [p for p, _ in calls] == ["/_auth/api/accounts/deviceauth/usercode",
                                     "/_auth/api/accounts/deviceauth/token",
                                     "/_auth/api/accounts/deviceauth/token",
                                     "/_auth/openai/token"], calls
    assert json.loads(calls[0][1]) == {"client_id": "app_test"}
    assert json.loads(calls[1][1]) == {"device_auth_id": "da-app_test", "user_code": "OPEN-AI42"}
    form = dict(urllib.parse.parse_qsl(calls[3][1]))
    assert form["grant_type"] == "authorization_code" and form["code"] == "ac-da-app_test"
    assert form["code_verifier"] == "ver-da-app_test"
    assert form["redirect_uri"] == f"{base}/deviceauth/callback"
    assert form["client_id"] == "app_test"
    # No token in what the login printed or logged.
    assert "at-app_test-1" not in out + log
