# Wharf - the two commands a fresh machine needs: `make run` and `make test`.
# Everything else is plumbing for those two.

BUILD      ?= build
TEST_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-release
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=
# Seconds each libFuzzer target runs during `make test` (ctest label fuzz)
FUZZ_SECONDS ?= 60

.PHONY: all deps build build-asan build-fuzz build-bench run test unit clean \
        fuzz bench

all: build

deps:
	@scripts/deps.sh

# Release-style build used by `make run`.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERROR=OFF >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# ASan+UBSan build used by the tests (CI runs this one).
# It also registers the libFuzzer binaries of $(FUZZ_BUILD) as ctests
# (label fuzz, FUZZ_SECONDS each); they skip when not built.
build-asan: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWERROR=ON \
	    -DSANITIZE=address,undefined \
	    -DWHARF_FUZZ_BIN_DIR=$(CURDIR)/$(FUZZ_BUILD)/bin \
	    -DFUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(TEST_BUILD) -j$(JOBS)

# clang + libFuzzer build of tests/fuzz/fuzz_*.c only (target "fuzzers").
build-fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
	    -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON -DWERROR=OFF \
	    -DSANITIZE=address,undefined >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

# Start a private PostgreSQL under ./var/pg (unless DATABASE_URL is set),
# apply migrations and run all five services in the foreground.
# `make run SIM=1` also starts a local wa-sim and points Wharf at it.
run: build
	@scripts/run.sh $(BUILD)

# Every test: unit, integration, interop, and each fuzzer for FUZZ_SECONDS.
test: build-asan build-fuzz
	@cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

unit: build-asan
	@cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) -L unit

# Build the fuzzers and run them (FUZZ_SECONDS each), nothing else.
fuzz: build-asan build-fuzz
	@cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) -L fuzz

# Release build (-O3, no sanitizers) for the benchmarks, in its own
# directory, with the Baileys peer installed next to it (skipped when the
# npm registry is unreachable).
build-bench: deps
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DWERROR=OFF >/dev/null
	@cmake --build $(BENCH_BUILD) -j$(JOBS)
	-@sh tests/interop/npm_setup.sh tests/interop $(BENCH_BUILD)/tests/interop/npm

# The engine benchmarks of bench/README.md: end to end through the whole
# stack and wa-sim, idle memory per session, and the Baileys peer
# (about 20 minutes). The micro-benchmarks run by hand from the same build.
bench: build-bench
	python3 bench/bench_engine.py all --bin $(BENCH_BUILD)/bin
	@if [ "$$(cat $(BENCH_BUILD)/tests/interop/npm/STATUS 2>/dev/null)" = ok ]; then \
	    python3 bench/bench_baileys.py --bin $(BENCH_BUILD)/bin \
	        --npm $(BENCH_BUILD)/tests/interop/npm; \
	else echo "bench_baileys: skipped (Baileys not installed)"; fi

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
