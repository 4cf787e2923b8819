"""Scale-out (``shared-state``, docs/scale-out.md): three replicas behind a real nginx
(round-robin) share cooldowns, session bindings and usage totals through a real redis-server.
Every process runs on free loopback ports with its files in the test's tmp dir; redis-server
and nginx come from Debian (scripts/install-test-deps.sh).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import (CLIENT_KEY, Account, Gateway, Proc, _register_log, _show, free_port,
                      gateway_config, get_json, http_request, start_proc, wait_until)

ACCOUNTS = ["scale-acct-1", "scale-acct-2", "scale-acct-3"]
MODEL = "claude-x"
AUTH = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json",
        "anthropic-version": "2023-06-01"}
SESSION_HEADER = "x-claude-code-session-id"


def _binary(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((f for f in fallbacks if Path(f).is_file()), None)
    if not found:
        pytest.fail(f"{name} is missing: run scripts/install-test-deps.sh", pytrace=False)
    return found


class Redis:
    """A redis-server of the test's own, without persistence; restartable on its port."""

    def __init__(self, request, work: Path):
        self.request = request
        self.work = work
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.proc = start_proc(f"redis{self.starts}", [
            _binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.work),
        ], self.work)
        _register_log(self.request, self.proc)
        wait_until(lambda: self.ping(), 10, "redis-server to answer PING", self.proc)

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def _nginx(request, work: Path, port: int, backends: list[int]) -> Proc:
    work.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in backends)
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream switchyard {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://switchyard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 60s;
        }}
    }}
}}
""")
    proc = start_proc("nginx", [_binary("nginx", "/usr/sbin/nginx"), "-c", str(conf),
                                "-p", str(work), "-e", str(work / "nginx-error.log")], work)
    _register_log(request, proc)

    def up():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(up, 10, "nginx to listen", proc)
    return proc


@dataclass
class Replica:
    gw: Gateway
    metrics: str
    config: str

    def readyz(self) -> dict:
        r = http_request("GET", f"{self.gw.url}/readyz", timeout=5)
        body = r.json()
        body["_status"] = r.status
        return body

    def shared(self) -> dict:
        return self.readyz()["shared_state"]

    def usage(self) -> dict:
        return get_json(f"{self.metrics}/usage")

    def cooling(self) -> int:
        """Accounts cooling now (``switchyard_accounts{state="cooling"}``)."""
        text = http_request("GET", f"{self.metrics}/metrics", timeout=5).body.decode()
        found = re.findall(r'^switchyard_accounts\{[^}]*state="cooling"[^}]*\} (\d+)', text, re.M)
        return sum(int(n) for n in found)


@dataclass
class Cluster:
    redis: Redis
    replicas: list[Replica]
    lb: str
    # Starts one more replica with the same config (not behind the load balancer).
    another: Callable[[], Replica]
    # Starts a replica again with its config (same ports), after it stopped.
    restart: Callable[[Replica], Replica]

    def applied(self) -> int:
        return sum(r.shared()["applied"] for r in self.replicas)

    def all_connected(self, connected: bool = True) -> bool:
        return all(r.shared()["connected"] is connected for r in self.replicas)


@pytest.fixture
def cluster(request, tmp_path, gateway, mock_upstream):
    """Factory: ``cluster(strategy)`` starts redis-server, three replicas with shared-state on
    and nginx round-robin in front; everything stops at teardown."""
    made: list[tuple[Redis, Proc]] = []

    def replica(redis: Redis, strategy: str) -> Replica:
        metrics_port = free_port()
        cfg = gateway_config(
            claude=[Account(a, mock_upstream.url, [("claude-up", MODEL)]) for a in ACCOUNTS],
            extra=(
                f"routing: {{strategy: {strategy}, session-affinity: true}}\n"
                "usage-statistics-enabled: true\n"
                f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"
                f"shared-state: {{redis-url: {json.dumps(redis.url)}, "
                "key-prefix: \"sy-test:\", timeout-ms: 500}\n"),
        )
        return Replica(gateway(cfg), f"http://127.0.0.1:{metrics_port}", cfg)

    def make(strategy: str = "round-robin") -> Cluster:
        redis = Redis(request, tmp_path / "redis")
        redis.work.mkdir(parents=True, exist_ok=True)
        redis.start()
        replicas = [replica(redis, strategy) for _ in range(3)]
        lb_port = free_port()
        lb = _nginx(request, tmp_path / "nginx", lb_port, [r.gw.port for r in replicas])
        made.append((redis, lb))
        c = Cluster(redis, replicas, f"http://127.0.0.1:{lb_port}",
                    lambda: replica(redis, strategy),
                    lambda r: Replica(gateway(r.config), r.metrics, r.config))
        wait_until(c.all_connected, 10, "every replica connected to redis")
        return c

    yield make
    for redis, lb in made:
        lb.stop()
        redis.stop()


def send(url: str, session: str | None = None, prompt: str = "hi") -> int:
    headers = dict(AUTH)
    if session:
        headers[SESSION_HEADER] = session
    body = {"model": MODEL, "max_tokens": 20, "messages": [{"role": "user", "content": prompt}]}
    return http_request("POST", f"{url}/v1/messages", json.dumps(body).encode(), headers,
                        timeout=30).status


def calls(mock, account: str) -> int:
    return len(mock.journal(account))


def wait_applied(c: Cluster, at_least: int, what: str) -> float:
    """Seconds until the replicas applied ``at_least`` events from the others in total."""
    t0 = time.monotonic()
    wait_until(lambda: c.applied() >= at_least, 5, what, interval=0.005)
    return time.monotonic() - t0


class Load:
    """One client thread sending requests through the load balancer until stopped."""

    def __init__(self, url: str):
        self.url = url
        self.ok = 0
        self.failed: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = send(self.url, prompt="load")
            except Exception as e:  # noqa: BLE001 - every failure counts
                status = repr(e)
            if status == 200:
                self.ok += 1
            else:
                self.failed.append(status)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_a_429_on_one_replica_keeps_every_replica_off_the_account(cluster, mock_upstream):
    c = cluster("fill-first")
    first, second = ACCOUNTS[0], ACCOUNTS[1]
    mock_upstream.schedule(first, [{"status": 429, "retry_after": "60"}], then="ok")
    assert send(c.lb) == 200, "the 429 fails over to the next account"
    assert (calls(mock_upstream, first), calls(mock_upstream, second)) == (1, 1)
    took = wait_applied(c, 2, "the two other replicas to apply the cooldown")
    assert took < 0.5, f"the cooldown took {took:.3f}s to reach the other replicas"
    for _ in range(9):
        assert send(c.lb) == 200
    assert calls(mock_upstream, first) == 1, \
        f"a replica used the cooling account:\n{_show(mock_upstream.journal())}"
    assert calls(mock_upstream, second) == 10

    # A replica started now loads the cooldown from Redis before it reports connected.
    late = c.another()
    wait_until(lambda: late.shared()["connected"], 10, "the late replica to connect")
    assert late.shared()["applied"] >= 1
    assert send(late.gw.url) == 200
    assert calls(mock_upstream, first) == 1, _show(mock_upstream.journal())


def test_a_session_stays_on_one_account_whichever_replica_serves_it(cluster, mock_upstream):
    c = cluster("round-robin")
    # Different round-robin positions per replica: alone, each would pick another account.
    for i, r in enumerate(c.replicas):
        for _ in range(i):
            assert send(r.gw.url) == 200
    before = len(mock_upstream.journal())
    assert send(c.lb, session="claude-code-session-1") == 200
    wait_applied(c, 2, "the two other replicas to apply the binding")
    for _ in range(8):
        assert send(c.lb, session="claude-code-session-1") == 200
    session_calls = mock_upstream.journal()[before:]
    assert len(session_calls) == 9
    assert len({e["account"] for e in session_calls}) == 1, \
        f"the session moved between accounts:\n{_show(session_calls)}"


def test_usage_totals_from_any_replica_count_every_request(cluster, mock_upstream):
    c = cluster("round-robin")
    n = 12
    for i in range(n):
        assert send(c.lb, prompt=f"request {i}") == 200
    assert sum(1 for e in mock_upstream.journal()) == n

    def totals():
        got = [r.usage()["usage"] for r in c.replicas]
        return all(u["total_requests"] == n for u in got) and got

    got = wait_until(totals, 10, f"every replica to report {n} requests")
    tokens = {u["total_tokens"] for u in got}
    assert len(tokens) == 1 and tokens.pop() > 0, got
    for u in got:
        assert (u["success_count"], u["failure_count"]) == (n, 0), u
        assert sum(u["requests_by_day"].values()) == n
        (api,) = u["apis"].values()
        assert api["total_requests"] == n and api["models"][MODEL]["total_requests"] == n
    # Each replica lists only the details of the requests it served itself.
    listed = sum(len(u["apis"][k]["models"][MODEL]["details"]) for u in got for k in u["apis"])
    assert listed == n


def test_redis_restarted_under_load_fails_no_request_and_replicas_resynchronise(
        cluster, mock_upstream):
    c = cluster("fill-first")
    first, second, third = ACCOUNTS
    # A cooldown from before the outage.
    mock_upstream.schedule(first, [{"status": 429, "retry_after": "60"}], then="ok")
    assert send(c.lb) == 200
    wait_until(lambda: all(r.cooling() == 1 for r in c.replicas), 5, "the first cooldown")
    load = Load(c.lb)
    try:
        wait_until(lambda: load.ok >= 5, 10, "the load to run")
        c.redis.stop()
        wait_until(lambda: c.all_connected(False), 10, "every replica to see redis gone")
        ok_at_loss = load.ok
        for r in c.replicas:
            ready = r.readyz()
            assert ready["_status"] == 200, ready
            assert ready["shared_state"]["last_error"], ready
        wait_until(lambda: load.ok >= ok_at_loss + 5, 10, "requests served without redis")
        c.redis.start()
        wait_until(c.all_connected, 15, "every replica to reconnect")
        wait_until(lambda: load.ok >= ok_at_loss + 10, 10, "requests after the restart")
    finally:
        load.stop()
    assert load.failed == [], load.failed
    for r in c.replicas:
        # Log lines reach the file a few ms after the fact: wait for the recovery line.
        log = r.gw.wait_log("Redis reachable again")
        lines = [line for line in log.splitlines() if "shared_state" in line]
        assert log.count("Redis unreachable") == 1, lines
        assert log.count("Redis reachable again") == 1, lines

    # Redis came back empty; the replicas wrote the cooldown they keep back into it, so a
    # replica started now still finds it.
    late = c.another()
    wait_until(lambda: late.shared()["connected"], 10, "the late replica to connect")
    assert late.cooling() == 1

    # A cooldown recorded after the restart reaches every replica.
    mock_upstream.schedule(second, [{"status": 429, "retry_after": "60"}], then="ok")
    before = {a: calls(mock_upstream, a) for a in ACCOUNTS}
    assert send(c.lb) == 200
    assert calls(mock_upstream, second) == before[second] + 1
    everyone = [*c.replicas, late]
    wait_until(lambda: all(r.cooling() == 2 for r in everyone), 5, "the second cooldown")
    for _ in range(6):
        assert send(c.lb) == 200
    assert send(late.gw.url) == 200
    assert calls(mock_upstream, first) == before[first]
    assert calls(mock_upstream, second) == before[second] + 1
    assert calls(mock_upstream, third) == before[third] + 8


def test_kill_9_of_one_replica_fails_at_most_its_request_in_flight_and_it_rejoins(
        cluster, mock_upstream):
    c = cluster("fill-first")
    first = ACCOUNTS[0]
    mock_upstream.schedule(first, [{"status": 429, "retry_after": "60"}], then="ok")
    assert send(c.lb) == 200
    wait_applied(c, 2, "the cooldown to reach the other replicas")
    load = Load(c.lb)
    try:
        wait_until(lambda: load.ok >= 5, 10, "the load to run")
        victim = c.replicas[1]
        victim.gw.proc.popen.kill()
        victim.gw.proc.popen.wait(timeout=10)
        at_kill = load.ok
        wait_until(lambda: load.ok >= at_kill + 10, 10, "requests after the kill")
    finally:
        load.stop()
    # One client: at most one request was in flight on the killed replica.
    assert len(load.failed) <= 1, load.failed
    assert calls(mock_upstream, first) == 1, "the others kept the cooldown"
    back = c.restart(victim)
    wait_until(lambda: back.shared()["connected"], 10, "the restarted replica to rejoin")
    assert back.shared()["applied"] >= 1, "it loaded the live cooldown"
    for _ in range(3):
        assert send(back.gw.url) == 200
    assert calls(mock_upstream, first) == 1, _show(mock_upstream.journal(first))


def _threads(gw: Gateway) -> list[str]:
    task = Path(f"/proc/{gw.proc.popen.pid}/task")
    return [(d / "comm").read_text().strip() for d in task.iterdir()]


def test_without_shared_state_nothing_is_started(gateway, mock_upstream):
    gw = gateway(gateway_config(claude=[Account(ACCOUNTS[0], mock_upstream.url,
                                                [("claude-up", MODEL)])]))
    assert send(gw.url) == 200
    assert "shared-state" not in _threads(gw)
    assert not {"refresh-lock", "config-sync", "auth-mirror"} & set(_threads(gw))
    ready = http_request("GET", f"{gw.url}/readyz").json()
    assert "shared_state" not in ready, ready


def test_a_replica_with_shared_state_runs_its_writer_thread_and_reports_it(cluster):
    c = cluster()
    for r in c.replicas:
        assert {"shared-state", "refresh-lock", "config-sync"} <= set(_threads(r.gw))
        assert "auth-mirror" not in _threads(r.gw), "auth-store is off by default"
        text = http_request("GET", f"{r.metrics}/metrics").body.decode()
        assert "switchyard_shared_state_connected 1" in text, text
        assert "switchyard_shared_state_dropped_writes_total 0" in text, text
