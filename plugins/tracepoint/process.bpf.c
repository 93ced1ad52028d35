// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle sensor. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "vigil/bpf/emit.h"
#include "vigil/bpf/maps.h"
#include "records.h"

char LICENSE[] SEC("license") = "GPL";

/* lifecycle records for the host (exec, exit, clone) */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 22);
} process_events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct trace_event_raw_sched_process_exec *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct tp_exec_record *r = evt__reserve(&process_events, sizeof(*r));
    if (!r)
        return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    r->hdr.kind = TP_REC_EXEC;
    r->hdr.size = sizeof(*r);
    r->ktime = bpf_ktime_get_boot_ns();
    r->parent_ktime = 0;
    r->pid = id >> 32;
    r->tid = (__u32)id;
    r->ppid = BPF_CORE_READ(task, real_parent, tgid);
    r->uid = (__u32)bpf_get_current_uid_gid();
    r->flags = VIGIL_PROC_F_EXECVE;
    unsigned int off = ctx->__data_loc_filename & 0xFFFF;
    long n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), (void *)ctx + off);
    if (n < 0) {
        errors__count(VIGIL_ERR_PROBE_READ);
        r->flags |= VIGIL_PROC_F_ERROR_FILENAME;
        n = 1;
        r->filename[0] = 0;
    }
    r->filename_len = n - 1;
    evt__submit(r);
    return 0;
}
