#!/usr/bin/env bash
# Installs (or uninstalls) libhoneyhive into a prefix, the way a C library is installed:
#
#   <libdir>/libhoneyhive.so.X.Y.Z       the shared library (SONAME libhoneyhive.so.X, set by build.rs)
#   <libdir>/libhoneyhive.so.X -> .so.X.Y.Z, <libdir>/libhoneyhive.so -> .so.X
#   <libdir>/libhoneyhive.a              the static library
#   <includedir>/honeyhive.h             the C header
#   <includedir>/honeyhive/honeyhive.hpp the C++17 header-only binding
#   <libdir>/pkgconfig/honeyhive.pc      pkg-config (Libs.private: the staticlib's system libraries)
#   <libdir>/cmake/honeyhive/            CMake package: find_package(honeyhive) -> honeyhive::honeyhive
#
#   packaging/install.sh install   [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=<prefix>/lib] [INCLUDEDIR=<prefix>/include]
#   packaging/install.sh uninstall (same variables)
#
# Variables come from the environment (the Makefile's `make install PREFIX=... DESTDIR=...`
# passes them). DESTDIR is a staging root for packagers: files go to $DESTDIR$PREFIX/..., and
# what they contain refers to $PREFIX. The artifacts come from ${CARGO_TARGET_DIR:-target}/release
# (build them first: make lib); nothing is built here, so `sudo make install` never runs cargo.
# Works from any directory.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
action="${1:-install}"

PREFIX="${PREFIX:-/usr/local}"
PREFIX="${PREFIX%/}"
[[ -n "$PREFIX" ]] || PREFIX=/
LIBDIR="${LIBDIR:-$PREFIX/lib}"
INCLUDEDIR="${INCLUDEDIR:-$PREFIX/include}"
DESTDIR="${DESTDIR:-}"
for v in PREFIX LIBDIR INCLUDEDIR; do
  [[ "${!v}" == /* ]] || { echo "install.sh: $v must be an absolute path (got '${!v}')" >&2; exit 2; }
done
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$target_dir" == /* ]] || target_dir="$repo/$target_dir"
build="$target_dir/release"

# The version: Cargo.toml's [package] version (also HH_VERSION_STRING in the header).
version="$(awk '/^\[/{p=($0=="[package]")} p && /^version *=/{gsub(/.*= *"|".*/,""); print; exit}' "$repo/Cargo.toml")"
[[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]] || { echo "install.sh: no version in Cargo.toml" >&2; exit 1; }
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
soname="libhoneyhive.so.$major"
real="libhoneyhive.so.$version"
# What the Rust staticlib needs from the system, from
#   cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs
# (-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc on x86_64 Linux; -lc is implied).
native_static_libs="${HONEYHIVE_NATIVE_STATIC_LIBS:--lgcc_s -lutil -lrt -lpthread -lm -ldl}"

cmakedir="$LIBDIR/cmake/honeyhive"
pcdir="$LIBDIR/pkgconfig"
files=(
  "$LIBDIR/$real" "$LIBDIR/$soname" "$LIBDIR/libhoneyhive.so" "$LIBDIR/libhoneyhive.a"
  "$INCLUDEDIR/honeyhive.h" "$INCLUDEDIR/honeyhive/honeyhive.hpp"
  "$pcdir/honeyhive.pc"
  "$cmakedir/honeyhiveConfig.cmake" "$cmakedir/honeyhiveConfigVersion.cmake" "$cmakedir/honeyhiveTargets.cmake"
)

if [[ "$action" == uninstall ]]; then
  for f in "${files[@]}"; do
    if [[ -e "$DESTDIR$f" || -L "$DESTDIR$f" ]]; then rm -f "$DESTDIR$f"; echo "removed $DESTDIR$f"; fi
  done
  # Only the directories that are ours, and only when empty.
  rmdir "$DESTDIR$cmakedir" "$DESTDIR$INCLUDEDIR/honeyhive" 2>/dev/null || true
  echo "uninstalled libhoneyhive $version from ${DESTDIR}${PREFIX}"
  exit 0
fi
[[ "$action" == install ]] || { echo "usage: install.sh install|uninstall" >&2; exit 2; }

for f in "$build/libhoneyhive.so" "$build/libhoneyhive.a" "$repo/include/honeyhive.h" \
         "$repo/bindings/cpp/include/honeyhive/honeyhive.hpp"; do
  [[ -f "$f" ]] || { echo "install.sh: missing $f (build it first: make lib)" >&2; exit 1; }
done
if ! grep -q "^#define HH_VERSION_STRING \"$version\"" "$repo/include/honeyhive.h"; then
  echo "install.sh: include/honeyhive.h is not version $version (run make header)" >&2
  exit 1
fi
if command -v readelf >/dev/null 2>&1; then
  got="$(readelf -d "$build/libhoneyhive.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
  if [[ "$got" != "$soname" ]]; then
    echo "install.sh: $build/libhoneyhive.so has SONAME '${got:-none}', expected $soname (rebuild: make lib)" >&2
    exit 1
  fi
fi

# Relative paths from the CMake package's directory, so that the package is relocatable.
rel() { # rel FROM TO: TO relative to FROM (both absolute, normalized)
  python3 -c 'import os,sys; print(os.path.relpath(sys.argv[2], sys.argv[1]))' "$1" "$2" 2>/dev/null \
    || realpath -m --relative-to="$1" "$2"
}
cmakedir_to_prefix="$(rel "$cmakedir" "$PREFIX")"
libdir_rel="$(rel "$PREFIX" "$LIBDIR")"
includedir_rel="$(rel "$PREFIX" "$INCLUDEDIR")"
# pkg-config: ${prefix}-relative when under the prefix (pkg-config --define-prefix works then).
pc_path() { case "$1" in "$PREFIX"/*) echo "\${prefix}/${1#"$PREFIX"/}" ;; *) echo "$1" ;; esac; }
bits=$(( $(getconf LONG_BIT 2>/dev/null || echo 64) ))

subst() { # subst TEMPLATE OUT
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$(pc_path "$LIBDIR")|g" \
      -e "s|@INCLUDEDIR@|$(pc_path "$INCLUDEDIR")|g" -e "s|@VERSION@|$version|g" \
      -e "s|@VERSION_MAJOR@|$major|g" -e "s|@VERSION_MINOR@|$minor|g" \
      -e "s|@NATIVE_STATIC_LIBS@|$native_static_libs|g" -e "s|@SONAME@|$soname|g" \
      -e "s|@REAL_NAME@|$real|g" -e "s|@CMAKEDIR@|${cmakedir#"$PREFIX"/}|g" \
      -e "s|@CMAKEDIR_TO_PREFIX@|$cmakedir_to_prefix|g" -e "s|@LIBDIR_REL@|$libdir_rel|g" \
      -e "s|@INCLUDEDIR_REL@|$includedir_rel|g" -e "s|@SIZEOF_VOID_P@|$((bits / 8))|g" \
      -e "s|@BITS@|$bits|g" "$1" >"$2"
  if grep -q '@[A-Z_]*@' "$2"; then echo "install.sh: unreplaced @VAR@ in $2" >&2; exit 1; fi
}

d="$DESTDIR"
install -d "$d$LIBDIR" "$d$INCLUDEDIR/honeyhive" "$d$pcdir" "$d$cmakedir"
install -m 0755 "$build/libhoneyhive.so" "$d$LIBDIR/$real"
ln -sfn "$real" "$d$LIBDIR/$soname"
ln -sfn "$soname" "$d$LIBDIR/libhoneyhive.so"
install -m 0644 "$build/libhoneyhive.a" "$d$LIBDIR/libhoneyhive.a"
install -m 0644 "$repo/include/honeyhive.h" "$d$INCLUDEDIR/honeyhive.h"
install -m 0644 "$repo/bindings/cpp/include/honeyhive/honeyhive.hpp" "$d$INCLUDEDIR/honeyhive/honeyhive.hpp"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
subst "$repo/packaging/honeyhive.pc.in" "$tmp/honeyhive.pc"
subst "$repo/packaging/cmake/honeyhiveConfig.cmake.in" "$tmp/honeyhiveConfig.cmake"
subst "$repo/packaging/cmake/honeyhiveConfigVersion.cmake.in" "$tmp/honeyhiveConfigVersion.cmake"
install -m 0644 "$tmp/honeyhive.pc" "$d$pcdir/honeyhive.pc"
install -m 0644 "$tmp/honeyhiveConfig.cmake" "$tmp/honeyhiveConfigVersion.cmake" "$d$cmakedir/"
install -m 0644 "$repo/bindings/cpp/cmake/honeyhiveTargets.cmake" "$d$cmakedir/honeyhiveTargets.cmake"

for f in "${files[@]}"; do echo "installed $d$f"; done
echo "libhoneyhive $version installed into ${d}${PREFIX}"
# A system-wide install as root: refresh the loader cache (programs find libhoneyhive.so.X).
if [[ -z "$d" && ( "$PREFIX" == /usr/local || "$PREFIX" == /usr ) && "$(id -u)" -eq 0 ]] && command -v ldconfig >/dev/null 2>&1; then
  ldconfig 2>/dev/null || true
fi
