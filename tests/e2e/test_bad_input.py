"""Bad input over HTTP: each case gets a 4xx in the client's own protocol, no upstream call,
and the gateway keeps serving (issue 16, item 3).

The body cases run on every proxied endpoint of the three client APIs; the HTTP framing cases
(smuggling, bad chunks, unknown methods, oversized headers, pipelining, HTTP/1.0) use a raw
socket, because no client library sends them.
"""

from __future__ import annotations

import json
import socket

import pytest

import threading

from conftest import (ACCT_OAI, CLIENT_KEY, MODEL_CLAUDE, MODEL_CODEX, MODEL_GEMINI, MODEL_OAI,
                      assert_no_upstream, http_request, standard_config, wait_until)

# (name, path, model in the body or None, protocol of the error shape)
ENDPOINTS = [
    ("chat", "/v1/chat/completions", MODEL_OAI, "openai"),
    ("completions", "/v1/completions", MODEL_OAI, "openai"),
    ("responses", "/v1/responses", MODEL_CODEX, "openai"),
    ("messages", "/v1/messages", MODEL_CLAUDE, "anthropic"),
    ("count_tokens", "/v1/messages/count_tokens", MODEL_CLAUDE, "anthropic"),
    ("gemini", f"/v1beta/models/{MODEL_GEMINI}:generateContent", None, "gemini"),
    ("gemini_stream", f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent", None, "gemini"),
    ("gemini_count", f"/v1beta/models/{MODEL_GEMINI}:countTokens", None, "gemini"),
]
BODY_MODEL = [e for e in ENDPOINTS if e[2] is not None]
HEADERS = {"authorization": f"Bearer {CLIENT_KEY}", "x-api-key": CLIENT_KEY,
           "x-goog-api-key": CLIENT_KEY, "content-type": "application/json"}


@pytest.fixture(scope="module")
def gw(module_gateway, mock_server):
    return module_gateway(standard_config(mock_server.url))


def valid(endpoint) -> dict:
    _, path, model, proto = endpoint
    if proto == "gemini":
        return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    body: dict = {"model": model, "max_tokens": 5}
    if path.endswith("/completions") and "chat" not in path:
        body["prompt"] = "hi"
    elif path.endswith("/responses"):
        body["input"] = "hi"
    else:
        body["messages"] = [{"role": "user", "content": "hi"}]
    return body


def assert_error_shape(proto: str, status: int, body: bytes) -> str:
    """The error is in the client's protocol; returns its message."""
    v = json.loads(body)
    if proto == "openai":
        e = v["error"]
        assert isinstance(e["message"], str) and e["type"], v
    elif proto == "anthropic":
        assert v["type"] == "error" and v["error"]["type"], v
        e = v["error"]
    else:
        e = v["error"]
        assert e["code"] == status and e["status"], v
    return e["message"]


def post(gw, endpoint, raw: bytes):
    return http_request("POST", gw.url + endpoint[1], raw, HEADERS)


def refused(gw, mock, endpoint, raw: bytes, status: int = 400, says: str = "") -> str:
    r = post(gw, endpoint, raw)
    assert r.status == status, (endpoint[0], r.status, r.body[:500])
    message = assert_error_shape(endpoint[3], status, r.body)
    assert says.lower() in message.lower(), message
    assert_no_upstream(mock)
    return message


def still_serves(gw, endpoint=ENDPOINTS[0]):
    r = post(gw, endpoint, json.dumps(valid(endpoint)).encode())
    assert r.status == 200, r.body


ids = [e[0] for e in ENDPOINTS]
body_ids = [e[0] for e in BODY_MODEL]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_malformed_json(gw, mock_upstream, endpoint):
    refused(gw, mock_upstream, endpoint, b'{"model": "x", "messages": [', says="not valid JSON")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_empty_body(gw, mock_upstream, endpoint):
    refused(gw, mock_upstream, endpoint, b"", says="empty")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_a_body_that_is_not_an_object(gw, mock_upstream, endpoint):
    refused(gw, mock_upstream, endpoint, b'["hi"]', says="JSON object")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_json_nested_100000_levels(gw, mock_upstream, endpoint):
    body = valid(endpoint)
    deep = b"[" * 100_000 + b"]" * 100_000
    raw = json.dumps(body).encode()[:-1] + b', "deep": ' + deep + b"}"
    refused(gw, mock_upstream, endpoint, raw, says="not valid JSON")
    still_serves(gw)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ids)
def test_invalid_utf8(gw, mock_upstream, endpoint):
    raw = json.dumps(valid(endpoint)).replace("hi", "h\udcffi", 1).encode("utf-8", "surrogateescape")
    assert b"\xff" in raw
    refused(gw, mock_upstream, endpoint, raw, says="not valid JSON")


@pytest.mark.parametrize("endpoint", BODY_MODEL, ids=body_ids)
@pytest.mark.parametrize("field,value", [
    ("model", 42), ("model", None), ("model", ["a"]),
    ("stream", "yes"), ("stream", 1),
    ("stream_options", "usage"), ("prompt_cache_key", 7), ("metadata", "user"),
])
def test_a_wrong_type_for_a_field_the_gateway_reads(gw, mock_upstream, endpoint, field, value):
    body = valid(endpoint)
    body[field] = value
    refused(gw, mock_upstream, endpoint, json.dumps(body).encode(), says=f"`{field}`")


@pytest.mark.parametrize("endpoint", BODY_MODEL, ids=body_ids)
def test_duplicate_model_or_stream_keys(gw, mock_upstream, endpoint):
    """Routing reads one `model`, an upstream parser may read the other: refused."""
    raw = json.dumps(valid(endpoint)).encode()
    twice = raw[:-1] + b', "model": "other-model"}'
    refused(gw, mock_upstream, endpoint, twice, says="more than once")
    twice = raw[:-1] + b', "stream": false, "stream": true}'
    refused(gw, mock_upstream, endpoint, twice, says="more than once")


@pytest.mark.parametrize("endpoint", BODY_MODEL, ids=body_ids)
@pytest.mark.parametrize("model", ["m\r\nx-injected: 1", "gpt\u0000", "x" * 30 * 1024 * 1024],
                         ids=["crlf", "nul", "30MiB"])
def test_a_model_name_that_no_upstream_could_take(gw, mock_upstream, endpoint, model):
    """Unknown to every pool (no open account here): 400 `model_not_found`; the access line
    keeps at most 256 bytes of the name, so a 30 MiB name is no 30 MiB log line."""
    body = valid(endpoint)
    body["model"] = model
    refused(gw, mock_upstream, endpoint, json.dumps(body).encode(), says="model")
    gw.wait_log(f'path="{endpoint[1]}" status=400')
    assert gw.proc.log_path.stat().st_size < (4 << 20)


# --------------------------------------------------------------------------- HTTP framing


def raw_exchange(gw, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends ``data`` as it is and reads until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def chat_bytes() -> bytes:
    return json.dumps(valid(ENDPOINTS[0])).encode()


def head(path: str = "/v1/chat/completions", method: str = "POST", version: str = "HTTP/1.1",
         extra: str = "") -> bytes:
    return (f"{method} {path} {version}\r\nhost: x\r\nauthorization: Bearer {CLIENT_KEY}\r\n"
            f"content-type: application/json\r\n{extra}").encode()


def status_of(response: bytes) -> int:
    first = response.split(b"\r\n", 1)[0]
    assert first.startswith(b"HTTP/1."), response[:200]
    return int(first.split()[1])


def test_content_length_with_transfer_encoding_cannot_smuggle_a_request(gw, mock_upstream):
    """RFC 9112 §6.1/§6.3, as Pingora applies it: Transfer-Encoding wins, Content-Length is
    dropped, and the connection closes after the answer, so bytes after the chunked body
    (a request the gateway never routed) are never read as a request."""
    body = chat_bytes()
    smuggled = (b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
                + CLIENT_KEY.encode() + b"\r\ncontent-length: " + str(len(body)).encode()
                + b"\r\n\r\n" + body)
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" + smuggled
    r = raw_exchange(gw, head(extra="content-length: 5\r\n"
                                    "transfer-encoding: chunked\r\n\r\n") + chunked)
    assert status_of(r) == 200, r[:300]
    assert r.count(b"HTTP/1.1 ") == 1, "the bytes after the chunked body were answered"
    assert b"connection: close" in r.lower()
    [entry] = mock_upstream.journal()
    assert json.loads(entry["body"]) == json.loads(body), "the chunked framing was used"
    still_serves(gw)


def test_a_bad_chunk_size_is_refused(gw, mock_upstream):
    r = raw_exchange(gw, head(extra="transfer-encoding: chunked\r\n\r\n") + b"zz\r\n{}\r\n0\r\n\r\n")
    assert r == b"" or status_of(r) == 400, r[:300]
    assert_no_upstream(mock_upstream)
    still_serves(gw)


def test_a_content_length_that_lies_short_reaches_no_upstream(gw, mock_upstream):
    """A body shorter than its Content-Length: the gateway waits, the client gives up."""
    body = chat_bytes()
    r = raw_exchange(gw, head(extra=f"content-length: {len(body) + 100}\r\n\r\n") + body,
                     timeout=2.0)
    assert r == b"" or status_of(r) in (400, 408), r[:300]
    assert_no_upstream(mock_upstream)
    still_serves(gw)


@pytest.mark.parametrize("method", ["BREW", "PUT", "DELETE"])
def test_unknown_methods(gw, mock_upstream, method):
    r = raw_exchange(gw, head(method=method, extra="content-length: 2\r\n\r\n") + b"{}")
    assert status_of(r) in (400, 405), r[:300]
    assert_no_upstream(mock_upstream)


def test_http_1_0_is_served(gw, mock_upstream):
    body = chat_bytes()
    r = raw_exchange(gw, head(version="HTTP/1.0", extra=f"content-length: {len(body)}\r\n\r\n")
                     + body)
    assert status_of(r) == 200, r[:300]
    assert b"Hello from the mock upstream." in r


def test_pipelined_requests_are_answered_in_order(gw, mock_upstream):
    body = chat_bytes()
    one = head(extra=f"content-length: {len(body)}\r\n\r\n") + body
    models = head(path="/v1/models", method="GET", extra="\r\n")
    r = raw_exchange(gw, one + models + one, timeout=3.0)
    assert r.count(b"HTTP/1.1 200") == 3, r[:600]
    first_models = r.index(b'"object":"list"') if b'"object":"list"' in r else r.index(b'"data"')
    assert r.index(b"Hello from the mock upstream.") < first_models
    assert len(mock_upstream.journal()) == 2


def test_oversized_and_too_many_headers(gw, mock_upstream):
    big = raw_exchange(gw, head(extra="x-big: " + "a" * (1 << 20) + "\r\ncontent-length: 2\r\n\r\n")
                       + b"{}")
    assert big == b"" or status_of(big) in (400, 431), big[:300]
    many = "".join(f"x-h{i}: v\r\n" for i in range(2000))
    r = raw_exchange(gw, head(extra=many + "content-length: 2\r\n\r\n") + b"{}")
    assert r == b"" or status_of(r) in (400, 431), r[:300]
    assert_no_upstream(mock_upstream)
    still_serves(gw)


def test_a_bare_cr_in_a_header_value_is_refused(gw, mock_upstream):
    body = chat_bytes()
    r = raw_exchange(gw, head(extra=f"x-a: b\rc\r\ncontent-length: {len(body)}\r\n\r\n") + body)
    assert r == b"" or status_of(r) == 400, r[:300]
    assert_no_upstream(mock_upstream)
    still_serves(gw)


# --------------------------------------------------------------------------- limits


def test_past_max_concurrent_requests_the_client_gets_503_with_retry_after(gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, extra="max-concurrent-requests: 2"))
    mock_upstream.schedule(ACCT_OAI, [{"delay_ms": 1500}, {"delay_ms": 1500}], "ok")
    chat = ENDPOINTS[0]
    slow = [threading.Thread(target=post, args=(gw, chat, json.dumps(valid(chat)).encode()))
            for _ in range(2)]
    for t in slow:
        t.start()
    wait_until(lambda: len(mock_upstream.journal()) == 2, 5, "two requests in flight", gw.proc)
    for endpoint in (chat, ENDPOINTS[3], ENDPOINTS[5]):
        r = post(gw, endpoint, json.dumps(valid(endpoint)).encode())
        assert r.status == 503, r.body
        assert r.headers["retry-after"] == "1"
        assert "maximum of 2 requests" in assert_error_shape(endpoint[3], 503, r.body)
    assert len(mock_upstream.journal()) == 2, "a refused request reached the upstream"
    assert http_request("GET", gw.url + "/healthz").status == 200
    for t in slow:
        t.join()
    still_serves(gw)
