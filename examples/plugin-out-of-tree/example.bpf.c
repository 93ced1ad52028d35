// SPDX-License-Identifier: GPL-2.0
/* Example sensor: one record per successful exec, with the new command name. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/emit.h"
#include "example.h"

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 16);
} example_events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int example_exec(void *ctx)
{
    struct example_record *r = evt__reserve(&example_events, sizeof(*r));
    if (!r)
        return 0;
    __u64 id = bpf_get_current_pid_tgid();
    r->ktime = bpf_ktime_get_boot_ns();
    r->pid = id >> 32;
    r->tid = (__u32)id;
    bpf_get_current_comm(r->comm, sizeof(r->comm));
    evt__submit(r);
    return 0;
}
