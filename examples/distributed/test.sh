#!/usr/bin/env bash
# make test-distributed: runs examples/distributed/run.sh (Go front -> Ruby back over HTTP on
# loopback) twice:
#   1. exporting to hh-receiver as HoneyHive: one trace and one session across both processes,
#      parents linked across the languages (check.py);
#   2. offline (HH_EXPORTER=file): tools/hh-view shows both services' spans in one session tree.
# Assumes `make lib`. Works from any directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$REPO/examples/distributed"
# shellcheck source=tests/install/common.sh
source "$REPO/tests/install/common.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/hh-distributed.XXXXXX")"
trap 'exec 9>&- 2>/dev/null || true; [[ "${HH_KEEP:-0}" == 1 ]] && echo "kept $work" || rm -rf "$work"' EXIT
clean_hh_env
start_receiver "$work"

echo "== 1. both services export to hh-receiver (HoneyHive mode)"
check "run.sh (HH_API_URL=hh-receiver)" env HH_API_KEY=distributed-test-key HH_API_URL="$RX_URL" \
  HH_PROJECT=distributed HH_DISTRIBUTED_OUT="$work/rx" bash "$here/run.sh" "How does a session cross services?"
check_many python3 "$here/check.py" "$RX_URL" "$work/rx/answers.jsonl"

echo "== 2. offline: HH_EXPORTER=file per service, then tools/hh-view"
check "run.sh (no HH_API_KEY: file exporter + hh-view)" env HH_DISTRIBUTED_OUT="$work/file" \
  bash "$here/run.sh" "What is baggage?"
check "hh-view: one session of 7 spans from both files" bash -c \
  'out=$("$@") && echo "$out" | head -n 1 && [[ $(grep -c "^Session " <<<"$out") == 1 && "$out" == *"(7 spans"* ]]' _ \
  python3 "$REPO/tools/hh-view" --color never "$work/file/front.jsonl" "$work/file/back.jsonl"
check "hh-view: back.answer (Ruby) nests under front.call_back (Go)" bash -c \
  'python3 "$1" --color never --ascii "$2" "$3" | grep -E "^ +\`- back\.answer \[chain\]"' _ \
  "$REPO/tools/hh-view" "$work/file/front.jsonl" "$work/file/back.jsonl"
check "the HTML waterfall page was written" test -s "$work/file/distributed.html"
summary
