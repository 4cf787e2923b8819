"""Qwen Code (`qwen -p`) through the gateway: to a Gemini account (OpenAI Chat -> Gemini) and,
as the same-protocol baseline, to an OpenAI-compatible account (Chat -> Chat).

What Qwen Code 0.15.10 sends (seen in the gateway's access log and the mock journal):
``POST /v1/chat/completions``, stream with ``stream_options.include_usage``, ``max_tokens``,
~54 KB body (4 messages, 11 tools), ``Authorization: Bearer``, the OpenAI JS SDK's
``x-stainless-*`` headers with ``x-stainless-retry-count: 0``. With its default settings a
SECOND chat call follows the answer: the managed auto-memory extraction subagent ("You are now
acting as the managed memory extraction subagent ...", ~31 KB, the main body also grows to
~67 KB); it runs in the background but ``-p`` waits for it before exiting, so it is
deterministic. ``memory.enableManagedAutoMemory: false`` turns it off, which leaves exactly one
call. A missing ``finish_reason`` is an error after 3 tries, so the call count is exact.
"""

from __future__ import annotations

import json

from cli_helpers import QWEN_BIN, check_exit_and_stdout, cli_env, client_requests, run_cli
from conftest import (
    ACCT_GEMINI,
    ACCT_OAI,
    CLIENT_KEY,
    MODEL_GEMINI,
    MODEL_OAI,
    Account,
    _show,
    assert_no_client_key,
    gateway_config,
    need_tool,
)

SETTINGS = {
    "security": {"auth": {"selectedType": "openai"}},
    # Without it a background memory-extraction call follows every answer.
    "memory": {"enableManagedAutoMemory": False},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"disableAutoUpdate": True},
}


def run_qwen(base_url: str, key: str, model: str, prompt: str, home, timeout: float = 90,
             settings: dict = SETTINGS):
    need_tool(QWEN_BIN)
    (home / ".qwen").mkdir(parents=True, exist_ok=True)
    (home / ".qwen" / "settings.json").write_text(json.dumps(settings))
    env = cli_env(home, OPENAI_API_KEY=key, OPENAI_BASE_URL=base_url + "/v1",
                  OPENAI_MODEL=model, NO_COLOR="1")
    return run_cli([QWEN_BIN, "-p", prompt], home, env, timeout)


def test_qwen_to_gemini_account(gateway, mock_upstream, tmp_path):
    """Chat completions in, Gemini streamGenerateContent out, Gemini SSE back as Chat chunks."""
    gw = gateway(gateway_config(gemini=[Account(ACCT_GEMINI, mock_upstream.url, [(MODEL_GEMINI, "")])]))
    text = "Qwen Code via switchyard to Gemini: 你好 ✓"
    p = run_qwen(gw.url, CLIENT_KEY, MODEL_GEMINI, f"Reply with exactly this. MOCK_REPLY[{text}]",
                 tmp_path / "home")
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    path = f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent"
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", path, "alt=sse")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_GEMINI, _show(j)
    assert e["model"] == MODEL_GEMINI
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["headers"].get("x-goog-api-key") == ACCT_GEMINI
    assert_no_client_key(e)
    assert client_requests(gw, 1) == [("POST", "/v1/chat/completions", "200")]


def test_qwen_to_openai_compatible_account(gateway, mock_upstream, tmp_path):
    """Same-protocol baseline: Chat straight through to an OpenAI-compatible account."""
    gw = gateway(gateway_config(
        openai_compat=[("mock", mock_upstream.url + "/v1", [ACCT_OAI], [(MODEL_OAI, "")])]))
    text = "Qwen Code straight through switchyard: résumé ✓"
    p = run_qwen(gw.url, CLIENT_KEY, MODEL_OAI, f"Reply with exactly this. MOCK_REPLY[{text}]",
                 tmp_path / "home")
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", "/v1/chat/completions", "")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_OAI, _show(j)
    assert e["model"] == MODEL_OAI
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["headers"].get("authorization") == f"Bearer {ACCT_OAI}"
    assert e["headers"].get("x-stainless-retry-count") == "0"
    assert e["body_len"] > 20_000, "Qwen Code's big body (system prompt, tools) did not arrive"
    assert_no_client_key(e)
    assert client_requests(gw, 1) == [("POST", "/v1/chat/completions", "200")]


def test_qwen_memory_side_call_to_gemini_account(gateway, mock_upstream, tmp_path):
    """Default memory settings: the answer, then the memory-extraction side call, both
    translated to Gemini; the side call's reply is never printed."""
    gw = gateway(gateway_config(gemini=[Account(ACCT_GEMINI, mock_upstream.url, [(MODEL_GEMINI, "")])]))
    text = "Qwen Code with its memory on: ✓"
    settings = {k: v for k, v in SETTINGS.items() if k != "memory"}
    p = run_qwen(gw.url, CLIENT_KEY, MODEL_GEMINI, f"Reply with exactly this. MOCK_REPLY[{text}]",
                 tmp_path / "home", settings=settings)
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    path = f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent"
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", path, "alt=sse")] * 2, _show(j)
    for e in j:
        assert (e["account"], e["model"], e["stream"], e["outcome"]) == \
            (ACCT_GEMINI, MODEL_GEMINI, True, "ok"), _show(j)
        assert_no_client_key(e)
    # The second one is the extraction subagent (its body is small enough to be journaled).
    assert j[1]["body"] is not None and "managed memory extraction subagent" in j[1]["body"], _show(j)
    assert client_requests(gw, 2) == [("POST", "/v1/chat/completions", "200")] * 2
