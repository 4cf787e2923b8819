"""OAuth accounts serve the models of the embedded catalog (a Codex account the list of its
ChatGPT plan), renamed or forked by `oauth-model-alias` and filtered by
`oauth-excluded-models` and the file's `excluded_models`; `/v1/models` lists them with the
catalog's metadata in each client protocol's shape; a `model-catalog` file replaces a channel
and is re-read while the gateway runs.
Checked by the mock's journal: an aliased name reaches the upstream as the catalog id, an
excluded or renamed-away id gets the client protocol's model-not-found error and no upstream
call."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from conftest import CLIENT_KEY, gateway_config, http_request, wait_until

FAR_FUTURE = "2099-01-01T00:00:00Z"


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def id_token(plan: str) -> str:
    """An unsigned id_token carrying the ChatGPT plan claim (only the claims are read)."""
    return ".".join([_b64({"alg": "none"}),
                     _b64({"https://api.openai.com/auth": {"chatgpt_plan_type": plan}}), "sig"])


def write_codex_file(auth_dir: Path, name: str, token: str, **fields) -> Path:
    """A Codex auth file in CLIProxyAPI's format whose token is valid for decades (no refresh)."""
    auth_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = {"type": "codex", "access_token": token, "expired": FAR_FUTURE, **fields}
    path = auth_dir / name
    tmp = auth_dir / f".{name}.tmp"
    tmp.write_text(json.dumps(body))
    tmp.rename(path)  # atomic, as the token store writes
    return path


def oauth_config(auth_dir: Path, upstream: str, extra: str = "") -> str:
    """A gateway with no key accounts: only the OAuth files of `auth_dir`, Codex at the mock."""
    return gateway_config(extra=f"auth-dir: {auth_dir}\n"
                                f"oauth-overrides:\n  codex:\n    base-url: {upstream}/v1\n" + extra)


def headers(protocol: str = "openai") -> dict[str, str]:
    if protocol == "anthropic":
        return {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
                "content-type": "application/json"}
    if protocol == "gemini":
        return {"x-goog-api-key": CLIENT_KEY}
    return {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"}


def list_models(gw, protocol: str = "openai") -> dict:
    path = "/v1beta/models" if protocol == "gemini" else "/v1/models"
    r = http_request("GET", gw.url + path, None, headers(protocol))
    assert r.status == 200, r.body
    return r.json()


def model_ids(gw) -> list[str]:
    return [m["id"] for m in list_models(gw)["data"]]


def responses(gw, model: str, text: str = "hi"):
    body = json.dumps({"model": model, "input": text, "stream": False}).encode()
    return http_request("POST", f"{gw.url}/v1/responses", body, headers())


ALIASES = """\
oauth-model-alias:
  codex:
    - {name: gpt-5-codex, alias: my-coder}
    - {name: gpt-5, alias: five, fork: true}
oauth-excluded-models:
  codex: ["GPT-5.1-codex-*"]
"""


def test_catalog_aliases_and_exclusions_shape_listing_and_routing(tmp_path, mock_upstream, gateway):
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex-free.json", "tok-free", id_token=id_token("free"),
                     excluded_models=["gpt-5.2"])
    gw = gateway(oauth_config(auth, mock_upstream.url, ALIASES))

    # The free plan's list (no gpt-5.3/5.4), gpt-5 forked, gpt-5-codex renamed, the channel's
    # wildcard and the file's exact exclusion applied.
    assert model_ids(gw) == ["gpt-5", "five", "my-coder", "gpt-5-codex-mini", "gpt-5.1",
                             "gpt-5.1-codex", "gpt-5.2-codex"]
    by_id = {m["id"]: m for m in list_models(gw)["data"]}
    assert by_id["gpt-5"] == {"id": "gpt-5", "object": "model", "created": 1754524800,
                              "owned_by": "openai"}
    claude_shape = {m["id"]: m for m in list_models(gw, "anthropic")["data"]}
    assert claude_shape["gpt-5.1-codex"]["display_name"] == "GPT 5.1 Codex"
    assert claude_shape["gpt-5.1-codex"]["created_at"] == "2025-11-12T00:00:00Z"
    gemini_shape = {m["name"]: m for m in list_models(gw, "gemini")["models"]}
    assert gemini_shape["models/my-coder"]["displayName"] == "GPT 5 Codex"
    assert gemini_shape["models/my-coder"]["inputTokenLimit"] == 400000
    assert gemini_shape["models/my-coder"]["outputTokenLimit"] == 128000

    # The alias reaches the upstream as the catalog id; the fork serves both names.
    for asked, sent in (("my-coder", "gpt-5-codex"), ("five", "gpt-5"), ("gpt-5", "gpt-5")):
        r = responses(gw, asked, f"MOCK_REPLY[{asked}]")
        assert r.status == 200, r.body
        entry = mock_upstream.journal()[-1]
        assert (entry["model"], entry["account"]) == (sent, "tok-free")
    assert len(mock_upstream.journal()) == 3

    # Excluded, renamed away, or not in this plan: the client protocol's model-not-found error,
    # and nothing reaches the upstream.
    for gone in ("gpt-5.1-codex-max", "gpt-5-codex", "gpt-5.2", "gpt-5.4"):
        r = responses(gw, gone)
        assert (r.status, r.json()) == (400, {"error": {
            "message": f"unknown model {gone}", "type": "invalid_request_error",
            "param": "model", "code": "model_not_found"}}), gone
    body = json.dumps({"model": "gpt-5.1-codex-mini", "max_tokens": 10,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    r = http_request("POST", f"{gw.url}/v1/messages", body, headers("anthropic"))
    assert (r.status, r.json()) == (400, {"type": "error", "error": {
        "type": "not_found_error", "message": "unknown model gpt-5.1-codex-mini"}})
    assert len(mock_upstream.journal()) == 3


def test_model_catalog_file_replaces_a_channel(tmp_path, mock_upstream, gateway):
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex.json", "tok-pro")  # no plan claim: the pro list
    catalog = tmp_path / "models.json"
    catalog.write_text(json.dumps({"codex-pro": [
        {"id": "house-model", "display_name": "House", "owned_by": "us", "created": 1700000000}]}))
    gw = gateway(oauth_config(auth, mock_upstream.url, f"model-catalog: {catalog}\n"))
    assert list_models(gw)["data"] == [
        {"id": "house-model", "object": "model", "created": 1700000000, "owned_by": "us"}]
    r = responses(gw, "house-model")
    assert r.status == 200, r.body
    [entry] = mock_upstream.journal()
    assert (entry["path"], entry["model"], entry["account"]) == (
        "/v1/responses", "house-model", "tok-pro")
    assert responses(gw, "gpt-5-codex").status == 400
    assert len(mock_upstream.journal()) == 1

    # The file is re-read on reload: an edit changes the list without a restart, and a broken
    # edit keeps the last good catalog (logged).
    catalog.write_text(json.dumps({"codex-pro": [{"id": "house-model-2"}]}))
    wait_until(lambda: model_ids(gw) == ["house-model-2"], 20, "the edited catalog", gw.proc,
               interval=0.1)
    catalog.write_text('{"codex-pro": [{"id": "x", "typo": 1}]}')
    wait_until(lambda: "unknown field `typo`" in gw.log_text(), 20, "the refused catalog",
               gw.proc, interval=0.1)
    assert model_ids(gw) == ["house-model-2"]


def test_model_fallback_to_a_catalog_model_of_an_oauth_only_gateway(tmp_path, mock_upstream,
                                                                     gateway):
    # No account in the config: the fallback target is served by an auth-dir account (a
    # warning at load, not an error), and a name nobody serves falls back to it.
    auth = tmp_path / "auths"
    write_codex_file(auth, "codex-a.json", "tok-fallback", id_token=id_token("plus"))
    gw = gateway(oauth_config(auth, mock_upstream.url,
                              'model-fallback: [{from: "legacy-*", to: gpt-5-codex}]\n'))
    body = json.dumps({"model": "legacy-model", "input": "MOCK_REPLY[fell back]",
                       "stream": False}).encode()
    r = http_request("POST", f"{gw.url}/v1/responses", body, headers())
    assert r.status == 200, r.body
    [entry] = mock_upstream.journal()
    assert (entry["account"], entry["model"]) == ("tok-fallback", "gpt-5-codex"), entry
    gw.wait_log("no account in this file serves")
