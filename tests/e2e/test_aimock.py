"""The same SDK calls as test_sdks.py, with @copilotkit/aimock as the upstream instead of our
own mock: an upstream nobody on this project wrote (fixtures in tests/aimock/).

aimock runs with AIMOCK_API_KEYS set to the account keys, so it answers 401 to a request
that carries the client's key (or no key): a 200 proves the gateway swapped in the account key.
aimock has no count_tokens and no /v1 Gemini prefix; its streams come in 5-character chunks.
"""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai

from conftest import (
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_CODEX,
    MODEL_GEMINI,
    MODEL_OAI,
    standard_config,
)

PROMPT = "Say hello"
TEXT = "Hello from aimock."


@pytest.fixture(scope="module")
def gw(aimock_server, module_gateway):
    return module_gateway(standard_config(aimock_server.url))


def assert_one_aimock_call(aimock, path: str):
    j = aimock.journal()
    seen = [(e["method"], e["path"], e["response"]["status"]) for e in j]
    assert len(j) == 1, f"expected one upstream call to {path}, aimock saw {seen}"
    assert (j[0]["method"], j[0]["path"].split("?")[0]) == ("POST", path), seen
    assert j[0]["response"]["status"] == 200, seen


def oai(gw):
    return openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=60)


def ant(gw):
    return anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0, timeout=60)


# Hold the returned Client in a variable while using it: a collected Client closes its HTTP
# client, so `gem(...).models.generate_content(...)` fails with "client has been closed".
def gem(gw, version):
    return genai.Client(api_key=CLIENT_KEY, http_options={"base_url": gw.url,
                                                          "api_version": version,
                                                          "timeout": 60_000})


def test_openai_chat(gw, aimock):
    r = oai(gw).chat.completions.create(model=MODEL_OAI,
                                        messages=[{"role": "user", "content": PROMPT}])
    assert r.choices[0].message.content == TEXT
    assert_one_aimock_call(aimock, "/v1/chat/completions")


def test_openai_chat_stream(gw, aimock):
    deltas = []
    with oai(gw).chat.completions.stream(model=MODEL_OAI,
                                         messages=[{"role": "user", "content": PROMPT}]) as s:
        for ev in s:
            if ev.type == "content.delta":
                deltas.append(ev.delta)
        final = s.get_final_completion()
    assert "".join(deltas) == TEXT
    assert final.choices[0].message.content == TEXT
    assert_one_aimock_call(aimock, "/v1/chat/completions")


def test_openai_responses(gw, aimock):
    r = oai(gw).responses.create(model=MODEL_CODEX, input=PROMPT)
    assert r.output_text == TEXT
    assert_one_aimock_call(aimock, "/v1/responses")


def test_openai_responses_stream(gw, aimock):
    deltas = []
    with oai(gw).responses.stream(model=MODEL_CODEX, input=PROMPT) as s:
        for ev in s:
            if ev.type == "response.output_text.delta":
                deltas.append(ev.delta)
        final = s.get_final_response()
    assert "".join(deltas) == TEXT
    assert final.output_text == TEXT
    assert_one_aimock_call(aimock, "/v1/responses")


def test_anthropic_messages(gw, aimock):
    m = ant(gw).messages.create(model=MODEL_CLAUDE, max_tokens=64,
                                messages=[{"role": "user", "content": PROMPT}])
    assert "".join(b.text for b in m.content if b.type == "text") == TEXT
    assert_one_aimock_call(aimock, "/v1/messages")


def test_anthropic_messages_stream(gw, aimock):
    with ant(gw).messages.stream(model=MODEL_CLAUDE, max_tokens=64,
                                 messages=[{"role": "user", "content": PROMPT}]) as s:
        streamed = "".join(s.text_stream)
        final = s.get_final_message()
    assert streamed == TEXT
    assert "".join(b.text for b in final.content if b.type == "text") == TEXT
    assert_one_aimock_call(aimock, "/v1/messages")


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_gemini_generate(gw, aimock, version):
    client = gem(gw, version)
    r = client.models.generate_content(model=MODEL_GEMINI, contents=PROMPT)
    assert r.text == TEXT
    assert_one_aimock_call(aimock, f"/v1beta/models/{MODEL_GEMINI}:generateContent")


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_gemini_generate_stream(gw, aimock, version):
    client = gem(gw, version)
    chunks = list(client.models.generate_content_stream(model=MODEL_GEMINI,
                                                                  contents=PROMPT))
    assert "".join(c.text or "" for c in chunks) == TEXT
    assert_one_aimock_call(aimock, f"/v1beta/models/{MODEL_GEMINI}:streamGenerateContent")
