#!/usr/bin/env python3
"""Process-lifecycle rows for the Go and Ruby bindings (run by run.sh).

- Go: `defer tracer.Close(ctx)` in main delivers; a return from main without Close, and
  os.Exit, deliver nothing (Go skips C atexit hooks: the documented limitation); Close is
  bounded when the server hangs.
- Ruby: a script that never closes its tracer delivers at exit (the binding's at_exit hook),
  bounded by HH_EXIT_FLUSH_TIMEOUT_MS when the server hangs; fork (bindings/ruby/test/test_fork.rb).

Usage: bindings_lifecycle.py <repo> <go-exitcheck binary or ""> [rows...]
Prints FIGURE lines and "N passed, M failed".
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

REPO = os.path.abspath(sys.argv[1])
GO_BIN = sys.argv[2] if len(sys.argv) > 2 else ""
ONLY = os.environ.get("HH_REL_ONLY", "")
RELEASE = os.environ.get("HH_LIB_DIR", os.path.join(REPO, "target", "release"))
RECEIVER_BIN = os.environ.get("HH_RECEIVER_BIN", os.path.join(REPO, "target", "release", "hh-receiver"))
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"  FAIL {what}", file=sys.stderr, flush=True)


def figure(row, text):
    print(f"FIGURE {row} | {text}", flush=True)


class Receiver:
    def __init__(self):
        self.proc = subprocess.Popen([RECEIVER_BIN, "--exit-on-stdin-eof"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().strip()
        self.url = line.split("=", 1)[1]

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def reset(self):
        self.call("POST", "/__hh/reset")
        self.call("POST", "/__hh/clear_fault")

    def fault(self, f):
        self.call("POST", "/__hh/fault", f)

    def delivered(self, prefix):
        """(unique span ids, duplicates) among spans named prefix* in 2xx-answered requests."""
        ids = []
        for r in self.call("GET", "/__hh/requests"):
            if not r["path"].endswith("/v1/traces") or not 200 <= r["response_status"] < 300:
                continue
            ids += [s["span_id"] for s in r["spans"] if s["name"].startswith(prefix)]
        return len(set(ids)), len(ids) - len(set(ids))

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("HH_", "OTEL_", "HONEYHIVE_")) and k not in ("HH_RECEIVER_BIN",))}
    env["HONEYHIVE_LIB"] = os.path.join(RELEASE, "libhoneyhive.so")
    env["LD_LIBRARY_PATH"] = RELEASE
    env.update(extra or {})
    return env


def run(cmd, env, timeout=60, cwd=None):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, timeout=timeout)
        return p.returncode, (time.monotonic() - t0) * 1000.0, p.stdout.decode(), p.stderr.decode()
    except subprocess.TimeoutExpired as e:
        return None, (time.monotonic() - t0) * 1000.0, (e.stdout or b"").decode(), (e.stderr or b"").decode()


def returning_to_exit_ms(out, end_ms_monotonic):
    for line in out.splitlines():
        if line.startswith("RETURNING "):
            return end_ms_monotonic - float(line.split()[1])
    return -1.0


def selected(row):
    return not ONLY or ONLY in row


def go_rows(rcv):
    if not GO_BIN:
        print("  (Go exit rows skipped: no binary)", file=sys.stderr)
        return
    for mode, want in (("defer-close", 20), ("no-close", None), ("os-exit", None)):
        row = f"exit-go-{mode}"
        if not selected(row):
            continue
        rcv.reset()
        rc, ms, out, err = run([GO_BIN, rcv.url, mode], clean_env())
        time.sleep(0.3)  # anything sent late would arrive now
        got, dups = rcv.delivered(f"go-{mode}-")
        figure(row, f"ended=20 delivered={got} duplicates={dups} exit_code={rc} run_ms={ms:.0f}")
        check(rc == 0, f"{row}: exit code {rc}: {err[-300:]}")
        check(dups == 0, f"{row}: {dups} duplicates")
        if want is not None:
            check(got == want, f"{row}: {got} of {want} spans delivered")
    row = "exit-go-defer-close-server-hangs"
    if selected(row):
        rcv.reset()
        rcv.fault({"mode": "hang", "path_prefix": "/opentelemetry"})
        rc, ms, out, err = run([GO_BIN, rcv.url, "defer-close"], clean_env())
        rcv.reset()
        figure(row, f"close_ctx_timeout_ms=5000 exit_code={rc} run_ms={ms:.0f}")
        check(rc == 0, f"{row}: exit code {rc}")
        check(ms < 5000 + 3000, f"{row}: took {ms:.0f} ms with a 5 s Close deadline")


def ruby_rows(rcv):
    script = os.path.join(REPO, "tests", "reliability", "ruby", "exit_no_close.rb")
    lib = os.path.join(REPO, "bindings", "ruby", "lib")
    row = "exit-ruby-at-exit"
    if selected(row):
        rcv.reset()
        rc, ms, out, err = run(["ruby", "-I", lib, script, rcv.url, "rb-exit-"], clean_env())
        end = time.monotonic() * 1000.0
        got, dups = rcv.delivered("rb-exit-")
        figure(row, f"ended=20 delivered={got} duplicates={dups} exit_code={rc} run_ms={ms:.0f}")
        check(rc == 0, f"{row}: exit code {rc}: {err[-300:]}")
        check(got == 20 and dups == 0, f"{row}: {got} delivered, {dups} duplicates")
        del end
    row = "exit-ruby-server-hangs"
    if selected(row):
        rcv.reset()
        rcv.fault({"mode": "hang", "path_prefix": "/opentelemetry"})
        t0 = time.monotonic()
        rc, ms, out, err = run(["ruby", "-I", lib, script, rcv.url, "rb-hang-"],
                               clean_env({"HH_EXIT_FLUSH_TIMEOUT_MS": "1000"}))
        exit_ms = returning_to_exit_ms(out, t0 * 1000.0 + ms)
        rcv.reset()
        figure(row, f"budget_ms=1000 return_to_exit_ms={exit_ms:.0f} exit_code={rc}")
        check(rc == 0, f"{row}: exit code {rc}")
        # Bounded by HH_EXIT_FLUSH_TIMEOUT_MS (plus Ruby's own teardown, a few ms).
        check(0 <= exit_ms < 1000 + 500, f"{row}: exit took {exit_ms:.0f} ms with HH_EXIT_FLUSH_TIMEOUT_MS=1000")
    row = "fork-ruby"
    if selected(row):
        rc, ms, out, err = run(["ruby", "-w", "-Ilib", "-Itest", "test/test_fork.rb"],
                               clean_env({"HH_RECEIVER_BIN": RECEIVER_BIN}), timeout=180,
                               cwd=os.path.join(REPO, "bindings", "ruby"))
        summary = [l for l in out.splitlines() if "runs," in l]
        figure(row, f"bindings/ruby/test/test_fork.rb: {summary[-1] if summary else out[-200:]!r} exit_code={rc}")
        check(rc == 0, f"{row}: test_fork.rb failed: {out[-1500:]} {err[-800:]}")


def existing_concurrency_tests():
    """The bindings' own concurrency tests: Go under -race, Ruby threads."""
    row = "concurrency-go-race"
    if selected(row) and GO_BIN:
        rc, ms, out, err = run(["go", "test", "-race", "-count=1", "-run", "TestManyGoroutinesEachWithItsOwnSession|TestTracerFinalizer", "."],
                               clean_env({"HH_RECEIVER_BIN": RECEIVER_BIN, "CGO_ENABLED": "1"}), timeout=300,
                               cwd=os.path.join(REPO, "bindings", "go"))
        figure(row, f"go test -race -run TestManyGoroutinesEachWithItsOwnSession|TestTracerFinalizer: exit={rc} ms={ms:.0f} "
                    f"race_reports={(out + err).count('WARNING: DATA RACE')}")
        check(rc == 0, f"{row}: {out[-1200:]} {err[-600:]}")
    row = "concurrency-ruby-threads"
    if selected(row):
        rc, ms, out, err = run(["ruby", "-w", "-Ilib", "-Itest", "test/test_threads.rb"],
                               clean_env({"HH_RECEIVER_BIN": RECEIVER_BIN}), timeout=180,
                               cwd=os.path.join(REPO, "bindings", "ruby"))
        summary = [l for l in out.splitlines() if "runs," in l]
        figure(row, f"bindings/ruby/test/test_threads.rb: {summary[-1] if summary else out[-200:]!r} exit={rc} ms={ms:.0f}")
        check(rc == 0, f"{row}: {out[-1200:]} {err[-600:]}")


def main():
    rcv = Receiver()
    try:
        go_rows(rcv)
        ruby_rows(rcv)
        existing_concurrency_tests()
    finally:
        rcv.stop()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
