#!/usr/bin/env python3
"""Failover cost benchmark (issue 4): time to first byte of a stream when the first account
fails and the second answers, against the same request when the first account answers, in
one run. The failed call itself is timed directly against the mock, so

    added cost = TTFB(failover) - TTFB(healthy) - (failed call, direct)

is what the gateway adds for moving to the next account. Two failure kinds:
- ``429``: the first account answers HTTP 429 (failover in ``upstream_response_filter``);
- ``inband``: it answers 200 and then an in-band overload error before any content (stream
  bootstrap: the held stream is dropped and the request replayed on the next account).

Requests alternate between cases to share the machine's noise; paired medians are reported.
``disable-cooling: true`` makes every request pay the failover. 127.0.0.1 only.

    benches/failover/run.sh                # build release binaries, then run
    benches/failover/bench.py --gateway target/release/switchyard --mock target/release/switchyard-mock
"""

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "load"))
import bench as lb  # noqa: E402  (the load benchmark's helpers)

MODEL_OK = "healthy"
MODEL_429 = "first-429"
MODEL_INBAND = "first-inband"


def post(port, path, obj):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("POST", path, json.dumps(obj), {"content-type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def gateway(exe, mock, outdir):
    u = f"http://127.0.0.1:{mock.port}/v1"
    cfg = f"""host: 127.0.0.1
port: {lb.free_port()}
workers: 1
disable-cooling: true
routing: {{strategy: fill-first}}
api-keys: [{lb.KEY}]
openai-compatibility:
  - name: a
    base-url: {u}
    api-key-entries: [{{api-key: ok-1}}]
    models: [{{name: m, alias: {MODEL_OK}}}]
  - name: b
    base-url: {u}
    api-key-entries: [{{api-key: fail-429}}, {{api-key: ok-2}}]
    models: [{{name: m, alias: {MODEL_429}}}]
  - name: c
    base-url: {u}
    api-key-entries: [{{api-key: fail-inband}}, {{api-key: ok-3}}]
    models: [{{name: m, alias: {MODEL_INBAND}}}]
"""
    path = outdir / "gateway.yaml"
    path.write_text(cfg)
    port = int(cfg.split("port: ")[1].split("\n")[0])
    import os
    import subprocess
    log = open(outdir / "gateway.log", "wb")
    env = dict(os.environ, NO_COLOR="1", RUST_LOG=lb.NOLOG)
    proc = subprocess.Popen([str(exe), "serve", "--config", str(path)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            c = lb.SyncConn(port)
            c.connect()
            c.sock.close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gateway did not start")


def req(port, model, key=lb.KEY):
    body = lb.chat_body(model, True, reply="Hi")
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    args = ap.parse_args()
    outdir = pathlib.Path(tempfile.mkdtemp(prefix="failover-bench-"))
    mock = lb.Mock(args.mock, "failover", [], outdir)
    proc = None
    try:
        post(mock.port, "/_mock/schedule", {"account": "fail-429", "steps": [],
                                            "then": {"status": 429}})
        post(mock.port, "/_mock/schedule", {"account": "fail-inband", "steps": [],
                                            "then": {"inband_error": "overloaded"}})
        proc, port = gateway(args.gateway, mock, outdir)
        cases = {
            "healthy": (lb.SyncConn(port), req(port, MODEL_OK)),
            "429": (lb.SyncConn(port), req(port, MODEL_429)),
            "inband": (lb.SyncConn(port), req(port, MODEL_INBAND)),
            "direct 429": (lb.SyncConn(mock.port), req(mock.port, "m", key="fail-429")),
            "direct inband": (lb.SyncConn(mock.port), req(mock.port, "m", key="fail-inband")),
        }
        ttfb = {k: [] for k in cases}
        bad = {k: 0 for k in cases}
        for i in range(args.warmup + args.requests):
            for name, (conn, r) in cases.items():
                status, _head, first, ok = conn.one(r)
                if i < args.warmup:
                    continue
                # A direct failing call "succeeds" when it fails as scheduled.
                expected_ok = name.startswith("direct") or (status == 200 and ok)
                if not expected_ok:
                    bad[name] += 1
                ttfb[name].append(first / 1e6)
        med = {k: statistics.median(v) for k, v in ttfb.items()}
        p99 = {k: lb.pct(v, 99) for k, v in ttfb.items()}
        paired = {
            kind: statistics.median(
                f - h - d for f, h, d in zip(ttfb[kind], ttfb["healthy"], ttfb[f"direct {kind}"]))
            for kind in ("429", "inband")
        }
        print(f"load average {lb.loadavg()}; {args.requests} requests per case, 1 worker")
        print("| case | TTFB p50 | TTFB p99 | bad |")
        print("| --- | --- | --- | --- |")
        for k in cases:
            print(f"| {k} | {med[k]:.3f} ms | {p99[k]:.3f} ms | {bad[k]} |")
        for kind in ("429", "inband"):
            print(f"added cost of a failover ({kind}), paired median: {paired[kind]:.3f} ms "
                  f"(target <= 2 ms)")
        json.dump({"p50_ms": med, "p99_ms": p99, "added_ms": paired, "bad": bad},
                  open(outdir / "failover.json", "w"), indent=1)
        print(f"raw: {outdir / 'failover.json'}")
    finally:
        if proc:
            lb.stop(proc)
        mock.stop()


if __name__ == "__main__":
    main()
