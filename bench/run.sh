#!/usr/bin/env bash
# vigil's overhead benchmark: each storm runs without vigild and with it, in alternating blocks,
# RUNS times; prints the median slowdown (ops/s without / with), the share of the storm's
# events vigild exported, and vigild's peak RSS and CPU time.
#   bench/run.sh [BUILD_DIR]        env: RUNS (3), OPEN_N (300000), EXEC_N (2000), WORKLOADS
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${RUNS:-3}
open_n=${OPEN_N:-300000}
exec_n=${EXEC_N:-2000}
workloads=${WORKLOADS:-"open exec"}
storm=$build/bench/storm
vigild=$build/bin/vigild
work=$(mktemp -d /tmp/vigil-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
[[ -x $storm && -x $vigild ]] || { echo "build first: make bench" >&2; exit 1; }

target=$work/target
echo x > "$target"
cp /bin/true "$work/bench_true"

policy() { # policy NAME PREFIX
  cat <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: $1
spec:
  tracepoints:
  - subsystem: syscalls
    event: sys_enter_openat
    args:
    - index: 6
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Prefix
        values: ["$2"]
YAML
}
mkdir -p "$work/pol-all" "$work/pol-none" "$work/pol-empty"
policy bench-open "$work/" > "$work/pol-all/open.yaml"
policy bench-none "/nonexistent/vigil-bench/" > "$work/pol-none/open.yaml"

config() { # config POLICY_DIR
  cat <<TOML
[agent]
policy_dir = "$1"
[output]
stdout = "none"
[plugins.tracepoint]
library = "libvigil_tracepoint.so"
TOML
}

# storm_run MODE -> prints "ops_per_s pid"
storm_run() {
  local out
  case $1 in
    open) out=$("$storm" open "$open_n" "$target") ;;
    exec) out=$("$storm" exec "$exec_n" "$work/bench_true") ;;
  esac
  sed -E 's/.*pid=([0-9]+).*ops_per_s=([0-9]+).*/\2 \1/' <<<"$out"
}

# with_vigild POLICY_DIR MODE -> prints "ops_per_s captured expected rss_kb cpu_ms"
with_vigild() {
  local pdir=$1 mode=$2 events=$work/events.json log=$work/vigild.log
  rm -f "$events"
  config "$pdir" > "$work/vigil.toml"
  "$vigild" --config "$work/vigil.toml" --export-file "$events" 2> "$log" &
  local vpid=$!
  for _ in $(seq 200); do grep -q 'vigild ready' "$log" && break; sleep 0.05; done
  grep -q 'vigild ready' "$log" || { cat "$log" >&2; kill -9 $vpid; exit 1; }
  local t0 t1 rss res
  t0=$(awk '{print $14 + $15}' /proc/$vpid/stat)
  res=$(storm_run "$mode")
  sleep 0.3
  t1=$(awk '{print $14 + $15}' /proc/$vpid/stat)
  rss=$(awk '/VmHWM/ {print $2}' /proc/$vpid/status)
  kill -TERM $vpid
  wait $vpid || true
  local ops=${res% *} pid=${res#* } expected captured
  case $mode in
    open) expected=$open_n; captured=$(python3 "$here/count.py" "$events" open "$pid" bench-open) ;;
    exec) expected=$exec_n; captured=$(python3 "$here/count.py" "$events" exec "$pid") ;;
  esac
  [[ $pdir == */pol-none ]] && captured=- && expected=-
  echo "$ops $captured $expected $rss $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-8s %-22s %4s %11s %11s %9s %9s %8s %8s\n' workload arm runs base_ops/s tool_ops/s slowdown capture% rss_MiB cpu_ms
for wl in $workloads; do
  case $wl in
    open) arms="open-all:$work/pol-all open-none:$work/pol-none" ;;
    exec) arms="process-sensor:$work/pol-empty" ;;
    *) echo "unknown workload $wl" >&2; exit 2 ;;
  esac
  for arm in $arms; do
    name=${arm%%:*} pdir=${arm#*:}
    : > "$work/ratios"; : > "$work/base"; : > "$work/tool"; cap="" rss=0 cpu=0
    for _ in $(seq "$runs"); do
      b=$(storm_run "$wl"); b=${b% *}
      read -r t c e r u < <(with_vigild "$pdir" "$wl")
      echo "$b" >> "$work/base"; echo "$t" >> "$work/tool"
      awk -v b="$b" -v t="$t" 'BEGIN {print b / t}' >> "$work/ratios"
      if [[ $c != - ]]; then cap="$cap $(awk -v c="$c" -v e="$e" 'BEGIN {printf "%.1f", 100 * c / e}')"; fi
      (( r > rss )) && rss=$r
      cpu=$u
    done
    capmin=$( [[ -n $cap ]] && tr ' ' '\n' <<<"$cap" | grep . | sort -g | head -1 || echo n/a)
    printf '%-8s %-22s %4s %11.0f %11.0f %8.2fx %9s %8.1f %8s\n' "$wl" "$name" "$runs" \
      "$(median < "$work/base")" "$(median < "$work/tool")" "$(median < "$work/ratios")" \
      "${capmin:-n/a}" "$(awk -v r="$rss" 'BEGIN {print r / 1024}')" "$cpu"
  done
done
