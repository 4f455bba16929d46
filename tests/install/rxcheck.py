#!/usr/bin/env python3
"""Asserts on what hh-receiver recorded (its /__hh/wait and /__hh/requests control endpoints).

    rxcheck.py URL --spans N [--names a,b] [--sessions K] [--traces K] [--lang c]
                   [--started] [--header NAME=VALUE ...] [--path SUFFIX] [--timeout-ms T]

Waits until at least N spans arrived, then checks: exactly N spans; the given names are among
them; K distinct honeyhive.session_id values (every span has one); K distinct trace ids; every
parent id points at a span that arrived (complete trees); every OTLP request was accepted and
carried hh-client-language LANG and each --header (name case-insensitive), on a path ending
with --path; with --started, every span's session was started with `POST .../session/start`
(a tracer also starts its default session, so there may be more). Prints what it saw; exit 1
on a failed check. Python 3 standard library only.
"""
import argparse
import json
import sys
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--spans", type=int, required=True)
    p.add_argument("--names", default="")
    p.add_argument("--sessions", type=int)
    p.add_argument("--traces", type=int)
    p.add_argument("--lang")
    p.add_argument("--started", action="store_true")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--path")
    p.add_argument("--timeout-ms", type=int, default=15000)
    a = p.parse_args()

    spans = get(f"{a.url}/__hh/wait?spans={a.spans}&timeout_ms={a.timeout_ms}")
    requests = get(f"{a.url}/__hh/requests")
    errors = []
    names = sorted({s["name"] for s in spans})
    sessions = {(s.get("attributes") or {}).get("honeyhive.session_id") for s in spans}
    traces = {s["trace_id"] for s in spans}
    print(f"receiver: {len(spans)} spans, {len(traces)} traces, {len(sessions)} sessions; names {names}")

    if len(spans) != a.spans:
        errors.append(f"expected {a.spans} spans, got {len(spans)}")
    for n in filter(None, a.names.split(",")):
        if n not in names:
            errors.append(f"no span named {n!r}")
    if a.sessions is not None:
        if None in sessions:
            errors.append("a span without honeyhive.session_id")
        if len(sessions - {None}) != a.sessions:
            errors.append(f"expected {a.sessions} session ids, got {len(sessions - {None})}")
    if a.traces is not None and len(traces) != a.traces:
        errors.append(f"expected {a.traces} trace ids, got {len(traces)}")
    ids = {(s["trace_id"], s["span_id"]) for s in spans}
    dangling = [s["name"] for s in spans if s.get("parent_span_id") and (s["trace_id"], s["parent_span_id"]) not in ids]
    if dangling:
        errors.append(f"spans whose parent did not arrive: {dangling}")
    otlp = [r for r in requests if r.get("otlp_format")]
    bad = [r for r in otlp if r.get("decode_error") or r.get("response_status") != 200]
    if bad:
        errors.append(f"{len(bad)} OTLP requests not accepted")
    if a.lang is not None:
        langs = sorted({(r.get("headers") or {}).get("hh-client-language", "") for r in otlp})
        if langs != [a.lang]:
            errors.append(f"hh-client-language {langs}, expected [{a.lang!r}]")
    if not otlp:
        errors.append("no OTLP request arrived")
    for h in a.header:
        name, _, value = h.partition("=")
        got = sorted({(r.get("headers") or {}).get(name.lower()) or "" for r in otlp})
        if got != [value]:
            errors.append(f"header {name}: {got}, expected [{value!r}]")
    if a.path is not None:
        paths = sorted({r["path"] for r in otlp})
        if not all(p.endswith(a.path) for p in paths):
            errors.append(f"OTLP paths {paths}, expected .../{a.path.lstrip('/')}")
    if a.started:
        starts = [r for r in requests if r["method"] == "POST" and r["path"].endswith("/session/start")]
        started = {((r.get("body_json") or {}).get("session") or {}).get("session_id") for r in starts}
        missing = sessions - {None} - started
        if missing:
            errors.append(f"sessions never started with session/start: {sorted(missing)}")
    for e in errors:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
