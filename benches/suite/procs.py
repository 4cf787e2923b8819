"""Processes of the bundled benchmark: start, measure (/proc), stop.

Every process is started in its own session and registered in `STARTED`; `stop_all()` stops
them in reverse order (SIGTERM to the process group, then SIGKILL), so nothing outlives a run,
also after Ctrl-C. CPU and RSS are read for a process *tree* (the root and its descendants),
because nginx has a master and a worker and the peers may start helpers. Standard library only.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- /proc


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def tree(root):
    """The root pid and all its live descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                children.setdefault(int(_stat(d)[1]), []).append(int(d))
            except (OSError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_ticks(root):
    """utime + stime of the tree, plus cutime + cstime (children that already exited and were
    reaped), in clock ticks (proc(5) fields 14-17)."""
    total = 0
    for p in tree(root):
        try:
            f = _stat(p)
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15])
    return total


def tree_rss_kb(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------- processes


class Proc:
    """A started process; output to `<out>/<name>.log`."""

    def __init__(self, name, argv, out, env=None, cwd=None):
        self.name = name
        self.logpath = Path(out) / f"{name}.log"
        self._log = open(self.logpath, "ab")
        self.t_spawn = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})), cwd=cwd,
                                     start_new_session=True)
        self.pid = self.proc.pid
        STARTED.append(self)

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, n=1500):
        try:
            return self.logpath.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, grace=5.0):
        if self in STARTED:
            STARTED.remove(self)
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        # stragglers of the group (nginx workers, node children)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        self._log.close()


def stop_all():
    for p in reversed(list(STARTED)):
        try:
            p.stop()
        except Exception as e:  # keep stopping the others
            log(f"stopping {p.name}: {e}")


def wait_port(port, proc, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{what} exited: {proc.log_tail()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s: {proc.log_tail()}")


def http_post(port, path, body, headers, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", path, body, headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def http_get(port, path, headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# ---------------------------------------------------------------- the project's mock


class Mock(Proc):
    def __init__(self, exe, name, args, out):
        super().__init__(f"mock-{name}", [str(exe), "--listen", "127.0.0.1:0", "--journal-max",
                                          "1000", *args], out)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = re.search(rb"LISTENING 127\.0\.0\.1:(\d+)", self.logpath.read_bytes())
            if m:
                self.port = int(m.group(1))
                return
            if not self.alive():
                break
            time.sleep(0.02)
        raise RuntimeError(f"mock {name} did not start: {self.log_tail()}")

    def schedule(self, account, then):
        import json
        st, body = http_post(self.port, "/_mock/schedule",
                             json.dumps({"account": account, "steps": [], "then": then}),
                             {"content-type": "application/json"})
        if st != 200:
            raise RuntimeError(f"mock schedule: {st} {body[:200]}")
