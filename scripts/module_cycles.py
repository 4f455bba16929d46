#!/usr/bin/env python3
"""Prints the module graph of src/ and its cycles; exits 1 when there is a cycle.

A node per file (src/a/b.rs and src/a/b/mod.rs are `a::b`); an edge A -> B for every
`crate::...` or `super::...` path in A (outside `#[cfg(test)] mod tests` and comments) that
names module B or an item of it. A parent declaring or re-exporting its children by a relative
path (`mod x; pub use x::Y;`) is containment, not an edge.

    python3 scripts/module_cycles.py [src] [module ...]   # the edges of these modules only
"""
import os
import re
import sys


def modules(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(dirpath, name)
                parts = os.path.relpath(path, root)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib"):
                    parts = parts[:-1]
                files["::".join(parts)] = path
    return files


def edges_of(name, path, mods):
    src = open(path, encoding="utf-8").read()
    cut = src.find("#[cfg(test)]\nmod tests")
    if cut >= 0:
        src = src[:cut]
    src = re.sub(r"//[^\n]*", "", src)
    here = name.split("::") if name else []
    out = set()
    for p in re.findall(r"\b((?:crate|super)(?:::\w+)+)", src):
        segs = p.split("::")
        base, segs = ([], segs[1:]) if segs[0] == "crate" else (here[:-1], segs[1:])
        target = next(
            ("::".join(base + segs[:k]) for k in range(len(segs), 0, -1) if "::".join(base + segs[:k]) in mods),
            "::".join(base) if base else None,
        )
        if target is not None and target != name:
            out.add(target)
    return out


def cycles(graph):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    args = sys.argv[1:]
    root = args.pop(0) if args and os.path.isdir(args[0]) else os.path.join(os.path.dirname(__file__), "..", "src")
    files = modules(root)
    graph = {m: edges_of(m, p, files) & set(files) for m, p in files.items()}
    for m in sorted(graph):
        if not args or any(m == a or m.startswith(a + "::") for a in args):
            print(f"{m or '(crate root)'} -> {' '.join(sorted(graph[m]))}")
    found = cycles(graph)
    for c in found:
        print("cycle among:", " ".join(c))
    print(f"{len(found)} cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
