"""Config reload under load: while requests go on without a break and 50 streams are open on a
slow upstream, config.yaml is changed 20 times, good and broken edits alternating, half through
the management API and half by hand (written in place like an editor does, or replaced by a
rename like a deploy tool). No request may fail because of a reload, every stream must finish
with its whole text, a broken edit changes nothing, and each good edit (a new client key and a
new model alias) must serve within 2 s of being made."""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time

from conftest import ACCT_CLAUDE, CLIENT_KEY, MODEL_CLAUDE, Account, gateway_config, wait_until
from test_management import HEADER, MGMT, mgmt

STREAMS = 50
#: Words per stream; with 40 ms between events a stream is open for about 2 s.
WORDS = 48
IN_EFFECT = 2.0


def ask(gw, key: str, model: str, *, stream: bool = False, reply: str = "hi",
        timeout: float = 30):
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=timeout)
    body = json.dumps({"model": model, "max_tokens": 64, "stream": stream,
                       "messages": [{"role": "user", "content": f"MOCK_REPLY[{reply}]"}]})
    conn.request("POST", "/v1/messages", body,
                 {"x-api-key": key, "anthropic-version": "2023-06-01",
                  "content-type": "application/json"})
    return conn, conn.getresponse()


def streamed_text(resp) -> tuple[str, list[str]]:
    """The text deltas of an Anthropic stream and the event names, read to the end."""
    text, events, event = [], [], None
    for raw in resp:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
            events.append(event)
        elif line.startswith("data:") and event == "content_block_delta":
            delta = json.loads(line[5:])["delta"]
            text.append(delta.get("text", ""))
    return "".join(text), events


class Load:
    """Background traffic: STREAMS stream loops and a few plain request loops."""

    def __init__(self, gw):
        self.gw = gw
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.open_streams = 0
        self.streams_done = 0
        self.requests_done = 0
        self.threads = [threading.Thread(target=self.stream_loop, args=(n,), daemon=True)
                        for n in range(STREAMS)]
        self.threads += [threading.Thread(target=self.request_loop, daemon=True)
                         for _ in range(3)]

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)

    def stream_loop(self, n: int) -> None:
        round_ = 0
        while not self.stop.is_set():
            words = " ".join(f"s{n}r{round_}w{i}" for i in range(WORDS))
            round_ += 1
            try:
                conn, resp = ask(self.gw, CLIENT_KEY, MODEL_CLAUDE, stream=True, reply=words)
                if resp.status != 200:
                    self.fail(f"stream {n}: status {resp.status}: {resp.read()[:300]!r}")
                    conn.close()
                    continue
                with self.lock:
                    self.open_streams += 1
                try:
                    text, events = streamed_text(resp)
                finally:
                    with self.lock:
                        self.open_streams -= 1
                    conn.close()
                if text.split() != words.split() or events[-1:] != ["message_stop"]:
                    self.fail(f"stream {n}: cut short: {text[-80:]!r}, last events {events[-3:]}")
                else:
                    with self.lock:
                        self.streams_done += 1
            except (OSError, http.client.HTTPException, ValueError) as e:
                self.fail(f"stream {n}: {e!r}")

    def request_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, resp = ask(self.gw, CLIENT_KEY, MODEL_CLAUDE)
                body = resp.read()
                conn.close()
                if resp.status != 200:
                    self.fail(f"request: status {resp.status}: {body[:300]!r}")
                else:
                    with self.lock:
                        self.requests_done += 1
            except (OSError, http.client.HTTPException) as e:
                self.fail(f"request: {e!r}")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


def good_text(base: str, i: int) -> str:
    """The config with client key `sk-edit-<i>` and model alias `edit-<i>` added."""
    text = re.sub(r"^api-keys: \[(.*)\]$", rf'api-keys: [\1, "sk-edit-{i}"]', base,
                  count=1, flags=re.M)
    line = f'\n      - {{name: "{MODEL_CLAUDE}", alias: ""}}\n'
    assert line in text, text
    return text.replace(line, line + f'      - {{name: "{MODEL_CLAUDE}", alias: "edit-{i}"}}\n')


def serves(gw, i: int) -> bool:
    conn, resp = ask(gw, f"sk-edit-{i}", f"edit-{i}", timeout=5)
    resp.read()
    conn.close()
    return resp.status == 200


def write_by_hand(path, text: str, rename: bool) -> None:
    if rename:
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        # In place, in three writes 60 ms apart (a slow `cat > config.yaml`, an editor's
        # buffered save): the watcher may read the file empty or half written.
        with open(path, "w") as f:
            third = len(text) // 3 + 1
            for n in range(3):
                f.flush()
                os.fsync(f.fileno())
                time.sleep(0.06)
                f.write(text[n * third:(n + 1) * third])


def test_twenty_edits_under_load_fail_nothing(gateway, slow_mock):
    mock = slow_mock("--chunk-delay-ms", "40")
    gw = gateway(HEADER + gateway_config(
        claude=[Account(ACCT_CLAUDE, mock.url, [(MODEL_CLAUDE, "")])], extra=MGMT))
    base = gw.config_path.read_text()  # the secret already hashed in place

    def refusals() -> int:  # the whole log (log_text() keeps only its tail)
        return gw.proc.log_path.read_text(errors="replace").count("config not reloaded")

    with Load(gw) as load:
        wait_until(lambda: load.open_streams >= STREAMS, 60, f"{STREAMS} open streams",
                   gw.proc, interval=0.05)
        for i in range(20):
            kind = ("good-api", "broken-api", "good-hand", "broken-hand")[i % 4]
            before = gw.config_path.read_text()
            if kind == "good-api":
                status, body = mgmt(gw, "PUT", "/config.yaml", good_text(base, i).encode())
                assert status == 200, body
            elif kind == "broken-api":
                if i % 8 == 1:
                    status, body = mgmt(gw, "PUT", "/config.yaml", b"api-keys: [\"sk-x\"\n")
                else:
                    status, body = mgmt(gw, "PUT", "/request-retry", {"value": "three"})
                assert status == 400, (kind, body)
                assert gw.config_path.read_text() == before, "a refused edit changed the file"
            elif kind == "good-hand":
                write_by_hand(gw.config_path, good_text(base, i), rename=i % 8 == 2)
            else:
                seen = refusals()
                write_by_hand(gw.config_path, before.replace("api-keys: [", "api-keys: [[", 1),
                              rename=i % 8 == 7)
                wait_until(lambda: refusals() > seen, 10,
                           "the broken hand edit to be refused", gw.proc, interval=0.05)
            if kind.startswith("good"):
                t0 = time.monotonic()
                wait_until(lambda: serves(gw, i), 10, f"edit {i} to serve", gw.proc,
                           interval=0.05)
                took = time.monotonic() - t0
                assert took <= IN_EFFECT, f"edit {i} ({kind}) took {took:.2f}s to serve"
                if i >= 2:  # each good edit replaces the one before it
                    assert not serves(gw, i - 2), f"edit {i - 2} still serves after edit {i}"
            else:
                # The last good edit still serves.
                assert serves(gw, i - 1), f"broken edit {i} undid edit {i - 1}"
        assert load.open_streams >= STREAMS // 2, "the streams stopped during the edits"

    assert load.failures == [], "\n".join(load.failures[:20])
    assert load.streams_done >= STREAMS and load.requests_done > 20, (
        load.streams_done, load.requests_done)
