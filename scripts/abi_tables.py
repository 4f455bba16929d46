#!/usr/bin/env python3
"""The bindings' copies of the C header's shared lists, generated from or checked against it.

include/honeyhive.h (generated from the Rust core by cbindgen) is the one source of the status
codes, the HH_EVENT_* event types, the HH_NS_* namespaces, the hh_stats fields and the buffer
sizes. The bindings follow it:

- Ruby: bindings/ruby/lib/honeyhive/abi.rb is generated from the header (`--write`, which
  `make header` runs) and committed; `--check` fails when it is stale.
- C++: honeyhive.hpp uses the header's constants and `hh_stats` directly; `--check` fails when
  `describe()`, `EventType`, `Namespace` or `enrichment_key()` miss or add a value.
- Go: the package uses the C constants through cgo; `--check` fails when a status, event type,
  namespace or stats field of the header has no `C.<NAME>` / `s.<field>` use in it, or when
  `EventType.String()` does not spell an event type as the header does.
- Rust: the core's string tables `NAMESPACES` and `EVENT_TYPES` (indexed by the HH_NS_* and
  HH_EVENT_* numbers less one) must list the header's names in the header's order.

Usage: abi_tables.py [--root DIR] (--check | --write). Exit status 1 with one line per
difference when the bindings drift from the header.
"""

import argparse
import os
import re
import sys

HEADER = "include/honeyhive.h"
RUBY = "bindings/ruby/lib/honeyhive/abi.rb"
CPP = "bindings/cpp/include/honeyhive/honeyhive.hpp"
GO_DIR = "bindings/go"
RUST_DIR = "src"


class Header:
    """The lists the header defines, in numeric (or declaration) order."""

    def __init__(self, text):
        self.statuses = self._enum(text, "hh_status")
        # HH_EVENT_ID_BUF_LEN is a buffer size (see `sizes`), not an event type.
        self.events = [
            (n, v) for n, v in self._defines(text, "HH_EVENT_") if not n.endswith("_LEN")
        ]
        self.namespaces = self._defines(text, "HH_NS_")
        self.stats_fields = self._struct_fields(text, "hh_stats")
        self.sizes = {
            name: int(value)
            for name, value in re.findall(r"^#define (HH_\w+_LEN) (\d+)$", text, re.M)
        }
        for what, items in [
            ("the hh_status enum", self.statuses),
            ("HH_EVENT_* constants", self.events),
            ("HH_NS_* constants", self.namespaces),
            ("the hh_stats struct", self.stats_fields),
        ]:
            if not items:
                raise ValueError(f"{HEADER}: {what} not found")

    @staticmethod
    def _enum(text, name):
        m = re.search(r"typedef enum \{((?:(?!typedef).)*?)\} " + name + ";", text, re.S)
        if not m:
            return []
        return [(n, int(v)) for n, v in re.findall(r"^\s*(HH_\w+) = (-?\d+),?$", m.group(1), re.M)]

    @staticmethod
    def _defines(text, prefix):
        return [
            (n, int(v)) for n, v in re.findall(r"^#define (" + prefix + r"\w+) (\d+)$", text, re.M)
        ]

    @staticmethod
    def _struct_fields(text, name):
        m = re.search(r"typedef struct \{((?:(?!typedef).)*?)\} " + name + ";", text, re.S)
        if not m:
            return []
        body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
        return re.findall(r"^\s*(\w+) (\w+);$", body, re.M)


def status_symbol(name):
    """HH_OK -> ok, HH_ERR_INVALID_JSON -> invalid_json (Ruby's status symbols)."""
    return re.sub(r"^HH_(ERR_)?", "", name).lower()


def ruby_constant(name):
    """HH_ERR_TIMEOUT -> ERR_TIMEOUT, HH_OK -> OK."""
    return name[len("HH_"):]


RUBY_TYPES = {"uint64_t": ":uint64", "uint32_t": ":uint32", "int64_t": ":int64", "int32_t": ":int32"}


def ruby_source(h):
    def hash_lines(pairs, indent="      "):
        # One entry a line: a diff of this file shows exactly what the header changed.
        return "\n".join(f"{indent}{k} => {v}," for k, v in pairs)

    def symbol_lines(pairs, indent="      "):
        return "\n".join(f"{indent}{k}: {v}," for k, v in pairs)

    status_width = max(len(ruby_constant(n)) for n, _ in h.statuses)
    lines = [
        "# frozen_string_literal: true",
        "",
        f"# Generated from {HEADER} by scripts/abi_tables.py: do not edit. `make header`",
        "# regenerates it; `make header-check` fails when it differs from the header.",
        "",
        "module HoneyHive",
        "  module Native",
        "    # Buffer sizes (HH_*_LEN).",
    ]
    for name, value in sorted(h.sizes.items()):
        lines.append(f"    {name[len('HH_'):]} = {value}")
    lines += ["", "    # Status codes (hh_status; stable numeric values)."]
    for name, value in h.statuses:
        lines.append(f"    {ruby_constant(name).ljust(status_width)} = {value}")
    lines += [
        "",
        "    # Status code => symbol, e.g. 3 => :invalid_json (HoneyHive::Error#status).",
        "    STATUS = {",
        hash_lines((v, f":{status_symbol(n)}") for n, v in h.statuses),
        "    }.freeze",
        "    STATUS_CODE = STATUS.invert.freeze",
        "",
        "    # Event types (HH_EVENT_*).",
        "    EVENT_TYPES = {",
        symbol_lines((n[len("HH_EVENT_"):].lower(), v) for n, v in h.events),
        "    }.freeze",
        "",
        "    # Namespaces of the typed setters (HH_NS_*).",
        "    NAMESPACES = {",
        symbol_lines((n[len("HH_NS_"):].lower(), v) for n, v in h.namespaces),
        "    }.freeze",
        "",
        "    # hh_stats, in declaration order: [field, ffi type].",
        "    STATS_LAYOUT = [",
    ]
    for ctype, field in h.stats_fields:
        if ctype not in RUBY_TYPES:
            raise ValueError(f"{HEADER}: hh_stats.{field} has type {ctype}, unknown to {RUBY}")
        lines.append(f"      [:{field}, {RUBY_TYPES[ctype]}],")
    lines += ["    ].freeze", "  end", "end", ""]
    return "\n".join(lines)


def block(text, start, what, path):
    """The text from `start` to its closing brace at the same depth."""
    i = text.find(start)
    if i < 0:
        raise ValueError(f"{path}: {what} not found (looked for `{start}`)")
    depth = 0
    for j in range(text.index("{", i), len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i : j + 1]
    raise ValueError(f"{path}: {what} has no closing brace")


def compare(problems, where, expected, found):
    for name in sorted(set(expected) - set(found)):
        problems.append(f"{where}: missing {name}")
    for name in sorted(set(found) - set(expected)):
        problems.append(f"{where}: has {name}, which {HEADER} does not define")


def check_cpp(h, text, problems):
    describe = block(text, "inline const char* describe(hh_status status)", "describe()", CPP)
    compare(problems, f"{CPP} describe()", [n for n, _ in h.statuses],
            re.findall(r"case (HH_\w+):", describe))

    events = block(text, "enum class EventType", "enum class EventType", CPP)
    compare(problems, f"{CPP} enum class EventType", [n for n, _ in h.events],
            re.findall(r"= (HH_EVENT_\w+)", events))

    namespaces = block(text, "enum class Namespace", "enum class Namespace", CPP)
    members = dict(re.findall(r"(\w+) = (HH_NS_\w+)", namespaces))
    compare(problems, f"{CPP} enum class Namespace", [n for n, _ in h.namespaces],
            members.values())

    keys = block(text, "inline const char* enrichment_key(Namespace ns)", "enrichment_key()", CPP)
    returned = dict(re.findall(r'case Namespace::(\w+): return "(\w+)";', keys))
    expected = {}
    for member, constant in members.items():
        if constant != "HH_NS_NONE":
            expected[f"Namespace::{member} -> \"{constant[len('HH_NS_'):].lower()}\""] = True
    compare(problems, f"{CPP} enrichment_key()", expected,
            [f'Namespace::{m} -> "{k}"' for m, k in returned.items()])


def check_go(h, sources, problems):
    used = set()
    fields = set()
    for text in sources.values():
        used.update(re.findall(r"\bC\.(HH_\w+)", text))
        fields.update(re.findall(r"\bs\.(\w+)\)", text))
    for what, names in [("status", h.statuses), ("event type", h.events), ("namespace", h.namespaces)]:
        for name, _ in names:
            if name not in used:
                problems.append(f"{GO_DIR}: the {what} {name} has no C.{name} constant")
    # EventType.String(): the event type's name as the header spells it (HH_EVENT_MODEL: "model").
    text = "".join(sources.values())
    consts = dict(re.findall(r"(Event\w+)\s+EventType = C\.(HH_EVENT_\w+)", text))
    names = dict(re.findall(r'case (Event\w+):\s*return "(\w*)"', text))
    for go_name, c_name in consts.items():
        want = "" if c_name == "HH_EVENT_DEFAULT" else c_name[len("HH_EVENT_"):].lower()
        if names.get(go_name) != want:
            problems.append(f'{GO_DIR}: EventType.String() should return "{want}" for {go_name}')
    for _, field in h.stats_fields:
        if field not in fields:
            problems.append(f"{GO_DIR}: Stats does not read hh_stats.{field} (cTracerStats)")


def check_rust(h, sources, problems):
    """The core's name tables, in the order of the header's numbers 1, 2, ..."""
    tables = [
        ("NAMESPACES", r"const NAMESPACES: \[\(&str, &str\); \d+\] = \[(.*?)\];",
         r'\(\s*"(\w+)"', h.namespaces, "HH_NS_"),
        ("EVENT_TYPES", r"const EVENT_TYPES: \[&str; \d+\] = \[(.*?)\];", r'"(\w+)"',
         h.events, "HH_EVENT_"),
    ]
    for table, pattern, entry, constants, prefix in tables:
        found = [(path, m) for path, text in sources.items()
                 for m in re.finditer(pattern, text, re.S)]
        if len(found) != 1:
            problems.append(f"{RUST_DIR}: expected one `const {table}` table, found {len(found)}")
            continue
        path, m = found[0]
        names = re.findall(entry, m.group(1))
        expected = [n[len(prefix):].lower() for n, v in sorted(constants, key=lambda c: c[1]) if v > 0]
        if names != expected:
            problems.append(f"{path}: {table} lists {names}; {HEADER}'s {prefix}* 1.. are {expected}")


def read(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail when a binding drifts")
    mode.add_argument("--write", action="store_true", help=f"regenerate {RUBY}")
    args = ap.parse_args(argv)

    try:
        h = Header(read(args.root, HEADER))
        ruby = ruby_source(h)
        if args.write:
            with open(os.path.join(args.root, RUBY), "w", encoding="utf-8") as f:
                f.write(ruby)
            return 0
        problems = []
        try:
            current = read(args.root, RUBY)
        except FileNotFoundError:
            current = None
        if current != ruby:
            problems.append(f"{RUBY}: differs from what {HEADER} generates: run make header")
        check_cpp(h, read(args.root, CPP), problems)
        go_dir = os.path.join(args.root, GO_DIR)
        go = {
            name: read(go_dir, name)
            for name in sorted(os.listdir(go_dir))
            if name.endswith(".go") and not name.endswith("_test.go")
        }
        check_go(h, go, problems)
        rust = {}
        for dirpath, _, files in os.walk(os.path.join(args.root, RUST_DIR)):
            for name in files:
                if name.endswith(".rs"):
                    full = os.path.join(dirpath, name)
                    rust[os.path.relpath(full, args.root)] = read(dirpath, name)
        check_rust(h, rust, problems)
    except ValueError as e:
        problems = [str(e)]
    if problems:
        for p in problems:
            print(f"abi-tables: {p}", file=sys.stderr)
        print(f"abi-tables: the bindings drifted from {HEADER} ({len(problems)} difference(s))",
              file=sys.stderr)
        return 1
    print(f"abi-tables: Ruby, C++, Go and the core's name tables match {HEADER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
