#!/usr/bin/env bash
# The SDK as a third party gets it: install vigil into a staging prefix, build
# examples/plugin-out-of-tree as a separate CMake project against it (find_package(VigilSDK)),
# check the result with `vigil plugin check`, and have vigild load it and deliver its events.
#   out_of_tree.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
work=$build/sdk-out-of-tree
stage=$work/stage
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$stage" >"$work/install.log"
[[ -f $stage/include/vigil/plugin_abi.h ]] || { echo "FAIL: SDK header not installed"; exit 1; }
# A plugin needs libbpf and a compiler, not Boost: neither the package nor the headers ask for it.
if grep -rli boost "$(dirname "$(find "$stage" -name VigilSDKConfig.cmake)")" ||
   grep -rl '#include <boost' "$stage/include/vigil"; then
  echo "FAIL: the installed SDK depends on Boost (files above)"; exit 1
fi

cmake -S "$src/examples/plugin-out-of-tree" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$stage" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
lib=$work/build/libvigil_example.so
[[ -f $lib ]] || { echo "FAIL: $lib was not built"; exit 1; }

"$build/bin/vigil" plugin check "$lib" | tee "$work/check.txt"
grep -q '^verdict: OK' "$work/check.txt" || { echo "FAIL: plugin check refused the example"; exit 1; }

cat >"$work/vigil.toml" <<TOML
[plugins.tracepoint]
library = "libvigil_tracepoint.so"
[plugins.example]
library = "$lib"
[plugins.example.config]
label = "from-test"
TOML
events=$work/events.json
# its own API socket: another vigild on the machine may serve the default one
"$build/bin/vigild" --config "$work/vigil.toml" --output none --export-file "$events" \
  --api-socket "/tmp/vigil-oot-$$.sock" 2>"$work/vigild.log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q 'vigild ready' "$work/vigild.log" && break
  sleep 0.1
done
grep -q 'vigild ready: 2 plugin(s) running' "$work/vigild.log" || { cat "$work/vigild.log"; echo "FAIL: not ready"; exit 1; }
/usr/bin/true
sleep 0.5
kill -TERM $pid
wait $pid
grep -q 'example sensor attached' "$work/vigild.log" || { echo "FAIL: example plugin did not start"; exit 1; }
if ! grep -q '"example_exec":{.*"comm":"true","label":"from-test"' "$events"; then
  cat "$work/vigild.log"
  echo "FAIL: no example_exec event for /usr/bin/true in $events"
  exit 1
fi
echo "PASS: out-of-tree plugin built against the installed SDK, loaded, and delivered events"

# The signal sensor example: its own decode() test against the SDK's mock host, then in vigild
# (listed before the tracepoint plugin it needs: the order in the file is free).
sig=$work/signal
cmake -S "$src/examples/plugin-signal" -B "$sig" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$stage" >"$work/signal-configure.log" 2>&1 || { cat "$work/signal-configure.log"; exit 1; }
cmake --build "$sig" >"$work/signal-build.log" 2>&1 || { cat "$work/signal-build.log"; exit 1; }
"$sig/signal_test" || { echo "FAIL: the signal example's own test"; exit 1; }
cat >"$work/signal.toml" <<TOML
[plugins.signal]
library = "$sig/libvigil_signal.so"
[plugins.signal.config]
signal = 10
[plugins.tracepoint]
library = "libvigil_tracepoint.so"
TOML
events=$work/signal-events.json
"$build/bin/vigild" --config "$work/signal.toml" --output none --export-file "$events" \
  --api-socket "/tmp/vigil-oot-sig-$$.sock" 2>"$work/signal-vigild.log" &
pid=$!
for _ in $(seq 100); do
  grep -q 'vigild ready' "$work/signal-vigild.log" && break
  sleep 0.1
done
grep -q 'vigild ready: 2 plugin(s) running' "$work/signal-vigild.log" || { cat "$work/signal-vigild.log"; echo "FAIL: not ready"; exit 1; }
sleep 30 &
target=$!
sleep 0.3
kill -USR1 $target
wait $target 2>/dev/null || true
sleep 0.5
kill -TERM $pid
wait $pid
if ! grep -q '"signal_send":{"process":{.*"target":{"exec_id":"[^"]*","pid":'"$target"',.*"binary":"/usr/bin/sleep".*"signal":"SIGUSR1"' "$events"; then
  cat "$work/signal-vigild.log"; cat "$events"
  echo "FAIL: no signal_send event naming sleep ($target) as its target"
  exit 1
fi
echo "PASS: the signal example passed its own test and reported SIGUSR1 to sleep with the target's exec_id"
