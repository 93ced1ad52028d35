// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle sensor: fork, exec and exit of thread groups from the sched tracepoints.
 * Keeps vigil_procs in step with the kernel and tells the host through process_events, so the
 * host's process cache and every plugin's selectors see the same processes.
 *
 * Each hook has a tp_btf and a raw_tp entry with the same body (all reads are CO-RE probe
 * reads, which both program types allow); the plugin loads the one the kernel supports. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vigil/bpf/emit.h"
#include "vigil/bpf/maps.h"
#include "vigil/bpf/path.h"
#include "vigil/bpf/process.h"
#include "vigil/bpf/task.h"
#include "records.h"

char LICENSE[] SEC("license") = "GPL";

/* Inode of vigild's PID namespace, set before load: in_init_tree is only for other namespaces. */
const volatile __u32 host_pidns = 0;

/* cgroup_subsys_id of the v1 controller whose cgroup names a task at the v2 root (hybrid
 * hosts), from /proc/cgroups; (u32)-1 when every controller is on cgroup v2. */
const volatile __u32 cgrp1_subsys = (__u32)-1;

/* lifecycle records for the host (exec, clone, exit); size set by the plugin before load */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 21);
} process_events SEC(".maps");

/* Upper bound of the variable parts of an exec record, and where the args part may start. */
#define EXEC_ARGS_POS_MAX (TP_BINARY_MAX + TP_CWD_MAX + TP_CGROUP_PART_MAX)
#define EXEC_DATA_MAX (EXEC_ARGS_POS_MAX + TP_ARGS_MAX)

/* An exec record is assembled here, then copied into the ring with its real size: a record
 * reserved at its maximum size would waste most of the ring on every exec. */
struct exec_scratch {
    struct tp_exec_record rec;
    char data[EXEC_DATA_MAX]; /* must follow rec directly: rec + data go out as one record */
    char path[VIGIL_PATH_BUF];
    struct vigil_proc proc;
};

static const char deleted_suffix[] = " (deleted)";

struct path_walk {
    char buf[VIGIL_PATH_BUF];
};

/* path__resolve as a global function: the verifier checks it once, not at each of the exec
 * program's two call sites (the exec'd file and the cwd), which together took the program past
 * 6.1's one million instructions (found by the kernel matrix). Kernel pointers are passed as
 * integers in a struct (at most five arguments, and a global function takes only integers and
 * memory of a known size). */
struct path_req {
    __u64 dentry, mnt, root_dentry, root_mnt; /* in */
    struct vigil_path_res res;                /* out */
};

__noinline int exec__resolve(struct path_req *req, struct path_walk *w)
{
    if (!req || !w)
        return 0;
    path__resolve((struct dentry *)req->dentry, (struct vfsmount *)req->mnt, (struct dentry *)req->root_dentry,
                  (struct vfsmount *)req->root_mnt, w->buf, &req->res);
    return 0;
}
#define DELETED_SUFFIX_LEN (sizeof(deleted_suffix) - 1)

/* per-CPU work area for exec records and vigil_procs values (too big for the BPF stack) */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct exec_scratch);
} exec_heap SEC(".maps");

/* tgid -> start time of the thread group that reported its exit. sched_process_exit fires for
 * every thread after it left signal->live, so threads exiting together can each see no live
 * thread left; the one that claims the exit here reports it. Keyed by start time too, so a
 * reused pid is a new claim; LRU, because a claim is only needed while its threads exit. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8192);
    __type(key, __u32);
    __type(value, __u64);
} exit_claims SEC(".maps");

/* 1 when this thread is the one to report its thread group's exit. */
static __always_inline int claim_exit(__u32 tgid, __u64 start)
{
    __u64 *claimed = bpf_map_lookup_elem(&exit_claims, &tgid);
    if (!claimed) {
        if (bpf_map_update_elem(&exit_claims, &tgid, &start, BPF_NOEXIST) == 0)
            return 1;
        claimed = bpf_map_lookup_elem(&exit_claims, &tgid);
        if (!claimed)
            return 0; /* claimed and already pushed out: not ours */
    }
    __u64 old = *claimed;
    if (old == start)
        return 0;
    /* a claim left by an earlier process with this pid */
    return __sync_val_compare_and_swap(claimed, old, start) == old;
}

/* Bounds a length again right where it is used: with 32-bit subregisters (-mcpu=v3) clang may
 * otherwise hand a helper a register copied before an earlier check, which the verifier
 * rejects as unbounded. */
#define clamp_len(v, max)                                                                          \
    do {                                                                                           \
        barrier_var(v);                                                                            \
        if ((v) > (max))                                                                           \
            (v) = (max);                                                                           \
    } while (0)

/* Whether a task is in its PID namespace's init tree: it is that namespace's init, or it was
 * forked there by a process that is. Never true in vigild's own namespace. */
static __always_inline int in_init_tree(__u32 pidns, __u32 nspid, const struct vigil_proc *parent)
{
    if (pidns == 0 || pidns == host_pidns)
        return 0;
    if (nspid == 1)
        return 1;
    return parent && (parent->flags & VIGIL_PROC_F_IN_INIT_TREE) && parent->pidns == pidns;
}

/* Copies the first bytes of an exec's binary into its vigil_procs value, NUL-padded so the
 * value can be compared or hashed as a whole. */
static __always_inline void proc__set_binary(struct vigil_proc *p, const char *bin, __u32 len)
{
    __builtin_memset(p->binary, 0, sizeof(p->binary));
    if (len > VIGIL_BINARY_MAX - 1) {
        len = VIGIL_BINARY_MAX - 1;
        p->flags |= VIGIL_PROC_F_TRUNC_FILENAME;
    }
    p->binary_len = len;
    clamp_len(len, VIGIL_BINARY_MAX - 1);
    bpf_probe_read_kernel(p->binary, len, bin);
}

static __always_inline int on_exec(struct task_struct *task, struct linux_binprm *bprm)
{
    if (self__current())
        return 0;
    __u32 zero = 0;
    struct exec_scratch *s = bpf_map_lookup_elem(&exec_heap, &zero);
    if (!s)
        return 0;
    struct tp_exec_record *r = &s->rec;
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    __u32 flags = VIGIL_PROC_F_EXECVE;

    r->hdr.kind = TP_REC_EXEC;
    r->ktime = bpf_ktime_get_boot_ns();
    r->pid = tgid;
    r->tid = (__u32)id;
    r->ppid = BPF_CORE_READ(task, real_parent, tgid);
    r->nspid = task__nspid(task);
    struct vigil_creds c = {};
    task__creds(task, &c);
    r->uid = c.uid;
    r->euid = c.euid;
    r->gid = c.gid;
    r->egid = c.egid;
    r->cap_permitted = c.cap_permitted;
    r->cap_effective = c.cap_effective;
    r->cap_inheritable = c.cap_inheritable;
    r->auid = task__auid(task);
    __builtin_memset(r->ns, 0, sizeof(r->ns));
    task__namespaces(task, r->ns);
    r->cgroup_id = bpf_get_current_cgroup_id();

    struct vigil_proc *parent = proc__lookup(r->ppid);
    r->parent_ktime = parent ? parent->ktime : 0;
    if (!parent)
        flags |= VIGIL_PROC_F_MISS;
    /* in_init_tree survives exec: it is about where the process was forked */
    struct vigil_proc *prev = proc__lookup(tgid);
    __u32 pidns = r->ns[VIGIL_NS_PID];
    if ((prev && (prev->flags & VIGIL_PROC_F_IN_INIT_TREE) && prev->pidns == pidns) ||
        in_init_tree(pidns, r->nspid, parent))
        flags |= VIGIL_PROC_F_IN_INIT_TREE;

    /* An exec through a file descriptor (fexecve names it /dev/fd/N) or a /proc magic link names
     * no file, and a memfd or a deleted file has no name left: the binary is the file the kernel
     * runs, as /proc/PID/exe shows it, and a file without links is flagged fileless. Resolved
     * into s->path before the cwd needs it. */
    struct fs_struct *fs = BPF_CORE_READ(task, fs);
    struct dentry *root_dentry = BPF_CORE_READ(fs, root.dentry);
    struct vfsmount *root_mnt = BPF_CORE_READ(fs, root.mnt);
    const char *filename = BPF_CORE_READ(bprm, filename);
    struct file *file = BPF_CORE_READ(bprm, file);
    __u32 nlink = BPF_CORE_READ(file, f_inode, i_nlink);
    __u64 head = 0;
    bpf_probe_read_kernel(&head, sizeof(head), filename);
    /* "/dev/fd/" and "/proc/" as little-endian words */
    int via_fd = head == 0x2f64662f7665642full || (head & 0xffffffffffffull) == 0x2f636f72702full;
    __u32 file_len = 0;
    if (nlink == 0)
        flags |= VIGIL_PROC_F_FILELESS;
    if (nlink == 0 || via_fd) {
        struct dentry *fd_dentry = BPF_CORE_READ(file, f_path.dentry);
        if (BPF_CORE_READ(fd_dentry, d_parent) == fd_dentry) {
            /* a pseudo file (memfd:NAME): no directory, its name alone */
            s->data[0] = '/';
            long n = bpf_probe_read_kernel_str(s->data + 1, TP_BINARY_MAX - DELETED_SUFFIX_LEN - 1,
                                               BPF_CORE_READ(fd_dentry, d_name.name));
            file_len = n > 0 ? (__u32)n : 1;
        } else {
            struct path_req req = {(__u64)fd_dentry, (__u64)BPF_CORE_READ(file, f_path.mnt), (__u64)root_dentry,
                                   (__u64)root_mnt};
            exec__resolve(&req, (struct path_walk *)s->path);
            struct vigil_path_res fr = req.res;
            __u32 start = fr.start & (VIGIL_PATH_MAX - 1);
            file_len = fr.len & (VIGIL_PATH_MAX - 1);
            clamp_len(file_len, TP_BINARY_MAX - DELETED_SUFFIX_LEN - 1);
            bpf_probe_read_kernel(s->data, file_len, s->path + start);
            if (fr.flags & VIGIL_PATH_F_TRUNC)
                flags |= VIGIL_PROC_F_TRUNC_FILENAME;
        }
        clamp_len(file_len, TP_BINARY_MAX - DELETED_SUFFIX_LEN - 1);
        if (nlink == 0) {
            bpf_probe_read_kernel(s->data + file_len, DELETED_SUFFIX_LEN, deleted_suffix);
            file_len += DELETED_SUFFIX_LEN;
        }
        if (!file_len)
            file_len = 1; /* "/": never read as "no file" below */
    }

    /* cwd, into s->path */
    struct path_req cwd_req = {(__u64)BPF_CORE_READ(fs, pwd.dentry), (__u64)BPF_CORE_READ(fs, pwd.mnt),
                               (__u64)root_dentry, (__u64)root_mnt};
    exec__resolve(&cwd_req, (struct path_walk *)s->path);
    struct vigil_path_res cwd = cwd_req.res;
    if (cwd.flags & VIGIL_PATH_F_TRUNC)
        flags |= VIGIL_PROC_F_TRUNC_CWD;
    if (cwd.flags & VIGIL_PATH_F_ERROR)
        flags |= VIGIL_PROC_F_ERROR_CWD;
    if (cwd.len == 1)
        flags |= VIGIL_PROC_F_ROOTCWD;
    __u32 cwd_start = cwd.start & (VIGIL_PATH_MAX - 1);
    __u32 cwd_len = cwd.len & (VIGIL_PATH_MAX - 1);

    /* binary: the file name given to execve (as Tetragon reports it), made absolute with the
     * cwd when it is relative */
    __u32 pos = 0;
    char first[2] = {};
    bpf_probe_read_kernel(first, sizeof(first), filename);
    if (!file_len && first[0] != '/' && !(cwd.flags & VIGIL_PATH_F_ERROR)) {
        bpf_probe_read_kernel(s->data, cwd_len, s->path + cwd_start);
        pos = cwd_len;
        if (cwd_len > 1 && pos < TP_BINARY_MAX) {
            s->data[pos & (TP_BINARY_MAX - 1)] = '/';
            pos++;
        }
        if (first[0] == '.' && first[1] == '/')
            filename += 2;
    }
    __u32 binary_len = 0;
    if (file_len) {
        binary_len = file_len;
    } else if (pos < TP_BINARY_MAX - 1) {
        __u32 room = TP_BINARY_MAX - pos;
        long n = bpf_probe_read_kernel_str(s->data + pos, room, filename);
        if (n <= 0) {
            flags |= VIGIL_PROC_F_ERROR_FILENAME;
            errors__count(VIGIL_ERR_PROBE_READ);
        } else {
            binary_len = pos + (__u32)n - 1;
            if ((__u32)n == room) {
                char next = 0;
                bpf_probe_read_kernel(&next, 1, filename + n - 1);
                if (next)
                    flags |= VIGIL_PROC_F_TRUNC_FILENAME;
            }
        }
    } else {
        flags |= VIGIL_PROC_F_TRUNC_FILENAME;
        binary_len = pos;
    }
    if (binary_len > TP_BINARY_MAX)
        binary_len = TP_BINARY_MAX;

    pos = binary_len;

    /* cwd. The bounds checks before each part cannot fail (each part is bounded above); they
     * give the verifier the ranges it needs for the variable-offset writes. */
    if (pos > TP_BINARY_MAX)
        return 0;
    bpf_probe_read_kernel(s->data + pos, cwd_len, s->path + cwd_start);
    pos += cwd_len;

    /* cgroup: the v2 one, or on a hybrid host for a task at the v2 root the v1 controller's;
     * its name and its parent's, which is where runtimes put the pod */
    struct cgroup *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
    int level = BPF_CORE_READ(cg, level);
    __u32 cgroup_flags = 0;
    r->cgroup1_id = 0;
    struct cgroup *cg1 = task__cgroup1(task, cgrp1_subsys);
    if (cg1) {
        r->cgroup1_id = BPF_CORE_READ(cg1, kn, id);
        int level1 = BPF_CORE_READ(cg1, level);
        if (level == 0 && level1 > 0) {
            cg = cg1;
            level = level1;
            cgroup_flags |= TP_CGROUP_F_V1;
        }
    }
    struct kernfs_node *kn = BPF_CORE_READ(cg, kn);
    __u32 cgroup_name_len = 0;
    if (pos > TP_BINARY_MAX + TP_CWD_MAX)
        return 0;
    if (level >= 2) {
        struct kernfs_node *pkn = kn__parent(kn);
        long n = bpf_probe_read_kernel_str(s->data + pos, TP_CGROUP_NAME_MAX, BPF_CORE_READ(pkn, name));
        if (n > 0)
            cgroup_name_len = (__u32)n - 1;
        clamp_len(cgroup_name_len, TP_CGROUP_NAME_MAX - 1);
        __u32 slash = pos + cgroup_name_len;
        if (slash < EXEC_DATA_MAX)
            s->data[slash] = '/';
        cgroup_name_len++;
    }
    if (level >= 1) {
        clamp_len(cgroup_name_len, TP_CGROUP_NAME_MAX);
        long n = bpf_probe_read_kernel_str(s->data + pos + cgroup_name_len, TP_CGROUP_NAME_MAX,
                                           BPF_CORE_READ(kn, name));
        if (n > 0)
            cgroup_name_len += (__u32)n - 1;
    }
    clamp_len(cgroup_name_len, TP_CGROUP_PART_MAX);
    pos += cgroup_name_len;

    /* arguments after argv[0], straight from the new image's stack */
    __u32 args_len = 0;
    struct mm_struct *mm = BPF_CORE_READ(task, mm);
    unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
    unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
    if (pos > EXEC_ARGS_POS_MAX)
        return 0;
    if (arg_start && arg_end > arg_start) {
        long argv0 = bpf_probe_read_user_str(s->path, VIGIL_PATH_MAX, (const void *)arg_start);
        if (argv0 <= 0 || argv0 == VIGIL_PATH_MAX) {
            flags |= VIGIL_PROC_F_ERROR_ARGS;
        } else if (arg_start + argv0 < arg_end) {
            unsigned long total = arg_end - (arg_start + argv0);
            if (total > TP_ARGS_MAX) {
                total = TP_ARGS_MAX;
                flags |= VIGIL_PROC_F_TRUNC_ARGS;
            }
            args_len = total;
            clamp_len(args_len, TP_ARGS_MAX);
            if (bpf_probe_read_user(s->data + pos, args_len, (const void *)(arg_start + argv0))) {
                flags |= VIGIL_PROC_F_ERROR_ARGS;
                args_len = 0;
            }
        }
    }
    pos += args_len;

    r->flags = flags;
    r->binary_len = binary_len;
    r->cwd_len = cwd_len;
    r->cgroup_name_len = cgroup_name_len;
    r->cgroup_level = level > 0 ? (__u32)level : 0;
    r->cgroup_flags = cgroup_flags;
    r->args_len = args_len;
    r->hdr.size = sizeof(*r) + pos;

    struct vigil_proc *p = &s->proc;
    p->ktime = r->ktime;
    p->parent_ktime = r->parent_ktime;
    p->pid = tgid;
    p->ppid = r->ppid;
    p->nspid = r->nspid;
    p->flags = flags;
    p->uid = c.uid;
    p->euid = c.euid;
    p->cgroup_id = r->cgroup_id;
    p->pidns = pidns;
    proc__set_binary(p, s->data, binary_len);
    if (bpf_map_update_elem(&vigil_procs, &tgid, p, BPF_ANY))
        errors__count(VIGIL_ERR_MAP_UPDATE);

    if (pos > EXEC_DATA_MAX)
        return 0;
    evt__output(&process_events, r, sizeof(*r) + pos);
    return 0;
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child)
{
    __u32 tgid = BPF_CORE_READ(child, tgid);
    if (BPF_CORE_READ(child, pid) != tgid)
        return 0; /* a new thread, not a new process */
    if (BPF_CORE_READ(child, flags) & VIGIL_PF_KTHREAD)
        return 0;

    __u32 zero = 0;
    struct exec_scratch *s = bpf_map_lookup_elem(&exec_heap, &zero);
    if (!s)
        return 0;
    struct vigil_proc *p = &s->proc;
    __u32 ptgid = BPF_CORE_READ(parent, tgid);
    struct vigil_proc *pp = proc__lookup(ptgid);
    __u32 flags;
    if (pp) {
        /* the child runs the parent's binary until it execs */
        __builtin_memcpy(p, pp, sizeof(*p));
        flags = (pp->flags & ~(VIGIL_PROC_F_IN_INIT_TREE | VIGIL_PROC_F_MISS)) | VIGIL_PROC_F_CLONE;
    } else {
        __builtin_memset(p, 0, sizeof(*p));
        flags = VIGIL_PROC_F_CLONE | VIGIL_PROC_F_MISS;
    }
    __u64 now = bpf_ktime_get_boot_ns();
    __u32 nspid = task__nspid(child);
    __u32 pidns = task__pidns(child);
    if (in_init_tree(pidns, nspid, pp))
        flags |= VIGIL_PROC_F_IN_INIT_TREE;
    p->ktime = now;
    p->parent_ktime = pp ? pp->ktime : 0;
    p->pid = tgid;
    p->ppid = ptgid;
    p->nspid = nspid;
    p->pidns = pidns;
    p->flags = flags;
    p->cgroup_id = task__cgroup_id(child);
    if (bpf_map_update_elem(&vigil_procs, &tgid, p, BPF_ANY))
        errors__count(VIGIL_ERR_MAP_UPDATE);
    /* vigild's children (its jq workers) are in the map like any process; the fork itself is
     * vigild's doing and not reported */
    if (self__is(ptgid))
        return 0;

    struct tp_clone_record *r = evt__reserve(&process_events, sizeof(*r));
    if (!r)
        return 0;
    r->hdr.kind = TP_REC_CLONE;
    r->hdr.size = sizeof(*r);
    r->ktime = now;
    r->parent_ktime = pp ? pp->ktime : 0;
    r->pid = tgid;
    r->tid = BPF_CORE_READ(parent, pid);
    r->ppid = ptgid;
    r->nspid = nspid;
    r->flags = flags;
    r->pad = 0;
    evt__submit_to(&process_events, r, sizeof(*r));
    return 0;
}

static __always_inline int on_exit(struct task_struct *task)
{
    if (BPF_CORE_READ(task, flags) & VIGIL_PF_KTHREAD)
        return 0;
    /* The tracepoint fires for every thread, after do_exit() took the thread off
     * signal->live: only a thread that sees no live thread left ends the process. */
    if (BPF_CORE_READ(task, signal, live.counter) != 0)
        return 0;
    __u32 tgid = BPF_CORE_READ(task, tgid);
    /* exec keeps the group's start time (de_thread() copies it to the new leader) */
    if (!claim_exit(tgid, BPF_CORE_READ(task, group_leader, start_time)))
        return 0;
    __u64 proc_ktime = 0;
    __u32 flags = 0;
    struct vigil_proc *p = proc__lookup(tgid);
    if (p) {
        proc_ktime = p->ktime;
        flags = p->flags;
        if (bpf_map_delete_elem(&vigil_procs, &tgid))
            errors__count(VIGIL_ERR_MAP_DELETE);
    } else {
        flags = VIGIL_PROC_F_MISS;
        errors__count(VIGIL_ERR_PROC_MISS);
    }
    if (self__is(tgid))
        return 0;

    struct tp_exit_record *r = evt__reserve(&process_events, sizeof(*r));
    if (!r)
        return 0;
    r->hdr.kind = TP_REC_EXIT;
    r->hdr.size = sizeof(*r);
    r->ktime = bpf_ktime_get_boot_ns();
    r->proc_ktime = proc_ktime;
    r->pid = tgid;
    r->tid = BPF_CORE_READ(task, pid);
    r->exit_code = task__group_exit_code(task);
    r->flags = flags;
    evt__submit_to(&process_events, r, sizeof(*r));
    return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
    return on_exec(task, bprm);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf_fork, struct task_struct *parent, struct task_struct *child)
{
    return on_fork(parent, child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_exit, struct task_struct *task)
{
    return on_exit(task);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_tp_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
    return on_exec(task, bprm);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_tp_fork, struct task_struct *parent, struct task_struct *child)
{
    return on_fork(parent, child);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_tp_exit, struct task_struct *task)
{
    return on_exit(task);
}
