"""Cross-protocol scenarios beyond plain text, judged by the official SDKs' own parsers.

Every client API (OpenAI Chat, OpenAI Responses, Anthropic Messages, Gemini v1beta) x every
upstream protocol (Claude, Gemini, Codex/Responses, OpenAI-compatible Chat), STYLE 13:

1. one tool call (stream and non-stream): exactly one call of ``get_weather`` with arguments
   ``{"city": "Paris"}``, a non-empty call id and the client protocol's tool stop signal;
2. the tool result round trip (non-stream): the second turn in the client's own format gets
   ``tool result was: sunny, 21C`` and the upstream sees two calls, the second with a result;
3. upstream errors before the first byte (stream and non-stream): a 400 with a body gives the
   SDK's 400 error carrying the upstream message, a 500 gives the SDK's 5xx error;
4. an in-band error at stream start and a connection dropped mid-stream: the SDK must raise,
   never hand back truncated output as if it were complete. The gateway ends a dropped
   stream with the client protocol's error event, so every SDK raises its API error class
   (before session 2 the SDKs saw a truncated chunked body instead).

What the SDKs raise in case 4 (seen):
- openai Chat ``.stream()``: ``openai.APIError`` for the in-band error (a data chunk with an
  ``error`` object), ``openai.APIConnectionError`` for the dropped connection;
- openai Responses ``.stream()``: ``openai.APIError`` for the gateway's ``error`` event, or
  ``RuntimeError("Didn't receive a `response.completed` event.")`` from
  ``get_final_response()`` when the Codex upstream's own ``response.failed`` is relayed;
  ``APIConnectionError`` for the dropped connection;
- anthropic ``messages.stream()``: ``APIStatusError`` from ``event: error``,
  ``httpx2.RemoteProtocolError`` (not wrapped) for the dropped connection;
- google-genai ``generate_content_stream``: ``errors.ServerError`` from an ``{"error":..}``
  chunk, ``httpx2.RemoteProtocolError`` (not wrapped) for the dropped connection.

One module-scoped gateway with ``disable-cooling: true``: a 5xx, an in-band error or a drop
would otherwise cool the single account for 60 s and the next test would get the gateway's own
error instead of the upstream's answer. The mock is reset before every test.
"""

from __future__ import annotations

import anthropic
import httpx2 as httpx
import openai
import pytest
from google.genai import errors as genai_errors

from conftest import _show, standard_config
from scenario_clients import (
    ARGS,
    CLIENTS,
    ECHO,
    MODELS,
    TOOL,
    UPSTREAMS,
    UPSTREAM_MESSAGE,
    bad_request_body,
    check_calls,
    make_client,
)


@pytest.fixture(scope="module")
def gw(mock_server, module_gateway):
    return module_gateway(standard_config(mock_server.url, extra="disable-cooling: true\n"))


# --------------------------------------------------------------------------- known bugs

# (scenario, client, model, stream) -> reason: a gateway bug this file found, marked
# xfail(strict=True). None is known at the time of writing.
XFAIL: dict[tuple, str] = {}


def params(scenario: str, streams=(False, True)):
    out = []
    for client in CLIENTS:
        for model in MODELS:
            for stream in streams:
                reason = XFAIL.get((scenario, client, model, stream))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(client, model, stream, marks=marks,
                                        id=f"{client}-{model}-{'stream' if stream else 'plain'}"))
    return out


# --------------------------------------------------------------------------- 1. one tool call


@pytest.mark.parametrize("client,model,stream", params("tool_call"))
def test_one_tool_call(gw, mock_upstream, client, model, stream):
    calls, _ = make_client(client, gw).tool_call(model, stream)
    assert len(calls) == 1, calls
    call_id, name, args = calls[0]
    assert name == TOOL
    assert args == ARGS
    if client != "gemini":
        assert isinstance(call_id, str) and call_id, calls
    else:
        # Gemini's functionCall.id is optional (the real API sends none); if given, not empty.
        assert call_id is None or call_id, calls
    j = check_calls(mock_upstream, model, stream, 1)
    assert j[0]["has_tool_result"] is False


# --------------------------------------------------------------------------- 2. round trip


@pytest.mark.parametrize("client,model,stream", params("round_trip", streams=(False,)))
def test_tool_result_round_trip(gw, mock_upstream, client, model, stream):
    c = make_client(client, gw)
    calls, raw = c.tool_call(model, stream)
    assert [(n, a) for _, n, a in calls] == [(TOOL, ARGS)]
    assert c.round_trip(model, raw) == ECHO
    j = check_calls(mock_upstream, model, stream, 2)
    assert [e["has_tool_result"] for e in j] == [False, True], _show(j)


# --------------------------------------------------------------------------- 3. errors


@pytest.mark.parametrize("client,model,stream", params("status_400"))
def test_upstream_400_before_first_byte(gw, mock_upstream, client, model, stream):
    c = make_client(client, gw)
    mock_upstream.schedule(UPSTREAMS[model][0], [{"status": 400, "body": bad_request_body(model)}])
    with pytest.raises(c.bad_request) as ei:
        c.text(model, stream)
    e = ei.value
    assert getattr(e, "status_code", None) == 400 or getattr(e, "code", None) == 400, repr(e)
    assert UPSTREAM_MESSAGE in str(e), repr(e)
    check_calls(mock_upstream, model, stream, 1)


@pytest.mark.parametrize("client,model,stream", params("status_500"))
def test_upstream_500_before_first_byte(gw, mock_upstream, client, model, stream):
    c = make_client(client, gw)
    mock_upstream.schedule(UPSTREAMS[model][0], [{"status": 500}])
    with pytest.raises(c.server_error) as ei:
        c.text(model, stream)
    e = ei.value
    status = getattr(e, "status_code", None) or getattr(e, "code", None)
    assert isinstance(status, int) and 500 <= status <= 599, repr(e)
    check_calls(mock_upstream, model, stream, 1)


# --------------------------------------------------------------------------- 4. broken streams

# What each SDK raises for a stream that fails after its 200 (seen; see the module docstring).
INBAND_RAISES = {
    "openai_chat": (openai.APIError,),
    # APIError from the gateway's `error` event; RuntimeError from get_final_response() when the
    # upstream's own `response.failed` is relayed (Codex upstream).
    "openai_responses": (openai.APIError, RuntimeError),
    "anthropic": (anthropic.APIStatusError,),
    "gemini": (genai_errors.ServerError,),
}
DROP_RAISES = {
    # The gateway ends a dropped stream with the client protocol's error event.
    "openai_chat": (openai.APIError,),
    "openai_responses": (openai.APIError, RuntimeError),
    "anthropic": (anthropic.APIStatusError,),
    "gemini": (genai_errors.APIError,),
}


@pytest.mark.parametrize("client,model,stream", params("inband_error", streams=(True,)))
def test_inband_error_at_stream_start_raises(gw, mock_upstream, client, model, stream):
    c = make_client(client, gw)
    mock_upstream.schedule(UPSTREAMS[model][0], [{"inband_error": "overloaded"}])
    with pytest.raises(INBAND_RAISES[client]) as ei:
        got = c.text(model, stream)
        print(f"no error raised, text {got!r}")
    print(f"{client} raised {type(ei.value).__module__}.{type(ei.value).__name__}: {ei.value}")
    if not isinstance(ei.value, RuntimeError):
        assert "overloaded" in str(ei.value).lower(), repr(ei.value)
    check_calls(mock_upstream, model, stream, 1)


@pytest.mark.parametrize("client,model,stream", params("drop", streams=(True,)))
def test_drop_mid_stream_raises(gw, mock_upstream, client, model, stream):
    c = make_client(client, gw)
    mock_upstream.schedule(UPSTREAMS[model][0], [{"drop_after_events": 2}])
    with pytest.raises(DROP_RAISES[client]) as ei:
        got = c.text(model, stream)
        print(f"no error raised, text {got!r}")
    print(f"{client} raised {type(ei.value).__module__}.{type(ei.value).__name__}: {ei.value}")
    check_calls(mock_upstream, model, stream, 1)
