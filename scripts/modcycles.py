#!/usr/bin/env python3
"""Fails when a crate's modules import each other in a cycle (STYLE.md rule 19).

usage: scripts/modcycles.py [CRATE_SRC_DIR ...]   (default: every src/ of the workspace)

Python 3 standard library only, so CI can run it before any Rust is built.

A module is a .rs file (lib.rs, main.rs and mod.rs stand for their folder). Module A depends
on module B when A's non-test code names a path into B: `crate::`, `super::` and `self::`
paths, `use` trees with braces (`use crate::{a::X, b}`) included. A path through a
re-export or a plain `use` in another module (`crate::Config` where lib.rs says
`pub use model::*`) counts for the module that defines the item, so a re-export does not hide
a dependency. Test code is left out: items under `#[cfg(test)]`, and files whose `mod` line
is. Edges between a module and its own ancestor are ignored (a parent using its children and
re-exporting them is the usual Rust layout). Each group of modules that reach each other is
printed; the exit status is 1 if there is any.

Based on ../shared/tools/modcycles.py; differs in following `use` trees, re-exports and
`#[cfg(test)]` items instead of cutting each file at its first `#[cfg(test)]`.
"""
import os
import re
import sys

ITEM_KW = r"(?:struct|enum|fn|type|trait|const|static|union|mod|macro_rules!)"


def strip(src):
    """The code without comments, string and char literals (so braces and paths are code)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif (m := re.match(r'b?r(#*)"', src[i:i + 300])) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            end = src.find('"' + m.group(1), i + m.end())
            out.append('""')
            i = n if end < 0 else end + 1 + len(m.group(1))
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            out.append('""')
            i += 1
        elif c == "'" and (m := re.match(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", src[i:i + 12])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, i):
    """Index just past the item starting at `i`: its `;` or its balanced `{...}`."""
    depth = 0
    while i < len(code):
        c = code[i]
        if c == ";" and depth == 0:
            return i + 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def without_tests(code):
    """The code with every `#[cfg(test)]` item removed; also the names of test-only `mod x;`."""
    test_mods, parts, pos = set(), [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", code):
        if m.start() < pos:
            continue
        parts.append(code[pos:m.start()])
        end = item_end(code, m.end())
        d = re.match(r"\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code[m.end():end])
        if d:
            test_mods.add(d.group(1))
        pos = end
    parts.append(code[pos:])
    return "".join(parts), test_mods


def use_paths(tree, prefix=()):
    """`a::{b, c::d as e, f::*}` -> [(("a","b"), "b"), (("a","c","d"), "e"), (("a","f","*"), "*")]."""
    tree = tree.strip()
    if not tree:
        return []
    # split the top level at commas
    items, depth, cur = [], 0, ""
    for c in tree:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += c
    items.append(cur)
    if len(items) > 1:
        return [p for it in items for p in use_paths(it, prefix)]
    t = items[0].strip()
    if t.startswith("::"):
        t = t[2:]
    brace = t.find("{")
    if brace >= 0:
        head = [s for s in t[:brace].split("::") if s.strip()]
        return use_paths(t[brace + 1:t.rfind("}")], prefix + tuple(s.strip() for s in head))
    alias = None
    if " as " in t:
        t, alias = (s.strip() for s in t.split(" as ", 1))
    segs = prefix + tuple(s.strip() for s in t.split("::") if s.strip())
    if segs and segs[-1] == "self":
        segs = segs[:-1]
    if not segs:
        return []
    return [(segs, alias or segs[-1])]


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}
        has_lib = os.path.isfile(os.path.join(src, "lib.rs"))
        for d, _, fs in os.walk(src):
            for x in fs:
                f = os.path.join(d, x)
                rel = os.path.relpath(f, src)
                if not x.endswith(".rs") or rel.startswith("bin" + os.sep):
                    continue  # src/bin/*.rs are crates of their own
                if rel == "main.rs" and has_lib:
                    continue  # a binary next to the library: a crate of its own
                parts = rel[:-3].split(os.sep)
                if parts[-1] in ("lib", "main", "mod"):
                    parts = parts[:-1]
                self.files[tuple(parts)] = f
        self.code, self.uses, test_only = {}, {}, set()
        for m, f in self.files.items():
            with open(f, encoding="utf-8", errors="replace") as fh:
                code, tmods = without_tests(strip(fh.read()))
            self.code[m] = code
            test_only |= {m + (t,) for t in tmods}
            binds, globs = {}, []
            for u in re.finditer(r"\buse\s+([^;]+);", code):
                for segs, name in use_paths(u.group(1)):
                    if name == "*":
                        globs.append(segs[:-1])
                    else:
                        binds[name] = segs
            self.uses[m] = (binds, globs)
        # a test-only module takes its children along
        self.mods = {m for m in self.files if not any(m[:len(t)] == t for t in test_only)}

    def absolute(self, here, segs):
        """A `crate::`/`super::`/`self::` path (or one starting at a child of `here`) made
        absolute; None for paths into other crates."""
        if segs[0] == "crate":
            return list(segs[1:])
        if segs[0] in ("super", "self"):
            cur, i = list(here), 0
            while i < len(segs) and segs[i] in ("super", "self"):
                if segs[i] == "super":
                    cur = cur[:-1]
                i += 1
            return cur + list(segs[i:])
        if here + (segs[0],) in self.mods:
            return list(here) + list(segs)
        return None

    def defines(self, m, name):
        return re.search(rf"\b{ITEM_KW}\s+{re.escape(name)}\b", self.code.get(m, "")) is not None

    def owner(self, path, seen=None):
        """The module that defines what the absolute `path` names."""
        seen = seen or set()
        cur = ()
        for i, seg in enumerate(path):
            if cur + (seg,) in self.mods:
                cur = cur + (seg,)
                continue
            key = (cur, seg)
            if key in seen:
                return cur
            seen.add(key)
            binds, globs = self.uses.get(cur, ({}, []))
            if seg in binds:
                target = self.absolute(cur, binds[seg])
                if target is None:
                    return cur
                return self.owner(target + list(path[i + 1:]), seen)
            if not self.defines(cur, seg):
                for g in globs:
                    target = self.absolute(cur, g)
                    if target is not None:
                        t = self.owner(target, seen)
                        if self.defines(t, seg):
                            return t
            return cur
        return cur

    def edges(self):
        out = {m: set() for m in self.mods}
        for m in self.mods:
            code = self.code[m]
            paths = []
            for u in re.finditer(r"\buse\s+([^;]+);", code):
                paths += [segs for segs, _ in use_paths(u.group(1))]
            rest = re.sub(r"\buse\s+[^;]+;", " ", code)
            paths += [tuple(p.split("::")) for p in re.findall(r"(?<![\w$:])((?:crate|super|self)(?:::\w+)+)", rest)]
            for segs in paths:
                segs = tuple(s for s in segs if s != "*")
                if not segs:
                    continue
                target = self.absolute(m, segs)
                if target is None:
                    continue
                t = self.owner(target)
                if t == m or m[:len(t)] == t or t[:len(m)] == m:
                    continue  # itself, an ancestor or a descendant
                out[m].add(t)
        return out


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = sys.argv[1:]
    if not dirs:
        for d, subdirs, files in os.walk(root):
            subdirs[:] = [s for s in subdirs if s not in ("target", "vendor", "node_modules") and not s.startswith(".")]
            if "Cargo.toml" in files and os.path.isdir(os.path.join(d, "src")):
                dirs.append(os.path.relpath(os.path.join(d, "src"), root))
    found = 0
    for d in sorted(dirs):
        src = d if os.path.isabs(d) else os.path.join(root, d)
        if not os.path.isdir(src):
            print(f"modcycles: no such directory: {d}", file=sys.stderr)
            return 2
        crate = Crate(src)
        edges = crate.edges()
        for comp in cycles(edges):
            found += 1
            names = sorted("::".join(m) or "<root>" for m in comp)
            print(f"cycle in {d}: {', '.join(names)}")
            for m in sorted(comp):
                for t in sorted(edges[m] & set(comp)):
                    print(f"    {'::'.join(m)} -> {'::'.join(t)}")
    print(f"module cycles: {found}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
