#!/usr/bin/env python3
"""Wire-compatibility check: libhoneyhive (C ABI) against HoneyHive's Python SDK.

Each scenario (scenarios.py) is run twice against the loopback receiver (tests/receiver):
once through the official Python SDK (the reference, pinned in requirements.txt) and once
through libhoneyhive's C ABI (ctypes, cabi.py). What the receiver recorded is normalized and
compared request by request, field by field and attribute by attribute (wire.py). The
differences a scenario may show on purpose, each with its reason, are in deviations.py; the
README's table "Deliberate differences from the Python SDK" lists the same ids.

Usage (normally through run.sh, which makes the venv and starts the receiver):

    compare.py [--receiver URL] [--scenario NAME ...] [--dump DIR] [--verbose]
    compare.py --python-only --dump DIR       (what the SDK sends, for every scenario)
    compare.py --check-readme                 (the README table names the deviations' ids)
    compare.py --readme-table                 (that table, made from deviations.py)
    compare.py --list

Without --receiver (or HH_RECEIVER_URL) the receiver binary in target/release is started.
Exit status: 0 = only matches and documented (expected) differences, 1 = at least one
unexpected difference, 2 = the harness itself failed (driver crashed, receiver missing...).

Internal: `compare.py --drive python|ours --scenario NAME URL` runs one side of a scenario
and prints one `HHREF_RESULT {json}` line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# pylint: disable=wrong-import-position
import cabi  # noqa: E402
from deviations import ALWAYS, BY_ID, DEVIATIONS, NORMALIZED, readme_ids  # noqa: E402
from scenarios import BY_NAME, SCENARIOS  # noqa: E402
from wire import compare, fmt_full  # noqa: E402

ROOT = HERE.parent.parent
RECEIVER_BIN = ROOT / "target" / "release" / "hh-receiver"
README = ROOT / "README.md"


def _clean_env(extra: dict) -> dict:
    """The drivers see none of the caller's HoneyHive/OTel settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HH_", "HONEYHIVE_", "OTEL_"))}
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------
# Receiver and drivers
# --------------------------------------------------------------------------------------------

def http(url: str, method: str = "GET", body: bytes | None = None):
    req = urllib.request.Request(url, data=body, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def settled_requests(base: str) -> list:
    """The recorded requests, once their number stopped changing for 300 ms."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 10
    while True:
        reqs = http(base + "/__hh/requests")
        if len(reqs) != last:
            last, stable_since = len(reqs), time.monotonic()
        elif time.monotonic() - stable_since > 0.3 or time.monotonic() > deadline:
            return reqs
        time.sleep(0.05)


def run_side(scenario, side: str, base: str, verbose: bool) -> tuple[dict, list]:
    http(base + "/__hh/reset", "POST", b"")
    env = _clean_env(scenario.python_env if side == "python" else {})
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--drive", side,
                           "--scenario", scenario.name, base],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("HHREF_RESULT "):
            result = json.loads(line[len("HHREF_RESULT "):])
    if proc.returncode != 0 or result is None:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"harness error: the {side} driver of {scenario.name} failed "
                         f"(exit {proc.returncode})")
    if verbose and proc.stderr.strip():
        print(f"--- {scenario.name}: {side} driver stderr ---\n{proc.stderr.rstrip()}\n")
    return result, settled_requests(base)


def drive(side: str, name: str, url: str) -> dict:
    scenario = BY_NAME[name]
    if side == "python":
        return scenario.python(url)
    if scenario.ours_config:
        # The scenario's extra config keys (e.g. the OTLP protocol) join every tracer's.
        original = cabi.Lib.tracer_new
        cabi.Lib.tracer_new = lambda self, cfg: original(self, {**cfg, **scenario.ours_config})
    return scenario.ours(url)


def start_receiver():
    if not RECEIVER_BIN.exists():
        raise SystemExit(f"harness error: {RECEIVER_BIN} missing (cargo build --release "
                         "--workspace)")
    proc = subprocess.Popen([str(RECEIVER_BIN), "--exit-on-stdin-eof"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("HH_RECEIVER_URL="):
        proc.kill()
        raise SystemExit(f"harness error: unexpected receiver output {line!r}")
    return proc, line.split("=", 1)[1]


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def print_scenario(scenario, rep, py_res: dict, our_res: dict, quiet: bool) -> None:
    print("=" * 100)
    print(f"scenario {scenario.name}: {scenario.what}")
    print(f"  reference: {py_res.get('version')} (Python {sys.version.split()[0]}); "
          f"ours: {our_res.get('version')}")
    print("=" * 100)
    if not quiet:
        w_item = min(60, max(len(r[1]) for r in rep.rows))
        current = None
        for area, item, py, ours, verdict in rep.rows:
            if area != current:
                print(f"\n## {area}")
                print(f"   {'item':<{w_item}}  {'python':<44}  {'ours':<44}  verdict")
                current = area
            item = item if len(item) <= w_item else item[: w_item - 3] + "..."
            print(f"   {item:<{w_item}}  {py:<44}  {'(same)' if py == ours else ours:<44}  "
                  f"{verdict}")
        print()
    listed = ALWAYS + scenario.expected
    for dev_id in listed:
        hits = sum(1 for d in rep.diffs if d.expected and d.expected["id"] == dev_id)
        print(f"  expected {dev_id}: {BY_ID[dev_id]['what']} -- seen {hits}x")
    unexpected = rep.unexpected()
    matches = sum(1 for r in rep.rows if r[4] == "MATCH")
    print(f"  {scenario.name}: {matches} matches, {len(rep.diffs) - len(unexpected)} expected "
          f"differences, {len(unexpected)} UNEXPECTED")
    for d in unexpected:
        print(f"  UNEXPECTED  [{scenario.name}] [{d.area}] {d.path}: "
              f"python={fmt_full(d.python)} ours={fmt_full(d.ours)}"
              + (f" ({d.note})" if d.note else ""))
    print()


def check_readme() -> int:
    """The README's table and DEVIATIONS name the same ids, and every id a scenario lists
    exists."""
    table = readme_ids(README.read_text(encoding="utf-8"))
    ours = [d["id"] for d in DEVIATIONS]
    problems = []
    if not table:
        problems.append("README.md has no table under 'Deliberate differences from the "
                        "Python SDK'")
    for missing in sorted(set(ours) - set(table)):
        problems.append(f"deviation {missing} is in deviations.py but not in README.md's table")
    for extra in sorted(set(table) - set(ours)):
        problems.append(f"README.md's table names {extra}, which deviations.py does not list")
    for s in SCENARIOS:
        for dev_id in s.expected:
            if dev_id not in BY_ID:
                problems.append(f"scenario {s.name} lists unknown deviation {dev_id}")
    for p in problems:
        print(f"check-readme: {p}", file=sys.stderr)
    if not problems:
        print(f"check-readme: README.md's table and deviations.py name the same "
              f"{len(ours)} deviations")
    return 1 if problems else 0


def main() -> int:  # pylint: disable=too-many-branches
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--receiver", default=os.environ.get("HH_RECEIVER_URL"))
    ap.add_argument("--scenario", action="append", help="run only these (repeatable)")
    ap.add_argument("--dump", help="write the raw recorded requests of both sides here")
    ap.add_argument("--verbose", action="store_true", help="show the drivers' stderr")
    ap.add_argument("--quiet", action="store_true", help="only summaries and differences")
    ap.add_argument("--python-only", action="store_true",
                    help="run only the SDK side (needs --dump)")
    ap.add_argument("--check-readme", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--readme-table", action="store_true",
                    help="print the README's table from deviations.py")
    ap.add_argument("--drive", choices=["python", "ours"], help=argparse.SUPPRESS)
    ap.add_argument("url", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.drive:
        print("HHREF_RESULT " + json.dumps(drive(args.drive, args.scenario[0], args.url)),
              flush=True)
        return 0
    if args.check_readme:
        return check_readme()
    if args.readme_table:
        print("| id | what differs | why |\n|---|---|---|")
        for d in DEVIATIONS:
            print(f"| `{d['id']}` | {d['what']} | {d['why']} |")
        return 0
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:<24} {s.what}\n{'':<24} expected: {', '.join(s.expected) or '-'}")
        return 0

    chosen = [BY_NAME[n] for n in args.scenario] if args.scenario else SCENARIOS
    if not args.python_only and not cabi.LIB_PATH.exists():
        print(f"harness error: {cabi.LIB_PATH} missing (cargo build --release)", file=sys.stderr)
        return 2
    receiver = None
    base = args.receiver
    if not base:
        receiver, base = start_receiver()
    base = base.rstrip("/")
    total_ok, total_bad, failed, harness_failed = 0, 0, [], []
    try:
        for scenario in chosen:
            try:
                outcome = run_scenario(scenario, base, args)
            except SystemExit as exc:  # one scenario's harness failure; the others still run
                print(f"{exc}\n", file=sys.stderr)
                harness_failed.append(scenario.name)
                continue
            if outcome is None:
                continue
            ok, bad = outcome
            total_ok, total_bad = total_ok + ok, total_bad + bad
            if bad:
                failed.append(scenario.name)
    finally:
        if receiver is not None:
            receiver.stdin.close()
            receiver.wait(timeout=10)
    if args.python_only:
        return 2 if harness_failed else 0
    print("=" * 100)
    print("Normalized away (not compared):")
    for n in NORMALIZED:
        print(f"  - {n}")
    print(f"\nScenarios: {len(chosen)}; with unexpected differences: {', '.join(failed) or 'none'}"
          + (f"; HARNESS FAILED: {', '.join(harness_failed)}" if harness_failed else ""))
    # The closing line CI reads: compared items that agree (or differ as documented) vs not.
    print(f"{total_ok} passed, {total_bad + len(harness_failed)} failed")
    if harness_failed:
        return 2
    return 1 if total_bad else 0


def run_scenario(scenario, base: str, args):
    """Runs both sides of one scenario and prints its report: (rows that agree or differ as
    documented, unexpected differences), or None with --python-only."""
    py_res, py_reqs = run_side(scenario, "python", base, args.verbose)
    out = Path(args.dump) if args.dump else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{scenario.name}.python.json").write_text(
            json.dumps({"result": py_res, "requests": py_reqs}, indent=2))
    if args.python_only:
        print(f"{scenario.name}: SDK side recorded ({len(py_reqs)} requests)")
        return None
    our_res, our_reqs = run_side(scenario, "ours", base, args.verbose)
    if out:
        (out / f"{scenario.name}.ours.json").write_text(
            json.dumps({"result": our_res, "requests": our_reqs}, indent=2))
    rep = compare(scenario, py_res, py_reqs, our_res, our_reqs)
    print_scenario(scenario, rep, py_res, our_res, args.quiet)
    bad = len(rep.unexpected())
    return len(rep.rows) - bad, bad


if __name__ == "__main__":
    sys.exit(main())
