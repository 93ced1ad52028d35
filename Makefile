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
SOAK_EXECS ?= 50000
SOAK_OPENS ?= 2000000

# ccache (when installed) keeps its cache in the build tree; paths below the source directory
# hash the same from any build directory, so the package build reuses the normal build's objects.
export CCACHE_DIR ?= $(CURDIR)/$(BUILD)/ccache
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

# The Debian packages: a build of their own (prefix /usr, no tests), packages in $(PACKAGE_DIR).
PACKAGE_BUILD ?= build-deb
PACKAGE_DIR ?= $(PACKAGE_BUILD)/packages

.PHONY: all setup configure build run test check configure-sanitize build-sanitize sanitize fuzz soak bench package clean

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

# Everything CI runs, in this order, stopping at the first part that fails: the suite on the
# normal build, the unit and e2e suites (and the fuzz corpora) under the sanitizers, each fuzzer
# for FUZZ_SECONDS, a short soak. Sequential even under `make -j`. Figures: docs/reliability.md.
test:
	$(MAKE) check
	$(MAKE) sanitize
	$(MAKE) fuzz
	$(MAKE) soak

# The test suite (unit, BPF, end-to-end, kernel matrix) on the normal build.
check: build
	ctest --test-dir $(BUILD) --output-on-failure $(CTEST_ARGS)

# -O1 -g1: about half the compile time of -O2 -g, still line numbers in every report.
configure-sanitize: setup
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
	  "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1" -DVIGIL_SANITIZE=ON -DVIGIL_FUZZ=ON

# Only what the sanitized suites and the fuzzers need, not the whole tree.
build-sanitize: configure-sanitize
	cmake --build $(SANITIZE_BUILD) --target sanitize_suite fuzz_all

# The unit and end-to-end suites and the fuzz corpus replays built with ASan+UBSan; any
# sanitizer report from any process fails it. The BPF tier is left out (docs/reliability.md).
sanitize: build-sanitize
	scripts/sanitize-test.sh $(SANITIZE_BUILD) $(CTEST_ARGS)

# Each fuzz target for FUZZ_SECONDS under AFL++; fails on a crash, hang or leak.
fuzz: build-sanitize
	fuzz/run.sh --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(SANITIZE_BUILD)

# vigild through SOAK_EXECS execs and SOAK_OPENS opens: RSS, fds and cache stay bounded, no
# event goes missing uncounted.
soak: build
	tests/soak/soak.sh --execs $(SOAK_EXECS) --opens $(SOAK_OPENS) --chunks 10 $(BUILD)

# The benchmark (bench/bench.py): overhead on syscall storms with and without vigild, cost per
# hook, CPU by event rate, pipeline throughput, footprint; checks the targets of
# docs/performance.md. About 4 minutes; BENCH_ARGS="--parts table --pairs 9" for a subset.
BENCH_ARGS ?=
bench: build
	python3 bench/bench.py $(BUILD) $(BENCH_ARGS)

# vigil and vigil-sdk .deb files, checked with lintian: any error or warning fails, except the
# placeholder maintainer address (set VIGIL_PACKAGE_CONTACT; docs/install.md).
package: setup
	deploy/debian/build-packages.sh . $(PACKAGE_BUILD) $(PACKAGE_DIR)
	lintian --fail-on error,warning --suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog \
	  $(PACKAGE_DIR)/*.deb

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(PACKAGE_BUILD)
