"""An HTTPS upstream: the gateway verifies its certificate, sends SNI and Host for the
account's host name, and refuses an upstream it cannot verify (502, nothing delivered).

The upstream is a small Python HTTPS server with a certificate from a throwaway CA; the
gateway trusts that CA through SSL_CERT_FILE (Pingora's rustls connector loads the platform
roots plus SSL_CERT_FILE)."""

import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import Account, free_port, gateway_config, http_request

REPLY = {"id": "msg_tls", "type": "message", "role": "assistant", "model": "claude-tls",
         "content": [{"type": "text", "text": "over tls"}], "stop_reason": "end_turn",
         "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2}}


def make_ca_and_leaf(d):
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=switchyard test CA",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", str(d / "leaf.key"), "-out", str(d / "leaf.csr"))
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", str(d / "leaf.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
        "-CAcreateserial", "-days", "2", "-extfile", str(d / "ext.cnf"), "-out", str(d / "leaf.pem"))


@pytest.fixture
def tls_upstream(tmp_path):
    make_ca_and_leaf(tmp_path)
    seen = {"sni": [], "requests": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            seen["requests"].append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "body": body})
            out = json.dumps(REPLY).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    ctx.sni_callback = lambda sock, name, c: seen["sni"].append(name)
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield {"port": port, "seen": seen, "ca": tmp_path / "ca.pem"}
    server.shutdown()


def _config(port):
    return gateway_config(api_keys=[], claude=[Account("acct-tls", f"https://localhost:{port}",
                                                       [("claude-tls", "")])])


def test_https_upstream_gets_sni_host_and_the_account_key(gateway, tls_upstream):
    port = tls_upstream["port"]
    gw = gateway(_config(port), env={"SSL_CERT_FILE": str(tls_upstream["ca"])})
    body = json.dumps({"model": "claude-tls", "max_tokens": 5,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/messages", body, {"content-type": "application/json"})
    assert r.status == 200, r.body
    assert r.json()["content"][0]["text"] == "over tls"
    seen = tls_upstream["seen"]
    assert seen["sni"] == ["localhost"]
    [req] = seen["requests"]
    assert req["path"] == "/v1/messages"
    assert req["headers"]["host"] == f"localhost:{port}"
    assert req["headers"]["x-api-key"] == "acct-tls"
    assert req["body"] == body


def test_an_unverifiable_upstream_is_refused(gateway, tls_upstream, tmp_path):
    # Trust store without the test CA: the handshake must fail and nothing be delivered.
    empty = tmp_path / "empty-roots.pem"
    empty.write_text("")
    gw = gateway(_config(tls_upstream["port"]), env={"SSL_CERT_FILE": str(empty)})
    body = json.dumps({"model": "claude-tls", "max_tokens": 5, "messages": []}).encode()
    r = http_request("POST", f"{gw.url}/v1/messages", body, {"content-type": "application/json"})
    assert r.status == 502, r.body
    assert r.json() == {"type": "error", "error": {"type": "api_error", "message": "upstream unreachable"}}
    assert tls_upstream["seen"]["requests"] == []
