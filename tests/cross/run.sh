#!/usr/bin/env bash
# Cross-language trace: a Go process injects its span's context into HTTP headers, a Ruby
# process extracts it and continues; the receiver must see one trace and one session.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
rx_bin="${HH_RECEIVER_BIN:-$repo/target/release/hh-receiver}"
work="$(mktemp -d)"
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$work"' EXIT

# The receiver exits when this script does (its stdin is our pipe).
mkfifo "$work/rx_in"
"$rx_bin" --exit-on-stdin-eof < "$work/rx_in" > "$work/rx_out" &
exec 3>"$work/rx_in"
for _ in $(seq 100); do grep -q HH_RECEIVER_URL "$work/rx_out" 2>/dev/null && break; sleep 0.05; done
url="$(sed -n 's/^HH_RECEIVER_URL=//p' "$work/rx_out")"
[ -n "$url" ] || { echo "receiver did not start"; exit 1; }

for v in $(env | sed -n 's/^\(HH_[A-Z_]*\|OTEL_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export HH_API_KEY=cross-test-key HH_API_URL="$url" HH_PROJECT=cross OTEL_BSP_SCHEDULE_DELAY=50

IFS=$'\t' read -r traceparent baggage session go_span < <(cd "$here/go" && go run .)
echo "go injected: traceparent=$traceparent baggage=$baggage"
ruby -I "$repo/bindings/ruby/lib" "$here/ruby_server.rb" "$traceparent" "$baggage"
python3 "$here/check.py" "$url" "$session" "$go_span"
