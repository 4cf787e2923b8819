"""Usage statistics (``usage-statistics-enabled``): CLIProxyAPI's ``/usage`` shape, per client
key id, with the tokens the upstream reported (streams included), saved at shutdown and loaded
at start so a restart loses nothing. Served at ``GET /usage`` on the metrics listener until the
management API serves it on the main port.
"""

from __future__ import annotations

import json

from conftest import CLIENT_KEY, MODEL_CLAUDE, MODEL_OAI, free_port, get_json, http_request, standard_config

AUTH = {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}


def _config(mock_url: str, usage_file, metrics_port: int, gw_port: int) -> str:
    return standard_config(mock_url, port=gw_port, shutdown_grace=1, extra=(
        "usage-statistics-enabled: true\n"
        f"usage-statistics-file: {json.dumps(str(usage_file))}\n"
        f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"))


def _send(gw) -> tuple[int, int, int]:
    """Three successful requests (one streamed, one translated) and one failure; returns
    (requests, input tokens, output tokens) as the answers reported them."""
    inp = out = 0
    body = {"model": MODEL_OAI, "messages": [{"role": "user", "content": "hi"}]}
    r = http_request("POST", f"{gw.url}/v1/chat/completions", json.dumps(body).encode(), AUTH)
    u = r.json()["usage"]
    inp, out = inp + u["prompt_tokens"], out + u["completion_tokens"]
    stream = dict(body, stream=True, stream_options={"include_usage": True})
    r = http_request("POST", f"{gw.url}/v1/chat/completions", json.dumps(stream).encode(), AUTH)
    for line in r.body.decode().splitlines():
        if line.startswith("data: {") and '"usage":{' in line.replace(" ", ""):
            u = json.loads(line[6:])["usage"]
            inp, out = inp + u["prompt_tokens"], out + u["completion_tokens"]
    msg = {"model": MODEL_CLAUDE, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    r = http_request("POST", f"{gw.url}/v1/messages", json.dumps(msg).encode(),
                     {**AUTH, "anthropic-version": "2023-06-01"})
    u = r.json()["usage"]
    inp, out = inp + u["input_tokens"], out + u["output_tokens"]
    r = http_request("POST", f"{gw.url}/v1/chat/completions",
                     json.dumps(dict(body, model="no-such-model")).encode(), AUTH)
    assert r.status == 400
    return 4, inp, out


def test_usage_is_counted_per_key_and_survives_a_restart(gateway, mock_upstream, tmp_path):
    usage_file = tmp_path / "usage.json"
    metrics_port, gw_port = free_port(), free_port()
    config = _config(mock_upstream.url, usage_file, metrics_port, gw_port)
    gw = gateway(config)
    n, inp, out = _send(gw)
    assert inp > 0 and out > 0
    before = get_json(f"http://127.0.0.1:{metrics_port}/usage")
    u = before["usage"]
    assert (u["total_requests"], u["success_count"], u["failure_count"]) == (n, 3, 1), u
    assert before["failed_requests"] == 1
    assert u["total_tokens"] == inp + out, u
    (key_id, api), = u["apis"].items()
    assert key_id.startswith("sha256:") and CLIENT_KEY not in json.dumps(before)
    details = api["models"][MODEL_OAI]["details"]
    assert {d["source"] for d in details} == {"openai-compatibility[0].api-key-entries[0]"}, details
    assert sum(u["requests_by_day"].values()) == n

    assert gw.proc.stop(grace=10) == 0
    assert usage_file.exists()
    gw2 = gateway(config)
    after = get_json(f"http://127.0.0.1:{metrics_port}/usage")
    assert after == before, "a restart loses nothing"
    _send(gw2)
    again = get_json(f"http://127.0.0.1:{metrics_port}/usage")["usage"]
    assert again["total_requests"] == 2 * n and again["total_tokens"] == 2 * (inp + out)


def test_usage_is_off_by_default(gateway, mock_upstream):
    metrics_port = free_port()
    gw = gateway(standard_config(mock_upstream.url,
                                 extra=f"metrics: {{listen: \"127.0.0.1:{metrics_port}\"}}\n"))
    r = http_request("GET", f"http://127.0.0.1:{metrics_port}/usage")
    assert r.status == 404 and b"usage-statistics-enabled" in r.body
    assert gw.proc.popen.poll() is None
