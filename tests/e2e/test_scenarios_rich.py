"""STYLE 13 scenarios beyond text and one tool call, judged by the official SDKs' parsers.

The same matrix as ``test_translation_scenarios.py`` (every client API x every upstream
protocol x stream/non-stream, one module-scoped gateway, the mock reset before every test),
over the scenarios in ``SCENARIOS``. Every scenario is a method of every client adapter
(``scenario_adapters.py``, checked by ``test_every_client_has_every_scenario``) and a reader
of the upstream side (``up_*`` below), so a client or upstream without a case fails (an
``AttributeError`` or ``KeyError``), never skips. The mock makes the upstream answers
(``tests/mock-upstream/src/extras.rs``: ``MOCK_THINK[..]``, ``MOCK_UNKNOWN``,
``MOCK_CACHE_USAGE``, several ``MOCK_TOOL[..]`` markers, and the ``after_events`` schedule
step); the journal's ``body`` shows what the upstream received.

What a protocol cannot express, and what the gateway does instead, is in
``docs/translation.md``; the expectations below encode exactly that.
"""

from __future__ import annotations

import json
import re

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from conftest import MODEL_CLAUDE, MODEL_CODEX, MODEL_GEMINI, MODEL_OAI, _show, standard_config
from scenario_adapters import (
    ADAPTERS,
    CACHE_READ,
    CACHE_WRITE,
    CITIES,
    ENCRYPTED_CONTENT,
    IMAGE_URL,
    OPENAI_REASONING_SIGNATURE,
    PNG,
    REDACTED_DATA,
    REPLY,
    REPLY_WORDS,
    REASONING,
    THINK,
    THINKING_SIGNATURE,
    THOUGHT_SIGNATURE,
    TOOL,
    UNKNOWN_PROMPT,
)
from scenario_clients import CLIENTS, MODELS, UPSTREAMS, check_calls, check_calls_entry

UPSTREAM_MESSAGE = "upstream says: not today"

# The scenarios of this module (STYLE 13), each one test below expanded over every pair.
SCENARIOS = ["thinking", "image", "parallel", "tool_choice", "usage", "unknown", "status",
             "error_mid_stream"]


@pytest.fixture(scope="module")
def gw(mock_server, module_gateway):
    return module_gateway(standard_config(mock_server.url, extra="disable-cooling: true\n"))


def upstream_of(model: str) -> str:
    return {MODEL_CLAUDE: "anthropic", MODEL_GEMINI: "gemini", MODEL_CODEX: "openai_responses",
            MODEL_OAI: "openai_chat"}[model]


def params(scenario: str, streams=(False, True), variants=(None,)):
    assert scenario in SCENARIOS, scenario
    out = []
    for client in CLIENTS:
        for model in MODELS:
            for stream in streams:
                for v in variants:
                    vid = "" if v is None else f"-{v}"
                    out.append(pytest.param(
                        client, model, stream, v,
                        id=f"{client}-{upstream_of(model)}-{'stream' if stream else 'plain'}{vid}"))
    return out


def bodies(mock, model, *streams: bool) -> list[dict]:
    """The upstream request bodies, one call per entry of ``streams`` (whether it streamed)."""
    j = mock.journal()
    assert len(j) == len(streams), _show(j)
    for e, stream in zip(j, streams):
        check_calls_entry(e, model, stream, j)
    return [json.loads(e["body"]) for e in j]


# --------------------------------------------------------------------------- upstream side
#
# Each reads an upstream request body in the upstream's own protocol.


def up_thinking(upstream: str, body: dict) -> dict:
    """The reasoning the upstream received back in the assistant turn."""
    if upstream == "anthropic":
        blocks = [b for m in body["messages"] if m["role"] == "assistant"
                  for b in (m["content"] if isinstance(m["content"], list) else [])]
        return {"thinking": [(b["thinking"], b.get("signature")) for b in blocks
                             if b["type"] == "thinking"],
                "redacted": [b["data"] for b in blocks if b["type"] == "redacted_thinking"]}
    if upstream == "openai_chat":
        return {"thinking": [(m.get("reasoning_content"), None) for m in body["messages"]
                             if m["role"] == "assistant" and m.get("reasoning_content")]}
    if upstream == "openai_responses":
        return {"reasoning": [([s["text"] for s in i.get("summary", [])],
                               i.get("encrypted_content"))
                              for i in body["input"] if i.get("type") == "reasoning"]}
    parts = [p for c in body["contents"] if c.get("role") == "model" for p in c["parts"]]
    return {"thinking": [(p.get("text"), p.get("thoughtSignature")) for p in parts
                         if p.get("thought")],
            "signatures": [p["thoughtSignature"] for p in parts
                           if not p.get("thought") and "thoughtSignature" in p]}


def up_images(upstream: str, body: dict) -> list:
    """Every image of the request as (kind, mime, data-or-url) in the upstream's shape."""
    out = []
    if upstream == "anthropic":
        for m in body["messages"]:
            for b in m["content"] if isinstance(m["content"], list) else []:
                if b["type"] == "image":
                    s = b["source"]
                    out.append((s["type"], s.get("media_type"), s.get("data") or s.get("url")))
    elif upstream == "openai_chat":
        for m in body["messages"]:
            for b in m["content"] if isinstance(m["content"], list) else []:
                if b["type"] == "image_url":
                    out.append(("image_url", None, b["image_url"]["url"]))
    elif upstream == "openai_responses":
        for i in body["input"]:
            for b in i.get("content") or [] if isinstance(i.get("content"), list) else []:
                if b["type"] == "input_image":
                    out.append(("input_image", None, b.get("image_url") or b.get("file_id")))
    else:
        for c in body["contents"]:
            for p in c["parts"]:
                if "inlineData" in p:
                    blob = p["inlineData"]
                    # google-genai itself writes `mime_type` (passed through as is); both parse.
                    out.append(("inlineData", blob.get("mimeType", blob.get("mime_type")),
                                blob["data"]))
                if "fileData" in p:
                    f = p["fileData"]
                    out.append(("fileData", f.get("mimeType", f.get("mime_type")),
                                f.get("fileUri", f.get("file_uri"))))
    return out


def expected_image(upstream: str, kind: str) -> tuple:
    data_url = f"data:image/png;base64,{PNG}"
    if upstream == "anthropic":
        return ("base64", "image/png", PNG) if kind == "data" else ("url", None, IMAGE_URL)
    if upstream == "openai_chat":
        return ("image_url", None, data_url if kind == "data" else IMAGE_URL)
    if upstream == "openai_responses":
        return ("input_image", None, data_url if kind == "data" else IMAGE_URL)
    return ("inlineData", "image/png", PNG) if kind == "data" else ("fileData", "image/png",
                                                                   IMAGE_URL)


def up_tool_pairs(upstream: str, body: dict) -> list:
    """(call id, call args, result text) for every tool result, matched by id (Gemini: by
    position within the turn, and by id too when the calls carry one)."""
    if upstream == "anthropic":
        calls = {b["id"]: b["input"] for m in body["messages"] if m["role"] == "assistant"
                 for b in m["content"] if b["type"] == "tool_use"}
        res = [(b["tool_use_id"], b["content"]) for m in body["messages"] if m["role"] == "user"
               and isinstance(m["content"], list) for b in m["content"]
               if b["type"] == "tool_result"]
        return [(i, calls[i], c if isinstance(c, str) else "".join(x["text"] for x in c))
                for i, c in res]
    if upstream == "openai_chat":
        calls = {tc["id"]: json.loads(tc["function"]["arguments"]) for m in body["messages"]
                 if m["role"] == "assistant" for tc in m.get("tool_calls") or []}
        return [(m["tool_call_id"], calls[m["tool_call_id"]], m["content"] if isinstance(
            m["content"], str) else "".join(x["text"] for x in m["content"]))
                for m in body["messages"] if m["role"] == "tool"]
    if upstream == "openai_responses":
        calls = {i["call_id"]: json.loads(i["arguments"]) for i in body["input"]
                 if i.get("type") == "function_call"}
        return [(i["call_id"], calls[i["call_id"]], i["output"] if isinstance(i["output"], str)
                 else "".join(x["text"] for x in i["output"]))
                for i in body["input"] if i.get("type") == "function_call_output"]
    calls = [p["functionCall"] for c in body["contents"] for p in c["parts"]
             if "functionCall" in p]
    results = [p["functionResponse"] for c in body["contents"] for p in c["parts"]
               if "functionResponse" in p]
    assert len(calls) == len(results), body
    out = []
    for fc, fr in zip(calls, results):
        assert fc["name"] == fr["name"], body
        assert fc.get("id") == fr.get("id"), body
        r = fr["response"]
        out.append((fc.get("id"), fc["args"], r.get("result") or r.get("output") or
                    r.get("content")))
    return out


def up_tool_choice(upstream: str, body: dict):
    if upstream == "gemini":
        return (body.get("toolConfig") or {}).get("functionCallingConfig")
    return body.get("tool_choice")


EXPECTED_TOOL_CHOICE = {
    "anthropic": {"auto": {"type": "auto"}, "none": {"type": "none"},
                  "required": {"type": "any"}, "named": {"type": "tool", "name": TOOL}},
    "openai_chat": {"auto": "auto", "none": "none", "required": "required",
                    "named": {"type": "function", "function": {"name": TOOL}}},
    "openai_responses": {"auto": "auto", "none": "none", "required": "required",
                         "named": {"type": "function", "name": TOOL}},
    "gemini": {"auto": {"mode": "AUTO"}, "none": {"mode": "NONE"}, "required": {"mode": "ANY"},
               "named": {"mode": "ANY", "allowedFunctionNames": [TOOL]}},
}




# The methods each scenario needs of every adapter; a missing one fails here, not by a skip.
SCENARIO_METHODS = {
    "thinking": ("thinking", "thinking_again"), "image": ("image",),
    "parallel": ("parallel", "parallel_again"), "tool_choice": ("tool_choice",),
    "usage": ("usage",), "unknown": ("text_of",), "status": ("text_of",),
    "error_mid_stream": ("text_of",),
}


def test_every_client_has_every_scenario():
    assert list(SCENARIO_METHODS) == SCENARIOS
    assert sorted(ADAPTERS) == sorted(CLIENTS)
    missing = [(client, m) for client, cls in ADAPTERS.items()
               for methods in SCENARIO_METHODS.values() for m in methods
               if not callable(getattr(cls, m, None))]
    assert not missing, missing


@pytest.fixture(scope="module")
def clients(gw):
    """One adapter (one SDK client) per client API for the whole module."""
    return {name: cls(gw) for name, cls in ADAPTERS.items()}




# --------------------------------------------------------------------------- thinking


@pytest.mark.parametrize("client,model,stream,variant", params("thinking"))
def test_thinking(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    seen, raw = c.thinking(model, stream)
    if (client, up) == ("anthropic", "openai_responses"):
        # The mock's reasoning item id is not known here; the rest of the signature is exact.
        sig = seen["thinking"][0][1]
        assert re.fullmatch(rf"openai-reasoning:rs_[A-Za-z0-9]+:{ENCRYPTED_CONTENT}", sig), sig
        seen["thinking"] = [(seen["thinking"][0][0], OPENAI_REASONING_SIGNATURE)]
    assert c.thinking_again(model, raw) == REPLY
    sent = up_thinking(up, bodies(mock_upstream, model, stream, False)[1])
    print(json.dumps({"case": [client, up, stream], "seen": seen, "sent": sent}))
    assert seen["text"] == REPLY
    assert seen == expected_thinking_seen(client, up), seen
    assert sent == expected_thinking_sent(client, up), sent


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize("client,model,stream,variant",
                         params("image", streams=(False,), variants=("data", "url")))
def test_image(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    got = c.image(model, variant)
    images = up_images(up, bodies(mock_upstream, model, False)[0])
    assert got == "A cat."
    assert images == [expected_image(up, variant)]


# --------------------------------------------------------------------------- parallel calls


@pytest.mark.parametrize("client,model,stream,variant", params("parallel"))
def test_parallel_tool_calls(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    calls, raw = c.parallel(model, stream)
    assert [(n, a) for _, n, a in calls] == [(TOOL, {"city": city}) for city, _ in CITIES]
    ids = [i for i, _, _ in calls]
    if client != "gemini":
        assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 2, calls
    assert c.parallel_again(model, raw) == f"tool result was: {CITIES[-1][1]}"
    b = bodies(mock_upstream, model, stream, False)
    pairs = up_tool_pairs(up, b[1])
    assert [(a, r) for _, a, r in pairs] == [({"city": city}, res) for city, res in CITIES]
    if up != "gemini":
        assert len({i for i, _, _ in pairs}) == 2, pairs


# --------------------------------------------------------------------------- tool_choice


@pytest.mark.parametrize("client,model,stream,variant", params(
    "tool_choice", streams=(False,), variants=("auto", "none", "required", "named")))
def test_tool_choice(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    assert c.tool_choice(model, variant) == REPLY
    got = up_tool_choice(up, bodies(mock_upstream, model, False)[0])
    assert got == EXPECTED_TOOL_CHOICE[up][variant]


# --------------------------------------------------------------------------- usage


def expected_usage(client: str, up: str, base: int) -> dict:
    """Through the IR (translators/src/ir.rs, usage): input counts all input, output counts
    reasoning; Anthropic's input_tokens excludes cache reads and writes."""
    if up == "anthropic":
        inp, read, write, out, reasoning = base + CACHE_READ + CACHE_WRITE, CACHE_READ, \
            CACHE_WRITE, REPLY_WORDS, 0
    else:
        inp, read, write, out, reasoning = base + CACHE_READ, CACHE_READ, 0, \
            REPLY_WORDS + REASONING, REASONING
    if client == "anthropic":
        return {"input": inp - read - write, "cache_read": read, "cache_write": write,
                "output": out}
    if client == "gemini":
        return {"input": inp, "cached": read, "output": out - reasoning,
                "reasoning": reasoning or None}
    return {"input": inp, "cached": read, "output": out, "reasoning": reasoning}


@pytest.mark.parametrize("client,model,stream,variant", params("usage"))
def test_usage_with_cache_tokens(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    got = c.usage(model, stream)
    base = check_calls(mock_upstream, model, stream, 1)[0]["body_len"] // 4
    assert got == expected_usage(client, up, base)


# --------------------------------------------------------------------------- unknown block


@pytest.mark.parametrize("client,model,stream,variant", params("unknown"))
def test_unknown_block(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    assert c.text_of(model, stream, UNKNOWN_PROMPT) == REPLY
    check_calls(mock_upstream, model, stream, 1)


# --------------------------------------------------------------------------- errors


def error_body(up: str, status: int) -> dict:
    if up == "anthropic":
        kind = {401: "authentication_error", 429: "rate_limit_error",
                529: "overloaded_error"}[status]
        return {"type": "error", "error": {"type": kind, "message": UPSTREAM_MESSAGE}}
    if up == "gemini":
        st = {401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 529: "UNAVAILABLE"}[status]
        return {"error": {"code": status, "message": UPSTREAM_MESSAGE, "status": st}}
    kind = {401: "invalid_request_error", 429: "rate_limit_error", 529: "server_error"}[status]
    return {"error": {"message": UPSTREAM_MESSAGE, "type": kind, "param": None, "code": None}}


# What the client sees for an upstream status: (status, SDK error class, message shown).
def expected_status(client: str, status: int, upstream: str):
    if status == 529:
        # Anthropic's "overloaded": a translated answer to another protocol's client says 503
        # (the IR's error table); the same protocol passes 529 through. Every SDK treats any
        # 5xx as its server error.
        shown = 529 if client in ("anthropic", upstream) else 503
        return shown, {"openai_chat": openai.InternalServerError,
                     "openai_responses": openai.InternalServerError,
                     "anthropic": anthropic.InternalServerError,
                     "gemini": genai_errors.ServerError}[client]
    cls = {401: {"openai_chat": openai.AuthenticationError,
                 "openai_responses": openai.AuthenticationError,
                 "anthropic": anthropic.AuthenticationError, "gemini": genai_errors.ClientError},
           429: {"openai_chat": openai.RateLimitError, "openai_responses": openai.RateLimitError,
                 "anthropic": anthropic.RateLimitError, "gemini": genai_errors.ClientError}}
    return status, cls[status][client]


@pytest.mark.parametrize("client,model,stream,variant",
                         params("status", variants=(401, 429, 529)))
def test_upstream_status_before_stream(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    step = {"status": variant, "body": error_body(up, variant)}
    if variant == 429:
        step["retry_after"] = "7"
    mock_upstream.schedule(UPSTREAMS[model][0], [step])
    status, cls = expected_status(client, variant, up)
    with pytest.raises(cls) as ei:
        c.text_of(model, stream, f"MOCK_REPLY[{REPLY}]")
    e = ei.value
    assert (getattr(e, "status_code", None) or getattr(e, "code", None)) == status, repr(e)
    if status < 500:
        assert UPSTREAM_MESSAGE in str(e), repr(e)
    if variant == 429 and client != "gemini":
        assert e.response.headers.get("retry-after") == "7"
    check_calls(mock_upstream, model, stream, 1)


# Events of the answer the mock sends before the error: two text deltas in every protocol.
EVENTS_BEFORE_TEXT = {"anthropic": 3, "openai_chat": 1, "openai_responses": 4, "gemini": 0}

MID_STREAM_RAISES = {
    "openai_chat": (openai.APIError,),
    # APIError from the gateway's `error` event (it carries an `error` object); RuntimeError
    # ("Didn't receive a `response.completed` event.") from get_final_response() when a
    # Responses upstream's own `error` event (`code`/`message` at the top, as OpenAI sends
    # it) is passed through: the SDK raises APIError only for an `error` key.
    "openai_responses": (openai.APIError, RuntimeError),
    "anthropic": (anthropic.APIStatusError,),
    "gemini": (genai_errors.ServerError,),
}


@pytest.mark.parametrize("client,model,stream,variant",
                         params("error_mid_stream", streams=(True,)))
def test_error_mid_stream_raises(clients, mock_upstream, client, model, stream, variant):
    c = clients[client]
    up = upstream_of(model)
    long_text = " ".join(f"word{i}" for i in range(20))
    mock_upstream.schedule(UPSTREAMS[model][0], [
        {"inband_error": "overloaded", "after_events": EVENTS_BEFORE_TEXT[up] + 2}])
    with pytest.raises(MID_STREAM_RAISES[client]) as ei:
        got = c.text_of(model, stream, f"MOCK_REPLY[{long_text}]")
        print(f"no error raised, text {got!r}")
    if isinstance(ei.value, RuntimeError):
        assert (client, up) == ("openai_responses", "openai_responses"), repr(ei.value)
    else:
        assert "overloaded" in str(ei.value).lower(), repr(ei.value)
    check_calls(mock_upstream, model, stream, 1)


def expected_thinking_seen(client: str, up: str) -> dict:
    """What each client's SDK shows of the upstream's reasoning (docs/translation.md)."""
    if client == "openai_chat":
        # `reasoning_content`: text only, no signature field in Chat.
        return {"text": REPLY, "thinking": [(THINK, None)]}
    if client == "openai_responses":
        # Foreign thinking is a reasoning item; its signature (or redacted data) rides in
        # `encrypted_content`.
        reasoning = {"anthropic": [([THINK], THINKING_SIGNATURE), ([], REDACTED_DATA)],
                     "gemini": [([THINK], THOUGHT_SIGNATURE)],
                     "openai_responses": [([THINK], ENCRYPTED_CONTENT)],
                     "openai_chat": [([THINK], None)]}[up]
        return {"text": REPLY, "types": ["reasoning"] * len(reasoning) + ["message"],
                "reasoning": reasoning}
    if client == "anthropic":
        # A thinking block always has a signature string; the Chat upstream has none to give;
        # an OpenAI reasoning item rides in it as `openai-reasoning:<item id>:<encrypted>`.
        sig = {"anthropic": THINKING_SIGNATURE, "gemini": THOUGHT_SIGNATURE,
               "openai_responses": OPENAI_REASONING_SIGNATURE, "openai_chat": ""}[up]
        redacted = [REDACTED_DATA] if up == "anthropic" else []
        return {"text": REPLY, "types": ["thinking"] + ["redacted_thinking"] * len(redacted)
                + ["text"], "thinking": [(THINK, sig)], "redacted": redacted}
    # Gemini: a thought part; Claude's redacted thinking and OpenAI's encrypted content have no
    # Gemini form and are dropped.
    sig = {"anthropic": THINKING_SIGNATURE, "gemini": THOUGHT_SIGNATURE}.get(up)
    return {"text": REPLY, "thinking": [(THINK, sig)], "signatures": []}


def expected_thinking_sent(client: str, up: str) -> dict:
    """What the upstream receives back in the next turn, in its own shape."""
    if up == "anthropic":
        if client == "openai_chat":
            # Chat kept no signature, and Claude rejects unsigned thinking: not sent.
            return {"thinking": [], "redacted": []}
        return {"thinking": [(THINK, THINKING_SIGNATURE)],
                "redacted": [] if client == "gemini" else [REDACTED_DATA]}
    if up == "gemini":
        sig = None if client == "openai_chat" else THOUGHT_SIGNATURE
        return {"thinking": [(THINK, sig)], "signatures": []}
    if up == "openai_responses":
        # A Responses client gives the item back, an Anthropic client the thinking block that
        # carries it; Chat and Gemini clients could not keep the encrypted content.
        return {"reasoning": [([THINK], ENCRYPTED_CONTENT)]
                if client in ("openai_responses", "anthropic") else []}
    # A Chat upstream gets `reasoning_content` back from every client.
    return {"thinking": [(THINK, None)]}
