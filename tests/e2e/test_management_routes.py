"""The management routes added after the first wave, against the real gateway and the mock:
`oauth-excluded-models` and `oauth-model-alias` (edit the file, take effect, refuse bad input
with nothing changed), `auth-files/models`, multipart auth-file uploads, `logs` (incremental
with `after`, DELETE), `request-error-logs`, `request-log-by-id`, `api-call` (an account's
credential in `$TOKEN$`), and the in-flight count of `/accounts`."""

from __future__ import annotations

import http.client
import json
import time

from conftest import (ACCT_CLAUDE, CLIENT_KEY, MODEL_CLAUDE, Account, gateway_config,
                      http_request, post_json, wait_until)
from test_management import HEADER, MGMT, message, mgmt, start
from test_oauth_catalog import model_ids, oauth_config, write_codex_file


def oauth_gateway(gateway, tmp_path, mock, extra: str = ""):
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex-a.json", "tok-a")
    gw = gateway(HEADER + oauth_config(auth, mock.url, extra=MGMT + extra))
    return gw, auth


def test_oauth_excluded_models_and_aliases(tmp_path, mock_upstream, gateway):
    gw, _ = oauth_gateway(gateway, tmp_path, mock_upstream)
    assert "gpt-5-codex" in model_ids(gw)
    assert mgmt(gw, "GET", "/oauth-excluded-models") == (200, {"oauth-excluded-models": {}})

    # PUT the map (channel names normalised); the model leaves the list at once.
    assert mgmt(gw, "PUT", "/oauth-excluded-models", {" Codex ": ["gpt-5-codex"]}) == (
        200, {"status": "ok"})
    assert mgmt(gw, "GET", "/oauth-excluded-models") == (
        200, {"oauth-excluded-models": {"codex": ["gpt-5-codex"]}})
    text = gw.config_path.read_text()
    assert text.startswith(HEADER) and "oauth-excluded-models:\n  codex:\n" in text, text
    assert "gpt-5-codex" not in model_ids(gw)

    # Bad input: 400 naming the problem, the file untouched.
    before = gw.config_path.read_text()
    for body, needle in (({"codex": "gpt-5"}, "expected an array"),
                         ({"codex": [1]}, "codex[0]"),
                         ({"no-such-channel": ["x"]}, "unknown OAuth channel"),
                         ([1], "invalid body")):
        status, reply = mgmt(gw, "PUT", "/oauth-excluded-models", body)
        assert status == 400 and needle in reply["error"], (body, reply)
    status, reply = mgmt(gw, "PATCH", "/oauth-excluded-models",
                         {"provider": "codex", "models": ["a"], "extra": 1})
    assert status == 400 and "unknown field" in reply["error"], reply
    assert mgmt(gw, "DELETE", "/oauth-excluded-models?provider=qwen") == (
        404, {"error": "provider not found"})
    assert gw.config_path.read_text() == before

    # PATCH one channel; an empty list removes it; DELETE removes it too.
    assert mgmt(gw, "PATCH", "/oauth-excluded-models",
                {"provider": "codex", "models": ["gpt-5"]})[0] == 200
    ids = model_ids(gw)
    assert "gpt-5-codex" in ids and "gpt-5" not in ids, ids
    assert mgmt(gw, "PATCH", "/oauth-excluded-models", {"provider": "codex", "models": []})[0] == 200
    assert "oauth-excluded-models" not in gw.config_path.read_text()

    # Aliases: the alias serves, a duplicate is refused, DELETE by channel.
    assert mgmt(gw, "PATCH", "/oauth-model-alias", {
        "channel": "codex", "aliases": [{"name": "gpt-5-codex", "alias": "coder"}]}) == (
        200, {"status": "ok"})
    assert mgmt(gw, "GET", "/oauth-model-alias") == (
        200, {"oauth-model-alias": {"codex": [{"name": "gpt-5-codex", "alias": "coder"}]}})
    assert "coder" in model_ids(gw)
    before = gw.config_path.read_text()
    status, reply = mgmt(gw, "PUT", "/oauth-model-alias", {"items": {"codex": [
        {"name": "gpt-5-codex", "alias": "x"}, {"name": "gpt-5", "alias": "X"}]}})
    assert status == 400 and "already the alias" in reply["error"], reply
    status, reply = mgmt(gw, "PUT", "/oauth-model-alias", {"codex": [{"name": "gpt-5"}]})
    assert status == 400 and "codex[0]" in reply["error"], reply
    assert gw.config_path.read_text() == before
    assert mgmt(gw, "DELETE", "/oauth-model-alias?channel=codex") == (200, {"status": "ok"})
    assert "coder" not in model_ids(gw)
    assert mgmt(gw, "DELETE", "/oauth-model-alias?channel=codex") == (
        404, {"error": "channel not found"})


def multipart(files: list[tuple[str, bytes]], boundary: str = "sy-test-boundary") -> tuple[bytes, str]:
    out = b""
    for name, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/json\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def upload(gw, files):
    body, ctype = multipart(files)
    r = http_request("POST", f"{gw.url}/v0/management/auth-files", body,
                     {"authorization": f"Bearer {SECRET_KEY}", "content-type": ctype})
    return r.status, r.json()


SECRET_KEY = "mgmt-secret-1"


def test_multipart_upload_and_auth_file_models(tmp_path, mock_upstream, gateway):
    gw, auth = oauth_gateway(gateway, tmp_path, mock_upstream)
    good = json.dumps({"type": "codex", "access_token": "tok-up", "expired": "2099-01-01T00:00:00Z",
                       "prefix": "up"}).encode()
    # One bad file refuses the whole form: nothing is written.
    for files, needle in (([("b.json", good), ("../evil.json", good)], "invalid name"),
                          ([("b.json", good), ("c.json", b'{"type": "nope"}')], "unknown type"),
                          ([("b.json", good), (".hidden.json", good)], "invalid name")):
        status, reply = upload(gw, files)
        assert status == 400 and needle in reply["error"], reply
        assert sorted(p.name for p in auth.iterdir()) == ["codex-a.json"]
    assert not (tmp_path / "evil.json").exists()
    r = http_request("POST", f"{gw.url}/v0/management/auth-files", b"--x\r\nbroken",
                     {"authorization": f"Bearer {SECRET_KEY}",
                      "content-type": "multipart/form-data; boundary=x"})
    assert r.status == 400 and "invalid multipart form" in r.json()["error"], r.body

    assert upload(gw, [("b.json", good)]) == (200, {"status": "ok"})
    assert (auth / "b.json").stat().st_mode & 0o777 == 0o600
    wait_until(lambda: "up/gpt-5-codex" in model_ids(gw), 5, "the uploaded account", gw.proc)
    status, reply = upload(gw, [("c.json", good), ("d.json", good)])
    assert (status, reply) == (200, {"status": "ok", "uploaded": 2, "files": ["c.json", "d.json"]})

    status, body = mgmt(gw, "GET", "/auth-files/models?name=b.json")
    assert status == 200
    ids = [m["id"] for m in body["models"]]
    assert "up/gpt-5-codex" in ids and all(m["type"] for m in body["models"]), body
    assert mgmt(gw, "GET", "/auth-files/models?name=nope.json") == (200, {"models": []})
    assert mgmt(gw, "GET", "/auth-files/models")[0] == 400


def test_logs_incremental_and_cleared_and_never_the_management_calls(mock_upstream, gateway):
    gw = start(gateway, mock_upstream, extra=MGMT + "logging-to-file: true\n")
    assert message(gw).status == 200
    logs = gw.config_path.parent / "logs"
    wait_until(lambda: "/v1/messages" in (logs / "main.log").read_text(), 10, "main.log", gw.proc)
    status, body = mgmt(gw, "GET", "/logs")
    assert status == 200, body
    assert body["line-count"] == len(body["lines"]) > 0
    assert any("/v1/messages" in line for line in body["lines"]), body["lines"]
    latest = body["latest-timestamp"]
    assert abs(latest - time.time()) < 60, latest
    # Only lines of later seconds.
    time.sleep(1.1)  # log stamps have one-second resolution in `after`
    assert message(gw).status == 200
    wait_until(lambda: (logs / "main.log").read_text().count("/v1/messages") >= 2, 10,
               "the second access line", gw.proc)
    status, later = mgmt(gw, "GET", f"/logs?after={latest}")
    assert status == 200
    assert sum("/v1/messages" in line for line in later["lines"]) == 1, later
    assert later["latest-timestamp"] > latest
    assert len(mgmt(gw, "GET", "/logs?limit=1")[1]["lines"]) == 1
    assert mgmt(gw, "GET", "/logs?after=yesterday")[0] == 400
    assert all("/v0/management" not in l for l in mgmt(gw, "GET", "/logs")[1]["lines"])

    (logs / "main-20200101T000000Z.log").write_text("2020-01-01T00:00:00Z  INFO old\n")
    status, cleared = mgmt(gw, "DELETE", "/logs")
    assert (status, cleared) == (200, {"success": True, "message": "Logs cleared successfully",
                                       "removed": 1})
    assert not (logs / "main-20200101T000000Z.log").exists()
    assert "old" not in "".join(mgmt(gw, "GET", "/logs")[1]["lines"])


def test_logs_need_logging_to_file(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    assert mgmt(gw, "GET", "/logs") == (400, {"error": "logging to file disabled"})
    assert mgmt(gw, "DELETE", "/logs") == (400, {"error": "logging to file disabled"})


def claude_call(gw, request_id: str):
    body = json.dumps({"model": MODEL_CLAUDE, "max_tokens": 16,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http_request("POST", f"{gw.url}/v1/messages", body,
                        {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
                         "content-type": "application/json", "x-request-id": request_id})


def test_request_error_logs_and_request_log_by_id(mock_upstream, gateway):
    gw = start(gateway, mock_upstream, extra=MGMT + "disable-cooling: true\n")
    assert mgmt(gw, "GET", "/request-error-logs") == (200, {"files": []})
    mock_upstream.schedule(ACCT_CLAUDE, [{"status": 500}], then={"status": 500})
    assert claude_call(gw, "req-broken-1").status >= 500
    logs = gw.config_path.parent / "logs"

    def listed():
        files = mgmt(gw, "GET", "/request-error-logs")[1]["files"]
        return files if files else None

    files = wait_until(listed, 10, "the error log", gw.proc)
    [f] = files
    assert f["name"].startswith("error-") and f["name"].endswith("-req-broken-1.log"), f
    assert f["size"] > 0 and abs(f["modified"] - time.time()) < 60, f
    status, text = mgmt(gw, "GET", f"/request-error-logs/{f['name']}")
    assert status == 200 and "req-broken-1" in text, text
    assert mgmt(gw, "GET", "/request-error-logs/main.log") == (404, {"error": "log file not found"})
    assert mgmt(gw, "GET", "/request-error-logs/..%2Fx.log")[0] == 404
    status, by_id = mgmt(gw, "GET", "/request-log-by-id/req-broken-1")
    assert status == 200 and by_id == text
    assert mgmt(gw, "GET", "/request-log-by-id/nope") == (
        404, {"error": "log file not found for the given request ID"})
    # With request-log on, every request has a log and the error list is empty.
    assert mgmt(gw, "PUT", "/request-log", {"value": True}) == (200, {"status": "ok"})
    assert mgmt(gw, "GET", "/request-error-logs") == (200, {"files": []})
    mock_upstream.reset()
    assert claude_call(gw, "req-fine-2").status == 200
    status, text = wait_until(
        lambda: (r := mgmt(gw, "GET", "/request-log-by-id/req-fine-2"))[0] == 200 and r, 10,
        "the request log", gw.proc)
    assert "/v1/messages" in text, text
    assert (logs / "requests").is_dir()
    # Management calls are never logged.
    assert not [p for p in (logs / "requests").iterdir() if "management" in p.read_text()]


def test_api_call_with_an_accounts_credential(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)
    data = json.dumps({"model": MODEL_CLAUDE, "max_tokens": 8,
                       "messages": [{"role": "user", "content": "MOCK_REPLY[quota ok]"}]})
    status, body = mgmt(gw, "POST", "/api-call", {
        "auth_index": "0", "method": "post", "url": f"{mock_upstream.url}/v1/messages",
        "header": {"x-api-key": "$TOKEN$", "anthropic-version": "2023-06-01",
                   "content-type": "application/json"},
        "data": data})
    assert status == 200, body
    assert body["status_code"] == 200 and "quota ok" in body["body"], body
    assert body["header"]["Content-Type"][0].startswith("application/json"), body["header"]
    [entry] = mock_upstream.journal()
    assert entry["account"] == ACCT_CLAUDE and entry["headers"]["x-api-key"] == ACCT_CLAUDE
    # By account id too; the upstream's error status is passed back, not turned into ours.
    mock_upstream.schedule(ACCT_CLAUDE, [{"status": 429}])
    status, body = mgmt(gw, "POST", "/api-call", {
        "auth_index": "claude-api-key[0]", "method": "POST",
        "url": f"{mock_upstream.url}/v1/messages",
        "header": {"x-api-key": "$TOKEN$", "content-type": "application/json"}, "data": data})
    assert (status, body["status_code"]) == (200, 429), body

    for bad, needle in (({"method": "GET", "url": "ftp://x"}, "http(s) URL"),
                        ({"method": "GET", "url": mock_upstream.url,
                          "header": {"authorization": "Bearer $TOKEN$"}}, "needs an auth_index"),
                        ({"method": "GET", "url": mock_upstream.url, "auth_index": 9}, "no such account"),
                        ({"method": "GET", "url": mock_upstream.url, "nope": 1}, "unknown field"),
                        ({"method": "GET", "url": mock_upstream.url, "proxy_url": "bogus"}, "proxy_url")):
        status, body = mgmt(gw, "POST", "/api-call", bad)
        assert status in (400, 404) and needle in body["error"], (bad, body)
    status, body = mgmt(gw, "POST", "/api-call", {"method": "GET", "url": "http://127.0.0.1:9/"})
    assert status == 502 and "connect" in body["error"], body
    assert len(mock_upstream.journal()) == 2


def test_accounts_count_requests_in_flight(mock_upstream, gateway):
    gw = start(gateway, mock_upstream)

    def in_flight() -> int:
        [a] = mgmt(gw, "GET", "/accounts")[1]["accounts"]
        return a["in_flight"]

    assert in_flight() == 0
    mock_upstream.schedule(ACCT_CLAUDE, [{"hold_after_events": 3}, {"hold_after_events": 3}])
    conns = []
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
        conn.request("POST", "/v1/messages", json.dumps(
            {"model": MODEL_CLAUDE, "max_tokens": 16, "stream": True,
             "messages": [{"role": "user", "content": "hi"}]}),
            {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
             "content-type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        resp.readline()
        conns.append((conn, resp))
    assert in_flight() == 2
    post_json(f"{mock_upstream.url}/_mock/release", {})
    for conn, resp in conns:
        assert b"message_stop" in resp.read()
        conn.close()
    wait_until(lambda: in_flight() == 0, 5, "the count to drop", gw.proc)
