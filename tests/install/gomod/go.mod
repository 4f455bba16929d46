module example.com/honeyhive-install-check

go 1.24

require github.com/honeyhiveai/libhoneyhive/bindings/go v0.0.0

// The binding from this checkout; the C library from an installed prefix: build with
// -tags honeyhive_pkgconfig and PKG_CONFIG_PATH=<prefix>/lib/pkgconfig (tests/install/run.sh).
replace github.com/honeyhiveai/libhoneyhive/bindings/go => ../../../bindings/go
