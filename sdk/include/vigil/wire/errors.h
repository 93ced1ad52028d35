/* Host-owned per-CPU counters that BPF programs bump when something fails in the kernel:
 * a ring-buffer reserve, a helper read, a map update. Exported as metrics and in `vigil status`.
 * Shared by BPF C and C++. */
#ifndef VIGIL_WIRE_ERRORS_H
#define VIGIL_WIRE_ERRORS_H

#define VIGIL_ERRORS_MAP "vigil_errors"
#define VIGIL_ERRORS_LAYOUT 1

enum vigil_error_slot {
    VIGIL_ERR_RINGBUF_RESERVE = 0, /* event dropped: ring buffer full */
    VIGIL_ERR_PROBE_READ = 1,      /* bpf_probe_read_* failed */
    VIGIL_ERR_MAP_UPDATE = 2,
    VIGIL_ERR_MAP_DELETE = 3,
    VIGIL_ERR_PROC_MISS = 4,       /* a process missing from vigil_procs */
    VIGIL_ERR_SHED = 5,            /* event shed: its ring was past VIGIL_SHED_SHIFT full and the
                                    * event carried no enforcement (vigil/bpf/emit.h) */
    VIGIL_ERR_CGROUP_RATE = 6,     /* event dropped: its cgroup was over the per-cgroup rate */
    VIGIL_ERR_SLOTS = 16,
};

#endif
