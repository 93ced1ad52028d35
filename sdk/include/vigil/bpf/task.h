/* Readers of task_struct facts every sensor needs: thread-group ids, the pid inside the task's
 * own PID namespace, credentials, capabilities, namespaces, login uid and cgroup. All CO-RE
 * (BPF_CORE_READ), so they work from any program type and on every supported kernel. */
#ifndef VIGIL_BPF_TASK_H
#define VIGIL_BPF_TASK_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define VIGIL_PF_KTHREAD 0x00200000         /* task->flags: a kernel thread */
#define VIGIL_SIGNAL_GROUP_EXIT 0x00000004  /* signal->flags: exit_group() or a fatal signal */

/* Namespace slots, in the order of vigil_process_update.ns and Tetragon's "ns" object. */
enum vigil_ns_slot {
    VIGIL_NS_UTS = 0,
    VIGIL_NS_IPC,
    VIGIL_NS_MNT,
    VIGIL_NS_PID,
    VIGIL_NS_PID_FOR_CHILDREN,
    VIGIL_NS_NET,
    VIGIL_NS_TIME,
    VIGIL_NS_TIME_FOR_CHILDREN,
    VIGIL_NS_CGROUP,
    VIGIL_NS_USER,
    VIGIL_NS_SLOTS,
};

struct vigil_creds {
    __u32 uid, euid, gid, egid;
    __u64 cap_permitted, cap_effective, cap_inheritable;
};

/* The upid of the task's thread group in its innermost PID namespace. */
static __always_inline int task__upid(struct task_struct *task, struct upid *out)
{
    struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
    if (!pid)
        return -1;
    unsigned int level = BPF_CORE_READ(pid, level);
    /* numbers[] is a flexible array: its offset is relocated, the element size is stable. */
    return bpf_core_read(out, sizeof(*out), &pid->numbers[level]);
}

/* Thread-group id as seen from inside the task's own PID namespace; 0 if unreadable. */
static __always_inline __u32 task__nspid(struct task_struct *task)
{
    struct upid up = {};
    if (task__upid(task, &up))
        return 0;
    return up.nr;
}

/* Inode number of the task's active PID namespace; 0 if unreadable. */
static __always_inline __u32 task__pidns(struct task_struct *task)
{
    struct upid up = {};
    if (task__upid(task, &up) || !up.ns)
        return 0;
    return BPF_CORE_READ(up.ns, ns.inum);
}

/* kernel_cap_t is u32[2] before 6.3 and one u64 after; both are 8 little-endian bytes. */
static __always_inline __u64 cap__read(const kernel_cap_t *cap)
{
    __u64 v = 0;
    bpf_core_read(&v, sizeof(v), cap);
    return v;
}

static __always_inline void task__creds(struct task_struct *task, struct vigil_creds *out)
{
    const struct cred *cred = BPF_CORE_READ(task, cred);
    out->uid = BPF_CORE_READ(cred, uid.val);
    out->euid = BPF_CORE_READ(cred, euid.val);
    out->gid = BPF_CORE_READ(cred, gid.val);
    out->egid = BPF_CORE_READ(cred, egid.val);
    out->cap_permitted = cap__read(&cred->cap_permitted);
    out->cap_effective = cap__read(&cred->cap_effective);
    out->cap_inheritable = cap__read(&cred->cap_inheritable);
}

/* The audit login uid; (u32)-1 when unset or when the kernel has no audit support. */
static __always_inline __u32 task__auid(struct task_struct *task)
{
    if (!bpf_core_field_exists(task->loginuid))
        return 0xffffffff;
    return BPF_CORE_READ(task, loginuid.val);
}

/* Namespace inode numbers into ns[VIGIL_NS_SLOTS]; a namespace the kernel lacks stays 0. */
static __always_inline void task__namespaces(struct task_struct *task, __u32 *ns)
{
    struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
    if (!nsp)
        return; /* a task past exit_task_namespaces() */
    ns[VIGIL_NS_UTS] = BPF_CORE_READ(nsp, uts_ns, ns.inum);
    ns[VIGIL_NS_IPC] = BPF_CORE_READ(nsp, ipc_ns, ns.inum);
    ns[VIGIL_NS_MNT] = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
    ns[VIGIL_NS_PID] = task__pidns(task);
    ns[VIGIL_NS_PID_FOR_CHILDREN] = BPF_CORE_READ(nsp, pid_ns_for_children, ns.inum);
    ns[VIGIL_NS_NET] = BPF_CORE_READ(nsp, net_ns, ns.inum);
    if (bpf_core_field_exists(nsp->time_ns)) {
        ns[VIGIL_NS_TIME] = BPF_CORE_READ(nsp, time_ns, ns.inum);
        ns[VIGIL_NS_TIME_FOR_CHILDREN] = BPF_CORE_READ(nsp, time_ns_for_children, ns.inum);
    }
    ns[VIGIL_NS_CGROUP] = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
    ns[VIGIL_NS_USER] = BPF_CORE_READ(task, cred, user_ns, ns.inum);
}

/* The task's cgroup v2 node: its id (what bpf_get_current_cgroup_id() returns for current). */
static __always_inline __u64 task__cgroup_id(struct task_struct *task)
{
    return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
}

/* The last component of the task's cgroup v2 path, e.g. "docker-<id>.scope". */
static __always_inline const char *task__cgroup_name(struct task_struct *task)
{
    return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
}

/* kernfs_node.parent before 6.15 renamed it __parent. */
struct kernfs_node___parent {
    struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn__parent(struct kernfs_node *kn)
{
    if (bpf_core_field_exists(struct kernfs_node___parent, parent))
        return BPF_CORE_READ((struct kernfs_node___parent *)kn, parent);
    return BPF_CORE_READ(kn, __parent);
}

/* The task's cgroup in the v1 hierarchy of controller `subsys` (its cgroup_subsys_id on the
 * running kernel, which the host reads from /proc/cgroups: ids differ between kernel builds),
 * or NULL when the id is out of range. Hybrid hosts keep containers apart there. */
static __always_inline struct cgroup *task__cgroup1(struct task_struct *task, __u32 subsys)
{
    if (subsys >= bpf_core_field_size(struct css_set, subsys) / sizeof(void *))
        return NULL;
    struct css_set *cs = BPF_CORE_READ(task, cgroups);
    struct cgroup_subsys_state *css = NULL;
    bpf_core_read(&css, sizeof(css), &cs->subsys[subsys]);
    return css ? BPF_CORE_READ(css, cgroup) : NULL;
}

/* The exit status of a thread group as wait() would report it: the group's code when the
 * whole group was told to exit (exit_group, fatal signal), else the exiting thread's own. */
static __always_inline __u32 task__group_exit_code(struct task_struct *task)
{
    struct signal_struct *sig = BPF_CORE_READ(task, signal);
    unsigned int flags = BPF_CORE_READ(sig, flags);
    if (flags & VIGIL_SIGNAL_GROUP_EXIT)
        return BPF_CORE_READ(sig, group_exit_code);
    return BPF_CORE_READ(task, exit_code);
}

#endif
