/* Declarations of the host-owned shared maps, for a plugin's BPF object. The host creates
 * them; before loading, the plugin points each at the host's fd (vigil::sdk::reuse_shared_maps),
 * so every plugin sees the same process map. libbpf refuses the reuse if type, key, value or
 * size differ, which is the kernel-side half of the layout check. */
#ifndef VIGIL_BPF_MAPS_H
#define VIGIL_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "vigil/wire/shared_maps.h"

/* One declaration per row of VIGIL_SHARED_MAPS (vigil/wire/shared_maps.h). */
#define VIGIL_DECLARE_SHARED_MAP(name, type_, key_, value_, max_, flags_, layout_) \
    struct {                                                             \
        __uint(type, type_);                                             \
        __uint(max_entries, max_);                                       \
        __uint(map_flags, flags_);                                       \
        __type(key, key_);                                               \
        __type(value, value_);                                           \
    } name SEC(".maps");
VIGIL_SHARED_MAPS(VIGIL_DECLARE_SHARED_MAP)
#undef VIGIL_DECLARE_SHARED_MAP


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
