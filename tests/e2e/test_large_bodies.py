"""Large request bodies: relayed byte-for-byte except for the model value, replayed
identically on failover, refused with 413 over max-body-size.

The bodies are hand-made JSON with the model key in the middle, odd spacing and JSON escapes
(``\\u00e9``, ``\\"``, ``\\n``) next to raw UTF-8: a gateway that re-serialises the JSON changes
the bytes. The expected upstream body is the sent one with exactly the model value replaced.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from conftest import (
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_OAI,
    Account,
    _show,
    assert_no_client_key,
    assert_no_upstream,
    gateway_config,
    http_request,
)

MiB = 1 << 20
ALIAS = "big-alias"
REPLY = "big body ok"


class Shape:
    """How to address one protocol: path, headers, upstream model, body and reply parsing."""

    def __init__(self, name, path, upstream_model, headers, head, tail, reply_of):
        self.name = name
        self.path = path
        self.upstream_model = upstream_model
        self.headers = headers
        self.head = head
        self.tail = tail
        self.reply_of = reply_of

    def body(self, size: int) -> bytes:
        """A body of exactly ``size`` bytes: head + filler + tail."""
        unit = 'lorem ipsum \\u00e9t\\u00e9 \\"quoted\\" caf\u00e9 \u00fcber\\n tab\\t '.encode()
        marker = f"MOCK_REPLY[{REPLY}] ".encode()
        fixed = len(self.head) + len(marker) + len(self.tail)
        room = size - fixed
        assert room > 0
        filler = unit * (room // len(unit))
        filler += b"x" * (room - len(filler))
        body = self.head + marker + filler + self.tail
        assert len(body) == size
        json.loads(body)  # still valid JSON
        return body

    def body_for(self, size: int, model: str) -> bytes:
        """``body(size)`` asking for ``model`` instead of the alias."""
        return self.expected_upstream(self.body(size), model)

    def expected_upstream(self, sent: bytes, model: str | None = None) -> bytes:
        """``sent`` with exactly the model value replaced (by the upstream name by default)."""
        needle = json.dumps(ALIAS).encode()
        assert sent.count(needle) == 1
        return sent.replace(needle, json.dumps(model or self.upstream_model).encode())


OPENAI = Shape(
    "openai-chat",
    "/v1/chat/completions",
    MODEL_OAI,
    {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"},
    b'{"messages": [ {"role":"user",  "content": "',
    b'"}],\n  "model" :"big-alias",  "max_tokens":16 ,"temperature": 0.5}',
    lambda j: j["choices"][0]["message"]["content"],
)
ANTHROPIC = Shape(
    "anthropic-messages",
    "/v1/messages",
    MODEL_CLAUDE,
    {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
     "content-type": "application/json"},
    b'{"max_tokens": 16,\n"messages":[{"content":"',
    b'", "role" : "user"}] , "model":"big-alias","stream":false}',
    lambda j: "".join(b["text"] for b in j["content"] if b["type"] == "text"),
)
SHAPES = [OPENAI, ANTHROPIC]


def config_for(shape: Shape, mock, keys: list[str], extra: str = "") -> str:
    """One provider of ``shape``'s protocol with ``keys``, serving the upstream model both under
    its own name and under the alias."""
    if shape is OPENAI:
        models = [(shape.upstream_model, ""), (shape.upstream_model, ALIAS)]
        return gateway_config(openai_compat=[("mock", mock.url + "/v1", keys, models)], extra=extra)
    models = [(shape.upstream_model, ""), (shape.upstream_model, ALIAS)]
    return gateway_config(claude=[Account(k, mock.url, models) for k in keys], extra=extra)


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def post(gw, shape: Shape, body: bytes):
    return http_request("POST", gw.url + shape.path, body, shape.headers, timeout=60)


def make_body(shape: Shape, size: int, via_alias: bool) -> tuple[bytes, bytes]:
    """(sent, expected upstream) for a body of ``size`` bytes."""
    if via_alias:
        sent = shape.body(size)
        return sent, shape.expected_upstream(sent)
    sent = shape.body_for(size + len(ALIAS) - len(shape.upstream_model), shape.upstream_model)
    return sent, sent


VIA = pytest.mark.parametrize("via_alias", [True, False], ids=["alias", "name"])


@VIA
@pytest.mark.parametrize("size", [MiB, 10 * MiB], ids=["1MiB", "10MiB"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_large_body_byte_identical(gateway, mock_upstream, shape, size, via_alias):
    gw = gateway(config_for(shape, mock_upstream, ["acct-big-1"]))
    sent, want = make_body(shape, size, via_alias)
    assert len(sent) == size
    r = post(gw, shape, sent)
    assert r.status == 200, f"status {r.status}: {r.body[:500]!r}"
    assert shape.reply_of(r.json()) == REPLY
    j = mock_upstream.journal()
    assert len(j) == 1, _show(j)
    e = j[0]
    assert (e["path"], e["account"], e["model"]) == (shape.path, "acct-big-1", shape.upstream_model)
    assert e["body_len"] == len(want), f"upstream got {e['body_len']} bytes, want {len(want)}"
    assert e["body_sha256"] == sha(want), "upstream body differs from the sent one beyond the model value"
    assert_no_client_key(e)


@VIA
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_large_body_failover_after_429(gateway, mock_upstream, shape, via_alias):
    gw = gateway(config_for(shape, mock_upstream, ["acct-fo-1", "acct-fo-2"]))
    mock_upstream.schedule("acct-fo-1", [{"status": 429, "retry_after": "30"}])
    sent, want = make_body(shape, 10 * MiB, via_alias)
    r = post(gw, shape, sent)
    assert r.status == 200, f"status {r.status}: {r.body[:500]!r}"
    assert shape.reply_of(r.json()) == REPLY
    j = mock_upstream.journal()
    got = [(e["account"], e["outcome"]) for e in j]
    assert got == [("acct-fo-1", "status:429"), ("acct-fo-2", "ok")], _show(j)
    for e in j:
        assert e["body_len"] == len(want)
        assert e["body_sha256"] == sha(want), f"{e['account']} got a different body"
        assert_no_client_key(e)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_body_over_max_body_size_is_413(gateway, mock_upstream, shape):
    gw = gateway(config_for(shape, mock_upstream, ["acct-small-1"], extra="max-body-size: 1MiB"))
    sent, _ = make_body(shape, MiB + 1024, via_alias=False)
    r = post(gw, shape, sent)
    assert r.status == 413, f"status {r.status}: {r.body[:500]!r}"
    assert_no_upstream(mock_upstream)
    # Exactly at the limit still goes through.
    sent, _ = make_body(shape, MiB, via_alias=False)
    r = post(gw, shape, sent)
    assert r.status == 200, f"a body of exactly max-body-size: status {r.status}: {r.body[:300]!r}"
