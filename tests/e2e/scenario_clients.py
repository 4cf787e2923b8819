"""The SDK client adapters the translation scenario tests share (not a test module).

Each adapter drives one client API through its official SDK (``openai``, ``anthropic``,
``google-genai``, ``.stream()`` helpers included) and turns what the SDK parsed into small
plain values the tests compare exactly. ``UPSTREAMS`` maps each upstream model of
``conftest.standard_config`` to its account and paths; ``check_calls`` asserts the mock's
journal.
"""

from __future__ import annotations

import json

import anthropic
import openai
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gtypes

from conftest import (
    CLIENT_KEY,
    MODEL_CLAUDE,
    MODEL_GEMINI,
    UPSTREAMS,
    _show,
    assert_no_client_key,
)

MODELS = list(UPSTREAMS)
CLIENTS = ["openai_chat", "openai_responses", "anthropic", "gemini"]

TOOL = "get_weather"
ARGS = {"city": "Paris"}
TOOL_PROMPT = f"What is the weather in Paris? MOCK_TOOL[{TOOL}|{json.dumps(ARGS)}]"
RESULT = "sunny, 21C"
ECHO = f"tool result was: {RESULT}"
DESCRIPTION = "The current weather of a city."
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The city name."}},
    "required": ["city"],
    "additionalProperties": False,
}
# Long enough that a drop after two upstream events cuts it short for every protocol.
LONG_TEXT = " ".join(f"word{i}" for i in range(40))
TEXT_PROMPT = f"MOCK_REPLY[{LONG_TEXT}]"
UPSTREAM_MESSAGE = "upstream says: city must be a real place"


def bad_request_body(model: str) -> dict:
    """A 400 body in the upstream's own protocol, carrying ``UPSTREAM_MESSAGE``."""
    if model == MODEL_CLAUDE:
        return {"type": "error", "error": {"type": "invalid_request_error",
                                           "message": UPSTREAM_MESSAGE}}
    if model == MODEL_GEMINI:
        return {"error": {"code": 400, "message": UPSTREAM_MESSAGE, "status": "INVALID_ARGUMENT"}}
    return {"error": {"message": UPSTREAM_MESSAGE, "type": "invalid_request_error",
                      "param": None, "code": None}}


# --------------------------------------------------------------------------- the clients
#
# Each client turns the SDK's own result into the same small shape:
#   tool_call(model, stream) -> (calls, raw) with calls = [(id, name, args dict)], having
#       asserted the protocol's tool stop signal; raw is what the second turn needs;
#   round_trip(model, raw) -> the reply text of the second turn;
#   text(model, stream) -> the whole reply text of TEXT_PROMPT (consumed through the SDK).


class OpenAIChat:
    api_error = openai.APIError
    bad_request = openai.BadRequestError
    server_error = openai.InternalServerError

    def __init__(self, gw):
        self.c = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0,
                               timeout=60)
        # `.stream()` only accepts strict function tools.
        self.tools = [{"type": "function", "function": {
            "name": TOOL, "description": DESCRIPTION, "parameters": SCHEMA, "strict": True}}]

    def _create(self, model, messages, stream, **kw):
        if stream:
            with self.c.chat.completions.stream(model=model, messages=messages, **kw) as s:
                return s.get_final_completion()
        return self.c.chat.completions.create(model=model, messages=messages, **kw)

    def tool_call(self, model, stream):
        msgs = [{"role": "user", "content": TOOL_PROMPT}]
        r = self._create(model, msgs, stream, tools=self.tools)
        choice = r.choices[0]
        assert choice.finish_reason == "tool_calls", r
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments))
                 for tc in choice.message.tool_calls or []]
        if stream and calls:
            # The stream helper parsed the (fragmented) arguments itself.
            assert [tc.function.parsed_arguments for tc in choice.message.tool_calls] == [ARGS]
        return calls, (msgs, choice.message)

    def round_trip(self, model, raw):
        msgs, assistant = raw
        call_id = assistant.tool_calls[0].id
        msgs = msgs + [assistant.model_dump(exclude_none=True),
                       {"role": "tool", "tool_call_id": call_id, "content": RESULT}]
        r = self.c.chat.completions.create(model=model, messages=msgs, tools=self.tools)
        assert r.choices[0].finish_reason == "stop", r
        return r.choices[0].message.content

    def text(self, model, stream):
        r = self._create(model, [{"role": "user", "content": TEXT_PROMPT}], stream)
        return r.choices[0].message.content


class OpenAIResponses:
    api_error = openai.APIError
    bad_request = openai.BadRequestError
    server_error = openai.InternalServerError

    def __init__(self, gw):
        self.c = openai.OpenAI(base_url=f"{gw.url}/v1", api_key=CLIENT_KEY, max_retries=0,
                               timeout=60)
        self.tools = [{"type": "function", "name": TOOL, "description": DESCRIPTION,
                       "parameters": SCHEMA, "strict": True}]

    def _create(self, model, input, stream, **kw):
        if stream:
            with self.c.responses.stream(model=model, input=input, **kw) as s:
                return s.get_final_response()
        return self.c.responses.create(model=model, input=input, **kw)

    def tool_call(self, model, stream):
        inp = [{"role": "user", "content": TOOL_PROMPT}]
        r = self._create(model, inp, stream, tools=self.tools)
        assert r.status == "completed", r
        fcs = [o for o in r.output if o.type == "function_call"]
        # The tool stop signal of Responses: the output ends with the function_call item.
        assert r.output and r.output[-1].type == "function_call", r.output
        calls = [(o.call_id, o.name, json.loads(o.arguments)) for o in fcs]
        return calls, (inp, r)

    def round_trip(self, model, raw):
        inp, r = raw
        call_id = next(o.call_id for o in r.output if o.type == "function_call")
        inp = inp + [o.model_dump(exclude_none=True) for o in r.output] + [
            {"type": "function_call_output", "call_id": call_id, "output": RESULT}]
        r2 = self.c.responses.create(model=model, input=inp, tools=self.tools)
        assert r2.status == "completed", r2
        return r2.output_text

    def text(self, model, stream):
        return self._create(model, TEXT_PROMPT, stream).output_text


class Anthropic:
    api_error = anthropic.APIError
    bad_request = anthropic.BadRequestError
    server_error = anthropic.InternalServerError

    def __init__(self, gw):
        self.c = anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0,
                                     timeout=60)
        self.tools = [{"name": TOOL, "description": DESCRIPTION, "input_schema": SCHEMA}]

    def _create(self, stream, **kw):
        if stream:
            with self.c.messages.stream(**kw) as s:
                return s.get_final_message()
        return self.c.messages.create(**kw)

    def tool_call(self, model, stream):
        msgs = [{"role": "user", "content": TOOL_PROMPT}]
        m = self._create(stream, model=model, max_tokens=200, messages=msgs, tools=self.tools)
        assert m.stop_reason == "tool_use", m
        calls = [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"]
        return calls, (msgs, m)

    def round_trip(self, model, raw):
        msgs, m = raw
        call_id = next(b.id for b in m.content if b.type == "tool_use")
        msgs = msgs + [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": call_id, "content": RESULT}]},
        ]
        m2 = self.c.messages.create(model=model, max_tokens=200, messages=msgs, tools=self.tools)
        assert m2.stop_reason == "end_turn", m2
        assert [b.type for b in m2.content] == ["text"], m2
        return m2.content[0].text

    def text(self, model, stream):
        m = self._create(stream, model=model, max_tokens=200,
                         messages=[{"role": "user", "content": TEXT_PROMPT}])
        return "".join(b.text for b in m.content if b.type == "text")


class Gemini:
    api_error = genai_errors.APIError
    bad_request = genai_errors.ClientError
    server_error = genai_errors.ServerError

    def __init__(self, gw):
        self.c = genai.Client(api_key=CLIENT_KEY, http_options={
            "base_url": gw.url, "api_version": "v1beta", "timeout": 60_000})
        self.config = gtypes.GenerateContentConfig(
            tools=[gtypes.Tool(function_declarations=[gtypes.FunctionDeclaration(
                name=TOOL, description=DESCRIPTION,
                parameters=gtypes.Schema(
                    type="OBJECT",
                    properties={"city": gtypes.Schema(type="STRING", description="The city name.")},
                    required=["city"]))])],
            automatic_function_calling=gtypes.AutomaticFunctionCallingConfig(disable=True),
        )

    def tool_call(self, model, stream):
        contents = [gtypes.Content(role="user", parts=[gtypes.Part(text=TOOL_PROMPT)])]
        if stream:
            chunks = list(self.c.models.generate_content_stream(
                model=model, contents=contents, config=self.config))
            fcs = [fc for ch in chunks for fc in (ch.function_calls or [])]
            last = chunks[-1]
            # The model turn as a client keeps it: every part of every chunk, in order.
            parts = [p for ch in chunks if ch.candidates and ch.candidates[0].content
                     for p in ch.candidates[0].content.parts or []]
            turn = gtypes.Content(role="model", parts=parts)
        else:
            r = self.c.models.generate_content(model=model, contents=contents, config=self.config)
            fcs = r.function_calls or []
            last = r
            turn = r.candidates[0].content
        # Gemini's tool stop signal: a functionCall part with finishReason STOP.
        assert last.candidates[0].finish_reason.name == "STOP", last
        calls = [(fc.id, fc.name, dict(fc.args or {})) for fc in fcs]
        return calls, (contents, turn, fcs)

    def round_trip(self, model, raw):
        contents, turn, fcs = raw
        fc = fcs[0]
        contents = contents + [turn, gtypes.Content(role="user", parts=[gtypes.Part(
            function_response=gtypes.FunctionResponse(
                id=fc.id, name=fc.name, response={"result": RESULT}))])]
        r = self.c.models.generate_content(model=model, contents=contents, config=self.config)
        assert r.candidates[0].finish_reason.name == "STOP", r
        return r.text

    def text(self, model, stream):
        if stream:
            chunks = list(self.c.models.generate_content_stream(model=model, contents=TEXT_PROMPT))
            return "".join(c.text or "" for c in chunks)
        return self.c.models.generate_content(model=model, contents=TEXT_PROMPT).text


CLIENT_CLASSES = {"openai_chat": OpenAIChat, "openai_responses": OpenAIResponses,
                  "anthropic": Anthropic, "gemini": Gemini}


def make_client(name, gw):
    return CLIENT_CLASSES[name](gw)


def check_calls_entry(e: dict, model: str, stream: bool, j: list[dict]) -> None:
    """One journal entry is a call on the upstream protocol's path with its account."""
    account, path, stream_path = UPSTREAMS[model]
    assert (e["method"], e["path"]) == ("POST", stream_path if stream else path), _show(j)
    assert e["account"] == account, _show(j)
    assert_no_client_key(e)


def check_calls(mock, model: str, stream: bool, n: int) -> list[dict]:
    """Exactly ``n`` upstream calls, all on the upstream protocol's path with its account."""
    j = mock.journal()
    assert len(j) == n, f"expected {n} upstream call(s), journal:\n{_show(j)}"
    for e in j:
        check_calls_entry(e, model, stream, j)
    return j
