"""Harness for the end-to-end tests: real clients -> switchyard -> a mock upstream.

Processes (all on 127.0.0.1, ephemeral ports, readiness by polling with a deadline):

* ``mock_upstream``  the Rust mock (``SWITCHYARD_MOCK_BIN``, default ``target/debug/switchyard-mock``),
  one per session, reset before every test that uses it.
* ``aimock``         @copilotkit/aimock with the fixtures in ``tests/aimock/`` (one per session,
  journal reset before every test).
* ``gateway``        factory: ``gateway(config_yaml_text)`` starts ``switchyard serve --config F``
  (``SWITCHYARD_BIN``, default ``target/debug/switchyard``) and stops it at teardown.

A missing binary or tool is a test FAILURE with a message saying what to build or install,
never a skip. When a test fails, the logs of every process it started are attached to its
report.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"
NODE_MODULES = TOOLS / "node" / "node_modules"
AIMOCK_CLI = NODE_MODULES / "@copilotkit" / "aimock" / "dist" / "cli.js"
CLAUDE_BIN = NODE_MODULES / ".bin" / "claude"
AIMOCK_FIXTURES = REPO / "tests" / "aimock"

#: The key clients present to the gateway in the standard config.
CLIENT_KEY = "sk-client"
#: Account keys of the standard config (what the gateway must send upstream).
ACCT_CLAUDE = "acct-claude-1"
ACCT_GEMINI = "acct-gemini-1"
ACCT_CODEX = "acct-codex-1"
ACCT_OAI = "acct-oai-1"

MODEL_CLAUDE = "claude-sonnet-4-5"
MODEL_GEMINI = "gemini-2.5-flash"
MODEL_CODEX = "gpt-5-codex"
MODEL_OAI = "gpt-4o-mini"

#: The standard config's models: model -> (account, upstream path, the path when streaming).
UPSTREAMS = {
    MODEL_CLAUDE: (ACCT_CLAUDE, "/v1/messages", "/v1/messages"),
    MODEL_GEMINI: (ACCT_GEMINI, f"/v1beta/models/{MODEL_GEMINI}:generateContent",
                   f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent"),
    MODEL_CODEX: (ACCT_CODEX, "/v1/responses", "/v1/responses"),
    MODEL_OAI: (ACCT_OAI, "/v1/chat/completions", "/v1/chat/completions"),
}


# --------------------------------------------------------------------------- basics


def free_port() -> int:
    """An ephemeral TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def repo_path(env: str, default: str) -> Path:
    """A binary path from ``env`` or the repo-relative default; fails the test if absent."""
    raw = os.environ.get(env)
    p = Path(raw) if raw else REPO / default
    if not p.is_absolute():
        p = REPO / p
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(
            f"{p} is missing or not executable: build it first (cargo build), "
            f"or point {env} at it",
            pytrace=False,
        )
    return p


def need_tool(p: Path) -> Path:
    if not p.exists():
        pytest.fail(f"{p} is missing: run scripts/install-test-deps.sh", pytrace=False)
    return p


def wait_until(pred, timeout: float, what: str, proc: "Proc | None" = None, interval: float = 0.02):
    """Polls ``pred()`` until it returns a truthy value or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        if proc is not None and proc.popen.poll() is not None:
            pytest.fail(
                f"{proc.name} exited with {proc.popen.returncode} while waiting for {what}\n"
                f"--- {proc.name} log ---\n{proc.log_text()}",
                pytrace=False,
            )
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            if proc is not None:
                msg += f"\n--- {proc.name} log ---\n{proc.log_text()}"
            pytest.fail(msg, pytrace=False)
        time.sleep(interval)


# --------------------------------------------------------------------------- processes


@dataclass
class Proc:
    """A child process whose stdout+stderr go to a log file."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    def log_text(self, limit: int = 20000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no log)"
        text = data.decode("utf-8", "replace")
        if len(text) > limit:
            text = f"... ({len(text) - limit} chars cut)\n" + text[-limit:]
        return text

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds. Returns the exit code."""
        p = self.popen
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
            except ProcessLookupError:
                pass
        return p.returncode


def start_proc(name: str, argv: list[str], log_dir: Path, env: dict | None = None,
               stdout_pipe: bool = False, cwd: Path | None = None) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "wb")
    try:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else log,
            stderr=log,
            env=env,
            cwd=str(cwd or REPO),
        )
    finally:
        log.close()
    return Proc(name, popen, log_path)


# Logs of the processes a test started, attached to its report when it fails.
_LOGS_KEY = pytest.StashKey[list]()


def _register_log(request: pytest.FixtureRequest, proc: Proc) -> None:
    node = request.node
    node.stash.setdefault(_LOGS_KEY, []).append(proc)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        procs = list(item.stash.get(_LOGS_KEY, []))
        # A module-scoped gateway is registered on the module: its log goes with every
        # failing test of that module. Session-scoped processes are registered on the item by
        # the function-scoped fixtures that hand them out (mock_upstream, aimock).
        if item.parent is not None:
            procs += item.parent.stash.get(_LOGS_KEY, [])
        seen = set()
        for p in procs:
            if id(p) in seen:
                continue
            seen.add(id(p))
            text = p.log_text()
            if text.strip():
                rep.sections.append((f"{p.name} log ({p.log_path})", text))


# --------------------------------------------------------------------------- HTTP helpers


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(method: str, url: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 60) -> Resp:
    """A raw HTTP/1.1 request that also survives a server answering before reading the body
    (413): a failed send is ignored and the response is read anyway."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            try:
                view = memoryview(body)
                for i in range(0, len(body), 1 << 16):
                    conn.send(view[i:i + (1 << 16)])
            except (BrokenPipeError, ConnectionResetError):
                pass
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def get_json(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def post_json(url: str, obj: Any, timeout: float = 10) -> Any:
    req = urllib.request.Request(url, data=json.dumps(obj).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    return json.loads(raw) if raw.strip() else None


# --------------------------------------------------------------------------- the Rust mock


class MockUpstream:
    """The Rust mock upstream and its control API."""

    def __init__(self, proc: Proc, host_port: str):
        self.proc = proc
        self.host_port = host_port
        self.url = f"http://{host_port}"
        self.port = int(host_port.rsplit(":", 1)[1])

    def journal(self, account: str | None = None) -> list[dict]:
        q = "" if account is None else "?" + urllib.parse.urlencode({"account": account})
        return get_json(f"{self.url}/_mock/journal{q}")

    def schedule(self, account: str, steps: list, then: Any = "ok") -> None:
        post_json(f"{self.url}/_mock/schedule", {"account": account, "steps": steps, "then": then})

    def reset(self) -> None:
        post_json(f"{self.url}/_mock/reset", {})


def _start_mock(log_dir: Path, args: Iterable[str] = ()) -> MockUpstream:
    """Starts a mock; ``args`` are extra flags (``--chunk-delay-ms 50`` for a slow stream)."""
    binary = repo_path("SWITCHYARD_MOCK_BIN", "target/debug/switchyard-mock")
    proc = start_proc("switchyard-mock", [str(binary), "--listen", "127.0.0.1:0", *args],
                      log_dir, stdout_pipe=True)
    found: dict[str, str] = {}
    ready = threading.Event()
    stdout_log = log_dir / "switchyard-mock.stdout"

    def pump():
        # Reads stdout for the LISTENING line, then keeps draining it so the pipe never fills.
        with open(stdout_log, "wb") as out:
            for line in proc.popen.stdout:  # type: ignore[union-attr]
                out.write(line)
                out.flush()
                m = re.match(rb"LISTENING (127\.0\.0\.1:\d+)\s*$", line)
                if m and not ready.is_set():
                    found["addr"] = m.group(1).decode()
                    ready.set()
        ready.set()

    threading.Thread(target=pump, name="mock-stdout", daemon=True).start()
    wait_until(ready.is_set, 30, "the mock's LISTENING line", proc)
    if "addr" not in found:
        pytest.fail(f"the mock closed stdout without a LISTENING line\n--- log ---\n{proc.log_text()}",
                    pytrace=False)
    mock = MockUpstream(proc, found["addr"])
    wait_until(lambda: mock.journal() is not None, 10, "the mock's journal", proc)
    return mock


@pytest.fixture(scope="session")
def mock_server(request, tmp_path_factory):
    mock = _start_mock(tmp_path_factory.mktemp("mock"))
    yield mock
    mock.proc.stop()


@pytest.fixture
def mock_upstream(request, mock_server: MockUpstream) -> MockUpstream:
    """The session's mock, reset (journal and schedules cleared) for this test."""
    mock_server.reset()
    _register_log(request, mock_server.proc)
    return mock_server


@pytest.fixture
def slow_mock(request, tmp_path):
    """Factory: ``slow_mock("--chunk-delay-ms", "40")`` starts a mock of this test's own with
    those flags (stopped at teardown)."""
    started: list[MockUpstream] = []

    def make(*args: str) -> MockUpstream:
        mock = _start_mock(tmp_path / f"mock{len(started)}", args)
        started.append(mock)
        _register_log(request, mock.proc)
        return mock

    yield make
    for m in started:
        m.proc.stop()


# --------------------------------------------------------------------------- aimock


class AiMock:
    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    # With AIMOCK_API_KEYS set, aimock's control API wants a key too.
    def _control(self, method: str, path: str) -> bytes:
        req = urllib.request.Request(f"{self.url}/__aimock/{path}", method=method,
                                     data=b"" if method == "POST" else None,
                                     headers={"authorization": f"Bearer {AIMOCK_KEYS[0]}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def journal(self) -> list[dict]:
        return json.loads(self._control("GET", "journal"))

    def reset(self) -> None:
        self._control("POST", "reset/journal")


#: aimock only accepts these keys (AIMOCK_API_KEYS): the gateway must send an account key.
AIMOCK_KEYS = (ACCT_CLAUDE, ACCT_GEMINI, ACCT_CODEX, ACCT_OAI)


@pytest.fixture(scope="session")
def aimock_server(request, tmp_path_factory):
    need_tool(AIMOCK_CLI)
    port = free_port()
    env = dict(os.environ)
    env["AIMOCK_API_KEYS"] = ",".join(AIMOCK_KEYS)
    env["HOME"] = str(tmp_path_factory.mktemp("aimock-home"))
    # -c 5: streams arrive in several chunks, so the gateway has to relay more than one delta.
    proc = start_proc(
        "aimock",
        ["node", str(AIMOCK_CLI), "-h", "127.0.0.1", "-p", str(port), "-c", "5",
         "-f", str(AIMOCK_FIXTURES)],
        tmp_path_factory.mktemp("aimock-log"),
        env=env,
    )
    am = AiMock(proc, port)

    def healthy():
        with urllib.request.urlopen(f"{am.url}/health", timeout=2) as r:
            return r.status == 200

    wait_until(healthy, 30, "aimock /health", proc)
    yield am
    proc.stop()


@pytest.fixture
def aimock(request, aimock_server: AiMock) -> AiMock:
    aimock_server.reset()
    _register_log(request, aimock_server.proc)
    return aimock_server


# --------------------------------------------------------------------------- config YAML


@dataclass
class Account:
    api_key: str
    base_url: str
    models: list[tuple[str, str]] = field(default_factory=list)  # (upstream name, alias)


def _q(s: str) -> str:
    """A YAML scalar (JSON strings are valid YAML flow scalars)."""
    return json.dumps(s)


def _models_yaml(models: Iterable[tuple[str, str]], indent: str) -> list[str]:
    out = [f"{indent}models:"]
    for name, alias in models:
        out.append(f"{indent}  - {{name: {_q(name)}, alias: {_q(alias)}}}")
    return out


def gateway_config(
    *,
    port: int | None = None,
    api_keys: Iterable[str] = (CLIENT_KEY,),
    claude: Iterable[Account] = (),
    gemini: Iterable[Account] = (),
    codex: Iterable[Account] = (),
    openai_compat: Iterable[tuple[str, str, list[str], list[tuple[str, str]]]] = (),
    shutdown_grace: int | None = 0,
    extra: str = "",
) -> str:
    """Builds a switchyard config (CLIProxyAPI's keys).

    ``openai_compat`` items are ``(name, base_url, [api keys], [(model, alias)])``.
    ``port=None`` picks a free port. ``extra`` is appended verbatim (top-level keys).
    ``shutdown_grace`` sets ``shutdown-grace-seconds`` (0: teardown does not wait out the
    default 5 s drain; a test of the drain passes a number, ``None`` leaves the default).
    """
    if port is None:
        port = free_port()
    lines = ["host: 127.0.0.1", f"port: {port}"]
    if shutdown_grace is not None:
        lines.append(f"shutdown-grace-seconds: {shutdown_grace}")
    keys = list(api_keys)
    lines.append("api-keys: [" + ", ".join(_q(k) for k in keys) + "]")
    for section, accounts in (("claude-api-key", claude), ("gemini-api-key", gemini),
                              ("codex-api-key", codex)):
        accounts = list(accounts)
        if not accounts:
            continue
        lines.append(f"{section}:")
        for a in accounts:
            lines.append(f"  - api-key: {_q(a.api_key)}")
            lines.append(f"    base-url: {_q(a.base_url)}")
            lines += _models_yaml(a.models, "    ")
    compat = list(openai_compat)
    if compat:
        lines.append("openai-compatibility:")
        for name, base_url, keys_, models in compat:
            lines.append(f"  - name: {_q(name)}")
            lines.append(f"    base-url: {_q(base_url)}")
            lines.append("    api-key-entries:")
            for k in keys_:
                lines.append(f"      - api-key: {_q(k)}")
            lines += _models_yaml(models, "    ")
    text = "\n".join(lines) + "\n"
    if extra:
        text += extra.rstrip("\n") + "\n"
    return text


def standard_config(upstream_root: str, *, port: int | None = None,
                    api_keys: Iterable[str] = (CLIENT_KEY,), extra: str = "",
                    shutdown_grace: int | None = 0) -> str:
    """One account of each kind, all at ``upstream_root`` (``http://127.0.0.1:P``)."""
    return gateway_config(
        port=port,
        api_keys=api_keys,
        shutdown_grace=shutdown_grace,
        claude=[Account(ACCT_CLAUDE, upstream_root, [(MODEL_CLAUDE, "")])],
        gemini=[Account(ACCT_GEMINI, upstream_root, [(MODEL_GEMINI, "")])],
        codex=[Account(ACCT_CODEX, upstream_root + "/v1", [(MODEL_CODEX, "")])],
        openai_compat=[("mock", upstream_root + "/v1", [ACCT_OAI], [(MODEL_OAI, "")])],
        extra=extra,
    )


# --------------------------------------------------------------------------- gateway


class Gateway:
    def __init__(self, proc: Proc, port: int, config_path: Path):
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.config_path = config_path

    def log_text(self) -> str:
        return self.proc.log_text()

    def wait_log(self, text: str, timeout: float = 5.0) -> str:
        """The log once it holds ``text``. Log lines reach the file a few milliseconds after
        the response (the access line is written in the logging phase, and the writer takes
        lines in batches), so a test that reads the log right after a request polls."""
        return wait_until(lambda: text in (t := self.proc.log_text(limit=1 << 30)) and t,
                          timeout, f"{text!r} in the gateway log", self.proc)


def _config_port(text: str) -> int:
    m = re.search(r"^port:\s*(\d+)\s*$", text, re.M)
    if not m:
        raise ValueError("gateway config has no top-level 'port: N' line")
    return int(m.group(1))


def start_gateway(config_text: str, work_dir: Path, name: str = "switchyard",
                  env: dict | None = None, health_timeout: float = 30.0) -> Gateway:
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    work_dir.mkdir(parents=True, exist_ok=True)
    cfg = work_dir / f"{name}.yaml"
    cfg.write_text(config_text)
    port = _config_port(config_text)
    e = dict(os.environ)
    e.setdefault("RUST_BACKTRACE", "1")
    e.setdefault("NO_COLOR", "1")
    e["HOME"] = str(work_dir)  # a default auth-dir (~/.cli-proxy-api) lands in the tmp dir
    if env:
        e.update(env)
    proc = start_proc(name, [str(binary), "serve", "--config", str(cfg)], work_dir, env=e,
                      cwd=work_dir)
    gw = Gateway(proc, port, cfg)

    def healthy():
        with urllib.request.urlopen(f"{gw.url}/healthz", timeout=2) as r:
            return r.status == 200

    wait_until(healthy, health_timeout, f"{gw.url}/healthz to answer 200", proc)
    return gw


@pytest.fixture
def gateway(request, tmp_path):
    """Factory: ``gw = gateway(config_yaml_text)``; every gateway is stopped at teardown."""
    started: list[Gateway] = []

    def make(config_text: str, **kw) -> Gateway:
        n = len(started)
        gw = start_gateway(config_text, tmp_path / f"gw{n}", name=f"switchyard{n or ''}", **kw)
        started.append(gw)
        _register_log(request, gw.proc)
        return gw

    yield make
    for gw in started:
        gw.proc.stop(grace=5.0)


@pytest.fixture(scope="module")
def module_gateway(request, tmp_path_factory):
    """Like ``gateway`` but module-scoped (one gateway shared by the tests of a module)."""
    started: list[Gateway] = []

    def make(config_text: str, **kw) -> Gateway:
        gw = start_gateway(config_text, tmp_path_factory.mktemp("gw"), **kw)
        started.append(gw)
        _register_log(request, gw.proc)
        return gw

    yield make
    for gw in started:
        gw.proc.stop(grace=5.0)


# --------------------------------------------------------------------------- journal checks


def _show(entries: list[dict]) -> str:
    slim = []
    for e in entries:
        slim.append({k: e.get(k) for k in ("seq", "account", "method", "path", "query", "model",
                                           "stream", "outcome", "body_len")})
    return json.dumps(slim, indent=1)


def assert_no_client_key(entry: dict, client_key: str = CLIENT_KEY) -> None:
    """The gateway's own client key must not reach the upstream in any header or the query."""
    leaked = [k for k, v in entry.get("headers", {}).items() if client_key in v]
    assert not leaked, f"client key {client_key!r} forwarded upstream in headers {leaked}"
    assert client_key not in (entry.get("query") or ""), \
        f"client key {client_key!r} forwarded upstream in the query {entry.get('query')!r}"


def assert_one_call(mock: MockUpstream, *, account: str, path: str, method: str = "POST",
                    model: str | None = None, client_key: str = CLIENT_KEY) -> dict:
    """Exactly one upstream request, to ``path`` with ``account``'s key; returns it."""
    j = mock.journal()
    assert len(j) == 1, f"expected exactly one upstream call to {path}, journal:\n{_show(j)}"
    e = j[0]
    assert (e["method"], e["path"]) == (method, path), f"wrong upstream request:\n{_show(j)}"
    assert e["account"] == account, \
        f"upstream got account {e['account']!r}, expected {account!r}:\n{_show(j)}"
    if model is not None:
        assert e["model"] == model, f"upstream model {e['model']!r}, expected {model!r}"
    assert_no_client_key(e, client_key)
    return e


def assert_no_upstream(mock: MockUpstream) -> None:
    j = mock.journal()
    assert j == [], f"expected no upstream call, journal:\n{_show(j)}"
