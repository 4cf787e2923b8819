"""Limits past their bounds (docs/limits.md): `max-connections`, the request-header deadline
against slowloris clients, the whole-body deadline, a client that never reads its answer,
and the memory budget of the requests in flight (`max-in-flight-memory`).

Each test sets its limit low in its own gateway and checks what a client sees past it: a
closed connection, or an error in the client's own protocol with no upstream call.
"""

from __future__ import annotations

import http.client
import json
import socket
import time

from conftest import (
    ACCT_CLAUDE,
    ACCT_OAI,
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_OAI,
    assert_no_upstream,
    http_request,
    post_json,
    standard_config,
    wait_until,
)

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_peer(s: socket.socket, timeout: float) -> bytes | None:
    """What the peer sent before closing `s`, or None if it was still open after `timeout`."""
    s.settimeout(timeout)
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
    except socket.timeout:
        return None
    except ConnectionResetError:
        return got


def healthz_over(s: socket.socket) -> bytes:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(10)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def chat(model: str = MODEL_OAI, text: str = "hi", stream: bool = False) -> bytes:
    return json.dumps({"model": model, "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()


# --------------------------------------------------------------------------- connections


def test_connections_past_max_connections_are_closed_until_one_ends(gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, extra="max-connections: 3\n"))
    held = [connect(gw.port) for _ in range(3)]
    # Each of the three is served (the gateway has accepted and counts it).
    for s in held:
        assert healthz_over(s).startswith(b"HTTP/1.1 200")
    extra = connect(gw.port)
    assert closed_by_peer(extra, 10) == b"", "the fourth connection is closed unanswered"
    gw.wait_log("max-connections reached")
    held.pop().close()

    def fourth_served():
        s = connect(gw.port)
        try:
            return healthz_over(s).startswith(b"HTTP/1.1 200")
        finally:
            s.close()

    wait_until(fourth_served, 10, "a connection to be served once one of three closed")
    for s in held:
        s.close()
    assert_no_upstream(mock_upstream)


# --------------------------------------------------------------------------- slow clients


def test_a_header_trickled_byte_by_byte_is_cut_at_header_seconds(gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, extra="client-timeouts: {header-seconds: 2}\n"))
    s = connect(gw.port)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    cut = None
    # One byte every 0.2 s: each read is quick, so only a deadline on the whole header ends it
    # (Pingora's own timeout is per read, 60 s).
    for b in b"X-Slow: " + b"a" * 200:
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            cut = time.monotonic() - started
            break
        s.settimeout(0.2)
        try:
            if s.recv(1) == b"":
                cut = time.monotonic() - started
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            cut = time.monotonic() - started
            break
    s.close()
    assert cut is not None, "the connection outlived 40 s of trickled header"
    assert cut < 20, f"cut after {cut:.1f} s"
    assert_no_upstream(mock_upstream)


def test_a_header_in_quick_pieces_and_an_idle_keepalive_are_not_cut(gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, extra="client-timeouts: {header-seconds: 2}\n"))
    s = connect(gw.port)
    for piece in (b"GET /hea", b"lthz HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
        s.sendall(piece)
        time.sleep(0.1)
    s.settimeout(10)
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 200"), first
    # Idle on a kept-alive connection for longer than header-seconds: the next request's
    # deadline starts with its first byte.
    time.sleep(3)
    assert healthz_over(s).startswith(b"HTTP/1.1 200")
    s.close()


def test_a_body_slower_than_body_seconds_gets_408_in_the_client_protocol(gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, extra="client-timeouts: {body-seconds: 2}\n"))
    body = chat()
    s = connect(gw.port)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + CLIENT_KEY.encode() + b"\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    answer = b""
    for b in body:
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            break
        s.settimeout(0.2)
        try:
            chunk = s.recv(65536)
            answer += chunk
            if not chunk or b"\r\n\r\n" in answer:
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            break
    rest = closed_by_peer(s, 10) or b""
    s.close()
    answer += rest
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:300]
    err = json.loads(payload)["error"]
    assert err["code"] == "request_timeout"
    assert "did not arrive within 2 seconds" in err["message"]
    assert_no_upstream(mock_upstream)


def test_a_client_that_never_reads_its_stream_is_let_go_after_write_seconds(gateway, slow_mock):
    mock = slow_mock()
    gw = gateway(standard_config(mock.url, extra="client-timeouts: {write-seconds: 2}\n"))
    # About 12 MB of answer: more than the socket buffers on both sides hold.
    words = " ".join(["w" * 20000] * 600)
    body = chat(text=f"MOCK_REPLY[{words}]", stream=True)
    s = connect(gw.port, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + CLIENT_KEY.encode() + b"\r\n"
              b"X-Request-Id: never-reads\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    # The client reads nothing. Its request ends on the gateway (the access line is written in
    # the logging phase) while the client still holds the connection open.
    gw.wait_log("never-reads", timeout=60)
    assert s.fileno() >= 0
    s.close()
    assert len([e for e in mock.journal() if e.get("account") == ACCT_OAI]) == 1


# --------------------------------------------------------------------------- memory budget


class HeldStream:
    """A Claude stream the mock holds after its first events (``hold_after_events``)."""

    def __init__(self, port: int, pad: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"model": MODEL_CLAUDE, "stream": True, "max_tokens": 32,
                           "metadata": {"user_id": "p" * pad},
                           "messages": [{"role": "user", "content": "MOCK_REPLY[one two]"}]})
        self.conn.request("POST", "/v1/messages", body, AUTH)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        if self.status == 200:
            while True:
                line = self.resp.readline()
                if not line or line.startswith(b"event: content_block_delta"):
                    break

    def finish(self) -> bytes:
        rest = self.resp.read()
        self.conn.close()
        return rest


def test_streams_past_the_memory_budget_get_503_and_the_budget_comes_back(gateway, mock_upstream):
    # 1 MiB: each of these streams reserves 64 KiB and twice its ~200 KB body (~464 KiB),
    # so two fit and the third does not.
    gw = gateway(standard_config(
        mock_upstream.url,
        extra="max-in-flight-memory: 1MiB\n"))
    mock_upstream.schedule(ACCT_CLAUDE, [{"hold_after_events": 4}] * 2)
    held = [HeldStream(gw.port, 200_000) for _ in range(2)]
    assert [h.status for h in held] == [200, 200]
    third = http_request("POST", f"{gw.url}/v1/messages",
                         json.dumps({"model": MODEL_CLAUDE, "max_tokens": 8,
                                     "metadata": {"user_id": "p" * 200_000},
                                     "messages": [{"role": "user", "content": "hi"}]}).encode(),
                         AUTH)
    assert third.status == 503
    assert third.headers.get("retry-after") == "1"
    err = json.loads(third.body)
    assert err["type"] == "error" and err["error"]["type"] == "api_error", err
    assert "memory budget for requests in flight (1 MiB)" in err["error"]["message"]
    # An OpenAI client is told in its own shape.
    fourth = http_request("POST", f"{gw.url}/v1/chat/completions",
                          chat(text="x" * 600_000), AUTH)
    assert fourth.status == 503
    assert json.loads(fourth.body)["error"]["code"] == "overloaded"
    assert len(mock_upstream.journal()) == 2, "refused requests never reach the upstream"
    post_json(f"{mock_upstream.url}/_mock/release", {})
    for h in held:
        assert b"message_stop" in h.finish()
    # Every reservation is given back once its request has ended (its context is dropped just
    # after the client has the last byte): a request as big as the third one then passes.
    big = json.dumps({"model": MODEL_CLAUDE, "max_tokens": 8,
                      "metadata": {"user_id": "p" * 200_000},
                      "messages": [{"role": "user", "content": "hi"}]}).encode()
    statuses = []

    def passes():
        statuses.append(http_request("POST", f"{gw.url}/v1/messages", big, AUTH).status)
        return statuses[-1] == 200

    wait_until(passes, 10, "a big request to pass once the streams ended")
    assert set(statuses) <= {200, 503}, statuses
