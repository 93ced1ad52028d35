#!/usr/bin/env bash
# Runs every fuzz target of a build configured with -DVIGIL_FUZZ=ON under AFL++ for a bounded
# time, then replays what it found with the regression runner (ASan with leak detection, UBSan).
# Fails on any crash, hang (an input slower than --timeout-ms), leak or sanitizer report.
#   fuzz/run.sh [--seconds N] [--jobs N] [--timeout-ms N] [--only NAME] BUILD_DIR
# Results: BUILD_DIR/fuzz-out/<target>/ (AFL++ output, log) and BUILD_DIR/fuzz-out/summary.tsv.
# A crash found here belongs in fuzz/corpus/<target>/ (the command is printed) with its fix.
set -euo pipefail

seconds=30
jobs=1
timeout_ms=5000
only=
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --timeout-ms) timeout_ms=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
build=${1:?usage: fuzz/run.sh [--seconds N] [--jobs N] [--only NAME] BUILD_DIR}
list=$build/fuzz/targets.list
[[ -f $list ]] || { echo "fuzz: $list missing: configure $build with -DVIGIL_FUZZ=ON and build it" >&2; exit 1; }
command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz not found (scripts/setup.sh installs afl++)" >&2; exit 1; }

out=$build/fuzz-out
mkdir -p "$out"
summary=$out/summary.tsv

# AFL++ wants these in ASAN_OPTIONS; leaks are checked by the replay, where a report names the
# input (in persistent mode LeakSanitizer only runs when a child exits, after many inputs).
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:hard_rss_limit_mb=2048:max_allocation_size_mb=1024:allocator_may_return_null=0
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FAST_CAL=1 AFL_NO_STARTUP_CALIBRATION=1 AFL_CMPLOG_ONLY_NEW=1

replay_env=(env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1)

# fuzz_one NAME FUZZER REGRESS CORPUS SEEDS DICT CMPLOG -> writes $out/NAME/result
fuzz_one() {
  local name=$1 fuzzer=$2 regress=$3 corpus=$4 seeds=$5 dict=$6 cmplog=$7
  local dir=$out/$name
  rm -rf "$dir"
  mkdir -p "$dir/in"
  local d f n=0
  for d in "$corpus" ${seeds//:/ }; do
    [[ -d $d ]] || continue
    for f in "$d"/*; do
      [[ -f $f && -s $f ]] || continue
      cp "$f" "$dir/in/$(basename "$d")-$(basename "$f")"
      n=$((n + 1))
    done
  done
  local args=(-i "$dir/in" -o "$dir/afl" -V "$seconds" -t "$timeout_ms" -m none)
  [[ -n $dict ]] && args+=(-x "$dict")
  # The binary is its own cmplog binary: g++'s trace-cmp callbacks feed AFL++'s cmplog map.
  [[ $cmplog == 1 ]] && args+=(-c 0)
  local start=$SECONDS status=ok
  timeout $((seconds + 120)) afl-fuzz "${args[@]}" -- "$fuzzer" >"$dir/afl.log" 2>&1 || status="afl-fuzz failed ($?)"
  local stats=$dir/afl/default/fuzzer_stats
  local execs=0 corpus_count=0 crashes=0 hangs=0
  if [[ -f $stats ]]; then
    execs=$(awk -F' *: *' '$1=="execs_done"{print $2}' "$stats")
    corpus_count=$(awk -F' *: *' '$1=="corpus_count"{print $2}' "$stats")
    crashes=$(awk -F' *: *' '$1=="saved_crashes"{print $2}' "$stats")
    hangs=$(awk -F' *: *' '$1=="saved_hangs"{print $2}' "$stats")
  elif [[ $status == ok ]]; then
    status="no fuzzer_stats"
  fi
  ((crashes > 0)) && status="$crashes crash(es)"
  ((hangs > 0)) && status="${status/#ok/}${status:+ }$hangs hang(s)"
  # Everything AFL++ kept, replayed once more with leak detection.
  if [[ -d $dir/afl/default/queue ]] &&
    ! timeout 600 "${replay_env[@]}" "$regress" "$dir/afl/default/queue" >"$dir/replay.log" 2>&1; then
    [[ $status == ok ]] && status="replay failed" || status="$status, replay failed"
  fi
  local secs=$((SECONDS - start))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$execs" "$n" "$corpus_count" "$crashes" "$hangs" \
    "$status" >"$dir/result"
}

pids=()
names=()
while IFS='|' read -r name fuzzer regress corpus seeds dict cmplog; do
  [[ -n $name ]] || continue
  [[ -z $only || $name == "$only" ]] || continue
  if [[ -z $fuzzer ]]; then
    echo "fuzz: $name has no fuzzer binary: configure $build with -DVIGIL_FUZZ=ON" >&2
    exit 1
  fi
  while (($(jobs -rp | wc -l) >= jobs)); do sleep 0.5; done
  echo "fuzz: $name for ${seconds}s"
  fuzz_one "$name" "$fuzzer" "$regress" "$corpus" "$seeds" "$dict" "$cmplog" &
  pids+=($!)
  names+=("$name")
done <"$list"
wait "${pids[@]}" 2>/dev/null || true

printf 'target\tseconds\texecs\tseeds\tcorpus\tcrashes\thangs\tstatus\n' >"$summary"
failed=0
for name in "${names[@]}"; do
  dir=$out/$name
  if [[ ! -f $dir/result ]]; then
    printf '%s\t-\t-\t-\t-\t-\t-\tno result\n' "$name" >>"$summary"
    failed=1
    continue
  fi
  cat "$dir/result" >>"$summary"
  status=$(cut -f8 "$dir/result")
  if [[ $status != ok ]]; then
    failed=1
    echo "fuzz: $name: $status (log: $dir/afl.log, replay: $dir/replay.log)" >&2
    for f in "$dir"/afl/default/crashes/id* "$dir"/afl/default/hangs/id*; do
      [[ -f $f ]] || continue
      echo "  $f" >&2
      echo "    reproduce: $(grep "^$name|" "$list" | cut -d'|' -f3) '$f'" >&2
      echo "    keep it:   cp '$f' fuzz/corpus/$name/crash-$(sha1sum "$f" | cut -c1-12)" >&2
    done
    grep -v '^running ' "$dir/replay.log" | head -n 40 >&2 || true
  fi
done
column -t -s $'\t' "$summary"
exit $failed
