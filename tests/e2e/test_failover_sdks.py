"""Failover before the first byte is invisible, judged by the official SDK parsers.

Every client API (OpenAI Chat, OpenAI Responses, Anthropic Messages, Gemini) x every upstream
protocol (Claude, Gemini, Codex/Responses, OpenAI-compatible Chat) x stream and non-stream, with
two accounts per upstream (fill-first): the first fails before any content, the second answers.
The SDK must hand back exactly the second account's text, and the mock must have been called
exactly once per account. Failures before content:

- an HTTP 503 and a 529;
- an in-band error after a 200 (Anthropic ``overloaded_error`` event, Responses
  ``response.failed`` after ``response.created``/``in_progress``, an OpenAI error chunk, a
  Gemini error object) -- the case that needs stream bootstrap: the gateway holds the stream's
  output until the first content event;
- a 200 whose body ends before any event (an empty stream).

The response header of a held attempt is held too, so when no account is left the client gets
the last account's answer as it was: its in-band error event when both fail in-band, its HTTP
status (503) when the first fails in-band and the second with a status. A drop after content has
started ends the stream with the client protocol's error event, which the SDK raises as an API
error -- never a silent truncation.

``disable-cooling: true`` keeps every request's path independent of the previous ones.
"""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors

from conftest import CLIENT_KEY, Account, _show, gateway_config

REPLY = "the second account answered"
PROMPT = f"MOCK_REPLY[{REPLY}]"
LONG = " ".join(f"w{i}" for i in range(60))

# upstream kind -> (model, first account, second account)
KINDS = {
    "claude": ("claude-x", "claude-first", "claude-second"),
    "gemini": ("gemini-x", "gemini-first", "gemini-second"),
    "codex": ("codex-x", "codex-first", "codex-second"),
    "openai": ("oai-x", "oai-first", "oai-second"),
}
CLIENTS = ["openai_chat", "openai_responses", "anthropic", "gemini"]


@pytest.fixture(scope="module")
def gw(mock_server, module_gateway):
    url = mock_server.url
    k = KINDS
    return module_gateway(gateway_config(
        claude=[Account(k["claude"][1], url, [("claude-up", "claude-x")]),
                Account(k["claude"][2], url, [("claude-up", "claude-x")])],
        gemini=[Account(k["gemini"][1], url, [("gemini-up", "gemini-x")]),
                Account(k["gemini"][2], url, [("gemini-up", "gemini-x")])],
        codex=[Account(k["codex"][1], url + "/v1", [("codex-up", "codex-x")]),
               Account(k["codex"][2], url + "/v1", [("codex-up", "codex-x")])],
        openai_compat=[("mock", url + "/v1", [k["openai"][1], k["openai"][2]],
                        [("oai-up", "oai-x")])],
        extra="routing: {strategy: fill-first}\ndisable-cooling: true\n",
    ))


def text(client: str, gw, model: str, stream: bool, prompt: str = PROMPT) -> str:
    """The reply text as the official SDK parsed it."""
    if client == "openai_chat":
        c = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=30)
        msgs = [{"role": "user", "content": prompt}]
        if stream:
            with c.chat.completions.stream(model=model, messages=msgs) as s:
                return s.get_final_completion().choices[0].message.content
        return c.chat.completions.create(model=model, messages=msgs).choices[0].message.content
    if client == "openai_responses":
        c = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=30)
        if stream:
            with c.responses.stream(model=model, input=prompt) as s:
                return s.get_final_response().output_text
        return c.responses.create(model=model, input=prompt).output_text
    if client == "anthropic":
        c = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=30)
        kw = dict(model=model, max_tokens=100, messages=[{"role": "user", "content": prompt}])
        if stream:
            with c.messages.stream(**kw) as s:
                m = s.get_final_message()
        else:
            m = c.messages.create(**kw)
        return "".join(b.text for b in m.content if b.type == "text")
    c = genai.Client(api_key=CLIENT_KEY, http_options={
        "base_url": gw.url, "api_version": "v1beta", "timeout": 30_000})
    if stream:
        return "".join(ch.text or "" for ch in
                       c.models.generate_content_stream(model=model, contents=prompt))
    return c.models.generate_content(model=model, contents=prompt).text


def calls(mock, account: str) -> int:
    return len(mock.journal(account))


FAULTS = {
    "503": {"status": 503},
    "529": {"status": 529},
    "inband_overloaded": {"inband_error": "overloaded"},
    "inband_rate_limit": {"inband_error": "rate_limit"},
    "empty_stream": {"drop_after_events": 0},
}


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("client", CLIENTS)
def test_failure_before_content_fails_over_invisibly(gw, mock_upstream, client, kind, fault,
                                                     stream):
    if fault == "empty_stream" and not stream:
        pytest.skip("a non-stream answer whose body dies after its 200 header is not retried "
                    "(docs/failover.md)")
    model, first, second = KINDS[kind]
    mock_upstream.schedule(first, [FAULTS[fault]])
    got = text(client, gw, model, stream)
    assert got == REPLY, _show(mock_upstream.journal())
    assert (calls(mock_upstream, first), calls(mock_upstream, second)) == (1, 1), \
        _show(mock_upstream.journal())


API_ERRORS = {
    "openai_chat": (openai.APIError,),
    # The SDK's `.stream()` raises RuntimeError("Didn't receive a `response.completed`
    # event.") when a Codex upstream's own `response.failed` is relayed unchanged.
    "openai_responses": (openai.APIError, RuntimeError),
    "anthropic": (anthropic.APIError,),
    "gemini": (genai_errors.APIError,),
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("client", CLIENTS)
def test_every_account_failing_in_band_ends_with_an_error_event(gw, mock_upstream, client,
                                                                 kind):
    model, first, second = KINDS[kind]
    mock_upstream.schedule(first, [{"inband_error": "overloaded"}])
    mock_upstream.schedule(second, [{"inband_error": "overloaded"}])
    with pytest.raises(API_ERRORS[client]) as ei:
        got = text(client, gw, model, True)
        print(f"no error raised, text {got!r}")
    if not isinstance(ei.value, RuntimeError):
        assert "overloaded" in str(ei.value).lower(), repr(ei.value)
    assert (calls(mock_upstream, first), calls(mock_upstream, second)) == (1, 1)


def status_of(e) -> int | None:
    """The HTTP status an SDK error carries."""
    return getattr(e, "status_code", None) or getattr(e, "code", None)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("client", CLIENTS)
def test_the_last_accounts_status_reaches_the_client_after_an_in_band_failure(
        gw, mock_upstream, client, kind):
    # Nothing of the first attempt was sent (its header was held with its events), so the
    # second account's 503 reaches the client as the HTTP status it is.
    model, first, second = KINDS[kind]
    mock_upstream.schedule(first, [{"inband_error": "overloaded"}])
    mock_upstream.schedule(second, [{"status": 503}])
    with pytest.raises(API_ERRORS[client]) as ei:
        got = text(client, gw, model, True)
        print(f"no error raised, text {got!r}")
    print(f"{client} raised {type(ei.value).__name__}: {ei.value}")
    assert status_of(ei.value) == 503, repr(ei.value)
    assert (calls(mock_upstream, first), calls(mock_upstream, second)) == (1, 1)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("client", CLIENTS)
def test_a_drop_after_content_ends_with_an_error_event(gw, mock_upstream, client, kind):
    model, first, second = KINDS[kind]
    mock_upstream.schedule(first, [{"drop_after_events": 8}])
    with pytest.raises(API_ERRORS[client]) as ei:
        got = text(client, gw, model, True, prompt=f"MOCK_REPLY[{LONG}]")
        print(f"no error raised, text {got!r}")
    print(f"{client} raised {type(ei.value).__name__}: {ei.value}")
    # Content had started: no other account is tried.
    assert (calls(mock_upstream, first), calls(mock_upstream, second)) == (1, 0)
