"""The bundled benchmark (benches/run) without running it: the gateway configs it writes pass
`switchyard check-config`, its nginx configs pass `nginx -t`, and the table and the SVG render
from a results dict with every section. Takes well under a second; the benchmark itself is
never part of the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from conftest import REPO, repo_path

sys.path.insert(0, str(REPO / "benches" / "suite"))
import report  # noqa: E402
import targets  # noqa: E402

MOCKS = {k: SimpleNamespace(port=p) for k, p in (("ttfb", 40001), ("hold", 40002), ("fail", 40003))}


@pytest.mark.parametrize("commercial", [False, True])
def test_gateway_configs_pass_check_config(tmp_path, commercial):
    exe = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
    auth = tmp_path / "auth"
    targets.write_codex_auth_files(auth, 3)
    for name, auth_dir in (("plain", None), ("oauth", auth)):
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(targets.gateway_yaml(40000, 40010, MOCKS, commercial, auth_dir))
        r = subprocess.run([str(exe), "check-config", "--config", str(cfg)],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stdout + r.stderr


def test_nginx_configs_pass_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not shutil.which(nginx):
        pytest.skip("nginx is not installed (benches/run installs nginx-light)")
    for name, text in (("up", targets.nginx_upstream_conf(tmp_path, 40010)),
                       ("proxy", targets.nginx_proxy_conf(tmp_path, 40020, 40010, 40001, 40021))):
        conf = tmp_path / f"{name}.conf"
        conf.write_text(text)
        r = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr


def _runs(rps, cpu, p50=100, p99=400):
    return [{"req_per_s": rps, "cpu_us_per_req": cpu, "p50_us": p50, "p99_us": p99,
             "non_2xx_3xx": 0, "socket_errors": 0}]


def test_table_and_svg_render():
    cases = [targets.case_name(c) for c in targets.CASES]
    conc = ["1", "8", "64"]
    R = {"started": "2026-01-01 00:00:00 UTC", "host": {"cores": 2}, "gateway_version": "switchyard test",
         "args": {"cpu_conns": 8, "concurrency": [1, 8, 64], "peer_concurrency": [1, 8], "peers": True,
                  "rounds": 1, "duration": 1},
         "loadavg": {"wrk": 1.0}, "streams": 100, "peers_missing": {"claude-code-router": "npm failed"},
         "peer_versions": {"LiteLLM": "1"},
         "wrk": {"direct": {c: {k: _runs(40000, None, 30, 90) for k in conc} for c in cases},
                 "nginx proxy": {c: {k: _runs(15000, 30) for k in conc} for c in cases},
                 "normal": {c: {k: _runs(12000, 40) for k in conc} for c in cases},
                 "commercial": {c: {k: _runs(12000, 41) for k in conc} for c in cases},
                 "LiteLLM": {c: {k: _runs(50, 20000) for k in ("1", "8")} for c in cases}},
         "startup_ms": {"normal": [20.0], "commercial": [21.0], "LiteLLM": [9000.0]},
         "idle_rss_kb": {"normal": 17000, "commercial": 16000, "nginx proxy": 20000, "LiteLLM": 400000},
         "ttfb": {"direct": {"p50_ms": 6.0, "p99_ms": 9.0, "bad": 0, "errors": 0},
                  "normal passthrough": {"p50_ms": 6.2, "p99_ms": 9.1, "added_p50_ms": 0.2,
                                         "added_p99_ms": 0.1, "bad": 0, "errors": 0}},
         "failover": {"normal": {"added_ms": 0.2, "bad": 0}},
         "hold": {"normal": {"kb_per_stream": 40.0, "first_content": 100, "streams": 100, "failed": 0,
                             "non_200": 0}},
         "oauth": {"accounts": 10, "normal": {"startup_ms": 30.0, "rss_idle_kb": 20000}}}
    table = report.table(R)
    assert "| CPU per request ÷ nginx proxying it, passthrough non-stream (c8) | **1.33x** ✓" in table
    assert "LiteLLM ÷ Switchyard CPU per request, translated non-stream (c8) | **500x** ✓" in table
    assert "unavailable: npm failed" in table
    assert "**40.0 KB** ✓" in table
    ET.fromstring(report.svg(R))
