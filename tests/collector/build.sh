#!/usr/bin/env bash
# Builds the OpenTelemetry Collector of tests/collector with the collector's own builder (ocb),
# from the Go module proxy, as described by tests/collector/builder-config.yaml, and prints the
# binary's path on stdout (progress goes to stderr).
#
#   tests/collector/build.sh            # build/collector/otelcol-hh-<manifest hash>/otelcol-hh
#
# Cached: the binary lives under build/collector/ keyed by the manifest's hash, so a re-run
# with the same manifest builds nothing; change the manifest and the next run rebuilds. The
# builder itself is cached in build/collector/bin/. HH_OTELCOL_BIN=<path> skips all this and
# uses that binary. Exit 3 when the collector cannot be built (e.g. the module proxy is
# unreachable); the log is build/collector/build-<hash>.log. Works from any directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
manifest="$REPO/tests/collector/builder-config.yaml"

if [[ -n "${HH_OTELCOL_BIN:-}" ]]; then
  [[ -x "$HH_OTELCOL_BIN" ]] || { echo "HH_OTELCOL_BIN=$HH_OTELCOL_BIN is not an executable" >&2; exit 3; }
  echo "$HH_OTELCOL_BIN"
  exit 0
fi

cache="$REPO/build/collector"
hash="$(sha256sum "$manifest" | cut -c1-16)"
out="$cache/otelcol-hh-$hash"
bin="$out/otelcol-hh"
if [[ -x "$bin" ]]; then
  echo "collector: cached $bin (manifest $hash)" >&2
  echo "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "collector: go is not installed" >&2; exit 3; }
builder_version="$(sed -n 's/^# builder-version: *\(v[0-9.]*\).*/\1/p' "$manifest")"
[[ -n "$builder_version" ]] || { echo "collector: no '# builder-version:' line in $manifest" >&2; exit 3; }
mkdir -p "$cache/bin"
log="$cache/build-$hash.log"
: >"$log"

# One build at a time (two test runs on one checkout).
exec 8>"$cache/.lock"
flock 8
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

start=$(date +%s)
builder="$cache/bin/builder-$builder_version"
if [[ ! -x "$builder" ]]; then
  echo "collector: go install go.opentelemetry.io/collector/cmd/builder@$builder_version" >&2
  if ! GOBIN="$cache/bin/tmp-$$" go install "go.opentelemetry.io/collector/cmd/builder@$builder_version" >>"$log" 2>&1; then
    rm -rf "$cache/bin/tmp-$$"
    echo "collector: could not install the builder (see $log):" >&2
    tail -n 5 "$log" >&2
    exit 3
  fi
  mv "$cache/bin/tmp-$$/builder" "$builder"
  rm -rf "$cache/bin/tmp-$$"
fi

src="$cache/src-$hash"
rm -rf "$src"
mkdir -p "$src/tmp"
export TMPDIR="$src/tmp" # the builder leaves an empty temp dir behind: keep it in $src
cp "$manifest" "$src/builder-config.yaml"
echo "collector: building with $("$builder" version 2>&1 | head -n1) from $(basename "$manifest") (a few minutes the first time)" >&2
# The manifest's output_path (./otelcol-hh) is relative to the working directory.
if ! (cd "$src" && "$builder" --config builder-config.yaml) >>"$log" 2>&1; then
  echo "collector: the build failed (see $log):" >&2
  grep -v '^go: downloading' "$log" | tail -n 8 >&2
  exit 3
fi
mkdir -p "$out"
mv "$src/otelcol-hh/otelcol-hh" "$bin.tmp"
cp "$src/otelcol-hh/go.mod" "$out/go.mod" # what went in, for the record
mv "$bin.tmp" "$bin"
rm -rf "$src"
echo "collector: built $bin in $(( $(date +%s) - start )) s" >&2
echo "$bin"
