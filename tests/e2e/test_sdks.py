"""The official Python SDKs through the gateway to the Rust mock upstream.

Every call asserts the exact text the SDK hands back and the mock's journal: exactly one
upstream request, on the right path, carrying the account's key and not the client's.
The text is chosen by the prompt: the mock answers ``MOCK_REPLY[text]`` with ``text``.
"""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors

from conftest import (
    ACCT_CLAUDE,
    ACCT_CODEX,
    ACCT_GEMINI,
    ACCT_OAI,
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_CODEX,
    MODEL_GEMINI,
    MODEL_OAI,
    assert_no_upstream,
    assert_one_call,
    http_request,
    standard_config,
)

GEMINI_VERSIONS = ("v1beta", "v1")
UNKNOWN_MODEL = "no-such-model-xyz"


def prompt(text: str) -> str:
    return f"Answer with the text in brackets. MOCK_REPLY[{text}]"


@pytest.fixture(scope="module")
def gw(mock_server, module_gateway):
    return module_gateway(standard_config(mock_server.url))


def oai(gw, key: str = CLIENT_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.url}/v1", api_key=key, max_retries=0, timeout=60)


def ant(gw, key: str = CLIENT_KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=0, timeout=60)


# Hold the returned Client in a variable while using it: a collected Client closes its HTTP
# client, so `gem(...).models.generate_content(...)` fails with "client has been closed".
def gem(gw, version: str, key: str = CLIENT_KEY) -> genai.Client:
    return genai.Client(api_key=key, http_options={"base_url": gw.url, "api_version": version,
                                                   "timeout": 60_000})


# ------------------------------------------------------------------ OpenAI chat completions


def test_openai_chat(gw, mock_upstream):
    text = "Chat plain: héllo wörld, 3 words+"
    r = oai(gw).chat.completions.create(model=MODEL_OAI,
                                        messages=[{"role": "user", "content": prompt(text)}])
    assert r.choices[0].message.content == text
    assert r.choices[0].finish_reason == "stop"
    e = assert_one_call(mock_upstream, account=ACCT_OAI, path="/v1/chat/completions", model=MODEL_OAI)
    assert e["stream"] is False


def test_openai_chat_stream(gw, mock_upstream):
    text = "Chat stream: several words arrive as several deltas ✓"
    deltas = []
    with oai(gw).chat.completions.stream(
        model=MODEL_OAI, messages=[{"role": "user", "content": prompt(text)}]
    ) as s:
        for ev in s:
            if ev.type == "content.delta":
                deltas.append(ev.delta)
        final = s.get_final_completion()
    assert "".join(deltas) == text
    assert final.choices[0].message.content == text
    assert final.choices[0].finish_reason == "stop"
    assert len(deltas) > 1, "expected the stream in more than one delta"
    e = assert_one_call(mock_upstream, account=ACCT_OAI, path="/v1/chat/completions", model=MODEL_OAI)
    assert e["stream"] is True


# ------------------------------------------------------------------ OpenAI Responses


def test_openai_responses(gw, mock_upstream):
    text = "Responses plain: über die Brücke"
    r = oai(gw).responses.create(model=MODEL_CODEX, input=prompt(text))
    assert r.output_text == text
    assert r.status == "completed"
    assert_one_call(mock_upstream, account=ACCT_CODEX, path="/v1/responses", model=MODEL_CODEX)


def test_openai_responses_stream(gw, mock_upstream):
    text = "Responses stream: one two three four five"
    deltas = []
    with oai(gw).responses.stream(model=MODEL_CODEX, input=prompt(text)) as s:
        for ev in s:
            if ev.type == "response.output_text.delta":
                deltas.append(ev.delta)
        final = s.get_final_response()
    assert "".join(deltas) == text
    assert final.output_text == text
    assert final.status == "completed"
    assert_one_call(mock_upstream, account=ACCT_CODEX, path="/v1/responses", model=MODEL_CODEX)


# ------------------------------------------------------------------ Anthropic messages


def test_anthropic_messages(gw, mock_upstream):
    text = "Messages plain: naïve café"
    m = ant(gw).messages.create(model=MODEL_CLAUDE, max_tokens=256,
                                messages=[{"role": "user", "content": prompt(text)}])
    assert "".join(b.text for b in m.content if b.type == "text") == text
    assert m.stop_reason == "end_turn"
    e = assert_one_call(mock_upstream, account=ACCT_CLAUDE, path="/v1/messages", model=MODEL_CLAUDE)
    assert e["stream"] is False


def test_anthropic_messages_stream(gw, mock_upstream):
    text = "Messages stream: alpha beta gamma delta"
    with ant(gw).messages.stream(model=MODEL_CLAUDE, max_tokens=256,
                                 messages=[{"role": "user", "content": prompt(text)}]) as s:
        streamed = "".join(s.text_stream)
        final = s.get_final_message()
    assert streamed == text
    assert "".join(b.text for b in final.content if b.type == "text") == text
    assert final.stop_reason == "end_turn"
    e = assert_one_call(mock_upstream, account=ACCT_CLAUDE, path="/v1/messages", model=MODEL_CLAUDE)
    assert e["stream"] is True


def test_anthropic_count_tokens(gw, mock_upstream):
    r = ant(gw).messages.count_tokens(model=MODEL_CLAUDE,
                                      messages=[{"role": "user", "content": "count these tokens"}])
    assert isinstance(r.input_tokens, int) and r.input_tokens > 0
    assert_one_call(mock_upstream, account=ACCT_CLAUDE, path="/v1/messages/count_tokens",
                    model=MODEL_CLAUDE)


# ------------------------------------------------------------------ Gemini

# The gateway calls the upstream on /v1beta whichever version the client used (the upstream
# Gemini API is served there; aimock serves only /v1beta).
GEMINI_UP = f"/v1beta/models/{MODEL_GEMINI}"


@pytest.mark.parametrize("version", GEMINI_VERSIONS)
def test_gemini_generate(gw, mock_upstream, version):
    text = f"Gemini {version} plain: ça marche"
    client = gem(gw, version)
    r = client.models.generate_content(model=MODEL_GEMINI, contents=prompt(text))
    assert r.text == text
    assert r.candidates[0].finish_reason.name == "STOP"
    e = assert_one_call(mock_upstream, account=ACCT_GEMINI, path=f"{GEMINI_UP}:generateContent",
                        model=MODEL_GEMINI)
    assert e["stream"] is False


@pytest.mark.parametrize("version", GEMINI_VERSIONS)
def test_gemini_generate_stream(gw, mock_upstream, version):
    text = f"Gemini {version} stream: eins zwei drei vier"
    client = gem(gw, version)
    chunks = list(client.models.generate_content_stream(model=MODEL_GEMINI,
                                                                  contents=prompt(text)))
    assert "".join(c.text or "" for c in chunks) == text
    assert chunks[-1].candidates[0].finish_reason.name == "STOP"
    e = assert_one_call(mock_upstream, account=ACCT_GEMINI,
                        path=f"{GEMINI_UP}:streamGenerateContent", model=MODEL_GEMINI)
    assert e["stream"] is True
    assert "alt=sse" in e["query"]


@pytest.mark.parametrize("version", GEMINI_VERSIONS)
def test_gemini_count_tokens(gw, mock_upstream, version):
    client = gem(gw, version)
    r = client.models.count_tokens(model=MODEL_GEMINI, contents="count these tokens")
    assert isinstance(r.total_tokens, int) and r.total_tokens > 0
    assert_one_call(mock_upstream, account=ACCT_GEMINI, path=f"{GEMINI_UP}:countTokens",
                    model=MODEL_GEMINI)


# ------------------------------------------------------------------ models, auth, errors


# The model lists are per protocol: each lists the configured models that protocol can call.
# (Translation between protocols is not there yet: chat completions to a Claude model is a 501.
# When it lands, these lists should grow to every configured model.)


def test_openai_models_list(gw, mock_upstream):
    ids = {m.id for m in oai(gw).models.list()}
    want = {MODEL_OAI, MODEL_CODEX}
    assert want <= ids, f"configured OpenAI models missing from /v1/models: {want - ids} (got {ids})"
    assert_no_upstream(mock_upstream)


def test_anthropic_models_list(gw, mock_upstream):
    ids = {m.id for m in ant(gw).models.list()}
    assert MODEL_CLAUDE in ids, f"{MODEL_CLAUDE} missing from the Anthropic model list {ids}"
    assert_no_upstream(mock_upstream)


@pytest.mark.parametrize("version", GEMINI_VERSIONS)
def test_gemini_models_list(gw, mock_upstream, version):
    client = gem(gw, version)
    names = {m.name for m in client.models.list()}
    assert f"models/{MODEL_GEMINI}" in names, f"{MODEL_GEMINI} missing from the Gemini list {names}"
    assert_no_upstream(mock_upstream)


def test_anthropic_wrong_key(gw, mock_upstream):
    with pytest.raises(anthropic.AuthenticationError) as ei:
        ant(gw, key="sk-wrong").messages.create(
            model=MODEL_CLAUDE, max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert ei.value.status_code == 401
    assert_no_upstream(mock_upstream)


def test_openai_wrong_key(gw, mock_upstream):
    with pytest.raises(openai.AuthenticationError) as ei:
        oai(gw, key="sk-wrong").chat.completions.create(
            model=MODEL_OAI, messages=[{"role": "user", "content": "hi"}])
    assert ei.value.status_code == 401
    assert_no_upstream(mock_upstream)


def test_gemini_wrong_key(gw, mock_upstream):
    client = gem(gw, "v1beta", key="sk-wrong")
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model=MODEL_GEMINI, contents="hi")
    assert ei.value.code in (401, 403)
    assert_no_upstream(mock_upstream)


def test_unknown_model_openai_chat(gw, mock_upstream):
    with pytest.raises(openai.APIStatusError) as ei:
        oai(gw).chat.completions.create(model=UNKNOWN_MODEL,
                                        messages=[{"role": "user", "content": "hi"}])
    assert 400 <= ei.value.status_code < 500
    assert_no_upstream(mock_upstream)


def test_unknown_model_openai_responses(gw, mock_upstream):
    with pytest.raises(openai.APIStatusError) as ei:
        oai(gw).responses.create(model=UNKNOWN_MODEL, input="hi")
    assert 400 <= ei.value.status_code < 500
    assert_no_upstream(mock_upstream)


def test_unknown_model_anthropic(gw, mock_upstream):
    with pytest.raises(anthropic.APIStatusError) as ei:
        ant(gw).messages.create(model=UNKNOWN_MODEL, max_tokens=16,
                                messages=[{"role": "user", "content": "hi"}])
    assert 400 <= ei.value.status_code < 500
    assert_no_upstream(mock_upstream)


@pytest.mark.parametrize("version", GEMINI_VERSIONS)
def test_unknown_model_gemini(gw, mock_upstream, version):
    client = gem(gw, version)
    with pytest.raises(genai_errors.ClientError) as ei:
        client.models.generate_content(model=UNKNOWN_MODEL, contents="hi")
    assert 400 <= ei.value.code < 500
    assert_no_upstream(mock_upstream)


MALFORMED = b'{"model": "x", "messages": [ {"role": "user", "content": "unterminated'


def _malformed(gw, path, headers):
    r = http_request("POST", gw.url + path, MALFORMED,
                     {"content-type": "application/json", **headers})
    assert r.status == 400, f"status {r.status}, body {r.body[:500]!r}"
    try:
        return r.json()
    except ValueError:
        pytest.fail(f"error body is not JSON: {r.body[:500]!r}")


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
def test_malformed_json_openai(gw, mock_upstream, path):
    body = _malformed(gw, path, {"authorization": f"Bearer {CLIENT_KEY}"})
    err = body.get("error")
    assert isinstance(err, dict), body
    assert isinstance(err.get("message"), str) and err["message"], body
    assert isinstance(err.get("type"), str) and err["type"], body
    assert_no_upstream(mock_upstream)


def test_malformed_json_anthropic(gw, mock_upstream):
    body = _malformed(gw, "/v1/messages",
                      {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"})
    assert body.get("type") == "error", body
    err = body.get("error")
    assert isinstance(err, dict), body
    assert isinstance(err.get("type"), str) and err["type"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    assert_no_upstream(mock_upstream)


@pytest.mark.parametrize("version", GEMINI_VERSIONS)
def test_malformed_json_gemini(gw, mock_upstream, version):
    body = _malformed(gw, f"/{version}/models/{MODEL_GEMINI}:generateContent",
                      {"x-goog-api-key": CLIENT_KEY})
    err = body.get("error")
    assert isinstance(err, dict), body
    assert err.get("code") == 400, body
    assert isinstance(err.get("message"), str) and err["message"], body
    assert err.get("status") == "INVALID_ARGUMENT", body
    assert_no_upstream(mock_upstream)

