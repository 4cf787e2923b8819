"""Auth files take effect without a restart: a Codex file added while the gateway runs serves
the next request, `disabled: true` takes an account out, and a file deleted while a stream on
it is in flight leaves that stream intact while later requests go elsewhere. A file that does
not parse is logged once and skipped. Account health (a cooldown) survives the reload. Every
wait polls `/v1/models` with a deadline (the second account has `prefix: team`, so
`team/<model>` is listed exactly while it is loaded)."""

from __future__ import annotations

import http.client
import json

from conftest import CLIENT_KEY, post_json, wait_until
from test_oauth_catalog import model_ids, oauth_config, responses, write_codex_file

TEAM = "team/gpt-5-codex"


def wait_listed(gw, listed: bool, what: str) -> None:
    wait_until(lambda: (TEAM in model_ids(gw)) == listed, 20, what, gw.proc, interval=0.1)


def served_by(gw, mock, model: str) -> str:
    r = responses(gw, model)
    assert r.status == 200, r.body
    return mock.journal()[-1]["account"]


def test_added_file_serves_and_disabled_file_stops(tmp_path, mock_upstream, gateway):
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex-a.json", "tok-a")
    gw = gateway(oauth_config(auth, mock_upstream.url))
    assert TEAM not in model_ids(gw)
    assert served_by(gw, mock_upstream, "gpt-5-codex") == "tok-a"

    # A new file, and a broken one next to it: the new account is loaded, the broken file is
    # skipped with one log line that shows no token.
    (auth / "broken.json").write_text('{"type": "codex", "access_token": "tok-broken"')
    write_codex_file(auth, "codex-b.json", "tok-b", prefix="team")
    wait_listed(gw, True, "the added auth file's models")
    assert served_by(gw, mock_upstream, TEAM) == "tok-b"
    assert mock_upstream.journal(account="tok-b")[0]["path"] == "/v1/responses"

    # disabled: true takes it out; the other account keeps serving.
    write_codex_file(auth, "codex-b.json", "tok-b", prefix="team", disabled=True)
    wait_listed(gw, False, "the disabled account to leave the list")
    r = responses(gw, TEAM)
    assert r.status == 400 and r.json()["error"]["code"] == "model_not_found", r.body
    assert [served_by(gw, mock_upstream, "gpt-5-codex") for _ in range(3)] == ["tok-a"] * 3
    assert len(mock_upstream.journal(account="tok-b")) == 1

    log = gw.wait_log("auth file broken.json skipped")
    assert log.count("auth file broken.json skipped") == 1, log
    for token in ("tok-a", "tok-b", "tok-broken"):
        assert token not in log


def stream_events(resp: http.client.HTTPResponse):
    """Yields (event, data) from an SSE response as they arrive."""
    event = None
    while True:
        line = resp.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            yield event, json.loads(line[5:])


def test_deleted_file_finishes_its_stream_and_later_requests_go_elsewhere(
        tmp_path, mock_upstream, gateway):
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex-a.json", "tok-a")
    b = write_codex_file(auth, "codex-b.json", "tok-b", prefix="team", priority=10)
    gw = gateway(oauth_config(auth, mock_upstream.url))
    assert TEAM in model_ids(gw)
    # B (higher priority) takes the stream; the mock plays five events (through the first text
    # delta) and then holds the rest until released.
    mock_upstream.schedule("tok-b", [{"hold_after_events": 5}])

    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    body = json.dumps({"model": "gpt-5-codex", "stream": True,
                       "input": "MOCK_REPLY[one two three four five]"})
    conn.request("POST", "/v1/responses", body, {"Authorization": f"Bearer {CLIENT_KEY}",
                                                 "Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    events = stream_events(resp)
    seen = []
    for event, data in events:
        seen.append((event, data))
        if event == "response.output_text.delta":
            break
    [entry] = mock_upstream.journal()
    assert (entry["account"], entry["outcome"]) == ("tok-b", "hold")

    # Delete B while its stream is held open; wait until the gateway has reloaded.
    b.unlink()
    wait_listed(gw, False, "the deleted account to leave the list")
    post_json(f"{mock_upstream.url}/_mock/release", {})
    seen += list(events)
    conn.close()
    text = "".join(d["delta"] for e, d in seen if e == "response.output_text.delta")
    assert text.split() == ["one", "two", "three", "four", "five"], seen
    assert seen[-1][0] == "response.completed", seen[-1]

    assert served_by(gw, mock_upstream, "gpt-5-codex") == "tok-a"
    assert [e["account"] for e in mock_upstream.journal()] == ["tok-b", "tok-a"]


def test_account_health_survives_a_reload(tmp_path, mock_upstream, gateway):
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex-a.json", "tok-a", priority=5)
    gw = gateway(oauth_config(auth, mock_upstream.url))
    mock_upstream.schedule("tok-a", [{"status": 429, "retry_after": "600"}])
    assert responses(gw, "gpt-5-codex").status == 429
    # A new file rebuilds the snapshot; A (first by priority) is still cooling, so the next
    # request goes straight to B without touching A.
    write_codex_file(auth, "codex-b.json", "tok-b", prefix="team")
    wait_listed(gw, True, "the added auth file's models")
    assert served_by(gw, mock_upstream, "gpt-5-codex") == "tok-b"
    assert [e["account"] for e in mock_upstream.journal()] == ["tok-a", "tok-b"]
