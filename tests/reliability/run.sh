#!/usr/bin/env bash
# The reliability suite of libhoneyhive (RELIABILITY.md): network faults, process lifecycle
# (exit, fork, close races), concurrency (plus ThreadSanitizer), limits, security. Runs
# against the RELEASE library (target/release/libhoneyhive.so) and hh-receiver, all on
# 127.0.0.1. Works from any directory.
#
#   tests/reliability/run.sh                 # everything (about 2-3 minutes on 2 cores)
#   tests/reliability/run.sh faults fork     # some parts only
#   HH_REL_ONLY=export-503 tests/reliability/run.sh faults   # one row
#
# Parts: faults hostile chaos lifecycle fork concurrency limits security leak tls bindings tsan memcheck
# Env:   HH_LIB_DIR (default <repo>/target/release), HH_RECEIVER_BIN, CC (default gcc),
#        HH_REL_SKIP_TSAN=1 (skip building the TSan-instrumented library: 2-4 min the first time),
#        HH_REL_GDB_ON_HANG=1 (print a backtrace of a deadlocked fork child),
#        HH_REL_OUT (default <repo>/build/reliability),
#        HH_CHAOS_SECONDS (chaos part: length of the chaos phase, default 150),
#        HH_CHAOS_SEED (chaos part: replay a run's schedule; every run prints its seed).
# Output: each part's log in $HH_REL_OUT/<part>.log, every FIGURE line in
# $HH_REL_OUT/figures.txt, and a closing line "reliability: N passed, M failed".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/reliability"
OUT="${HH_REL_OUT:-$ROOT/build/reliability}"
LIB="${HH_LIB_DIR:-$ROOT/target/release}"
CC="${CC:-gcc}"
mkdir -p "$OUT"

if [[ ! -f "$LIB/libhoneyhive.so" || ! -x "$ROOT/target/release/hh-receiver" ]]; then
  echo "building libhoneyhive + hh-receiver (release)..." >&2
  (cd "$ROOT" && cargo build --release --lib -p honeyhive -p hh-test-receiver --bins)
fi
export HH_RECEIVER_BIN="${HH_RECEIVER_BIN:-$ROOT/target/release/hh-receiver}"
export RUST_BACKTRACE=0

# Stray HH_*/OTEL_* settings of the calling shell must not change what the tests see.
while IFS= read -r var; do
  case "$var" in HH_RECEIVER_BIN | HH_REL_* | HH_CHAOS_* | HH_LIB_DIR) ;; *) unset "$var" ;; esac
done < <(compgen -e | grep -E '^(HH_|HONEYHIVE_|OTEL_)' || true)

parts=("$@")
if [[ ${#parts[@]} -eq 0 ]]; then
  parts=(faults hostile chaos lifecycle fork concurrency limits security leak tls bindings tsan memcheck)
fi

# ---- build -----------------------------------------------------------------------------------
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -O1 -g -I"$ROOT/include" -I"$HERE" -DHH_REPO_ROOT="\"$ROOT\"")
SOURCES=("$HERE"/rel_main.c "$HERE"/faults.c "$HERE"/lifecycle.c "$HERE"/fork.c "$HERE"/concurrency.c
  "$HERE"/limits.c "$HERE"/security.c "$HERE"/hostile.c "$HERE"/chaos.c "$ROOT"/tests/c/receiver.c "$ROOT"/tests/c/minijson.c "$ROOT"/tests/c/harness.c)
LINK=(-L"$LIB" -Wl,-rpath,"$LIB" -lhoneyhive -lpthread -lm)
"$CC" "${CFLAGS[@]}" "${SOURCES[@]}" "${LINK[@]}" -o "$OUT/hh_reliability"
"$CC" "${CFLAGS[@]}" "$HERE/exit_prog.c" "${LINK[@]}" -o "$OUT/exit_prog"
export HH_REL_EXIT_PROG="$OUT/exit_prog"
echo "built $OUT/hh_reliability and exit_prog against $LIB/libhoneyhive.so"

# ---- bookkeeping -----------------------------------------------------------------------------
total_passed=0
total_failed=0
summary=()
FIG="$OUT/figures.txt"
{
  echo "# libhoneyhive reliability figures"
  echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "# machine: $(nproc) cores, $(uname -srm), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# library: $LIB/libhoneyhive.so ($(stat -c '%y' "$LIB/libhoneyhive.so" | cut -d. -f1)), git $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"
} >"$FIG"

# Records the "N passed, M failed" line of a log (a missing line counts as one failure).
tally() { # part log exit_code seconds
  local part=$1 log=$2 rc=$3 secs=$4 line p f
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)"
  if [[ -z "$line" ]]; then
    p=0 f=1
    line="no result line (exit $rc)"
  else
    p="${line%% passed*}"
    f="${line#*passed, }"
    f="${f%% failed*}"
    if [[ "$rc" -ne 0 && "$f" -eq 0 ]]; then f=1; line="$line, but exit $rc"; fi
  fi
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
  summary+=("$(printf '%-12s %-40s %4ss' "$part" "$line" "$secs")")
  grep -E '^FIGURE ' "$log" >>"$FIG" || true
  grep -E '^  FAIL ' "$log" | head -n 20 || true
}

run_part() { # part command...
  local part=$1
  shift
  local log="$OUT/$part.log" start rc=0
  echo "== $part"
  start=$SECONDS
  "$@" >"$log" 2>&1 || rc=$?
  grep -E '^(FIGURE|== )' "$log" | sed 's/^/   /' | cut -c1-220 || true
  tally "$part" "$log" "$rc" $((SECONDS - start))
}

# ---- parts -----------------------------------------------------------------------------------
part_leak() {
  # A verbose run with a distinctive key; then every byte it printed, and everything the
  # receiver recorded except the Authorization header, must be free of it.
  local canary ingest log="$OUT/leak-run.log"
  canary="hhk-CANARY-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  ingest="hh_ingst_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')_$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  local rc=0
  HH_VERBOSE=true HH_REL_CANARY="$canary" HH_REL_INGEST_CANARY="$ingest" HH_REL_OUT="$OUT" \
    "$OUT/hh_reliability" leak >"$log" 2>&1 || rc=$?
  python3 - "$log" "$OUT/leak-requests.json" "$canary" "$ingest" "$rc" <<'PY'
import json, sys
log, reqs_path, key, ingest, rc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
text = open(log, encoding="utf-8", errors="replace").read()
passed = failed = 0
def check(ok, what):
    global passed, failed
    if ok: passed += 1
    else:
        failed += 1
        print(f"  FAIL {what}")
# Whole keys, and any 12-character piece of them (a truncated key is still a leak).
def pieces(k):
    return {k[i:i + 12] for i in range(0, len(k) - 11)}
leaks = [p for k in (key, ingest) for p in pieces(k) if p in text]
lines = [l for l in text.splitlines() if any(p in l for p in leaks)]
check(not leaks, f"the key appears in the program's output: {lines[:3]}")
reqs = json.load(open(reqs_path))
auth_with_key = 0
for r in reqs:
    auth = r.get("headers", {}).pop("authorization", "")
    if key in auth or ingest in auth:
        auth_with_key += 1
rest = json.dumps(reqs)
leaks_wire = [p for k in (key, ingest) for p in pieces(k) if p in rest]
check(not leaks_wire, "the key appears in recorded requests outside Authorization")
# Positive controls: the keys were really used, and the run really was verbose and faulty.
check(auth_with_key > 0, "no request carried the key in Authorization (control)")
check(any(ingest in r.get("headers", {}).get("authorization", "") for r in json.load(open(reqs_path))),
      "the ingestion key was never sent (control)")
warnings = text.count(" warning: ")
check(warnings >= 5, f"only {warnings} warnings: the faults did not trigger (control)")
check("CALL tracer_new(invalid) -> HH_ERR_INVALID_CONFIG" in text, "invalid configs were not exercised (control)")
check(rc == 0, f"the leak program failed (exit {rc})")
print(f"FIGURE key-leak | output_bytes={len(text)} lines={text.count(chr(10))} warnings={warnings} "
      f"recorded_requests={len(reqs)} requests_with_key_in_authorization={auth_with_key} "
      f"key_found_in_output={len(leaks)} key_found_in_recorded_non_auth={len(leaks_wire)}")
print(f"{passed} passed, {failed} failed")
PY
}

part_tls() {
  # A loopback HTTPS server with a self-signed certificate: the export must fail on the
  # certificate (no HTTP request ever reaches the server) and count as a failure.
  local dir="$OUT/tls" rc=0
  mkdir -p "$dir"
  # A throw-away CA and a server certificate it signed (CN/SAN 127.0.0.1): nobody trusts the CA.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hh-reliability test CA" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/key.pem" -out "$dir/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial -days 2 \
    -extfile "$dir/ext.cnf" -out "$dir/cert.pem" >/dev/null 2>&1
  local fifo="$dir/stdin"
  rm -f "$fifo"
  mkfifo "$fifo"
  python3 "$HERE/tls_server.py" "$dir/cert.pem" "$dir/key.pem" <"$fifo" >"$dir/server.log" 2>&1 &
  local spid=$!
  exec {hold}>"$fifo" # keeps the server's stdin open
  local port=""
  for _ in $(seq 100); do
    port="$(sed -n 's/^PORT //p' "$dir/server.log")"
    [[ -n "$port" ]] && break
    sleep 0.05
  done
  HH_VERBOSE=true HH_REL_TLS_URL="https://127.0.0.1:$port" "$OUT/hh_reliability" tls >"$dir/client.log" 2>&1 || rc=$?
  # Control: the same server is fine for a client that trusts its certificate.
  local control
  control="$(python3 -c "
import ssl, urllib.request, sys
ctx = ssl.create_default_context(cafile='$dir/ca.pem')
print(urllib.request.urlopen('https://127.0.0.1:$port/control', context=ctx, timeout=5).status)" 2>&1 || true)"
  # Control 2: the library itself, trusting the certificate through SSL_CERT_FILE (if the
  # platform verifier honours it; informational).
  local trusted_rc=0
  SSL_CERT_FILE="$dir/ca.pem" HH_REL_TLS_EXPECT_OK=1 HH_REL_TLS_URL="https://127.0.0.1:$port" \
    "$OUT/hh_reliability" tls >"$dir/client-trusted.log" 2>&1 || trusted_rc=$?
  exec {hold}>&-
  wait "$spid" 2>/dev/null || true
  cat "$dir/client.log"
  local lib_requests handshakes cert_errors
  lib_requests="$(grep -c '^REQUEST POST' "$dir/server.log" || true)"
  handshakes="$(grep -c '^HANDSHAKE_FAIL' "$dir/server.log" || true)"
  cert_errors="$(grep -ciE 'warning: .*(invalid peer certificate|UnknownIssuer)' "$dir/client.log" || true)"
  local p=0 f=0
  chk() { if eval "$1"; then p=$((p + 1)); else f=$((f + 1)); echo "  FAIL tls: $2"; fi; }
  chk '[[ $rc -eq 0 ]]' "the TLS client checks failed (exit $rc)"
  chk '[[ $handshakes -ge 1 ]]' "the server saw no refused handshake"
  chk '[[ $cert_errors -ge 1 ]]' "no certificate error in the tracer's warnings"
  chk '[[ "$control" == 200 ]]' "control: a client trusting the certificate could not connect ($control)"
  chk '[[ $trusted_rc -eq 0 ]]' "control: the library trusting the CA (SSL_CERT_FILE) did not deliver (see $dir/client-trusted.log)"
  local posts_before_control
  posts_before_control="$(grep -m1 -n 'REQUEST GET /control' "$dir/server.log" | cut -d: -f1)"
  local untrusted_posts
  untrusted_posts="$(head -n "$((${posts_before_control:-1} - 1))" "$dir/server.log" | grep -c '^REQUEST POST' || true)"
  chk '[[ $untrusted_posts -eq 0 ]]' "the untrusting tracer's requests reached the server ($untrusted_posts)"
  echo "FIGURE tls-verification | refused_handshakes=$handshakes http_requests_from_untrusting_tracer=$untrusted_posts certificate_error_lines=$cert_errors python_control_status=$control library_with_SSL_CERT_FILE=$( [[ $trusted_rc -eq 0 ]] && echo delivered || echo not-delivered) all_posts_seen=$lib_requests"
  grep -m1 -oE 'warning: export of .*' "$dir/client.log" | sed -E 's/session [0-9a-f-]+/session <id>/; s/^/FIGURE tls-warning-line | /' || true
  echo "$p passed, $f failed"
}

part_bindings() {
  local gobin="$OUT/go-exitcheck"
  if command -v go >/dev/null 2>&1; then
    (cd "$HERE/go" && CGO_ENABLED=1 go build -o "$gobin" .) || gobin=""
  else
    gobin=""
  fi
  HH_LIB_DIR="$LIB" python3 "$HERE/bindings_lifecycle.py" "$ROOT" "$gobin"
}

part_tsan() {
  # Concurrency stress and close races under ThreadSanitizer. TSan needs the whole program
  # instrumented: the Rust library is built with rustc -Zsanitizer=thread (stable rustc,
  # RUSTC_BOOTSTRAP=1, its own target dir), the C side with gcc -fsanitize=thread, and the
  # program links LLVM's TSan runtime shipped with rustc (librustc-stable_rt.tsan.a: gcc 12's
  # libtsan lacks the __tsan_memcpy family rustc emits). Rust's precompiled std is not
  # instrumented (rebuilding it needs nightly or rust-src): tsan.supp lists the resulting
  # false positives, all inside tokio's std::sync::Mutex-guarded task lists.
  local tdir="$OUT/tsan-target" tlib rt rc=0 rc2=0
  if [[ "${HH_REL_SKIP_TSAN:-0}" == 1 ]]; then
    echo "  (skipped: HH_REL_SKIP_TSAN=1)"
    echo "0 passed, 0 failed"
    return 0
  fi
  rt="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/lib/librustc-stable_rt.tsan.a"
  if [[ ! -f "$rt" ]] || ! (cd "$ROOT" && RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
    cargo build --quiet --release --lib -p honeyhive --target x86_64-unknown-linux-gnu --target-dir "$tdir"); then
    echo "  FAIL tsan: could not build the TSan-instrumented library (or no $rt)"
    echo "0 passed, 1 failed"
    return 0
  fi
  tlib="$tdir/x86_64-unknown-linux-gnu/release"
  local objs=() f
  mkdir -p "$OUT/tsan-obj"
  for f in "${SOURCES[@]}"; do
    "$CC" -std=gnu11 -O1 -g -fsanitize=thread -I"$ROOT/include" -I"$HERE" -DHH_REPO_ROOT="\"$ROOT\"" -c "$f" \
      -o "$OUT/tsan-obj/$(basename "$f" .c).o"
    objs+=("$OUT/tsan-obj/$(basename "$f" .c).o")
  done
  "$CC" -o "$OUT/hh_reliability_tsan" "${objs[@]}" -Wl,--whole-archive "$rt" -Wl,--no-whole-archive \
    -L"$tlib" -Wl,-rpath,"$tlib" -lhoneyhive -lpthread -lm -ldl -lrt -rdynamic
  export TSAN_OPTIONS="halt_on_error=0 history_size=4 suppressions=$HERE/tsan.supp"
  HH_REL_ONLY=concurrency-stress "$OUT/hh_reliability_tsan" concurrency >"$OUT/tsan-run.log" 2>&1 || rc=$?
  HH_REL_ONLY=close-race "$OUT/hh_reliability_tsan" lifecycle >"$OUT/tsan-run2.log" 2>&1 || rc2=$?
  local races p=0 f=0 line
  races="$(cat "$OUT/tsan-run.log" "$OUT/tsan-run2.log" | grep -c 'WARNING: ThreadSanitizer' || true)"
  grep -hE '^(FIGURE|  FAIL)' "$OUT/tsan-run.log" "$OUT/tsan-run2.log" | sed 's/^FIGURE /FIGURE tsan-/' || true
  cat "$OUT/tsan-run.log" "$OUT/tsan-run2.log" | grep -A14 'WARNING: ThreadSanitizer' | head -n 60 || true
  for line in "$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/tsan-run.log" | tail -n 1)" \
    "$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$OUT/tsan-run2.log" | tail -n 1)"; do
    if [[ -z "$line" ]]; then f=$((f + 1)); continue; fi
    p=$((p + ${line%% passed*}))
    line="${line#*passed, }"
    f=$((f + ${line%% failed*}))
  done
  echo "FIGURE tsan | instrumented=C program + libhoneyhive and its crates (not Rust std) reports=$races exit=$rc/$rc2 suppressions=tests/reliability/tsan.supp"
  if [[ "$races" -gt 0 ]]; then echo "  FAIL tsan: $races ThreadSanitizer reports (see $OUT/tsan-run*.log)"; f=$((f + 1)); fi
  echo "$p passed, $f failed"
}

part_memcheck() {
  # The C ABI suite (tests/c/run-tests.sh: a normal run, then valgrind memcheck), and this
  # suite's limits, concurrency and security groups (reduced sizes) under valgrind memcheck.
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "  (valgrind not installed)"
    echo "0 passed, 0 failed"
    return 0
  fi
  local rc=0 crc=0
  # 1. The C ABI suite: a normal run and a valgrind run (its own script).
  HH_RECEIVER_BIN="$HH_RECEIVER_BIN" bash "$ROOT/tests/c/run-tests.sh" >"$OUT/c-suite.log" 2>&1 || crc=$?
  local cnormal cvalgrind cverdict
  cnormal="$(awk '/^--- normal run/{f=1} f && /^[0-9]+ passed, [0-9]+ failed$/{print; exit}' "$OUT/c-suite.log")"
  cvalgrind="$(awk '/^--- valgrind run/{f=1} f && /^[0-9]+ passed, [0-9]+ failed$/{print; exit}' "$OUT/c-suite.log")"
  cverdict="$(awk '/^memcheck:/{print; exit}' "$OUT/c-suite.log")"
  echo "FIGURE memcheck-c-suite | tests/c/run-tests.sh normal: $cnormal; under valgrind (reduced sizes): $cvalgrind; $cverdict; exit=$crc"
  # 2. This suite's limits, concurrency and security groups under valgrind.
  # (flush-under-load measures time: meaningless at valgrind's speed.)
  HH_REL_SKIP=flush-under-load HH_REL_QUICK=1 HH_CTEST_TIMEOUT_SCALE=10 valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions="$ROOT/tests/c/valgrind.supp" "$OUT/hh_reliability" limits concurrency security \
    >"$OUT/memcheck-run.log" 2>&1 || rc=$?
  # (the groups' own check failures are reported by their parts; here only valgrind's verdict)
  grep -E '^==[0-9]+==' "$OUT/memcheck-run.log" | head -n 40 || true
  echo "FIGURE memcheck | groups=limits,concurrency,security (quick sizes) valgrind_exit=$rc ($([[ $rc -eq 99 ]] && echo 'ERRORS or definite leaks' || echo 'no errors, no definite leaks'))"
  # The groups' own checks are counted in their parts; this part's one check is valgrind's verdict.
  local p=0 f=0
  if [[ $rc -eq 99 ]]; then echo "  FAIL memcheck: valgrind reported errors in the reliability groups"; f=$((f + 1)); else p=$((p + 1)); fi
  if [[ $crc -ne 0 ]]; then echo "  FAIL memcheck: tests/c/run-tests.sh failed (exit $crc; see $OUT/c-suite.log)"; f=$((f + 1)); else p=$((p + 1)); fi
  echo "$p passed, $f failed"
}

for part in "${parts[@]}"; do
  case "$part" in
    faults | hostile | chaos | lifecycle | fork | concurrency | limits | security)
      run_part "$part" "$OUT/hh_reliability" "$part" ;;
    leak) run_part leak part_leak ;;
    tls) run_part tls part_tls ;;
    bindings) run_part bindings part_bindings ;;
    tsan) run_part tsan part_tsan ;;
    memcheck) run_part memcheck part_memcheck ;;
    *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done

echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$FIG"
echo
echo "== summary (figures: $FIG)"
printf '%s\n' "${summary[@]}"
echo "reliability: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
