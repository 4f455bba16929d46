#!/usr/bin/env bash
# make test-dist: the C and C++ install paths, each used from a scratch directory outside the
# repository, every program checked on hh-receiver (tests/install/rxcheck.py).
#
#   1. The .deb files of `make dist` (build/dist/): control fields, contents, shlibs, triggers,
#      the packaged library's SONAME and exports; lintian when installed.
#   2. CMake FetchContent: README.md's CMakeLists.txt snippet exactly as written (its
#      GIT_REPOSITORY redirected by git's url.<base>.insteadOf to a local mirror whose GIT_TAG is
#      this checkout's HEAD), plus C++ and static variants appended; cargo runs in a target
#      directory seeded from the repository's (only the workspace's own crates recompile).
#   3. CMake add_subdirectory of this repository (HONEYHIVE_CARGO_TARGET_DIR=<repo>/target:
#      the `make lib` build, reused as it is).
#   4. As root: `apt-get install` of both packages, examples/c built with pkg-config and
#      examples/cpp with find_package (no paths given), run; the packages are purged on exit,
#      whatever happened, so no later test sees a system-installed library. Skipped (and said
#      so) when not root, without apt-get, or when a libhoneyhive package is already installed.
#
# Assumes `make dist-deb` (which runs `make lib`). Works from any directory; HH_KEEP=1 keeps the
# scratch directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$REPO/tests/install"
# shellcheck source=tests/install/common.sh
source "$here/common.sh"
target="${CARGO_TARGET_DIR:-$REPO/target}"
[[ "$target" == /* ]] || target="$REPO/$target"
dist="$REPO/build/dist"
version="$(awk '/^\[/{p=($0=="[package]")} p && /^version *=/{gsub(/.*= *"|".*/,""); print; exit}' "$REPO/Cargo.toml")"
major="${version%%.*}"
debver="$version-${DEB_REVISION:-1}"
arch="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
rt_deb="$dist/libhoneyhive${major}_${debver}_${arch}.deb"
dev_deb="$dist/libhoneyhive-dev_${debver}_${arch}.deb"
for f in "$target/release/libhoneyhive.so" "$target/release/libhoneyhive.a" "$rt_deb" "$dev_deb"; do
  [[ -e "$f" ]] || { echo "missing $f: run make dist-deb" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/hh-dist.XXXXXX")"
case "$work" in "$REPO"/*) echo "the scratch directory must be outside the repository" >&2; exit 1 ;; esac
purge_packages=0
cleanup() {
  exec 9>&- 2>/dev/null || true
  if [[ $purge_packages == 1 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get remove -y --purge "libhoneyhive-dev" "libhoneyhive$major" >/dev/null 2>&1 ||
      echo "WARNING: could not purge libhoneyhive-dev libhoneyhive$major; remove them by hand" >&2
  fi
  if [[ "${HH_KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
clean_hh_env
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH HONEYHIVE_LIB CARGO_TARGET_DIR
start_receiver "$work"
export HH_API_KEY=dist-test-key HH_API_URL="$RX_URL" HH_PROJECT=dist-test OTEL_BSP_SCHEDULE_DELAY=50
echo "receiver: $RX_URL; scratch: $work"
gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)

rx_run() { # rx_run "<rxcheck args>" cmd...: runs cmd against a fresh receiver, checks the spans
  local args="$1"; shift
  rx_reset
  "$@"
  # shellcheck disable=SC2086
  python3 "$here/rxcheck.py" "$RX_URL" $args
}
needed() { # needed BINARY NAME|!NAME: NAME is (or is not) in the binary's DT_NEEDED
  [[ -f "$1" ]] || { echo "no $1"; return 1; }
  local got; got="$(readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  echo "DT_NEEDED of $(basename "$1"): $got"
  if [[ "$2" == !* ]]; then [[ " $got " != *" ${2#!} "* ]]; else [[ " $got " == *" $2 "* ]]; fi
}
resolves_into() { # resolves_into BINARY DIR: the loader maps libhoneyhive from DIR
  local line path; line="$(ldd "$1" | grep libhoneyhive)"
  echo "$line"
  path="$(sed -n 's/.*=> \(\S*\) .*/\1/p' <<<"$line")"
  # Compared as real paths: with a merged /usr, /lib/<triplet> is /usr/lib/<triplet>.
  [[ -n "$path" && "$(basename "$path")" == "libhoneyhive.so.$major" &&
     "$(readlink -f "$(dirname "$path")")" == "$(readlink -f "$2")" ]]
}
C_CHECK="--spans 7 --names rag_pipeline,retrieve_documents,llm_call,calculator --sessions 1 --traces 1 --started --lang c"
CPP_CHECK="--spans 10 --names handle_request,model_call,tool_call --sessions 2 --traces 2 --started --lang cpp"

echo "== 1. the .deb files"
field() { dpkg-deb --field "$1" "$2"; }
check_fields() { # check_fields DEB Field=value...
  local deb="$1" kv got; shift
  for kv in "$@"; do
    got="$(field "$deb" "${kv%%=*}")"
    [[ "$got" == "${kv#*=}" ]] || { echo "$(basename "$deb"): ${kv%%=*} is '$got', expected '${kv#*=}'"; return 1; }
  done
  dpkg-deb --info "$deb"
}
check "libhoneyhive$major control fields" check_fields "$rt_deb" Package="libhoneyhive$major" Version="$debver" \
  Architecture="$arch" Multi-Arch=same Section=libs Source=libhoneyhive
check "libhoneyhive$major depends on libc6 with a version (dpkg-shlibdeps)" bash -c \
  '[[ $(dpkg-deb --field "$1" Depends) == *"libc6 (>= "* ]]' _ "$rt_deb"
check "libhoneyhive-dev control fields" check_fields "$dev_deb" Package=libhoneyhive-dev Version="$debver" \
  Architecture="$arch" Multi-Arch=same Section=libdevel Depends="libhoneyhive$major (= $debver)"
listing() { dpkg-deb --contents "$1" | awk '{ p = $6; sub(/^\./, "", p); if ($1 ~ /^l/) p = p " -> " $8; if ($1 !~ /^d/) print p }' | sort; }
expect_contents() { # expect_contents DEB EXPECTED_LINES
  local got; got="$(listing "$1")"
  diff <(sort <<<"$2") <(echo "$got") || { echo "contents of $(basename "$1") differ (< expected, > got)"; return 1; }
}
L="/usr/lib/$multiarch"
check "libhoneyhive$major contents: the library, its SONAME link, docs" expect_contents "$rt_deb" "\
$L/libhoneyhive.so.$version
$L/libhoneyhive.so.$major -> libhoneyhive.so.$version
/usr/share/doc/libhoneyhive$major/changelog.Debian.gz
/usr/share/doc/libhoneyhive$major/copyright"
check "libhoneyhive-dev contents: headers, .so link, .a, .pc, CMake package, docs" expect_contents "$dev_deb" "\
/usr/include/honeyhive.h
/usr/include/honeyhive/honeyhive.hpp
$L/libhoneyhive.so -> libhoneyhive.so.$major
$L/libhoneyhive.a
$L/pkgconfig/honeyhive.pc
$L/cmake/honeyhive/honeyhiveConfig.cmake
$L/cmake/honeyhive/honeyhiveConfigVersion.cmake
$L/cmake/honeyhive/honeyhiveTargets.cmake
/usr/share/doc/libhoneyhive-dev/changelog.Debian.gz
/usr/share/doc/libhoneyhive-dev/copyright"
control_file() { # control_file DEB NAME EXPECTED: a control-archive file has that content
  local d="$work/ctrl-$(basename "$1")"
  rm -rf "$d"; dpkg-deb --control "$1" "$d"
  [[ "$(cat "$d/$2")" == "$3" ]] || { echo "$2: '$(cat "$d/$2")', expected '$3'"; return 1; }
}
extracted() { echo "$work/x-$(basename "$1")"; }
md5_ok() { # md5_ok DEB: extracts the package; every file matches DEBIAN/md5sums
  local d; d="$(extracted "$1")"
  rm -rf "$d" "$d.ctrl"; mkdir -p "$d"
  dpkg-deb --extract "$1" "$d" && dpkg-deb --control "$1" "$d.ctrl" &&
    (cd "$d" && md5sum --quiet -c "$d.ctrl/md5sums") &&
    [[ $(wc -l <"$d.ctrl/md5sums") -eq $(find "$d" -type f | wc -l) ]]
}
check "libhoneyhive$major shlibs: libhoneyhive $major libhoneyhive$major (>= $version)" \
  control_file "$rt_deb" shlibs "libhoneyhive $major libhoneyhive$major (>= $version)"
check "libhoneyhive$major triggers: activate-noawait ldconfig" control_file "$rt_deb" triggers "activate-noawait ldconfig"
check "libhoneyhive$major md5sums cover every file" md5_ok "$rt_deb"
check "libhoneyhive-dev md5sums cover every file" md5_ok "$dev_deb"
packaged_so="$(extracted "$rt_deb")$L/libhoneyhive.so.$version"
check "packaged library: SONAME libhoneyhive.so.$major, only hh_* exported (check-symbols.sh)" \
  bash "$here/check-symbols.sh" "$packaged_so"
check "packaged library: stripped, not executable" bash -c '
  [[ $(stat -c %a "$1") == 644 ]] && ! readelf -S "$1" | grep -q "\.debug_info"' _ "$packaged_so"
check "honeyhive.pc in the package refers to /usr and the multiarch libdir" bash -c '
  grep -qx "prefix=/usr" "$1" && grep -qx "libdir=\${prefix}/lib/$2" "$1"' _ \
  "$(extracted "$dev_deb")$L/pkgconfig/honeyhive.pc" "$multiarch"
if command -v lintian >/dev/null 2>&1; then
  check "lintian (errors)" lintian --fail-on error "$rt_deb" "$dev_deb"
else
  echo "skip lintian: not installed"
fi

echo "== 2. CMake FetchContent: README.md's snippet, as written"
# The snippet: the ```cmake block of README.md that declares honeyhive with FetchContent.
snippet="$(python3 - "$REPO/README.md" <<'PY'
import re, sys
blocks = re.findall(r"^```cmake\n(.*?)^```", open(sys.argv[1]).read(), re.S | re.M)
hits = [b for b in blocks if "FetchContent_Declare(honeyhive" in b]
if len(hits) != 1:
    sys.exit(f"README.md: expected one cmake block with FetchContent_Declare(honeyhive), found {len(hits)}")
print(hits[0], end="")
PY
)"
url="$(sed -n 's/^ *GIT_REPOSITORY *\([^ )]*\).*/\1/p' <<<"$snippet")"
ref="$(sed -n 's/^ *GIT_TAG *\([^ )]*\).*/\1/p' <<<"$snippet")"
echo "snippet: GIT_REPOSITORY $url, GIT_TAG $ref"
head="$(git -C "$REPO" rev-parse HEAD)"
if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]]; then
  echo "note: uncommitted changes are not in the FetchContent build (it fetches HEAD $head)"
fi
# A mirror of this checkout whose $ref is HEAD, reached through the snippet's own URL.
mirror="$work/mirror.git"
git clone -q --bare "$REPO" "$mirror"
if [[ "$ref" =~ ^[0-9a-f]{7,40}$ ]]; then :; elif [[ "$ref" == v* ]]; then
  git -C "$mirror" tag -f "$ref" "$head" >/dev/null
else
  git -C "$mirror" update-ref "refs/heads/$ref" "$head"
fi
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$mirror.insteadOf" GIT_CONFIG_VALUE_0="$url"
fc="$work/fetchcontent"
mkdir -p "$fc"
printf '%s' "$snippet" >"$fc/CMakeLists.txt"
# The test's own additions: the static C program and the C++ example, shared and static.
cat >>"$fc/CMakeLists.txt" <<'EOF'

# --- appended by tests/install/dist.sh ---
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE honeyhive::honeyhive_static)
set(CMAKE_CXX_STANDARD 17)
find_package(Threads REQUIRED)
add_executable(app_cpp worker_pool.cpp)
target_link_libraries(app_cpp PRIVATE honeyhive::honeyhive Threads::Threads)
add_executable(app_cpp_static worker_pool.cpp)
target_link_libraries(app_cpp_static PRIVATE honeyhive::honeyhive_static Threads::Threads)
EOF
cp "$REPO/examples/c/rag_pipeline.c" "$fc/app.c"
cp "$REPO/examples/cpp/worker_pool.cpp" "$fc/worker_pool.cpp"
# A cargo target directory seeded from the repository's: hard links to the compiled
# dependencies (cargo only reads them), real copies of what cargo rewrites (fingerprints,
# build-script output), and none of the workspace's own crates, which the fetched sources
# (newer files) recompile into new files.
seed="$work/cargo-target"
mkdir -p "$seed/release"
cp -al "$target/release/deps" "$seed/release/deps"
rm -f "$seed/release/deps/"*honeyhive* "$seed/release/deps/"*hh_test_receiver* "$seed/release/deps/"hh_receiver*
cp -a "$target/release/.fingerprint" "$target/release/build" "$seed/release/"
# The repository's own build must come out untouched (same files, same times).
repo_build_state() { find "$target/release" -maxdepth 3 -path "*honeyhive*" -printf '%p %i %T@\n' | sort; }
repo_state_before="$(repo_build_state)"
cmake_project() { # cmake_project SRC BUILD [cmake args]
  local src="$1" bld="$2"; shift 2
  { cmake -S "$src" -B "$bld" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@" && nice cmake --build "$bld"; } \
    >"$bld.log" 2>&1 || { tail -n 60 "$bld.log"; return 1; }
}
check "FetchContent build (cargo in a seeded target dir)" cmake_project "$fc" "$fc/build" \
  -DHONEYHIVE_CARGO_TARGET_DIR="$seed"
check "FetchContent fetched HEAD through the snippet's URL" bash -c '
  [[ $(git -C "$1/build/_deps/honeyhive-src" rev-parse HEAD) == "$2" ]]' _ "$fc" "$head"
check "FetchContent: cargo built into the given HONEYHIVE_CARGO_TARGET_DIR" \
  test -f "$seed/release/libhoneyhive.so"
check "C (shared): DT_NEEDED libhoneyhive.so.$major" needed "$fc/build/app" "libhoneyhive.so.$major"
check "C (shared): loads the library cargo built" resolves_into "$fc/build/app" "$seed/release"
check "C (shared): spans delivered" rx_run "$C_CHECK" "$fc/build/app"
check "C (static): no libhoneyhive in DT_NEEDED" needed "$fc/build/app_static" "!libhoneyhive.so.$major"
check "C (static): spans delivered" rx_run "$C_CHECK" "$fc/build/app_static"
check "C++ (shared): spans delivered" rx_run "$CPP_CHECK" "$fc/build/app_cpp" 2 2
check "C++ (static): no libhoneyhive in DT_NEEDED" needed "$fc/build/app_cpp_static" "!libhoneyhive.so.$major"
check "C++ (static): spans delivered" rx_run "$CPP_CHECK" "$fc/build/app_cpp_static" 2 2
check "FetchContent left the repository's target/release untouched" bash -c '
  diff <(echo "$1") <(echo "$2")' _ "$repo_state_before" "$(repo_build_state)"
unset GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0

echo "== 3. CMake add_subdirectory of this repository"
sub="$work/subdirectory"
mkdir -p "$sub"
cat >"$sub/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(sub_app LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 17)
add_subdirectory("$REPO" honeyhive)
add_executable(app_static "$REPO/examples/c/rag_pipeline.c")
target_link_libraries(app_static PRIVATE honeyhive::honeyhive_static)
# examples/cpp uses honeyhive::honeyhive when a target of that name exists.
add_subdirectory("$REPO/examples/cpp" worker_pool)
EOF
check "add_subdirectory build (HONEYHIVE_CARGO_TARGET_DIR=<repo>/target, reused)" cmake_project "$sub" "$sub/build" \
  -DHONEYHIVE_CARGO_TARGET_DIR="$target"
check "add_subdirectory: cargo had nothing to recompile" bash -c '! grep -q "Compiling honeyhive" "$1"' _ "$sub/build.log"
check "C (static): spans delivered" rx_run "$C_CHECK" "$sub/build/app_static"
check "C++ (shared): loads <repo>/target/release" resolves_into "$sub/build/worker_pool/honeyhive_worker_pool" "$target/release"
check "C++ (shared): spans delivered" rx_run "$CPP_CHECK" "$sub/build/worker_pool/honeyhive_worker_pool" 2 2

echo "== 4. apt-get install of the .deb files; examples built against the system install"
skip=""
if [[ "$(id -u)" != 0 ]]; then
  skip="not root (CI runs as root; here: sudo make test-dist to include it)"
elif ! command -v apt-get >/dev/null 2>&1; then
  skip="no apt-get"
elif dpkg-query -W -f '${Status}\n' "libhoneyhive$major" "libhoneyhive-dev" 2>/dev/null | grep -q "install ok"; then
  skip="a libhoneyhive package is already installed on this machine (left alone)"
fi
if [[ -n "$skip" ]]; then
  echo "skip apt-get install: $skip"
else
  purge_packages=1
  check "apt-get install -y ./libhoneyhive${major}_*.deb ./libhoneyhive-dev_*.deb" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$rt_deb" "$dev_deb"
  check "ldconfig knows libhoneyhive.so.$major (the trigger ran)" bash -c \
    'ldconfig -p | grep -Eq "libhoneyhive\.so\.$1 .*=> (/usr)?/lib/$2/libhoneyhive\.so\.$1$"' _ "$major" "$multiarch"
  check "pkg-config --modversion honeyhive = $version (no PKG_CONFIG_PATH)" bash -c \
    '[[ $(pkg-config --modversion honeyhive) == "$1" ]]' _ "$version"
  # shellcheck disable=SC2046
  check "cc rag_pipeline.c \$(pkg-config --cflags --libs honeyhive)" \
    cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 "$REPO/examples/c/rag_pipeline.c" \
      $(pkg-config --cflags --libs honeyhive) -o "$work/rag_system"
  check "C: loads the system library" resolves_into "$work/rag_system" "$L"
  check "C (system): spans delivered" rx_run "$C_CHECK" "$work/rag_system"
  # shellcheck disable=SC2046
  check "cc rag_pipeline.c statically (pkg-config --static, -l:libhoneyhive.a)" \
    cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 "$REPO/examples/c/rag_pipeline.c" \
      $(pkg-config --cflags honeyhive) $(pkg-config --static --libs honeyhive | sed 's/-lhoneyhive/-l:libhoneyhive.a/') \
      -o "$work/rag_system_static"
  check "C (system, static): spans delivered" rx_run "$C_CHECK" "$work/rag_system_static"
  cpp_system() {
    cmake_project "$REPO/examples/cpp" "$work/cpp-system" || return 1
    grep "honeyhive_DIR:PATH=" "$work/cpp-system/CMakeCache.txt"
    grep -q "honeyhive_DIR:PATH=$L/cmake/honeyhive" "$work/cpp-system/CMakeCache.txt"
  }
  check "cmake examples/cpp: find_package(honeyhive) finds $L/cmake/honeyhive" cpp_system
  check "C++: loads the system library" resolves_into "$work/cpp-system/honeyhive_worker_pool" "$L"
  check "C++ (system): spans delivered" rx_run "$CPP_CHECK" "$work/cpp-system/honeyhive_worker_pool" 2 2
  # The static target by the name FetchContent also provides, from the installed package.
  fp="$work/findpkg"
  mkdir -p "$fp"
  cp "$REPO/examples/c/rag_pipeline.c" "$fp/app.c"
  cat >"$fp/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(app LANGUAGES C)
find_package(honeyhive 0.1 CONFIG REQUIRED)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE honeyhive::honeyhive_static)
EOF
  check "find_package(honeyhive): honeyhive::honeyhive_static builds a C program" cmake_project "$fp" "$fp/build"
  check "C (system, CMake static): no libhoneyhive in DT_NEEDED" needed "$fp/build/app_static" "!libhoneyhive.so.$major"
  check "C (system, CMake static): spans delivered" rx_run "$C_CHECK" "$fp/build/app_static"
  check "apt-get remove --purge libhoneyhive-dev libhoneyhive$major" \
    env DEBIAN_FRONTEND=noninteractive apt-get remove -y --purge libhoneyhive-dev "libhoneyhive$major"
  purge_packages=0
  check "nothing of libhoneyhive left in the system" bash -c '
    ! ls "$1"/libhoneyhive* /usr/include/honeyhive.h "$1/pkgconfig/honeyhive.pc" 2>/dev/null &&
    ! ldconfig -p | grep -q libhoneyhive' _ "$L"
fi

echo
summary
