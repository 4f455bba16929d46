//go:build honeyhive_pkgconfig

package honeyhive

// With `-tags honeyhive_pkgconfig`: use an installed libhoneyhive found through
// pkg-config (honeyhive.pc on PKG_CONFIG_PATH; see honeyhive.pc.in and README.md).

// #cgo pkg-config: honeyhive
import "C"
