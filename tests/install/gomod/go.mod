module example.com/honeyhive-install-check

go 1.25.0

require github.com/honeyhiveai/libhoneyhive/bindings/go v0.0.0

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.opentelemetry.io/otel v1.46.0 // indirect
	go.opentelemetry.io/otel/trace v1.46.0 // indirect
)

// The binding from this checkout; the C library from an installed prefix: build with
// -tags honeyhive_pkgconfig and PKG_CONFIG_PATH=<prefix>/lib/pkgconfig (tests/install/run.sh).
replace github.com/honeyhiveai/libhoneyhive/bindings/go => ../../../bindings/go
