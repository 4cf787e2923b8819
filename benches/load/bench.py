#!/usr/bin/env python3
"""Switchyard load benchmark driver (Python standard library only).

Started by benches/load/run.sh, which installs wrk and builds the binaries. This script
starts three mocks and the gateways, runs the phases below against 127.0.0.1 only, prints
markdown tables and writes JSON. Every phase is bounded in request count and time.

  1. gateway CPU microseconds per request (utime+stime from /proc/<pid>/stat), fixed count
  2. throughput and p50/p99 latency with wrk, gateway vs direct to the same mock
  3. time to the first content event on a stream, sequential, direct vs gateway
  4. RSS idle and per open stream (N concurrent streams held open)
  5. all of the above (except 3 is cheap, so it runs for both too) for the system-allocator
     and the mimalloc gateway binaries
"""

import argparse
import asyncio
import collections
import datetime
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
T0 = time.monotonic()
PATH = "/v1/chat/completions"
KEY = "bench"
NOLOG = "info,switchyard::access=off"
NOLOG_NAME = "system, access log off"


def log(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc readers


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def sched_ns(pid):
    """Sum of on-CPU nanoseconds of the live threads (/proc/<pid>/task/*/schedstat).
    Finer-grained cross-check of cpu_ticks; misses threads that already exited."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


# ---------------------------------------------------------------- processes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, sig=signal.SIGINT, wait=10):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Mock:
    def __init__(self, exe, name, args, outdir):
        self.name = name
        self.logpath = outdir / f"mock-{name}.log"
        self.out = open(self.logpath, "wb")
        cmd = [str(exe), "--listen", "127.0.0.1:0", "--journal-max", "1000", *args]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = re.search(rb"LISTENING 127\.0\.0\.1:(\d+)", self.logpath.read_bytes())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"mock {name} did not start: {self.logpath.read_text()[-2000:]}")

    def count(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("GET", "/_mock/count")
        n = json.loads(c.getresponse().read())["count"]
        c.close()
        return n

    def stop(self):
        stop(self.proc)


class Gateway:
    def __init__(self, exe, name, mocks, outdir, env=None, extra=()):
        self.name = name
        self.port = free_port()
        self.cfg = outdir / f"gateway-{name}.yaml"
        lines = [
            "host: 127.0.0.1",
            f"port: {self.port}",
            "workers: 1",
            "openai-compatibility:",
        ]
        for model, mock in mocks.items():
            lines += [
                f"  - name: {mock.name}",
                f"    base-url: http://127.0.0.1:{mock.port}/v1",
                f"    api-key-entries: [{{api-key: {KEY}}}]",
                f"    models: [{{name: {model}}}]",
            ]
        # The same plain mock as a Claude account: OpenAI chat clients asking for this model
        # are translated (Chat -> Anthropic Messages -> Chat), the translated path of phase 1.
        plain = mocks.get("gpt-4o-mini")
        if plain is not None:
            lines += [
                "claude-api-key:",
                f"  - api-key: {KEY}",
                f"    base-url: http://127.0.0.1:{plain.port}",
                f"    models: [{{name: {TRANSLATED_MODEL}}}]",
            ]
        lines += list(extra)
        self.cfg.write_text("\n".join(lines) + "\n")
        self.logpath = outdir / f"gateway-{name}.log"
        self.out = open(self.logpath, "wb")
        env = dict(os.environ, NO_COLOR="1", **(env or {}))
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--config", str(self.cfg)],
            stdout=self.out, stderr=subprocess.STDOUT, env=env,
        )
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                ok = c.getresponse().status == 200
                c.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        stop(self.proc)
        raise RuntimeError(f"gateway {name} not healthy: {self.logpath.read_text()[-2000:]}")

    def stop(self):
        stop(self.proc, signal.SIGINT)

    def log_summary(self):
        """Statuses from the access log and WARN/ERROR line counts (server-side view)."""
        text = re.sub(r"\x1b\[[0-9;]*m", "", self.logpath.read_text(errors="replace"))
        statuses = collections.Counter()
        levels = collections.Counter()
        samples = []
        for line in text.splitlines():
            if "switchyard::access" in line:
                m = re.search(r"\bstatus=(\d+)", line)
                if m:
                    st = m.group(1)
                    if st == "0" and "cause=Downstream" in line:
                        st = "0 (client closed)"
                    statuses[st] += 1
                    if not st.startswith("2") and st != "0 (client closed)" and len(samples) < 5:
                        samples.append(line[:400])
            for lvl in ("WARN", "ERROR"):
                if f" {lvl} " in line:
                    levels[lvl] += 1
                    if len(samples) < 10:
                        samples.append(line[:400])
        return {"access_statuses": dict(statuses), "levels": dict(levels), "samples": samples}


# ---------------------------------------------------------------- requests


def chat_body(model, stream, reply=None, size=1024):
    """An OpenAI chat request of about `size` bytes."""
    user = "Say hello." + (f" MOCK_REPLY[{reply}]" if reply else "")

    def build(filler):
        body = {"model": model, "messages": [
            {"role": "system", "content": filler},
            {"role": "user", "content": user},
        ]}
        if stream:
            body["stream"] = True
        return json.dumps(body, separators=(",", ":")).encode()

    base = len(build(""))
    words = ("You are a helpful assistant that answers briefly and precisely. " * 40)
    return build(words[: max(0, size - base)])


def request_bytes(port, body):
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def parse_head(head):
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip().lower()
    return status, headers


async def open_conn(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def read_response(reader, on_first_body=None):
    """Reads one HTTP/1.1 response; returns (status, body, keep_alive)."""
    status, headers = parse_head(await reader.readuntil(b"\r\n\r\n"))
    keep = headers.get(b"connection") != b"close"
    if headers.get(b"transfer-encoding") == b"chunked":
        parts = []
        first = True
        while True:
            line = await reader.readuntil(b"\r\n")
            if first and on_first_body:
                on_first_body()
            first = False
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                break
            parts.append((await reader.readexactly(size + 2))[:-2])
        return status, b"".join(parts), keep
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
        if on_first_body and body:
            on_first_body()
        return status, body, keep
    return status, await reader.read(), False


def body_ok(stream, body):
    return b"data: [DONE]" in body if stream else b'"chat.completion"' in body


# ---------------------------------------------------------------- phase 1: fixed count


async def fixed_load(port, body, stream, n, conns, timeout):
    """Exactly n requests over `conns` keep-alive connections; counts statuses and errors."""
    req = request_bytes(port, body)
    left = [n]
    statuses = collections.Counter()
    errors = collections.Counter()
    bad = [0]

    async def worker():
        conn = None
        while left[0] > 0:
            left[0] -= 1
            try:
                if conn is None:
                    conn = await open_conn(port)
                reader, writer = conn
                writer.write(req)
                status, rbody, keep = await read_response(reader)
                statuses[status] += 1
                if 200 <= status < 300 and not body_ok(stream, rbody):
                    bad[0] += 1
                if not keep:
                    writer.close()
                    conn = None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
                errors[type(e).__name__] += 1
                if conn:
                    conn[1].close()
                conn = None
        if conn:
            conn[1].close()

    t = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(conns))), timeout)
    return {
        "requests": n,
        "seconds": round(time.monotonic() - t, 3),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "errors": dict(errors),
        "bad_bodies": bad[0],
    }


TRANSLATED_MODEL = "bench-translated"


def phase_cpu(gw, mock, stream, args, model="gpt-4o-mini"):
    body = chat_body(model, stream)
    asyncio.run(fixed_load(gw.port, body, stream, args.cpu_warmup, args.conns, 120))
    time.sleep(0.5)
    up0, c0, s0 = mock.count(), cpu_ticks(gw.pid), sched_ns(gw.pid)
    r = asyncio.run(fixed_load(gw.port, body, stream, args.cpu_requests, args.conns, 300))
    time.sleep(0.3)  # let the gateway finish its logging phase
    c1, s1, up1 = cpu_ticks(gw.pid), sched_ns(gw.pid), mock.count()
    n = args.cpu_requests
    r.update({
        "body_bytes": len(body),
        "cpu_ticks": c1 - c0,
        "cpu_us_per_req": round((c1 - c0) * 1e6 / CLK_TCK / n, 2),
        "schedstat_us_per_req": round((s1 - s0) / 1e3 / n, 2),
        "upstream_requests": up1 - up0,
        "req_per_s": round(n / r["seconds"], 1),
    })
    return r


# ---------------------------------------------------------------- phase 2: wrk


def run_wrk(port, body_file, duration, args):
    cmd = [
        "wrk", f"-t{args.wrk_threads}", f"-c{args.conns}", f"-d{duration}s", "--latency",
        "--timeout", "5s", "-s", str(Path(__file__).with_name("post.lua")),
        f"http://127.0.0.1:{port}{PATH}",
    ]
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file), BENCH_KEY=KEY)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 30)
    m = re.search(r"BENCH_JSON (\{.*\})", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    r = json.loads(m.group(1))
    r["req_per_s"] = round(r["requests"] / (r["duration_us"] / 1e6), 1)
    r["socket_errors"] = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    return r


def phase_wrk(targets, mock, stream, outdir, args):
    """targets: list of (name, port, gateway-or-None). Interleaved, same mock."""
    body = chat_body("gpt-4o-mini", stream)
    body_file = outdir / f"body-{'stream' if stream else 'nonstream'}.json"
    body_file.write_bytes(body)
    res = {}
    for name, port, gw in targets:
        if args.wrk_warmup > 0:
            run_wrk(port, body_file, args.wrk_warmup, args)
        time.sleep(0.5)
        up0 = mock.count()
        c0 = cpu_ticks(gw.pid) if gw else None
        r = run_wrk(port, body_file, args.duration, args)
        time.sleep(0.3)
        up1 = mock.count()
        r["upstream_requests"] = up1 - up0
        if gw:
            r["gateway_cpu_us_per_upstream_req"] = round(
                (cpu_ticks(gw.pid) - c0) * 1e6 / CLK_TCK / max(1, up1 - up0), 2)
        res[name] = r
        log(f"  wrk {name:<14} {'stream' if stream else 'non-stream':<10} "
            f"{r['req_per_s']:>9.0f} req/s  p50 {r['p50_us'] / 1000:.2f} ms  "
            f"p99 {r['p99_us'] / 1000:.2f} ms  non-2xx {r['non_2xx_3xx']}  "
            f"socket errors {r['socket_errors']}")
    return res


# ---------------------------------------------------------------- phase 3: TTFB


class SyncConn:
    def __init__(self, port):
        self.port = port
        self.sock = None

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def one(self, req, content_marker=b'"content":"Hi'):
        """Sends req, reads the whole response. Returns (status, headers_ns, first_body_ns, ok);
        `self.last_content_ns` is when `content_marker` (the first content event) arrived."""
        if self.sock is None:
            self.connect()
        t0 = time.perf_counter_ns()
        self.sock.sendall(req)
        buf = b""
        t_head = t_first = t_content = None
        status = None
        body_start = clen = None
        chunked = keep = False
        while True:
            d = self.sock.recv(65536)
            now = time.perf_counter_ns()
            if not d:
                raise ConnectionError("closed mid-response")
            buf += d
            if t_head is None:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    continue
                t_head = now
                status, headers = parse_head(buf[:i])
                body_start = i + 4
                chunked = headers.get(b"transfer-encoding") == b"chunked"
                keep = headers.get(b"connection") != b"close"
                if b"content-length" in headers:
                    clen = int(headers[b"content-length"])
            if t_first is None and len(buf) > body_start:
                t_first = now
            if t_content is None and content_marker in buf[body_start:]:
                t_content = now
            body = buf[body_start:]
            if chunked and body.endswith(b"0\r\n\r\n") and (body == b"0\r\n\r\n" or body.endswith(b"\r\n0\r\n\r\n")):
                break
            if clen is not None and len(body) >= clen:
                break
        if not keep:
            self.sock.close()
            self.sock = None
        ok = 200 <= status < 300 and b"data: [DONE]" in body
        self.last_content_ns = (t_content - t0) if t_content is not None else None
        return status, (t_head - t0), ((t_first or t_head) - t0), ok


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def phase_ttfb(targets, args):
    """targets: list of (name, port). Requests alternate between targets to share the noise."""
    body = chat_body("bench-ttfb", True, reply="Hi")
    conns = {name: SyncConn(port) for name, port in targets}
    reqs = {name: request_bytes(port, body) for name, port in targets}
    firsts = {name: [] for name, _ in targets}
    heads = {name: [] for name, _ in targets}
    statuses = {name: collections.Counter() for name, _ in targets}
    bad = {name: 0 for name, _ in targets}
    errors = {name: collections.Counter() for name, _ in targets}
    deadline = time.monotonic() + args.ttfb_timeout
    for i in range(args.ttfb_warmup + args.ttfb_requests):
        if time.monotonic() > deadline:
            raise RuntimeError("TTFB phase exceeded its time limit")
        for name, _ in targets:
            try:
                status, th, tf, ok = conns[name].one(reqs[name])
            except OSError as e:
                errors[name][type(e).__name__] += 1
                conns[name].sock = None
                continue
            if i < args.ttfb_warmup:
                continue
            statuses[name][status] += 1
            if not ok:
                bad[name] += 1
            heads[name].append(th / 1e6)
            # Time to the first content event: the gateway holds a stream's preamble (role
            # chunk) until then (stream bootstrap), so the first body byte is not comparable.
            firsts[name].append((conns[name].last_content_ns or tf) / 1e6)
    res = {}
    base = targets[0][0]
    for name, _ in targets:
        f = firsts[name]
        r = {
            "requests": len(f),
            "statuses": {str(k): v for k, v in statuses[name].items()},
            "non_2xx": sum(v for k, v in statuses[name].items() if not 200 <= k < 300),
            "bad_bodies": bad[name],
            "errors": dict(errors[name]),
            "first_byte_ms": {"p50": pct(f, 50), "p99": pct(f, 99), "min": min(f), "max": max(f)},
            "headers_ms": {"p50": pct(heads[name], 50), "p99": pct(heads[name], 99)},
        }
        if name != base:
            b = firsts[base]
            r["added_ms"] = {
                "p50": r["first_byte_ms"]["p50"] - pct(b, 50),
                "p99": r["first_byte_ms"]["p99"] - pct(b, 99),
                "paired_median": statistics.median(x - y for x, y in zip(f, b)),
            }
        res[name] = r
    for c in conns.values():
        if c.sock:
            c.sock.close()
    return res


# ---------------------------------------------------------------- phase 4: open streams


async def hold_streams(port, pid, n, args):
    body = chat_body("bench-hold", True)
    req = request_bytes(port, body)
    c = collections.Counter()
    first_all = asyncio.Event()
    samples = []
    connect_sem = asyncio.Semaphore(args.connect_parallel)
    t_start = time.monotonic()

    def check_all():
        if c["first_byte"] + c["failed_before_first_byte"] >= n:
            first_all.set()

    async def one():
        got_first = False

        def on_first():
            nonlocal got_first
            got_first = True
            c["first_byte"] += 1
            check_all()

        writer = None
        try:
            async with connect_sem:
                reader, writer = await open_conn(port)
                writer.write(req)
                await writer.drain()
            status, rbody, _ = await read_response(reader, on_first)
            c["responses"] += 1
            c[f"status_{status}"] += 1
            if 200 <= status < 300:
                c["headers_2xx"] += 1
                if b"data: [DONE]" in rbody:
                    c["completed_streams"] += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            c[f"error_{type(e).__name__}"] += 1
            if not got_first:
                c["failed_before_first_byte"] += 1
                check_all()
        finally:
            if writer:
                writer.close()

    async def sampler():
        while True:
            samples.append((round(time.monotonic() - t_start, 2), rss_kb(pid)))
            await asyncio.sleep(0.25)

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    sampler_task = asyncio.create_task(sampler())
    try:
        await asyncio.wait_for(first_all.wait(), args.hold_ramp_timeout)
    except asyncio.TimeoutError:
        pass
    ramp_s = time.monotonic() - t_start
    rss_loaded = rss_kb(pid)
    thr = threads(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    first_byte_at_sample = c["first_byte"]
    log(f"  {first_byte_at_sample}/{n} streams had their first byte after {ramp_s:.1f}s; "
        f"RSS {rss_loaded} kB, {fds} fds")
    done, pending = await asyncio.wait(tasks, timeout=args.hold_timeout)
    for t in pending:
        t.cancel()
    sampler_task.cancel()
    rss_after = rss_kb(pid)
    return {
        "streams": n,
        "ramp_seconds": round(ramp_s, 2),
        "first_byte_at_sample": first_byte_at_sample,
        "rss_loaded_kb": rss_loaded,
        "rss_peak_kb": max(s[1] for s in samples),
        "rss_after_close_kb": rss_after,
        "gateway_threads": thr,
        "gateway_fds_at_sample": fds,
        "unfinished_after_timeout": len(pending),
        "counters": dict(c),
        "non_2xx": c["responses"] - c["headers_2xx"],
        "rss_samples": samples,
    }


def phase_hold(exe, name, mocks, outdir, args):
    gw = Gateway(exe, f"{name}-hold", mocks, outdir)
    try:
        rss_fresh = rss_kb(gw.pid)
        # a few requests through the same path first, so one-time initialisation is in the baseline
        warm = asyncio.run(fixed_load(gw.port, chat_body("gpt-4o-mini", True), True, 20, 4, 30))
        time.sleep(1.0)
        rss_idle = rss_kb(gw.pid)
        r = asyncio.run(hold_streams(gw.port, gw.pid, args.streams, args))
        r["rss_fresh_kb"] = rss_fresh
        r["rss_idle_kb"] = rss_idle
        r["warmup"] = warm
        r["kb_per_stream"] = round((r["rss_loaded_kb"] - rss_idle) / args.streams, 2)
        r["kb_per_stream_peak"] = round((r["rss_peak_kb"] - rss_idle) / args.streams, 2)
    finally:
        gw.stop()
    r["gateway_log"] = gw.log_summary()
    return r


# ---------------------------------------------------------------- report


def fmt(v, nd=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def ratio(a, b):
    return a / b if a is not None and b else None


def report(R, args):
    out = []
    w = out.append
    names = list(R["gateways"])
    vs = f"{names[-1]}/{names[0]}"
    w(f"### Switchyard load benchmark, {R['started']} ({R['host']['cores']} cores, "
      f"gateway workers: 1, wrk -t{args.wrk_threads} -c{args.conns} -d{args.duration}s)\n")
    la = R["loadavg"]
    busy = max(v[0] for v in la.values()) > R["host"]["cores"]
    w("1-minute load average at each phase: " + ", ".join(f"{k} {v[0]:.1f}" for k, v in la.items())
      + (" (**higher than the core count: other work shared the CPU; absolute numbers are noisy**)" if busy else "")
      + "\n")

    w("**1. Gateway CPU per request** (utime+stime from /proc, fixed count; passthrough OpenAI chat, "
      f"{R['body_bytes']} B body)\n")
    w("| case | " + " | ".join(names) + f" | {vs} | target |")
    w("|---|" + "---|" * (len(names) + 2))
    for case in ("nonstream", "stream"):
        vals = [R["gateways"][g]["cpu"][case]["cpu_us_per_req"] for g in names]
        sch = [R["gateways"][g]["cpu"][case]["schedstat_us_per_req"] for g in names]
        n = R["gateways"][names[0]]["cpu"][case]["requests"]
        rps = [R["gateways"][g]["cpu"][case]["req_per_s"] for g in names]
        w(f"| {case}, {n:,} req @ {args.conns} conns (Python client) | "
          + " | ".join(f"**{v:.1f} µs** (schedstat {s:.1f}; {r:,.0f} req/s)" for v, s, r in zip(vals, sch, rps))
          + f" | {fmt(ratio(vals[-1], vals[0]), 2) if len(vals) > 1 else 'n/a'} | ≤ 20 µs |")
    t = R.get("translated_cpu")
    if t:
        for case in ("nonstream", "stream"):
            pt = R["gateways"]["system"]["cpu"][case]["cpu_us_per_req"]
            tr = t[case]["cpu_us_per_req"]
            cells = [f"**{tr:.1f} µs** (schedstat {t[case]['schedstat_us_per_req']:.1f}; "
                     f"{fmt(ratio(tr, pt), 2)}x passthrough)"] + ["–"] * (len(names) - 1)
            w(f"| {case}, translated Chat -> Anthropic -> Chat | " + " | ".join(cells) + " | n/a | ≤ 50 µs |")
    x = R["extra_cpu"].get(NOLOG_NAME)
    if x:
        w(f"| without the access log line (system, RUST_LOG={NOLOG}) | "
          + ", ".join(f"{c}: {x[c]['cpu_us_per_req']:.1f} µs (schedstat {x[c]['schedstat_us_per_req']:.1f})"
                      for c in ("nonstream", "stream"))
          + " |" + (" |" * (len(names) - 1)) + " | ≤ 20 µs |")
    for case in ("nonstream", "stream"):
        vals = [R["gateways"][g]["wrk"][case]["gateway_cpu_us_per_upstream_req"] for g in names
                if case in R["gateways"][g]["wrk"]]
        if len(vals) == len(names):
            w(f"| {case}, saturated by wrk (phase 2) | " + " | ".join(f"{v:.1f} µs" for v in vals)
              + f" | {fmt(ratio(vals[-1], vals[0]), 2) if len(vals) > 1 else 'n/a'} | ≤ 20 µs |")

    w("\n**2. Throughput and latency, gateway vs direct to the same mock** (wrk, "
      f"{args.duration} s each, {args.conns} connections)\n")
    w("| case | target | req/s | ratio to direct | p50 ms | p99 ms | non-2xx | socket errors |")
    w("|---|---|---|---|---|---|---|---|")
    for case in ("nonstream", "stream"):
        d = R["direct"]["wrk"][case]
        rows = [("direct", d)] + [(f"gateway ({g})", R["gateways"][g]["wrk"][case]) for g in names
                                  if case in R["gateways"][g]["wrk"]]
        for label, r in rows:
            w(f"| {case} | {label} | {r['req_per_s']:,.0f} | {ratio(r['req_per_s'], d['req_per_s']):.2f} | "
              f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['non_2xx_3xx']} | {r['socket_errors']} |")

    t = R["ttfb"]
    w(f"\n**3. Time to the first content event on a stream** (the gateway holds a stream's preamble until its first content: stream bootstrap) ({args.ttfb_requests} sequential keep-alive requests per "
      "target, interleaved; mock --latency-ms 0 --chunk-delay-ms 20)\n")
    w("| target | TTFB p50 ms | TTFB p99 ms | added p50 ms | added p99 ms | added, paired median ms | target | non-2xx |")
    w("|---|---|---|---|---|---|---|---|")
    for name, r in t.items():
        a = r.get("added_ms")
        w(f"| {name} | {r['first_byte_ms']['p50']:.3f} | {r['first_byte_ms']['p99']:.3f} | "
          + (f"**{a['p50']:.3f}** | {a['p99']:.3f} | {a['paired_median']:.3f} | ≤ 1 ms |" if a else "– | – | – | |")
          + f" {r['non_2xx']} |")

    w(f"\n**4. RSS idle and per open stream** (fresh gateway, {args.streams} concurrent streams held open; "
      "mock --chunk-delay-ms 1000, ~20 s per stream)\n")
    w("| | " + " | ".join(names) + f" | {vs} | target |")
    w("|---|" + "---|" * (len(names) + 2))
    H = [R["gateways"][g]["hold"] for g in names]

    def row(label, key, unit, target="", nd=1, scale=1.0):
        vals = [h[key] * scale for h in H]
        w(f"| {label} | " + " | ".join(f"{v:,.{nd}f} {unit}" for v in vals)
          + f" | {fmt(ratio(vals[-1], vals[0]), 2) if len(vals) > 1 else 'n/a'} | {target} |")

    row("RSS fresh (after /healthz)", "rss_fresh_kb", "MB", nd=1, scale=1 / 1024)
    row("RSS idle (after 20 warm-up requests)", "rss_idle_kb", "MB", nd=1, scale=1 / 1024)
    row(f"RSS with {args.streams} streams open", "rss_loaded_kb", "MB", nd=1, scale=1 / 1024)
    row("**RSS per open stream** (loaded − idle) / N", "kb_per_stream", "KB", "≤ 48 KB", nd=1)
    row("RSS per open stream, peak during hold", "kb_per_stream_peak", "KB", "", nd=1)
    row("RSS after all streams closed", "rss_after_close_kb", "MB", nd=1, scale=1 / 1024)
    w("| streams with headers (2xx) / first byte / completed | "
      + " | ".join(f"{h['counters'].get('headers_2xx', 0)} / {h['first_byte_at_sample']} / "
                   f"{h['counters'].get('completed_streams', 0)}" for h in H) + " | | |")

    w("\n**Failures** (every phase; client side and the gateway's access log; `0 (client closed)` = "
      "wrk dropping its in-flight requests when its time is up, not a failure)\n")
    w("| phase | non-2xx | errors / bad bodies |")
    w("|---|---|---|")
    for phase, non2xx, other in R["failures"]:
        w(f"| {phase} | {non2xx} | {other} |")
    return "\n".join(out)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", required=True, help="switchyard binary, system allocator")
    ap.add_argument("--gateway-mimalloc", help="switchyard binary built with the mimalloc feature")
    ap.add_argument("--mock", required=True, help="switchyard-mock binary")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=BINARY",
                    help="another switchyard binary run side by side in every phase, e.g. "
                         "base=../old/target/release/switchyard (the last one is the ratio column's numerator)")
    ap.add_argument("--out", default="target/bench", help="results directory")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--wrk-warmup", type=int, default=2, help="seconds of wrk warm-up per target")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--cpu-requests", type=int, default=10000)
    ap.add_argument("--cpu-warmup", type=int, default=1000)
    ap.add_argument("--ttfb-requests", type=int, default=200)
    ap.add_argument("--ttfb-warmup", type=int, default=10)
    ap.add_argument("--ttfb-timeout", type=int, default=120)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--connect-parallel", type=int, default=200)
    ap.add_argument("--hold-ramp-timeout", type=int, default=30)
    ap.add_argument("--hold-timeout", type=int, default=60)
    ap.add_argument("--hold-words", type=int, default=18, help="reply words; one event per second")
    args = ap.parse_args()

    started = datetime.datetime.now()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out)
    rundir = out / f"load-{stamp}"
    rundir.mkdir(parents=True, exist_ok=True)
    binaries = {"system": args.gateway}
    if args.gateway_mimalloc:
        binaries["mimalloc"] = args.gateway_mimalloc
    for spec in args.compare:
        name, _, exe = spec.partition("=")
        if not exe or name in binaries:
            ap.error(f"--compare wants a new NAME=BINARY, got {spec!r}")
        binaries[name] = exe

    R = {
        "started": started.isoformat(timespec="seconds"),
        "host": {"cores": os.cpu_count(), "clk_tck": CLK_TCK, "uname": " ".join(os.uname())},
        "args": vars(args),
        "binaries": binaries,
        "body_bytes": len(chat_body("gpt-4o-mini", False)),
        "direct": {},
        "gateways": {g: {"cpu": {}, "wrk": {}} for g in binaries},
        "failures": [],
        "extra_cpu": {},
        "loadavg": {},
    }

    hold_reply = " ".join(f"word{i}" for i in range(args.hold_words))
    mocks = {
        "gpt-4o-mini": Mock(args.mock, "plain", [], rundir),
        "bench-ttfb": Mock(args.mock, "ttfb", ["--latency-ms", "0", "--chunk-delay-ms", "20"], rundir),
        "bench-hold": Mock(args.mock, "hold", ["--chunk-delay-ms", "1000", "--reply", hold_reply], rundir),
    }
    plain = mocks["gpt-4o-mini"]
    R["mocks"] = {m: {"port": k.port, "cmd": k.cmd} for m, k in mocks.items()}
    gws = {}
    try:
        for g, exe in binaries.items():
            gws[g] = Gateway(exe, g, mocks, rundir)
            R["gateways"][g]["rss_fresh_kb_phase1"] = rss_kb(gws[g].pid)
        log(f"mocks {[m.port for m in mocks.values()]}, gateways "
            f"{ {g: (x.port, x.pid) for g, x in gws.items()} }, results in {rundir}")

        # Same system binary without the per-request access log line, to show what it costs.
        nolog = Gateway(args.gateway, "system-nolog", mocks, rundir, env={"RUST_LOG": NOLOG})
        gws_cpu = dict(gws, **{NOLOG_NAME: nolog})
        R["loadavg"]["start"] = loadavg()
        log("phase 1: gateway CPU per request (fixed count)")
        try:
            for case, stream in (("nonstream", False), ("stream", True)):
                for g, gw in gws_cpu.items():
                    r = phase_cpu(gw, plain, stream, args)
                    if g in R["gateways"]:
                        R["gateways"][g]["cpu"][case] = r
                    else:
                        R["extra_cpu"].setdefault(g, {})[case] = r
                    R["failures"].append((f"1 cpu {case} {g}", r["non_2xx"],
                                          f"errors {r['errors'] or 0}, bad bodies {r['bad_bodies']}, "
                                          f"upstream saw {r['upstream_requests']}/{r['requests']}"))
                    log(f"  cpu {g:<9} {case:<10} {r['cpu_us_per_req']:.1f} µs/req "
                        f"(schedstat {r['schedstat_us_per_req']:.1f}) at {r['req_per_s']:.0f} req/s, "
                        f"non-2xx {r['non_2xx']}, errors {r['errors']}")
        finally:
            nolog.stop()
        # The translated path, same gateway, same mock, same body size: CPU vs passthrough.
        for case, stream in (("nonstream", False), ("stream", True)):
            r = phase_cpu(gws["system"], plain, stream, args, model=TRANSLATED_MODEL)
            R.setdefault("translated_cpu", {})[case] = r
            R["failures"].append((f"1 cpu {case} system, translated", r["non_2xx"],
                                  f"errors {r['errors'] or 0}, bad bodies {r['bad_bodies']}, "
                                  f"upstream saw {r['upstream_requests']}/{r['requests']}"))
            log(f"  cpu system translated {case:<10} {r['cpu_us_per_req']:.1f} µs/req "
                f"(passthrough {R['gateways']['system']['cpu'][case]['cpu_us_per_req']:.1f})")

        R["loadavg"]["phase 2"] = loadavg()
        log("phase 2: throughput and latency (wrk)")
        for case, stream in (("nonstream", False), ("stream", True)):
            targets = [("direct", plain.port, None)] + [(g, gw.port, gw) for g, gw in gws.items()]
            res = phase_wrk(targets, plain, stream, rundir, args)
            R["direct"].setdefault("wrk", {})[case] = res.pop("direct")
            R["failures"].append((f"2 wrk {case} direct", R["direct"]["wrk"][case]["non_2xx_3xx"],
                                  f"socket errors {R['direct']['wrk'][case]['socket_errors']}"))
            for g, r in res.items():
                R["gateways"][g]["wrk"][case] = r
                R["failures"].append((f"2 wrk {case} {g}", r["non_2xx_3xx"],
                                      f"socket errors {r['socket_errors']}"))

        R["loadavg"]["phase 3"] = loadavg()
        log("phase 3: time to first byte (sequential)")
        ttfb_targets = [("direct", mocks["bench-ttfb"].port)] + [(f"gateway ({g})", gw.port) for g, gw in gws.items()]
        R["ttfb"] = phase_ttfb(ttfb_targets, args)
        for name, r in R["ttfb"].items():
            R["failures"].append((f"3 ttfb {name}", r["non_2xx"],
                                  f"errors {r['errors'] or 0}, bad bodies {r['bad_bodies']}"))
            log(f"  ttfb {name:<20} p50 {r['first_byte_ms']['p50']:.3f} ms p99 {r['first_byte_ms']['p99']:.3f} ms "
                f"added {r.get('added_ms')}")
    finally:
        for g, gw in gws.items():
            gw.stop()
            R["gateways"][g]["log_phases_1_3"] = gw.log_summary()

    try:
        R["loadavg"]["phase 4"] = loadavg()
        log(f"phase 4: RSS with {args.streams} open streams")
        for g, exe in binaries.items():
            r = phase_hold(exe, g, mocks, rundir, args)
            R["gateways"][g]["hold"] = r
            c = r["counters"]
            R["failures"].append((
                f"4 hold {g}", r["non_2xx"],
                f"{c.get('headers_2xx', 0)}/{args.streams} got 2xx headers, "
                f"{r['first_byte_at_sample']} had first byte at the RSS sample, "
                f"{c.get('completed_streams', 0)} completed; errors "
                + str({k: v for k, v in c.items() if k.startswith('error_')} or 0)))
            log(f"  hold {g}: idle {r['rss_idle_kb']} kB, loaded {r['rss_loaded_kb']} kB, "
                f"{r['kb_per_stream']} KB/stream, counters {c}")
    finally:
        for m in mocks.values():
            m.stop()

    for g in binaries:
        for key in ("log_phases_1_3",):
            s = R["gateways"][g][key]
            non2 = sum(v for k, v in s["access_statuses"].items() if not k.startswith(("2", "0 (client")))
            R["failures"].append((f"gateway log {g} (phases 1-3)", non2,
                                  f"access statuses {s['access_statuses']}, WARN/ERROR lines {s['levels'] or 0}"))
        s = R["gateways"][g]["hold"]["gateway_log"]
        non2 = sum(v for k, v in s["access_statuses"].items() if not k.startswith(("2", "0 (client")))
        R["failures"].append((f"gateway log {g} (phase 4)", non2,
                              f"access statuses {s['access_statuses']}, WARN/ERROR lines {s['levels'] or 0}"))

    R["loadavg"]["end"] = loadavg()
    R["seconds"] = round(time.monotonic() - T0, 1)
    table = report(R, args)
    R["table_markdown"] = table
    path = out / f"load-{stamp}.json"
    path.write_text(json.dumps(R, indent=2, default=str) + "\n")
    (rundir / "table.md").write_text(table + "\n")
    print(table)
    print(f"\nJSON: {path}\nlogs: {rundir}\nbenchmark phases took {R['seconds']} s")


if __name__ == "__main__":
    main()
