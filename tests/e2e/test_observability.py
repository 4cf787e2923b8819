"""What every response tells about itself, and the tokens counted on every stream.

- ``X-Request-Id``: a well-formed client value is kept, any other is replaced by a generated
  one; local answers, errors, proxied answers and streams all carry it, and the access line
  names it.
- ``Server-Timing`` (``auth``, ``route``, ``translate``, ``upstream``) on proxied answers and
  streams, ``auth``/``route`` on local ones; ``server-timing: false`` turns it off.
- A same-protocol Chat stream whose client did not ask for usage is sent upstream with
  ``stream_options.include_usage`` (so its tokens are counted), and the usage-only chunk that
  brings is kept out of the client's stream; a client that asked gets it.
"""

from __future__ import annotations

import json
import re

import pytest
from openai import OpenAI

from conftest import CLIENT_KEY, MODEL_CLAUDE, MODEL_OAI, http_request, standard_config

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}
TIMING = re.compile(r"^auth;dur=[\d.]+, route;dur=[\d.]+, translate;dur=[\d.]+(, upstream;dur=[\d.]+)?$")


def chat(model: str, stream: bool = False, **extra) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    body.update(extra)
    return json.dumps(body).encode()


@pytest.fixture
def gw(gateway, mock_upstream):
    return gateway(standard_config(mock_upstream.url))


def test_request_ids_are_kept_when_well_formed_and_made_otherwise(gw):
    url = f"{gw.url}/v1/chat/completions"
    r = http_request("POST", url, chat(MODEL_OAI), {**AUTH, "X-Request-Id": "trace-42.a:b_c"})
    assert r.status == 200, r.body
    assert r.headers["x-request-id"] == "trace-42.a:b_c"
    for bad in ("has space", "x" * 129, "semi;colon"):
        r = http_request("POST", url, chat(MODEL_OAI), {**AUTH, "X-Request-Id": bad})
        assert r.status == 200
        made = r.headers["x-request-id"]
        assert made != bad and re.fullmatch(r"[0-9a-f]+", made), made
    ids = set()
    for method, path, headers, status in (
        ("GET", "/healthz", {}, 200),
        ("GET", "/v1/models", AUTH, 200),
        ("POST", "/v1/chat/completions", {"Content-Type": "application/json"}, 401),
        ("POST", "/v1/chat/completions", AUTH, 400),
    ):
        r = http_request(method, gw.url + path, b"{}" if method == "POST" else None, headers)
        assert r.status == status, (path, r.status, r.body)
        ids.add(r.headers["x-request-id"])
    assert len(ids) == 4, "every request gets its own id"
    gw.wait_log('request_id="trace-42.a:b_c"')


def test_server_timing_on_proxied_translated_and_local_answers(gw):
    r = http_request("POST", f"{gw.url}/v1/chat/completions", chat(MODEL_OAI), AUTH)
    assert TIMING.match(r.headers["server-timing"]) and "upstream;dur=" in r.headers["server-timing"]
    # Anthropic client, OpenAI-compatible account: translated, streamed.
    body = json.dumps({"model": MODEL_OAI, "max_tokens": 20, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/messages", body, {**AUTH, "anthropic-version": "2023-06-01"})
    assert r.status == 200 and b"message_stop" in r.body
    timing = r.headers["server-timing"]
    assert TIMING.match(timing) and "upstream;dur=" in timing, timing
    assert float(re.search(r"translate;dur=([\d.]+)", timing).group(1)) > 0
    r = http_request("GET", f"{gw.url}/v1/models", None, AUTH)
    assert TIMING.match(r.headers["server-timing"]) and "upstream" not in r.headers["server-timing"]


def test_server_timing_can_be_switched_off(gateway, mock_upstream):
    gw = gateway(standard_config(mock_upstream.url, extra="server-timing: false"))
    r = http_request("POST", f"{gw.url}/v1/chat/completions", chat(MODEL_OAI), AUTH)
    assert r.status == 200 and "server-timing" not in r.headers
    assert r.headers["x-request-id"]


def _data_events(body: bytes) -> list:
    return [json.loads(line[6:]) for line in body.decode().splitlines()
            if line.startswith("data: {")]


def test_a_chat_stream_is_asked_for_usage_and_the_client_gets_only_what_it_asked(gw, mock_upstream):
    url = f"{gw.url}/v1/chat/completions"
    r = http_request("POST", url, chat(MODEL_OAI, stream=True), AUTH)
    assert r.status == 200
    sent = json.loads(mock_upstream.journal()[-1]["body"])
    assert sent["stream_options"] == {"include_usage": True}, sent
    events = _data_events(r.body)
    assert events and all(e["choices"] for e in events), "no usage-only chunk reached the client"
    assert r.body.rstrip().endswith(b"data: [DONE]")

    r = http_request("POST", url, chat(MODEL_OAI, stream=True,
                                       stream_options={"include_usage": True}), AUTH)
    usage = [e for e in _data_events(r.body) if not e["choices"]]
    assert len(usage) == 1 and usage[0]["usage"]["completion_tokens"] > 0, r.body

    # The official SDK reads the stream the gateway changed without complaint.
    client = OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0)
    text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model=MODEL_OAI, messages=[{"role": "user", "content": "hi"}], stream=True,
        extra_headers={"x-request-id": "sdk-usage-stream"}) if c.choices)
    assert text == "Hello from the mock upstream."
    # Tokens were counted for it (the access line reports what the usage chunk said).
    [last] = [line for line in gw.wait_log('request_id="sdk-usage-stream"').splitlines()
              if 'request_id="sdk-usage-stream"' in line]
    assert re.search(r"output_tokens=[1-9]", last), last


def test_other_protocols_stream_unchanged(gw, mock_upstream):
    body = json.dumps({"model": MODEL_CLAUDE, "max_tokens": 20, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/messages", body, {**AUTH, "anthropic-version": "2023-06-01"})
    assert r.status == 200
    sent = json.loads(mock_upstream.journal()[-1]["body"])
    assert "stream_options" not in sent
