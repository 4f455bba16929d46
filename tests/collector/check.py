#!/usr/bin/env python3
"""Checks what the OpenTelemetry Collector's file exporter wrote for one run of emit.c.

    check.py FILE --trace TRACE_ID --session SESSION_ID --tag TAG --service NAME [--wait S]

FILE holds OTLP/JSON lines as the collector writes them (protobuf JSON mapping: enums may be
numbers, 64-bit integers strings, ids hex). Prints one "ok   ..." / "FAIL ..." line per check.
"""
import argparse
import json
import sys
import time


def value(v):
    """An OTLP AnyValue as (type, python value)."""
    for k in ("stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue"):
        if k in v:
            x = v[k]
            if k == "intValue":
                x = int(x)
            elif k == "doubleValue":
                x = float(x)
            return k, x
    return None, None


def attrs(kvs):
    return {kv["key"]: value(kv.get("value") or {}) for kv in kvs or []}


def read(path, trace):
    """(spans of the trace as (span, resource attributes, scope name), unparsable lines)."""
    spans, bad_lines = [], 0
    try:
        with open(path, encoding="utf-8") as f:
            data = f.read()
    except FileNotFoundError:
        return spans, 0
    for line in data.split("\n")[:-1]:  # complete lines only
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            bad_lines += 1
            continue
        for rs in doc.get("resourceSpans", []):
            res = attrs((rs.get("resource") or {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    if s.get("traceId", "").lower() == trace.lower():
                        spans.append((s, res, (ss.get("scope") or {}).get("name")))
    return spans, bad_lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--trace", required=True)
    p.add_argument("--session", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--wait", type=float, default=15, help="seconds to wait for the spans (default 15)")
    a = p.parse_args()

    # The file exporter flushes on a timer: wait (up to --wait s) until the trace's 4 spans are
    # in complete lines; a last line without its newline is still being written.
    deadline = time.monotonic() + a.wait
    while True:
        spans, bad_lines = read(a.file, a.trace)
        if len(spans) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    results = []

    def check(cond, what):
        results.append(bool(cond))
        print(("ok   " if cond else "FAIL ") + f"[{a.tag}] {what}")

    by_name = {s["name"]: (s, r, scope) for s, r, scope in spans}
    check(bad_lines == 0, "the file exporter's output is OTLP/JSON lines")
    check(sorted(by_name) == ["collector.agent", "collector.llm", "collector.tool", "collector.unicode"] and len(spans) == 4,
          f"the collector wrote the 4 spans of trace {a.trace[:8]}…: {sorted(by_name)}")
    if len(by_name) != 4:
        return 1
    agent, llm, tool, uni = (by_name[n][0] for n in ("collector.agent", "collector.llm", "collector.tool", "collector.unicode"))
    A = {n: attrs(by_name[n][0].get("attributes")) for n in by_name}

    check(not agent.get("parentSpanId"), "the root has no parent")
    check(llm.get("parentSpanId") == agent["spanId"] and uni.get("parentSpanId") == agent["spanId"]
          and tool.get("parentSpanId") == llm["spanId"], "parent ids intact (agent > llm > tool, agent > unicode)")
    check(all(A[n].get("honeyhive.session_id") == ("stringValue", a.session) for n in A),
          f"honeyhive.session_id = {a.session} on every span")
    check([A[n].get("honeyhive_event_type", (0, 0))[1] for n in ("collector.agent", "collector.llm", "collector.tool")]
          == ["chain", "model", "tool"], "event types chain / model / tool")
    check(A["collector.agent"].get("honeyhive_inputs.question") == ("stringValue", "what is OTLP?")
          and A["collector.agent"].get("honeyhive_metadata.run") == ("stringValue", a.tag),
          "inputs and metadata on the root")
    L = A["collector.llm"]
    check(L.get("honeyhive_config.model") == ("stringValue", "gpt-4o")
          and L.get("honeyhive_config.temperature") == ("doubleValue", 0.5)
          and L.get("honeyhive_outputs.text") == ("stringValue", "OTLP is the OpenTelemetry protocol."),
          "config and outputs on the model span")
    check(L.get("honeyhive_metrics.tokens") == ("intValue", 42) and L.get("honeyhive_metrics.cost") == ("doubleValue", 0.25)
          and L.get("honeyhive_metrics.cached") == ("boolValue", True), "typed metrics: int 42, double 0.25, bool true")
    status = tool.get("status") or {}
    check(status.get("code") in (2, "STATUS_CODE_ERROR") and "timed out" in str(A["collector.tool"].get("honeyhive_error", (0, ""))[1])
          and any(e.get("name") == "exception" for e in tool.get("events") or []),
          "the error: ERROR status, honeyhive_error, an exception event")
    check(A["collector.unicode"].get("honeyhive_outputs.text") == ("stringValue", "caf\u00e9 \u2713 \u65e5\u672c"),
          "non-ASCII text intact")
    check(all(int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]) > 0 for s, _, _ in spans),
          "timestamps present and ordered")
    check(all(r.get("service.name") == ("stringValue", a.service) for _, r, _ in spans),
          f"resource service.name = {a.service}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
