#!/usr/bin/env bash
# Checks the dynamic interface of a libhoneyhive shared library:
#   - every exported (defined, dynamic) symbol starts with hh_ (version-node symbols aside);
#   - the exported functions are exactly the functions declared in honeyhive.h;
#   - SONAME libhoneyhive.so.<major>; DT_NEEDED only the C runtime's libraries.
#
#   tests/install/check-symbols.sh [LIB.so] [HEADER]   (defaults: target/release/libhoneyhive.so,
#                                                        include/honeyhive.h)
# Works from any directory; prints "N passed, M failed".
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=tests/install/common.sh
source "$REPO/tests/install/common.sh"
lib="${1:-${CARGO_TARGET_DIR:-$REPO/target}/release/libhoneyhive.so}"
header="${2:-$(dirname "$lib")/../include/honeyhive.h}"
[[ -f "$header" ]] || header="$REPO/include/honeyhive.h"
[[ -f "$lib" ]] || { echo "missing $lib: run make lib" >&2; exit 1; }
major="$(sed -n 's/^#define HH_VERSION_MAJOR \([0-9]*\)/\1/p' "$header")"

# nm -D --defined-only: "ADDR TYPE NAME[@VERSION]"; type A = a version node (GNU ld).
exported="$(nm -D --defined-only "$lib" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | sort -u)"
declared="$(grep -oE '\bhh_[a-z0-9_]+[[:space:]]*\(' "$header" | tr -d '( \t' | sort -u)"
echo "$lib: $(wc -l <<<"$exported") exported symbols, $(wc -l <<<"$declared") functions in $(basename "$header")"

only_hh() { local bad; bad="$(grep -v '^hh_' <<<"$exported" || true)"; [[ -z "$bad" ]] || { echo "not hh_*: $bad"; return 1; }; }
same_as_header() { diff <(echo "$exported") <(echo "$declared") && echo "identical"; }
soname() {
  local got; got="$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
  echo "SONAME: ${got:-none}"; [[ "$got" == "libhoneyhive.so.$major" ]]
}
system_needed() {
  local n bad=0
  for n in $(readelf -d "$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    case "$n" in
      libc.so.*|libm.so.*|libgcc_s.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*|libutil.so.*) echo "needs $n" ;;
      *) echo "unexpected DT_NEEDED $n"; bad=1 ;;
    esac
  done
  return $bad
}
check "every exported symbol starts with hh_ (nm -D --defined-only)" only_hh
check "exported functions == functions declared in $(basename "$header")" same_as_header
check "SONAME libhoneyhive.so.$major" soname
check "DT_NEEDED: only the C runtime" system_needed
summary
