# libhoneyhive: one cargo build (release) shared by every language's tests and the demo.
CARGO ?= cargo
# Recipes that pipe output (into tail, tee) must still fail when the command before the pipe does.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
RELEASE := target/release

.PHONY: all lib header header-check lint test test-rust test-c test-cpp test-go test-ruby test-cross test-reference test-tools demo clean

all: lib

# The library (.so, .a, rlib) and the loopback test receiver binary.
lib:
	$(CARGO) build --release --workspace --lib --bins

# The C header from src/ffi and the core's lists (cbindgen), then the bindings' tables
# generated from it (bindings/ruby/lib/honeyhive/abi.rb).
header:
	cbindgen --quiet --config cbindgen.toml --output include/honeyhive.h .
	python3 scripts/abi_tables.py --write

# Fails when include/honeyhive.h is not what cbindgen generates from src/ffi, or when a
# binding's copy of its lists (status codes, event types, namespaces, stats fields) drifts
# from it: Ruby's generated tables, C++'s describe()/enums, Go's C constants, the core's name
# tables. The script's own tests prove the check fails on each kind of drift.
header-check:
	@tmp=$$(mktemp); cbindgen --quiet --config cbindgen.toml --output $$tmp . && \
	  if ! diff -u include/honeyhive.h $$tmp; then echo "include/honeyhive.h is stale: run make header"; rm -f $$tmp; exit 1; fi; \
	  rm -f $$tmp; echo "header-check: include/honeyhive.h is up to date"
	@python3 scripts/abi_tables.py --check || { echo "header-check: a binding drifted from include/honeyhive.h (see above; Ruby: run make header)"; exit 1; }
	@out=$$(python3 scripts/test_abi_tables.py 2>&1) || { echo "$$out"; echo "header-check: the drift check's tests failed"; exit 1; }
	@echo "header-check: the drift check's own tests pass"

lint:
	python3 scripts/module_cycles.py > /dev/null || python3 scripts/module_cycles.py | grep -i cycle
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
	python3 -m unittest scripts/test_test_all.py 2>&1 | tail -n 3

# One trace across processes: Go injects, Ruby extracts and continues.
test-cross: lib
	bash tests/cross/run.sh

# Side by side with the official Python SDK (installs it from PyPI into build/pyref-venv).
test-reference: lib
	bash tests/reference/run.sh

# Every test in every language, one suite after another (a failure does not stop the others),
# ending with one total over all of them (scripts/test_all.py; logs in build/test-logs/).
SUITES := header-check lint test-rust test-c test-cpp test-go test-ruby test-cross test-tools \
          test-install test-dist test-collector test-distributed test-view test-reliability fuzz-smoke \
          bench-smoke test-reference
test: lib
	python3 scripts/test_all.py $(SUITES)

# The fast tier (a few minutes): formatting, lints, the header drift check, the Rust unit tests
# and the C ABI tests without valgrind.
.PHONY: check test-rust-unit test-c-quick
check: lib
	python3 scripts/test_all.py lint header-check test-rust-unit test-c-quick

test-rust-unit:
	$(CARGO) test --release --workspace --lib

test-c-quick: lib
	HH_SKIP_VALGRIND=1 bash tests/c/run-tests.sh

# The demo: a traced RAG-style pipeline, shown as a session tree (no account needed).
demo: lib
	bash examples/c/demo.sh

clean:
	$(CARGO) clean
	rm -rf build

# ---- install, packaging and ecosystem tests ---------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=$(PREFIX)/lib] [INCLUDEDIR=$(PREFIX)/include]
# installs what `make lib` built (it does not build: `make lib && sudo make install`).
PREFIX ?= /usr/local
.PHONY: install uninstall test-install test-collector test-distributed test-view

install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" bash packaging/install.sh install

uninstall:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" bash packaging/install.sh uninstall

# Distribution artifacts in build/dist/ from the one `make lib` build (nothing is recompiled):
# the Debian packages libhoneyhive0 and libhoneyhive-dev (packaging/deb/build-debs.sh).
.PHONY: dist dist-deb test-dist
dist: dist-deb

dist-deb: lib
	bash packaging/deb/build-debs.sh build/dist

# The C and C++ install paths, each used from a scratch project outside the repository:
# FetchContent and add_subdirectory of this repository (the root CMakeLists.txt drives cargo),
# and the .deb packages installed with apt-get (as root; skipped otherwise, removed afterwards).
test-dist: dist-deb
	bash tests/install/dist.sh

# Installs into a temp prefix; C (pkg-config, shared and static), C++ (CMake find_package), Go
# (a separate module, pkg-config) and Ruby (gem build + install) against it, checked on hh-receiver.
test-install: lib
	bash tests/install/run.sh

# A real OpenTelemetry Collector (built with its builder, cached in build/collector/) receiving
# the library's OTLP/JSON and OTLP/protobuf; skips only if the collector cannot be built.
test-collector: lib
	bash tests/collector/run.sh

# A Go service calling a Ruby service over HTTP: one trace, one session on hh-receiver.
test-distributed: lib
	bash examples/distributed/test.sh

# hh-view's HTML page of a real demo run, rendered by headless Chromium.
test-view: lib
	bash tools/test-view.sh

# Reliability suite (RELIABILITY.md): faults, exit/fork/close races, concurrency (+TSan),
# limits, security. Figures in build/reliability/figures.txt. About 3 minutes.
.PHONY: test-reliability fuzz-smoke
test-reliability: lib
	bash tests/reliability/run.sh

# Each fuzz target (fuzz/, stable toolchain) for FUZZ_SECONDS (default 25) from the seed corpus.
fuzz-smoke:
	bash fuzz/smoke.sh

# Benchmarks (BENCHMARKS.md): every figure with its target and PASS/MISS, measured side
# by side in one run. Takes a few minutes; run it on a quiet machine.
.PHONY: bench bench-smoke
bench: lib
	python3 benches/run.py

# Each benchmark very briefly, to prove it still runs (its figures mean nothing).
bench-smoke: lib
	python3 benches/run.py --smoke
