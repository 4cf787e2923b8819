#!/usr/bin/env python3
"""Soak: a steady mix of requests against one gateway for a long time, sampling its RSS and
open file descriptors (issue 16, item 5). Not part of CI; run it for a closing note.

    cargo build --release -p switchyard-gateway -p switchyard-mock
    python3 benches/soak.py --minutes 60            # the full soak
    python3 benches/soak.py --minutes 3 --warmup 1  # a smoke run

The mix, per worker, chosen at random for each request: OpenAI chat (non-stream and stream,
same protocol), Anthropic Messages streamed from an OpenAI-compatible account (translated),
Anthropic Messages whose first account answers 500 on every attempt (fails over to a healthy
one; `transient-error-cooldown-seconds: 1`, so it is retried every second), and streams the
client drops after the first chunk. Every request but the dropped ones must end 200:
anything else is counted as an error (the injected 500s are absorbed by failover).

Output (in --out, default a new directory under $TMPDIR; nothing there belongs in the
repository): samples.csv (time, RSS, fds, requests so far), summary.json and soak.svg (both
curves). The summary gives RSS drift after warm-up (the median of the last three samples
against the median of the first three after warm-up), the fd range after warm-up, and the
request and error counts. Exit status 1 if drift >= 5 %, the fds grew by more than one per
worker (connections in flight come and go), or an error occurred.
Standard library only.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "suite"))
import procs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
KEY = "sk-soak"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--warmup", type=float, default=5, help="minutes before drift is measured")
    p.add_argument("--sample", type=float, default=10, help="seconds between samples")
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--gateway", default=os.environ.get("SWITCHYARD",
                                                        str(REPO / "target/release/switchyard")))
    p.add_argument("--mock", default=os.environ.get("SWITCHYARD_MOCK",
                                                     str(REPO / "target/release/switchyard-mock")))
    p.add_argument("--out", default=None)
    return p.parse_args()


def config(port, mock_url):
    return f"""host: 127.0.0.1
port: {port}
api-keys: ["{KEY}"]
transient-error-cooldown-seconds: 1
claude-api-key:
  - api-key: soak-broken
    base-url: "{mock_url}"
    priority: 10
    models: [{{name: claude-soak}}]
  - api-key: soak-claude
    base-url: "{mock_url}"
    models: [{{name: claude-soak}}]
openai-compatibility:
  - name: soak
    base-url: "{mock_url}/v1"
    api-key-entries: [{{api-key: soak-openai}}]
    models: [{{name: gpt-soak}}, {{name: gpt-soak, alias: translated-soak}}]
"""


CHAT = {"model": "gpt-soak", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "claude-soak", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
TRANSLATED = dict(MESSAGES, model="translated-soak", stream=True)
HEADERS = {"authorization": f"Bearer {KEY}", "x-api-key": KEY, "content-type": "application/json",
           "anthropic-version": "2023-06-01"}

CASES = [
    ("chat", "/v1/chat/completions", CHAT),
    ("chat_stream", "/v1/chat/completions", dict(CHAT, stream=True)),
    ("translated_stream", "/v1/messages", TRANSLATED),
    ("failover", "/v1/messages", MESSAGES),
    ("failover_stream", "/v1/messages", dict(MESSAGES, stream=True)),
    ("dropped_stream", "/v1/chat/completions", dict(CHAT, stream=True)),
]


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = 0
        self.dropped = 0
        self.errors = {}

    def error(self, what):
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


def worker(port, stop, counters, seed):
    rnd = random.Random(seed)
    conn = None
    while not stop.is_set():
        name, path, body = rnd.choice(CASES)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, json.dumps(body), HEADERS)
            r = conn.getresponse()
            if name == "dropped_stream":
                r.read(1)  # the first bytes, then the client goes away
                conn.close()
                conn = None
                with counters.lock:
                    counters.dropped += 1
                continue
            data = r.read()
            if r.status != 200 or not data:
                counters.error(f"{name} {r.status}")
                conn.close()
                conn = None
            with counters.lock:
                counters.done += 1
        except (OSError, http.client.HTTPException) as e:
            counters.error(f"{name} {type(e).__name__}")
            if conn is not None:
                conn.close()
            conn = None


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def svg(samples, path):
    """Two polylines over time: RSS (MB, left axis) and open fds (right axis)."""
    w, h, pad = 800, 320, 50
    t_max = max(s[0] for s in samples) or 1
    rss = [s[1] / 1024 for s in samples]
    fd = [s[2] for s in samples]
    r_max, f_max = max(rss) * 1.1 or 1, max(fd) * 1.1 or 1

    def line(values, top, color):
        pts = " ".join(f"{pad + (s[0] / t_max) * (w - 2 * pad):.1f},"
                       f"{h - pad - (v / top) * (h - 2 * pad):.1f}"
                       for s, v in zip(samples, values))
        return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>'

    text = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'font-family="sans-serif" font-size="12">',
            f'<rect width="{w}" height="{h}" fill="white"/>',
            f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
            line(rss, r_max, "#1f77b4"), line(fd, f_max, "#d62728"),
            f'<text x="{pad}" y="20" fill="#1f77b4">RSS, MB (max {max(rss):.1f})</text>',
            f'<text x="{w - pad - 160}" y="20" fill="#d62728">open fds (max {max(fd)})</text>',
            f'<text x="{w / 2 - 40}" y="{h - 15}">minutes (0 to {t_max / 60:.0f})</text>',
            "</svg>"]
    path.write_text("\n".join(text) + "\n")


def main():
    a = parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix="switchyard-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    for exe in (a.gateway, a.mock):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} is not built: cargo build --release -p switchyard-gateway -p switchyard-mock")
    try:
        mock = procs.Mock(a.mock, "soak", ["--chunk-delay-ms", "2"], out)
        mock.schedule("soak-broken", {"status": 500})
        port = procs.free_port()
        cfg = out / "config.yaml"
        cfg.write_text(config(port, f"http://127.0.0.1:{mock.port}"))
        gw = procs.Proc("switchyard", [a.gateway, "serve", "--config", str(cfg)], out,
                        env={"RUST_LOG": "warn"})
        procs.wait_port(port, gw, 30, "the gateway")
        counters, stop = Counters(), threading.Event()
        threads = [threading.Thread(target=worker, args=(port, stop, counters, i), daemon=True)
                   for i in range(a.workers)]
        for t in threads:
            t.start()
        samples, t0 = [], time.monotonic()
        end = t0 + a.minutes * 60
        with open(out / "samples.csv", "w") as csv:
            csv.write("seconds,rss_kb,fds,requests,dropped,errors\n")
            while time.monotonic() < end:
                time.sleep(a.sample)
                if not gw.alive():
                    raise RuntimeError(f"the gateway exited: {gw.log_tail()}")
                s = (time.monotonic() - t0, procs.tree_rss_kb(gw.pid), fds(gw.pid),
                     counters.done, counters.dropped, sum(counters.errors.values()))
                samples.append(s)
                csv.write(",".join(f"{x:.0f}" if isinstance(x, float) else str(x) for x in s) + "\n")
                csv.flush()
                procs.log(f"{s[0] / 60:5.1f} min  RSS {s[1] / 1024:6.1f} MB  fds {s[2]:4d}  "
                          f"requests {s[3]}  dropped {s[4]}  errors {s[5]}")
        stop.set()
        for t in threads:
            t.join(35)
        after = [s for s in samples if s[0] >= a.warmup * 60] or samples
        first = statistics.median(s[1] for s in after[:3])
        last = statistics.median(s[1] for s in after[-3:])
        drift = (last - first) / first
        fd_range = (min(s[2] for s in after), max(s[2] for s in after))
        summary = {
            "minutes": a.minutes, "warmup_minutes": a.warmup, "workers": a.workers,
            "requests": counters.done, "dropped_streams": counters.dropped,
            "errors": counters.errors,
            "rss_kb_after_warmup": first, "rss_kb_at_end": last,
            "rss_drift": round(drift, 4), "fds_after_warmup": fd_range,
            "requests_per_second": round(counters.done / (a.minutes * 60), 1),
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        svg(samples, out / "soak.svg")
        print(json.dumps(summary, indent=2))
        print(f"output: {out}")
        fd_growth = (statistics.median(s[2] for s in after[-3:])
                     - statistics.median(s[2] for s in after[:3]))
        ok = drift < 0.05 and fd_growth <= a.workers and not counters.errors
        return 0 if ok else 1
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
