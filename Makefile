# Entry points for people and CI. `make run` and `make test` work on a fresh Debian 12 machine
# as root: both install what is missing (scripts/setup.sh) and build first.
BUILD ?= build
BUILD_TYPE ?= Release
CTEST_ARGS ?=

.PHONY: all setup configure build run test bench clean

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

test: build
	ctest --test-dir $(BUILD) --output-on-failure $(CTEST_ARGS)

# The overhead benchmark (bench/run.sh): storms with and without vigild, a few minutes.
bench: build
	bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
