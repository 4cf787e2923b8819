#!/usr/bin/env python3
"""Scale at idle with many OAuth accounts: start to first answer, RSS, and the CPU of the
gateway's threads at idle, for one or more gateway binaries side by side in one run.

    benches/oauth_scale.py --gateway OLD --gateway NEW [--accounts 10000] [--idle-seconds 30]

For each round, each binary in turn: a fresh gateway on a free port with `auth-dir` holding
N Codex auth files (CLIProxyAPI's format, tokens valid until 2099, as `benches/run --phases
oauth` writes them) and one OpenAI-compatible account at `switchyard-mock`. Measured:
- start to the first 200 answer to a chat request (sent every millisecond until it listens);
- VmRSS right after that answer, and after 20 more requests and 1 s ("idle RSS");
- CPU at idle: clock ticks (utime + stime, /proc/<pid>/task/*/stat) over `--idle-seconds`
  with no traffic, per thread name and in total, as a share of one core.
Python standard library only; everything is written under a temporary directory that is
removed at the end.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY = "sk-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_codex_auth_files(d, n):
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i in range(n):
        p = d / f"codex-bench{i:05d}@example.com-plus.json"
        p.write_text(json.dumps({"type": "codex", "access_token": f"tok-{i:05d}",
                                 "refresh_token": f"rt-{i:05d}", "account_id": f"acct-{i:05d}",
                                 "email": f"bench{i:05d}@example.com",
                                 "expired": "2099-01-01T00:00:00Z"}))
        p.chmod(0o600)


def post(port, timeout=5.0):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/v1/chat/completions", body,
                  {"authorization": f"Bearer {KEY}", "content-type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def thread_ticks(pid):
    """{thread name: utime + stime ticks} summed over threads of the same name."""
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        fields = s[s.rindex(")") + 2:].split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def run_one(gateway, mock_port, auth, work, idle_seconds):
    port = free_port()
    cfg = work / f"config-{port}.yaml"
    cfg.write_text("\n".join([
        "host: 127.0.0.1", f"port: {port}", "workers: 1", "shutdown-grace-seconds: 0",
        f"api-keys: [{KEY}]", f"auth-dir: {auth}",
        "oauth-overrides:", "  codex:", f"    base-url: http://127.0.0.1:{mock_port}/v1",
        "openai-compatibility:", "  - name: mock", f"    base-url: http://127.0.0.1:{mock_port}/v1",
        "    api-key-entries: [{api-key: x}]", "    models: [{name: m}]", ""]))
    log = open(work / f"gateway-{port}.log", "wb")
    t0 = time.monotonic()
    p = subprocess.Popen([gateway, "serve", "--config", str(cfg)], stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            if p.poll() is not None:
                raise RuntimeError(f"gateway exited: {(work / f'gateway-{port}.log').read_text()[-2000:]}")
            try:
                if post(port) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - t0 > 120:
                raise RuntimeError("no answer in 120 s")
            time.sleep(0.001)
        startup_ms = (time.monotonic() - t0) * 1000
        rss_first = rss_kb(p.pid)
        for _ in range(20):
            post(port)
        time.sleep(1.0)
        rss_idle = rss_kb(p.pid)
        before = thread_ticks(p.pid)
        time.sleep(idle_seconds)
        after = thread_ticks(p.pid)
        per_thread = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        per_thread = {k: v for k, v in per_thread.items() if v}
        total = sum(per_thread.values())
        return {"startup_ms": round(startup_ms, 1), "rss_first_kb": rss_first,
                "rss_idle_kb": rss_idle,
                "idle_cpu_pct": round(100.0 * total / CLK_TCK / idle_seconds, 2),
                "idle_ticks_by_thread": per_thread}
    finally:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gateway", action="append", required=True, help="binary (repeat to compare)")
    ap.add_argument("--mock", default=str(HERE.parent / "target/debug/switchyard-mock"))
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="switchyard-oauth-scale-"))
    mock = None
    try:
        mock_port = free_port()
        mock = subprocess.Popen([a.mock, "--listen", f"127.0.0.1:{mock_port}", "--threads", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        auth = work / "auth-dir"
        write_codex_auth_files(auth, a.accounts)
        # Files older than the watcher's timestamp granularity (2 s), as they are in a running
        # deployment (a file written less than 2 s before start is read once more at start).
        time.sleep(2.5)
        results = {g: [] for g in a.gateway}
        for r in range(a.rounds):
            for g in a.gateway:
                res = run_one(g, mock_port, auth, work, a.idle_seconds)
                print(f"round {r + 1} {g}: {json.dumps(res)}", flush=True)
                results[g].append(res)
        print(f"\n{a.accounts} OAuth accounts, medians of {a.rounds} round(s), idle {a.idle_seconds:.0f} s")
        print(f"{'gateway':<40} {'start ms':>9} {'RSS first MB':>13} {'RSS idle MB':>12} {'idle CPU %':>11}")
        for g, rs in results.items():
            med = lambda k: statistics.median(x[k] for x in rs)
            print(f"{g[-40:]:<40} {med('startup_ms'):>9.0f} {med('rss_first_kb') / 1024:>13.1f} "
                  f"{med('rss_idle_kb') / 1024:>12.1f} {med('idle_cpu_pct'):>11.2f}")
    finally:
        if mock is not None:
            os.killpg(mock.pid, signal.SIGKILL)
            mock.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
