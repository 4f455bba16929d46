module github.com/honeyhiveai/libhoneyhive/bindings/go

go 1.24
