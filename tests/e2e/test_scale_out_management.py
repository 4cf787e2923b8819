"""Scale-out, management changes (docs/scale-out.md "Management changes"): three replicas with
``shared-state`` on a real redis-server; a change made through one replica's management API
reaches the other two, which apply it through their own live-config path and keep their own
listener settings; a hand edit of one replica's file stays on that replica.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from conftest import Account, free_port, gateway_config, http_request, wait_until
from test_management import MGMT, mgmt
from test_scale_out import MODEL, Redis, Replica

NEW_KEY = "sk-added-through-management"
HAND_KEY = "sk-added-by-hand"
APPLIED = "config changed by another replica's management API: applied"


def status_with(gw, key: str) -> int:
    body = json.dumps({"model": MODEL, "max_tokens": 16,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http_request("POST", f"{gw.url}/v1/messages", body,
                        {"x-api-key": key, "anthropic-version": "2023-06-01",
                         "content-type": "application/json"}, timeout=30).status


@pytest.fixture
def replicas(request, tmp_path, gateway, mock_upstream):
    redis = Redis(request, tmp_path / "redis")
    redis.work.mkdir(parents=True, exist_ok=True)
    redis.start()
    out = []
    for _ in range(3):
        metrics_port = free_port()
        text = gateway_config(
            claude=[Account("mgmt-sync-acct", mock_upstream.url, [("claude-up", MODEL)])],
            extra=(MGMT + f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"
                   f"shared-state: {{redis-url: {json.dumps(redis.url)}, "
                   "key-prefix: \"sy-mgmt:\", timeout-ms: 500}\n"))
        out.append(Replica(gateway(text), f"http://127.0.0.1:{metrics_port}", text))
    wait_until(lambda: all(r.shared()["connected"] for r in out), 10, "replicas connected")
    yield out
    redis.stop()


def test_a_management_change_on_one_replica_reaches_the_others(replicas):
    a, b, c = replicas
    for r in replicas:
        assert status_with(r.gw, NEW_KEY) == 401
    t0 = time.monotonic()
    assert mgmt(a.gw, "PATCH", "/api-keys", {"old": "absent", "new": NEW_KEY}) == (
        200, {"status": "ok"})
    wait_until(lambda: all(status_with(r.gw, NEW_KEY) == 200 for r in (b, c)), 5,
               "the other replicas to accept the new key", interval=0.05)
    took = time.monotonic() - t0
    assert took < 2, f"the change took {took:.2f}s to reach the other replicas"
    assert status_with(a.gw, NEW_KEY) == 200
    for r in replicas:
        text = r.gw.config_path.read_text()
        # Each file holds the new key and still its own port and metrics address.
        assert NEW_KEY in text, text
        assert re.search(rf"^port: {r.gw.port}$", text, re.M), text
        assert r.metrics.removeprefix("http://") in text, text
    assert a.gw.log_text().count(APPLIED) == 0
    for r in (b, c):
        assert r.gw.wait_log(APPLIED).count(APPLIED) == 1

    # A hand edit of one replica's file is that replica's own business.
    text = b.gw.config_path.read_text()
    b.gw.config_path.write_text(text.replace(f"  - {NEW_KEY}", f"  - {NEW_KEY}\n  - {HAND_KEY}"))
    wait_until(lambda: status_with(b.gw, HAND_KEY) == 200, 5, "the hand edit to apply")
    assert status_with(a.gw, HAND_KEY) == 401
    assert status_with(c.gw, HAND_KEY) == 401
    assert HAND_KEY not in a.gw.config_path.read_text()
