#!/usr/bin/env bash
# matrix.sh BUILD_DIR [RUN-IN-GUEST OPTIONS] -- TEST [--- TEST]...
#
# The kernel matrix as one command (what ctest's kernel-matrix-6.1 runs): prepares Debian's
# 6.1 kernel in BUILD_DIR/kernels-cache (downloaded once) and runs the given test binaries in
# it with run-in-guest.sh, results in BUILD_DIR/kernels-results/6.1/. Options and TEST specs
# are those of run-in-guest.sh, except --cache and --out, which this script sets.
#
# Exit status: that of run-in-guest.sh; 77 (ctest's skip code here) when qemu is not installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# >= 1)) || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build=$1
shift

if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "matrix: qemu-system-x86_64 is not installed (scripts/setup.sh installs it); skipping" >&2
  exit 77
fi

mkdir -p "$build"
build=$(cd "$build" && pwd)
"$here/prepare-kernel.sh" "$build/kernels-cache"
exec "$here/run-in-guest.sh" --cache "$build/kernels-cache" --out "$build/kernels-results/6.1" "$@"
