"""Makes the README's screenshot of the control panel (docs/img/management-panel.png):
a gateway with a few accounts on the mock upstream, one of them cooling after a 429, a few
real requests, and a day of synthetic history imported through `/usage/import`, photographed
by headless chromium (tests/e2e/panel_driver.mjs).

    cargo build --bin switchyard --bin switchyard-mock
    .tools/venv/bin/python tests/e2e/panel_screenshot.py [OUT.png]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import (MODEL_CLAUDE, MODEL_CODEX, MODEL_GEMINI, MODEL_OAI,  # noqa: E402
                      NODE_MODULES, REPO, Account, _start_mock, gateway_config, http_request,
                      start_gateway)

SECRET = "screenshot-secret"
KEYS = ["sk-team-alpha-0001", "sk-team-beta-0002", "sk-ci-runner-0003"]


def key_id(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def chat(gw, key: str, model: str) -> int:
    body = json.dumps({"model": model, "max_tokens": 16,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http_request("POST", f"{gw.url}/v1/chat/completions", body,
                        {"authorization": f"Bearer {key}", "content-type": "application/json"}).status


def history(now: datetime) -> dict:
    """A day of requests, hour by hour, spread over the keys, models and accounts."""
    spread = [(KEYS[0], MODEL_CLAUDE, "claude-api-key[0]"), (KEYS[0], MODEL_GEMINI, "gemini-api-key[0]"),
              (KEYS[1], MODEL_CODEX, "codex-api-key[0]"), (KEYS[1], MODEL_CLAUDE, "claude-api-key[1]"),
              (KEYS[2], MODEL_OAI, "openai-compatibility[0]")]
    apis: dict = {}
    for h in range(24):
        at = now - timedelta(hours=23 - h)
        busy = 6 + round(10 * (1 + math.sin((at.hour - 9) / 24 * 2 * math.pi)))
        for i in range(busy):
            key, model, source = spread[(h + i) % len(spread)]
            tin, tout = 300 + 40 * i, 80 + 15 * i
            details = apis.setdefault(key_id(key), {"models": {}})["models"].setdefault(
                model, {"details": []})["details"]
            details.append({
                "timestamp": (at - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "latency_ms": 400 + 30 * i, "source": source, "auth_index": source,
                "tokens": {"input_tokens": tin, "output_tokens": tout, "reasoning_tokens": 0,
                           "cached_tokens": 0, "total_tokens": tin + tout},
                "failed": i % 17 == 5})
    return {"version": 1, "exported_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "usage": {"apis": apis}}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "img" / "management-panel.png"
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is missing: run scripts/install-test-deps.sh")
    with tempfile.TemporaryDirectory(prefix="panel-shot-") as tmp:
        work = Path(tmp)
        mock = _start_mock(work / "mock")
        gw = None
        try:
            up = mock.url
            text = gateway_config(
                api_keys=KEYS,
                claude=[Account("acct-claude-1", up, [(MODEL_CLAUDE, "")]),
                        Account("acct-claude-2", up, [(MODEL_CLAUDE, "")])],
                gemini=[Account("acct-gemini-1", up, [(MODEL_GEMINI, "")])],
                codex=[Account("acct-codex-1", up + "/v1", [(MODEL_CODEX, "")])],
                openai_compat=[("mock", up + "/v1", ["acct-oai-1"], [(MODEL_OAI, "")])],
                extra=f'remote-management:\n  secret-key: "{SECRET}"\n'
                      "usage-statistics-enabled: true\nrouting:\n  strategy: round-robin\n")
            gw = start_gateway(text, work / "gw")
            mock.schedule("acct-claude-2", [{"status": 429, "retry_after": "900"}])
            for key in KEYS:
                for model in (MODEL_CLAUDE, MODEL_GEMINI, MODEL_CODEX, MODEL_OAI):
                    chat(gw, key, model)
            r = http_request("POST", f"{gw.url}/v0/management/usage/import",
                             json.dumps(history(datetime.now(timezone.utc))).encode(),
                             {"authorization": f"Bearer {SECRET}", "content-type": "application/json"})
            assert r.status == 200, r.body
            p = subprocess.run(
                ["node", str(REPO / "tests" / "e2e" / "panel_driver.mjs"), json.dumps({
                    "mode": "screenshot", "chromium": chromium, "gateway": gw.url, "key": SECRET,
                    "account": "claude-api-key[0]", "screenshot": str(out),
                    "viewport": {"width": 1280, "height": 1000},
                    "clip": {"x": 0, "y": 0, "width": 1280, "height": 860}})],
                capture_output=True, timeout=60, env={**os.environ, "NODE_MODULES": str(NODE_MODULES)})
            if p.returncode != 0:
                sys.exit(f"driver failed:\n{p.stderr.decode()}\n{p.stdout.decode()}")
            print(f"{out}: {out.stat().st_size} bytes")
        finally:
            if gw:
                gw.proc.stop()
            mock.proc.stop()


if __name__ == "__main__":
    main()
