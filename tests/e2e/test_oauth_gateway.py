"""OAuth accounts from auth-dir served by the gateway. The issue's "done when": `switchyard login codex --no-browser` against the test OpenID
provider, then the gateway serves a Responses request from that OAuth account; it reaches the
mock with the account's current access token (and the originator header), and after
`switchyard refresh` rotates the tokens the next request carries the new one without a
restart. Also: an upstream 401 refreshes once and retries; a Qwen login serves Chat
Completions."""

from __future__ import annotations

import json
import urllib.request

from conftest import CLIENT_KEY, gateway_config, http_request, wait_until
from test_login_oauth import login_codex, oidc, run_refresh, write_config  # noqa: F401


def responses_request(gw) -> int:
    body = json.dumps({"model": "gpt-5-codex", "input": "hi", "stream": False}).encode()
    r = http_request("POST", f"{gw.url}/v1/responses", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    return r.status


def test_codex_oauth_account_serves_requests_with_its_current_token(
        request, tmp_path, oidc, mock_upstream, gateway):
    cfg = write_config(tmp_path, oidc, base_url=f"{mock_upstream.url}/v1")
    path, _ = login_codex(request, tmp_path, oidc, cfg)
    first = json.loads(path.read_text())["access_token"]

    gw = gateway(gateway_config() + cfg.read_text())
    body = json.dumps({"model": "gpt-5-codex", "input": "MOCK_REPLY[from chatgpt]",
                       "stream": False}).encode()
    r = http_request("POST", f"{gw.url}/v1/responses", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 200, r.body
    [entry] = mock_upstream.journal()
    assert entry["path"] == "/v1/responses"
    assert entry["account"] == first
    assert entry["headers"].get("originator") == "codex_cli_rs"
    # The ChatGPT backend only streams: the non-stream request went up as a stream and the
    # client got one aggregated Responses object.
    assert entry["stream"] is True
    answer = json.loads(r.body)
    assert answer["object"] == "response", answer
    texts = [c["text"] for item in answer["output"] if item["type"] == "message"
             for c in item["content"] if c["type"] == "output_text"]
    assert texts == ["from chatgpt"], answer

    code, log = run_refresh(tmp_path, cfg)
    assert code == 0, log
    second = json.loads(path.read_text())["access_token"]
    assert second != first

    # The gateway re-reads auth-dir on its refresh tick: poll until a request carries the new
    # token; every request in between carried the old one.
    def uses_new_token():
        assert responses_request(gw) == 200
        return mock_upstream.journal()[-1]["account"] == second

    wait_until(uses_new_token, 20, "a request with the refreshed token", gw.proc, interval=0.2)
    accounts = [e["account"] for e in mock_upstream.journal()]
    assert set(accounts) == {first, second}
    assert accounts[-1] == second
    # The gateway's log (login, serving, reload) never shows a token.
    log = gw.log_text()
    for token in (first, second):
        assert token not in log


def test_upstream_401_refreshes_once_and_retries_the_same_account(
        request, tmp_path, oidc, mock_upstream, gateway):
    cfg = write_config(tmp_path, oidc, base_url=f"{mock_upstream.url}/v1")
    path, _ = login_codex(request, tmp_path, oidc, cfg)
    first = json.loads(path.read_text())
    gw = gateway(gateway_config() + cfg.read_text())
    # The upstream rejects the current token once (as if it had been revoked early).
    mock_upstream.schedule(first["access_token"], [{"status": 401}])
    assert responses_request(gw) == 200
    after = json.loads(path.read_text())
    assert after["access_token"] != first["access_token"]
    assert after["refresh_token"] != first["refresh_token"]
    calls = [(e["account"], e["outcome"]) for e in mock_upstream.journal()]
    assert [a for a, _ in calls] == [first["access_token"], after["access_token"]], calls
    # The account did not go into cooldown: the next request goes straight to it.
    assert responses_request(gw) == 200
    assert [e["account"] for e in mock_upstream.journal()][-1] == after["access_token"]
    assert len(mock_upstream.journal()) == 3


def test_qwen_oauth_account_serves_chat_completions(request, tmp_path, oidc, mock_upstream, gateway):
    from test_login_oauth import login_qwen

    cfg = write_config(tmp_path, oidc, base_url=f"{mock_upstream.url}/v1")
    path = login_qwen(request, tmp_path, oidc, cfg)
    token = json.loads(path.read_text())["access_token"]
    gw = gateway(gateway_config() + cfg.read_text())
    body = json.dumps({"model": "qwen3-coder-plus", "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 200, r.body
    [entry] = mock_upstream.journal()
    assert (entry["path"], entry["account"]) == ("/v1/chat/completions", token)
    # Qwen Code's own OAuth headers (its DashScope provider), whatever the client sent.
    h = entry["headers"]
    assert h["x-dashscope-authtype"] == "qwen-oauth", h
    assert h["x-dashscope-cachecontrol"] == "enable", h
    assert h["user-agent"].startswith("QwenCode/0.15.10 ("), h
    assert h["x-dashscope-useragent"] == h["user-agent"], h


def test_an_account_whose_refresh_token_was_revoked_is_reported_as_needing_a_login(
        request, tmp_path, oidc, mock_upstream, gateway):
    """Not 429 "cooling down" for 30 minutes: the client is told the account needs a new
    login, and the gateway stops sending it requests that can only earn a 401."""
    cfg = write_config(tmp_path, oidc, base_url=f"{mock_upstream.url}/v1")
    path, _ = login_codex(request, tmp_path, oidc, cfg)
    tokens = json.loads(path.read_text())
    gw = gateway(gateway_config() + cfg.read_text())
    assert oidc.revoke(tokens["refresh_token"]) == 200
    # The upstream rejects the access token; the refresh that follows is refused. The request
    # is not sent again without a token: the client learns that a login is needed.
    mock_upstream.schedule(tokens["access_token"], [], {"status": 401})
    for _ in range(3):
        body = json.dumps({"model": "gpt-5-codex", "input": "hi", "stream": False}).encode()
        r = http_request("POST", f"{gw.url}/v1/responses", body,
                         {"Authorization": f"Bearer {CLIENT_KEY}",
                          "Content-Type": "application/json"})
        assert r.status == 503, r.body
        err = json.loads(r.body)["error"]
        assert err["code"] == "login_required", err
        assert "needs a new login" in err["message"] and "invalid_grant" in err["message"], err
        assert "retry-after" not in r.headers
    calls = [(e["account"], e["outcome"]) for e in mock_upstream.journal()]
    assert calls == [(tokens["access_token"], "status:401")], calls
