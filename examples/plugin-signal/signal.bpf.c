// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "vigil/bpf/emit.h"
#include "vigil/bpf/process.h"
#include "signal_record.h"

char LICENSE[] SEC("license") = "GPL";

const volatile int only_signal = 0; /* [config] signal, set before load; 0: every signal */

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20); /* resized from [config] ring_mb before load */
} signal_events SEC(".maps");

SEC("tp_btf/signal_generate")
int BPF_PROG(signal_send, int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result)
{
    if ((only_signal && sig != only_signal) || self__current())
        return 0;
    struct signal_record *r = evt__reserve(&signal_events, sizeof(*r));
    if (!r)
        return 0;
    __u64 id = bpf_get_current_pid_tgid();
    *r = (struct signal_record){.ktime = bpf_ktime_get_boot_ns(), .proc_ktime = proc__ktime(id >> 32),
                                .target_proc_ktime = proc__ktime(task->tgid), .pid = id >> 32, .tid = (__u32)id,
                                .target_pid = task->tgid, .sig = sig, .result = result};
    evt__submit(r);
    return 0;
}
