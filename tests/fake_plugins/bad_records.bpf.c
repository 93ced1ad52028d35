// SPDX-License-Identifier: GPL-2.0
/* For the fake plugin whose decoder refuses every record: one record per getppid() call of one
 * process, so a test decides how many records the host hands to that decoder. And a program the
 * verifier refuses, loaded only when the plugin's config asks for it (verifier_refuses). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0; /* set before load */

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 16);
} bad_events SEC(".maps");

__u64 seq = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int bad_getppid(void *ctx)
{
    if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
        return 0;
    __u64 s = __sync_fetch_and_add(&seq, 1);
    bpf_ringbuf_output(&bad_events, &s, sizeof(s), 0);
    return 0;
}

struct {
    __uint(type, BPF_MAP_TYPE_HASH); /* a hash lookup may miss on every kernel */
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} bad_counts SEC(".maps");

/* Uses a map value without checking it for NULL: "invalid mem access 'map_value_or_null'". */
SEC("tracepoint/syscalls/sys_enter_getppid")
int bad_unchecked(void *ctx)
{
    __u32 key = 0;
    __u64 *v = bpf_map_lookup_elem(&bad_counts, &key);
    *v += 1;
    return 0;
}
