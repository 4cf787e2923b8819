"""`scripts/oauth-demo --auto` (what the README tells a newcomer to run) keeps working: its
Python part, with the binaries under test, logs in to the test OpenID provider, serves a
Responses request with the account's token, refreshes, and serves the next one with the new
token."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import NODE_MODULES, REPO, need_tool, repo_path


def test_oauth_demo_runs_end_to_end(tmp_path):
    need_tool(NODE_MODULES / "oidc-provider" / "package.json")
    env = {**os.environ, "DEMO_AUTO": "1", "DEMO_DIR": str(tmp_path / "demo"),
           "NODE_MODULES": str(NODE_MODULES),
           "SWITCHYARD_BIN": str(repo_path("SWITCHYARD_BIN", "target/debug/switchyard")),
           "SWITCHYARD_MOCK_BIN": str(repo_path("SWITCHYARD_MOCK_BIN", "target/debug/switchyard-mock"))}
    r = subprocess.run([sys.executable, str(REPO / "tests/oidc/demo.py")], env=env,
                       capture_output=True, timeout=120)
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    lines = [l.removeprefix("[oauth-demo] ") for l in out.splitlines() if l.startswith("[oauth-demo]")]
    assert "POST /v1/responses answered: ['hello from your ChatGPT account']" in lines, out
    assert "the mock upstream received the account's current access token" in lines, out
    assert lines[-1] == "DEMO OK", out
    # The demo never prints a token: compare with the file it saved.
    [auth] = (tmp_path / "demo" / "auths").glob("*.json")
    token = json.loads(auth.read_text())["access_token"]
    assert token not in out
