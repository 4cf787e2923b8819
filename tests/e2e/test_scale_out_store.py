"""Scale-out, auth store (docs/scale-out.md "Auth store"): three replicas, each with its own
empty ``auth-dir`` and ``shared-state.auth-store: true``, a real redis-server and the test
OpenID provider. The OAuth token files live in the Redis hash ``{prefix}auth``; each
replica's ``auth-dir`` is a mirror of it. No directory is shared between replicas: a file
put into one replica's directory, refreshed there or deleted there reaches the others through
Redis only.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import free_port, gateway_config, http_request, wait_until
from test_login_oauth import login_codex, oidc, write_config  # noqa: F401
from test_scale_out import Redis, Replica, _nginx, _threads
from test_scale_out_refresh import REFRESHED, Load, grants, log_count, responses

PREFIX = "sy-store:"


def put(path: Path, data: bytes) -> None:
    """Writes ``data`` as an operator would drop a file in: atomically, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.put")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def redis_hget(redis: Redis, key: str, field: str) -> bytes | None:
    """``HGET`` over RESP, without a client library."""
    def bulk(s: str) -> bytes:
        b = s.encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)

    with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as s:
        s.sendall(b"*3\r\n" + bulk("HGET") + bulk(key) + bulk(field))
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        head, rest = buf.split(b"\r\n", 1)
        n = int(head[1:])
        if n < 0:
            return None
        while len(rest) < n + 2:
            rest += s.recv(65536)
        return rest[:n]


@dataclass
class StoreCluster:
    redis: Redis
    replicas: list[Replica]
    dirs: list[Path]
    login_file: Path
    start: object  # () -> (Replica, Path): one more replica with its own empty auth-dir

    def files(self, name: str) -> list[bytes | None]:
        return [(d / name).read_bytes() if (d / name).exists() else None for d in self.dirs]


@pytest.fixture
def store_cluster(request, tmp_path, gateway, mock_upstream, oidc):  # noqa: F811
    """redis-server, a Codex login saved in ``tmp_path/auths`` (served by no replica), and
    three replicas with auth-store on, each with an empty ``auth-dir`` of its own."""
    stop = []

    def make() -> StoreCluster:
        cfg = write_config(tmp_path, oidc, base_url=f"{mock_upstream.url}/v1")
        login_file, _ = login_codex(request, tmp_path, oidc, cfg)
        redis = Redis(request, tmp_path / "redis")
        redis.work.mkdir(parents=True, exist_ok=True)
        redis.start()
        stop.append(redis.stop)
        replicas, dirs = [], []
        base = cfg.read_text()
        assert base.startswith(f"auth-dir: {tmp_path / 'auths'}\n")

        def start() -> tuple[Replica, Path]:
            d = tmp_path / f"replica-auths-{len(dirs)}"
            metrics_port = free_port()
            text = gateway_config(extra=(
                f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"
                f"shared-state: {{redis-url: {json.dumps(redis.url)}, "
                f"key-prefix: \"{PREFIX}\", timeout-ms: 500, auth-store: true}}\n"
            )) + base.replace(f"auth-dir: {tmp_path / 'auths'}", f"auth-dir: {d}", 1)
            r = Replica(gateway(text), f"http://127.0.0.1:{metrics_port}", text)
            replicas.append(r)
            dirs.append(d)
            return r, d

        for _ in range(3):
            start()
        c = StoreCluster(redis, replicas, dirs, login_file, start)
        wait_until(lambda: all(r.shared()["connected"] for r in replicas), 10,
                   "every replica connected to redis")
        assert len({str(d) for d in dirs}) == 3
        assert all("auth-mirror" in _threads(r.gw) for r in replicas)
        assert all(not [f for f in d.glob("*.json") if not f.name.startswith(".")]
                   for d in dirs), "each auth-dir starts without accounts"
        return c

    yield make
    for s in reversed(stop):
        s()


def sends(r: Replica, mock, token: str) -> bool:
    """One request straight to ``r``: answered 200, and the upstream saw exactly ``token``."""
    before = len(mock.journal())
    status = responses(r.gw.url)
    return status == 200 and [e["account"] for e in mock.journal()[before:]] == [token]


def every_replica_sends(c: StoreCluster, mock, token: str, replicas=None) -> None:
    for r in replicas or c.replicas:
        wait_until(lambda r=r: sends(r, mock, token), 15, f"{r.gw.url} to send the token",
                   interval=0.3)


def test_a_file_put_on_one_replica_is_refreshed_and_deleted_everywhere(
        store_cluster, oidc, mock_upstream):  # noqa: F811
    c = store_cluster()
    name = c.login_file.name
    data = c.login_file.read_bytes()
    first = json.loads(data)
    # Import: the CLIProxyAPI file dropped into replica A's auth-dir only.
    put(c.dirs[0] / name, data)
    wait_until(lambda: c.files(name) == [data] * 3, 10, "the file on every replica")
    assert redis_hget(c.redis, f"{{{PREFIX}}}auth", name) == data
    for d in c.dirs:
        assert (d / name).stat().st_mode & 0o777 == 0o600
    every_replica_sends(c, mock_upstream, first["access_token"])

    # A refresh on replica B (its upstream rejects the token once) reaches A's and C's files.
    mock_upstream.schedule(first["access_token"], [{"status": 401}])
    assert responses(c.replicas[1].gw.url) == 200
    assert grants(oidc) == {"ok": 1, "error": 0}
    after = json.loads((c.dirs[1] / name).read_text())
    assert after["access_token"] != first["access_token"]
    assert after["refresh_token"] != first["refresh_token"]
    wait_until(lambda: len({f for f in c.files(name)}) == 1, 10, "the refreshed file everywhere")
    assert json.loads(c.files(name)[2])["access_token"] == after["access_token"]
    every_replica_sends(c, mock_upstream, after["access_token"])
    assert grants(oidc) == {"ok": 1, "error": 0}, "the others used the new token, no refresh"
    assert [log_count(r, REFRESHED) for r in c.replicas] == [0, 1, 0]
    # Nothing echoed back: the file settled, and Redis holds the refreshed bytes.
    time.sleep(1.0)
    assert redis_hget(c.redis, f"{{{PREFIX}}}auth", name) == (c.dirs[1] / name).read_bytes()

    # A delete on replica C removes the account everywhere.
    (c.dirs[2] / name).unlink()
    wait_until(lambda: c.files(name) == [None] * 3, 10, "the file gone from every replica")
    assert redis_hget(c.redis, f"{{{PREFIX}}}auth", name) is None
    time.sleep(1.5)  # the auth-dir watchers rebuild (1 s tick)
    before = len(mock_upstream.journal())
    for r in c.replicas:
        assert responses(r.gw.url) != 200
    assert mock_upstream.journal()[before:] == [], "no replica still used the account"
    assert c.files(name) == [None] * 3, "not resurrected by any replica"


def test_a_replica_started_later_has_every_file_before_its_first_request(
        store_cluster, mock_upstream):
    c = store_cluster()
    name = c.login_file.name
    data = c.login_file.read_bytes()
    put(c.dirs[0] / name, data)
    wait_until(lambda: c.files(name) == [data] * 3, 10, "the file on every replica")
    late, d = c.start()
    # Its very first request, with no wait: the file came from Redis before the snapshot.
    assert (d / name).read_bytes() == data
    assert sends(late, mock_upstream, json.loads(data)["access_token"])


def test_redis_stopped_and_started_no_request_fails_and_the_replicas_converge(
        request, tmp_path, store_cluster, oidc, mock_upstream):  # noqa: F811
    c = store_cluster()
    name = c.login_file.name
    data = c.login_file.read_bytes()
    put(c.dirs[0] / name, data)
    wait_until(lambda: c.files(name) == [data] * 3, 10, "the file on every replica")
    every_replica_sends(c, mock_upstream, json.loads(data)["access_token"])
    lb_port = free_port()
    lb = _nginx(request, tmp_path / "nginx", lb_port, [r.gw.port for r in c.replicas])
    load = Load(f"http://127.0.0.1:{lb_port}")
    try:
        wait_until(lambda: load.ok >= 3, 20, "the load to run")
        c.redis.stop()
        wait_until(lambda: all(not r.shared()["connected"] for r in c.replicas), 10,
                   "every replica to see redis gone")
        # During the outage replica A's file changes (an operator edit): it stays local.
        edited = json.loads(data)
        edited["note"] = "edited during the outage"
        edited_bytes = json.dumps(edited).encode()
        put(c.dirs[0] / name, edited_bytes)
        time.sleep(1.0)
        assert c.files(name)[1:] == [data, data]
        ok_at = load.ok
        wait_until(lambda: load.ok >= ok_at + 3, 20, "requests during the outage")
        # Redis comes back empty (no persistence): the replicas refill it and converge on
        # the file changed during the outage.
        c.redis.start()
        wait_until(lambda: c.files(name) == [edited_bytes] * 3, 20,
                   "every replica to take the edited file")
        assert redis_hget(c.redis, f"{{{PREFIX}}}auth", name) == edited_bytes
        ok_at = load.ok
        wait_until(lambda: load.ok >= ok_at + 3, 20, "requests after the restart")
    finally:
        load.stop()
        lb.stop()
    assert load.failed == [], load.failed
    every_replica_sends(c, mock_upstream, json.loads(data)["access_token"])
    for r in c.replicas:
        assert log_count(r, "auth store: Redis unreachable") == 1, "the loss logged once"
