#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind: the A/B number that does not move
with the machine's load (CPU time per request on a shared 2-core machine moves by ±30% between
rounds; an instruction count of the same binary and requests repeats to a fraction of a
percent). It does not see cache misses or syscall cost, so it complements cpu_ab.py rather than
replacing it.

  python3 benches/load/icount.py --mock target/release/switchyard-mock \
      old=../old/target/release/switchyard new=target/release/switchyard [--requests 400]

Each gateway runs under `valgrind --tool=callgrind --instr-atstart=no` against the native mock;
warm-up requests run uninstrumented, then `callgrind_control -i on`, the measured requests one
at a time on one keep-alive connection, and `callgrind_control -d`. Every thread of the gateway
is counted (workers, log writer, timers). Prints, per case, instructions per request and the
ratio to the first binary. A binary may get extra top-level config lines (`--config NAME=LINE`)
and environment (`--env NAME=KEY=VALUE`); gateways run with `RUST_LOG=warn` (no access line)
unless `--env` says otherwise, e.g. the observability budget, everything on against off:

  python3 benches/load/icount.py --mock M on=BIN off=BIN --env on=RUST_LOG=info \
      --config 'on=metrics: {listen: "127.0.0.1:0"}' --config 'off=server-timing: false' 
Standard library and valgrind only.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "passthrough": ("/v1/chat/completions", {"model": "gpt-bench", "stream": False}),
    "passthrough-stream": ("/v1/chat/completions", {"model": "gpt-bench", "stream": True}),
    "translated": ("/v1/messages", {"model": "translated-bench", "stream": False, "max_tokens": 64}),
    "translated-stream": ("/v1/messages", {"model": "translated-bench", "stream": True,
                                           "max_tokens": 64}),
}
KEY = "sk-icount"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"process exited early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"port {port} never opened")


def config(port, mock_port, extra, auth_dir):
    return "\n".join([
        "host: 127.0.0.1", f"port: {port}", f'api-keys: ["{KEY}"]', f'auth-dir: "{auth_dir}"',
        "openai-compatibility:",
        "  - name: bench",
        f'    base-url: "http://127.0.0.1:{mock_port}/v1"',
        "    api-key-entries: [{api-key: acct-bench}]",
        "    models: [{name: gpt-bench}, {name: gpt-bench, alias: translated-bench}]",
        *extra, ""])


def body(case):
    path, fields = CASES[case]
    msg = {"role": "user", "content": "Say hello in one short sentence. " * 8}
    return path, json.dumps(dict(fields, messages=[msg])).encode()


def run(conn, path, payload):
    conn.request("POST", path, payload, {"authorization": f"Bearer {KEY}", "x-api-key": KEY,
                                         "content-type": "application/json",
                                         "anthropic-version": "2023-06-01"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {data[:200]!r}")


def measure(binary, mock_port, case, requests, warmup, extra, extra_env, work):
    port = free_port()
    cfg = work / f"{case}-{port}.yaml"
    # An empty auth-dir and HOME of its own: what the watcher finds in ~/.cli-proxy-api (a
    # usage-statistics.json, auth files) is background work the count would charge to requests.
    auth_dir = work / f"auth-{port}"
    auth_dir.mkdir()
    cfg.write_text(config(port, mock_port, extra, auth_dir))
    out = work / f"callgrind.{port}"
    env = {**os.environ, "RUST_LOG": "warn", "HOME": str(work), **extra_env}
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         binary, "serve", "--config", str(cfg)],
        stdout=subprocess.DEVNULL, stderr=open(work / f"gw-{port}.log", "w"), env=env, cwd=work)
    try:
        wait_port(port, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        path, payload = body(case)
        for _ in range(warmup):
            run(conn, path, payload)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        for _ in range(requests):
            run(conn, path, payload)
        # The logging phase and the log writer finish just after the response.
        time.sleep(0.5)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True,
                       stdout=subprocess.DEVNULL)
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    total = 0
    for f in work.glob(f"callgrind.{port}.*"):
        for line in f.read_text(errors="replace").splitlines():
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                total += int(m.group(1))
                break
    return total / requests


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--only", default="", help="comma-separated cases: " + ", ".join(CASES))
    ap.add_argument("--config", action="append", default=[], metavar="NAME=LINE")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=KEY=VALUE")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the callgrind files here (for callgrind_annotate)")
    ap.add_argument("binaries", nargs="+", metavar="NAME=BINARY")
    args = ap.parse_args()
    bins = [b.split("=", 1) for b in args.binaries]
    extra = {n: [] for n, _ in bins}
    for c in args.config:
        n, line = c.split("=", 1)
        extra[n].append(line)
    envs = {n: {} for n, _ in bins}
    for e in args.env:
        n, kv = e.split("=", 1)
        k, v = kv.split("=", 1)
        envs[n][k] = v
    cases = [c for c in CASES if not args.only or c in args.only.split(",")]
    mock_port = free_port()
    mock = subprocess.Popen([args.mock, "--listen", f"127.0.0.1:{mock_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(mock_port, mock)
        with tempfile.TemporaryDirectory(prefix="icount-") as tmp:
            work = Path(args.keep or tmp)
            work.mkdir(parents=True, exist_ok=True)
            print("| case | " + " | ".join(f"{n} (instructions/request)" for n, _ in bins)
                  + " | " + " | ".join(f"{n}/{bins[0][0]}" for n, _ in bins[1:]) + " |")
            print("|---" * (1 + 2 * len(bins) - 1) + "|")
            for case in cases:
                got = [measure(b, mock_port, case, args.requests, args.warmup, extra[n], envs[n],
                               work)
                       for n, b in bins]
                ratios = [f"{g / got[0]:.3f}" for g in got[1:]]
                print(f"| {case} | " + " | ".join(f"{g:,.0f}" for g in got) + " | "
                      + " | ".join(ratios) + " |", flush=True)
    finally:
        mock.terminate()
        mock.wait(10)


if __name__ == "__main__":
    sys.exit(main())
