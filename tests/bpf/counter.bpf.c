// SPDX-License-Identifier: GPL-2.0
/* Test object: counts getpid() calls of one process and sends a record for each, through the
 * SDK's emission helpers and the host-owned error map. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/emit.h"
#include "vigil/bpf/maps.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0; /* set before load */
__u64 hits = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 12); /* small on purpose: the test fills it */
} counter_events SEC(".maps");

struct counter_record {
    __u64 seq;
    __u32 pid;
    __u32 pad;
};

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx)
{
    if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
        return 0;
    __u64 seq = __sync_fetch_and_add(&hits, 1);
    struct counter_record *r = evt__reserve(&counter_events, sizeof(*r));
    if (!r)
        return 0;
    r->seq = seq;
    r->pid = target_tgid;
    r->pad = 0;
    evt__submit_to(&counter_events, r, sizeof(*r)); /* wakes the reader past an eighth of the ring */
    return 0;
}
