#!/usr/bin/env python3
"""BENCHMARKS.md, items 5 and 7: the official Python SDK (honeyhive, pinned in
tests/reference/requirements.txt), measured in the same `make bench` run as libhoneyhive.

  reference.py hot URL [rounds] [n]
      start_span + enrich_span (3 metadata fields) + end, inside a root span of the
      tracer's session, batch mode, exporting to the loopback receiver at URL: bursts of n
      spans timed, each followed by an untimed force_flush (and a receiver reset); the
      figure is the median over bursts of microseconds per span.

  reference.py init DOWN_URL HANG_URL [calls]
      HoneyHiveTracer.init latency against a server that refuses connections and one that
      accepts and never answers, with HH_API_TIMEOUT=1 (its default is 5 s: init blocks
      for that long on a hanging server; 1 s keeps the run short).

Prints "@@ {json}" result lines for benches/run.py (run with the venv's python).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request

# The SDK must see only what this script sets.
for k in list(os.environ):
    if k.startswith(("HH_", "HONEYHIVE_", "OTEL_")):
        del os.environ[k]
os.environ["HH_API_TIMEOUT"] = "1"

import logging  # noqa: E402
import warnings  # noqa: E402

logging.disable(logging.WARNING)  # the SDK logs every failed session call
warnings.filterwarnings("ignore", category=DeprecationWarning)  # init(project=...)


def report(id_: str, value: float, unit: str, note: str) -> None:
    print(f"  {id_:<44} {value:>14.3f} {unit:<10} {note}")
    print("@@ " + json.dumps({"id": id_, "value": value, "unit": unit, "note": note}), flush=True)


def init(url: str):
    from honeyhive import HoneyHiveTracer

    return HoneyHiveTracer.init(api_key="bench-key", project="bench", source="bench",
                                session_name="bench", server_url=url)


def hot(url: str, rounds: int, n: int) -> None:
    tracer = init(url)
    per_span = []

    def burst() -> float:
        start = time.perf_counter_ns()
        for _ in range(n):
            with tracer.start_span("llm.call", attributes={"honeyhive_event_type": "model"}):
                tracer.enrich_span(metadata={"model": "gpt-4o", "tokens": 42, "temperature": 0.7})
        elapsed = time.perf_counter_ns() - start
        tracer.force_flush()
        urllib.request.urlopen(urllib.request.Request(url + "/__hh/reset", data=b"",
                                                      method="POST")).read()
        return elapsed / n

    with tracer.start_span("request", attributes={"honeyhive_event_type": "chain"}):
        burst()  # warm-up
        for _ in range(rounds):
            per_span.append(burst())
    tracer.force_flush()
    report("python.hot_us", statistics.median(per_span) / 1000, "us/span",
           f"Python SDK: start_span + enrich_span(3 metadata fields) + end, median of "
           f"{rounds} bursts of {n}")


def init_latency(down: str, hang: str, calls: int) -> None:
    for what, url in (("down", down), ("hang", hang)):
        lat = []
        for _ in range(calls):
            start = time.perf_counter()
            init(url)
            lat.append((time.perf_counter() - start) * 1000)
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        report(f"python.init_{what}_p50_ms", statistics.median(lat), "ms",
               f"Python SDK HoneyHiveTracer.init, server {what}, HH_API_TIMEOUT=1 s, "
               f"{calls} calls, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms")
        report(f"python.init_{what}_max_ms", lat[-1], "ms", f"server {what}")


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "hot":
        hot(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 7,
            int(sys.argv[4]) if len(sys.argv) > 4 else 500)
    elif sys.argv[1] == "init":
        init_latency(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 5)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
