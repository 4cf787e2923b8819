"""The gateways a user would pick instead, installed at pinned versions into `.tools/peers/`
(gitignored) and configured to serve the same scenarios against the same nginx upstream
(configs from the peers' documentation as tried on this kind of machine; see
benches/README.md). Only used with `--peers`. A peer that cannot be installed or started is
reported as unavailable with the reason; the rest of the run goes on.

- LiteLLM proxy (PyPI `litellm[proxy]`), its own venv; serves OpenAI chat (passthrough) and
  Anthropic Messages for an OpenAI model (translated).
- claude-code-router (npm `@musistudio/claude-code-router`); serves Anthropic Messages only
  (translated); a request picks the provider with `"model": "<provider>,<model>"`.
"""

import json
import subprocess
import sys
from pathlib import Path

from procs import free_port, log
from targets import MODEL, body_for, client_path, headers

LITELLM_VERSION = "1.108.7"
CCR_VERSION = "2.0.0"


def _run(cmd, logpath, timeout):
    with open(logpath, "ab") as f:
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout).returncode


def install_litellm(tools, out):
    venv = tools / f"litellm-{LITELLM_VERSION}"
    exe = venv / "bin" / "litellm"
    if exe.exists():
        return exe
    log(f"installing LiteLLM {LITELLM_VERSION} into {venv}")
    logpath = out / "install-litellm.log"
    if _run([sys.executable, "-m", "venv", str(venv)], logpath, 120) != 0 or \
       _run([str(venv / "bin" / "pip"), "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}"],
            logpath, 900) != 0 or not exe.exists():
        raise RuntimeError(f"pip install failed, see {logpath.name}")
    return exe


def install_ccr(tools, out):
    d = tools / f"ccr-{CCR_VERSION}"
    exe = d / "node_modules" / ".bin" / "ccr"
    if exe.exists():
        return exe
    log(f"installing claude-code-router {CCR_VERSION} into {d}")
    d.mkdir(parents=True, exist_ok=True)
    logpath = out / "install-ccr.log"
    if _run(["npm", "install", "--prefix", str(d), "--no-audit", "--no-fund",
             f"@musistudio/claude-code-router@{CCR_VERSION}"], logpath, 600) != 0 or not exe.exists():
        raise RuntimeError(f"npm install failed, see {logpath.name}")
    return exe


class Peer:
    """How to start a peer (argv, env) and route(case) -> (port, path, body, headers) or None.
    `proc` is set by whoever starts it (main times the start to the first answer)."""

    def __init__(self, name, version, argv, env, port):
        self.name, self.version, self.argv, self.env, self.port = name, version, argv, env, port
        self.proc = None


def litellm(exe, out, up_port, ttfb_port):
    port = free_port()
    up = f"http://127.0.0.1:{up_port}"
    models = [("gpt-4o-mini", f"openai/{MODEL}", f"{up}/v1"),
              ("gpt-4o-mini-s", f"openai/{MODEL}", f"{up}/s/v1"),
              ("ttfb", "openai/m", f"http://127.0.0.1:{ttfb_port}/v1")]
    cfg = out / "litellm.yaml"
    cfg.write_text(
        "model_list:\n"
        + "".join(f"  - {{model_name: {n}, litellm_params: {{model: {m}, api_base: \"{b}\", api_key: x}}}}\n"
                  for n, m, b in models)
        + "litellm_settings: {telemetry: false, use_chat_completions_url_for_anthropic_messages: true}\n"
        + f"general_settings: {{master_key: {headers()['x-api-key']}}}\n")
    p = Peer("LiteLLM", LITELLM_VERSION,
             [str(exe), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)],
             {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}, port)

    def route(case):
        model = MODEL + ("-s" if case[1] else "")
        return port, client_path(case), body_for(case, model), headers()
    p.route = route
    p.ttfb_model = "ttfb"
    p.route_model = lambda case, model: (port, client_path(case), body_for(case, model), headers())
    return p


def ccr(exe, out, up_port, ttfb_port):
    port = free_port()
    home = out / "ccr-home"
    (home / ".claude-code-router").mkdir(parents=True, exist_ok=True)
    up = f"http://127.0.0.1:{up_port}"
    cfg = {"LOG": False, "PORT": port, "HOST": "127.0.0.1", "NON_INTERACTIVE_MODE": True,
           "Providers": [
               {"name": "fast", "api_base_url": f"{up}/v1/chat/completions", "api_key": "x", "models": [MODEL]},
               {"name": "fasts", "api_base_url": f"{up}/s/v1/chat/completions", "api_key": "x", "models": [MODEL]},
               {"name": "mock", "api_base_url": f"http://127.0.0.1:{ttfb_port}/v1/chat/completions",
                "api_key": "x", "models": ["m"]}],
           "Router": {"default": f"fast,{MODEL}", "background": f"fast,{MODEL}"}}
    (home / ".claude-code-router" / "config.json").write_text(json.dumps(cfg, indent=1))
    p = Peer("claude-code-router", CCR_VERSION, [str(exe), "start"], {"HOME": str(home)}, port)

    def route(case):
        if case[0] != "translated":
            return None  # serves Anthropic Messages clients only
        model = ("fasts," if case[1] else "fast,") + MODEL
        return port, client_path(case), body_for(case, model), headers()
    p.route = route
    p.ttfb_model = "mock,m"
    p.route_model = lambda case, model: (port, client_path(case), body_for(case, model), headers())
    return p


def prepare_peers(tools, out, up_port, ttfb_port):
    """Installs (if needed) and configures the peers. Returns ({name: Peer}, {name: reason
    unavailable})."""
    peers, missing = {}, {}
    for name, install, make in (("LiteLLM", install_litellm, litellm),
                                ("claude-code-router", install_ccr, ccr)):
        try:
            exe = install(tools, out)
            peers[name] = make(exe, out, up_port, ttfb_port)
        except Exception as e:  # a peer that cannot run is a cell in the table, not a failed run
            missing[name] = str(e)[:300]
            log(f"peer {name} unavailable: {e}")
    return peers, missing


def tools_dir(repo):
    return Path(repo) / ".tools" / "peers"
