/* The host-owned process map from the BPF side: lookups by thread-group id and the facts a
 * selector or an event needs about the process behind the current task. */
#ifndef VIGIL_BPF_PROCESS_H
#define VIGIL_BPF_PROCESS_H

#include "vigil/bpf/maps.h"

/* The entry of thread group `tgid`, or NULL when the process is unknown. */
static __always_inline struct vigil_proc *proc__lookup(__u32 tgid)
{
    return bpf_map_lookup_elem(&vigil_procs, &tgid);
}

static __always_inline struct vigil_proc *proc__current(void)
{
    return proc__lookup(bpf_get_current_pid_tgid() >> 32);
}

/* The process key (exec ktime) of `tgid`, 0 when unknown: what events carry as proc_ktime. */
static __always_inline __u64 proc__ktime(__u32 tgid)
{
    struct vigil_proc *p = proc__lookup(tgid);
    return p ? p->ktime : 0;
}

#endif
