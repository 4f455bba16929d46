#!/usr/bin/env python3
"""Runs every benchmark of BENCHMARKS.md and prints each figure with its target and PASS/MISS.

    python3 benches/run.py            # make bench: the full run (a few minutes)
    python3 benches/run.py --smoke    # make bench-smoke: each benchmark very briefly, to prove
                                      # it still runs (its figures mean nothing)

Expects `make lib` to have built target/release (libhoneyhive.so, hh-receiver). Builds the
Rust bench binaries, the C program and the Go test binary itself; uses the Python SDK venv of
tests/reference (build/pyref-venv, created like tests/reference/run.sh does when missing).

Every benchmark prints "@@ {json}" result lines; this script collects them, derives the
cross-language ratios (same run, same receiver), prints the table, and writes it to
build/bench/results.json. Benchmarks measure: a MISS is reported, never turned into a failed
exit status (the exit status is non-zero only when a benchmark could not run).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"
OUT = ROOT / "build" / "bench"
VENV = Path(os.environ.get("HH_PYREF_VENV", ROOT / "build" / "pyref-venv"))
SMOKE = "--smoke" in sys.argv

results: dict[str, dict] = {}
failures: list[str] = []


def log(msg: str) -> None:
    print(msg, flush=True)


def clean_env(**extra: str) -> dict:
    """The caller's HoneyHive/OTel settings must not change what a benchmark configures."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HH_", "HONEYHIVE_", "OTEL_"))}
    if SMOKE:
        env["HH_BENCH_SMOKE"] = "1"
    env.update(extra)
    return env


def run(name: str, cmd: list[str], cwd: Path = ROOT, env: dict | None = None,
        timeout: int = 1800, suffix: str = "") -> str:
    """Runs one benchmark, echoes its readable lines, collects its @@ results (their ids
    with `suffix` appended)."""
    log(f"\n### {name}: {' '.join(str(c) for c in cmd)}")
    start = time.time()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                           timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        failures.append(f"{name}: {e}")
        log(f"!!! {name} could not run: {e}")
        return ""
    for line in p.stdout.splitlines():
        if line.startswith("@@ "):
            r = json.loads(line[3:])
            r["id"] += suffix
            results[r["id"]] = r
        elif line.strip():
            log(line)
    if p.returncode != 0:
        failures.append(f"{name}: exit status {p.returncode}")
        log(f"!!! {name} failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    log(f"    ({time.time() - start:.1f} s)")
    return p.stdout


def add(id_: str, value: float, unit: str, note: str) -> None:
    results[id_] = {"id": id_, "value": value, "unit": unit, "note": note}
    log(f"  {id_:<44} {value:>14.3f} {unit:<10} {note}")


def value(id_: str) -> float | None:
    r = results.get(id_)
    return None if r is None else r["value"]


class Receiver:
    """target/release/hh-receiver, optionally with a fault."""

    def __init__(self, fault: str | None = None):
        self.p = subprocess.Popen([str(RELEASE / "hh-receiver"), "--exit-on-stdin-eof"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline().strip()
        if not line.startswith("HH_RECEIVER_URL="):
            raise RuntimeError(f"hh-receiver did not start: {line!r}")
        self.url = line.split("=", 1)[1]
        if fault:
            self.post("/__hh/fault", fault)

    def post(self, path: str, body: str = "") -> None:
        req = urllib.request.Request(self.url + path, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        try:
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next((l.split(":", 1)[1].strip() for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "?")
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(),
            "load_before": Path("/proc/loadavg").read_text().split()[:3]}


def build() -> dict:
    """Bench binaries: Rust (cargo), C (cc), Go (go test -c). Returns their paths."""
    OUT.mkdir(parents=True, exist_ok=True)
    log("### building the benchmarks")
    for f in ("libhoneyhive.so", "hh-receiver"):
        if not (RELEASE / f).exists():
            sys.exit(f"target/release/{f} is missing: run `make lib` first")
    out = subprocess.run(["cargo", "bench", "--no-run", "--message-format=json",
                          "--bench", "hot_path", "--bench", "export_throughput", "--bench", "footprint",
                          "--bench", "never_in_the_way"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cargo bench --no-run failed:\n{out.stderr[-4000:]}")
    bins = {}
    for line in out.stdout.splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        if m.get("reason") == "compiler-artifact" and m.get("executable") and \
                "bench" in m.get("target", {}).get("kind", []):
            bins[m["target"]["name"]] = m["executable"]
    cc = os.environ.get("CC", "cc")
    c_bin = OUT / "hot_path_c"
    subprocess.run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}",
                    str(ROOT / "benches" / "c" / "hot_path.c"), f"-L{RELEASE}",
                    f"-Wl,-rpath,{RELEASE}", "-lhoneyhive", "-o", str(c_bin)], check=True)
    bins["c"] = str(c_bin)
    return bins


def ensure_venv() -> Path | None:
    py = VENV / "bin" / "python"
    if not py.exists():
        log(f"### creating the Python SDK venv {VENV} (tests/reference/requirements.txt)")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(ROOT / "tests" / "reference" / "requirements.txt")], check=True)
    ok = subprocess.run([str(py), "-c", "import honeyhive"], capture_output=True).returncode == 0
    return py if ok else None


def go_bench(url: str) -> None:
    go = shutil.which("go")
    if not go:
        failures.append("go: not installed")
        return
    count, benchtime = (1, "4001x") if SMOKE else (5, "200000x")
    env = clean_env(HH_BENCH_URL=url, HH_RECEIVER_BIN=str(RELEASE / "hh-receiver"), CGO_ENABLED="1")
    stdout = run("Go binding hot path (testing.B)",
                 [go, "test", "-run", "^$", "-bench", "^BenchmarkHotPath$",
                  f"-benchtime={benchtime}", f"-count={count}"],
                 cwd=ROOT / "bindings" / "go", env=env)
    for variant, id_, what in (("typed", "go.hot_ns", "3 setters (5 calls into C per span)"),
                               ("attrs", "go.hot_attrs_ns", "one SetAttributes (3 calls into C)"),
                               ("end_attrs", "go.hot_end_attrs_ns", "EndWith(3 fields) (2 calls into C)")):
        runs = re.findall(rf"BenchmarkHotPath/{variant}\S*\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) median-ns/span",
                          stdout)
        if not runs:
            failures.append(f"go: no BenchmarkHotPath/{variant} result")
            continue
        mean = statistics.median(float(r[0]) for r in runs)
        add(id_, statistics.median(float(r[1]) for r in runs), "ns/span",
            f"Go: Start(ctx parent, WithSession) + {what} + End: median over bursts (as the C "
            f"program), median of {len(runs)} testing.B runs; their ns/op (mean) {mean:.0f}")



def go_otel_bench(url: str) -> None:
    """The OpenTelemetry API on the Go binding's TracerProvider vs the OpenTelemetry Go SDK
    (tests/otel/go, its own module), alternated in one run."""
    go = shutil.which("go")
    if not go:
        return
    count, benchtime = (1, "4001x") if SMOKE else (5, "100000x")
    env = clean_env(HH_BENCH_URL=url, HH_RECEIVER_BIN=str(RELEASE / "hh-receiver"), CGO_ENABLED="1",
                    LD_LIBRARY_PATH=str(RELEASE))
    stdout = run("Go: OpenTelemetry API on the provider vs the OpenTelemetry SDK (testing.B)",
                 [go, "test", "-run", "^$", "-bench", "^BenchmarkProviderVsSDK$",
                  f"-benchtime={benchtime}", f"-count={count}"],
                 cwd=ROOT / "tests" / "otel" / "go", env=env)
    lines = [l for l in stdout.splitlines() if l.startswith("BenchmarkProviderVsSDK")]
    if not lines:
        failures.append("go: no BenchmarkProviderVsSDK result")
        return
    for metric, id_, unit, what in (
            ("provider/sdk", "go.otel_provider_over_sdk", "x", "provider / SDK time per span (target <= 0.5)"),
            ("provider-allocs/span", "go.otel_provider_allocs", "allocs", "Go heap allocations per provider span"),
            ("sdk-allocs/span", "go.otel_sdk_allocs", "allocs", "Go heap allocations per SDK span"),
            ("provider-ns/span", "go.otel_provider_ns", "ns/span", "provider span, median over bursts"),
            ("sdk-ns/span", "go.otel_sdk_ns", "ns/span", "SDK span, median over bursts"),
            ("binding-ns/span", "go.otel_binding_ns", "ns/span", "the binding's own Start, same run")):
        vals = [float(m) for l in lines for m in re.findall(rf"([\d.]+) {re.escape(metric)}(?:\s|$)", l)]
        if vals:
            add(id_, statistics.median(vals), unit, f"{what}; median of {len(vals)} runs")


def main() -> int:
    info = machine()
    log(f"libhoneyhive benchmarks{' (smoke: not figures)' if SMOKE else ''}")
    log(f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['memory']} memory, "
        f"kernel {info['kernel']}; load {' '.join(info['load_before'])}")
    bins = build()
    venv_py = ensure_venv()
    rcv = Receiver()
    hang = Receiver(fault='{"mode":"hang"}')
    down_port = __import__("socket").socket()
    down_port.bind(("127.0.0.1", 0))
    down = f"http://127.0.0.1:{down_port.getsockname()[1]}"
    down_port.close()
    try:
        # Items 1 and 2 (Rust harness: C ABI and raw SDK interleaved; threads).
        run("hot path + contention (Rust)", [bins["hot_path"]])
        # Item 1 through the shipped .so, with items 5 and 4 between runs of it (same
        # receiver): each comparison uses the C runs just before and after it.
        c_args = ["2", "200"] if SMOKE else ["40", "2000"]
        c_env = clean_env(HH_BENCH_URL=rcv.url)
        run("hot path (C program, libhoneyhive.so)", [bins["c"], *c_args], env=c_env)
        if venv_py:
            py_args = ["1", "50"] if SMOKE else ["7", "500"]
            run("Python SDK hot path (reference)",
                [str(venv_py), str(ROOT / "benches" / "python" / "reference.py"), "hot", rcv.url,
                 *py_args])
        else:
            failures.append("python: the reference SDK venv is not usable")
        run("C hot path (2)", [bins["c"], *c_args], env=c_env, suffix="_2")
        go_bench(rcv.url)
        go_otel_bench(rcv.url)
        run("C hot path (3)", [bins["c"], *c_args], env=c_env, suffix="_3")
        rb_args = ["2", "200"] if SMOKE else ["15", "2000"]
        run("Ruby binding hot path (block API)",
            ["ruby", "-I", str(ROOT / "bindings" / "ruby" / "lib"),
             str(ROOT / "benches" / "ruby" / "hot_path.rb"), *rb_args],
            env=clean_env(HH_BENCH_URL=rcv.url, HONEYHIVE_LIB=str(RELEASE / "libhoneyhive.so")))
        # Item 3.
        run("export (Rust)", [bins["export_throughput"]])
        # Item 6.
        run("footprint (Rust, fresh process)", [bins["footprint"]])
        # Item 7, then the reference against the same kinds of server.
        run("never in the way (Rust)", [bins["never_in_the_way"]])
        if venv_py:
            run("Python SDK init latency (reference)",
                [str(venv_py), str(ROOT / "benches" / "python" / "reference.py"), "init", down,
                 hang.url, "1" if SMOKE else "5"])
    finally:
        rcv.stop()
        hang.stop()

    derive()
    table(info)
    if failures:
        log("\nbenchmarks that could not run:\n  " + "\n  ".join(failures))
        return 1
    return 0


def derive() -> None:
    log("\n### derived (same run)")
    def mean(*ids: str) -> float | None:
        v = [value(i) for i in ids]
        return None if any(x is None for x in v) else sum(v) / len(v)

    # Like with like: the same sequence of ABI calls from Go and from C.
    for go_id, c_id, out_id, what in (
            ("go.hot_end_attrs_ns", "c.hot_end_attrs_ns", "go.over_c_end_attrs_ns", "hh_span_end_attrs"),
            ("go.hot_attrs_ns", "c.hot_attrs_ns", "go.over_c_attrs_ns", "hh_span_set_attrs"),
            ("go.hot_ns", "c.hot_typed_ns", "go.over_c_ns", "3 typed setters")):
        c_go = mean(f"{c_id}_2", f"{c_id}_3")
        if c_go is not None and value(go_id) is not None:
            add(out_id, value(go_id) - c_go, "ns/span",
                f"Go hot path minus the C program's, both with {what} ({c_go:.0f} ns: its runs "
                f"just before and after)")
    c, c_json = mean("c.hot_typed_ns", "c.hot_typed_ns_2"), mean("c.hot_json_ns", "c.hot_json_ns_2")
    if c is not None and value("python.hot_us") is not None:
        py = value("python.hot_us") * 1000
        add("python.ratio_vs_c", py / c, "x",
            f"Python SDK per span / C hot path, typed setters ({c:.0f} ns, runs around it)")
        if c_json:
            add("python.ratio_vs_c_json", py / c_json, "x",
                f"Python SDK per span / C hot path with hh_span_enrich JSON ({c_json:.0f} ns)")
    p99 = [value(f"never.{w}.{f}_p99_ms") for w in ("down", "hang")
           for f in ("tracer_new", "session_create")]
    if all(v is not None for v in p99):
        add("never.worst_p99_ms", max(p99), "ms",
            "worst p99 of hh_tracer_new / hh_session_create, server down or hanging")
    t1, tn = value("footprint.threads_1"), value("footprint.threads_n")
    if t1 is not None and tn is not None:
        add("footprint.threads_added", tn - t1, "threads", "threads with 100 tracers minus with 1")


# (figure, label, target text, check)
TARGETS = [
    ("hot.c_abi_typed_ns", "1. hot path, C ABI (Rust harness)", "<= 1000 ns", lambda v: v <= 1000),
    ("c.hot_typed_ns", "1. hot path, C program via .so", "<= 1000 ns", lambda v: v <= 1000),
    ("hot.ratio_vs_sdk_batch", "1. C ABI / raw SDK (batch export)", "<= 1.10 x", lambda v: v <= 1.10),
    ("hot.ratio_vs_sdk_floor", "1. C ABI / raw SDK (no processor)", "(info)", None),
    ("hot.c_abi_json_ns", "1. hot path with JSON enrich", "(info)", None),
    ("contention.scaling_shared", "2. 2 threads / 1, one tracer", ">= 1.6 x", lambda v: v >= 1.6),
    ("contention.scaling_tracers", "2. 2 threads / 1, two tracers", ">= 1.6 x", lambda v: v >= 1.6),
    ("contention.machine_scaling", "2. machine: pure compute 2 / 1", "(info)", None),
    ("contention.sdk_scaling", "2. raw SDK: 2 threads / 1", "(info)", None),
    ("export.delivered_json", "3. delivered, OTLP/JSON", ">= 100000 /s", lambda v: v >= 100_000),
    ("export.delivered_protobuf", "3. delivered, OTLP/protobuf", ">= 100000 /s", lambda v: v >= 100_000),
    ("export.dropped_json", "3. dropped, JSON", "= 0", lambda v: v == 0),
    ("export.dropped_protobuf", "3. dropped, protobuf", "= 0", lambda v: v == 0),
    ("export.cpu_json_ns", "3. export CPU per span, JSON", "<= 2000 ns", lambda v: v <= 2000),
    ("export.cpu_protobuf_ns", "3. export CPU per span, protobuf", "<= 1000 ns", lambda v: v <= 1000),
    ("export.receiver_alone_json", "3. receiver alone, JSON", "(info)", None),
    ("export.receiver_alone_protobuf", "3. receiver alone, protobuf", "(info)", None),
    ("go.over_c_end_attrs_ns", "4. Go over C, EndWith (2 calls)", "<= 300 ns", lambda v: v <= 300),
    ("go.over_c_attrs_ns", "4. Go over C, SetAttributes (3)", "<= 300 ns", lambda v: v <= 300),
    ("go.over_c_ns", "4. Go over C, typed setters (5)", "(info)", None),
    ("go.otel_provider_over_sdk", "4. Go OTel provider / OTel SDK", "<= 0.5 x", lambda v: v <= 0.5),
    ("go.otel_provider_allocs", "4. Go OTel provider allocs/span", "<= 1", lambda v: v <= 1),
    ("c.hot_attrs_ns", "1. C program, hh_span_set_attrs", "(info)", None),
    ("c.hot_end_attrs_ns", "1. C program, hh_span_end_attrs", "(info)", None),
    ("c.hot_kept_ns", "1. C program, end_attrs + kept handles", "(info)", None),
    ("ruby.hot_us", "4. Ruby block API hot path", "<= 5 us", lambda v: v <= 5),
    ("python.ratio_vs_c", "5. Python SDK / C (typed)", ">= 100 x", lambda v: v >= 100),
    ("python.ratio_vs_c_json", "5. Python SDK / C (JSON enrich)", ">= 100 x", lambda v: v >= 100),
    ("footprint.rss_per_tracer_kib", "6. RSS per additional tracer", "<= 64 KiB", lambda v: v <= 64),
    ("footprint.threads_added", "6. threads, 100 tracers - 1", "= 0", lambda v: v == 0),
    ("never.down.tracer_new_p99_ms", "7. hh_tracer_new p99, server down", "<= 1 ms", lambda v: v <= 1),
    ("never.down.session_create_p99_ms", "7. hh_session_create p99, down", "<= 1 ms", lambda v: v <= 1),
    ("never.hang.tracer_new_p99_ms", "7. hh_tracer_new p99, server hangs", "<= 1 ms", lambda v: v <= 1),
    ("never.hang.session_create_p99_ms", "7. hh_session_create p99, hangs", "<= 1 ms", lambda v: v <= 1),
    ("python.init_down_p50_ms", "7. Python SDK init p50, down", "(reference)", None),
    ("python.init_hang_p50_ms", "7. Python SDK init p50, hangs", "(reference)", None),
]


def table(info: dict) -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    log("\n" + "=" * 100)
    log(f"{'figure':<40} {'value':>16}  {'unit':<9} {'target':<13} result")
    log("-" * 100)
    rows = []
    for id_, label, target, check in TARGETS:
        r = results.get(id_)
        if r is None:
            verdict = "NOT RUN"
            shown = "-"
            unit = ""
        else:
            shown = f"{r['value']:.3f}"
            unit = r["unit"]
            verdict = "" if check is None else ("PASS" if check(r["value"]) else "MISS")
            if SMOKE and check is not None:
                verdict = "(smoke)"
        rows.append({"id": id_, "label": label, "target": target, "verdict": verdict, **(r or {})})
        log(f"{label:<40} {shown:>16}  {unit:<9} {target:<13} {verdict}")
    log("-" * 100)
    passed = sum(1 for r in rows if r["verdict"] == "PASS")
    missed = sum(1 for r in rows if r["verdict"] == "MISS")
    log(f"{passed} PASS, {missed} MISS; load before {' '.join(info['load_before'])}, "
        f"after {' '.join(load)}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("results-smoke.json" if SMOKE else "results.json")).write_text(json.dumps(
        {"machine": {**info, "load_after": load}, "smoke": SMOKE, "table": rows,
         "results": results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
