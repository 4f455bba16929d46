module github.com/honeyhiveai/libhoneyhive/tests/reliability/go

go 1.24

require github.com/honeyhiveai/libhoneyhive/bindings/go v0.0.0

replace github.com/honeyhiveai/libhoneyhive/bindings/go => ../../../bindings/go
