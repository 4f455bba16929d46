#!/usr/bin/env bash
# Configures, builds and tests the C++ binding (and examples/cpp) into <repo>/build/cpp.
# Assumes libhoneyhive and hh-receiver are already built in <repo>/target/release:
#   cargo build --release --lib -p honeyhive -p hh-test-receiver --bins
# Works from any directory. Extra arguments go to ctest (e.g. -R Json, -j2).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
build="${HH_CPP_BUILD_DIR:-${repo}/build/cpp}"
library="${HONEYHIVE_LIBRARY:-${repo}/target/release/libhoneyhive.so}"
receiver="${HH_RECEIVER_BIN:-${repo}/target/release/hh-receiver}"

for f in "${library}" "${receiver}" "${repo}/include/honeyhive.h"; do
  if [[ ! -e "${f}" ]]; then
    echo "run-tests.sh: missing ${f}" >&2
    echo "  build it: (cd ${repo} && cargo build --release --lib -p honeyhive -p hh-test-receiver --bins)" >&2
    exit 1
  fi
done

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [[ -f "${build}/CMakeCache.txt" ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=Ninja" "${build}/CMakeCache.txt" \
   && [[ ${#generator[@]} -gt 0 ]]; then
  rm -rf "${build}"  # created by another generator
fi

cmake -S "${here}" -B "${build}" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Debug}" \
  -DHONEYHIVE_LIBRARY="${library}" \
  -DHONEYHIVE_RECEIVER_BIN="${receiver}" \
  -DHONEYHIVE_CPP_BUILD_TESTS=ON -DHONEYHIVE_CPP_BUILD_EXAMPLES=ON
cmake --build "${build}" --parallel

# Tests must not be redirected by the caller's HoneyHive settings.
unset HH_EXPORTER HH_EXPORT_FILE HH_TEST_MODE HH_API_URL HH_SERVER_URL HONEYHIVE_SERVER_URL \
      HH_API_KEY HONEYHIVE_API_KEY HH_PROJECT HH_SOURCE HH_DISABLE_BATCH HH_OTLP_PROTOCOL \
      OTEL_EXPORTER_OTLP_PROTOCOL OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || true
export HH_RECEIVER_BIN="${receiver}"

jobs="$(nproc 2>/dev/null || echo 2)"
ctest --test-dir "${build}" --output-on-failure -j "${jobs}" "$@"
