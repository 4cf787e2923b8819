"""Gemini CLI (`gemini -p ... -m MODEL`) through the gateway: to a Codex account (Gemini ->
OpenAI Responses) and, as the same-protocol baseline, to a Gemini account.

What Gemini CLI 0.61.0 sends (seen in the gateway's access log and the mock journal, with the
settings below and ``-m``): exactly one ``POST /v1beta/models/{model}:streamGenerateContent
?alt=sse``, ~31-39 KB body (system instruction, function declarations), ``x-goog-api-key``.
No countTokens, no model listing. Without ``-m`` it would first make a routing call that
wants JSON of a schema; with ``-m`` there is none. If the last stream chunk lacks
``finishReason`` it retries and prints the text several times, so the printed text is
compared exactly (and counted).
"""

from __future__ import annotations

import json

from cli_helpers import GEMINI_BIN, check_printed, cli_env, client_requests, run_cli
from conftest import (
    ACCT_CODEX,
    ACCT_GEMINI,
    CLIENT_KEY,
    MODEL_CODEX,
    MODEL_GEMINI,
    Account,
    _show,
    assert_no_client_key,
    gateway_config,
    need_tool,
)

SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"disableAutoUpdate": True},
}


def run_gemini(base_url: str, key: str, model: str, prompt: str, home, timeout: float = 90):
    need_tool(GEMINI_BIN)
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(SETTINGS))
    env = cli_env(home, GEMINI_CLI_TRUST_WORKSPACE="true", GEMINI_API_KEY=key,
                  GOOGLE_GEMINI_BASE_URL=base_url, NO_COLOR="1")
    return run_cli([GEMINI_BIN, "-p", prompt, "-m", model], home, env, timeout)


def test_gemini_cli_to_codex_account(gateway, mock_upstream, tmp_path):
    """Gemini streamGenerateContent in, Responses out, the Responses stream back as Gemini SSE."""
    gw = gateway(gateway_config(codex=[Account(ACCT_CODEX, mock_upstream.url + "/v1", [(MODEL_CODEX, "")])]))
    text = "Gemini CLI via switchyard to Codex: ½ café ✓"
    p = run_gemini(gw.url, CLIENT_KEY, MODEL_CODEX, f"Reply with exactly this. MOCK_REPLY[{text}]",
                   tmp_path / "home")
    check_printed(p, text)

    j = mock_upstream.journal()
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", "/v1/responses", "")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_CODEX, _show(j)
    assert e["model"] == MODEL_CODEX
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["headers"].get("authorization") == f"Bearer {ACCT_CODEX}"
    assert_no_client_key(e)
    assert client_requests(gw, 1) == [
        ("POST", f"/v1beta/models/{MODEL_CODEX}:streamGenerateContent", "200")]


def test_gemini_cli_to_gemini_account(gateway, mock_upstream, tmp_path):
    """Same-protocol baseline: Gemini straight through to a Gemini account."""
    gw = gateway(gateway_config(gemini=[Account(ACCT_GEMINI, mock_upstream.url, [(MODEL_GEMINI, "")])]))
    text = "Gemini CLI straight through switchyard: résumé ✓"
    p = run_gemini(gw.url, CLIENT_KEY, MODEL_GEMINI, f"Reply with exactly this. MOCK_REPLY[{text}]",
                   tmp_path / "home")
    check_printed(p, text)

    j = mock_upstream.journal()
    path = f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent"
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", path, "alt=sse")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_GEMINI, _show(j)
    assert e["model"] == MODEL_GEMINI
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["headers"].get("x-goog-api-key") == ACCT_GEMINI
    assert e["body_len"] > 20_000, "Gemini CLI's big body (system instruction, tools) did not arrive"
    assert_no_client_key(e)
    assert client_requests(gw, 1) == [("POST", path, "200")]
