/* The host-owned shared maps, in one table: the host creates them from it, the SDK declares them
 * for BPF objects from it (vigil/bpf/maps.h), plugins list and reuse them from it
 * (vigil/sdk/bpf.hpp), and the loader checks layouts against it. Adding a map is one line here
 * (plus the header with its value layout). Shared by BPF C, C and C++.
 *
 * X(name, map type, key type, value type, max entries, map flags, layout version):
 *   name          the map's name in BPF objects and at the ABI (vigil_map_use.name)
 *   layout        bump on any change of type, key, value or meaning: a plugin built against
 *                 another layout is refused */
#ifndef VIGIL_WIRE_SHARED_MAPS_H
#define VIGIL_WIRE_SHARED_MAPS_H

#include "vigil/wire/errors.h"
#include "vigil/wire/process.h"
#include "vigil/wire/self.h"
#include "vigil/wire/cgroup_rate.h"
#include "vigil/wire/workloads.h"
#include "vigil/wire/shed.h"

#define VIGIL_SHARED_MAPS(X)                                                                                 \
    /* tgid -> the process it runs (vigil/wire/process.h) */                                                 \
    X(vigil_procs, BPF_MAP_TYPE_HASH, vigil_u32, struct vigil_proc, VIGIL_PROCS_MAX, 0, VIGIL_PROCS_LAYOUT)  \
    /* per-CPU failure counters indexed by enum vigil_error_slot (vigil/wire/errors.h) */                    \
    X(vigil_errors, BPF_MAP_TYPE_PERCPU_ARRAY, vigil_u32, vigil_u64, VIGIL_ERR_SLOTS, 0, VIGIL_ERRORS_LAYOUT) \
    /* vigild's own tgid and the per-cgroup rate, key 0 (vigil/wire/self.h) */                               \
    X(vigil_self, BPF_MAP_TYPE_ARRAY, vigil_u32, struct vigil_self, 1, 0, VIGIL_SELF_LAYOUT)                 \
    /* cgroup v2 id -> its reporting-only events this second (vigil/wire/cgroup_rate.h) */                   \
    X(vigil_cg_rate, BPF_MAP_TYPE_LRU_HASH, vigil_u64, struct vigil_cgroup_rate, VIGIL_CGROUP_RATE_MAX, 0,  \
      VIGIL_CGROUP_RATE_LAYOUT)                                                                              \
    /* (policy set, cgroup) -> 1: the workloads a policy's selectors pick (vigil/wire/workloads.h) */       \
    X(vigil_workloads, BPF_MAP_TYPE_HASH, struct vigil_workload_key, vigil_u8, VIGIL_WORKLOADS_MAX,           \
      BPF_F_NO_PREALLOC, VIGIL_WORKLOADS_LAYOUT)                                                             \
    /* (tgid, exec identity) -> its events shed for overload (vigil/wire/shed.h) */                         \
    X(vigil_shed, BPF_MAP_TYPE_LRU_HASH, struct vigil_shed_key, struct vigil_shed_count, VIGIL_SHED_MAX, 0,   \
      VIGIL_SHED_LAYOUT)

#ifndef __BPF__
/* One row of the table, for C and C++ code that walks it. */
struct vigil_shared_map_spec {
    const char *name;
    vigil_u32 map_type;    /* enum bpf_map_type */
    vigil_u32 key_size;
    vigil_u32 value_size;
    vigil_u32 max_entries;
    vigil_u32 map_flags;
    vigil_u32 layout_version;
};
#define VIGIL_SHARED_MAP_SPEC(name, type, key, value, max, flags, layout) \
    {#name, type, sizeof(key), sizeof(value), max, flags, layout},
#endif

#endif
