#!/usr/bin/env bash
# Fuzz smoke run: builds the libFuzzer targets of fuzz/ on the STABLE toolchain (cargo-fuzz with
# `--sanitizer none`; libFuzzer's coverage instrumentation needs no nightly flag) and runs each
# for a bounded time from the committed seed corpus. A crash, a contained panic (the targets
# abort on HH_ERR_PANIC), a timeout or an out-of-memory fails the run.
#
#   fuzz/smoke.sh                      # every target, FUZZ_SECONDS each (default 25)
#   FUZZ_SECONDS=300 fuzz/smoke.sh propagation
#   FUZZ_MERGE=1 fuzz/smoke.sh         # afterwards, a coverage-minimized corpus in build/fuzz/merged
#
# Seeds: fuzz/corpus/<target>/ (seed-*: written by hand; the others: picked from fuzzing runs).
# Work files: build/fuzz/{corpus,artifacts,logs,merged}/<target>. Needs cargo-fuzz (installed with
# `cargo install cargo-fuzz --locked` when missing). Works from any directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
WORK="$ROOT/build/fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-25}"
TARGETS=("$@")
mkdir -p "$WORK"
if [[ ${#TARGETS[@]} -eq 0 ]]; then
  TARGETS=(config_json enrichment_json session_options propagation span_model event_json resource_env)
fi

# The targets make test-mode tracers only; stray HH_*/OTEL_* settings must not change that
# (config_json checks it and would skip the C ABI half otherwise).
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(HH_|HONEYHIVE_|OTEL_)' || true)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --quiet
fi

cd "$FUZZ"
# `make test` must not rewrite tracked files: the fuzz crate builds from its committed lock file
# (cargo fuzz has no --locked flag, so check it the way --locked would, before building).
if ! cargo metadata --locked --format-version 1 >/dev/null 2>"$WORK.lockcheck"; then
  echo "fuzz-smoke: fuzz/Cargo.lock is out of date (a dependency of the library changed):" >&2
  echo "  run: (cd fuzz && cargo metadata --format-version 1 >/dev/null) and commit fuzz/Cargo.lock" >&2
  tail -n 3 "$WORK.lockcheck" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "== build (cargo fuzz build --sanitizer none --debug-assertions)"
cargo fuzz build --sanitizer none --debug-assertions 2>&1 | grep -vE '^\s*(Compiling|Updating|Locking|Adding|Downloaded|Downloading)' || true
BIN="$FUZZ/target/x86_64-unknown-linux-gnu/release"

passed=0
failed=0
for t in "${TARGETS[@]}"; do
  [[ -x "$BIN/$t" ]] || { echo "missing $BIN/$t"; failed=$((failed + 1)); continue; }
  mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t" "$WORK/logs"
  log="$WORK/logs/$t.log"
  echo "== $t (${SECONDS_EACH}s)"
  rc=0
  # The first corpus dir receives new inputs; the committed seeds are read only.
  "$BIN/$t" "$WORK/corpus/$t" "$FUZZ/corpus/$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$t/" >"$log" 2>&1 || rc=$?
  runs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
  new="$(grep -oE '^stat::new_units_added: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
  cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo '?')"
  corpus="$(find "$WORK/corpus/$t" "$FUZZ/corpus/$t" -type f | wc -l)"
  echo "FIGURE fuzz-$t | seconds=$SECONDS_EACH executions=$runs coverage_edges=$cov new_units=$new corpus_files=$corpus exit=$rc"
  if [[ $rc -ne 0 ]]; then
    failed=$((failed + 1))
    echo "  FAIL $t: libFuzzer exit $rc; see $log; reproducer in $WORK/artifacts/$t/"
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY|==[0-9]+==' "$log" | head -n 10 | sed 's/^/    /'
  else
    passed=$((passed + 1))
  fi
  if [[ "${FUZZ_MERGE:-0}" == 1 && $rc -eq 0 ]]; then
    rm -rf "$WORK/merged/$t" && mkdir -p "$WORK/merged/$t"
    "$BIN/$t" -merge=1 "$WORK/merged/$t" "$FUZZ/corpus/$t" "$WORK/corpus/$t" -max_len=65536 >/dev/null 2>&1 || true
    echo "  coverage-minimized corpus of $t: $WORK/merged/$t ($(ls "$WORK/merged/$t" | wc -l) files);" \
      "fuzz/corpus/$t keeps a small hand-picked part of it (keep the committed corpus under 1 MB)"
  fi
done
echo "fuzz-smoke: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
