# Shared by tests/install, tests/collector and examples/distributed (source it; bash only).
#
#   check "what" cmd args...   runs the command; counts and prints ok/FAIL (output shown on FAIL)
#   check_many cmd args...     runs a command that prints its own "ok   ..." / "FAIL ..." lines
#                              and counts each of them (a crash counts as one failure)
#   summary                    prints "N passed, M failed"; returns 1 if anything failed
#   start_receiver DIR         starts hh-receiver (exits with this shell); sets RX_URL
#   rx_reset                   forgets what the receiver recorded
#   clean_hh_env               unsets HH_*, HONEYHIVE_* and OTEL_* variables of the caller's shell
#                              (but HH_RECEIVER_BIN and HH_KEEP: 1 keeps a script's temp dir)
#
# Expects REPO to be set (the repository root).

HH_PASSED=0
HH_FAILED=0
HH_FAILURES=()

check() {
  local what="$1"; shift
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [[ $rc -eq 0 ]]; then
    HH_PASSED=$((HH_PASSED + 1))
    echo "ok   $what"
  else
    HH_FAILED=$((HH_FAILED + 1))
    HH_FAILURES+=("$what")
    echo "FAIL $what (exit $rc)"
    [[ -n "$out" ]] && sed 's/^/     | /' <<<"$out" | tail -n 40
  fi
  return 0
}

check_many() {
  local out rc=0 line n=0
  out="$("$@" 2>&1)" || rc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok   "*) HH_PASSED=$((HH_PASSED + 1)); n=$((n + 1)) ;;
      "FAIL "*) HH_FAILED=$((HH_FAILED + 1)); HH_FAILURES+=("${line#FAIL }"); n=$((n + 1)) ;;
    esac
    echo "$line"
  done <<<"$out"
  if [[ $rc -ne 0 && $n -eq 0 ]]; then
    HH_FAILED=$((HH_FAILED + 1)); HH_FAILURES+=("$*")
    echo "FAIL $* (exit $rc, no results)"
  fi
  return 0
}

summary() {
  if [[ $HH_FAILED -gt 0 ]]; then
    printf 'failed: %s\n' "${HH_FAILURES[@]}"
  fi
  echo "$HH_PASSED passed, $HH_FAILED failed"
  [[ $HH_FAILED -eq 0 ]]
}

clean_hh_env() {
  local v
  while IFS= read -r v; do
    [[ "$v" == HH_RECEIVER_BIN || "$v" == HH_KEEP ]] || unset "$v"
  done < <(compgen -e | grep -E '^(HH_|HONEYHIVE_|OTEL_)' || true)
}

# start_receiver DIR: hh-receiver on 127.0.0.1 (a free port); it exits when this shell does
# (its stdin is a pipe held open by fd 9). Sets RX_URL.
start_receiver() {
  local dir="$1" bin="${HH_RECEIVER_BIN:-$REPO/target/release/hh-receiver}"
  [[ -x "$bin" ]] || { echo "missing $bin: run make lib" >&2; return 1; }
  mkfifo "$dir/rx_in"
  "$bin" --exit-on-stdin-eof <"$dir/rx_in" >"$dir/rx_out" 2>"$dir/rx_err" &
  exec 9>"$dir/rx_in"
  local _
  for _ in $(seq 200); do
    grep -q HH_RECEIVER_URL "$dir/rx_out" 2>/dev/null && break
    sleep 0.05
  done
  RX_URL="$(sed -n 's/^HH_RECEIVER_URL=//p' "$dir/rx_out")"
  [[ -n "$RX_URL" ]] || { echo "hh-receiver did not start: $(cat "$dir/rx_err")" >&2; return 1; }
}

rx_reset() {
  curl -fsS -X POST "$RX_URL/__hh/reset" >/dev/null
}
