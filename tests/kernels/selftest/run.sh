#!/usr/bin/env bash
# selftest/run.sh [--cache DIR] WORK_DIR
#
# Checks the kernel-matrix runner itself against the 6.1 guest (ctest: kernel-matrix-selftest):
#   pass      passing Catch2 binary, hookkinds (libbpf.so.1 shipped by ldd, BPF programs
#             loaded for real) and bpftool feature probe   -> run-in-guest.sh exits 0,
#             VIGIL-SKIP collected, kprobe/fentry/lsm attach in the guest
#   fail      one failing Catch2 binary                   -> exits 1, failure reported
#   hang      a binary that never returns, VM timeout 30s  -> exits 1 within ~30s, qemu killed
#   test-tmo  same binary with --test-timeout 5            -> exits 1, the next binary still runs
# Binaries are built into WORK_DIR/bin; results in WORK_DIR/<scenario>/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernels=$(dirname "$here")
cache=
if [[ ${1:-} == --cache ]]; then cache=$2; shift 2; fi
(($# == 1)) || { echo "usage: run.sh [--cache DIR] WORK_DIR" >&2; exit 2; }
mkdir -p "$1"
work=$(cd "$1" && pwd)
cache=${cache:-$work/kernels-cache}
bin=$work/bin

"$here/build.sh" "$bin"
"$kernels/prepare-kernel.sh" "$cache"

failures=0
timings=()
check() { # description, command...: prints ok/FAIL
  local what=$1
  shift
  if "$@"; then echo "selftest: ok   $what"; else echo "selftest: FAIL $what"; failures=$((failures + 1)); fi
}

scenario() { # name expected-exit [run-in-guest args...]
  local name=$1 expect=$2 rc=0 t0 t1
  shift 2
  echo "selftest: --- scenario $name (expect exit $expect)"
  t0=$(date +%s.%N)
  "$kernels/run-in-guest.sh" --cache "$cache" --out "$work/$name" "$@" || rc=$?
  t1=$(date +%s.%N)
  last_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  timings+=("$name: ${last_secs}s (exit $rc)")
  check "$name exits $expect (got $rc)" test "$rc" -eq "$expect"
}

in_file() { grep -qE -- "$1" "$2"; }

scenario pass 0 --timeout 120 --file "$bin/hookkinds.bpf.o" --file /usr/sbin/bpftool -- \
  "$bin/selftest-pass" --- "$bin/hookkinds" --- --plain --name=bpftool-probe /usr/sbin/bpftool feature probe kernel
check "VIGIL-SKIP line collected" in_file 'selftest-pass: a feature this kernel lacks: vigil-no-such-feature' "$work/pass/summary.txt"
check "junit XML came back" test -s "$work/pass/junit/selftest-pass.xml"
for kind in kprobe kretprobe fentry fexit lsm tracepoint; do
  check "$kind attaches and fires in the guest" in_file "^HOOKKIND $kind +ok" "$work/pass/logs/hookkinds.log"
done
check "bpftool ran in the guest" in_file 'program_type kprobe is available' "$work/pass/logs/bpftool-probe.log"

scenario fail 1 --timeout 120 -- "$bin/selftest-fail" --- "$bin/selftest-pass"
check "failing test case named" in_file 'failed: this one fails on purpose' "$work/fail/summary.txt"
check "passing binary after it still ok" in_file '^  selftest-pass +ok' "$work/fail/summary.txt"

scenario hang 1 --timeout 30 -- "$bin/selftest-hang"
check "hang reported as VM timeout" in_file 'did not reach VIGIL-GUEST-DONE within 30s' "$work/hang/summary.txt"
check "hang killed within 45s (took ${last_secs}s)" awk -v s="$last_secs" 'BEGIN { exit !(s < 45) }'

scenario test-tmo 1 --timeout 120 --test-timeout 5 -- "$bin/selftest-hang" --- "$bin/selftest-pass"
check "killed binary reported" in_file '^  selftest-hang +FAIL +137' "$work/test-tmo/summary.txt"
check "next binary still ran" in_file '^  selftest-pass +ok' "$work/test-tmo/summary.txt"

echo "selftest: timings (wall, including initramfs build):"
printf '  %s\n' "${timings[@]}"
if ((failures)); then
  echo "selftest: $failures check(s) failed"
  exit 1
fi
echo "selftest: all checks passed"
