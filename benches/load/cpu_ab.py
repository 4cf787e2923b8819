#!/usr/bin/env python3
"""Gateway CPU per request, two or more binaries side by side, interleaved and repeated: the
number a change to the request path is judged by (STYLE 21). Uses bench.py's load driver and
mocks; all traffic on 127.0.0.1.

  python3 benches/load/cpu_ab.py --mock target/release/switchyard-mock \
      old=../old/target/release/switchyard new=target/release/switchyard [--rounds 3]

A binary can run with extra top-level config lines and environment, to compare settings of
one binary in the same run (the observability budget: everything on against everything off):

  python3 benches/load/cpu_ab.py --mock M off=target/release/switchyard on=target/release/switchyard \
      --config 'off=server-timing: false' --env off=RUST_LOG=info,switchyard::access=off \
      --config 'on=metrics: {listen: "127.0.0.1:0"}'

Prints, per case (passthrough and translated, non-stream and stream), each binary's median
of the rounds in µs per request and its ratio to the first binary.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu-requests", type=int, default=6000)
    ap.add_argument("--cpu-warmup", type=int, default=600)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--config", action="append", default=[], metavar="NAME=LINE",
                    help="a top-level config line for gateway NAME (repeatable)")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=KEY=VALUE",
                    help="an environment variable for gateway NAME (repeatable)")
    ap.add_argument("--only", default="", metavar="CASE[,CASE]",
                    help="run only these cases: passthrough, passthrough-stream, translated, translated-stream")
    ap.add_argument("binaries", nargs="+", metavar="NAME=BINARY")
    args = ap.parse_args()
    bins = [b.split("=", 1) for b in args.binaries]
    extra = {n: [] for n, _ in bins}
    env = {n: {} for n, _ in bins}
    for c in args.config:
        n, line = c.split("=", 1)
        extra[n].append(line)
    for e in args.env:
        n, kv = e.split("=", 1)
        k, v = kv.split("=", 1)
        env[n][k] = v
    out = Path(tempfile.mkdtemp(prefix="cpu-ab-"))
    mocks = {"gpt-4o-mini": bench.Mock(args.mock, "plain", [], out)}
    plain = mocks["gpt-4o-mini"]
    gws = {name: bench.Gateway(exe, name, mocks, out, env=env[name], extra=extra[name])
           for name, exe in bins}
    cases = [("passthrough", False, "gpt-4o-mini"), ("passthrough", True, "gpt-4o-mini"),
             ("translated", False, bench.TRANSLATED_MODEL), ("translated", True, bench.TRANSLATED_MODEL)]
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if (c[0] + ("-stream" if c[1] else "")) in keep]
    res = {(c, s, n): [] for c, s, _ in cases for n, _ in bins}
    try:
        for r in range(args.rounds):
            for case, stream, model in cases:
                for name, _ in bins:
                    x = bench.phase_cpu(gws[name], plain, stream, args, model=model)
                    if x["non_2xx"] or x["errors"] or x["bad_bodies"]:
                        print(f"failures in {name} {case} {stream}: {x}", file=sys.stderr)
                    res[(case, stream, name)].append(x["cpu_us_per_req"])
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for g in gws.values():
            g.stop()
        plain.stop()
    first = bins[0][0]
    print("| case | " + " | ".join(f"{n} µs/req (median of {args.rounds})" for n, _ in bins)
          + " | " + " | ".join(f"{n}/{first}" for n, _ in bins[1:]) + " |")
    print("|---" * (1 + 2 * len(bins) - 1) + "|")
    for case, stream, _ in cases:
        meds = [statistics.median(res[(case, stream, n)]) for n, _ in bins]
        label = f"{case}, {'stream' if stream else 'non-stream'}"
        print(f"| {label} | " + " | ".join(f"{m:.1f} ({', '.join(f'{v:.0f}' for v in res[(case, stream, n)])})"
                                       for m, (n, _) in zip(meds, bins))
              + " | " + " | ".join(f"{m / meds[0]:.2f}" for m in meds[1:]) + " |")
    # The same ratios taken round by round (each binary's run next to the first binary's in
    # the same round), then their median: drifts of the machine's load cancel out.
    print("\nmedian of the per-round ratios (the more robust number on a shared machine):")
    for case, stream, _ in cases:
        base = res[(case, stream, first)]
        label = f"{case}, {'stream' if stream else 'non-stream'}"
        cols = []
        for n, _ in bins[1:]:
            ratios = [x / b for x, b in zip(res[(case, stream, n)], base)]
            cols.append(f"{n}/{first} {statistics.median(ratios):.3f} "
                        f"({', '.join(f'{r:.2f}' for r in ratios)})")
        print(f"  {label}: " + "; ".join(cols))


if __name__ == "__main__":
    main()
