"""``commercial-mode: true``: every optional per-request filter is off, and a reload turns it
on and off without a restart.

Off in commercial mode: request logs (even with ``request-log: true``), error logs of failed
requests, ``Server-Timing``, and the per-request ``details`` of the usage statistics (their
counters stay). Still there: the access line, ``X-Request-Id``, metrics, usage totals.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import (CLIENT_KEY, MODEL_OAI, free_port, get_json, http_request, standard_config,
                      wait_until)

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}


def _config(mock_url: str, metrics_port: int, commercial: bool) -> str:
    return standard_config(mock_url, extra=(
        f"commercial-mode: {'true' if commercial else 'false'}\n"
        "request-log: true\n"
        "usage-statistics-enabled: true\n"
        f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"))


def _chat(gw, model: str = MODEL_OAI):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return http_request("POST", f"{gw.url}/v1/chat/completions", json.dumps(body).encode(), AUTH)


def _log(gw) -> str:
    return gw.proc.log_text(limit=10**8)


def _log_files(logs: Path) -> list[str]:
    return sorted(str(p.relative_to(logs)) for p in logs.rglob("*.log")) if logs.exists() else []


def _details(metrics_port: int) -> int:
    u = get_json(f"http://127.0.0.1:{metrics_port}/usage")["usage"]
    return sum(len(m["details"]) for api in u["apis"].values() for m in api["models"].values())


def test_commercial_mode_strips_the_optional_filters_and_follows_reloads(gateway, mock_upstream):
    metrics_port = free_port()
    gw = gateway(_config(mock_upstream.url, metrics_port, commercial=True))
    logs = gw.config_path.parent / "logs"

    ok = _chat(gw)
    assert ok.status == 200 and ok.json()["choices"][0]["message"]["content"], ok.body
    assert "server-timing" not in ok.headers and ok.headers["x-request-id"]
    bad = _chat(gw, "no-such-model")
    assert bad.status == 400 and bad.json()["error"]["code"] == "model_not_found", bad.body
    # The access lines are still written; nothing else is.
    wait_until(lambda: _log(gw).count("switchyard::access") >= 2, 5, "two access lines", gw.proc)
    assert _log_files(logs) == [], "no request log, no error log in commercial mode"
    usage = get_json(f"http://127.0.0.1:{metrics_port}/usage")
    u = usage["usage"]
    assert (u["total_requests"], u["success_count"], u["failure_count"]) == (2, 1, 1), u
    assert u["total_tokens"] > 0 and _details(metrics_port) == 0, u
    metrics = http_request("GET", f"http://127.0.0.1:{metrics_port}/metrics").body.decode()
    assert 'switchyard_requests_total{client_protocol="openai_chat"' in metrics

    # Commercial mode off by a reload: the same gateway logs every request and times it.
    gw.config_path.write_text(_config(mock_upstream.url, metrics_port, commercial=False))
    wait_until(lambda: "server-timing" in _chat(gw).headers, 5, "Server-Timing after the reload",
               gw.proc)
    wait_until(lambda: any(f.startswith("requests/") for f in _log_files(logs)), 5,
               "a request log", gw.proc)
    assert _chat(gw, "no-such-model").status == 400
    wait_until(lambda: _details(metrics_port) > 0, 5, "usage details", gw.proc)

    # And on again: the next requests leave no file behind.
    gw.config_path.write_text(_config(mock_upstream.url, metrics_port, commercial=True))
    wait_until(lambda: "server-timing" not in _chat(gw).headers, 5,
               "no Server-Timing after the reload", gw.proc)
    before = _log_files(logs)
    assert _chat(gw).status == 200 and _chat(gw, "no-such-model").status == 400
    wait_until(lambda: _log(gw).count('model="no-such-model"') >= 3, 5, "the access lines", gw.proc)
    assert _log_files(logs) == before
