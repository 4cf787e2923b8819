"""Cross-protocol requests judged by the official SDKs' own parsers.

Every client API (OpenAI Chat, OpenAI Responses, Anthropic Messages, Gemini) x every upstream
protocol (Claude, Gemini, Codex/Responses, OpenAI-compatible Chat), stream and non-stream: the
SDK must hand back exactly the text the upstream produced, and the mock must see exactly one
request, on the upstream protocol's path, with the account's key.
"""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai

from conftest import (
    ACCT_OAI,
    CLIENT_KEY,
    MODEL_CODEX,
    MODEL_GEMINI,
    MODEL_OAI,
    UPSTREAMS,
    assert_one_call,
    standard_config,
)

TEXT = "translated reply, with 日本語 and \"quotes\""


def prompt() -> str:
    return f"MOCK_REPLY[{TEXT}]"


@pytest.fixture(scope="module")
def gw(mock_server, module_gateway):
    return module_gateway(standard_config(mock_server.url))


def check_upstream(mock, model: str, stream: bool):
    account, path, stream_path = UPSTREAMS[model]
    e = assert_one_call(mock, account=account, path=stream_path if stream else path)
    if model == MODEL_GEMINI and stream:
        assert e["query"] == "alt=sse", e
    return e


@pytest.mark.parametrize("model", list(UPSTREAMS))
@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_client(gw, mock_upstream, model, stream):
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)
    msgs = [{"role": "user", "content": prompt()}]
    if stream:
        with client.chat.completions.stream(model=model, messages=msgs) as s:
            final = s.get_final_completion()
        text = final.choices[0].message.content
        assert final.choices[0].finish_reason == "stop"
    else:
        r = client.chat.completions.create(model=model, messages=msgs)
        text = r.choices[0].message.content
        assert r.choices[0].finish_reason == "stop"
        assert r.model == model
        assert r.usage.completion_tokens > 0
    assert text == TEXT
    check_upstream(mock_upstream, model, stream)


@pytest.mark.parametrize("model", list(UPSTREAMS))
@pytest.mark.parametrize("stream", [False, True])
def test_openai_responses_client(gw, mock_upstream, model, stream):
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)
    if stream:
        with client.responses.stream(model=model, input=prompt()) as s:
            final = s.get_final_response()
    else:
        final = client.responses.create(model=model, input=prompt())
    assert final.output_text == TEXT
    assert final.status == "completed"
    check_upstream(mock_upstream, model, stream)


@pytest.mark.parametrize("model", list(UPSTREAMS))
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_client(gw, mock_upstream, model, stream):
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=60)
    kw = dict(model=model, max_tokens=100, messages=[{"role": "user", "content": prompt()}])
    if stream:
        with client.messages.stream(**kw) as s:
            final = s.get_final_message()
    else:
        final = client.messages.create(**kw)
    assert [b.type for b in final.content] == ["text"]
    assert final.content[0].text == TEXT
    assert final.stop_reason == "end_turn"
    check_upstream(mock_upstream, model, stream)


@pytest.mark.parametrize("model", list(UPSTREAMS))
@pytest.mark.parametrize("stream", [False, True])
def test_gemini_client(gw, mock_upstream, model, stream):
    client = genai.Client(api_key=CLIENT_KEY,
                          http_options={"base_url": gw.url, "api_version": "v1beta", "timeout": 60_000})
    if stream:
        chunks = list(client.models.generate_content_stream(model=model, contents=prompt()))
        text = "".join(c.text or "" for c in chunks)
        assert chunks[-1].candidates[0].finish_reason.name == "STOP"
    else:
        r = client.models.generate_content(model=model, contents=prompt())
        text = r.text
        assert r.candidates[0].finish_reason.name == "STOP"
    assert text == TEXT
    check_upstream(mock_upstream, model, stream)


@pytest.mark.parametrize("model", [MODEL_CODEX, MODEL_OAI])
def test_count_tokens_without_an_upstream_endpoint_is_estimated_locally(gw, mock_upstream, model):
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=60)
    n = client.messages.count_tokens(model=model, messages=[{"role": "user", "content": "x" * 400}])
    assert 100 <= n.input_tokens <= 110, n
    assert mock_upstream.journal() == []


def test_upstream_error_reaches_the_client_in_its_own_protocol(gw, mock_upstream):
    mock_upstream.schedule(ACCT_OAI, [{"status": 400, "body": {"error": {
        "message": "bad things", "type": "invalid_request_error", "param": None, "code": None}}}])
    client = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=60)
    with pytest.raises(anthropic.BadRequestError) as ei:
        client.messages.create(model=MODEL_OAI, max_tokens=10,
                               messages=[{"role": "user", "content": "hi"}])
    assert ei.value.status_code == 400
    assert ei.value.body["type"] == "error"
    assert ei.value.body["error"]["type"] == "invalid_request_error"
    assert ei.value.body["error"]["message"] == "bad things"
