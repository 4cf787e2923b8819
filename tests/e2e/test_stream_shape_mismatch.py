"""Upstreams whose answer has the other shape than asked: one JSON body for a stream request
(some self-hosted servers ignore `stream: true`), or a stream for a non-stream request. The
client still gets the shape it asked for, judged by the official SDKs.

First case: an OpenAI-compatible upstream that ignores `stream: true` and answers one JSON body (some
self-hosted servers do): a client that asked for a stream still gets a well-formed stream in
its own protocol, judged by the official SDKs' stream helpers."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import openai
import pytest

from conftest import CLIENT_KEY, free_port, gateway_config

REPLY = "one body, streamed anyway"


@pytest.fixture
def json_only_upstream():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            seen.append({"path": self.path, "stream": body.get("stream")})
            out = json.dumps({
                "id": "chatcmpl-json", "object": "chat.completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": REPLY}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
            }).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{port}/v1", "seen": seen}
    server.shutdown()


def test_stream_clients_get_a_stream_from_a_json_only_upstream(gateway, json_only_upstream):
    cfg = gateway_config(openai_compat=[("jsononly", json_only_upstream["url"], ["k"], [("json-model", "")])])
    gw = gateway(cfg)
    a = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=30)
    with a.messages.stream(model="json-model", max_tokens=50, messages=[{"role": "user", "content": "hi"}]) as s:
        msg = s.get_final_message()
    assert msg.content[0].text == REPLY
    assert msg.stop_reason == "end_turn"
    o = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=30)
    with o.responses.stream(model="json-model", input="hi") as s:
        final = s.get_final_response()
    assert final.output_text == REPLY
    assert json_only_upstream["seen"] == [{"path": "/v1/chat/completions", "stream": True}] * 2


STREAMED = "streamed, but you asked for one body"


@pytest.fixture
def stream_only_upstream():
    """An OpenAI-compatible upstream that always answers with an SSE stream."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            seen.append({"path": self.path, "stream": body.get("stream")})
            base = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
            chunks = [
                {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
                *({**base, "choices": [{"index": 0, "delta": {"content": w}}]} for w in
                  ["streamed,", " but you", " asked for", " one body"]),
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {**base, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}},
            ]
            out = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{port}/v1", "seen": seen}
    server.shutdown()


def test_non_stream_clients_get_one_body_from_a_streaming_upstream(gateway, stream_only_upstream):
    cfg = gateway_config(openai_compat=[("sse", stream_only_upstream["url"], ["k"], [("sse-model", "")])])
    gw = gateway(cfg)
    a = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=30)
    msg = a.messages.create(model="sse-model", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text == STREAMED
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == 4
    o = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=30)
    r = o.responses.create(model="sse-model", input="hi")
    assert r.output_text == STREAMED
    assert [s["path"] for s in stream_only_upstream["seen"]] == ["/v1/chat/completions"] * 2
