"""An existing CLIProxyAPI auth directory, one file of every provider in the layout CLIProxyAPI
writes (cliproxyapi.md §3.3: names, token fields, Gemini's nested `token`, Kimi's `device_id`,
iFlow's `api_key`, a Vertex service-account import), is served unchanged: each file becomes an
account of its channel, listed by `/v1/models` with its catalog, and a request for a model only
that channel serves reaches the mock on that channel's path with that file's credential.
Endpoints are pointed at the mock with `oauth-overrides.<p>.base-url`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CLIENT_KEY, gateway_config, http_request

FAR = "2099-01-01T00:00:00Z"

FILES = {
    "claude-a@example.com.json": {
        "id_token": "", "access_token": "sk-ant-oat01-A", "refresh_token": "sk-ant-ort01-R",
        "last_refresh": "2026-01-01T00:00:00+08:00", "email": "a@example.com", "type": "claude",
        "expired": FAR},
    "codex-1a2b3c4d-b@example.com-plus.json": {
        "id_token": "", "access_token": "at-codex", "refresh_token": "rt-codex",
        "account_id": "acc-123", "last_refresh": "2026-01-01T00:00:00Z",
        "email": "b@example.com", "type": "codex", "expired": FAR},
    "c@example.com-my-project.json": {
        "token": {"access_token": "ya29.gemini", "token_type": "Bearer", "refresh_token": "1//R",
                  "expiry": FAR},
        "project_id": "my-project", "email": "c@example.com", "auto": True, "checked": True,
        "type": "gemini"},
    "antigravity-f@example.com.json": {
        "access_token": "ya29.antigravity", "refresh_token": "1//A", "expired": FAR,
        "email": "f@example.com", "project_id": "ag-project", "type": "antigravity"},
    "qwen-d@example.com.json": {
        "access_token": "qa", "refresh_token": "qr", "last_refresh": "2026-01-01T00:00:00Z",
        "resource_url": "portal.qwen.ai", "email": "d@example.com", "type": "qwen",
        "expired": FAR},
    "iflow-e@example.com-1767225600.json": {
        "access_token": "ia", "refresh_token": "ir", "last_refresh": "2026-01-01T00:00:00Z",
        "expired": FAR, "api_key": "sk-iflow", "email": "e@example.com",
        "token_type": "bearer", "scope": "read", "cookie": "", "type": "iflow"},
    "kimi-1767225600000.json": {
        "access_token": "ka", "refresh_token": "kr", "token_type": "Bearer", "scope": "kimi",
        "device_id": "dev-1", "expired": FAR, "type": "kimi"},
    "vertex-my-gcp.json": {
        "type": "vertex", "project_id": "my-gcp", "location": "europe-west4",
        "client_email": "sa@my-gcp.iam.gserviceaccount.com", "private_key_id": "k1",
        "private_key": "-----BEGIN PRIVATE KEY-----\nnot-used\n-----END PRIVATE KEY-----\n",
        "token_uri": "http://127.0.0.1:9/token"},
}

#: model only that channel serves -> (upstream path, credential the mock sees)
ROUTES = {
    "claude-sonnet-4-5": ("/v1/messages", "sk-ant-oat01-A"),
    "gpt-5.3-codex-spark": ("/v1/responses", "at-codex"),  # plus/pro plans only
    "gemini-2.5-pro": ("/v1internal:generateContent", "ya29.gemini"),
    "gemini-3-pro-high": ("/v1internal:generateContent", "ya29.antigravity"),
    "coder-model": ("/v1/chat/completions", "qa"),
    "glm-4.6": ("/v1/chat/completions", "sk-iflow"),
    "kimi-k2.5": ("/v1/chat/completions", "ka"),
}


@pytest.fixture
def cliproxyapi_gw(tmp_path: Path, mock_upstream, gateway):
    auth = tmp_path / "auths"
    auth.mkdir(mode=0o700)
    for name, body in FILES.items():
        (auth / name).write_text(json.dumps(body))
    m = mock_upstream.url
    bases = {"claude": m, "codex": f"{m}/v1", "gemini": m, "antigravity": m, "qwen": f"{m}/v1",
             "iflow": f"{m}/v1", "kimi": f"{m}/v1", "vertex": m}
    overrides = "".join(f"  {p}:\n    base-url: {u}\n" for p, u in bases.items())
    return gateway(gateway_config(extra=f"auth-dir: {auth}\noauth-overrides:\n{overrides}"))


def test_every_provider_file_is_listed_with_its_catalog(cliproxyapi_gw):
    r = http_request("GET", f"{cliproxyapi_gw.url}/v1/models", None,
                     {"Authorization": f"Bearer {CLIENT_KEY}"})
    assert r.status == 200, r.body
    ids = {m["id"] for m in json.loads(r.body)["data"]}
    # One model only each channel's catalog has, Vertex included.
    for model in [*ROUTES, "gemini-3-pro-image-preview"]:
        assert model in ids, (model, sorted(ids))


@pytest.mark.parametrize("model", sorted(ROUTES))
def test_each_channel_serves_with_its_files_credential(cliproxyapi_gw, mock_upstream, model):
    path, credential = ROUTES[model]
    body = json.dumps({"model": model, "messages": [
        {"role": "user", "content": f"MOCK_REPLY[hello from {model}]"}]}).encode()
    r = http_request("POST", f"{cliproxyapi_gw.url}/v1/chat/completions", body,
                     {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"})
    assert r.status == 200, r.body
    assert json.loads(r.body)["choices"][0]["message"]["content"] == f"hello from {model}"
    [entry] = mock_upstream.journal()
    assert (entry["path"], entry["account"], entry["model"]) == (path, credential, model), entry
