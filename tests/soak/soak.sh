#!/usr/bin/env bash
# Soak: vigild with the process sensor and an openat policy loaded, driven through N execs and
# M opens in K chunks. After each chunk its RSS, fd count and process-cache size are sampled and
# printed as one row of a curve. Fails when memory or fds grow with the work done, when the cache
# does not settle, or when an event went missing without being counted as lost.
#   tests/soak/soak.sh [--execs N] [--opens M] [--chunks K] [--out FILE.tsv] BUILD_DIR
# Needs root (vigild loads BPF programs). Defaults are the full soak: 1 000 000 execs and
# 10 000 000 opens; CI runs it with reduced counts (Makefile: soak).
set -euo pipefail

execs=1000000
opens=10000000
chunks=20
out=
while (($#)); do
  case $1 in
    --execs) execs=$2; shift 2 ;;
    --opens) opens=$2; shift 2 ;;
    --chunks) chunks=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
build=${1:?usage: tests/soak/soak.sh [--execs N] [--opens M] [--chunks K] [--out FILE] BUILD_DIR}
build=$(cd "$build" && pwd)
vigild=$build/bin/vigild
load=$build/tests/soak/vigil_soak_load
[[ -x $vigild && -x $load ]] || { echo "soak: build $build first (vigild, vigil_soak_load)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "soak: needs root (vigild loads BPF programs)" >&2; exit 1; }

work=$(mktemp -d /tmp/vigil-soak.XXXXXX)
vigild_pid=
cleanup() {
  [[ -n $vigild_pid ]] && kill -9 "$vigild_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The policy matches only the soak's own file: one event per open, so opens are countable.
mkdir -p "$work/policies" "$work/files"
target=$work/files/opened
: >"$target"
cat >"$work/policies/soak.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: soak-openat
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    - index: 7
      type: int32
    selectors:
    - matchArgs:
      - index: 0
        operator: Prefix
        values: ["$work/files/"]
YAML
cat >"$work/vigild.toml" <<TOML
[agent]
plugin_dir = "$build/plugins"
policy_dir = "$work/policies"
[output]
stdout = "none"
[export.file]
path = "$work/events.json"
max_size_mb = 64
max_files = 1
[plugins.tracepoint]
library = "libvigil_tracepoint.so"
TOML

log=$work/vigild.log
"$vigild" --config "$work/vigild.toml" 2>"$log" &
vigild_pid=$!
for _ in $(seq 300); do
  grep -q 'vigild ready' "$log" && break
  kill -0 "$vigild_pid" 2>/dev/null || { cat "$log" >&2; echo "soak: vigild exited" >&2; exit 1; }
  sleep 0.1
done
grep -q 'vigild ready' "$log" || { cat "$log" >&2; echo "soak: vigild not ready" >&2; exit 1; }
grep -q 'policy soak-openat loaded' "$log" || { cat "$log" >&2; echo "soak: policy not loaded" >&2; exit 1; }

# value KEY LINE: KEY=value from a stats line
value() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"; }
# Asks vigild for a stats line (SIGUSR1) and prints it.
stats_line() {
  local before
  before=$(grep -c 'stats: ' "$log" || true)
  kill -USR1 "$vigild_pid"
  for _ in $(seq 100); do
    (($(grep -c 'stats: ' "$log" || true) > before)) && break
    sleep 0.05
  done
  grep 'stats: ' "$log" | tail -n 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$vigild_pid/status"; }
fds() { ls "/proc/$vigild_pid/fd" | wc -l; }

curve=$work/curve.tsv
printf 'chunk\tseconds\texecs\topens\trss_kb\tfds\tcache_size\treceived\tlost\n' >"$curve"
sample() { # sample CHUNK EXECS OPENS
  local line
  line=$(stats_line)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$SECONDS" "$2" "$3" "$(rss_kb)" "$(fds)" \
    "$(value cache_size "$line")" "$(value received "$line")" "$(value lost "$line")" >>"$curve"
  tail -n 1 "$curve"
}

echo "soak: $execs execs and $opens opens in $chunks chunks"
SECONDS=0
head -n 1 "$curve"
sample 0 0 0
done_execs=0
done_opens=0
for ((c = 1; c <= chunks; c++)); do
  e=$((execs * c / chunks - done_execs))
  o=$((opens * c / chunks - done_opens))
  "$load" exec "$e" /bin/true
  "$load" open "$o" "$target"
  done_execs=$((done_execs + e))
  done_opens=$((done_opens + o))
  sample "$c" "$done_execs" "$done_opens"
done
# Exited processes leave the cache after their 2 s grace period.
sleep 4
sample settled "$done_execs" "$done_opens"

kill -TERM "$vigild_pid"
status=0
wait "$vigild_pid" || status=$?
vigild_pid=
final=$(grep 'stats: ' "$log" | tail -n 1)
policy=$(grep 'policy soak-openat: matched=' "$log" | tail -n 1)
echo "soak: final $final"
echo "soak: $policy"
[[ -n $out ]] && cp "$curve" "$out"

failures=0
fail() { echo "soak: FAIL: $*" >&2; failures=$((failures + 1)); }
((status == 0)) || fail "vigild exited with status $status"
grep -E 'critical|AddressSanitizer|runtime error' "$log" >&2 && fail "vigild logged a bug"

# Memory and fds: nothing grows with the work done. The first chunk fills caches and buffers;
# from the middle of the run on, RSS stays within 10% (and at least 8 MiB) of its mid-run value.
mid=$(awk -F'\t' -v m=$((chunks / 2)) '$1 == m {print $5}' "$curve")
max_late=$(awk -F'\t' -v m=$((chunks / 2)) '$1 ~ /^[0-9]+$/ && $1 >= m && $5 > x {x = $5} END {print x}' "$curve")
allow=$((mid / 10 > 8192 ? mid / 10 : 8192))
((max_late <= mid + allow)) || fail "RSS grew from ${mid} kB (chunk $((chunks / 2))) to ${max_late} kB"
fds_first=$(awk -F'\t' '$1 == 1 {print $6}' "$curve")
fds_last=$(awk -F'\t' '$1 == "settled" {print $6}' "$curve")
((fds_last <= fds_first + 2)) || fail "fds grew from $fds_first to $fds_last"
cache0=$(awk -F'\t' '$1 == 0 {print $7}' "$curve")
cache_settled=$(awk -F'\t' '$1 == "settled" {print $7}' "$curve")
((cache_settled <= cache0 + 256)) || fail "process cache did not settle: $cache0 at start, $cache_settled after"

# Accounting: every event the kernel produced was received or counted as lost.
lost=$(value lost "$final")
decode_errors=$(value decode_errors "$final")
got_exec=$(value received_process_exec "$final")
got_tp=$(value received_process_tracepoint "$final")
matched=$(value matched "$policy")
posted=$(value posted "$policy")
((decode_errors == 0)) || fail "$decode_errors decode errors"
((matched == done_opens)) || fail "the policy matched $matched opens, $done_opens were made"
((posted == matched)) || fail "the policy posted $posted of $matched matches"
((got_tp <= posted)) || fail "$got_tp hook events received, more than the $posted posted"
((got_tp + lost >= posted)) || fail "$((posted - got_tp - lost)) hook events neither received nor counted as lost"
((got_exec + lost >= done_execs)) || fail "$((done_execs - got_exec - lost)) execs neither received nor counted as lost"
echo "soak: $done_execs execs, $done_opens opens in ${SECONDS}s; received ${got_exec} exec and ${got_tp} hook events, lost ${lost}"
((failures == 0)) && echo "soak: OK"
exit $((failures > 0))
