"""The gateway's life as an operator sees it: start-up that tells the truth, the probes, the
drain on SIGTERM and the socket hand-over of ``serve --upgrade``.

* Start-up failures (port in use, a certificate that does not load, an auth dir that cannot be
  created): exit code 1 within a second, and stderr is one line saying what is wrong.
* ``SWITCHYARD_CONFIG`` stands in for ``--config``; ``--version`` names the commit;
  ``host: ""`` answers on IPv4 and IPv6.
* ``/readyz``: 200 with accounts that can serve, 503 with the reason otherwise.
* SIGTERM with streams open: the listener closes at once, streams released during the grace
  period complete and the process exits as the last one ends; streams still held are not cut
  before ``shutdown-grace-seconds``; an idle gateway exits at once.
* ``serve --upgrade`` under load: wrk (4 connections, closed loop) and 100 open streams across
  the hand-over: wrk sees no error and no non-2xx answer, every stream completes on the old
  process, the new one serves on.

Streams are held open by the mock (``hold_after_events``) and released with ``/_mock/release``,
so no step depends on timing.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import (ACCT_CLAUDE, ACCT_OAI, CLIENT_KEY, MODEL_CLAUDE, MODEL_OAI, REPO,
                      _register_log, free_port, http_request, post_json, repo_path,
                      standard_config,
                      start_gateway, start_proc, wait_until)


def serve(config: Path, *args: str, env: dict | None = None, timeout: float = 10):
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    e = dict(os.environ, NO_COLOR="1", **(env or {}))
    t0 = time.monotonic()
    r = subprocess.run([str(binary), "serve", "--config", str(config), *args], env=e,
                       capture_output=True, text=True, timeout=timeout, cwd=config.parent)
    return r, time.monotonic() - t0


def assert_one_line_failure(r, elapsed: float, expected: str):
    assert r.returncode == 1, f"exit {r.returncode}\n{r.stderr}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{r.stderr}"
    assert re.fullmatch(expected, lines[0]), lines[0]
    assert elapsed < 1.0, f"took {elapsed:.2f}s to fail"


def minimal(port: int, auth: Path, extra: str = "") -> str:
    return (f'host: "127.0.0.1"\nport: {port}\nauth-dir: "{auth}"\nshutdown-grace-seconds: 0\n'
            'api-keys: [sk-client]\n' + extra)


# --------------------------------------------------------------------------- start-up


def test_port_in_use_fails_fast_with_one_line(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(minimal(port, tmp_path / "auth"))
    try:
        r, elapsed = serve(cfg)
    finally:
        holder.close()
    assert_one_line_failure(
        r, elapsed,
        rf"error: cannot listen on 127\.0\.0\.1:{port}: the port is in use \(another process listens there\)")


def test_bad_certificate_fails_fast_with_one_line(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    key.write_text("not a key\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(minimal(free_port(), tmp_path / "auth",
                           f'tls: {{enable: true, cert: "{cert}", key: "{key}"}}\n'))
    r, elapsed = serve(cfg)
    assert_one_line_failure(r, elapsed, r"error: tls: .*cert\.pem.*")


def test_auth_dir_that_cannot_be_created_fails_fast_with_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(minimal(free_port(), blocker / "auth"))
    r, elapsed = serve(cfg)
    assert_one_line_failure(r, elapsed,
                            rf"error: auth-dir {re.escape(str(blocker))}/auth: cannot create it: .*")


def test_upgrade_with_nothing_to_take_over_fails_fast_with_one_line(tmp_path):
    port = free_port()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(minimal(port, tmp_path / "auth"))
    r, elapsed = serve(cfg, "--upgrade", "--upgrade-socket", str(tmp_path / "u.sock"))
    assert_one_line_failure(
        r, elapsed,
        rf"error: serve --upgrade: nothing listens on 127\.0\.0\.1:{port} to take over "
        r"\(start without --upgrade\)")


def test_config_from_environment_and_auth_dir_created_private(tmp_path, mock_upstream):
    port = free_port()
    auth = tmp_path / "new" / "auth"
    cfg = tmp_path / "from-env.yaml"
    cfg.write_text(standard_config(mock_upstream.url, port=port)
                   + f'auth-dir: "{auth}"\n')
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    env = dict(os.environ, SWITCHYARD_CONFIG=str(cfg), NO_COLOR="1")
    r = subprocess.run([str(binary), "check-config"], env=env, capture_output=True, text=True,
                       cwd=tmp_path, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == f"{cfg}: ok", r.stdout + r.stderr
    proc = start_proc("switchyard-env", [str(binary), "serve"], tmp_path, env=env, cwd=tmp_path)
    try:
        def healthy():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                return resp.status == 200
        wait_until(healthy, 30, "the gateway started from $SWITCHYARD_CONFIG", proc)
        assert (auth.stat().st_mode & 0o777) == 0o700
    finally:
        proc.stop()


def test_version_names_the_commit():
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    r = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10)
    m = re.fullmatch(r"switchyard (\d+\.\d+\.\d+) \(commit (\S+)\)\n", r.stdout)
    assert m, r.stdout
    git = shutil.which("git")
    if git and (REPO / ".git").exists() and not os.environ.get("SWITCHYARD_COMMIT"):
        head = subprocess.run([git, "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        assert m.group(2) == head


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_empty_host_listens_on_ipv4_and_ipv6(tmp_path, gateway, mock_upstream):
    text = standard_config(mock_upstream.url).replace("host: 127.0.0.1\n", 'host: ""\n')
    gw = gateway(text)
    with urllib.request.urlopen(f"http://127.0.0.1:{gw.port}/healthz", timeout=5) as r:
        assert r.status == 200
    if ipv6_loopback():
        with urllib.request.urlopen(f"http://[::1]:{gw.port}/healthz", timeout=5) as r:
            assert r.status == 200
    else:
        assert "0.0.0.0:" in gw.log_text(), "no IPv6 here: IPv4 only, and the log says so"


# --------------------------------------------------------------------------- /readyz


def readyz(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_readyz_follows_the_accounts(tmp_path, gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url))
    assert readyz(gw.url) == (200, {"status": "ready", "accounts": 4})

    # No account at all: alive (healthz) but not ready.
    empty = gateway(minimal(free_port(), tmp_path / "auth"))
    assert readyz(empty.url) == (
        503, {"status": "not_ready", "reason": "no account configured (config and auth-dir have none)"})
    with urllib.request.urlopen(f"{empty.url}/healthz", timeout=5) as r:
        assert r.status == 200

    # Its only account answers 401: it cools down, and readiness says why.
    one = gateway(minimal(free_port(), tmp_path / "auth2",
                          'openai-compatibility:\n  - name: mock\n'
                          f'    base-url: "{mock_upstream.url}/v1"\n'
                          f'    api-key-entries: [{{api-key: {ACCT_OAI}}}]\n'
                          f'    models: [{{name: {MODEL_OAI}}}]\n'))
    assert readyz(one.url)[0] == 200
    mock_upstream.schedule(ACCT_OAI, [{"status": 401}])
    body = json.dumps({"model": MODEL_OAI, "messages": [{"role": "user", "content": "hi"}]})
    conn = http.client.HTTPConnection("127.0.0.1", one.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", body,
                 {"Authorization": "Bearer sk-client", "Content-Type": "application/json"})
    assert conn.getresponse().status == 401
    conn.close()
    assert readyz(one.url) == (
        503, {"status": "not_ready", "reason": "all 1 account(s) are cooling down (unauthorized)"})


def model_ids(url: str) -> list[str]:
    req = urllib.request.Request(f"{url}/v1/models",
                                 headers={"Authorization": f"Bearer {CLIENT_KEY}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return sorted(m["id"] for m in json.load(r)["data"])


def test_sighup_reloads_the_config_and_keeps_it_on_a_bad_one(tmp_path, gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url))
    assert MODEL_OAI in model_ids(gw.url)
    # Without the openai-compatibility account: its model leaves the list on SIGHUP.
    text = gw.config_path.read_text()
    gw.config_path.write_text(text[:text.index("openai-compatibility:")])
    gw.proc.popen.send_signal(signal.SIGHUP)
    wait_until(lambda: MODEL_OAI not in model_ids(gw.url), 10, "the reloaded config", gw.proc)
    after = model_ids(gw.url)
    # A config with a problem: logged, and the running one stays.
    gw.config_path.write_text("port: not-a-number\n")
    gw.proc.popen.send_signal(signal.SIGHUP)
    wait_until(lambda: log_has(gw.proc, "SIGHUP: config not reloaded"), 10, "the refusal",
               gw.proc)
    assert model_ids(gw.url) == after
    assert gw.proc.popen.poll() is None


# --------------------------------------------------------------------------- streams


class HeldStream:
    """A Claude stream the mock holds after its first text delta (``hold_after_events: 4``)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"model": MODEL_CLAUDE, "stream": True, "max_tokens": 32,
                           "messages": [{"role": "user", "content": "MOCK_REPLY[one two three]"}]})
        self.conn.request("POST", "/v1/messages", body,
                          {"Authorization": f"Bearer {CLIENT_KEY}",
                           "Content-Type": "application/json"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        self.events: list[str] = []
        self.error: BaseException | None = None
        self.ended_at: float | None = None
        self._read_until("content_block_delta")

    def _read_until(self, wanted: str | None) -> None:
        while True:
            line = self.resp.readline()
            if not line:
                return
            line = line.decode().strip()
            if line.startswith("event:"):
                self.events.append(line[6:].strip())
                if self.events[-1] == wanted:
                    return

    def finish(self) -> None:
        try:
            self._read_until(None)
        except (OSError, http.client.HTTPException) as e:
            self.error = e
        self.ended_at = time.monotonic()
        self.conn.close()

    @property
    def complete(self) -> bool:
        return self.error is None and bool(self.events) and self.events[-1] == "message_stop"


def open_streams(port: int, n: int) -> list[HeldStream]:
    out: list[HeldStream | BaseException] = [None] * n  # type: ignore[list-item]

    def one(i):
        try:
            out[i] = HeldStream(port)
        except BaseException as e:  # noqa: BLE001 - reported below
            out[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [s for s in out if not isinstance(s, HeldStream)]
    assert not errors, f"{len(errors)} streams failed to open: {errors[:3]}"
    return out  # type: ignore[return-value]


def finish_all(streams: list[HeldStream]) -> list[threading.Thread]:
    threads = [threading.Thread(target=s.finish) for s in streams]
    for t in threads:
        t.start()
    return threads


def log_has(proc, text: str) -> bool:
    return text in proc.log_text(limit=10**7)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


def test_sigterm_drains_open_streams_and_exits_when_the_last_ends(tmp_path, gateway, mock_upstream):
    grace = 30
    gw = gateway(standard_config(mock_upstream.url, shutdown_grace=grace))
    mock_upstream.schedule(ACCT_CLAUDE, [], then={"hold_after_events": 4})
    streams = open_streams(gw.port, 20)
    assert readyz(gw.url)[0] == 200

    t_term = time.monotonic()
    gw.proc.popen.send_signal(signal.SIGTERM)
    wait_until(lambda: log_has(gw.proc, "Graceful shutdown started"), 10, "the drain to start")
    # New connections are refused at once; the streams in flight go on and complete.
    wait_until(lambda: refused(gw.port), 5, "the listener to close")
    assert gw.proc.popen.poll() is None, "exited with streams in flight"
    post_json(f"{mock_upstream.url}/_mock/release", {})
    for t in finish_all(streams):
        t.join(30)
    assert all(s.complete for s in streams), [(s.events, s.error) for s in streams]
    # Nothing is in flight any more: the process ends now, not at the end of the grace period.
    assert gw.proc.popen.wait(timeout=grace - 10) == 0
    assert time.monotonic() - t_term < grace - 10
    assert log_has(gw.proc, "SIGTERM: nothing in flight, exiting")


def test_sigterm_on_an_idle_gateway_exits_at_once(tmp_path, gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, shutdown_grace=60))
    body = json.dumps({"model": MODEL_CLAUDE, "max_tokens": 5,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/messages", body,
                     {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
                      "content-type": "application/json"})
    assert r.status == 200, r.body
    gw.proc.popen.send_signal(signal.SIGTERM)
    # Well inside the 60 s grace period (the old behaviour slept all of it).
    assert gw.proc.popen.wait(timeout=20) == 0
    assert log_has(gw.proc, "SIGTERM: nothing in flight, exiting")


def test_sigterm_cuts_nothing_before_the_grace_period(tmp_path, gateway, mock_upstream):
    grace = 2
    gw = gateway(standard_config(mock_upstream.url, shutdown_grace=grace))
    mock_upstream.schedule(ACCT_CLAUDE, [], then={"hold_after_events": 4})
    held = open_streams(gw.port, 10)
    t_term = time.monotonic()
    gw.proc.popen.send_signal(signal.SIGTERM)
    # Never released: they end when the process does, after the grace period, not before.
    for t in finish_all(held):
        t.join(grace + 15)
    ended = [s.ended_at - t_term for s in held]
    assert min(ended) >= grace, ended
    assert gw.proc.popen.wait(timeout=10) == 0
    post_json(f"{mock_upstream.url}/_mock/release", {})


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"model": "%s", "messages": [{"role": "user", "content": "hi"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def test_upgrade_hands_over_under_load_without_a_failed_request(tmp_path, mock_upstream, request):
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.fail("wrk is missing: run scripts/install-test-deps.sh", pytrace=False)
    grace = 6
    text = standard_config(mock_upstream.url, shutdown_grace=grace)
    sock = tmp_path / "upgrade.sock"
    env = {"SWITCHYARD_UPGRADE_SOCKET": str(sock)}
    old = start_gateway(text, tmp_path / "old", name="switchyard-old", env=env)
    _register_log(request, old.proc)
    new_proc = None
    try:
        mock_upstream.schedule(ACCT_CLAUDE, [], then={"hold_after_events": 4})
        streams = open_streams(old.port, 100)
        assert len(mock_upstream.journal(ACCT_CLAUDE)) == 100

        script = tmp_path / "post.lua"
        script.write_text(WRK_SCRIPT % (MODEL_OAI, CLIENT_KEY))
        load = subprocess.Popen(
            [wrk, "-t1", "-c4", "-d12s", "--timeout", "10s", "-s", str(script), old.url + "/v1/chat/completions"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        # The new process waits on the upgrade socket; SIGQUIT makes the old one send.
        binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
        new_dir = tmp_path / "new"
        new_dir.mkdir()
        new_env = dict(os.environ, NO_COLOR="1", HOME=str(new_dir), **env)
        new_proc = start_proc("switchyard-new",
                              [str(binary), "serve", "--upgrade", "--config", str(old.config_path)],
                              new_dir, env=new_env, cwd=new_dir)
        _register_log(request, new_proc)
        wait_until(lambda: sock.exists(), 10, "the new process's upgrade socket", new_proc)
        old.proc.popen.send_signal(signal.SIGQUIT)
        wait_until(lambda: log_has(new_proc, "switchyard listening"), 15,
                   "the new process to take the sockets", new_proc)
        # The old process stops accepting; its streams are still open. Let them finish now.
        wait_until(lambda: log_has(old.proc, "Graceful shutdown started"), 15,
                   "the old process to stop accepting", old.proc)
        post_json(f"{mock_upstream.url}/_mock/release", {})
        for t in finish_all(streams):
            t.join(30)
        assert old.proc.popen.poll() is None, "the old process exited before its streams ended"
        incomplete = [(s.events, s.error) for s in streams if not s.complete]
        assert not incomplete, f"{len(incomplete)} of 100 streams cut: {incomplete[:3]}"

        out, _ = load.communicate(timeout=60)
        assert load.returncode == 0, out
        assert "Socket errors" not in out, out
        assert "Non-2xx" not in out, out
        done = int(re.search(r"(\d+) requests in", out).group(1))
        assert done > 0, out
        # The load went on through the new process once the old one stopped accepting.
        assert 'path="/v1/chat/completions" status=200' in new_proc.log_text(limit=10**8), out

        # The old process ends after its grace period; the new one serves on.
        assert old.proc.popen.wait(timeout=grace + 15) == 0
        with urllib.request.urlopen(f"{old.url}/healthz", timeout=5) as r:
            assert r.status == 200
        assert new_proc.popen.poll() is None
    finally:
        if new_proc is not None:
            new_proc.stop()
        old.proc.stop()
        post_json(f"{mock_upstream.url}/_mock/release", {})
