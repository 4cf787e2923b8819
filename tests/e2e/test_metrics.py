"""Prometheus metrics against real parts: the mock's journal and a real Prometheus server.

- The counters of ``/metrics`` equal what happened: ``switchyard_requests_total`` summed is the
  requests sent (plus the harness's ``/healthz`` polls, which the gateway counts too), ``switchyard_upstream_attempts_total`` the upstream calls the mock journaled
  (a 429 failover included), ``switchyard_tokens_total`` the usage the mock reported (input:
  request body bytes / 4; output: the reply's words; nothing for an OpenAI Chat stream that
  did not ask for ``include_usage``), stream and non-stream, translated and passed through.
- Debian's ``prometheus`` (``scripts/install-test-deps.sh``) scrapes the gateway every second;
  ``promtool check metrics`` accepts the exposition, and every query of
  ``deploy/grafana/switchyard.json`` returns at least one series.
- ``metrics.listen`` on a port in use stops start-up with one line and exit code 1.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from conftest import (CLIENT_KEY, REPO, Account, free_port, gateway_config, http_request,
                      repo_path, start_proc, wait_until)

CLIENTS = ["openai_chat", "openai_responses", "anthropic", "gemini"]
# model -> (upstream protocol label, accounts in fill-first order)
MODELS = {
    "m-claude": ("anthropic", ["mx-claude-1", "mx-claude-2"]),
    "m-gemini": ("gemini", ["mx-gemini-1"]),
    "m-codex": ("openai_responses", ["mx-codex-1"]),
    "m-oai": ("openai_chat", ["mx-oai-1"]),
}
ACCOUNTS = [a for _, accts in MODELS.values() for a in accts]
#: The mock's default reply, "Hello from the mock upstream.": one token per word.
REPLY_TOKENS = 5
DASHBOARD = REPO / "deploy" / "grafana" / "switchyard.json"


def config(mock_url: str, metrics_port: int) -> str:
    up = {"m-claude": ("claude-up", mock_url), "m-gemini": ("gemini-up", mock_url),
          "m-codex": ("codex-up", mock_url + "/v1")}
    return gateway_config(
        claude=[Account(a, up["m-claude"][1], [(up["m-claude"][0], "m-claude")])
                for a in MODELS["m-claude"][1]],
        gemini=[Account("mx-gemini-1", mock_url, [("gemini-up", "m-gemini")])],
        codex=[Account("mx-codex-1", mock_url + "/v1", [("codex-up", "m-codex")])],
        openai_compat=[("mock", mock_url + "/v1", ["mx-oai-1"], [("oai-up", "m-oai")])],
        extra=f'routing: {{strategy: fill-first}}\nmetrics: {{listen: "127.0.0.1:{metrics_port}"}}\n',
    )


def send(gw, client: str, model: str, stream: bool) -> int:
    """One request in the client's protocol; the whole body is read. Returns the status."""
    prompt = "say hello"
    if client == "openai_chat":
        path, body = "/v1/chat/completions", {
            "model": model, "stream": stream, "messages": [{"role": "user", "content": prompt}]}
        headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    elif client == "openai_responses":
        path, body = "/v1/responses", {"model": model, "stream": stream, "input": prompt}
        headers = {"authorization": f"Bearer {CLIENT_KEY}"}
    elif client == "anthropic":
        path, body = "/v1/messages", {"model": model, "stream": stream, "max_tokens": 64,
                                      "messages": [{"role": "user", "content": prompt}]}
        headers = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}
    else:
        verb = "streamGenerateContent?alt=sse" if stream else "generateContent"
        path, body = f"/v1beta/models/{model}:{verb}", {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}]}
        headers = {"x-goog-api-key": CLIENT_KEY}
    headers["content-type"] = "application/json"
    r = http_request("POST", gw.url + path, json.dumps(body).encode(), headers, timeout=30)
    return r.status


def probes(gw) -> int:
    """The harness's `/healthz` polls the gateway answered (counted as requests without an
    upstream, under `client_protocol="openai_chat"`, `model="other"`)."""
    return sum(1 for line in gw.proc.log_text(limit=10**7).splitlines()
               if "switchyard::access" in line and 'path="/healthz"' in line)


def traffic(gw, mock) -> dict[tuple[str, str], int]:
    """Every client x every model x stream and non-stream, the first Claude request failing
    over from a 429, and one request for an unknown model (answered by the gateway).
    Returns the requests sent per (client_protocol, upstream_protocol)."""
    mock.schedule("mx-claude-1", [{"status": 429}])
    sent: dict[tuple[str, str], int] = {}
    for model, (upstream, _) in MODELS.items():
        for client in CLIENTS:
            for stream in (True, False):
                status = send(gw, client, model, stream)
                assert status == 200, (client, model, stream, status)
                sent[(client, upstream)] = sent.get((client, upstream), 0) + 1
    assert send(gw, "openai_chat", "no-such-model", False) >= 400
    sent[("openai_chat", "none")] = 1
    return sent


# --------------------------------------------------------------------------- /metrics text

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port: int) -> str:
    r = http_request("GET", f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert r.status == 200, r.body[:500]
    return r.body.decode()


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and m.group(1) == name:
            out.append((dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def total(text: str, name: str, **labels: str) -> float:
    return sum(v for l, v in samples(text, name)
               if all(l.get(k) == want for k, want in labels.items()))


def scrape_when_counted(port: int, n: int, gw) -> str:
    """/metrics once ``switchyard_requests_total`` sums to ``n``: the logging phase runs after
    the client has its last byte, so poll (bounded)."""
    last = {"text": ""}

    def counted():
        last["text"] = scrape(port)
        return total(last["text"], "switchyard_requests_total") == n

    try:
        wait_until(counted, 10, f"switchyard_requests_total to sum to {n}", gw.proc)
    except BaseException:
        print("\n".join(l for l in last["text"].splitlines()
                        if l.startswith("switchyard_requests_total")))
        raise
    return last["text"]


def reported_usage(entry: dict) -> tuple[int, int]:
    """(input, output) tokens the mock reported for one journal entry (extras.rs `Usage`)."""
    if entry["outcome"] != "ok":
        return 0, 0
    body = json.loads(entry["body"])
    chat = entry["path"].endswith("/chat/completions")
    if chat and entry["stream"] and not (body.get("stream_options") or {}).get("include_usage"):
        return 0, 0
    return entry["body_len"] // 4, REPLY_TOKENS


def test_counters_match_the_mock_journal(gateway, mock_upstream):
    mport = free_port()
    gw = gateway(config(mock_upstream.url, mport))
    sent = traffic(gw, mock_upstream)
    n = sum(sent.values()) + probes(gw)
    text = scrape_when_counted(mport, n, gw)
    journal = [e for e in mock_upstream.journal() if e["account"] in ACCOUNTS]
    for (client, upstream), k in sent.items():
        if upstream == "none":
            continue
        assert total(text, "switchyard_requests_total", client_protocol=client,
                     upstream_protocol=upstream) == k, (client, upstream)
    assert total(text, "switchyard_requests_total", code="400", upstream_protocol="none") == 1
    assert total(text, "switchyard_requests_total", code="200") == n - 1
    # Attempts: every upstream call the mock saw, the 429 included.
    assert total(text, "switchyard_upstream_attempts_total") == len(journal)
    assert total(text, "switchyard_upstream_attempts_total", code="429") == 1
    assert sum(1 for e in journal if e["outcome"] == "status:429") == 1
    assert total(text, "switchyard_failovers_total", reason="quota") == 1
    assert total(text, "switchyard_failovers_total") == 1
    assert total(text, "switchyard_account_cooldowns_total", provider="claude",
                 reason="quota") == 1
    # Tokens: the usage the mock reported, per model.
    by_model: dict[str, tuple[int, int]] = {}
    for e in journal:
        model = next(m for m, (_, accts) in MODELS.items() if e["account"] in accts)
        i, o = reported_usage(e)
        a, b = by_model.get(model, (0, 0))
        by_model[model] = (a + i, b + o)
    for model, (i, o) in by_model.items():
        assert total(text, "switchyard_tokens_total", model=model, type="input") == i, model
        assert total(text, "switchyard_tokens_total", model=model, type="output") == o, model
    assert total(text, "switchyard_tokens_total", type="output") > 0
    # Streams: the time to first chunk of every stream that reached an upstream.
    streams = sum(k for (c, u), k in sent.items() if u != "none") // 2
    assert total(text, "gen_ai_client_operation_time_to_first_chunk_seconds_count") == streams
    assert total(text, "switchyard_open_streams") == 0
    assert total(text, "switchyard_inflight_requests") == 0
    # Scrape-time families.
    assert total(text, "switchyard_accounts", provider="claude") == 2
    assert total(text, "switchyard_accounts") == len(ACCOUNTS)
    assert len(samples(text, "switchyard_build_info")) == 1
    # (The crate reports whole CPU seconds: a young gateway has 0.)
    assert samples(text, "process_cpu_seconds_total")
    assert total(text, "process_resident_memory_bytes") > 0


# --------------------------------------------------------------------------- real Prometheus


def prom_query(base: str, expr: str) -> list:
    q = urllib.parse.urlencode({"query": expr})
    r = http_request("GET", f"{base}/api/v1/query?{q}", timeout=10)
    body = json.loads(r.body)
    assert body.get("status") == "success", (expr, body)
    return body["data"]["result"]


def dashboard_exprs() -> list[tuple[str, str]]:
    dash = json.loads(DASHBOARD.read_text())
    out = []
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "10s").replace("$instance", ".*")
            assert "$" not in expr, f"unsubstituted variable in {panel['title']}: {expr}"
            out.append((panel["title"], expr))
    return out


@pytest.fixture
def prometheus(tmp_path):
    """A factory: ``prometheus(target)`` starts Debian's prometheus scraping ``target`` every
    second; stopped at teardown."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is missing: run scripts/install-test-deps.sh", pytrace=False)
    procs = []

    def start(target: str) -> str:
        port = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: switchyard\n    static_configs: [{{targets: ['{target}']}}]\n")
        p = start_proc("prometheus", [binary, f"--config.file={cfg}",
                                      f"--web.listen-address=127.0.0.1:{port}",
                                      f"--storage.tsdb.path={tmp_path / 'tsdb'}"],
                       tmp_path, cwd=tmp_path)
        procs.append(p)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_request("GET", f"{base}/-/ready", timeout=2).status == 200,
                   30, "prometheus to be ready", p)
        return base

    yield start
    for p in procs:
        p.stop()


def test_prometheus_scrapes_and_every_dashboard_query_has_data(gateway, mock_upstream,
                                                               prometheus, tmp_path):
    mport = free_port()
    gw = gateway(config(mock_upstream.url, mport))
    prom = prometheus(f"127.0.0.1:{mport}")
    sent = traffic(gw, mock_upstream)
    n = sum(sent.values()) + probes(gw)
    wait_until(lambda: prom_query(prom, 'up{job="switchyard"} == 1'), 20,
               "Prometheus to scrape the gateway (up == 1)")
    wait_until(lambda: any(float(s["value"][1]) == n for s in
                           prom_query(prom, "sum(switchyard_requests_total)")),
               20, f"sum(switchyard_requests_total) == {n} in Prometheus")

    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run scripts/install-test-deps.sh"
    text = scrape(mport)
    check = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()

    # rate() needs two samples in its window: poll each query (bounded) instead of sleeping.
    for title, expr in dashboard_exprs():
        wait_until(lambda: prom_query(prom, expr), 15, f"a series for {title!r}: {expr}")


def test_metrics_port_in_use_stops_startup(mock_upstream, tmp_path):
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    mport = held.getsockname()[1]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config(mock_upstream.url, mport))
    binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    try:
        r = subprocess.run([str(binary), "serve", "--config", str(cfg)], capture_output=True,
                           timeout=30, cwd=tmp_path, env={"HOME": str(tmp_path), "NO_COLOR": "1"})
    finally:
        held.close()
    assert r.returncode == 1, r.stderr.decode()
    err = r.stderr.decode().strip()
    assert err.splitlines()[-1] == (
        f"error: metrics.listen: cannot listen on 127.0.0.1:{mport}: the port is in use "
        "(another process listens there)"), err
    assert len(err.splitlines()) == 1, err
