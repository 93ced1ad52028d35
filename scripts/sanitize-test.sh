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
# tier and the out-of-tree SDK build are not in it.
ctest --test-dir "$build" -R '^(unit|policy|plugin-check|e2e|fuzz-.*)$' --output-on-failure "$@"
rc=$?
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
