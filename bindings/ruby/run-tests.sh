#!/usr/bin/env bash
# Runs the Ruby binding's tests against target/release/libhoneyhive.so and hh-receiver,
# then builds the gem into a temp dir as a smoke check. Works from any directory.
#   bindings/ruby/run-tests.sh [test/test_spans.rb ...]
# Build first if needed: cargo build --release --lib -p honeyhive -p hh-test-receiver --bins
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export HONEYHIVE_LIB="${HONEYHIVE_LIB:-$repo/target/release/libhoneyhive.so}"
export HH_RECEIVER_BIN="${HH_RECEIVER_BIN:-$repo/target/release/hh-receiver}"
for f in "$HONEYHIVE_LIB" "$HH_RECEIVER_BIN"; do
  [[ -e "$f" ]] || { echo "missing $f: cargo build --release --lib -p honeyhive -p hh-test-receiver --bins" >&2; exit 2; }
done
# The tests configure tracers explicitly; stray HH_* settings from the shell must not leak in.
while IFS= read -r var; do unset "$var"; done < <(env | grep -oE '^(HH_[A-Z_]+|OTEL_[A-Z_]+)' | grep -v '^HH_RECEIVER_BIN$' || true)

cd "$here"
ruby -v
ruby -e 'require "ffi"; puts "ffi #{FFI::VERSION}"'

files=("$@")
if [[ ${#files[@]} -eq 0 ]]; then
  for f in test/test_*.rb; do
    [[ "$f" == test/test_helper.rb ]] || files+=("$f")
  done
fi

failed=()
for f in "${files[@]}"; do
  echo "== $f"
  # Each file runs in its own process (GC.stress, fork and at-exit behaviour stay isolated).
  if ! timeout 120 ruby -w -Ilib -Itest "$f" 2> >(grep -v -e '^\[honeyhive' -e ' -- honeyhive: ' -e 'deliberate panic' -e 'panicked at src/ffi' -e '^note: run with' >&2); then
    failed+=("$f")
  fi
done

echo "== gem build (smoke check)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gem build libhoneyhive.gemspec --output "$tmp/libhoneyhive.gem" >/dev/null
ruby -e 'require "rubygems/package"; s = Gem::Package.new(ARGV[0]).spec; puts "built #{s.full_name}: #{s.files.size} files"; abort "lib/honeyhive.rb missing" unless s.files.include?("lib/honeyhive.rb")' "$tmp/libhoneyhive.gem"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all Ruby tests passed"
