module github.com/honeyhiveai/libhoneyhive/tests/reliability/go

go 1.25.0

require github.com/honeyhiveai/libhoneyhive/bindings/go v0.0.0

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.opentelemetry.io/otel v1.46.0 // indirect
	go.opentelemetry.io/otel/trace v1.46.0 // indirect
)

replace github.com/honeyhiveai/libhoneyhive/bindings/go => ../../../bindings/go
