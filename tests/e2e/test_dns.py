"""Name resolution (issue 16, item 8): every address of an upstream's name is tried, not only
the first, and an address that refused a connection is tried last afterwards.

The gateway gets its own hosts file through nss_wrapper (Debian's libnss-wrapper, LD_PRELOAD),
so `multi.test` has two addresses without touching /etc/hosts: 127.0.0.2, where nothing
listens, then 127.0.0.1, where the mock does.
"""

from __future__ import annotations

import glob
import json

import pytest

from conftest import CLIENT_KEY, free_port, http_request

NSS_WRAPPER = next(iter(glob.glob("/usr/lib/*/libnss_wrapper.so")), None)


@pytest.fixture
def gw(gateway, mock_upstream, tmp_path):
    if NSS_WRAPPER is None:
        pytest.fail("libnss-wrapper is missing: run scripts/install-test-deps.sh")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.2 multi.test\n127.0.0.1 multi.test\n")
    port = mock_upstream.url.rsplit(":", 1)[1]
    config = "\n".join([
        "host: 127.0.0.1",
        f"port: {free_port()}",
        "shutdown-grace-seconds: 0",
        f"api-keys: [{json.dumps(CLIENT_KEY)}]",
        "claude-api-key:",
        "  - api-key: acct-multi",
        f"    base-url: http://multi.test:{port}",
        "    models: [{name: m}]",
    ]) + "\n"
    return gateway(config, env={"LD_PRELOAD": NSS_WRAPPER, "NSS_WRAPPER_HOSTS": str(hosts),
                                "RUST_LOG": "info"})


def ask(gw):
    body = json.dumps({"model": "m", "max_tokens": 5,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    return http_request("POST", f"{gw.url}/v1/messages", body,
                        {"x-api-key": CLIENT_KEY, "content-type": "application/json"})


def test_the_next_address_is_tried_and_the_dead_one_goes_last(gw, mock_upstream):
    r = ask(gw)
    assert r.status == 200, r.body
    assert [e["account"] for e in mock_upstream.journal()] == ["acct-multi"]
    log = gw.wait_log("trying the next address")
    assert "127.0.0.2" in log and log.count("trying the next address") == 1
    # Later requests start at the address that works; the account never cooled down.
    for _ in range(3):
        assert ask(gw).status == 200
    assert len(mock_upstream.journal()) == 4
    gw.wait_log('status=200')
    assert gw.log_text().count("trying the next address") == 1
    assert "cooling down" not in gw.log_text()
