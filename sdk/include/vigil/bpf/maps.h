/* Declarations of the host-owned shared maps, for a plugin's BPF object. The host creates
 * them; before loading, the plugin points each at the host's fd (vigil::sdk::reuse_shared_maps),
 * so every plugin sees the same process map. libbpf refuses the reuse if type, key, value or
 * size differ, which is the kernel-side half of the layout check. */
#ifndef VIGIL_BPF_MAPS_H
#define VIGIL_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "vigil/wire/process.h"
#include "vigil/wire/errors.h"

/* tgid -> the process it runs; see vigil/wire/process.h */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VIGIL_PROCS_MAX);
    __type(key, __u32);
    __type(value, struct vigil_proc);
} vigil_procs SEC(".maps");

/* per-CPU failure counters indexed by enum vigil_error_slot */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, VIGIL_ERR_SLOTS);
    __type(key, __u32);
    __type(value, __u64);
} vigil_errors SEC(".maps");

static __always_inline void errors__count(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&vigil_errors, &slot);
    if (v)
        *v += 1;
}

#endif
