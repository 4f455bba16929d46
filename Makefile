# libhoneyhive: one cargo build (release) shared by every language's tests and the demo.
CARGO ?= cargo
RELEASE := target/release

.PHONY: all lib header header-check lint test test-rust test-c test-cpp test-go test-ruby test-cross test-reference test-tools demo clean

all: lib

# The library (.so, .a, rlib) and the loopback test receiver binary.
lib:
	$(CARGO) build --release --workspace --lib --bins

header:
	cbindgen --quiet --config cbindgen.toml --output include/honeyhive.h .

# Fails when include/honeyhive.h is not what cbindgen generates from src/ffi.
header-check:
	@tmp=$$(mktemp); cbindgen --quiet --config cbindgen.toml --output $$tmp . && \
	  if ! diff -u include/honeyhive.h $$tmp; then echo "include/honeyhive.h is stale: run make header"; rm -f $$tmp; exit 1; fi; \
	  rm -f $$tmp; echo "header-check: include/honeyhive.h is up to date"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

test-rust: lib
	$(CARGO) test --release --workspace

test-c: lib
	bash tests/c/run-tests.sh

test-cpp: lib
	bash bindings/cpp/run-tests.sh

test-go: lib
	bash bindings/go/run-tests.sh

test-ruby: lib
	bash bindings/ruby/run-tests.sh

test-tools:
	cd tools && python3 -m unittest -v 2>&1 | tail -n 3

# One trace across processes: Go injects, Ruby extracts and continues.
test-cross: lib
	bash tests/cross/run.sh

# Side by side with the official Python SDK (installs it from PyPI into build/pyref-venv).
test-reference: lib
	bash tests/reference/run.sh

# Every test in every language.
test: header-check lint test-rust test-c test-cpp test-go test-ruby test-cross test-tools test-reference

# The demo: a traced RAG-style pipeline, shown as a session tree (no account needed).
demo: lib
	bash examples/c/demo.sh

clean:
	$(CARGO) clean
	rm -rf build
