"""The table of ratios (markdown) and the plot (SVG, written by hand: no dependency) from the
results dict of main.py. Medians over the rounds; every ratio is between numbers of one run.
"""

import math
import statistics

from targets import CASES, case_name

MODES = ("normal", "commercial")


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def wrk(R, target, case, conns, key):
    runs = R.get("wrk", {}).get(target, {}).get(case_name(case), {}).get(str(conns), [])
    return _med([r.get(key) for r in runs])


def _div(a, b):
    return a / b if a is not None and b else None


def _f(v, nd=2, unit=""):
    return "n/a" if v is None else f"{v:,.{nd}f}{unit}"


class Row:
    """One metric: values per mode, a target (op, limit) or None, and a note per cell."""

    def __init__(self, label, values, target=None, unit="x", nd=2, notes=None, signed=False):
        self.label, self.values, self.target, self.unit, self.nd = label, values, target, unit, nd
        self.notes = notes or {}
        self.signed = signed

    def ok(self, v):
        if self.target is None or v is None:
            return None
        op, lim = self.target
        return v <= lim if op == "<=" else v >= lim

    def cell(self, mode):
        v = self.values.get(mode)
        if v is None:
            return self.notes.get(mode, "n/a")
        s = (f"{v:+,.{self.nd}f}" if self.signed else f"{v:,.{self.nd}f}") + (
            "x" if self.unit == "x" else f" {self.unit}")
        ok = self.ok(v)
        mark = "" if ok is None else (" ✓" if ok else " ✗")
        note = f" ({self.notes[mode]})" if mode in self.notes else ""
        return f"**{s}**{mark}{note}"

    def target_text(self):
        if self.target is None:
            return "–"
        op, lim = self.target
        u = "x" if self.unit == "x" else f" {self.unit}"
        return f"{'≤' if op == '<=' else '≥'} {'+' if self.signed else ''}{lim:g}{u}"


def rows(R):
    a = R["args"]
    cc = a["cpu_conns"]
    out = []
    cpu = {(t, case_name(c)): wrk(R, t, c, cc, "cpu_us_per_req") for t in R.get("wrk", {}) for c in CASES}

    def c(t, case):
        return cpu.get((t, case_name(case)))

    for case in CASES:
        lim = 1.5 if case[0] == "passthrough" else 2.0
        out.append(Row(f"CPU per request ÷ nginx proxying it, {case_name(case)} (c{cc})",
                       {m: _div(c(m, case), c("nginx proxy", case)) for m in MODES}, ("<=", lim),
                       notes={m: f"{_f(c(m, case), 1)} vs {_f(c('nginx proxy', case), 1)} µs"
                              for m in MODES if c(m, case) is not None}))
    for peer, lim in (("claude-code-router", 30), ("LiteLLM", 300)):
        for case in CASES:
            if peer == "claude-code-router" and case[0] != "translated":
                continue
            miss = R.get("peers_missing", {}).get(peer)
            note = ("not run (use --peers)" if not a.get("peers") else
                    f"unavailable: {miss[:80]}" if miss else "n/a")
            out.append(Row(f"{peer} ÷ Switchyard CPU per request, {case_name(case)} (c{cc})",
                           {m: _div(c(peer, case), c(m, case)) for m in MODES},
                           (">=", lim) if case[0] == "translated" else None, nd=0,
                           notes={m: (f"{_f(c(peer, case), 0)} vs {_f(c(m, case), 1)} µs"
                                      if c(peer, case) is not None else note) for m in MODES}))
    for case in CASES:
        vals = {m: " / ".join(_f(_div(wrk(R, m, case, k, "req_per_s"), wrk(R, "direct", case, k, "req_per_s")))
                              for k in a["concurrency"]) for m in MODES}
        r = Row(f"req/s ÷ direct, {case_name(case)} (c{' / c'.join(map(str, a['concurrency']))})", {})
        r.notes = vals
        out.append(r)
    top = max(a["concurrency"])
    for case in CASES[:2]:
        out.append(Row(f"req/s ÷ nginx proxy at c{top}, {case_name(case)}",
                       {m: _div(wrk(R, m, case, top, "req_per_s"), wrk(R, "nginx proxy", case, top, "req_per_s"))
                        for m in MODES}, (">=", 0.8)))
    for q, lim in (("p50", 0.08), ("p99", 0.35)):
        for case in CASES:
            d = wrk(R, "direct", case, 1, f"{q}_us")
            out.append(Row(f"added {q} latency at c1 vs direct, {case_name(case)}",
                           {m: _div((wrk(R, m, case, 1, f"{q}_us") or 0) - d, 1000) if d else None for m in MODES},
                           ("<=", lim) if 1 in a["concurrency"] else None, unit="ms", nd=3, signed=True,
                           notes={"normal": f"nginx proxy {_f(_div((wrk(R, 'nginx proxy', case, 1, q + '_us') or 0) - d, 1000), 3)} ms"} if d else None))
    tt = R.get("ttfb", {})
    for kind in ("passthrough", "translated"):
        for q in ("p50", "p99"):
            out.append(Row(f"time to first content, added {q} vs direct, {kind} stream",
                           {m: tt.get(f"{m} {kind}", {}).get(f"added_{q}_ms") for m in MODES},
                           unit="ms", nd=3, signed=True))
    fo = R.get("failover", {})
    out.append(Row("failover (429 on the first key): added time to first content, paired median",
                   {m: fo.get(m, {}).get("added_ms") for m in MODES}, unit="ms", nd=3, signed=True))
    out.append(Row("idle RSS (after 20 requests)", {m: _div(R["idle_rss_kb"].get(m), 1024) for m in MODES},
                   unit="MB", nd=1))
    oa = R.get("oauth", {})
    out.append(Row(f"idle RSS with {oa.get('accounts', 0):,} OAuth accounts",
                   {m: _div(oa.get(m, {}).get("rss_idle_kb"), 1024) for m in MODES}, ("<=", 40), unit="MB", nd=1))
    h = R.get("hold", {})
    out.append(Row(f"RSS per open stream ({R.get('streams', 0):,} held streams)",
                   {m: h.get(m, {}).get("kb_per_stream") for m in MODES}, None, unit="KB", nd=1,
                   notes={m: f"{h[m].get('first_content', 0):,} of {h[m].get('streams', 0):,} streams held"
                          for m in MODES if m in h}))
    out.append(Row("start to first answer (median)", {m: _med(R["startup_ms"].get(m, [])) for m in MODES},
                   ("<=", 100), unit="ms", nd=0))
    out.append(Row(f"start to first answer with {oa.get('accounts', 0):,} OAuth accounts",
                   {m: oa.get(m, {}).get("startup_ms") for m in MODES}, unit="ms", nd=0))
    return out


def _stream_rows(rs):
    """The per-stream target differs by mode (48 KB normal, 16 KB commercial)."""
    for r in rs:
        if r.label.startswith("RSS per open stream"):
            yield r, {"normal": 48, "commercial": 16}


def table(R):
    rs = rows(R)
    per_stream = dict(_stream_rows(rs))
    lines = [f"### Switchyard benchmark, {R['started']} ({R['host']['cores']} cores; "
             f"{R.get('gateway_version', '')}; {R['args']['rounds']} rounds of {R['args']['duration']} s wrk runs; "
             "medians; load average " + ", ".join(f"{k} {v:.1f}" for k, v in R.get("loadavg", {}).items()) + ")",
             "", "| metric | normal | commercial | target |", "|---|---|---|---|"]
    if R.get("interrupted"):
        lines.insert(1, "\n**Interrupted: partial results.**")
    for r in rs:
        if r in per_stream:
            lims = per_stream[r]
            cells = []
            for m in MODES:
                v = r.values.get(m)
                mark = "" if v is None else (" ✓" if v <= lims[m] else " ✗")
                cells.append("n/a" if v is None else f"**{v:,.1f} KB**{mark} ({r.notes.get(m, '')})")
            lines.append(f"| {r.label} | {cells[0]} | {cells[1]} | ≤ 48 KB normal, ≤ 16 KB commercial |")
            continue
        lines.append(f"| {r.label} | {r.cell('normal')} | {r.cell('commercial')} | {r.target_text()} |")
    lines += ["", absolute(R), "", failures(R)]
    return "\n".join(lines)


def absolute(R):
    """The numbers behind the ratios, per target."""
    a = R["args"]
    names = list(R.get("wrk", {}))
    for n in R.get("idle_rss_kb", {}):
        if n not in names:
            names.append(n)
    out = ["**Absolute numbers** (medians; CPU = process tree utime+stime per completed request)", "",
           "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    cc, top = a["cpu_conns"], max(a["concurrency"])
    for case in CASES:
        out.append(f"| CPU µs/request, {case_name(case)}, c{cc} | "
                   + " | ".join(_f(wrk(R, n, case, cc, "cpu_us_per_req"), 1) for n in names) + " |")
    for case in CASES:
        out.append(f"| req/s, {case_name(case)}, c{top} (peers c{max(a['peer_concurrency'])}) | "
                   + " | ".join(_f(wrk(R, n, case, top, "req_per_s") or wrk(R, n, case, max(a["peer_concurrency"]), "req_per_s"), 0)
                                for n in names) + " |")
    for case in CASES:
        out.append(f"| p50 / p99 ms at c1, {case_name(case)} | "
                   + " | ".join(f"{_f(_div(wrk(R, n, case, 1, 'p50_us'), 1000), 3)} / "
                                f"{_f(_div(wrk(R, n, case, 1, 'p99_us'), 1000), 3)}" for n in names) + " |")
    out.append("| idle RSS MB | " + " | ".join(_f(_div(R["idle_rss_kb"].get(n), 1024), 1) for n in names) + " |")
    out.append("| start to first answer ms | " + " | ".join(_f(_med(R["startup_ms"].get(n, [])), 0) for n in names) + " |")
    tt = R.get("ttfb", {})
    if tt:
        out += ["", "**Time to first content** (ms, sequential; mock with 5 ms between events)", "",
                "| | " + " | ".join(tt) + " |", "|---|" + "---|" * len(tt),
                "| p50 / p99 | " + " | ".join(f"{_f(v['p50_ms'], 3)} / {_f(v['p99_ms'], 3)}" for v in tt.values()) + " |"]
    if R.get("peers_missing"):
        out += [""] + [f"- {k} unavailable: {v}" for k, v in R["peers_missing"].items()]
    if R.get("peer_versions"):
        out += ["", "Peers: " + ", ".join(f"{k} {v}" for k, v in R["peer_versions"].items())]
    return "\n".join(out)


def failures(R):
    """Non-2xx answers and socket errors per target: a run with failures is a bug report."""
    bad = []
    for t, cases in R.get("wrk", {}).items():
        for cn, by in cases.items():
            for k, runs in by.items():
                n2 = sum(r["non_2xx_3xx"] for r in runs)
                se = sum(r["socket_errors"] for r in runs)
                if n2 or se:
                    bad.append(f"| wrk {t}, {cn}, c{k} | {n2} | {se} |")
    for t, pf in R.get("preflight", {}).items():
        for cn, v in pf.items():
            if v not in ("ok", "n/a"):
                bad.append(f"| preflight {t}, {cn} | {v[:120]} | |")
    for t, v in R.get("ttfb", {}).items():
        if v["bad"] or v["errors"]:
            bad.append(f"| time to first content {t} | {v['bad']} without content | {v['errors']} |")
    for m, v in R.get("failover", {}).items():
        if v["bad"]:
            bad.append(f"| failover {m} | {v['bad']} without content | |")
    for name, v in R.get("gateway_logs", {}).items():
        other = {k: n for k, n in v["access_statuses"].items() if k not in ("200", "0 (client closed)")}
        if other or v["levels"].get("ERROR"):
            bad.append(f"| {name}.log | access statuses {other} | ERROR lines {v['levels'].get('ERROR', 0)} |")
    for m, v in R.get("hold", {}).items():
        if v.get("failed") or v.get("non_200") or v.get("first_content") != v.get("streams"):
            bad.append(f"| held streams {m} | {v.get('non_200')} non-200, {v.get('first_content')}/"
                       f"{v.get('streams')} with content | {v.get('failed')} failed |")
    if not bad:
        return ("**Failures**: none (no non-2xx answers, socket errors or malformed answers; "
                "the gateways' access logs show only 200s and clients closing early).")
    return "\n".join(["**Failures**", "", "| where | non-2xx / detail | socket errors |", "|---|---|---|"] + bad)


# ---------------------------------------------------------------- SVG


def svg(R):
    """One bar per metric with a target and mode: measured / target (or target / measured for
    a 'higher is better' target), so the line at 1.0 is the target and shorter is better."""
    items = []
    per_stream = {"normal": 48, "commercial": 16}
    for r in rows(R):
        for m in MODES:
            v = r.values.get(m)
            if v is None:
                continue
            cell = r.cell(m).replace("**", "").split(" (")[0]
            if r.label.startswith("RSS per open stream"):
                op, lim = "<=", per_stream[m]
                cell += " ✓" if v <= lim else " ✗"
            elif r.target:
                op, lim = r.target
            else:
                continue
            if op == "<=":
                # latency targets are "added" ms: compare the addition, floor at 0
                x = max(v, 0) / lim
            else:
                x = lim / v if v > 0 else 9.99
            items.append((r.label, m, x, cell))
    W, left, bar_w, rh = 1300, 500, 520, 16
    lo, hi = 0.1, 30.0  # log axis, measured / target

    def xpos(v):
        v = min(max(v, lo), hi)
        return left + bar_w * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    H = 75 + rh * len(items) + 30
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # noqa: E731
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="10" y="20" font-size="14" font-weight="bold">Switchyard benchmark {esc(R["started"])}: '
         'measured ÷ target, log scale (left of the red line meets the target; "≥" targets inverted)</text>',
         f'<text x="10" y="38" fill="#555">{esc(R.get("gateway_version", ""))}, {R["host"]["cores"]} cores; '
         'blue: normal mode, orange: commercial mode; numbers: the measured value</text>']
    y = 70
    for tick in (0.1, 0.3, 1, 3, 10, 30):
        x = xpos(tick)
        o.append(f'<line x1="{x:.1f}" y1="{y - 8}" x2="{x:.1f}" y2="{y - 4 + rh * len(items)}" stroke="#eee"/>')
        o.append(f'<text x="{x:.1f}" y="{y - 10}" text-anchor="middle" fill="#777">{tick:g}x</text>')
    prev = None
    for label, m, x, cell in items:
        color = "#3b6fb6" if m == "normal" else "#e07b24"
        x0, x1 = xpos(lo), xpos(x)
        if label != prev:
            o.append(f'<text x="{left - 8}" y="{y + 11}" text-anchor="end">{esc(label[:80])}</text>')
        prev = label
        o.append(f'<rect x="{x0}" y="{y + 2}" width="{max(x1 - x0, 1):.1f}" height="{rh - 4}" fill="{color}"/>')
        o.append(f'<text x="{left + bar_w + 8}" y="{y + 11}" fill="#333">{esc(m)}: {esc(cell[:48])}</text>')
        y += rh
    xt = xpos(1.0)
    o.append(f'<line x1="{xt:.1f}" y1="62" x2="{xt:.1f}" y2="{y + 4}" stroke="#c00" stroke-dasharray="4,3"/>')
    o.append(f'<text x="{xt:.1f}" y="{y + 18}" text-anchor="middle" fill="#c00">target</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"
