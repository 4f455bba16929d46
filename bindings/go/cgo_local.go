//go:build !honeyhive_pkgconfig

package honeyhive

// Default build: link the library built by this repository. Paths are relative to this
// package's directory (bindings/go), so `cargo build --release --lib -p honeyhive` at the
// repository root is all that is needed. The rpath lets binaries find libhoneyhive.so at run
// time without LD_LIBRARY_PATH (for a binary you ship elsewhere, build with the
// honeyhive_pkgconfig tag, or set LD_LIBRARY_PATH, or link statically; see README.md).

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -L${SRCDIR}/../../target/release -lhoneyhive -Wl,-rpath,${SRCDIR}/../../target/release
import "C"
