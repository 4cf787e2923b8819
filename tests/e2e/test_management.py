"""The management API (`/v0/management`) over HTTP against the real gateway and the mock
upstream: CLIProxyAPI's auth rules and ban, the routes' shapes, writes that keep the operator's
config.yaml (comments and key order) and take effect on the next request, bad input refused
with nothing changed, and a hand edit of config.yaml applied without a restart.

Remote callers are simulated from 127.0.0.2: CLIProxyAPI (and Switchyard) treat only
127.0.0.1 and ::1 as local."""

from __future__ import annotations

import http.client
import json
import os
import time

from conftest import (ACCT_CLAUDE, CLIENT_KEY, MODEL_CLAUDE, Account, gateway_config,
                      http_request, wait_until)

SECRET = "mgmt-secret-1"
HEADER = "# the build box's gateway\n"
MGMT = f"""remote-management:
  # the panel's password
  secret-key: "{SECRET}"
usage-statistics-enabled: true
"""


def mgmt(gw, method: str, path: str, body=None, key: str | None = SECRET,
         source: str | None = None, header: str = "authorization"):
    """One management call; returns (status, parsed JSON or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30,
                                      source_address=(source, 0) if source else None)
    headers = {}
    if key is not None:
        headers[header] = f"Bearer {key}" if header == "authorization" else key
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["content-type"] = "application/json"
    try:
        conn.request(method, "/v0/management" + path, body=data, headers=headers)
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    try:
        return r.status, json.loads(raw)
    except ValueError:
        return r.status, raw.decode()


def message(gw, key: str = CLIENT_KEY):
    body = json.dumps({"model": MODEL_CLAUDE, "max_tokens": 16,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http_request("POST", f"{gw.url}/v1/messages", body,
                        {"x-api-key": key, "anthropic-version": "2023-06-01",
                         "content-type": "application/json"})


def start(gateway, mock, extra: str = MGMT, env=None):
    text = HEADER + gateway_config(
        claude=[Account(ACCT_CLAUDE, mock.url, [(MODEL_CLAUDE, "")])], extra=extra)
    return gateway(text, env=env)


def test_routes_are_404_without_a_secret(mock_upstream, gateway):
    gw = start(gateway, mock_upstream, extra="")
    assert mgmt(gw, "GET", "/config") == (404, {"error": "not found"})
    assert mgmt(gw, "GET", "/debug", key=None) == (404, {"error": "not found"})


def test_management_password_from_the_environment(mock_upstream, gateway):
    gw = start(gateway, mock_upstream, extra="", env={"MANAGEMENT_PASSWORD": "env-pw"})
    assert mgmt(gw, "GET", "/debug", key="env-pw") == (200, {"debug": False})
    assert mgmt(gw, "GET", "/debug", key="nope") == (401, {"error": "invalid management key"})


def test_auth_rules_and_the_secret_is_hashed_in_place(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    text = gw.config_path.read_text()
    assert SECRET not in text
    assert '  # the panel\'s password\n  secret-key: "$2' in text, text
    assert text.startswith(HEADER)

    assert mgmt(gw, "GET", "/debug", key=None) == (401, {"error": "missing management key"})
    assert mgmt(gw, "GET", "/debug", key="wrong") == (401, {"error": "invalid management key"})
    assert mgmt(gw, "GET", "/debug") == (200, {"debug": False})
    assert mgmt(gw, "GET", "/debug", header="x-management-key") == (200, {"debug": False})
    # Another address is remote: refused whatever the key.
    assert mgmt(gw, "GET", "/debug", source="127.0.0.2") == (
        403, {"error": "remote management disabled"})
    # Nothing of it in the logs.
    assert message(gw).status == 200
    # The access line is written off the request path (batched): wait for it.
    wait_until(lambda: "/v1/messages" in gw.log_text(), 5.0, "the access line", gw.proc)
    log = gw.log_text()
    assert "/v0/management" not in log, log


def test_five_failures_ban_a_remote_address(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    # allow-remote through the API itself (from loopback).
    text = gw.config_path.read_text().replace(
        "  # the panel's password\n", "  allow-remote: true\n  # the panel's password\n")
    assert mgmt(gw, "PUT", "/config.yaml", text.encode())[0] == 200
    assert mgmt(gw, "GET", "/debug", source="127.0.0.2") == (200, {"debug": False})
    for _ in range(5):
        assert mgmt(gw, "GET", "/debug", key="bad", source="127.0.0.2")[0] == 401
    status, body = mgmt(gw, "GET", "/debug", source="127.0.0.2")
    assert status == 403, body
    assert body["error"].startswith("IP banned due to too many failed attempts"), body
    assert mgmt(gw, "GET", "/debug") == (200, {"debug": False}), "loopback is not banned"


def test_scalar_settings_edit_one_line_and_bad_input_changes_nothing(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    before = gw.config_path.read_text()
    assert mgmt(gw, "PUT", "/debug", {"value": True}) == (200, {"status": "ok"})
    assert mgmt(gw, "GET", "/debug") == (200, {"debug": True})
    after = gw.config_path.read_text()
    assert after == before + "debug: true\n"
    assert mgmt(gw, "PATCH", "/debug", {"value": False}) == (200, {"status": "ok"})
    assert gw.config_path.read_text() == before + "debug: false\n"

    assert mgmt(gw, "PUT", "/routing/strategy", {"value": "fill-first"}) == (200, {"status": "ok"})
    assert mgmt(gw, "GET", "/routing/strategy") == (200, {"strategy": "fill-first"})
    assert mgmt(gw, "PUT", "/request-retry", {"value": 3}) == (200, {"status": "ok"})
    assert mgmt(gw, "GET", "/request-retry") == (200, {"request-retry": 3})
    assert mgmt(gw, "PUT", "/proxy-url", {"value": "socks5://u:pw@127.0.0.1:1080"})[0] == 200
    assert mgmt(gw, "GET", "/proxy-url") == (200, {"proxy-url": "socks5://u:****@127.0.0.1:1080"})
    assert mgmt(gw, "DELETE", "/proxy-url") == (200, {"status": "ok"})
    assert mgmt(gw, "GET", "/proxy-url") == (200, {"proxy-url": ""})
    good = gw.config_path.read_text()

    assert mgmt(gw, "PUT", "/debug", {"value": "yes"}) == (400, {"error": "value: expected a boolean"})
    assert mgmt(gw, "PUT", "/request-retry", {"value": -1}) == (
        400, {"error": "value: expected an integer >= 0"})
    status, body = mgmt(gw, "PUT", "/debug", {"value": True, "extra": 1})
    assert status == 400 and "unknown field `extra`" in body["error"], body
    status, body = mgmt(gw, "PUT", "/debug", b"{not json")
    assert status == 400 and body["error"].startswith("invalid body"), body
    status, body = mgmt(gw, "PUT", "/routing/strategy", {"value": "bogus"})
    assert status == 400 and body["problems"][0].startswith("routing.strategy: "), body
    assert gw.config_path.read_text() == good, "nothing written"
    assert mgmt(gw, "GET", "/routing/strategy") == (200, {"strategy": "fill-first"})


def test_a_client_key_added_through_the_api_serves_the_next_request(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    assert message(gw, "sk-new-team-key").status == 401
    assert mgmt(gw, "PATCH", "/api-keys", {"old": "absent", "new": "sk-new-team-key"}) == (
        200, {"status": "ok"})
    assert message(gw, "sk-new-team-key").status == 200
    assert mgmt(gw, "GET", "/api-keys") == (200, {"api-keys": ["****", "sk-n****-key"]})
    assert mgmt(gw, "DELETE", "/api-keys?index=5") == (
        400, {"error": "index 5 out of range (2 items)"})
    assert mgmt(gw, "DELETE", "/api-keys?value=sk-new-team-key") == (200, {"status": "ok"})
    assert message(gw, "sk-new-team-key").status == 401
    text = gw.config_path.read_text()
    assert text.startswith(HEADER) and "api-keys:\n  - sk-client\n" in text, text


def test_provider_keys_list_replace_patch_and_delete(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    status, body = mgmt(gw, "GET", "/claude-api-key")
    assert status == 200
    assert body == {"claude-api-key": [{"api-key": "acct****de-1", "base-url": mock_upstream.url,
                                        "models": [{"name": MODEL_CLAUDE, "alias": ""}]}]}
    # The masked key sent back stays the real key; a second account is added.
    entries = body["claude-api-key"] + [{"api-key": "acct-claude-new", "base-url": mock_upstream.url,
                                         "models": [{"name": MODEL_CLAUDE, "alias": ""}]}]
    assert mgmt(gw, "PUT", "/claude-api-key", entries) == (200, {"status": "ok"})
    assert ACCT_CLAUDE in gw.config_path.read_text()
    assert mgmt(gw, "PATCH", "/claude-api-key", {"index": 0, "value": {"priority": -1}}) == (
        200, {"status": "ok"})
    mock_upstream.reset()
    assert message(gw).status == 200
    assert mock_upstream.journal()[-1]["account"] == "acct-claude-new"

    assert mgmt(gw, "PATCH", "/claude-api-key", {"index": 9, "value": {}}) == (
        400, {"error": "index 9 out of range (2 items)"})
    status, body = mgmt(gw, "PATCH", "/claude-api-key", {"index": 0, "value": {"base-urll": "x"}})
    assert status == 400 and "did you mean base-url" in body["error"], body
    status, body = mgmt(gw, "PUT", "/claude-api-key", [{"api-key": "k", "base-url": "ftp://x"}])
    assert status == 400 and body["problems"][0].startswith("claude-api-key[0].base-url"), body
    assert mgmt(gw, "DELETE", "/claude-api-key?api-key=acct-claude-new") == (200, {"status": "ok"})
    mock_upstream.reset()
    assert message(gw).status == 200
    assert mock_upstream.journal()[-1]["account"] == ACCT_CLAUDE


def test_config_and_config_yaml(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    status, cfg = mgmt(gw, "GET", "/config")
    assert status == 200
    assert cfg["api-keys"] == ["****"] and cfg["claude-api-key"][0]["api-key"] == "acct****de-1"
    assert cfg["remote-management"]["secret-key"].startswith("$2")
    assert cfg["remote-management"]["secret-key"].count("*") == 4

    status, text = mgmt(gw, "GET", "/config.yaml")
    assert status == 200 and text == gw.config_path.read_text()
    status, body = mgmt(gw, "PUT", "/config.yaml", b"port: [1\n")
    assert status == 400 and body["error"] == "invalid_yaml", body
    status, body = mgmt(gw, "PUT", "/config.yaml", (text + "debgu: true\nrequest-retry: -2\n").encode())
    assert status == 422 and body["error"] == "invalid_config", body
    assert len(body["problems"]) == 2, body
    assert sorted(p.split(":")[0] for p in body["problems"]) == ["debgu", "request-retry"], body
    assert "did you mean debug?" in body["message"], body
    assert gw.config_path.read_text() == text, "a refused PUT writes nothing"

    new = text.replace("api-keys: [\"sk-client\"]", "api-keys: [\"sk-client\", \"sk-put\"]")
    assert new != text
    assert mgmt(gw, "PUT", "/config.yaml", new.encode()) == (
        200, {"ok": True, "changed": ["config"], "restart-required": []})
    assert message(gw, "sk-put").status == 200
    status, body = mgmt(gw, "PUT", "/config.yaml", new.replace("port:", "port: 1\n#").encode())
    assert status == 200 and body["restart-required"] == ["port"], body


def test_a_hand_edit_is_applied_without_a_restart(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    text = gw.config_path.read_text()
    broken = text + "request-retry: nope\n"
    gw.config_path.write_text(broken)
    wait_until(lambda: "request-retry: expected an integer" in gw.log_text(), 5.0,
               "the broken edit to be reported", gw.proc)
    assert message(gw).status == 200, "the last good config stays"
    started = time.monotonic()
    gw.config_path.write_text(text.replace('api-keys: ["sk-client"]',
                                           'api-keys: ["sk-client", "sk-hand"]'))
    wait_until(lambda: message(gw, "sk-hand").status == 200, 2.0, "the hand edit", gw.proc)
    assert time.monotonic() - started < 2.0


def test_auth_files_upload_list_status_download_delete(tmp_path, mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    doc = {"type": "codex", "access_token": "tok-x", "email": "a@example.com"}
    raw = json.dumps(doc).encode()
    for name in ("../x.json", "/etc/x.json", "x.txt", ".hidden.json", "a%00b.json"):
        status, body = mgmt(gw, "POST", f"/auth-files?name={name}", raw)
        assert status == 400 and body["error"].startswith("invalid name"), (name, body)
    status, body = mgmt(gw, "POST", "/auth-files?name=x.json", b'{"type": "nope"}')
    assert (status, body) == (400, {"error": 'invalid auth file: unknown type "nope"'})
    status, body = mgmt(gw, "POST", "/auth-files?name=x.json", b"[1]")
    assert status == 400 and body["error"].startswith("invalid auth file: not a JSON object")

    assert mgmt(gw, "POST", "/auth-files?name=codex-a.json", raw) == (200, {"status": "ok"})
    auth_dir = gw.config_path.parent / ".cli-proxy-api"
    assert oct(os.stat(auth_dir / "codex-a.json").st_mode & 0o777) == "0o600"
    status, body = mgmt(gw, "GET", "/auth-files")
    assert status == 200
    [f] = body["files"]
    assert {k: f[k] for k in ("name", "type", "email", "disabled", "account_type", "status")} == {
        "name": "codex-a.json", "type": "codex", "email": "a@example.com", "disabled": False,
        "account_type": "oauth", "status": "active"}
    assert mgmt(gw, "GET", "/auth-files/download?name=codex-a.json") == (200, doc)
    assert mgmt(gw, "PATCH", "/auth-files/status", {"name": "codex-a.json", "disabled": True}) == (
        200, {"status": "ok", "disabled": True})
    assert mgmt(gw, "GET", "/auth-files")[1]["files"][0]["status"] == "disabled"
    assert json.loads((auth_dir / "codex-a.json").read_text())["disabled"] is True
    assert mgmt(gw, "DELETE", "/auth-files?name=codex-a.json") == (200, {"status": "ok"})
    assert mgmt(gw, "GET", "/auth-files/download?name=codex-a.json") == (
        404, {"error": "file not found"})


def test_accounts_and_usage(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    assert message(gw).status == 200
    status, body = mgmt(gw, "GET", "/accounts")
    assert status == 200
    [a] = body["accounts"]
    assert {k: a[k] for k in ("id", "provider", "kind", "state", "requests", "failures",
                              "last_status", "cooldowns")} == {
        "id": "claude-api-key[0]", "provider": "claude", "kind": "api-key", "state": "active",
        "requests": 1, "failures": 0, "last_status": 200, "cooldowns": []}
    assert a["last_used"].endswith("Z")
    status, usage = mgmt(gw, "GET", "/usage")
    assert status == 200 and usage["usage"]["total_requests"] == 1, usage
    assert usage["failed_requests"] == 0
    status, export = mgmt(gw, "GET", "/usage/export")
    assert status == 200 and export["version"] == 1
    status, report = mgmt(gw, "POST", "/usage/import", export)
    assert status == 200 and report["added"] == 0 and report["skipped"] >= 1, report
    assert mgmt(gw, "GET", "/nope") == (404, {"error": "not found"})
    assert mgmt(gw, "DELETE", "/config") == (405, {"error": "method not allowed"})
