/* The host-owned map of workload sets: per policy with a workload selector (podSelector,
 * containerSelector, hostSelector, kind TracingPolicyNamespaced), the cgroups of the containers
 * it selects. A hook whose vsel_hook.workload_set is not 0 looks the current task's cgroup up
 * here before anything else (vigil/bpf/selectors.h, sel__workload_ok). The host keeps the sets
 * current as containers come and go. Shared by BPF C and C++. */
#ifndef VIGIL_WIRE_WORKLOADS_H
#define VIGIL_WIRE_WORKLOADS_H

#include "vigil/wire/process.h"

#define VIGIL_WORKLOADS_MAP "vigil_workloads"
#define VIGIL_WORKLOADS_LAYOUT 1
#define VIGIL_WORKLOADS_MAX 65536

/* Set 0 holds every cgroup known to belong to a container: what hostSelector excludes. */
#define VIGIL_WORKLOAD_CONTAINERS 0

/* Key of vigil_workloads (hash); the value is a u8, 1. */
struct vigil_workload_key {
    vigil_u32 set;       /* the policy's set (vsel_hook.workload_set), or VIGIL_WORKLOAD_CONTAINERS */
    vigil_u32 pad;
    vigil_u64 cgroup_id; /* the cgroup v2 id, or on a hybrid host the v1 controller's (vsel_hook.cgroup1_subsys) */
};

#endif
