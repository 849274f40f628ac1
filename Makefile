# Wharf - the two commands a fresh machine needs: `make run` and `make test`.
# Everything else is plumbing for those two.

BUILD      ?= build
TEST_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build build-asan run test unit clean fuzz

all: build

deps:
	@scripts/deps.sh

# Release-style build used by `make run`.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWERROR=OFF >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# ASan+UBSan build used by the tests (CI runs this one).
build-asan: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWERROR=ON \
	    -DSANITIZE=address,undefined >/dev/null
	@cmake --build $(TEST_BUILD) -j$(JOBS)

# Start a private PostgreSQL under ./var/pg (unless DATABASE_URL is set),
# apply migrations and run all five services in the foreground.
# `make run SIM=1` also starts a local wa-sim and points Wharf at it.
run: build
	@scripts/run.sh $(BUILD)

# Unit tests (ctest label "unit") then integration tests ("integration").
test: build-asan
	@cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

unit: build-asan
	@cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS) -L unit

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DFUZZ=ON \
	    -DSANITIZE=address,undefined >/dev/null
	@cmake --build build-fuzz -j$(JOBS)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-fuzz
