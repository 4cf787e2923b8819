"""The measurements: wrk runs with the target's CPU counted, sequential time-to-first-content,
failover, N held streams with RSS sampled, and start-up to the first answer. Every function
is bounded in time; every request goes to 127.0.0.1.
"""

import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import time
from pathlib import Path

from procs import CLK_TCK, Proc, log, tree_rss_kb, tree_ticks

WRK_LUA = Path(__file__).with_name("wrk.lua")
# the first content of a stream, in either client protocol (and with a peer's spacing)
CONTENT = re.compile(rb'"(?:content|text)":\s*"Hi')


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- wrk with CPU


def run_wrk(route, pid, conns, duration, tmp, tag):
    """wrk against route=(port, path, body, headers) for `duration` s; the CPU of the process
    tree `pid` (None: not measured) over the same interval, per completed request."""
    port, path, body, headers = route
    body_file = tmp / f"body-{tag}.json"
    body_file.write_bytes(body)
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file),
               BENCH_HEADERS="|".join(f"{k}: {v}" for k, v in headers.items()))
    threads = 1 if conns == 1 else 2
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s",
           "-s", str(WRK_LUA), f"http://127.0.0.1:{port}{path}"]
    c0 = tree_ticks(pid) if pid else None
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 60)
    c1 = tree_ticks(pid) if pid else None
    m = re.search(r"BENCH_JSON (\{.*\})", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stdout[-800:]} {p.stderr[-800:]}")
    r = json.loads(m.group(1))
    r["conns"] = conns
    r["req_per_s"] = round(r["requests"] / (r["duration_us"] / 1e6), 1)
    r["socket_errors"] = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    if pid:
        r["cpu_ticks"] = c1 - c0
        r["cpu_us_per_req"] = round((c1 - c0) * 1e6 / CLK_TCK / max(1, r["requests"]), 2)
    return r


# ---------------------------------------------------------------- one request, timed


class Timed:
    """One keep-alive connection; `one()` sends a request and reads the whole answer, timing
    the first content event."""

    def __init__(self, route):
        port, path, body, headers = route
        self.port = port
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + f"Content-Length: {len(body)}\r\n\r\n"
        self.req = head.encode() + body
        self.sock = None

    def one(self, timeout=30):
        """Returns (status, ms to first content or None, ms to the end of the answer, body)."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.perf_counter_ns()
        self.sock.sendall(self.req)
        buf = b""
        start = status = clen = t_content = None
        chunked = keep = False
        while True:
            d = self.sock.recv(65536)
            now = time.perf_counter_ns()
            if not d:
                if start is not None and clen is None and not chunked:
                    break
                self.close()
                raise ConnectionError("closed mid-response")
            buf += d
            if start is None:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    continue
                lines = buf[:i].split(b"\r\n")
                status = int(lines[0].split(b" ", 2)[1])
                h = {k.strip().lower(): v.strip().lower() for k, _, v in
                     (ln.partition(b":") for ln in lines[1:])}
                start = i + 4
                chunked = h.get(b"transfer-encoding") == b"chunked"
                keep = h.get(b"connection") != b"close"
                clen = int(h[b"content-length"]) if b"content-length" in h else None
            body = buf[start:]
            if t_content is None and CONTENT.search(body):
                t_content = now
            if chunked and body.endswith(b"0\r\n\r\n"):
                break
            if clen is not None and len(body) >= clen:
                break
        if not keep:
            self.close()
        return (status, (t_content - t0) / 1e6 if t_content else None,
                (time.perf_counter_ns() - t0) / 1e6, body)

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None


def sequential(routes, n, warmup, timeout_s):
    """routes: {name: route}. Requests alternate between the routes (sharing the noise).
    Returns {name: {"content_ms": [...], "total_ms": [...], "statuses": {...}, "errors": k}};
    content_ms is None for an answer without content (an error answer)."""
    conns = {k: Timed(r) for k, r in routes.items()}
    res = {k: {"content_ms": [], "total_ms": [], "statuses": {}, "errors": 0} for k in routes}
    deadline = time.monotonic() + timeout_s
    for i in range(warmup + n):
        if time.monotonic() > deadline:
            log(f"  sequential requests stopped at {i} of {warmup + n}: time limit")
            break
        for k, c in conns.items():
            try:
                status, ms, total, _ = c.one()
            except OSError:
                res[k]["errors"] += 1
                c.close()
                continue
            if i < warmup:
                continue
            r = res[k]
            r["statuses"][str(status)] = r["statuses"].get(str(status), 0) + 1
            r["content_ms"].append(ms)
            r["total_ms"].append(total)
    for c in conns.values():
        c.close()
    return res


def summarize_ttfb(res, base):
    """p50/p99 of the time to first content per target and added vs `base` (same run)."""
    out = {}
    b = [x for x in res[base]["content_ms"] if x is not None]
    for k, r in res.items():
        v = [x for x in r["content_ms"] if x is not None]
        out[k] = {"n": len(v), "bad": len(r["content_ms"]) - len(v), "errors": r["errors"],
                  "statuses": r["statuses"], "p50_ms": pct(v, 50), "p99_ms": pct(v, 99)}
        if k != base and v and b:
            out[k]["added_p50_ms"] = pct(v, 50) - pct(b, 50)
            out[k]["added_p99_ms"] = pct(v, 99) - pct(b, 99)
    return out


def failover(gw_route, direct_route, n, warmup, timeout_s):
    """Time to first content of fo-429 (the first key is answered 429, the second serves)
    against fo-ok, minus the 429 itself measured directly at the mock: paired medians."""
    raw = sequential({"healthy": gw_route("fo-ok"), "failover": gw_route("fo-429"),
                      "direct 429": direct_route}, n, warmup, timeout_s)
    h, f, d = raw["healthy"]["content_ms"], raw["failover"]["content_ms"], raw["direct 429"]["total_ms"]
    added = [fx - hx - dx for fx, hx, dx in zip(f, h, d) if fx is not None and hx is not None]
    bad = sum(1 for x in f + h if x is None)
    return {"added_ms": median(added), "healthy_p50_ms": median(h), "failover_p50_ms": median(f),
            "direct_429_p50_ms": median(d), "n": len(added), "bad": bad,
            "statuses": {k: v["statuses"] for k, v in raw.items()}}


# ---------------------------------------------------------------- held streams


async def _hold(route, pid, n, parallel, ramp_timeout):
    port, path, body, headers = route
    req = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
           + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
           + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    c = {"first_content": 0, "failed": 0, "non_200": 0}
    all_in = asyncio.Event()
    release = asyncio.Event()
    sem = asyncio.Semaphore(parallel)
    t0 = time.monotonic()

    def settled():
        if c["first_content"] + c["failed"] >= n:
            all_in.set()

    async def one():
        writer = None
        try:
            async with sem:  # bounds the connects in flight, not the streams
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(req)
                await writer.drain()
            buf = b""
            while not CONTENT.search(buf):
                if b"\r\n\r\n" in buf and not buf.startswith(b"HTTP/1.1 200"):
                    c["non_200"] += 1
                    raise ConnectionError(buf.split(b"\r\n", 1)[0].decode(errors="replace"))
                d = await reader.read(16384)
                if not d:
                    raise ConnectionError("closed before content")
                buf += d
            c["first_content"] += 1
            settled()
            await release.wait()
        except (OSError, asyncio.IncompleteReadError) as e:
            c["failed"] += 1
            c.setdefault("error_" + type(e).__name__, 0)
            c["error_" + type(e).__name__] += 1
            settled()
        finally:
            if writer:
                writer.close()

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    try:
        await asyncio.wait_for(all_in.wait(), ramp_timeout)
    except asyncio.TimeoutError:
        pass
    ramp = time.monotonic() - t0
    rss = tree_rss_kb(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    release.set()
    await asyncio.wait(tasks, timeout=30)
    return {"streams": n, "ramp_s": round(ramp, 2), "rss_loaded_kb": rss, "gateway_fds": fds, **c}


def hold_streams(route, pid, n, parallel, ramp_timeout):
    return asyncio.run(_hold(route, pid, n, parallel, ramp_timeout))


# ---------------------------------------------------------------- start-up


def start_to_first_answer(name, argv, out, route, timeout, env=None):
    """Spawns a server and sends the route's request every millisecond until one is answered
    200 with content. Returns (Proc, milliseconds from spawn to that answer)."""
    port = route[0]
    t = Timed(route)
    proc = Proc(name, argv, out, env=env)
    deadline = proc.t_spawn + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{name} exited: {proc.log_tail()}")
        try:
            status, _, _, body = t.one(timeout=10)
            if status == 200:
                ms = (time.monotonic() - proc.t_spawn) * 1e3
                t.close()
                return proc, ms
            t.close()
        except OSError:
            t.close()
        time.sleep(0.001)
    proc.stop()
    raise RuntimeError(f"{name} gave no answer on {port} within {timeout} s: {proc.log_tail()}")
