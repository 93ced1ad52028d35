#!/usr/bin/env bash
# build.sh OUTDIR — builds the kernel-matrix self-test binaries into OUTDIR (nothing is
# committed as a binary). Needs g++, clang, catch2 (v2 header), libbpf-dev.
#   selftest-pass  Catch2: passes everywhere, one test reports VIGIL-SKIP
#   selftest-fail  Catch2: one test fails on purpose
#   selftest-hang  Catch2: never returns
#   hookkinds      Catch2 + libbpf.so.1 (dynamic) + hookkinds.bpf.o next to it
set -euo pipefail
(($# == 1)) || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cxx=(g++ -std=gnu++20 -O1 -g -Wall -Wextra -Wno-missing-field-initializers -I"$src" -I"$src/../..")

# The Catch2 main is the slow part; rebuild it only when missing.
[[ -f $out/catch_main.o ]] || "${cxx[@]}" -c "$src/catch_main.cpp" -o "$out/catch_main.o"
for t in pass fail hang; do
  "${cxx[@]}" "$src/$t.cpp" "$out/catch_main.o" -o "$out/selftest-$t"
done
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
  -c "$src/hookkinds.bpf.c" -o "$out/hookkinds.bpf.o"
"${cxx[@]}" "$src/hookkinds.cpp" "$out/catch_main.o" -o "$out/hookkinds" -lbpf
echo "selftest binaries in $out"
