"""Claude Code (`claude -p`) through the gateway to a Claude key account on the mock.

What Claude Code 2.1.197 sends (seen against a logging proxy, with the flags below):
``HEAD /`` (a reachability probe; any status will do), then exactly one
``POST /v1/messages?beta=true``: stream, ~115 KB body (system prompt, tools, thinking,
context_management, metadata), ``x-api-key``, ``anthropic-version: 2023-06-01``,
``anthropic-beta: claude-code-20250219,...``. No count_tokens, no model listing.

The prompt carries ``MOCK_REPLY[...]`` so the mock answers with a known text; Claude Code
prints an EMPTY line and exits 0 when a stream lacks content_block_delta/stop, so the
printed text is compared exactly.
"""

from __future__ import annotations

from cli_helpers import check_exit_and_stdout, run_claude
from conftest import (
    ACCT_CLAUDE,
    CLIENT_KEY,
    MODEL_CLAUDE,
    _show,
    assert_no_client_key,
    standard_config,
)


def test_claude_code_direct_to_mock(mock_upstream, tmp_path):
    """Baseline without the gateway: pins down what Claude Code itself sends."""
    text = "Claude Code straight to the mock"
    p = run_claude(mock_upstream.url, ACCT_CLAUDE, f"Reply with exactly this. MOCK_REPLY[{text}]",
                   tmp_path / "home")
    check_exit_and_stdout(p, text)
    j = mock_upstream.journal()
    got = [(e["method"], e["path"], e["query"], e["account"], e["outcome"]) for e in j]
    assert got == [
        ("HEAD", "/", "", "", "status:404"),
        ("POST", "/v1/messages", "beta=true", ACCT_CLAUDE, "ok"),
    ], _show(j)
    assert j[1]["stream"] is True
    assert j[1]["headers"].get("x-api-key") == ACCT_CLAUDE


def test_claude_code_through_gateway(gateway, mock_upstream, tmp_path):
    gw = gateway(standard_config(mock_upstream.url))
    text = "Claude Code says hi through switchyard: résumé ✓"
    p = run_claude(gw.url, CLIENT_KEY, f"Reply with exactly this. MOCK_REPLY[{text}]", tmp_path / "home")
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    # HEAD / is for the gateway to answer; only the one messages call goes upstream.
    assert [(e["method"], e["path"]) for e in j] == [("POST", "/v1/messages")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_CLAUDE, _show(j)
    assert e["model"] == MODEL_CLAUDE
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["body_len"] > 20_000, "Claude Code's big body (tools, system prompt) did not arrive"
    assert e["headers"].get("anthropic-version") == "2023-06-01"
    assert "claude-code-20250219" in e["headers"].get("anthropic-beta", "")
    assert_no_client_key(e)


def test_claude_code_wrong_key_fails(gateway, mock_upstream, tmp_path):
    gw = gateway(standard_config(mock_upstream.url))
    p = run_claude(gw.url, "sk-wrong", "MOCK_REPLY[should not be printed]", tmp_path / "home")
    assert p.returncode != 0, f"exit 0 with a wrong key; stdout {p.stdout!r}"
    assert "should not be printed" not in p.stdout
    assert mock_upstream.journal() == []
