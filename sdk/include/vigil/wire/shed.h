/* The host-owned map that says whose events were shed: when a ring is over three quarters full,
 * the BPF side drops reporting-only events (vigil/bpf/emit.h, evt__shed) and counts each one here
 * under the process image that made the call, so that vigild can say which processes lost how
 * many events once the overload is over (process_throttle events with their process). Shared by
 * BPF C and C++. */
#ifndef VIGIL_WIRE_SHED_H
#define VIGIL_WIRE_SHED_H

#include "vigil/wire/process.h"

#define VIGIL_SHED_MAP "vigil_shed" /* map names hold 15 characters */
#define VIGIL_SHED_LAYOUT 1
#define VIGIL_SHED_MAX 4096 /* processes tracked at once (an LRU: the ones shed longest ago go first) */

/* Key of vigil_shed: the thread group and the exec identity of its image at the time of the call
 * (the vigil_procs key the hook's records carry as proc_ktime; 0 when unknown). */
struct vigil_shed_key {
    vigil_u32 tgid;
    vigil_u32 pad;
    vigil_u64 proc_ktime;
};

/* Updated by every CPU without a lock beyond the count's atomic add. */
struct vigil_shed_count {
    vigil_u64 count;    /* events of the process shed since vigild last read the entry */
    vigil_u64 first_ns; /* boot-time ktime (ns) of the first of them */
    vigil_u64 last_ns;  /* ... and of the last */
};

#endif
