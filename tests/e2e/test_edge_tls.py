"""TLS for an edge gateway: HTTP/2 and HTTP/1.1 offered by ALPN (driven with curl), and a
certificate renewed on disk is the one the next connection gets, while a connection opened
before the renewal keeps working.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from conftest import (CLIENT_KEY, MODEL_OAI, Gateway, Proc, _register_log, free_port,
                      repo_path, standard_config, start_proc, wait_until)


def make_cert(dir_: Path, name: str) -> tuple[Path, Path]:
    cert, key = dir_ / f"{name}.crt", dir_ / f"{name}.key"
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return cert, key


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


@pytest.fixture
def tls_gateway(request, tmp_path, mock_upstream):
    """Factory: a gateway on TLS with this cert and key (the harness's polls are plain HTTP)."""
    started: list[Proc] = []

    def make(cert: Path, key: Path) -> Gateway:
        binary = repo_path("SWITCHYARD_BIN", "target/debug/switchyard")
        work = tmp_path / f"tls{len(started)}"
        work.mkdir()
        port = free_port()
        cfg = work / "switchyard.yaml"
        cfg.write_text(standard_config(mock_upstream.url, port=port)
                       + f'tls:\n  enable: true\n  cert: "{cert}"\n  key: "{key}"\n')
        env = dict(os.environ, NO_COLOR="1", HOME=str(work))
        proc = start_proc("switchyard-tls", [str(binary), "serve", "--config", str(cfg)], work,
                          env=env, cwd=work)
        started.append(proc)
        _register_log(request, proc)
        wait_until(lambda: https_status(port, "/healthz") == 200, 30, "https /healthz", proc)
        return Gateway(proc, port, cfg)

    yield make
    for p in started:
        p.stop()


def https_status(port: int, path: str) -> int:
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                       context=ssl._create_unverified_context())
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def curl(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("curl")
    if exe is None:
        pytest.fail("curl is missing: run scripts/install-test-deps.sh", pytrace=False)
    return subprocess.run([exe, "-sS", "--insecure", *args], capture_output=True, text=True,
                          timeout=30)


def test_http2_and_http11_over_tls(tmp_path, tls_gateway):
    cert, key = make_cert(tmp_path, "edge")
    gw = tls_gateway(cert, key)
    base = f"https://127.0.0.1:{gw.port}"
    for flag, version in (("--http2", "2"), ("--http1.1", "1.1")):
        r = curl(flag, "-o", "/dev/null", "-w", "%{http_version} %{response_code}",
                 f"{base}/healthz")
        assert r.stdout == f"{version} 200", (flag, r.stdout, r.stderr)
        # A proxied request, both ways.
        body = json.dumps({"model": MODEL_OAI, "messages": [{"role": "user", "content": "hi"}]})
        r = curl(flag, "-w", "\n%{http_version} %{response_code}", "-H",
                 f"Authorization: Bearer {CLIENT_KEY}", "-H", "Content-Type: application/json",
                 "--data", body, f"{base}/v1/chat/completions")
        answer, _, status = r.stdout.rpartition("\n")
        assert status == f"{version} 200", (flag, r.stdout, r.stderr)
        assert json.loads(answer)["object"] == "chat.completion"


def test_renewed_certificate_is_served_to_the_next_connection(tmp_path, tls_gateway):
    live = tmp_path / "live"
    live.mkdir()
    first_cert, first_key = make_cert(tmp_path, "first")
    second_cert, second_key = make_cert(tmp_path, "second")
    cert, key = live / "fullchain.pem", live / "privkey.pem"
    shutil.copy(first_cert, cert)
    shutil.copy(first_key, key)
    gw = tls_gateway(cert, key)

    ctx = ssl._create_unverified_context()
    before = http.client.HTTPSConnection("127.0.0.1", gw.port, timeout=10, context=ctx)
    before.request("GET", "/healthz")
    assert before.getresponse().read() and before.sock.getpeercert(True) == der(first_cert)

    # A renewal as certbot does it: new files written beside, renamed into place.
    for src, dst in ((second_key, key), (second_cert, cert)):
        tmp = dst.with_suffix(".new")
        shutil.copy(src, tmp)
        os.replace(tmp, dst)

    def served() -> bytes:
        c = http.client.HTTPSConnection("127.0.0.1", gw.port, timeout=5, context=ctx)
        try:
            c.request("GET", "/healthz")
            c.getresponse().read()
            return c.sock.getpeercert(True)
        finally:
            c.close()

    wait_until(lambda: served() == der(second_cert), 15, "the renewed certificate")
    # The connection opened before the renewal was not dropped.
    before.request("GET", "/healthz")
    r = before.getresponse()
    assert r.status == 200 and r.read()
    assert before.sock.getpeercert(True) == der(first_cert)
    before.close()
    gw.wait_log("tls: certificate reloaded")
