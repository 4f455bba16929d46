#!/usr/bin/env bash
# make test-install: libhoneyhive installed like a C library, used the way each ecosystem does.
#
#   1. `make install PREFIX=<tmp>`: files, symlinks, SONAME, exported symbols (check-symbols.sh);
#      `make install/uninstall DESTDIR=<stage> PREFIX=/usr/local` (a packager's staged install)
#   2. C: examples/c/rag_pipeline.c built with `pkg-config --cflags --libs honeyhive`, and
#      statically with `pkg-config --static`
#   3. C++: examples/cpp built with CMake find_package(honeyhive) (CMAKE_PREFIX_PATH=<prefix>),
#      shared and HONEYHIVE_USE_STATIC_LIBS=ON
#   4. Go: a separate module (tests/install/gomod) built with -tags honeyhive_pkgconfig
#   5. Ruby: `gem build` + `gem install --local` into a temp GEM_HOME, the library bundled in
#      the gem, then a plain gem with HONEYHIVE_LIB, then the system loader (LD_LIBRARY_PATH)
# Every program runs against hh-receiver and the spans are checked there (tests/install/rxcheck.py).
#
# Assumes `make lib`. Works from any directory. Keeps the temp dir with HH_KEEP=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$REPO/tests/install"
# shellcheck source=tests/install/common.sh
source "$here/common.sh"
build="${CARGO_TARGET_DIR:-$REPO/target}/release"
for f in "$build/libhoneyhive.so" "$build/libhoneyhive.a" "${HH_RECEIVER_BIN:-$build/hh-receiver}"; do
  [[ -e "$f" ]] || { echo "missing $f: run make lib" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/hh-install.XXXXXX")"
cleanup() { exec 9>&- 2>/dev/null || true; if [[ "${HH_KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
prefix="$work/prefix"
clean_hh_env
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH HONEYHIVE_LIB GEM_HOME GEM_PATH
start_receiver "$work"
# Every program sends to the receiver as if it were HoneyHive; a short batch delay.
export HH_API_KEY=install-test-key HH_API_URL="$RX_URL" HH_PROJECT=install-test OTEL_BSP_SCHEDULE_DELAY=50
echo "receiver: $RX_URL; prefix: $prefix"

# Runs "$@" against a fresh receiver and checks the spans: rx_run "<rxcheck args>" cmd...
rx_run() {
  local args="$1"; shift
  rx_reset
  "$@"
  # shellcheck disable=SC2086
  python3 "$here/rxcheck.py" "$RX_URL" $args
}
# needs BINARY LIBNAME_PATTERN: the binary's DT_NEEDED has the pattern (or, with !, not)
needed() {
  local got; got="$(readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  echo "DT_NEEDED of $(basename "$1"): $got"
  if [[ "$2" == !* ]]; then [[ " $got " != *" ${2#!} "* ]]; else [[ " $got " == *" $2 "* ]]; fi
}
# resolves_into BINARY DIR [env...]: the loader maps libhoneyhive from DIR
resolves_into() {
  local bin="$1" dir="$2"; shift 2
  local line; line="$(env "$@" ldd "$bin" | grep libhoneyhive)"
  echo "$line"
  [[ "$line" == *"=> $dir/libhoneyhive.so."* ]]
}

echo "== 1. make install"
check "make install PREFIX=<tmp>" make -s -C "$REPO" install PREFIX="$prefix"
check "installed files" bash -c '
  cd "$1/lib" && for f in libhoneyhive.so.0.1.0 libhoneyhive.a pkgconfig/honeyhive.pc \
    cmake/honeyhive/honeyhiveConfig.cmake cmake/honeyhive/honeyhiveConfigVersion.cmake \
    cmake/honeyhive/honeyhiveTargets.cmake ../include/honeyhive.h ../include/honeyhive/honeyhive.hpp; do
    [[ -f $f ]] || { echo "missing $f"; exit 1; }; done' _ "$prefix"
check "symlinks .so -> .so.0 -> .so.0.1.0" bash -c '
  [[ $(readlink "$1/libhoneyhive.so") == libhoneyhive.so.0 && $(readlink "$1/libhoneyhive.so.0") == libhoneyhive.so.0.1.0 ]]' _ "$prefix/lib"
check "exported symbols and SONAME (check-symbols.sh)" bash "$here/check-symbols.sh" "$prefix/lib/libhoneyhive.so.0.1.0"
check "pkg-config --modversion honeyhive = 0.1.0" bash -c \
  '[[ $(PKG_CONFIG_PATH="$1" pkg-config --modversion honeyhive) == 0.1.0 ]]' _ "$prefix/lib/pkgconfig"
stage="$work/stage"
check "make install DESTDIR=<stage> PREFIX=/usr/local (staged, refers to /usr/local)" bash -c '
  make -s -C "$1" install DESTDIR="$2" PREFIX=/usr/local >/dev/null &&
  grep -qx "prefix=/usr/local" "$2/usr/local/lib/pkgconfig/honeyhive.pc" &&
  [[ -f "$2/usr/local/lib/libhoneyhive.so.0.1.0" && -f "$2/usr/local/lib/cmake/honeyhive/honeyhiveConfig.cmake" ]]' _ "$REPO" "$stage"
check "make uninstall DESTDIR=<stage> removes every file" bash -c '
  make -s -C "$1" uninstall DESTDIR="$2" PREFIX=/usr/local >/dev/null &&
  left=$(find "$2" -type f -o -type l) && [[ -z "$left" ]] || { echo "left: $left"; exit 1; }' _ "$REPO" "$stage"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
CC="${CC:-cc}"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -O2)
libdir="$(pkg-config --variable=libdir honeyhive)"

echo "== 2. C with pkg-config"
# shellcheck disable=SC2046
check "cc rag_pipeline.c \$(pkg-config --cflags --libs honeyhive)" \
  "$CC" "${CFLAGS[@]}" "$REPO/examples/c/rag_pipeline.c" $(pkg-config --cflags --libs honeyhive) \
  -Wl,-rpath,"$libdir" -o "$work/rag_shared"
check "C (shared): DT_NEEDED libhoneyhive.so.0" needed "$work/rag_shared" libhoneyhive.so.0
check "C (shared): loads the installed library" resolves_into "$work/rag_shared" "$libdir"
check "C (shared): spans delivered to the receiver" rx_run \
  "--spans 7 --names rag_pipeline,retrieve_documents,llm_call,calculator --sessions 1 --traces 1 --started --lang c" \
  "$work/rag_shared"
static_libs="$(pkg-config --static --libs honeyhive | sed 's/-lhoneyhive\b/-l:libhoneyhive.a/')"
echo "static link flags: $static_libs"
# shellcheck disable=SC2046,SC2086
check "cc rag_pipeline.c \$(pkg-config --static --libs honeyhive) with -l:libhoneyhive.a" \
  "$CC" "${CFLAGS[@]}" "$REPO/examples/c/rag_pipeline.c" $(pkg-config --cflags honeyhive) $static_libs \
  -o "$work/rag_static"
check "C (static): no libhoneyhive in DT_NEEDED" needed "$work/rag_static" '!libhoneyhive.so.0'
check "C (static): spans delivered to the receiver" rx_run \
  "--spans 7 --names rag_pipeline,llm_call --sessions 1 --traces 1 --started --lang c" \
  "$work/rag_static"

echo "== 3. C++ with CMake find_package(honeyhive)"
gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
cmake_build() { # cmake_build BUILD_DIR [cmake args]: configure + build examples/cpp
  local dir="$1"; shift
  cmake -S "$REPO/examples/cpp" -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" "$@" >"$dir.log" 2>&1 && cmake --build "$dir" >>"$dir.log" 2>&1 ||
    { cat "$dir.log"; return 1; }
  grep -E "honeyhive_DIR" "$dir/CMakeCache.txt"
  grep -q "honeyhive_DIR:PATH=$prefix/lib/cmake/honeyhive" "$dir/CMakeCache.txt"
}
check "cmake examples/cpp -DCMAKE_PREFIX_PATH=<prefix> (finds the installed package)" cmake_build "$work/cpp"
check "C++ (shared): DT_NEEDED libhoneyhive.so.0" needed "$work/cpp/honeyhive_worker_pool" libhoneyhive.so.0
check "C++ (shared): loads the installed library" resolves_into "$work/cpp/honeyhive_worker_pool" "$libdir"
check "C++ (shared): 3 requests, 3 sessions delivered" rx_run \
  "--spans 15 --names handle_request,model_call,tool_call --sessions 3 --traces 3 --started --lang cpp" \
  "$work/cpp/honeyhive_worker_pool" 3 2
relocated="$work/relocated"
cp -a "$prefix" "$relocated"
relocated_build() {
  cmake -S "$REPO/examples/cpp" -B "$work/cpp-relocated" "${gen[@]}" -DCMAKE_PREFIX_PATH="$relocated" >/dev/null &&
    cmake --build "$work/cpp-relocated" >/dev/null &&
    readelf -d "$work/cpp-relocated/honeyhive_worker_pool" | grep -E "RUNPATH|RPATH" | tee /dev/stderr | grep -q "$relocated/lib"
}
check "the CMake package is relocatable (a copy of the prefix elsewhere is found and linked)" relocated_build
check "cmake examples/cpp -DHONEYHIVE_USE_STATIC_LIBS=ON" cmake_build "$work/cpp-static" -DHONEYHIVE_USE_STATIC_LIBS=ON
check "C++ (static): no libhoneyhive in DT_NEEDED" needed "$work/cpp-static/honeyhive_worker_pool" '!libhoneyhive.so.0'
check "C++ (static): 2 requests delivered" rx_run \
  "--spans 10 --names handle_request --sessions 2 --started --lang cpp" \
  "$work/cpp-static/honeyhive_worker_pool" 2 2

echo "== 4. Go: a separate module, -tags honeyhive_pkgconfig"
gobuild() {
  cd "$here/gomod"
  CGO_ENABLED=1 CGO_LDFLAGS="-Wl,-rpath,$libdir" go build -tags honeyhive_pkgconfig -o "$work/gocheck" .
  # The build must have used pkg-config, not the binding's repository paths.
  go list -tags honeyhive_pkgconfig -f '{{join .CgoPkgConfig " "}}' github.com/honeyhiveai/libhoneyhive/bindings/go | grep -qx honeyhive
}
check "go build -tags honeyhive_pkgconfig (tests/install/gomod)" gobuild
check "Go: loads the installed library" resolves_into "$work/gocheck" "$libdir"
check "Go: spans delivered to the receiver" rx_run \
  "--spans 2 --names go.installed,go.installed.child --sessions 1 --started --lang go" "$work/gocheck"

echo "== 5. Ruby: gem build + gem install --local"
RUBY_ONELINER='require "honeyhive"
puts "ruby: #{HoneyHive::Native::LIBRARY_PATH}"
t = HoneyHive::Tracer.new
t.with_session("ruby-install") { t.trace("ruby.installed", event_type: :chain) { |s| s.enrich(metadata: { via: ENV["VIA"] }) } }
exit(t.close(timeout: 5) ? 0 : 2)'
gem_install() { # gem_install SRC_DIR GEM_HOME: gem build in SRC_DIR, install the .gem locally
  local src="$1" home="$2" gem
  (cd "$src" && gem build libhoneyhive.gemspec --output "$src/built.gem" >/dev/null)
  gem="$src/built.gem"
  ruby -e 'require "rubygems/package"; s = Gem::Package.new(ARGV[0]).spec; puts "built #{s.full_name} (#{s.platform}), #{s.files.size} files"' "$gem"
  GEM_HOME="$home" gem install --local --no-document "$gem"
}
ruby_run() { # ruby_run GEM_HOME EXPECTED_LIB_PATTERN [env...]: the one-liner, from outside the repo
  local home="$1" pattern="$2"; shift 2
  local out
  out="$(cd "$work" && env GEM_HOME="$home" "$@" ruby -e "$RUBY_ONELINER")" || return 1
  echo "$out"
  # shellcheck disable=SC2053
  [[ "$(sed -n 's/^ruby: //p' <<<"$out")" == $pattern ]]
}
# a) the library bundled in the gem (a platform gem), no HONEYHIVE_LIB
mkdir -p "$work/gem-bundled"
cp -a "$REPO/bindings/ruby/." "$work/gem-bundled/"
rm -f "$work/gem-bundled"/*.gem
mkdir -p "$work/gem-bundled/lib/honeyhive/native"
cp "$prefix/lib/libhoneyhive.so.0.1.0" "$work/gem-bundled/lib/honeyhive/native/libhoneyhive.so"
check "gem build + gem install --local (library bundled)" gem_install "$work/gem-bundled" "$work/gems-bundled"
check "Ruby (bundled): loads the gem's copy, spans delivered" rx_run \
  "--spans 1 --names ruby.installed --sessions 1 --started --lang ruby" \
  ruby_run "$work/gems-bundled" "$work/gems-bundled/gems/libhoneyhive-*/lib/honeyhive/native/libhoneyhive.so" VIA=bundled
# b) a plain gem + HONEYHIVE_LIB pointing at the installed library
mkdir -p "$work/gem-plain"
cp -a "$REPO/bindings/ruby/." "$work/gem-plain/"
rm -rf "$work/gem-plain"/*.gem "$work/gem-plain/lib/honeyhive/native"
check "gem build + gem install --local (no bundled library)" gem_install "$work/gem-plain" "$work/gems-plain"
check "Ruby (HONEYHIVE_LIB=<prefix>/lib/libhoneyhive.so.0): spans delivered" rx_run \
  "--spans 1 --names ruby.installed --sessions 1 --lang ruby" \
  ruby_run "$work/gems-plain" "$libdir/libhoneyhive.so.0" HONEYHIVE_LIB="$libdir/libhoneyhive.so.0" VIA=env
# c) the plain gem, the library found by the system loader
check "Ruby (system loader, LD_LIBRARY_PATH=<prefix>/lib): spans delivered" rx_run \
  "--spans 1 --names ruby.installed --sessions 1 --lang ruby" \
  ruby_run "$work/gems-plain" honeyhive LD_LIBRARY_PATH="$libdir" VIA=loader

echo
summary
