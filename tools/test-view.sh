#!/usr/bin/env bash
# make test-view: hh-view's HTML waterfall of real demo runs, rendered by headless Chromium.
#
#   1. runs two demos offline (HH_EXPORTER=file): the C RAG pipeline (examples/c) and the
#      distributed Go -> Ruby demo (examples/distributed), and writes their pages with
#      tools/hh-view --html;
#   2. renders each page in headless Chromium (--dump-dom) and checks the rendered DOM against
#      the trace files (tools/view_dom_check.py): every span's name, event type, duration and
#      error, one row per span, one section per session;
#   3. takes a screenshot of each page: build/view/*.png (look at them).
#
# Needs Debian's chromium (scripts/setup.sh installs it). Assumes `make lib`. Works from any
# directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tests/install/common.sh
source "$REPO/tests/install/common.sh"
release="${CARGO_TARGET_DIR:-$REPO/target}/release"
[[ -f "$release/libhoneyhive.so" ]] || { echo "missing $release/libhoneyhive.so: run make lib" >&2; exit 1; }
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [[ -z "$chromium" ]]; then
  echo "test-view: chromium is not installed (bash scripts/setup.sh installs Debian's chromium)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
out="$REPO/build/view"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/hh-view.XXXXXX")"
trap '[[ "${HH_KEEP:-0}" == 1 ]] && echo "kept $work" || rm -rf "$work"' EXIT
clean_hh_env

# chromium_run OUTPUT_FLAG PAGE: headless, offline, a throwaway profile; stderr to a log.
chromium_run() {
  local flag="$1" page="$2" profile
  profile="$(mktemp -d "$work/profile.XXXXXX")"
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size=1400,1000 \
    "$flag" "file://$page" 2>>"$work/chromium.log"
}
# png_ok FILE: a PNG of the window's size, not trivially small.
png_ok() {
  python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
print(f"{sys.argv[1]}: {w}x{h} PNG, {len(data)} bytes")
assert (w, h) == (1400, 1000) and len(data) > 20000, "unexpected size"
PY
}
# view NAME PAGE TRACE...: render, check the DOM, screenshot.
view() {
  local name="$1" page="$2"; shift 2
  check "[$name] chromium --headless --dump-dom" bash -c 'chromium_run --dump-dom "$1" >"$2" && test -s "$2"' _ "$page" "$work/$name.dom.html"
  check_many python3 "$REPO/tools/view_dom_check.py" "$work/$name.dom.html" "$@"
  check "[$name] chromium --headless --screenshot -> build/view/$name.png" bash -c \
    'rm -f "$3" && cd "$(dirname "$3")" && chromium_run --screenshot="$3" "$1" >/dev/null && png_ok "$3"' _ "$page" "$work" "$out/$name.png"
}
export -f chromium_run png_ok
export chromium work

echo "== the C RAG demo (examples/c/rag_pipeline.c), offline"
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -pedantic -O2 -I"$REPO/include" "$REPO/examples/c/rag_pipeline.c" \
  -L"$release" -Wl,-rpath,"$release" -lhoneyhive -o "$work/rag_pipeline"
HH_EXPORTER=file HH_EXPORT_FILE="$work/rag.jsonl" "$work/rag_pipeline" >/dev/null
python3 "$REPO/tools/hh-view" --quiet "$work/rag.jsonl" --html "$out/rag.html"
view rag "$out/rag.html" "$work/rag.jsonl"

echo "== the distributed demo (Go front -> Ruby back), offline"
HH_DISTRIBUTED_OUT="$work/dist" bash "$REPO/examples/distributed/run.sh" \
  "How does a session follow a request?" "What does baggage carry?" >"$work/dist.log" 2>&1 ||
  { cat "$work/dist.log"; exit 1; }
cp "$work/dist/distributed.html" "$out/distributed.html"
view distributed "$out/distributed.html" "$work/dist/front.jsonl" "$work/dist/back.jsonl"

echo "pages and screenshots: $out/"
summary
