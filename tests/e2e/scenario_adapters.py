"""The SDK adapters and the mock's values behind ``test_scenarios_rich.py`` (not a test module).

Each adapter extends the base adapter of ``scenario_clients.py`` for one client API with one
method per scenario (see ``SCENARIO_METHODS`` in the test module) and turns what the official
SDK parsed into plain values the tests compare exactly.
"""

from __future__ import annotations

import base64
import json

from google.genai import types as gtypes

from scenario_clients import Anthropic, Gemini, OpenAIChat, OpenAIResponses

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
