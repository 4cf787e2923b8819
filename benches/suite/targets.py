"""What the benchmark sends and to whom: request bodies, nginx (fixed answers upstream, and a
proxy as the floor), and the Switchyard gateway configs (normal and commercial mode).

A *case* is a client protocol and stream or not:
  passthrough = OpenAI chat client -> gateway -> OpenAI chat upstream (bytes passed on);
  translated  = Anthropic Messages client -> gateway -> OpenAI chat upstream (Messages <-> Chat).
nginx cannot look at a body, so the stream answer is chosen by URL prefix (`/s/...` serves SSE)
and every gateway has a second account whose base URL carries that prefix (model `<name>-s`).
A *target* maps a case to (port, path, body, headers), or None when it cannot serve the case.
"""

import json

KEY = "sk-bench"
MODEL = "gpt-4o-mini"
CASES = [("passthrough", False), ("passthrough", True), ("translated", False), ("translated", True)]


def case_name(case):
    kind, stream = case
    return f"{kind} {'stream' if stream else 'non-stream'}"


def headers():
    # Both auth styles: every target takes the one it knows.
    return {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}",
            "x-api-key": KEY, "anthropic-version": "2023-06-01"}


FILLER = "You are a helpful assistant that answers briefly and precisely. " * 16


def chat_body(model, stream, user="Say hello."):
    b = {"model": model, "messages": [{"role": "system", "content": FILLER},
                                      {"role": "user", "content": user}]}
    if stream:
        b["stream"] = True
    return json.dumps(b, separators=(",", ":")).encode()


def messages_body(model, stream, user="Say hello."):
    b = {"model": model, "max_tokens": 256, "system": FILLER,
         "messages": [{"role": "user", "content": user}]}
    if stream:
        b["stream"] = True
    return json.dumps(b, separators=(",", ":")).encode()


def body_for(case, model, user="Say hello."):
    kind, stream = case
    return (chat_body if kind == "passthrough" else messages_body)(model, stream, user)


def client_path(case):
    return "/v1/chat/completions" if case[0] == "passthrough" else "/v1/messages"


def looks_ok(case, body):
    """The answer has the client protocol's shape (a cheap check before every measurement)."""
    kind, stream = case
    if stream:
        return (b"data: [DONE]" in body) if kind == "passthrough" else (b"message_stop" in body)
    return (b'"chat.completion"' in body) if kind == "passthrough" else (b'"type":"message"' in body.replace(b" ", b""))


# ---------------------------------------------------------------- fixed answers


def _j(o):
    return json.dumps(o, separators=(",", ":"))


_USAGE = {"prompt_tokens": 14, "completion_tokens": 5, "total_tokens": 19}
WORDS = ["Hello", " from", " the", " fixed", " upstream."]
OPENAI_JSON = _j({"id": "chatcmpl-fixed", "object": "chat.completion", "created": 1700000000,
                  "model": MODEL, "choices": [{"index": 0, "message": {
                      "role": "assistant", "content": "".join(WORDS)}, "finish_reason": "stop"}],
                  "usage": _USAGE})


def _chunk(delta, finish=None, usage=None):
    c = {"id": "chatcmpl-fixed", "object": "chat.completion.chunk", "created": 1700000000,
         "model": MODEL, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        c["usage"] = usage
    return "data: " + _j(c) + "\n\n"


OPENAI_SSE = (_chunk({"role": "assistant", "content": ""})
              + "".join(_chunk({"content": w}) for w in WORDS)
              + _chunk({}, "stop", _USAGE) + "data: [DONE]\n\n")
_AUSAGE = {"input_tokens": 18, "output_tokens": 5}
ANTHROPIC_JSON = _j({"id": "msg_fixed", "type": "message", "role": "assistant", "model": MODEL,
                     "content": [{"type": "text", "text": "".join(WORDS)}],
                     "stop_reason": "end_turn", "stop_sequence": None, "usage": _AUSAGE})


def _ev(name, data):
    return f"event: {name}\ndata: {_j(data)}\n\n"


ANTHROPIC_SSE = (
    _ev("message_start", {"type": "message_start", "message": {
        "id": "msg_fixed", "type": "message", "role": "assistant", "model": MODEL, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 18, "output_tokens": 1}}})
    + _ev("content_block_start", {"type": "content_block_start", "index": 0,
                                  "content_block": {"type": "text", "text": ""}})
    + "".join(_ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": w}}) for w in WORDS)
    + _ev("content_block_stop", {"type": "content_block_stop", "index": 0})
    + _ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                               "stop_sequence": None},
                            "usage": {"output_tokens": 5}})
    + _ev("message_stop", {"type": "message_stop"}))


# ---------------------------------------------------------------- nginx


def _q(s):
    assert "$" not in s, "nginx would expand $ in a return string"
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _nginx_head(d, name):
    return f"""worker_processes 1;
daemon off;
pid {d}/{name}.pid;
error_log {d}/{name}-error.log warn;
events {{ worker_connections 30000; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path {d}/{name}-body;
  proxy_temp_path {d}/{name}-proxy;
  fastcgi_temp_path {d}/{name}-fcgi;
  uwsgi_temp_path {d}/{name}-uwsgi;
  scgi_temp_path {d}/{name}-scgi;
"""


def nginx_upstream_conf(d, port):
    """Fixed answers: OpenAI chat and Anthropic Messages, JSON and (under /s/) SSE."""
    loc = []
    for path, ctype, body in (
            ("/v1/chat/completions", "application/json", OPENAI_JSON),
            ("/s/v1/chat/completions", "text/event-stream", OPENAI_SSE),
            ("/v1/messages", "application/json", ANTHROPIC_JSON),
            ("/s/v1/messages", "text/event-stream", ANTHROPIC_SSE)):
        loc.append(f"    location = {path} {{ default_type {ctype}; return 200 {_q(body)}; }}")
    return (_nginx_head(d, "nginx-upstream")
            + f"  server {{\n    listen 127.0.0.1:{port} backlog=4096;\n" + "\n".join(loc)
            + "\n  }\n}\n")


def nginx_proxy_conf(d, port, up_port, mock_port_ttfb, port_ttfb):
    """nginx as a plain reverse proxy (the floor): keep-alive upstream pool, no buffering."""
    proxy = ("proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off;")
    return (_nginx_head(d, "nginx-proxy")
            + f"  upstream up {{ server 127.0.0.1:{up_port}; keepalive 128; }}\n"
            + f"  upstream mock {{ server 127.0.0.1:{mock_port_ttfb}; keepalive 16; }}\n"
            + f"  server {{ listen 127.0.0.1:{port} backlog=4096; location / {{ proxy_pass http://up; {proxy} }} }}\n"
            + f"  server {{ listen 127.0.0.1:{port_ttfb}; location / {{ proxy_pass http://mock; {proxy} }} }}\n"
            + "}\n")


# ---------------------------------------------------------------- Switchyard


def gateway_yaml(port, up_port, mocks, commercial, auth_dir=None):
    """One config serves every scenario: the nginx upstream (model gpt-4o-mini and, stream,
    gpt-4o-mini-s), the streaming mock (ttfb), the holding mock (hold) and a failover pair
    whose first key is answered 429 by the mock (fo-429; fo-ok is the same without it)."""
    def acct(name, base, keys, models):
        return [f"  - name: {name}", f"    base-url: {base}",
                "    api-key-entries: [" + ", ".join(f"{{api-key: {k}}}" for k in keys) + "]",
                "    models: [" + ", ".join(models) + "]"]
    up = f"http://127.0.0.1:{up_port}"
    lines = ["host: 127.0.0.1", f"port: {port}", "workers: 1", "shutdown-grace-seconds: 0",
             f"api-keys: [{KEY}]", "disable-cooling: true", "routing: {strategy: fill-first}"]
    if commercial:
        lines.append("commercial-mode: true")
    if auth_dir:
        lines += [f"auth-dir: {auth_dir}", "oauth-overrides:", "  codex:", f"    base-url: {up}/v1"]
    lines.append("openai-compatibility:")
    lines += acct("nginx", f"{up}/v1", ["x"], [f"{{name: {MODEL}}}"])
    lines += acct("nginx-s", f"{up}/s/v1", ["x"], [f"{{name: {MODEL}, alias: {MODEL}-s}}"])
    m = mocks
    lines += acct("mock-ttfb", f"http://127.0.0.1:{m['ttfb'].port}/v1", ["x"], ["{name: m, alias: ttfb}"])
    lines += acct("mock-hold", f"http://127.0.0.1:{m['hold'].port}/v1", ["x"], ["{name: m, alias: hold}"])
    lines += acct("fo-a", f"http://127.0.0.1:{m['fail'].port}/v1", ["ok-1"], ["{name: m, alias: fo-ok}"])
    lines += acct("fo-b", f"http://127.0.0.1:{m['fail'].port}/v1", ["fail-429", "ok-2"],
                  ["{name: m, alias: fo-429}"])
    return "\n".join(lines) + "\n"


def gateway_route(port):
    def route(case):
        model = MODEL + ("-s" if case[1] else "")
        return port, client_path(case), body_for(case, model), headers()
    return route


def nginx_route(port):
    """Direct to the fixed-answer nginx, or through the nginx proxy: same paths."""
    def route(case):
        kind, stream = case
        path = ("/s" if stream else "") + client_path(case)
        return port, path, body_for(case, MODEL), headers()
    return route


def write_codex_auth_files(d, n):
    """n Codex OAuth accounts in CLIProxyAPI's auth-file format (tokens valid for decades, so
    nothing is refreshed), 0600 files in a 0700 directory."""
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i in range(n):
        p = d / f"codex-bench{i:05d}@example.com-plus.json"
        p.write_text(json.dumps({"type": "codex", "access_token": f"tok-{i:05d}",
                                 "refresh_token": f"rt-{i:05d}", "account_id": f"acct-{i:05d}",
                                 "email": f"bench{i:05d}@example.com",
                                 "expired": "2099-01-01T00:00:00Z"}))
        p.chmod(0o600)


def gateway_route_model(port):
    """The gateway with an explicit model (ttfb, hold, fo-ok, fo-429)."""
    def route(case, model):
        return port, client_path(case), body_for(case, model), headers()
    return route
