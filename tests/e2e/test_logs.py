"""Logging to files (``gateway/src/logs``): with ``log-format: json`` and
``logging-to-file: true`` the gateway's log goes to ``logs/main.log`` beside the config, one
JSON object per line with the fixed names ``ts`` (RFC 3339, ms, UTC), ``level``, ``target``,
``msg`` and then the event's fields; stderr stays free of log lines.

Only start-up lines are checked here: the access line and the request/error logs are wired
into the request path separately.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import gateway_config, wait_until

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_json_lines_in_main_log(gateway):
    gw = gateway(gateway_config(extra="log-format: json\nlogging-to-file: true\n"))
    main_log = gw.config_path.parent / "logs" / "main.log"

    def listening():
        return any(e.get("msg") == "switchyard listening" for e in _lines(main_log))

    wait_until(listening, 10, f"the start-up line in {main_log}", gw.proc)
    entries = _lines(main_log)
    for e in entries:
        assert list(e)[:4] == ["ts", "level", "target", "msg"], e
        assert TS.match(e["ts"]), e
        assert e["level"] in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR"), e
    start = next(e for e in entries if e["msg"] == "switchyard listening")
    assert start["level"] == "INFO"
    assert start["target"].startswith("switchyard"), start
    assert isinstance(start["accounts"], int) and isinstance(start["tls"], bool), start
    assert re.match(r"^127\.0\.0\.1:\d+$", start["addr"]), start
    # Nothing of the log reached stderr.
    assert "switchyard listening" not in gw.log_text()
