"""STYLE 13 scenarios beyond text and one tool call, judged by the official SDKs' parsers.

The same matrix as ``test_translation_scenarios.py`` (every client API x every upstream
protocol x stream/non-stream, one module-scoped gateway, the mock reset before every test),
over the scenarios in ``SCENARIOS``. Every scenario is a method of every client adapter below
and one ``check_*`` of the upstream side, so a client or upstream without a case fails (an
``AttributeError`` or ``KeyError``), never skips. The mock makes the upstream answers
(``tests/mock-upstream/src/extras.rs``: ``MOCK_THINK[..]``, ``MOCK_UNKNOWN``,
``MOCK_CACHE_USAGE``, several ``MOCK_TOOL[..]`` markers, and the ``after_events`` schedule
step); the journal's ``body`` shows what the upstream received.

What a protocol cannot express, and what the gateway does instead, is in
``docs/translation.md``; the expectations below encode exactly that.
"""

from __future__ import annotations

import base64
import json
import re

import anthropic
import httpx2 as httpx
import openai
import pytest
from google.genai import errors as genai_errors
from google.genai import types as gtypes

from conftest import MODEL_CLAUDE, MODEL_CODEX, MODEL_GEMINI, MODEL_OAI, _show, standard_config
from scenario_clients import (
    CLIENTS,
    MODELS,
    UPSTREAMS,
    Anthropic,
    Gemini,
    OpenAIChat,
    OpenAIResponses,
    check_calls,
    check_calls_entry,
)

# --------------------------------------------------------------------------- the mock's values

# tests/mock-upstream/src/extras.rs
THINKING_SIGNATURE = "bW9jay10aGlua2luZy1zaWduYXR1cmU="
REDACTED_DATA = "bW9jay1yZWRhY3RlZC10aGlua2luZw=="
ENCRYPTED_CONTENT = "bW9jay1lbmNyeXB0ZWQtcmVhc29uaW5n"
THOUGHT_SIGNATURE = "bW9jay10aG91Z2h0LXNpZ25hdHVyZQ=="
# What an Anthropic client is shown for an OpenAI reasoning item (translators/src/anthropic/
# blocks.rs), with the item id left out.
OPENAI_REASONING_SIGNATURE = f"openai-reasoning:<id>:{ENCRYPTED_CONTENT}"
CACHE_READ, CACHE_WRITE, REASONING = 40, 24, 8

THINK = "Weigh the options first."
REPLY = "The answer is forty-two."
THINK_PROMPT = f"Think. MOCK_THINK[{THINK}] MOCK_REPLY[{REPLY}]"
UNKNOWN_PROMPT = f"MOCK_UNKNOWN MOCK_REPLY[{REPLY}]"
CACHE_PROMPT = f"MOCK_CACHE_USAGE MOCK_REPLY[{REPLY}]"
REPLY_WORDS = len(REPLY.split())  # the mock's output tokens: one per word

TOOL = "get_weather"
CITIES = [("Paris", "sunny, 21C"), ("London", "rain, 12C")]
PARALLEL_PROMPT = "Weather in both? " + " ".join(
    f"MOCK_TOOL[{TOOL}|{json.dumps({'city': c})}]" for c, _ in CITIES)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nmock image bytes").decode()
IMAGE_URL = "https://example.com/cat.png"

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


# --------------------------------------------------------------------------- the clients
#
# Per scenario, each adapter returns plain values:
#   thinking(model, stream) -> (seen, raw), seen = {"text", "thinking": [(text, signature)],
#       "redacted": [data], "reasoning": [([summary], encrypted)]} (keys the protocol has);
#   thinking_again(model, raw) -> text of the next turn, which sends the reasoning back;
#   image(model, kind) -> reply text, kind "data" or "url";
#   parallel(model, stream) -> ([(id, name, args)], raw); parallel_again(model, raw) -> text;
#   tool_choice(model, choice) -> reply text; usage(model, stream) -> the SDK's usage fields;
#   text_of(model, stream, prompt) -> reply text.

DATA_URL = f"data:image/png;base64,{PNG}"
IMAGE_PROMPT = "What is in the picture? MOCK_REPLY[A cat.]"
AGAIN = "Go on."


def result_for(args: dict) -> str:
    return dict(CITIES)[args["city"]]


class Chat(OpenAIChat):
    def text_of(self, model, stream, prompt, **kw):
        r = self._create(model, [{"role": "user", "content": prompt}], stream, **kw)
        return r.choices[0].message.content

    def thinking(self, model, stream):
        msgs = [{"role": "user", "content": THINK_PROMPT}]
        m = self._create(model, msgs, stream).choices[0].message
        rc = (m.model_extra or {}).get("reasoning_content")
        return {"text": m.content, "thinking": [(rc, None)] if rc else []}, (msgs, m)

    def thinking_again(self, model, raw):
        msgs, m = raw
        msgs = msgs + [m.model_dump(exclude_none=True), {"role": "user", "content": AGAIN}]
        return self.c.chat.completions.create(model=model, messages=msgs).choices[0].message.content

    def image(self, model, kind):
        content = [{"type": "text", "text": IMAGE_PROMPT},
                   {"type": "image_url", "image_url": {"url": DATA_URL if kind == "data"
                                                       else IMAGE_URL}}]
        r = self.c.chat.completions.create(model=model,
                                           messages=[{"role": "user", "content": content}])
        return r.choices[0].message.content

    def parallel(self, model, stream):
        msgs = [{"role": "user", "content": PARALLEL_PROMPT}]
        r = self._create(model, msgs, stream, tools=self.tools)
        assert r.choices[0].finish_reason == "tool_calls", r
        m = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments))
                 for tc in m.tool_calls or []]
        return calls, (msgs, m)

    def parallel_again(self, model, raw):
        msgs, m = raw
        msgs = msgs + [m.model_dump(exclude_none=True)] + [
            {"role": "tool", "tool_call_id": tc.id,
             "content": result_for(json.loads(tc.function.arguments))} for tc in m.tool_calls]
        r = self.c.chat.completions.create(model=model, messages=msgs, tools=self.tools)
        return r.choices[0].message.content

    def tool_choice(self, model, choice):
        tc = {"named": {"type": "function", "function": {"name": TOOL}}}.get(choice, choice)
        return self.text_of(model, False, f"MOCK_REPLY[{REPLY}]", tools=self.tools,
                            tool_choice=tc)

    def usage(self, model, stream):
        kw = {"stream_options": {"include_usage": True}} if stream else {}
        u = self._create(model, [{"role": "user", "content": CACHE_PROMPT}], stream, **kw).usage
        return {"input": u.prompt_tokens,
                "cached": (u.prompt_tokens_details.cached_tokens
                           if u.prompt_tokens_details else None),
                "output": u.completion_tokens,
                "reasoning": (u.completion_tokens_details.reasoning_tokens
                              if u.completion_tokens_details else None)}


class Responses(OpenAIResponses):
    def text_of(self, model, stream, prompt, **kw):
        return self._create(model, prompt, stream, **kw).output_text

    def thinking(self, model, stream):
        inp = [{"role": "user", "content": THINK_PROMPT}]
        r = self._create(model, inp, stream, include=["reasoning.encrypted_content"])
        types = [o.type for o in r.output]
        seen = {"text": r.output_text, "types": types,
                "reasoning": [([s.text for s in o.summary], o.encrypted_content)
                              for o in r.output if o.type == "reasoning"]}
        return seen, (inp, r)

    def thinking_again(self, model, raw):
        inp, r = raw
        inp = inp + [o.model_dump(exclude_none=True) for o in r.output] + [
            {"role": "user", "content": AGAIN}]
        return self.c.responses.create(model=model, input=inp).output_text

    def image(self, model, kind):
        inp = [{"role": "user", "content": [
            {"type": "input_text", "text": IMAGE_PROMPT},
            {"type": "input_image", "detail": "auto",
             "image_url": DATA_URL if kind == "data" else IMAGE_URL}]}]
        return self.c.responses.create(model=model, input=inp).output_text

    def parallel(self, model, stream):
        inp = [{"role": "user", "content": PARALLEL_PROMPT}]
        r = self._create(model, inp, stream, tools=self.tools)
        assert r.status == "completed", r
        calls = [(o.call_id, o.name, json.loads(o.arguments)) for o in r.output
                 if o.type == "function_call"]
        return calls, (inp, r)

    def parallel_again(self, model, raw):
        inp, r = raw
        inp = inp + [o.model_dump(exclude_none=True) for o in r.output] + [
            {"type": "function_call_output", "call_id": o.call_id,
             "output": result_for(json.loads(o.arguments))}
            for o in r.output if o.type == "function_call"]
        return self.c.responses.create(model=model, input=inp, tools=self.tools).output_text

    def tool_choice(self, model, choice):
        tc = {"named": {"type": "function", "name": TOOL}}.get(choice, choice)
        return self.text_of(model, False, f"MOCK_REPLY[{REPLY}]", tools=self.tools,
                            tool_choice=tc)

    def usage(self, model, stream):
        u = self._create(model, CACHE_PROMPT, stream).usage
        return {"input": u.input_tokens, "cached": u.input_tokens_details.cached_tokens,
                "output": u.output_tokens,
                "reasoning": u.output_tokens_details.reasoning_tokens}


class Claude(Anthropic):
    def text_of(self, model, stream, prompt, **kw):
        m = self._create(stream, model=model, max_tokens=200,
                         messages=[{"role": "user", "content": prompt}], **kw)
        return "".join(b.text for b in m.content if b.type == "text")

    def thinking(self, model, stream):
        msgs = [{"role": "user", "content": THINK_PROMPT}]
        m = self._create(stream, model=model, max_tokens=2048, messages=msgs,
                         thinking={"type": "enabled", "budget_tokens": 1024})
        seen = {"text": "".join(b.text for b in m.content if b.type == "text"),
                "types": [b.type for b in m.content],
                "thinking": [(b.thinking, b.signature) for b in m.content
                             if b.type == "thinking"],
                "redacted": [b.data for b in m.content if b.type == "redacted_thinking"]}
        return seen, (msgs, m)

    def thinking_again(self, model, raw):
        msgs, m = raw
        msgs = msgs + [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
            {"role": "user", "content": AGAIN}]
        m2 = self.c.messages.create(model=model, max_tokens=2048, messages=msgs,
                                    thinking={"type": "enabled", "budget_tokens": 1024})
        return "".join(b.text for b in m2.content if b.type == "text")

    def image(self, model, kind):
        source = ({"type": "base64", "media_type": "image/png", "data": PNG} if kind == "data"
                  else {"type": "url", "url": IMAGE_URL})
        msgs = [{"role": "user", "content": [{"type": "text", "text": IMAGE_PROMPT},
                                             {"type": "image", "source": source}]}]
        m = self.c.messages.create(model=model, max_tokens=200, messages=msgs)
        return "".join(b.text for b in m.content if b.type == "text")

    def parallel(self, model, stream):
        msgs = [{"role": "user", "content": PARALLEL_PROMPT}]
        m = self._create(stream, model=model, max_tokens=200, messages=msgs, tools=self.tools)
        assert m.stop_reason == "tool_use", m
        return [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"], (msgs, m)

    def parallel_again(self, model, raw):
        msgs, m = raw
        msgs = msgs + [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": b.id, "content": result_for(b.input)}
                for b in m.content if b.type == "tool_use"]}]
        m2 = self.c.messages.create(model=model, max_tokens=200, messages=msgs, tools=self.tools)
        return "".join(b.text for b in m2.content if b.type == "text")

    def tool_choice(self, model, choice):
        tc = {"auto": {"type": "auto"}, "none": {"type": "none"}, "required": {"type": "any"},
              "named": {"type": "tool", "name": TOOL}}[choice]
        return self.text_of(model, False, f"MOCK_REPLY[{REPLY}]", tools=self.tools,
                            tool_choice=tc)

    def usage(self, model, stream):
        u = self._create(stream, model=model, max_tokens=200,
                         messages=[{"role": "user", "content": CACHE_PROMPT}]).usage
        return {"input": u.input_tokens, "cache_read": u.cache_read_input_tokens,
                "cache_write": u.cache_creation_input_tokens, "output": u.output_tokens}


class Gem(Gemini):
    def _generate(self, model, contents, stream, config=None):
        """(text, parts in order, last response) as a client keeps them."""
        if stream:
            chunks = list(self.c.models.generate_content_stream(
                model=model, contents=contents, config=config))
            parts = [p for ch in chunks if ch.candidates and ch.candidates[0].content
                     for p in ch.candidates[0].content.parts or []]
            return parts, chunks[-1]
        r = self.c.models.generate_content(model=model, contents=contents, config=config)
        return list(r.candidates[0].content.parts or []), r

    @staticmethod
    def _text(parts):
        return "".join(p.text or "" for p in parts if not p.thought)

    def text_of(self, model, stream, prompt, config=None):
        return self._text(self._generate(model, prompt, stream, config)[0])

    def thinking(self, model, stream):
        contents = [gtypes.Content(role="user", parts=[gtypes.Part(text=THINK_PROMPT)])]
        config = gtypes.GenerateContentConfig(
            thinking_config=gtypes.ThinkingConfig(include_thoughts=True))
        parts, _ = self._generate(model, contents, stream, config)
        sig = lambda p: (base64.b64encode(p.thought_signature).decode()  # noqa: E731
                         if p.thought_signature else None)
        thoughts = []
        for i, p in enumerate(parts):
            if not p.thought:
                continue
            # A streamed thought arrives as one part per chunk; a client joins adjacent ones.
            if thoughts and i > 0 and parts[i - 1].thought and thoughts[-1][1] is None:
                thoughts[-1] = (thoughts[-1][0] + (p.text or ""), sig(p))
            else:
                thoughts.append((p.text or "", sig(p)))
        seen = {"text": self._text(parts), "thinking": thoughts,
                "signatures": [sig(p) for p in parts if not p.thought and p.thought_signature]}
        return seen, (contents, parts, config)

    def thinking_again(self, model, raw):
        contents, parts, config = raw
        contents = contents + [gtypes.Content(role="model", parts=parts),
                               gtypes.Content(role="user", parts=[gtypes.Part(text=AGAIN)])]
        return self.text_of(model, False, contents, config)

    def image(self, model, kind):
        img = (gtypes.Part(inline_data=gtypes.Blob(mime_type="image/png",
                                                   data=base64.b64decode(PNG)))
               if kind == "data" else
               gtypes.Part(file_data=gtypes.FileData(file_uri=IMAGE_URL, mime_type="image/png")))
        contents = [gtypes.Content(role="user", parts=[gtypes.Part(text=IMAGE_PROMPT), img])]
        return self.text_of(model, False, contents)

    def parallel(self, model, stream):
        contents = [gtypes.Content(role="user", parts=[gtypes.Part(text=PARALLEL_PROMPT)])]
        parts, last = self._generate(model, contents, stream, self.config)
        assert last.candidates[0].finish_reason.name == "STOP", last
        fcs = [p.function_call for p in parts if p.function_call]
        return [(fc.id, fc.name, dict(fc.args or {})) for fc in fcs], (contents, parts, fcs)

    def parallel_again(self, model, raw):
        contents, parts, fcs = raw
        contents = contents + [gtypes.Content(role="model", parts=parts), gtypes.Content(
            role="user", parts=[gtypes.Part(function_response=gtypes.FunctionResponse(
                id=fc.id, name=fc.name, response={"result": result_for(fc.args)}))
                for fc in fcs])]
        return self.text_of(model, False, contents, self.config)

    def tool_choice(self, model, choice):
        fcc = {"auto": gtypes.FunctionCallingConfig(mode="AUTO"),
               "none": gtypes.FunctionCallingConfig(mode="NONE"),
               "required": gtypes.FunctionCallingConfig(mode="ANY"),
               "named": gtypes.FunctionCallingConfig(mode="ANY",
                                                     allowed_function_names=[TOOL])}[choice]
        config = self.config.model_copy(
            update={"tool_config": gtypes.ToolConfig(function_calling_config=fcc)})
        return self.text_of(model, False, f"MOCK_REPLY[{REPLY}]", config)

    def usage(self, model, stream):
        _, last = self._generate(model, CACHE_PROMPT, stream)
        u = last.usage_metadata
        return {"input": u.prompt_token_count, "cached": u.cached_content_token_count,
                "output": u.candidates_token_count, "reasoning": u.thoughts_token_count}


ADAPTERS = {"openai_chat": Chat, "openai_responses": Responses, "anthropic": Claude,
            "gemini": Gem}


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
def expected_status(client: str, status: int):
    if status == 529:
        # The gateway keeps the upstream's status line (the body is in the client's shape);
        # every SDK treats any 5xx as its server error.
        return 529, {"openai_chat": openai.InternalServerError,
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
    status, cls = expected_status(client, variant)
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
