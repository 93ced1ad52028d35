/* The host-owned map that counts, per cgroup, the reporting-only events of the current one-second
 * window, so that one cgroup cannot flood the outputs (rotating earlier evidence away) while the
 * rest of the host is reported as usual. The limit is vigil_self's cgroup_rate; vigild turns the
 * drops into process_throttle events. Shared by BPF C and C++. */
#ifndef VIGIL_WIRE_CGROUP_RATE_H
#define VIGIL_WIRE_CGROUP_RATE_H

#include "vigil/wire/process.h"

#define VIGIL_CGROUP_RATE_MAP "vigil_cg_rate" /* map names hold 15 characters */
#define VIGIL_CGROUP_RATE_LAYOUT 1
#define VIGIL_CGROUP_RATE_MAX 8192 /* cgroups tracked at once (an LRU: the quietest go first) */
#define VIGIL_CGROUP_RATE_WINDOW_NS 1000000000ull

/* Value of vigil_cg_rate, keyed by the cgroup v2 id (bpf_get_current_cgroup_id). Updated by
 * every CPU without a lock: the limit holds to within a few events. */
struct vigil_cgroup_rate {
    vigil_u64 window_start; /* ktime (ns) the current window began */
    vigil_u64 count;        /* reporting-only events of the cgroup in the window */
    vigil_u64 dropped;      /* events dropped for the rate since the entry was made */
    vigil_u64 last_drop;    /* ktime (ns) of the last drop */
};

#endif
