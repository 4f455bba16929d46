#!/usr/bin/env bash
# The distributed demo in one command: a Go HTTP service (front) calls a Ruby HTTP service
# (back) on loopback; the trace context and the session travel in traceparent/baggage headers;
# both processes export; the result is one trace and one session per request.
#
#   examples/distributed/run.sh ["question" ...]
#
# Where the spans go:
#   - no HH_API_KEY (default): each service writes HH_EXPORTER=file output under
#     build/distributed/, then tools/hh-view shows the session tree (both services in one tree)
#     and writes build/distributed/distributed.html (a waterfall page);
#   - HH_API_KEY=... [HH_PROJECT=...]: to HoneyHive (or to HH_API_URL, e.g. hh-receiver:
#     examples/distributed/test.sh does that);
#   - HH_EXPORTER=otlp|console: as configured.
# Needs: Go, Ruby with the ffi gem, curl; builds libhoneyhive if target/release lacks it.
# Works from any directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/examples/distributed"
OUT="${HH_DISTRIBUTED_OUT:-$ROOT/build/distributed}"
LIB="${CARGO_TARGET_DIR:-$ROOT/target}/release"
mkdir -p "$OUT"
questions=("$@")
[[ ${#questions[@]} -gt 0 ]] || questions=("How does a session follow a request across services?")

if [[ ! -f "$LIB/libhoneyhive.so" ]]; then
  echo "==> building libhoneyhive (cargo build --release --lib)"
  (cd "$ROOT" && cargo build --release --lib)
fi
echo "==> building the Go front service"
(cd "$HERE/front" && CGO_ENABLED=1 go build -o "$OUT/front" .)

file_mode=0
if [[ "${HH_EXPORTER:-}" == file || ( -z "${HH_API_KEY:-}" && -z "${HH_EXPORTER:-}" ) ]]; then
  file_mode=1
  rm -f "$OUT/front.jsonl" "$OUT/back.jsonl"
  echo "==> offline (no HH_API_KEY): HH_EXPORTER=file, one file per service in ${OUT#"$ROOT"/}/"
else
  echo "==> exporting to ${HH_EXPORTER:-HoneyHive}${HH_API_URL:+ at $HH_API_URL}"
fi
svc_env() { # the environment of one service: svc_env NAME
  if [[ $file_mode == 1 ]]; then echo HH_EXPORTER=file "HH_EXPORT_FILE=$OUT/$1.jsonl"; fi
}

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
# wait_url FILE VAR: the URL a service printed as VAR=... once listening (10 s).
wait_url() {
  local i
  for i in $(seq 200); do
    if grep -q "^$2=" "$1" 2>/dev/null; then sed -n "s/^$2=//p" "$1"; return 0; fi
    sleep 0.05
  done
  echo "$2 not printed; output:" >&2
  cat "$1" >&2
  return 1
}

# shellcheck disable=SC2046
env $(svc_env back) ruby -I "$ROOT/bindings/ruby/lib" "$HERE/back/server.rb" 0 >"$OUT/back.out" 2>"$OUT/back.err" &
pids+=($!)
back_pid=$!
back_url="$(wait_url "$OUT/back.out" BACK_URL)"
# shellcheck disable=SC2046
env $(svc_env front) "$OUT/front" -back "$back_url" >"$OUT/front.out" 2>"$OUT/front.err" &
pids+=($!)
front_pid=$!
front_url="$(wait_url "$OUT/front.out" FRONT_URL)"
echo "==> front (Go) $front_url -> back (Ruby) $back_url"

: >"$OUT/answers.jsonl"
for q in "${questions[@]}"; do
  reply="$(curl -fsS --max-time 30 -G "$front_url/ask" --data-urlencode "q=$q")"
  echo "$reply" >>"$OUT/answers.jsonl"
  python3 - "$reply" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"Q: {r['question']}\nA: {r['answer']}")
print(f"   session {r['session_id']}, trace {r['trace_id']}, back service in {r['back_language']}")
PY
done

# Stop both: each closes its tracer (flushing every span) before exiting.
curl -fsS -X POST "$front_url/quit" >/dev/null
curl -fsS -X POST "$back_url/quit" >/dev/null
status=0
wait "$front_pid" || { echo "front exited with $? (telemetry not fully delivered?):" >&2; cat "$OUT/front.err" >&2; status=1; }
wait "$back_pid" || { echo "back exited with $? (telemetry not fully delivered?):" >&2; cat "$OUT/back.err" >&2; status=1; }
pids=()

if [[ $file_mode == 1 ]]; then
  echo
  echo "==> tools/hh-view ${OUT#"$ROOT"/}/front.jsonl ${OUT#"$ROOT"/}/back.jsonl"
  python3 "$ROOT/tools/hh-view" "$OUT/front.jsonl" "$OUT/back.jsonl" --html "$OUT/distributed.html"
  echo
  echo "HTML waterfall: $OUT/distributed.html"
elif [[ -z "${HH_API_URL:-}" && -n "${HH_API_KEY:-}" ]]; then
  echo "The sessions were sent to HoneyHive: open your project at https://app.honeyhive.ai."
fi
exit $status
