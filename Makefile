# Entry points for people and CI. `make run` and `make test` work on a fresh Debian 12 machine
# as root: both install what is missing (scripts/setup.sh) and build first.
BUILD ?= build
BUILD_TYPE ?= Release
CTEST_ARGS ?=
# The sanitizer build (ASan+UBSan, and the AFL++ fuzz targets): a build directory of its own.
SANITIZE_BUILD ?= build-asan
FUZZ_SECONDS ?= 30
FUZZ_JOBS ?= 2
# Reduced soak counts for `make test`; the full soak is tests/soak/soak.sh with its defaults.
SOAK_EXECS ?= 20000
SOAK_OPENS ?= 500000

.PHONY: all setup configure build run test check configure-sanitize build-sanitize sanitize fuzz soak clean

all: build

setup:
	bash scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: configure
	cmake --build $(BUILD)

# vigild on its embedded default configuration, events on stdout in compact form, until Ctrl-C.
run: build
	$(BUILD)/bin/vigild

# Everything CI runs: the suite, the suite again under the sanitizers, the fuzzers, a short soak.
test: check sanitize fuzz soak

# The test suite (unit, BPF, end-to-end, fuzz corpora, kernel matrix) on the normal build.
check: build
	ctest --test-dir $(BUILD) --output-on-failure $(CTEST_ARGS)

configure-sanitize: setup
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_SANITIZE=ON -DVIGIL_FUZZ=ON

build-sanitize: configure-sanitize
	cmake --build $(SANITIZE_BUILD)

# The unit, BPF and end-to-end suites built with ASan+UBSan; any sanitizer report fails it.
sanitize: build-sanitize
	scripts/sanitize-test.sh $(SANITIZE_BUILD) $(CTEST_ARGS)

# Each fuzz target for FUZZ_SECONDS under AFL++; fails on a crash, hang or leak.
fuzz: build-sanitize
	fuzz/run.sh --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(SANITIZE_BUILD)

# vigild through SOAK_EXECS execs and SOAK_OPENS opens: RSS, fds and cache stay bounded, no
# event goes missing uncounted.
soak: build
	tests/soak/soak.sh --execs $(SOAK_EXECS) --opens $(SOAK_OPENS) --chunks 10 $(BUILD)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
