#!/usr/bin/env python3
"""Runs test suites one after another and ends with one total over all of them.

    python3 scripts/test_all.py SUITE...        # each SUITE is a make target (make test, make check)

Each suite's output is shown as it runs and kept in build/test-logs/<suite>.log. A failing suite
does not stop the others: the run ends with a table (suite, passed, failed, seconds) and one line
"test: N passed, M failed"; the exit status is non-zero when any suite failed.

What a suite counts is what its runner reports: cargo's "test result" lines, ctest's summary,
minitest's "runs/failures/errors", unittest's "Ran N tests", go's passing packages, and the "N passed, M failed" lines of
this repository's own programs (a labelled total such as "reliability: N passed, M failed"
stands for the lines before it). A suite whose output has none of these counts as one check,
passed or failed by its exit status. A suite that exits non-zero always counts at least one
failure, whatever it printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "build" / "test-logs"

CARGO = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed")
CTEST = re.compile(r"^\d+% tests passed, (\d+) tests? failed out of (\d+)")
MINITEST = re.compile(r"^(\d+) runs, \d+ assertions, (\d+) failures, (\d+) errors")
# go test's "ok  <package>\t0.1s" (or "(cached)"), not this repository's "ok   <check>" lines.
GO_OK = re.compile(r"^ok\s+\S+\s+(\d+(\.\d+)?s|\(cached\))")
GO_FAIL = re.compile(r"^(FAIL\s+\S+\s|--- FAIL: )")
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ")
UNITTEST_FAILED = re.compile(r"^FAILED \((.*)\)")
LABELLED = re.compile(r"^([A-Za-z][\w-]*): (\d+) passed, (\d+) failed")
PLAIN = re.compile(r"^(\d+) passed, (\d+) failed")


def count(lines: list[str]) -> tuple[int, int] | None:
    """(passed, failed) as the suite's runners reported them, or None when none did."""
    passed = failed = 0
    found = False
    plain: list[tuple[int, int]] = []
    labelled: tuple[int, int] | None = None
    for raw in lines:
        line = raw.strip()
        if m := CARGO.match(line):
            passed, failed, found = passed + int(m[1]), failed + int(m[2]), True
        elif m := CTEST.match(line):
            bad, total = int(m[1]), int(m[2])
            passed, failed, found = passed + total - bad, failed + bad, True
        elif m := MINITEST.match(line):
            runs, bad = int(m[1]), int(m[2]) + int(m[3])
            passed, failed, found = passed + runs - bad, failed + bad, True
        elif m := UNITTEST_RAN.match(line):
            passed, found = passed + int(m[1]), True
        elif m := UNITTEST_FAILED.match(line):
            bad = sum(int(n) for k, n in re.findall(r"(\w+)=(\d+)", m[1]) if k in ("failures", "errors"))
            passed, failed = passed - bad, failed + bad
        elif GO_OK.match(line):
            passed, found = passed + 1, True
        elif GO_FAIL.match(line):
            failed, found = failed + 1, True
        elif m := LABELLED.match(line):
            # A labelled total covers the plain lines printed before it.
            labelled = (int(m[2]), int(m[3]))
            plain.clear()
        elif m := PLAIN.match(line):
            plain.append((int(m[1]), int(m[2])))
    if labelled:
        passed, failed, found = passed + labelled[0], failed + labelled[1], True
    for p, f in plain:
        passed, failed, found = passed + p, failed + f, True
    return (passed, failed) if found else None


def run(suite: str) -> tuple[int, int, float]:
    LOGS.mkdir(parents=True, exist_ok=True)
    print(f"\n######## {suite}", flush=True)
    start = time.monotonic()
    lines: list[str] = []
    with open(LOGS / f"{suite}.log", "w", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", suite],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            lines.append(line)
        rc = proc.wait()
    counted = count(lines) or ((1, 0) if rc == 0 else (0, 1))
    passed, failed = counted
    if rc != 0 and failed == 0:
        failed = 1
    return passed, failed, time.monotonic() - start


def main() -> int:
    suites = sys.argv[1:]
    if not suites:
        print(__doc__)
        return 2
    results = [(s, *run(s)) for s in suites]
    print("\n######## summary (logs in build/test-logs/)")
    print(f"{'suite':<20} {'passed':>8} {'failed':>8} {'seconds':>8}")
    for suite, p, f, secs in results:
        mark = "" if f == 0 else "   <-- FAILED"
        print(f"{suite:<20} {p:>8} {f:>8} {secs:>8.0f}{mark}")
    total_p = sum(r[1] for r in results)
    total_f = sum(r[2] for r in results)
    print(f"test: {total_p} passed, {total_f} failed")
    return 0 if total_f == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
