"""Helpers shared by the tests that run a real coding CLI (Claude Code, Codex, Gemini CLI,
Qwen Code) against the gateway or the mock: the CLIs' paths, a hermetic environment, one run
with captured output, the checks on what it printed, and the gateway's access log.

A CLI runs with HOME (and XDG_CONFIG_HOME) in the test's temporary directory, only PATH kept
from the environment, no stdin and a timeout, so its settings files and logins are the ones
the test wrote.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

from conftest import CLAUDE_BIN, MODEL_CLAUDE, NODE_MODULES, need_tool

CODEX_BIN = NODE_MODULES / ".bin" / "codex"
GEMINI_BIN = NODE_MODULES / ".bin" / "gemini"
QWEN_BIN = NODE_MODULES / ".bin" / "qwen"

# Claude Code without telemetry, update checks or silent retries.
CLAUDE_QUIET = {
    "DISABLE_TELEMETRY": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_MAX_RETRIES": "0",
    # Without it a malformed stream is silently retried as a non-streaming request.
    "CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK": "1",
}


def cli_env(home, **extra: str) -> dict[str, str]:
    """PATH, HOME and XDG_CONFIG_HOME (in ``home``), plus ``extra``."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        **extra,
    }


def run_cli(argv: list, home, env: dict[str, str], timeout: float):
    """Runs ``argv`` in ``home`` with exactly ``env``, no stdin; output captured as text."""
    return subprocess.run(
        [str(a) for a in argv],
        env=env, cwd=str(home), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout,
    )


def run_claude(base_url: str, key: str, prompt: str, home, extra_args: tuple[str, ...] = (),
               timeout: float = 90):
    """``claude -p PROMPT --model MODEL_CLAUDE`` against ``base_url`` with API key ``key``."""
    need_tool(CLAUDE_BIN)
    home.mkdir(parents=True, exist_ok=True)
    env = cli_env(home, ANTHROPIC_BASE_URL=base_url, ANTHROPIC_API_KEY=key, **CLAUDE_QUIET)
    return run_cli([CLAUDE_BIN, "-p", prompt, "--model", MODEL_CLAUDE, *extra_args], home, env,
                   timeout)


def check_exit_and_stdout(p, text: str) -> None:
    """Exit 0 and exactly ``text`` and a newline on stdout."""
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    assert p.stdout == text + "\n", f"stdout {p.stdout!r}, stderr {p.stderr!r}"


def check_printed(p, text: str) -> None:
    """:func:`check_exit_and_stdout` for Gemini CLI, which repeats the text when it retries."""
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    assert p.stdout.count(text) == 1, \
        f"the text is printed {p.stdout.count(text)} times (a missing finishReason makes " \
        f"Gemini CLI retry and repeat it): stdout {p.stdout!r}, stderr {p.stderr!r}"
    assert p.stdout == text + "\n", f"stdout {p.stdout!r}, stderr {p.stderr!r}"


def client_requests(gw, want: int, timeout: float = 5.0) -> list[tuple[str, str, str]]:
    """(method, path, status) of every client request in the gateway's access log, /healthz
    left out; waits up to ``timeout`` s for ``want`` of them (a line is written when its
    request ends, which can be a moment after the client has exited)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [(m, p, s) for m, p, s in re.findall(
            r'switchyard::access: method=(\S+) path="([^"]*)" status=(\d+)', gw.log_text())
            if p != "/healthz"]
        if len(got) >= want or time.monotonic() >= deadline:
            return got
        time.sleep(0.05)
