/* The host-owned map that names vigild's own process, so that no sensor or hook reports or acts
 * on what the agent itself does (its writes, opens, sockets would otherwise feed its own
 * output). Shared by BPF C and C++. */
#ifndef VIGIL_WIRE_SELF_H
#define VIGIL_WIRE_SELF_H

#include "vigil/wire/process.h"

#define VIGIL_SELF_MAP "vigil_self"
#define VIGIL_SELF_LAYOUT 1

/* The one value of vigil_self (an array of one, key 0): what the kernel side needs to know of the
 * agent's settings. */
struct vigil_self {
    vigil_u32 tgid;        /* vigild's thread-group id; 0: vigild is watched like any process */
    vigil_u32 cgroup_rate; /* reporting-only events per second and cgroup; 0: no limit
                            * (vigil/wire/cgroup_rate.h) */
};

#endif
