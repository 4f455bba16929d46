#!/usr/bin/env bash
# The libhoneyhive demo: build the library (if needed) and the C RAG example, run it, and show
# the trace.
#
#   examples/c/demo.sh                    # offline: spans go to a local file, shown by tools/hh-view
#   HH_API_KEY=... [HH_PROJECT=...] examples/c/demo.sh   # send the session to HoneyHive instead
#
# Outputs go under build/demo/: the OTLP/JSON lines file and an HTML waterfall page.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIB="$ROOT/target/release"
OUT="$ROOT/build/demo"
mkdir -p "$OUT"

if [[ ! -f "$LIB/libhoneyhive.so" ]]; then
    echo "==> building libhoneyhive (cargo build --release --lib)"
    (cd "$ROOT" && cargo build --release --lib)
fi

echo "==> compiling examples/c/rag_pipeline.c"
"${CC:-gcc}" -std=c11 -Wall -Wextra -Werror -pedantic -O2 -I"$ROOT/include" \
    "$ROOT/examples/c/rag_pipeline.c" -L"$LIB" -Wl,-rpath,"$LIB" -lhoneyhive -o "$OUT/rag_pipeline"

if [[ -n "${HH_API_KEY:-}" ]]; then
    echo "==> running against HoneyHive (HH_API_KEY is set${HH_PROJECT:+, project $HH_PROJECT})"
    "$OUT/rag_pipeline" "$@"
    echo
    echo "The session was sent to HoneyHive: open your project at https://app.honeyhive.ai to see it."
    echo "(Unset HH_API_KEY to run offline and view the trace locally.)"
    exit 0
fi

TRACE="$OUT/rag_pipeline.jsonl"
HTML="$OUT/rag_pipeline.html"
rm -f "$TRACE"
echo "==> running offline (no HH_API_KEY): HH_EXPORTER=file HH_EXPORT_FILE=${TRACE#"$ROOT"/}"
HH_EXPORTER=file HH_EXPORT_FILE="$TRACE" "$OUT/rag_pipeline" "$@"

echo
echo "==> tools/hh-view ${TRACE#"$ROOT"/}"
python3 "$ROOT/tools/hh-view" "$TRACE" --html "$HTML"
echo
echo "HTML waterfall: $HTML"
