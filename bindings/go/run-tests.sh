#!/usr/bin/env bash
# Runs the Go binding's checks: gofmt, go vet and go test -race for the binding
# (bindings/go), the example (examples/go) and the OpenTelemetry tests (tests/otel/go), plus a build of the pkg-config variant.
# Assumes libhoneyhive and hh-receiver are already built in target/release:
#   cargo build --release --lib -p honeyhive -p hh-test-receiver --bins
# Works from any directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
release="$root/target/release"

for f in "$release/libhoneyhive.so" "$root/include/honeyhive.h" "${HH_RECEIVER_BIN:-$release/hh-receiver}"; do
  if [[ ! -e "$f" ]]; then
    echo "run-tests.sh: missing $f" >&2
    echo "build it first: (cd $root && cargo build --release --lib -p honeyhive -p hh-test-receiver --bins)" >&2
    exit 1
  fi
done
export HH_RECEIVER_BIN="${HH_RECEIVER_BIN:-$release/hh-receiver}"
export CGO_ENABLED=1

# The tests configure tracers explicitly; HH_*/OTEL_* settings of the calling shell (say
# HH_TEST_MODE=true or HH_EXPORTER=console) must not change what they see.
while IFS= read -r var; do
  [[ "$var" == HH_RECEIVER_BIN ]] || unset "$var"
done < <(compgen -e | grep -E '^(HH_|HONEYHIVE_|OTEL_)' || true)

step() { printf '\n== %s\n' "$*"; }

# tests/otel/go: the binding with real OpenTelemetry instrumentation (otelhttp) and the
# OpenTelemetry SDK, in a module of its own so the binding keeps only API dependencies.
for dir in "$here" "$root/examples/go" "$root/tests/otel/go"; do
  cd "$dir"
  step "gofmt ($dir)"
  unformatted="$(gofmt -l .)"
  if [[ -n "$unformatted" ]]; then
    echo "not gofmt-ed: $unformatted" >&2
    exit 1
  fi
  step "go vet ($dir)"
  go vet ./...
  step "go test -race ($dir)"
  go test -race -count=1 ./...
done

# The pkg-config variant (an installed library): a temporary honeyhive.pc pointing at this
# repository's build, then build + run the examples with it.
step "pkg-config variant (-tags honeyhive_pkgconfig)"
pcdir="$(mktemp -d)"
trap 'rm -rf "$pcdir"' EXIT
sed -e "s|^libdir=.*|libdir=$release|" -e "s|^includedir=.*|includedir=$root/include|" \
  -e "s|@PREFIX@|$root|" "$here/honeyhive.pc.in" >"$pcdir/honeyhive.pc"
cd "$here"
PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" go vet -tags honeyhive_pkgconfig ./...
PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" LD_LIBRARY_PATH="$release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  go test -count=1 -tags honeyhive_pkgconfig -run 'Example' ./...

step "all Go checks passed"
