"""Drive switchyard-mock with the official Python SDKs (openai, anthropic, google-genai).

Run by tests/sdks.rs as `python sdk_check.py 127.0.0.1:PORT`. Every stream goes through the
SDK's own parser and stream helper, which refuse malformed event sequences. Exit 77 = skip
(an SDK is not installed); any other non-zero exit is a failure.
"""

import json
import sys
import urllib.request

try:
    import anthropic
    import openai
    from google import genai
except ImportError as e:  # pragma: no cover - depends on the environment
    print(f"skip: {e}", file=sys.stderr)
    sys.exit(77)

ADDR = sys.argv[1]
BASE = f"http://{ADDR}"
REPLY = "Hello from the mock upstream."


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def check(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")
    print(f"ok  {what}")


def openai_checks():
    c = openai.OpenAI(base_url=f"{BASE}/v1", api_key="sk-openai", max_retries=0)
    r = c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
    check(r.choices[0].message.content, REPLY, "openai chat non-stream")
    text, usage = "", None
    for chunk in c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}],
                                           stream=True, stream_options={"include_usage": True}):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        usage = chunk.usage or usage
    check((text, usage.completion_tokens), (REPLY, 5), "openai chat stream + usage")
    with c.chat.completions.stream(model="gpt-4.1", messages=[{"role": "user", "content": "MOCK_REPLY[Chosen text.]"}]) as s:
        final = s.get_final_completion()
    check((final.choices[0].message.content, final.choices[0].finish_reason), ("Chosen text.", "stop"),
          "openai chat .stream() helper, MOCK_REPLY")

    r = c.responses.create(model="gpt-5.1", input="hi")
    check(r.output_text, REPLY, "openai responses non-stream")
    with c.responses.stream(model="gpt-5.1", input="hi") as s:
        deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
        final = s.get_final_response()
    check(("".join(deltas), final.output_text, final.usage.output_tokens), (REPLY, REPLY, 5),
          "openai responses.stream() helper")

    text = "".join(ch.choices[0].text for ch in c.completions.create(model="gpt-3.5-turbo-instruct", prompt="x", stream=True)
                   if ch.choices)
    check(text, REPLY, "openai legacy completions stream")
    check(bool(c.models.list().data), True, "openai models.list")

    control("POST", "/_mock/schedule", {"account": "sk-bad", "steps": [
        {"status": 429, "retry_after": "1"}, {"inband_error": "overloaded"}, {"inband_error": "overloaded"},
        {"drop_after_events": 4}]})
    bad = openai.OpenAI(base_url=f"{BASE}/v1", api_key="sk-bad", max_retries=0)
    try:
        bad.chat.completions.create(model="m", messages=[])
        raise AssertionError("429 not raised")
    except openai.RateLimitError as e:
        check(e.code, "rate_limit_exceeded", "openai 429 -> RateLimitError")
    try:
        for _ in bad.chat.completions.create(model="m", messages=[], stream=True):
            pass
        raise AssertionError("in-band error not raised")
    except openai.APIError as e:
        check("overloaded" in str(e.message), True, "openai chat in-band error -> APIError")
    with bad.responses.stream(model="m", input="x") as s:
        events = [e for e in s]
    check((events[-1].type, events[-1].response.error.code), ("response.failed", "server_is_overloaded"),
          "openai responses.stream() in-band response.failed")
    try:
        with bad.responses.stream(model="m", input="x") as s:
            for _ in s:
                pass
        raise AssertionError("dropped stream not noticed")
    except openai.APIConnectionError:
        check(True, True, "openai responses drop_after_events -> APIConnectionError")


def anthropic_checks():
    c = anthropic.Anthropic(base_url=BASE, api_key="sk-ant", max_retries=0)
    msgs = [{"role": "user", "content": "hi"}]
    r = c.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=msgs)
    check((r.content[0].text, r.stop_reason), (REPLY, "end_turn"), "anthropic non-stream")
    with c.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=msgs) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    check((text, final.content[0].text, final.stop_reason, final.usage.output_tokens), (REPLY, REPLY, "end_turn", 5),
          "anthropic messages.stream() helper")
    n = c.messages.count_tokens(model="claude-sonnet-4-5", messages=msgs)
    check(n.input_tokens > 0, True, "anthropic count_tokens")

    control("POST", "/_mock/schedule", {"account": "sk-ant-bad", "steps": [{"inband_error": "overloaded"}, {"status": 529}]})
    bad = anthropic.Anthropic(base_url=BASE, api_key="sk-ant-bad", max_retries=0)
    try:
        with bad.messages.stream(model="c", max_tokens=8, messages=msgs) as s:
            s.get_final_message()
        raise AssertionError("event: error not raised")
    except anthropic.APIStatusError as e:
        check(e.body["error"]["type"], "overloaded_error", "anthropic event: error -> APIStatusError")
    try:
        bad.messages.create(model="c", max_tokens=8, messages=msgs)
        raise AssertionError("529 not raised")
    except anthropic.APIStatusError as e:
        check((e.status_code, e.body["error"]["type"]), (529, "overloaded_error"), "anthropic 529")


def gemini_checks():
    for version in ("v1beta", "v1"):
        c = genai.Client(api_key="g-key", http_options={"base_url": BASE, "api_version": version})
        r = c.models.generate_content(model="gemini-2.5-flash", contents="hi")
        check(r.text, REPLY, f"gemini generate_content ({version})")
        chunks = list(c.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
        check(("".join(ch.text or "" for ch in chunks), str(chunks[-1].candidates[0].finish_reason)),
              (REPLY, "FinishReason.STOP"), f"gemini generate_content_stream ({version})")
        n = c.models.count_tokens(model="gemini-2.5-flash", contents="hi")
        check(n.total_tokens > 0, True, f"gemini count_tokens ({version})")


TOOL_ARGS = {"command": "echo switchyard-$((6*7))", "description": "print"}
TOOL_PROMPT = "Run it. MOCK_TOOL[Bash|" + json.dumps(TOOL_ARGS) + "]"
ECHO = "tool result was: switchyard-42"


def tool_checks():
    """MOCK_TOOL: every protocol's tool call through the SDK stream helpers, then the result."""
    c = openai.OpenAI(base_url=f"{BASE}/v1", api_key="sk-tools", max_retries=0)
    msgs = [{"role": "user", "content": TOOL_PROMPT}]
    with c.chat.completions.stream(model="gpt-4.1", messages=msgs) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    check((final.choices[0].finish_reason, call.function.name, json.loads(call.function.arguments)),
          ("tool_calls", "Bash", TOOL_ARGS), "openai chat .stream() tool call")
    msgs += [final.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "switchyard-42"}]
    r = c.chat.completions.create(model="gpt-4.1", messages=msgs)
    check(r.choices[0].message.content, ECHO, "openai chat tool result -> text")

    with c.responses.stream(model="gpt-5.1", input=TOOL_PROMPT) as s:
        final = s.get_final_response()
    item = final.output[0]
    check((item.type, item.name, json.loads(item.arguments)), ("function_call", "Bash", TOOL_ARGS),
          "openai responses.stream() function_call")
    r = c.responses.create(model="gpt-5.1", input=[
        {"role": "user", "content": TOOL_PROMPT},
        {"type": "function_call", "call_id": item.call_id, "name": item.name, "arguments": item.arguments},
        {"type": "function_call_output", "call_id": item.call_id, "output": "switchyard-42"}])
    check(r.output_text, ECHO, "openai responses function_call_output -> text")

    a = anthropic.Anthropic(base_url=BASE, api_key="sk-tools", max_retries=0)
    msgs = [{"role": "user", "content": TOOL_PROMPT}]
    with a.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=msgs) as s:
        final = s.get_final_message()
    block = final.content[0]
    check((final.stop_reason, block.type, block.name, block.input), ("tool_use", "tool_use", "Bash", TOOL_ARGS),
          "anthropic messages.stream() tool_use")
    msgs += [{"role": "assistant", "content": [block.model_dump()]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "switchyard-42"}]}]
    with a.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=msgs) as s:
        text = "".join(s.text_stream)
    check(text, ECHO, "anthropic tool_result -> text")

    g = genai.Client(api_key="sk-tools", http_options={"base_url": BASE, "api_version": "v1beta"})
    chunks = list(g.models.generate_content_stream(model="gemini-2.5-flash", contents=TOOL_PROMPT))
    calls = [fc for ch in chunks for fc in (ch.function_calls or [])]
    check([(fc.name, fc.args) for fc in calls], [("Bash", TOOL_ARGS)], "gemini stream functionCall")
    contents = [
        {"role": "user", "parts": [{"text": TOOL_PROMPT}]},
        {"role": "model", "parts": [{"function_call": {"name": "Bash", "args": TOOL_ARGS}}]},
        {"role": "user", "parts": [{"function_response": {"name": "Bash", "response": {"output": "switchyard-42"}}}]},
    ]
    r = g.models.generate_content(model="gemini-2.5-flash", contents=contents)
    check(r.text, ECHO, "gemini functionResponse -> text")
    flags = [e["has_tool_result"] for e in control("GET", "/_mock/journal?account=sk-tools")]
    check(flags, [False, True] * 4, "journal has_tool_result")


def main():
    openai_checks()
    anthropic_checks()
    gemini_checks()
    tool_checks()
    journal = control("GET", "/_mock/journal")
    paths = {e["path"] for e in journal}
    check("/v1beta/models/gemini-2.5-flash:streamGenerateContent" in paths, True, "gemini used the SSE stream path")
    sse = [e for e in journal if e["path"].endswith(":streamGenerateContent")]
    check(all(e["query"] == "alt=sse" for e in sse), True, "google-genai asks for alt=sse")
    check(control("GET", "/_mock/count?account=g-key")["count"], 6, "gemini requests counted")


if __name__ == "__main__":
    main()
