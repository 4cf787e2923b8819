#!/usr/bin/env python3
"""Switchyard's bundled benchmark (run it with `benches/run`; see benches/README.md).

Starts nginx with fixed answers (the upstream), nginx as a proxy (the floor), the project's
mock (streams with a delay, held streams, a failing key), Switchyard in normal and commercial
mode and, with --peers, LiteLLM and claude-code-router. Every scenario is run interleaved
(target by target) and repeated; it prints one table of ratios, and writes results.json,
results.svg, table.md and every config and log into --out. Standard library only.
"""

import argparse
import collections
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
import peers as peers_mod  # noqa: E402
import report  # noqa: E402
import targets as T  # noqa: E402
from procs import Mock, Proc, free_port, http_post, loadavg, log, stop_all, tree_rss_kb, wait_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODES = {"normal": False, "commercial": True}
PHASES = ("startup", "wrk", "ttfb", "failover", "hold", "oauth")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gateway", default=str(REPO / "target/release/switchyard"),
                    help="switchyard binary (copied to a temp dir for the run)")
    ap.add_argument("--mock", default=str(REPO / "target/release/switchyard-mock"))
    ap.add_argument("--out", help="results directory (default: a new dir under $TMPDIR)")
    ap.add_argument("--peers", action="store_true",
                    help=f"also install (into .tools/peers) and run LiteLLM {peers_mod.LITELLM_VERSION} "
                         f"and claude-code-router {peers_mod.CCR_VERSION}")
    ap.add_argument("--quick", action="store_true", help="smoke test: everything once, short (~2 min)")
    full = {"rounds": 3, "duration": 2, "ttfb_requests": 200, "failover_requests": 300,
            "streams": 10000, "oauth_accounts": 10000, "startup_runs": 3}
    quick = {"rounds": 1, "duration": 1, "ttfb_requests": 30, "failover_requests": 30,
             "streams": 1000, "oauth_accounts": 2000, "startup_runs": 1}
    for key, help_ in (("rounds", "repetitions of the interleaved wrk runs"),
                       ("duration", "seconds per wrk run"),
                       ("ttfb-requests", "sequential requests per target, time to first content"),
                       ("failover-requests", "sequential requests per case, failover"),
                       ("streams", "streams held open at once (capped by the open-file limit)"),
                       ("oauth-accounts", "auth files for the idle-RSS-with-accounts measurement"),
                       ("startup-runs", "fresh starts per mode, timed to the first answer")):
        k = key.replace("-", "_")
        ap.add_argument(f"--{key}", type=int, help=f"{help_} (default {full[k]}, --quick {quick[k]})")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help="a subset of the phases to run, comma-separated (default: all)")
    ap.add_argument("--keep-logs", action="store_true",
                    help="keep the gateways' full access logs (a full run writes ~200 MB of them)")
    ap.add_argument("--concurrency", default="1,8,64")
    ap.add_argument("--cpu-conns", type=int, default=8, help="the concurrency CPU ratios are taken at")
    ap.add_argument("--peer-concurrency", default="1,8", help="peers are slow: only these")
    a = ap.parse_args()
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.phases = a.phases.split(",")
    if set(a.phases) - set(PHASES):
        ap.error(f"--phases: choose from {','.join(PHASES)}")
    a.concurrency = [int(x) for x in a.concurrency.split(",")]
    a.peer_concurrency = [int(x) for x in a.peer_concurrency.split(",")]
    if a.cpu_conns not in a.concurrency:
        ap.error("--cpu-conns must be one of --concurrency")
    return a


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Gateways:
    """Writes a config per mode and starts gateways, timing the start to the first answer."""

    def __init__(self, exe, out, up_port, mocks):
        self.exe, self.out, self.up_port, self.mocks = exe, out, up_port, mocks

    def start(self, mode, tag, auth_dir=None):
        port = free_port()
        cfg = self.out / f"switchyard-{mode}-{tag}.yaml"
        cfg.write_text(T.gateway_yaml(port, self.up_port, self.mocks, MODES[mode], auth_dir))
        route = T.gateway_route(port)(("passthrough", False))
        proc, ms = load.start_to_first_answer(f"switchyard-{mode}-{tag}",
                                              [str(self.exe), "serve", "--config", str(cfg)],
                                              self.out, route, 20, env={"NO_COLOR": "1"})
        proc.port = port
        return proc, ms


def preflight(name, route, case):
    """One request; the answer must have the client protocol's shape."""
    if route is None:
        return "n/a"
    port, path, body, headers = route
    try:
        st, b = http_post(port, path, body, headers, timeout=60)
    except OSError as e:
        return f"error: {e}"
    if st != 200 or not T.looks_ok(case, b):
        return f"HTTP {st}: {b[:200]!r}"
    return "ok"


def summarize_logs(out, keep):
    """Statuses from every gateway's access log and its WARN/ERROR count (the server-side view of
    failures); then, unless `keep`, logs over 20 MB are cut to their first 200 and last 2,000
    lines so a full run does not leave hundreds of MB behind."""
    res = {}
    for path in sorted(out.glob("switchyard-*.log")):
        statuses, levels, lines = {}, {"WARN": 0, "ERROR": 0}, 0
        with open(path, errors="replace") as f:
            for line in f:
                lines += 1
                i = line.find(" status=")
                if i >= 0 and "switchyard::access" in line:
                    st = line[i + 8:].split(" ", 1)[0]
                    if st == "0" and "error=\"client_closed\"" in line:
                        st = "0 (client closed)"
                    statuses[st] = statuses.get(st, 0) + 1
                for lvl in levels:
                    if f" {lvl} " in line[:40]:
                        levels[lvl] += 1
        res[path.stem] = {"access_statuses": statuses, "levels": levels}
        if not keep and path.stat().st_size > 20 << 20:
            with open(path, errors="replace") as f:
                head = [next(f) for _ in range(200)]
            tail = collections.deque(open(path, errors="replace"), maxlen=2000)
            path.write_text("".join(head) + f"[... {lines - 2200} lines cut by benches/run; "
                            "--keep-logs keeps them ...]\n" + "".join(tail))
    return res


def main():
    a = parse_args()
    t_start = time.monotonic()
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    bindir = Path(tempfile.mkdtemp(prefix="switchyard-bin-"))
    fd_limit = raise_fd_limit()
    # the gateway holds two sockets per stream (client and upstream) plus a few
    streams = min(a.streams, (fd_limit - 200) // 2)
    # Ctrl-C and SIGTERM end the run the same way: stop everything, write what was measured.
    # (SIGINT explicitly: a shell starting us in the background would have us ignore it.)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    R = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "args": vars(a),
         "host": {"cores": os.cpu_count(), "uname": " ".join(os.uname()), "fd_limit": fd_limit},
         "streams": streams, "loadavg": {}, "wrk": {}, "preflight": {}, "startup_ms": {},
         "idle_rss_kb": {}, "peers_missing": {}, "peer_versions": {}}
    try:
        exe = bindir / "switchyard"
        shutil.copy2(a.gateway, exe)  # the source binary may be rebuilt while we run
        R["gateway_version"] = os.popen(f"{exe} --version").read().strip()
        run(a, R, out, exe, streams)
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        R["interrupted"] = True
    finally:
        stop_all()
        shutil.rmtree(bindir, ignore_errors=True)
    R["gateway_logs"] = summarize_logs(out, a.keep_logs)
    R["seconds"] = round(time.monotonic() - t_start, 1)
    table = report.table(R)
    (out / "results.json").write_text(json.dumps(R, indent=1, default=str) + "\n")
    (out / "table.md").write_text(table + "\n")
    (out / "results.svg").write_text(report.svg(R))
    print(table)
    print(f"\nresults: {out}/results.json, {out}/results.svg; configs and logs in {out}; "
          f"{R['seconds']} s", flush=True)
    if R.get("interrupted"):
        sys.exit(130)


def run(a, R, out, exe, streams):
    hold_reply = "Hi " + " ".join(f"w{i}" for i in range(90))
    mocks = {"ttfb": Mock(a.mock, "ttfb", ["--chunk-delay-ms", "5", "--reply", "Hi there friend"], out),
             "hold": Mock(a.mock, "hold", ["--chunk-delay-ms", "1000", "--reply", hold_reply], out),
             "fail": Mock(a.mock, "fail", ["--reply", "Hi there friend"], out)}
    mocks["fail"].schedule("fail-429", {"status": 429})
    up_port, px_port, px_ttfb_port = free_port(), free_port(), free_port()
    (out / "nginx-upstream.conf").write_text(T.nginx_upstream_conf(out, up_port))
    (out / "nginx-proxy.conf").write_text(T.nginx_proxy_conf(out, px_port, up_port, mocks["ttfb"].port, px_ttfb_port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    up = Proc("nginx-upstream", [nginx, "-p", str(out), "-c", str(out / "nginx-upstream.conf")], out)
    wait_port(up_port, up, 10, "nginx upstream")
    px = Proc("nginx-proxy", [nginx, "-p", str(out), "-c", str(out / "nginx-proxy.conf")], out)
    wait_port(px_port, px, 10, "nginx proxy")
    time.sleep(0.2)
    R["idle_rss_kb"]["nginx proxy"] = tree_rss_kb(px.pid)
    gws = Gateways(exe, out, up_port, mocks)

    # ---- start-up to the first answer (fresh process each time)
    log(f"start-up: spawn to first answer, {a.startup_runs} runs")
    for _ in range(a.startup_runs if "startup" in a.phases else 0):
        for mode in MODES:
            p, ms = gws.start(mode, "startup")
            R["startup_ms"].setdefault(mode, []).append(round(ms, 1))
            p.stop()
    log(f"  {R['startup_ms']}")

    # ---- the long-running targets
    targets = {"direct": (T.nginx_route(up_port), None), "nginx proxy": (T.nginx_route(px_port), px.pid)}
    live = {}
    for mode in MODES:
        live[mode], _ = gws.start(mode, "load")
        targets[mode] = (T.gateway_route(live[mode].port), live[mode].pid)
    peer_objs = {}
    if a.peers:
        peer_objs, R["peers_missing"] = peers_mod.prepare_peers(peers_mod.tools_dir(REPO), out, up_port,
                                                                mocks["ttfb"].port)
        for name, p in list(peer_objs.items()):
            R["peer_versions"][name] = p.version
            case = ("translated", False) if name == "claude-code-router" else ("passthrough", False)
            try:
                log(f"starting {name} {p.version}")
                p.proc, ms = load.start_to_first_answer(name, p.argv, out, p.route(case), 120, env=p.env)
                R["startup_ms"][name] = [round(ms, 1)]
                targets[name] = (p.route, p.proc.pid)
            except Exception as e:
                R["peers_missing"][name] = f"did not answer: {str(e)[:300]}"
                log(f"peer {name} unavailable: {str(e)[:300]}")
                del peer_objs[name]

    # ---- every target answers every case it serves, in the right shape
    for name, (route, _) in targets.items():
        R["preflight"][name] = {T.case_name(c): preflight(name, route(c), c) for c in T.CASES}
        bad = {k: v for k, v in R["preflight"][name].items() if v not in ("ok", "n/a")}
        if bad:
            log(f"preflight {name}: {bad}")
    time.sleep(0.5)
    for name, (_, pid) in targets.items():
        if pid and name not in R["idle_rss_kb"]:
            R["idle_rss_kb"][name] = tree_rss_kb(pid)

    # ---- wrk: interleaved (target by target inside each case and concurrency), repeated
    R["loadavg"]["wrk"] = loadavg()
    if "wrk" in a.phases:
        log(f"wrk: {a.rounds} rounds x {len(T.CASES)} cases x {a.concurrency} connections, {a.duration} s each")
    for rnd in range(a.rounds if "wrk" in a.phases else 0):
        for case in T.CASES:
            cn = T.case_name(case)
            for conns in a.concurrency:
                for name, (route, pid) in targets.items():
                    if R["preflight"][name][cn] != "ok":
                        continue
                    if name in peer_objs and conns not in a.peer_concurrency:
                        continue
                    if rnd == 0 and conns == a.concurrency[0] and not a.quick:
                        load.run_wrk(route(case), None, 8, 1, out, "warmup")
                    r = load.run_wrk(route(case), pid, conns, a.duration, out, f"{name}-{cn}".replace(" ", "_"))
                    R["wrk"].setdefault(name, {}).setdefault(cn, {}).setdefault(str(conns), []).append(r)
                    log(f"  r{rnd + 1} {cn:<24} c{conns:<3} {name:<20} {r['req_per_s']:>9.0f} req/s "
                        f"p50 {r['p50_us'] / 1000:.3f} ms p99 {r['p99_us'] / 1000:.3f} ms "
                        f"cpu {r.get('cpu_us_per_req', '-')} us/req non-2xx {r['non_2xx_3xx']} "
                        f"sockerr {r['socket_errors']}")

    # ---- time to first content (mock streaming with 5 ms between events)
    R["loadavg"]["ttfb"] = loadavg()
    if "ttfb" in a.phases:
        log("time to first content (sequential, interleaved)")
    mock_direct = (mocks["ttfb"].port, "/v1/chat/completions", T.chat_body("m", True), T.headers())
    routes = {"direct": mock_direct,
              "nginx proxy": (px_ttfb_port, "/v1/chat/completions", T.chat_body("m", True), T.headers())}
    for mode in MODES:
        rm = T.gateway_route_model(live[mode].port)
        routes[f"{mode} passthrough"] = rm(("passthrough", True), "ttfb")
        routes[f"{mode} translated"] = rm(("translated", True), "ttfb")
    for name, p in peer_objs.items():
        for kind in ("passthrough", "translated"):
            if p.route((kind, True)) is not None:
                routes[f"{name} {kind}"] = p.route_model((kind, True), p.ttfb_model)
    n_ttfb = a.ttfb_requests if "ttfb" in a.phases else 0
    R["ttfb"] = {} if not n_ttfb else load.summarize_ttfb(load.sequential(routes, n_ttfb, max(3, n_ttfb // 20), 240), "direct")

    # ---- failover: first key answered 429, the second serves
    R["loadavg"]["failover"] = loadavg()
    if "failover" in a.phases:
        log("failover (429 on the first key)")
    direct_429 = (mocks["fail"].port, "/v1/chat/completions", T.chat_body("m", True),
                  dict(T.headers(), Authorization="Bearer fail-429"))
    R["failover"] = {}
    for mode in MODES if "failover" in a.phases else ():
        rm = T.gateway_route_model(live[mode].port)
        R["failover"][mode] = load.failover(lambda m, rm=rm: rm(("passthrough", True), m), direct_429,
                                            a.failover_requests, max(3, a.failover_requests // 20), 240)
        log(f"  {mode}: {R['failover'][mode]}")

    for p in peer_objs.values():
        p.proc.stop()
    for p in live.values():
        p.stop()

    # ---- held streams: fresh gateway, idle RSS, then N streams open at once
    R["loadavg"]["hold"] = loadavg()
    R["hold"] = {}
    for mode in MODES if "hold" in a.phases else ():
        log(f"{streams} held streams, {mode}")
        p, _ = gws.start(mode, "hold")
        try:
            route = T.gateway_route(p.port)(("passthrough", True))
            for _ in range(20):
                http_post(*route)
            time.sleep(1.0)
            idle = tree_rss_kb(p.pid)
            h = load.hold_streams(T.gateway_route_model(p.port)(("passthrough", True), "hold"),
                                  p.pid, streams, 200, 120)
            h["rss_idle_kb"] = idle
            # per stream actually held (a stream that failed is in the Failures table)
            h["kb_per_stream"] = round((h["rss_loaded_kb"] - idle) / max(1, h["first_content"]), 2)
            R["hold"][mode] = h
            R["idle_rss_kb"][mode] = idle
            log(f"  {h}")
        finally:
            p.stop()

    # ---- idle RSS and start-up with N OAuth accounts
    R["loadavg"]["oauth"] = loadavg()
    R["oauth"] = {"accounts": a.oauth_accounts}
    auth = out / "auth-dir"
    if "oauth" in a.phases:
        T.write_codex_auth_files(auth, a.oauth_accounts)
    for mode in MODES if "oauth" in a.phases else ():
        log(f"{a.oauth_accounts} OAuth accounts, {mode}")
        p, ms = gws.start(mode, "oauth", auth_dir=auth)
        try:
            route = T.gateway_route(p.port)(("passthrough", False))
            for _ in range(20):
                http_post(*route)
            time.sleep(1.0)
            R["oauth"][mode] = {"startup_ms": round(ms, 1), "rss_idle_kb": tree_rss_kb(p.pid)}
            log(f"  {R['oauth'][mode]}")
        finally:
            p.stop()
    shutil.rmtree(auth, ignore_errors=True)
    R["loadavg"]["end"] = loadavg()


if __name__ == "__main__":
    main()
