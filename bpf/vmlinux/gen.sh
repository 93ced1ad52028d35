#!/usr/bin/env bash
# Regenerates bpf/vmlinux/<arch>/vmlinux.h from a kernel's BTF. Run by a developer when the
# project needs a kernel type it does not have yet; the build never runs this. CO-RE relocates
# every field access at load time, so one header serves every supported kernel.
#   bpf/vmlinux/gen.sh [BTF_FILE] [ARCH]     defaults: /sys/kernel/btf/vmlinux, x86
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
arch=${2:-x86}
out="$(dirname "$0")/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(wc -l < "$out") lines) from $btf"
