#!/usr/bin/env bash
# Builds and runs the C tests of libhoneyhive against the RELEASE shared library
# (target/release/libhoneyhive.so): once normally, once under valgrind (reduced sizes).
#
#   tests/c/run-tests.sh              # build + normal run + valgrind run
#   HH_SKIP_VALGRIND=1 tests/c/run-tests.sh
#   tests/c/run-tests.sh wire abuse   # only some groups (wire abuse panic threads fork)
#
# Env: HH_RECEIVER_BIN (default target/release/hh-receiver), CC (default gcc),
#      HH_VALGRIND_FULL=1 (valgrind on the full-size run instead of the reduced one).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/build/c"
LIB="$ROOT/target/release"
CC="${CC:-gcc}"
mkdir -p "$OUT"

if [[ ! -f "$LIB/libhoneyhive.so" || ! -x "$LIB/hh-receiver" ]]; then
    echo "building libhoneyhive + hh-receiver (release)..." >&2
    (cd "$ROOT" && cargo build --release --lib -p honeyhive -p hh-test-receiver --bins)
fi
export HH_RECEIVER_BIN="${HH_RECEIVER_BIN:-$LIB/hh-receiver}"

CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -O1 -g -I"$ROOT/include" -DHH_REPO_ROOT="\"$ROOT\"")
"$CC" "${CFLAGS[@]}" "$ROOT"/tests/c/*.c -L"$LIB" -Wl,-rpath,"$LIB" -lhoneyhive -lpthread -lm \
    -o "$OUT/hh_c_tests"
echo "built $OUT/hh_c_tests (linked against $LIB/libhoneyhive.so)"

# hh_test_panic makes Rust's default panic hook print to stderr; keep that short.
export RUST_BACKTRACE=0

status=0
echo "--- normal run"
"$OUT/hh_c_tests" "$@" || status=$?

if [[ "${HH_SKIP_VALGRIND:-0}" != "1" ]]; then
    if command -v valgrind >/dev/null 2>&1; then
        reduced=1
        if [[ "${HH_VALGRIND_FULL:-0}" == "1" ]]; then reduced=0; fi
        echo "--- valgrind run (memcheck, $([[ $reduced == 1 ]] && echo "reduced sizes: HH_CTEST_REDUCED=1" || echo "full sizes"))"
        HH_CTEST_REDUCED=$reduced HH_CTEST_TIMEOUT_SCALE=10 \
            valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --suppressions="$ROOT/tests/c/valgrind.supp" --child-silent-after-fork=yes \
            "$OUT/hh_c_tests" "$@" && rc=0 || rc=$?
        case "$rc" in
            0) echo "memcheck: no errors, no definite leaks" ;;
            99) echo "memcheck: ERRORS or definite leaks (see above)" ;;
            *) echo "memcheck: no errors, no definite leaks; tests failed (exit $rc)" ;;
        esac
        if [[ $rc -ne 0 && $status -eq 0 ]]; then status=$rc; fi
    else
        echo "--- valgrind not installed: skipping the memcheck run" >&2
    fi
fi
exit "$status"
