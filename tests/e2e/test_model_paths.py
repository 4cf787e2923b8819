"""A model name never lets a client reach another endpoint of a provider with the pool's key.

Gemini puts the model in the upstream path. `..%2F..%2Fx` in the client's path used to reach
the upstream as `/v1beta/models/..%2F..%2Fx:generateContent`; a server or proxy in front of
the provider that decodes `%2F` then serves another endpoint with the account's credentials.
The same goes for a model name in a JSON body that an open Gemini account (no `models:` list)
would take as it is.
"""

from __future__ import annotations

import json

import pytest

from conftest import CLIENT_KEY, assert_no_upstream, free_port, http_request

OPEN_GEMINI = "acct-gemini-open"


@pytest.fixture
def gw(gateway, mock_upstream):
    config = "\n".join([
        "host: 127.0.0.1",
        f"port: {free_port()}",
        "shutdown-grace-seconds: 0",
        f"api-keys: [{json.dumps(CLIENT_KEY)}]",
        "gemini-api-key:",
        f"  - api-key: {OPEN_GEMINI}",
        f"    base-url: {json.dumps(mock_upstream.url)}",
    ]) + "\n"
    return gateway(config)


GEMINI_KEY = {"x-goog-api-key": CLIENT_KEY, "content-type": "application/json"}
GEMINI_BODY = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()


@pytest.mark.parametrize("model", [
    "..%2F..%2Fv1beta%2FcachedContents",
    "..%2f..%2fx",
    "a%2Fb",
    "..%5C..%5Cx",
    "..",
    "m%0D%0AX-Evil%3A%201",
])
def test_an_escaped_separator_in_the_path_is_refused_without_an_upstream_call(gw, mock_upstream, model):
    r = http_request("POST", f"{gw.url}/v1beta/models/{model}:generateContent",
                     GEMINI_BODY, GEMINI_KEY)
    assert r.status == 404, r.body
    err = r.json()["error"]
    assert (err["code"], err["status"]) == (404, "NOT_FOUND"), err
    assert_no_upstream(mock_upstream)


def test_a_body_model_with_a_separator_is_no_model_of_an_open_gemini_account(gw, mock_upstream):
    body = json.dumps({"model": "../../v1beta/cachedContents",
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/chat/completions", body,
                     {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"})
    assert r.status == 400, r.body
    assert r.json()["error"]["code"] == "model_not_found", r.body
    assert_no_upstream(mock_upstream)


def test_an_ordinary_name_still_reaches_the_open_account(gw, mock_upstream):
    r = http_request("POST", f"{gw.url}/v1beta/models/gemini-2.5-flash:generateContent",
                     GEMINI_BODY, GEMINI_KEY)
    assert r.status == 200, r.body
    [entry] = mock_upstream.journal()
    assert entry["account"] == OPEN_GEMINI
    assert entry["path"] == "/v1beta/models/gemini-2.5-flash:generateContent", entry
