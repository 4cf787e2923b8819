"""The local Gemini CLI endpoint (`enable-gemini-cli-endpoint: true`): `POST
/v1internal:{generateContent,streamGenerateContent,countTokens}` in Code Assist's envelope is
served from the pool like a Gemini request for the envelope's model, the answer wrapped back in
`{"response": ...}`; Gemini CLI's account calls are answered by the gateway. Off by default:
403 in Gemini's error shape, nothing sent upstream. The real Gemini CLI, in its Google-login
mode, is served end to end."""

from __future__ import annotations

import json

import pytest

from cli_helpers import GEMINI_BIN, check_printed, cli_env, client_requests, run_cli
from conftest import (ACCT_CLAUDE, ACCT_GEMINI, MODEL_CLAUDE, MODEL_GEMINI, Account,
                      gateway_config, http_request, need_tool)


@pytest.fixture
def local_gw(mock_upstream, gateway):
    return gateway(gateway_config(
        gemini=[Account(ACCT_GEMINI, mock_upstream.url, [(MODEL_GEMINI, "")])],
        claude=[Account(ACCT_CLAUDE, mock_upstream.url, [(MODEL_CLAUDE, "")])],
        extra="enable-gemini-cli-endpoint: true"))


def envelope(model: str, text: str) -> bytes:
    return json.dumps({"model": model, "project": "user-project", "request": {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {"temperature": 0.2}}}).encode()


def post(gw, path: str, body: bytes):
    # No API key: the endpoint serves loopback callers (Gemini CLI sends its Google token).
    return http_request("POST", f"{gw.url}{path}", body,
                        {"Content-Type": "application/json",
                         "Authorization": "Bearer ya29.google-token-of-the-cli"})


def sse_data(body: bytes) -> list[dict]:
    text = body.decode().replace("\r\n", "\n")
    return [json.loads(block[len("data: "):]) for block in text.split("\n\n")
            if block.startswith("data: ")]


def test_generate_content_is_served_from_the_pool_and_wrapped(local_gw, mock_upstream):
    r = post(local_gw, "/v1internal:generateContent", envelope(MODEL_GEMINI, "MOCK_REPLY[local cli]"))
    assert r.status == 200, r.body
    answer = json.loads(r.body)
    assert set(answer) == {"response"}, answer
    parts = answer["response"]["candidates"][0]["content"]["parts"]
    assert "".join(p.get("text", "") for p in parts) == "local cli"
    [entry] = mock_upstream.journal()
    assert entry["path"] == f"/v1beta/models/{MODEL_GEMINI}:generateContent"
    assert entry["account"] == ACCT_GEMINI
    upstream = json.loads(entry["body"])
    assert upstream["contents"] == [{"role": "user", "parts": [{"text": "MOCK_REPLY[local cli]"}]}]
    assert "request" not in upstream and "project" not in upstream
    # The CLI's Google token never reaches the pool's upstream.
    assert "ya29" not in json.dumps(entry["headers"])


def test_stream_through_a_claude_account_is_wrapped_event_by_event(local_gw, mock_upstream):
    r = post(local_gw, "/v1internal:streamGenerateContent?alt=sse",
             envelope(MODEL_CLAUDE, "MOCK_REPLY[streamed to the cli]"))
    assert r.status == 200, r.body
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_data(r.body)
    assert events and all(set(e) == {"response"} for e in events), events
    text = "".join(p.get("text", "") for e in events
                   for c in e["response"].get("candidates", [])
                   for p in c.get("content", {}).get("parts", []))
    assert text == "streamed to the cli"
    [entry] = mock_upstream.journal()
    assert entry["path"] == "/v1/messages" and entry["account"] == ACCT_CLAUDE


def test_count_tokens_is_estimated_locally(local_gw, mock_upstream):
    body = json.dumps({"request": {"model": f"models/{MODEL_GEMINI}", "contents": [
        {"role": "user", "parts": [{"text": "count these words please"}]}]}}).encode()
    r = post(local_gw, "/v1internal:countTokens", body)
    assert r.status == 200, r.body
    answer = json.loads(r.body)
    assert set(answer) == {"totalTokens"} and answer["totalTokens"] > 0, answer
    assert mock_upstream.journal() == []


def test_account_calls_are_answered_by_the_gateway(local_gw, mock_upstream):
    r = post(local_gw, "/v1internal:loadCodeAssist",
             json.dumps({"cloudaicompanionProject": "user-project", "metadata": {}}).encode())
    assert r.status == 200, r.body
    load = json.loads(r.body)
    assert load["currentTier"]["id"] == "standard-tier"
    assert load["cloudaicompanionProject"] == "user-project"
    r = post(local_gw, "/v1internal:retrieveUserQuota", b"{}")
    assert (r.status, json.loads(r.body)) == (200, {})
    assert mock_upstream.journal() == []


def test_unknown_method_and_missing_model(local_gw, mock_upstream):
    r = post(local_gw, "/v1internal:notAMethod", b"{}")
    assert r.status == 404, r.body
    assert json.loads(r.body)["error"]["status"] == "NOT_FOUND"
    r = post(local_gw, "/v1internal:generateContent", json.dumps({"request": {"contents": []}}).encode())
    assert r.status == 400, r.body
    assert json.loads(r.body)["error"]["status"] == "INVALID_ARGUMENT"
    assert mock_upstream.journal() == []


def test_endpoint_is_off_by_default(mock_upstream, gateway):
    gw = gateway(gateway_config(
        gemini=[Account(ACCT_GEMINI, mock_upstream.url, [(MODEL_GEMINI, "")])]))
    r = post(gw, "/v1internal:generateContent", envelope(MODEL_GEMINI, "hi"))
    assert r.status == 403, r.body
    err = json.loads(r.body)["error"]
    assert err["code"] == 403 and err["status"] == "PERMISSION_DENIED", err
    assert "enable-gemini-cli-endpoint" in err["message"]
    assert mock_upstream.journal() == []


def test_real_gemini_cli_logged_in_with_google_uses_the_pool(local_gw, mock_upstream, tmp_path):
    """Gemini CLI in its Google-login mode (Code Assist) with `CODE_ASSIST_ENDPOINT` at the
    gateway: its account calls (loadCodeAssist, quota, experiments) are answered by the
    gateway, its generation goes to the pool's Gemini account, and it prints the text once.
    Any other traffic it attempts (Google's userinfo) goes to a closed loopback proxy port."""
    need_tool(GEMINI_BIN)
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps({
        "security": {"auth": {"selectedType": "oauth-personal"}},
        "privacy": {"usageStatisticsEnabled": False}, "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True}}))
    env = cli_env(
        home, GEMINI_CLI_TRUST_WORKSPACE="true", NO_COLOR="1",
        # Google login without a browser: an access token from the environment.
        GOOGLE_GENAI_USE_GCA="true", GOOGLE_CLOUD_ACCESS_TOKEN="ya29.cli-token",
        GOOGLE_CLOUD_PROJECT="user-project",
        CODE_ASSIST_ENDPOINT=local_gw.url,
        HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
    )
    text = "Gemini CLI with Google login, served by the pool ✓"
    p = run_cli([GEMINI_BIN, "-p", f"MOCK_REPLY[{text}]", "-m", MODEL_GEMINI], home, env, 90)
    check_printed(p, text)
    j = mock_upstream.journal()
    assert [(e["path"], e["query"]) for e in j] == [
        (f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent", "alt=sse")], j
    assert j[0]["account"] == ACCT_GEMINI
    assert "ya29" not in json.dumps(j[0]["headers"])
    calls = client_requests(local_gw, 2)
    assert ("POST", "/v1internal:loadCodeAssist", "200") in calls, calls
    assert calls[-1] == ("POST", "/v1internal:streamGenerateContent", "200"), calls
