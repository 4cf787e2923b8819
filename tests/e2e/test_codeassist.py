"""Gemini CLI and Antigravity OAuth accounts (Google Code Assist, `/v1internal:*`) served by the
gateway: every client protocol (OpenAI Chat, Responses, Anthropic, Gemini) reaches the mock's
Code Assist routes with the account's Bearer token, the envelope (`model`, `project`,
`request`) and the Gemini CLI headers, and gets the mock's text back, stream and non-stream.
A comma-separated `project_id` rotates over its projects; an Antigravity host that answers 503
moves the request to the next host of the same account."""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import openai
import pytest
from google import genai

from conftest import CLIENT_KEY, free_port, gateway_config, http_request

TOKEN = "ya29.gemini-cli-token"
MODEL = "gemini-2.5-pro"
#: In both the Gemini CLI and the Antigravity catalogs.
AG_MODEL = "gemini-2.5-flash"


def write_auth(auth_dir: Path, name: str, kind: str, project: str, token: str = TOKEN) -> None:
    auth_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "type": kind, "email": "user@example.com", "project_id": project,
        "auto": False, "checked": True,
        "token": {"access_token": token, "refresh_token": "1//refresh", "token_type": "Bearer",
                  "expiry": "2099-01-01T00:00:00Z"},
    }
    (auth_dir / name).write_text(json.dumps(record))


def config(tmp_path: Path, provider: str, base_url: str, extra: str = "") -> str:
    return gateway_config(extra=(
        f"auth-dir: {tmp_path / 'auths'}\n"
        "oauth-overrides:\n"
        f"  {provider}:\n"
        f"    base-url: {json.dumps(base_url)}\n" + extra))


@pytest.fixture
def gemini_cli_gw(tmp_path, mock_upstream, gateway):
    write_auth(tmp_path / "auths", "user@example.com-proj-a.json", "gemini", "proj-a")
    return gateway(config(tmp_path, "gemini", mock_upstream.url))


def only_call(mock, path: str) -> dict:
    entries = mock.journal()
    assert len(entries) == 1, entries
    [e] = entries
    assert e["path"] == path, e
    return e


def check_envelope(entry: dict, project: str = "proj-a", token: str = TOKEN) -> dict:
    assert entry["account"] == token
    assert entry["headers"]["authorization"] == f"Bearer {token}"
    assert "x-goog-api-key" not in entry["headers"]
    assert entry["headers"]["user-agent"].startswith(f"GeminiCLI/0.31.0/{MODEL} (")
    assert entry["headers"]["x-goog-api-client"].startswith("google-genai-sdk/")
    assert entry["headers"]["client-metadata"] == \
        "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI"
    body = json.loads(entry["body"])
    assert body["model"] == MODEL and body["project"] == project, body
    assert body["request"]["contents"][-1]["role"] == "user", body
    return body


@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_through_gemini_cli_account(gemini_cli_gw, mock_upstream, stream):
    c = openai.OpenAI(base_url=f"{gemini_cli_gw.url}/v1", api_key=CLIENT_KEY, max_retries=0,
                      timeout=30)
    msgs = [{"role": "user", "content": "MOCK_REPLY[chat via code assist]"}]
    if stream:
        text = "".join(ch.choices[0].delta.content or "" for ch in
                       c.chat.completions.create(model=MODEL, messages=msgs, stream=True)
                       if ch.choices)
    else:
        text = c.chat.completions.create(model=MODEL, messages=msgs).choices[0].message.content
    assert text == "chat via code assist"
    path = "/v1internal:streamGenerateContent" if stream else "/v1internal:generateContent"
    entry = only_call(mock_upstream, path)
    assert entry["query"] == ("alt=sse" if stream else "")
    check_envelope(entry)


@pytest.mark.parametrize("stream", [False, True])
def test_responses_through_gemini_cli_account(gemini_cli_gw, mock_upstream, stream):
    c = openai.OpenAI(base_url=f"{gemini_cli_gw.url}/v1", api_key=CLIENT_KEY, max_retries=0,
                      timeout=30)
    if stream:
        text = "".join(ev.delta for ev in c.responses.create(
            model=MODEL, input="MOCK_REPLY[responses via code assist]", stream=True)
            if ev.type == "response.output_text.delta")
    else:
        text = c.responses.create(model=MODEL, input="MOCK_REPLY[responses via code assist]").output_text
    assert text == "responses via code assist"
    check_envelope(mock_upstream.journal()[-1])


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_through_gemini_cli_account(gemini_cli_gw, mock_upstream, stream):
    c = anthropic.Anthropic(base_url=gemini_cli_gw.url, api_key=CLIENT_KEY, max_retries=0,
                            timeout=30)
    msgs = [{"role": "user", "content": "MOCK_REPLY[messages via code assist]"}]
    if stream:
        with c.messages.stream(model=MODEL, max_tokens=64, messages=msgs) as s:
            text = "".join(s.text_stream)
    else:
        r = c.messages.create(model=MODEL, max_tokens=64, messages=msgs)
        text = "".join(b.text for b in r.content if b.type == "text")
    assert text == "messages via code assist"
    check_envelope(only_call(mock_upstream, "/v1internal:streamGenerateContent" if stream
                             else "/v1internal:generateContent"))


def test_count_tokens_of_both_sdks_come_from_code_assist(gemini_cli_gw, mock_upstream):
    # Anthropic's count_tokens and Gemini's countTokens are counted by the account's
    # `v1internal:countTokens` (Gemini CLI's envelope), not estimated by the gateway: the mock
    # counts a quarter of the body it received.
    c = anthropic.Anthropic(base_url=gemini_cli_gw.url, api_key=CLIENT_KEY, max_retries=0,
                            timeout=30)
    n = c.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "count these words for me"}],
        system="be brief").input_tokens
    entry = only_call(mock_upstream, "/v1internal:countTokens")
    assert entry["account"] == TOKEN
    body = json.loads(entry["body"])
    assert body == {"request": {"model": f"models/{MODEL}", "contents": [
        {"role": "user", "parts": [{"text": "count these words for me"}]}]}}, body
    assert n == entry["body_len"] // 4

    mock_upstream.reset()
    g = genai.Client(api_key=CLIENT_KEY, http_options={
        "base_url": gemini_cli_gw.url, "api_version": "v1beta", "timeout": 30_000})
    total = g.models.count_tokens(model=MODEL, contents="count these words for me").total_tokens
    entry = only_call(mock_upstream, "/v1internal:countTokens")
    assert json.loads(entry["body"])["request"]["contents"] == [
        {"role": "user", "parts": [{"text": "count these words for me"}]}]
    assert total == entry["body_len"] // 4


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_sdk_through_gemini_cli_account(gemini_cli_gw, mock_upstream, stream):
    client = genai.Client(api_key=CLIENT_KEY, http_options={
        "base_url": gemini_cli_gw.url, "api_version": "v1beta", "timeout": 30_000})
    prompt = "MOCK_REPLY[gemini via code assist]"
    if stream:
        text = "".join(ch.text or "" for ch in
                       client.models.generate_content_stream(model=MODEL, contents=prompt))
    else:
        text = client.models.generate_content(model=MODEL, contents=prompt).text
    assert text == "gemini via code assist"
    entry = only_call(mock_upstream, "/v1internal:streamGenerateContent" if stream
                      else "/v1internal:generateContent")
    body = check_envelope(entry)
    assert body["request"]["contents"] == [
        {"role": "user", "parts": [{"text": prompt}]}], body


def test_multi_project_file_rotates_over_its_projects(tmp_path, mock_upstream, gateway):
    write_auth(tmp_path / "auths", "user@example.com-all.json", "gemini-cli", "proj-a, proj-b")
    gw = gateway(config(tmp_path, "gemini", mock_upstream.url))
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}).encode()
    for _ in range(4):
        r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                         {"Authorization": f"Bearer {CLIENT_KEY}",
                          "Content-Type": "application/json"})
        assert r.status == 200, r.body
    projects = [json.loads(e["body"])["project"] for e in mock_upstream.journal()]
    assert sorted(projects) == ["proj-a", "proj-a", "proj-b", "proj-b"], projects
    assert projects[0] != projects[1] and projects[1] != projects[2], projects


def test_gemini_cli_file_without_project_is_not_served(tmp_path, mock_upstream, gateway):
    write_auth(tmp_path / "auths", "user@example.com.json", "gemini", "")
    gw = gateway(config(tmp_path, "gemini", mock_upstream.url))
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 400 and r.json()["error"]["code"] == "model_not_found", r.body
    assert mock_upstream.journal() == []


def test_antigravity_next_host_after_503(tmp_path, mock_upstream, gateway):
    # Two hosts, both the mock (the first under a path prefix the journal tells apart); the
    # first answers 503 once, so the same account's request goes to the second host.
    write_auth(tmp_path / "auths", "antigravity-user@example.com.json", "antigravity", "ag-proj",
               token="ya29.ag")
    mock_upstream.schedule("ya29.ag", [{"status": 503}])
    hosts = f"{mock_upstream.url}/first,{mock_upstream.url}"
    gw = gateway(config(tmp_path, "antigravity", hosts))
    body = json.dumps({"model": AG_MODEL, "messages": [
        {"role": "user", "content": "MOCK_REPLY[from the second host]"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 200, r.body
    assert json.loads(r.body)["choices"][0]["message"]["content"] == "from the second host"
    first, second = mock_upstream.journal()
    assert first["path"] == "/first/v1internal:generateContent", first
    assert first["outcome"] == "status:503", first
    assert second["path"] == "/v1internal:generateContent", second
    env = json.loads(second["body"])
    assert env["model"] == AG_MODEL and env["project"] == "ag-proj"
    assert env["userAgent"] == "antigravity" and env["requestType"] == "agent"
    assert env["requestId"].startswith("agent-")
    assert env["request"]["sessionId"]
    assert "safetySettings" not in env["request"]
    assert second["headers"]["user-agent"].startswith("antigravity/")
    assert second["headers"]["authorization"] == "Bearer ya29.ag"


def test_antigravity_next_host_after_connection_refused(tmp_path, mock_upstream, gateway):
    # The first host refuses connections (a closed loopback port): each request of the account
    # goes on to the next host.
    write_auth(tmp_path / "auths", "antigravity-user@example.com.json", "antigravity", "ag-proj",
               token="ya29.ag")
    port = free_port()
    gw = gateway(config(tmp_path, "antigravity", f"http://127.0.0.1:{port},{mock_upstream.url}"))
    body = json.dumps({"model": AG_MODEL, "messages": [
        {"role": "user", "content": "MOCK_REPLY[after a refused host]"}]}).encode()
    for _ in range(2):
        r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                         {"Authorization": f"Bearer {CLIENT_KEY}",
                          "Content-Type": "application/json"})
        assert r.status == 200, r.body
        assert json.loads(r.body)["choices"][0]["message"]["content"] == "after a refused host"
    assert [e["path"] for e in mock_upstream.journal()] == ["/v1internal:generateContent"] * 2
