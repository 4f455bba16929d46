#!/usr/bin/env bash
# Builds the Debian packages of libhoneyhive from what `make lib` built (nothing is compiled here):
#
#   <out>/libhoneyhive0_<ver>_<arch>.deb      runtime: /usr/lib/<multiarch>/libhoneyhive.so.X.Y.Z and
#                                             its SONAME link libhoneyhive.so.X; shlibs, ldconfig trigger
#   <out>/libhoneyhive-dev_<ver>_<arch>.deb   headers (honeyhive.h, honeyhive/honeyhive.hpp), the .so
#                                             link, libhoneyhive.a, honeyhive.pc, the CMake package
#
#   packaging/deb/build-debs.sh [OUT_DIR]     (default build/dist; `make dist` runs it)
#
# <ver> is Cargo.toml's version plus a Debian revision (DEB_REVISION, default 1). The file layout
# is packaging/install.sh's, installed into a staging root with PREFIX=/usr and the multiarch
# libdir, then split between the two packages. Uses dpkg-deb only (no debhelper); dpkg-shlibdeps
# computes the runtime package's Depends when present. Maintainer: DEB_MAINTAINER.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$repo/build/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
for tool in dpkg-deb dpkg strip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-debs.sh: $tool is needed (Debian/Ubuntu: apt-get install dpkg binutils)" >&2; exit 1; }
done
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
[[ "$target_dir" == /* ]] || target_dir="$repo/$target_dir"

version="$(awk '/^\[/{p=($0=="[package]")} p && /^version *=/{gsub(/.*= *"|".*/,""); print; exit}' "$repo/Cargo.toml")"
[[ "$version" =~ ^([0-9]+)\.[0-9]+\.[0-9]+ ]] || { echo "build-debs.sh: no version in Cargo.toml" >&2; exit 1; }
major="${BASH_REMATCH[1]}"
debver="$version-${DEB_REVISION:-1}"
arch="$(dpkg --print-architecture)"
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
[[ -n "$multiarch" ]] || { echo "build-debs.sh: cannot tell the multiarch triplet" >&2; exit 1; }
runtime="libhoneyhive$major"
dev="libhoneyhive-dev"
maintainer="${DEB_MAINTAINER:-HoneyHive <support@honeyhive.ai>}"
homepage="https://www.honeyhive.ai"
libdir="/usr/lib/$multiarch"
real="libhoneyhive.so.$version"
soname="libhoneyhive.so.$major"
# Reproducible timestamps (changelog) when built from a git checkout.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}"

work="$(mktemp -d "${TMPDIR:-/tmp}/hh-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
umask 022

# 1. The whole install, as `make install` does it, into a staging root.
all="$work/all"
CARGO_TARGET_DIR="$target_dir" DESTDIR="$all" PREFIX=/usr LIBDIR="$libdir" INCLUDEDIR=/usr/include \
  bash "$repo/packaging/install.sh" install >/dev/null

# 2. Split: the SONAME'd library to the runtime package, the rest to -dev.
rt="$work/$runtime" dv="$work/$dev"
install -d "$rt$libdir" "$dv/usr"
mv "$all$libdir/$real" "$all$libdir/$soname" "$rt$libdir/"
mv "$all/usr/include" "$dv/usr/"
install -d "$dv$libdir"
mv "$all$libdir"/* "$dv$libdir/"
left="$(find "$all" -type f -o -type l)"
[[ -z "$left" ]] || { echo "build-debs.sh: files not assigned to a package: $left" >&2; exit 1; }

# Shared objects are not executable on Debian; debug info stays out of the packages (the
# build tree keeps it).
chmod 0644 "$rt$libdir/$real"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$rt$libdir/$real"
strip --strip-debug "$dv$libdir/libhoneyhive.a"

doc() { # doc PKGROOT PKGNAME: copyright and changelog, as Debian policy asks of every package
  local d="$1/usr/share/doc/$2"
  install -d "$d"
  cat >"$d/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: libhoneyhive
Source: https://github.com/honeyhiveai/libhoneyhive

Files: *
Copyright: HoneyHive
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
  printf '%s (%s) unstable; urgency=medium\n\n  * Built from the libhoneyhive repository (make dist).\n\n -- %s  %s\n' \
    libhoneyhive "$debver" "$maintainer" "$(date -u -R -d "@$epoch")" | gzip -9n >"$d/changelog.Debian.gz"
  chmod 0644 "$d/copyright" "$d/changelog.Debian.gz"
}
doc "$rt" "$runtime"
doc "$dv" "$dev"

# 3. Control files.
depends="libc6, libgcc-s1"
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
  # dpkg-shlibdeps wants to run in a source tree (debian/control); an empty one will do.
  mkdir -p "$work/src/debian" && : >"$work/src/debian/control"
  line="$(cd "$work/src" && dpkg-shlibdeps -O -e "$rt$libdir/$real" 2>/dev/null)" || line=""
  [[ "$line" == shlibs:Depends=* ]] && depends="${line#shlibs:Depends=}"
fi
size() { du -sk --exclude=DEBIAN "$1" | cut -f1; }
md5sums() { (cd "$1" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums); }

install -d "$rt/DEBIAN" "$dv/DEBIAN"
cat >"$rt/DEBIAN/control" <<CONTROL
Package: $runtime
Source: libhoneyhive
Version: $debver
Architecture: $arch
Multi-Arch: same
Section: libs
Priority: optional
Maintainer: $maintainer
Installed-Size: $(size "$rt")
Depends: $depends
Homepage: $homepage
Description: HoneyHive tracing for LLM applications - shared library
 libhoneyhive records traces, sessions and events of LLM applications and
 exports them to HoneyHive (OTLP over HTTP). This package holds the shared
 library behind the C ABI used by the C, C++, Go and Ruby bindings.
CONTROL
# shlibs: packages linking libhoneyhive.so.X depend on this package; the trigger runs ldconfig.
echo "libhoneyhive $major $runtime (>= $version)" >"$rt/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$rt/DEBIAN/triggers"
cat >"$dv/DEBIAN/control" <<CONTROL
Package: $dev
Source: libhoneyhive
Version: $debver
Architecture: $arch
Multi-Arch: same
Section: libdevel
Priority: optional
Maintainer: $maintainer
Installed-Size: $(size "$dv")
Depends: $runtime (= $debver)
Homepage: $homepage
Description: HoneyHive tracing for LLM applications - development files
 libhoneyhive records traces, sessions and events of LLM applications and
 exports them to HoneyHive (OTLP over HTTP). This package holds the C header,
 the header-only C++17 binding, the static library, the pkg-config file
 (honeyhive) and the CMake package (find_package(honeyhive)).
CONTROL
md5sums "$rt"
md5sums "$dv"
chmod 0644 "$rt"/DEBIAN/* "$dv"/DEBIAN/*

# 4. The archives (root-owned files; gzip keeps `make dist` quick).
rm -f "$out/${runtime}_"*".deb" "$out/${dev}_"*".deb"
for pkg in "$rt" "$dv"; do
  name="$(basename "$pkg")_${debver}_${arch}.deb"
  SOURCE_DATE_EPOCH="$epoch" dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$out/$name" >/dev/null
  echo "built $out/$name"
done
