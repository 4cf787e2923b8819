#!/usr/bin/env python3
"""CPU of one `/metrics` scrape of a gateway with many accounts and models (the observability
budget: under 10 ms with 1,000 accounts and 100 models).

  python3 benches/load/scrape_cost.py --gateway target/release/switchyard \
      --mock target/release/switchyard-mock [--accounts 1000 --models 100 --scrapes 200]

Starts the mock and a gateway whose accounts (openai-compatibility key entries) all serve
every model, sends one request per model (so every per-model series exists), then scrapes
`/metrics` `--scrapes` times and prints the gateway's CPU per scrape (from /proc) and the size
of the answer. All traffic on 127.0.0.1.
"""

import argparse
import asyncio
import http.client
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--models", type=int, default=100)
    ap.add_argument("--scrapes", type=int, default=200)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="scrape-cost-"))
    mock = bench.Mock(args.mock, "plain", [], out)
    models = [f"model-{i:03d}" for i in range(args.models)]
    metrics_port = bench.free_port()
    per_provider = 100
    # bench.Gateway's config ends with an empty `openai-compatibility:` when given no mocks:
    # the entries follow it, then the metrics line.
    lines = []
    for p in range((args.accounts + per_provider - 1) // per_provider):
        n = min(per_provider, args.accounts - p * per_provider)
        lines += [
            f"  - name: up{p}",
            f"    base-url: http://127.0.0.1:{mock.port}/v1",
            "    api-key-entries: [" + ", ".join(f"{{api-key: k{p}-{i}}}" for i in range(n)) + "]",
            "    models: [" + ", ".join(f"{{name: gpt-4o-mini, alias: {m}}}" for m in models) + "]",
        ]
    lines.append(f'metrics: {{listen: "127.0.0.1:{metrics_port}"}}')
    gw = bench.Gateway(args.gateway, "scrape", {}, out, extra=lines)
    try:
        for m in models:
            r = asyncio.run(bench.fixed_load(gw.port, bench.chat_body(m, False), False, 1, 1, 30))
            if r["non_2xx"] or r["errors"]:
                raise SystemExit(f"request for {m} failed: {r}")

        def scrape():
            c = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=10)
            c.request("GET", "/metrics")
            body = c.getresponse().read()
            c.close()
            return body

        body = scrape()
        time.sleep(0.5)
        c0 = bench.cpu_ticks(gw.pid)
        for _ in range(args.scrapes):
            scrape()
        c1 = bench.cpu_ticks(gw.pid)
        ms = (c1 - c0) * 1000 / bench.CLK_TCK / args.scrapes
        series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
        print(f"accounts={args.accounts} models={args.models} answer={len(body)} bytes "
              f"series={series} cpu_per_scrape_ms={ms:.2f} (over {args.scrapes} scrapes)")
    finally:
        gw.stop()
        mock.stop()


if __name__ == "__main__":
    main()
