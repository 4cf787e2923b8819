"""Claude OAuth accounts: `switchyard login claude` against the test OpenID provider (which
only takes form-encoded token requests, so the JSON token request falls back), then the
gateway serves Anthropic and OpenAI clients from that account the way Claude Code reaches a
subscription: `/v1/messages?beta=true`, Bearer token, the OAuth beta merged with the client's,
Claude Code's identity headers and system line for other clients, and a real Claude Code
client's request left as it was."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from pathlib import Path

import anthropic
import openai

from cli_helpers import check_exit_and_stdout, run_claude
from conftest import CLIENT_KEY, free_port, gateway_config, http_request
from test_login_oauth import CLIENT_ID, Browser, Login, auth_files, oidc, run_refresh  # noqa: F401

IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude."
BASE_BETAS = ["claude-code-20250219", "oauth-2025-04-20", "interleaved-thinking-2025-05-14",
              "fine-grained-tool-streaming-2025-05-14"]
USER_ID = re.compile(r"user_[0-9a-f]{64}_account__session_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}")


def claude_config(tmp_path: Path, oidc, base_url: str) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join([
        f"auth-dir: {tmp_path / 'auths'}",
        "oauth-overrides:",
        "  claude:",
        f"    auth-url: {oidc.base}/auth",
        f"    token-url: {oidc.base}/token",
        f"    client-id: {CLIENT_ID}",
        f"    base-url: {base_url}",
    ]) + "\n")
    return cfg


def login_claude(request, tmp_path: Path, oidc, cfg: Path, *, hash_state: bool = False) -> Path:
    port = free_port()
    login = Login(request, tmp_path, cfg, "claude", "--no-browser", "--callback-port", str(port))
    url = login.read_until(lambda l: l.startswith("http"))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["code"] == "true" and q["code_challenge_method"] == "S256"
    assert q["redirect_uri"] == f"http://localhost:{port}/callback"
    callback = Browser().walk(url, "http://localhost:")
    parts = urllib.parse.urlsplit(callback)
    cq = dict(urllib.parse.parse_qsl(parts.query))
    assert "code" in cq, callback
    if hash_state:
        # Claude's page hands back `code#state`: the state half is checked, then dropped.
        cq["code"] = f"{cq['code']}#{cq['state']}"
    target = f"http://127.0.0.1:{port}{parts.path}?{urllib.parse.urlencode(cq)}"
    status, _, page = Browser().fetch(target)
    assert status == 200, page
    code, out, log = login.finish()
    assert code == 0, f"{out}\n{log}"
    [path] = auth_files(tmp_path)
    return path


def test_login_claude_accepts_code_hash_state_saves_a_claude_file_and_refreshes(request, tmp_path, oidc):
    cfg = claude_config(tmp_path, oidc, "http://127.0.0.1:9")
    path = login_claude(request, tmp_path, oidc, cfg, hash_state=True)
    # No email in this provider's answer (Claude's names `account.email_address`) and no
    # id_token without `openid`: the time-stamped fallback name.
    assert re.fullmatch(r"claude-\d{13}\.json", path.name), path.name
    data = json.loads(path.read_text())
    assert data["type"] == "claude"
    for k in ("access_token", "refresh_token", "expired", "last_refresh"):
        assert data[k], k
    # Refresh goes through the same JSON-then-form token request and rotates both tokens.
    code, log = run_refresh(tmp_path, cfg)
    assert code == 0, log
    after = json.loads(path.read_text())
    assert after["access_token"] != data["access_token"]
    assert after["refresh_token"] != data["refresh_token"]


def _gateway(request, tmp_path, oidc, mock_upstream, gateway):
    cfg = claude_config(tmp_path, oidc, mock_upstream.url)
    path = login_claude(request, tmp_path, oidc, cfg)
    token = json.loads(path.read_text())["access_token"]
    gw = gateway(gateway_config() + cfg.read_text())
    return gw, token


def _betas(entry) -> list[str]:
    return entry["headers"]["anthropic-beta"].split(",")


def test_claude_oauth_serves_anthropic_sdk_cloaked_as_claude_code(
        request, tmp_path, oidc, mock_upstream, gateway):
    gw, token = _gateway(request, tmp_path, oidc, mock_upstream, gateway)
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=60)
    msg = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=64, system="Answer tersely.",
        messages=[{"role": "user", "content": "MOCK_REPLY[subscription ok]"}],
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"})
    assert msg.content[0].text == "subscription ok"
    count = client.messages.count_tokens(
        model="claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}])
    assert count.input_tokens > 0
    with client.messages.stream(
            model="claude-sonnet-4-5", max_tokens=64,
            messages=[{"role": "user", "content": "MOCK_REPLY[streamed from the subscription]"}]) as s:
        assert s.get_final_text() == "streamed from the subscription"

    sent, counted, streamed = mock_upstream.journal()
    assert (streamed["query"], streamed["stream"], streamed["account"]) == ("beta=true", True, token)
    assert json.loads(streamed["body"])["system"] == [{"type": "text", "text": IDENTITY}]
    assert (sent["path"], sent["query"]) == ("/v1/messages", "beta=true")
    assert (counted["path"], counted["query"]) == ("/v1/messages/count_tokens", "beta=true")
    for e in (sent, counted):
        assert e["headers"]["authorization"] == f"Bearer {token}"
        assert "x-api-key" not in e["headers"]
        assert e["account"] == token
        assert e["headers"]["anthropic-version"] == "2023-06-01"
        assert e["headers"]["user-agent"] == "claude-cli/2.1.81 (external, cli)"
        assert e["headers"]["x-app"] == "cli"
        assert e["headers"]["anthropic-dangerous-direct-browser-access"] == "true"
        assert e["headers"]["x-stainless-lang"] == "js"
        assert "x-stainless-async" not in e["headers"]
    assert _betas(sent) == BASE_BETAS + ["context-1m-2025-08-07"]
    body = json.loads(sent["body"])
    assert body["system"] == [{"type": "text", "text": IDENTITY},
                              {"type": "text", "text": "Answer tersely."}]
    assert USER_ID.fullmatch(body["metadata"]["user_id"]), body["metadata"]
    assert body["messages"] == [{"role": "user", "content": "MOCK_REPLY[subscription ok]"}]
    assert token not in gw.log_text()
    counted_body = json.loads(counted["body"])
    assert counted_body["system"] == [{"type": "text", "text": IDENTITY}]
    assert "metadata" not in counted_body


def test_claude_code_request_passes_unchanged_but_with_the_oauth_credential(
        request, tmp_path, oidc, mock_upstream, gateway):
    gw, token = _gateway(request, tmp_path, oidc, mock_upstream, gateway)
    body = json.dumps({
        "model": "claude-sonnet-4-5", "max_tokens": 32, "stream": False,
        "system": [{"type": "text", "text": "My own system."}],
        "metadata": {"user_id": "user_abc_account__session_x"},
        "messages": [{"role": "user", "content": "MOCK_REPLY[hello cc]"}],
    }, separators=(",", ":")).encode()
    r = http_request("POST", f"{gw.url}/v1/messages?beta=true", body, {
        "Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json",
        "User-Agent": "claude-cli/2.0.14 (external, cli)", "x-app": "cli",
        "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219,custom-beta-1",
        "x-stainless-lang": "js", "x-stainless-os": "Linux"})
    assert r.status == 200, r.body
    assert json.loads(r.body)["content"][0]["text"] == "hello cc"
    [e] = mock_upstream.journal()
    assert (e["path"], e["query"]) == ("/v1/messages", "beta=true")
    assert e["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert e["headers"]["authorization"] == f"Bearer {token}"
    assert e["headers"]["user-agent"] == "claude-cli/2.0.14 (external, cli)"
    assert e["headers"]["x-stainless-os"] == "Linux"
    assert _betas(e) == BASE_BETAS + ["custom-beta-1"]


def test_openai_client_reaches_the_claude_subscription_through_the_ir(
        request, tmp_path, oidc, mock_upstream, gateway):
    gw, token = _gateway(request, tmp_path, oidc, mock_upstream, gateway)
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)
    out = client.chat.completions.create(
        model="claude-sonnet-4-5",
        messages=[{"role": "system", "content": "Be kind."},
                  {"role": "user", "content": "MOCK_REPLY[via chat]"}])
    assert out.choices[0].message.content == "via chat"
    [e] = mock_upstream.journal()
    assert (e["path"], e["query"], e["account"]) == ("/v1/messages", "beta=true", token)
    assert "x-api-key" not in e["headers"]
    assert _betas(e) == BASE_BETAS
    body = json.loads(e["body"])
    assert body["system"][0] == {"type": "text", "text": IDENTITY}
    assert [b["text"] for b in body["system"][1:]] == ["Be kind."]
    assert USER_ID.fullmatch(body["metadata"]["user_id"])


def test_real_claude_code_reaches_the_subscription_with_its_own_request(
        request, tmp_path, oidc, mock_upstream, gateway):
    gw, token = _gateway(request, tmp_path, oidc, mock_upstream, gateway)
    text = "Claude Code on a subscription"
    p = run_claude(gw.url, CLIENT_KEY, f"Reply with exactly this. MOCK_REPLY[{text}]",
                   tmp_path / "home")
    check_exit_and_stdout(p, text)
    [e] = [e for e in mock_upstream.journal() if e["method"] == "POST"]
    assert (e["path"], e["query"], e["account"]) == ("/v1/messages", "beta=true", token)
    assert e["headers"]["authorization"] == f"Bearer {token}"
    assert "x-api-key" not in e["headers"]
    assert e["headers"]["user-agent"].startswith("claude-cli/")
    assert "claude-cli/2.1.81" not in e["headers"]["user-agent"]
    betas = _betas(e)
    assert betas[:len(BASE_BETAS)] == BASE_BETAS and len(betas) > len(BASE_BETAS)
    # Its own identity headers stay (ours would say MacOS/arm64); its ~115 KB body is past the
    # journal's text limit, so byte-for-byte passthrough of a Claude Code body is asserted by
    # the hand-built request above.
    assert e["headers"]["x-stainless-package-version"] != "0.74.0"
    assert "x-claude-code-session-id" in e["headers"]
