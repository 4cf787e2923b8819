"""Claude Code (`claude -p`) through the gateway to accounts that do NOT speak Anthropic.

The model Claude Code asks for (``claude-sonnet-4-5``, passed with ``--model``) is an alias
served by (a) an OpenAI-compatible account (upstream ``POST /v1/chat/completions``), (b) a
Gemini account (upstream ``POST /v1beta/models/<m>:streamGenerateContent?alt=sse``) or (c) a
Codex account (upstream ``POST /v1/responses``), so the gateway translates Anthropic Messages
to that protocol and the answer back.

Two checks per upstream:

* a plain text answer (``MOCK_REPLY[...]``): exit 0, the exact printed text, one upstream call;
* one tool round trip: the prompt carries ``MOCK_TOOL[Bash|{...}]``, so the mock's first answer
  is a Bash tool call in the upstream protocol's shape. Claude Code must get it back as a
  ``tool_use`` block, really run the command (``$((6*7))`` is shell arithmetic, so
  ``switchyard-42`` only exists if a shell ran it), and send the result, which the gateway
  translates into the upstream's tool-result shape; the mock then answers
  ``tool result was: switchyard-42...`` and Claude Code prints it. Two upstream calls, the
  second one carrying the tool result (``has_tool_result`` in the mock's journal).

The same two checks against a Claude key account (no translation) are the baseline.

The Bash tool is allowed non-interactively with ``--allowedTools Bash``
(``--dangerously-skip-permissions`` is refused when running as root).
"""

from __future__ import annotations

import json

import pytest

from cli_helpers import check_exit_and_stdout, run_claude
from conftest import (
    ACCT_CLAUDE,
    ACCT_CODEX,
    ACCT_GEMINI,
    ACCT_OAI,
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_CODEX,
    MODEL_GEMINI,
    MODEL_OAI,
    Account,
    _show,
    assert_no_client_key,
    gateway_config,
)

TOOL_ARGS = {"command": "echo switchyard-$((6*7))", "description": "print"}
TOOL_MARKER = "MOCK_TOOL[Bash|" + json.dumps(TOOL_ARGS, separators=(",", ":")) + "]"


# id: (gateway config builder, account, upstream path, query parameter, upstream model).
# "claude" is the untranslated baseline (the same prompts to a Claude key account).
UPSTREAMS = {
    "claude": (
        lambda root: gateway_config(claude=[Account(ACCT_CLAUDE, root, [(MODEL_CLAUDE, "")])]),
        ACCT_CLAUDE, "/v1/messages", None, MODEL_CLAUDE,
    ),
    "openai_compat": (
        lambda root: gateway_config(
            openai_compat=[("mock", root + "/v1", [ACCT_OAI], [(MODEL_OAI, MODEL_CLAUDE)])]),
        ACCT_OAI, "/v1/chat/completions", "", MODEL_OAI,
    ),
    "codex": (
        lambda root: gateway_config(
            codex=[Account(ACCT_CODEX, root + "/v1", [(MODEL_CODEX, MODEL_CLAUDE)])]),
        ACCT_CODEX, "/v1/responses", None, MODEL_CODEX,
    ),
    "gemini": (
        lambda root: gateway_config(
            gemini=[Account(ACCT_GEMINI, root, [(MODEL_GEMINI, MODEL_CLAUDE)])]),
        ACCT_GEMINI, f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent", "alt=sse",
        MODEL_GEMINI,
    ),
}


def check_call(j: list[dict], e: dict, upstream: str) -> None:
    _, account, path, query, model = UPSTREAMS[upstream]
    assert (e["method"], e["path"]) == ("POST", path), _show(j)
    if query is not None:
        assert query in e["query"].split("&"), _show(j)
    assert e["account"] == account, _show(j)
    assert e["model"] == model, _show(j)
    assert e["stream"] is True, _show(j)
    assert e["outcome"] == "ok", _show(j)
    assert_no_client_key(e)


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
def test_claude_code_text_translated(upstream, gateway, mock_upstream, tmp_path):
    gw = gateway(UPSTREAMS[upstream][0](mock_upstream.url))
    text = f"Claude Code via {upstream}: résumé ✓"
    p = run_claude(gw.url, CLIENT_KEY, f"Reply with exactly this. MOCK_REPLY[{text}]",
                   tmp_path / "home", timeout=120)
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    assert len(j) == 1, f"expected one upstream call:\n{_show(j)}"
    check_call(j, j[0], upstream)
    assert j[0]["has_tool_result"] is False
    assert j[0]["body_len"] > 20_000, "Claude Code's big body (tools, system prompt) did not arrive"


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
def test_claude_code_tool_round_trip_translated(upstream, gateway, mock_upstream, tmp_path):
    gw = gateway(UPSTREAMS[upstream][0](mock_upstream.url))
    p = run_claude(gw.url, CLIENT_KEY, f"Run the command I give you. {TOOL_MARKER}",
                   tmp_path / "home", ("--allowedTools", "Bash"), timeout=120)
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    assert "switchyard-42" in p.stdout, f"stdout {p.stdout!r}, stderr {p.stderr!r}"
    # The mock's second answer repeats the tool result it was sent: the command's output made
    # it back upstream, translated into the upstream protocol's tool-result shape.
    assert p.stdout == "tool result was: switchyard-42\n", f"stdout {p.stdout!r}"

    j = mock_upstream.journal()
    assert len(j) == 2, f"expected two upstream calls (tool call, then its result):\n{_show(j)}"
    for e in j:
        check_call(j, e, upstream)
    assert [e["has_tool_result"] for e in j] == [False, True], _show(j)
