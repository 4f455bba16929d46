#!/usr/bin/env bash
# Builds bindings/cpp/bench/span_bench.cpp twice, with this checkout's honeyhive.hpp and with
# the one of a git revision (default: main), both -O2 against the same libhoneyhive.so, and
# runs them alternately: paired figures for "did the binding's span hot path get slower".
#   bindings/cpp/bench/run-bench.sh [revision] [pairs] [rounds] [spans-per-round]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../../.." && pwd)"
rev="${1:-main}"
pairs="${2:-3}"
out="${repo}/build/cpp-bench"
mkdir -p "${out}/old/honeyhive"
git -C "${repo}" show "${rev}:bindings/cpp/include/honeyhive/honeyhive.hpp" >"${out}/old/honeyhive/honeyhive.hpp"
lib="${repo}/target/release"
build() {  # $1: output, $2: C++ include dir
  c++ -std=c++17 -O2 -DNDEBUG -I"$2" -I"${repo}/include" -I"${repo}/bindings/cpp/tests" \
    "${here}/span_bench.cpp" "${repo}/bindings/cpp/tests/support/test_support.cpp" \
    -L"${lib}" -lhoneyhive -Wl,-rpath,"${lib}" -pthread -o "$1" \
    -DHH_DEFAULT_RECEIVER_BIN="\"${lib}/hh-receiver\""
}
build "${out}/span_bench_old" "${out}/old"
build "${out}/span_bench_new" "${repo}/bindings/cpp/include"
unset HH_EXPORTER HH_EXPORT_FILE HH_TEST_MODE HH_API_URL HH_SERVER_URL HH_API_KEY HH_PROJECT || true
for i in $(seq "${pairs}"); do
  echo "pair ${i}:"
  echo -n "  ${rev}: " && "${out}/span_bench_old" "${@:3}" | grep -v '^@@'
  echo -n "  this:  " && "${out}/span_bench_new" "${@:3}" | grep -v '^@@'
done
