module github.com/honeyhiveai/libhoneyhive/examples/distributed/front

go 1.24

require github.com/honeyhiveai/libhoneyhive/bindings/go v0.0.0

// The binding from this repository (it links target/release/libhoneyhive.so).
replace github.com/honeyhiveai/libhoneyhive/bindings/go => ../../../bindings/go
