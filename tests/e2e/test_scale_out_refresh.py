"""Scale-out, OAuth refresh (docs/scale-out.md "OAuth token refresh"): three replicas share one
``auth-dir`` and a real redis-server; a Codex OAuth account logged in against the test OpenID
provider (oidc-provider, refresh tokens rotated: a reused one is ``invalid_grant`` and revokes
the grant). Exactly one replica refreshes a token, the others adopt what it wrote, and a
refresh token is never used twice. The provider counts its grants (``/_test/grants``) and can
hold each token request (``/_test/token-delay``), so every replica tries the same refresh
while the first grant is still on the wire: without the lock the test sees a second grant.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import (CLIENT_KEY, free_port, gateway_config, http_request, wait_until)
from test_login_oauth import login_codex, oidc, write_config  # noqa: F401
from test_scale_out import Redis, Replica, _nginx

HEADERS = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}
REFRESHED = "OAuth token refreshed"
ADOPTED = "OAuth token adopted: another replica refreshed it"
FALLBACK = "OAuth refresh done without the shared lock"


def responses(url: str) -> int:
    body = json.dumps({"model": "gpt-5-codex", "input": "hi", "stream": False}).encode()
    return http_request("POST", f"{url}/v1/responses", body, HEADERS, timeout=60).status


def grants(oidc) -> dict:
    with urllib.request.urlopen(f"{oidc.base}/_test/grants", timeout=5) as r:
        return json.load(r).get("refresh_token", {"ok": 0, "error": 0})


def token_delay(oidc, ms: int) -> None:
    req = urllib.request.Request(f"{oidc.base}/_test/token-delay?ms={ms}", data=b"",
                                 method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200


def rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def make_due_at(path: Path, at: float) -> None:
    """Rewrites the auth file (atomically) so the refresh service finds it due at ``at``: a
    20-minute token (codex's 5-day lead shrinks to half of it) issued 10 minutes before."""
    d = json.loads(path.read_text())
    d["expired"], d["last_refresh"] = rfc3339(at + 600), rfc3339(at - 600)
    tmp = path.with_name(".due.tmp")
    tmp.write_text(json.dumps(d))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def lock_count(r: Replica, outcome: str) -> int:
    text = http_request("GET", f"{r.metrics}/metrics", timeout=5).body.decode()
    m = re.search(rf'^switchyard_oauth_refresh_lock_total\{{outcome="{outcome}"\}} (\d+)',
                  text, re.M)
    return int(m.group(1)) if m else 0


def log_count(r: Replica, text: str) -> int:
    return r.gw.proc.log_text(limit=1 << 30).count(text)


@dataclass
class OAuthCluster:
    redis: Redis
    replicas: list[Replica]
    lb: str
    auth_file: Path

    def all_connected(self, connected: bool = True) -> bool:
        return all(r.shared()["connected"] is connected for r in self.replicas)


@pytest.fixture
def oauth_cluster(request, tmp_path, gateway, mock_upstream, oidc):  # noqa: F811
    """redis-server, a Codex login in ``tmp_path/auths``, three replicas sharing that
    auth-dir with shared-state on, and nginx round-robin in front."""
    stop = []

    def make() -> OAuthCluster:
        cfg = write_config(tmp_path, oidc, base_url=f"{mock_upstream.url}/v1")
        path, _ = login_codex(request, tmp_path, oidc, cfg)
        redis = Redis(request, tmp_path / "redis")
        redis.work.mkdir(parents=True, exist_ok=True)
        redis.start()
        stop.append(redis.stop)
        replicas = []
        for _ in range(3):
            metrics_port = free_port()
            text = gateway_config(extra=(
                f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"
                f"shared-state: {{redis-url: {json.dumps(redis.url)}, "
                "key-prefix: \"sy-refresh:\", timeout-ms: 500}\n")) + cfg.read_text()
            replicas.append(Replica(gateway(text), f"http://127.0.0.1:{metrics_port}", text))
        lb_port = free_port()
        lb = _nginx(request, tmp_path / "nginx", lb_port, [r.gw.port for r in replicas])
        stop.append(lb.stop)
        c = OAuthCluster(redis, replicas, f"http://127.0.0.1:{lb_port}", path)
        wait_until(c.all_connected, 10, "every replica connected to redis")
        return c

    yield make
    for s in reversed(stop):
        s()


class Load:
    """One client thread sending Responses requests through the load balancer until stopped."""

    def __init__(self, url: str):
        self.url, self.ok, self.failed = url, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = responses(self.url)
            except Exception as e:  # noqa: BLE001 - every failure counts
                status = repr(e)
            if status == 200:
                self.ok += 1
            else:
                self.failed.append(status)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def each_replica_sends(c: OAuthCluster, mock, token: str) -> None:
    """A request straight to each replica reaches the upstream with ``token``."""
    for r in c.replicas:
        before = len(mock.journal())
        assert responses(r.gw.url) == 200
        entries = mock.journal()[before:]
        assert [e["account"] for e in entries] == [token], \
            f"{r.gw.url} sent another token: {[e['account'][:12] for e in entries]}"


def test_a_token_close_to_expiry_is_refreshed_by_exactly_one_replica(
        oauth_cluster, oidc, mock_upstream):  # noqa: F811
    c = oauth_cluster()
    first = json.loads(c.auth_file.read_text())
    # Each grant takes 1.5 s: longer than a refresh tick (1 s), so all three replicas find
    # the token due while the first grant is still on the wire.
    token_delay(oidc, 1500)
    load = Load(c.lb)
    try:
        wait_until(lambda: load.ok >= 3, 20, "the load to run")
        make_due_at(c.auth_file, time.time() + 3)
        # Every replica either refreshed or adopted the other's refresh.
        wait_until(lambda: all(log_count(r, REFRESHED) + log_count(r, ADOPTED) >= 1
                               for r in c.replicas), 20, "each replica to deal with the refresh")
        ok_after = load.ok
        wait_until(lambda: load.ok >= ok_after + 3, 20, "requests after the refresh")
    finally:
        load.stop()
    assert grants(oidc) == {"ok": 1, "error": 0}
    refreshed = [log_count(r, REFRESHED) for r in c.replicas]
    adopted = [log_count(r, ADOPTED) for r in c.replicas]
    assert sorted(refreshed) == [0, 0, 1], (refreshed, adopted)
    # The two others were waiting on the lock (not merely re-reading the file later).
    assert sorted(adopted) == [0, 1, 1], (refreshed, adopted)
    assert sum(lock_count(r, "waited") for r in c.replicas) == 2
    assert sum(lock_count(r, "refreshed") for r in c.replicas) == 1
    assert sum(lock_count(r, "local_fallback") for r in c.replicas) == 0
    after = json.loads(c.auth_file.read_text())
    assert after["refresh_token"] != first["refresh_token"]
    assert after["access_token"] != first["access_token"]
    assert load.failed == [], load.failed
    each_replica_sends(c, mock_upstream, after["access_token"])
    tokens = {e["account"] for e in mock_upstream.journal()}
    assert tokens == {first["access_token"], after["access_token"]}


def test_a_401_refresh_on_one_replica_is_not_repeated_by_the_others(
        oauth_cluster, oidc, mock_upstream):  # noqa: F811
    c = oauth_cluster()
    first = json.loads(c.auth_file.read_text())
    token_delay(oidc, 1000)
    # The upstream rejects the current token from now on, on every replica.
    mock_upstream.schedule(first["access_token"], [], {"status": 401})
    with ThreadPoolExecutor(3) as pool:
        statuses = list(pool.map(lambda r: responses(r.gw.url), c.replicas))
    assert statuses == [200, 200, 200]
    assert grants(oidc) == {"ok": 1, "error": 0}
    after = json.loads(c.auth_file.read_text())
    assert after["access_token"] != first["access_token"]
    calls = [(e["account"], e["outcome"]) for e in mock_upstream.journal()]
    assert sorted(calls) == sorted([(first["access_token"], "status:401")] * 3
                                   + [(after["access_token"], "ok")] * 3), calls
    assert sorted(log_count(r, REFRESHED) for r in c.replicas) == [0, 0, 1]
    assert sorted(log_count(r, ADOPTED) for r in c.replicas) == [0, 1, 1]
    each_replica_sends(c, mock_upstream, after["access_token"])
    assert grants(oidc) == {"ok": 1, "error": 0}


def test_with_redis_stopped_a_replica_refreshes_locally_and_no_request_fails(
        oauth_cluster, oidc, mock_upstream):  # noqa: F811
    c = oauth_cluster()
    first = json.loads(c.auth_file.read_text())
    c.redis.stop()
    wait_until(lambda: c.all_connected(False), 10, "every replica to see redis gone")
    # One 401 for the current token, on whichever replica gets the next request; the others
    # keep using it until they read the new file.
    mock_upstream.schedule(first["access_token"], [{"status": 401}])
    load = Load(c.lb)
    try:
        # The file is written after the provider answered: wait for the file, not the grant.
        after = wait_until(lambda: (d := json.loads(c.auth_file.read_text()))["access_token"]
                           != first["access_token"] and d, 20, "the local refresh")
        ok_at = load.ok
        wait_until(lambda: load.ok >= ok_at + 6, 20, "requests after the refresh")
    finally:
        load.stop()
    assert load.failed == [], load.failed
    assert grants(oidc) == {"ok": 1, "error": 0}
    fallback = [lock_count(r, "local_fallback") for r in c.replicas]
    assert sorted(fallback) == [0, 0, 1], fallback
    [holder] = [r for r, n in zip(c.replicas, fallback) if n]
    assert log_count(holder, FALLBACK) == 1
    assert log_count(holder, REFRESHED) == 1
    # The others take the new file on their next scan of auth-dir (about a second).
    for r in c.replicas:
        wait_until(lambda r=r: _sends(r, mock_upstream, after["access_token"]), 10,
                   f"{r.gw.url} to send the new token", interval=0.2)


def _sends(r: Replica, mock, token: str) -> bool:
    before = len(mock.journal())
    assert responses(r.gw.url) == 200
    return [e["account"] for e in mock.journal()[before:]] == [token]
