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
#include "vigil/wire/self.h"
#include "vigil/wire/cgroup_rate.h"
#include "vigil/wire/workloads.h"

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

/* vigild's own tgid, written by the host before any program attaches; see vigil/wire/self.h */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vigil_self);
} vigil_self SEC(".maps");

/* cgroup v2 id -> its reporting-only events in the current window; see vigil/wire/cgroup_rate.h */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, VIGIL_CGROUP_RATE_MAX);
    __type(key, __u64);
    __type(value, struct vigil_cgroup_rate);
} vigil_cgroup_rate SEC(".maps");
/* (policy set, cgroup) -> 1: the workloads a policy's selectors pick; see vigil/wire/workloads.h */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VIGIL_WORKLOADS_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vigil_workload_key);
    __type(value, __u8);
} vigil_workloads SEC(".maps");

/* 1 when the current task belongs to vigild and vigild is not to be watched: every sensor and
 * hook returns before doing anything else (an array lookup the verifier inlines, one compare). */
static __always_inline int self__current(void)
{
    __u32 zero = 0;
    struct vigil_self *s = bpf_map_lookup_elem(&vigil_self, &zero);
    return s && s->tgid && s->tgid == (__u32)(bpf_get_current_pid_tgid() >> 32);
}

/* The same for the thread group `tgid` (a socket's owner, a forking parent). */
static __always_inline int self__is(__u32 tgid)
{
    __u32 zero = 0;
    struct vigil_self *s = bpf_map_lookup_elem(&vigil_self, &zero);
    return s && s->tgid && s->tgid == tgid;
}

static __always_inline void errors__count(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&vigil_errors, &slot);
    if (v)
        *v += 1;
}

#endif
