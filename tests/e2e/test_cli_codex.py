"""Codex CLI (`codex exec`) through the gateway: to a Claude account (Responses -> Anthropic
Messages) and, as the same-protocol baseline, to a Codex account (Responses -> Responses).

What Codex 0.169.0 sends (seen in the gateway's access log and the mock journal, with the
provider table below): exactly one ``POST /v1/responses``, stream, ~40 KB body (developer and
user messages, function tools, reasoning, ``store: false``, ``include``,
``prompt_cache_key``), ``Authorization: Bearer``. No model listing, no other side call; with
``request_max_retries = 0`` and ``stream_max_retries = 0`` a failure is never retried
silently. Codex prints the answer it took from ``response.output_item.done`` on stdout (the
banner and the echoed prompt go to stderr) and prints an EMPTY answer with exit 0 when that
event is missing, so the printed text is compared exactly.
"""

from __future__ import annotations

from cli_helpers import CODEX_BIN, check_exit_and_stdout, cli_env, client_requests, run_cli
from conftest import (
    ACCT_CLAUDE,
    ACCT_CODEX,
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_CODEX,
    Account,
    _show,
    assert_no_client_key,
    gateway_config,
    need_tool,
)


def write_codex_config(codex_home, base_url: str, model: str) -> None:
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "switchyard"\n'
        "\n"
        "[model_providers.switchyard]\n"
        'name = "Switchyard"\n'
        f'base_url = "{base_url}/v1"\n'
        'env_key = "SWITCHYARD_API_KEY"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
    )


def run_codex(base_url: str, key: str, model: str, prompt: str, home, timeout: float = 90):
    need_tool(CODEX_BIN)
    home.mkdir(parents=True, exist_ok=True)
    codex_home = home / ".codex"
    write_codex_config(codex_home, base_url, model)
    env = cli_env(home, CODEX_HOME=str(codex_home), SWITCHYARD_API_KEY=key, NO_COLOR="1")
    return run_cli([CODEX_BIN, "exec", "--skip-git-repo-check", prompt], home, env, timeout)


def test_codex_to_claude_account(gateway, mock_upstream, tmp_path):
    """Responses in, Anthropic Messages out, and the Anthropic stream back as Responses."""
    gw = gateway(gateway_config(claude=[Account(ACCT_CLAUDE, mock_upstream.url, [(MODEL_CLAUDE, "")])]))
    text = "Codex через switchyard to Claude: naïve ✓"
    p = run_codex(gw.url, CLIENT_KEY, MODEL_CLAUDE, f"Reply with exactly this. MOCK_REPLY[{text}]",
                  tmp_path / "home")
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", "/v1/messages", "")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_CLAUDE, _show(j)
    assert e["model"] == MODEL_CLAUDE
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["headers"].get("x-api-key") == ACCT_CLAUDE
    assert e["headers"].get("anthropic-version") == "2023-06-01"
    assert_no_client_key(e)
    assert client_requests(gw, 1) == [("POST", "/v1/responses", "200")]


def test_codex_to_codex_account(gateway, mock_upstream, tmp_path):
    """Same-protocol baseline: Responses straight through to a Codex account."""
    gw = gateway(gateway_config(codex=[Account(ACCT_CODEX, mock_upstream.url + "/v1", [(MODEL_CODEX, "")])]))
    text = "Codex straight through switchyard: résumé ✓"
    p = run_codex(gw.url, CLIENT_KEY, MODEL_CODEX, f"Reply with exactly this. MOCK_REPLY[{text}]",
                  tmp_path / "home")
    check_exit_and_stdout(p, text)

    j = mock_upstream.journal()
    assert [(e["method"], e["path"], e["query"]) for e in j] == [("POST", "/v1/responses", "")], _show(j)
    e = j[0]
    assert e["account"] == ACCT_CODEX, _show(j)
    assert e["model"] == MODEL_CODEX
    assert e["stream"] is True
    assert e["outcome"] == "ok"
    assert e["headers"].get("authorization") == f"Bearer {ACCT_CODEX}"
    assert e["body_len"] > 20_000, "Codex's big body (instructions, tools) did not arrive"
    assert_no_client_key(e)
    assert client_requests(gw, 1) == [("POST", "/v1/responses", "200")]
