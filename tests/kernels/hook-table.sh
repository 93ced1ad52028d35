#!/usr/bin/env bash
# hook-table.sh [--cache DIR] WORK_DIR
#
# Measures which BPF hook kinds load, attach and fire on this host's kernel and on the 6.1
# guest, and prints the Markdown table kept in docs/kernels.md. Both columns come from the
# same binary (selftest/hookkinds): run directly on the host, then with run-in-guest.sh.
# Also leaves `bpftool feature probe kernel` of both kernels in WORK_DIR/probe-{host,guest}.txt.
# Needs root (BPF on the host).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=
if [[ ${1:-} == --cache ]]; then cache=$2; shift 2; fi
(($# == 1)) || { echo "usage: hook-table.sh [--cache DIR] WORK_DIR" >&2; exit 2; }
mkdir -p "$1"
work=$(cd "$1" && pwd)
cache=${cache:-$work/kernels-cache}

"$here/selftest/build.sh" "$work/bin" >&2
"$here/prepare-kernel.sh" "$cache"

# The host's tracefs may not be mounted; mount it in a private mount namespace only.
unshare -m sh -c 'mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; exec "$@"' sh \
  "$work/bin/hookkinds" >"$work/hookkinds-host.log" 2>&1 || true
bpftool feature probe kernel >"$work/probe-host.txt" 2>&1 || true

"$here/run-in-guest.sh" --cache "$cache" --out "$work/guest" --file "$work/bin/hookkinds.bpf.o" \
  --file "$(command -v bpftool)" -- "$work/bin/hookkinds" --- --plain --name=probe \
  "$(command -v bpftool)" feature probe kernel >&2 || true
tr -d '\r' <"$work/guest/logs/probe.log" >"$work/probe-guest.txt"

/usr/bin/env python3 - "$work/hookkinds-host.log" "$work/guest/logs/hookkinds.log" \
  "$(uname -r)" "$(cat "$cache/kernel-release")" <<'PY'
import re, sys
def outcomes(path):
    d = {}
    for line in open(path, errors="replace"):
        m = re.match(r"HOOKKIND (\S+)\s+(.*?)\s*$", line.replace("\r", ""))
        if m:
            d[m.group(1)] = m.group(2)
    return d
host, guest = outcomes(sys.argv[1]), outcomes(sys.argv[2])
print(f"| hook kind | host {sys.argv[3]} | guest {sys.argv[4]} |")
print("|---|---|---|")
for kind in list(dict.fromkeys(list(host) + list(guest))):
    print(f"| {kind} | {host.get(kind, 'not run')} | {guest.get(kind, 'not run')} |")
PY
