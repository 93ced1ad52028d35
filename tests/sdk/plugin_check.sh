#!/usr/bin/env bash
# `vigil plugin check` explains each refusal and exits 1, and accepts good plugins with 0.
#   plugin_check.sh VIGIL_BIN FAKE_PLUGIN_DIR PLUGIN_DIR
set -uo pipefail
vigil=$1 fakes=$2 plugins=$3
failures=0
expect() { # expect RC SUBSTRING FILE
  local out rc
  out=$("$vigil" plugin check "$3" 2>&1); rc=$?
  if [[ $rc -ne $1 || $out != *"$2"* ]]; then
    echo "FAIL: $3: rc=$rc (want $1), output:"; echo "$out"; failures=$((failures + 1))
  else
    echo "ok: $(basename "$3"): $(grep '^verdict' <<<"$out")"
  fi
}
# the host's ABI as `vigil version` states it ("plugin ABI 1.2")
abi=$("$vigil" version | sed -n 's/.*plugin ABI \([0-9]*\.[0-9]*\).*/\1/p')
for p in "$plugins"/libvigil_*.so; do expect 0 "verdict: OK" "$p"; done
expect 0 "verdict: OK" "$fakes/libfake_good.so"
expect 0 "note: exports the Boost.DLL alias" "$fakes/libfake_abi10.so"  # built before ABI 1.1
expect 0 "verdict: OK" "$fakes/libfake_provider.so"
expect 0 "verdict: OK" "$fakes/libfake_c.so"         # plain C, from plugin_abi.h alone
expect 0 "verdict: OK" "$fakes/libfake_abi12.so"     # built for ABI 1.2: no exporter members
expect 0 "verdict: OK" "$fakes/libfake_exporter.so"  # an exporter (ABI 1.3), without decode
expect 1 "sets export_events but not export_status" "$fakes/libfake_half_exporter.so"
expect 1 'REFUSED: '"$fakes"'/libfake_no_entry.so: no entry point "vigil_plugin_get_api"' "$fakes/libfake_no_entry.so"
expect 1 "sets add_hook, hook_stats but not remove_hook, set_hook_mode" "$fakes/libfake_c_partial_hooks.so"
expect 1 "plugin ABI major 99 does not match the host's ABI $abi" "$fakes/libfake_abi_major.so"
expect 1 "plugin needs host ABI 1.999 or newer, this host has ABI $abi; upgrade vigild" "$fakes/libfake_min_minor.so"
expect 1 'descriptor: id "Bad Id" must be' "$fakes/libfake_bad_id.so"
expect 1 'id:          Bad Id' "$fakes/libfake_bad_id.so"      # the refused descriptor is shown
expect 1 'shared maps: vigil_procs (layout 99)' "$fakes/libfake_layout.so"
expect 1 'shared map "vigil_procs" layout 99 does not match the host'"'"'s layout 1' "$fakes/libfake_layout.so"
expect 1 "No such file or directory" "$fakes/libnothing.so"
out=$("$vigil" plugin 2>&1); rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: usage error should exit 2, got $rc"; failures=$((failures + 1)); }
exit $((failures > 0))
