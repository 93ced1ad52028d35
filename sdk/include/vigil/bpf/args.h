/* Argument readers for policy hooks: each turns one raw function or syscall argument into a
 * selector input slot (vigil/bpf/selectors.h), from which hook__emit sends it. A read that fails
 * leaves the slot empty (VSEL_ARG_NONE): the event shows an error for it and no filter matches
 * it, so a failed read never passes for a value.
 *
 * Layered on selectors.h; the raw values come from the plugin (registers, tracepoint record
 * fields, bpf_get_func_arg). */
#ifndef VIGIL_BPF_ARGS_H
#define VIGIL_BPF_ARGS_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/path.h"
#include "vigil/bpf/selectors.h"
#include "vigil/wire/args.h"

/* An integer of `size` bytes from a 64-bit register or field: the bits above a narrower type
 * are not defined by the calling convention, so they are dropped and the value re-extended. */
static __always_inline __s64 args__int(__u64 raw, __u32 size, int is_signed)
{
    switch (size) {
    case 1:
        return is_signed ? (__s64)(__s8)raw : (__s64)(__u8)raw;
    case 2:
        return is_signed ? (__s64)(__s16)raw : (__s64)(__u16)raw;
    case 4:
        return is_signed ? (__s64)(__s32)raw : (__s64)(__u32)raw;
    }
    return (__s64)raw;
}

/* A buffer of `len` bytes (char_buf): its first min(len, VSEL_STR_MAX) bytes go into slot i and
 * `len` itself is kept as the argument's length, so a longer buffer travels flagged truncated
 * with its original size. Returns the bytes read or <0. */
static __always_inline long args__read_buf(struct vsel_input *in, __u32 i, const void *src, __u64 len, int user)
{
    if (i >= VSEL_MAX_ARGS)
        return -1;
    __builtin_memset(in->str[i].data, 0, VSEL_STR_MAX);
    /* 64-bit and bounded right before the call: 6.1 loses bounds of 32-bit copies */
    __u64 n = len > VSEL_STR_MAX ? VSEL_STR_MAX : len;
    asm volatile("" : "+r"(n));
    if (n > VSEL_STR_MAX)
        n = VSEL_STR_MAX;
    long err = 0;
    if (n)
        err = user ? bpf_probe_read_user(in->str[i].data, n, src) : bpf_probe_read_kernel(in->str[i].data, n, src);
    if (err) {
        errors__count(VIGIL_ERR_PROBE_READ);
        sel__clear_arg(in, i);
        return err;
    }
    sel__set_str_len(in, i, len > 0x7fffffff ? 0x7fffffff : (__u32)len);
    return n;
}

/* struct filename * (the kernel's copy of a path a syscall got): its name. */
static __always_inline long args__read_filename(struct vsel_input *in, __u32 i, struct filename *f)
{
    const char *name = 0;
    if (!f || bpf_core_read(&name, sizeof(name), &f->name) || !name) {
        errors__count(VIGIL_ERR_PROBE_READ);
        sel__clear_arg(in, i);
        return -1;
    }
    return sel__read_str(in, i, name, 0);
}

/* struct cred *: ids and capability sets as a struct vigil_cred_arg in slot i's bytes. */
static __always_inline long args__read_cred(struct vsel_input *in, __u32 i, const struct cred *c)
{
    if (i >= VSEL_MAX_ARGS)
        return -1;
    struct vigil_cred_arg *out = (struct vigil_cred_arg *)in->str[i].data;
    __builtin_memset(in->str[i].data, 0, VSEL_STR_MAX);
    if (!c) {
        sel__clear_arg(in, i);
        return -1;
    }
    /* Every read goes through probe_read: a bad pointer fails here instead of faulting. */
    long err = 0;
    err |= bpf_core_read(&out->uid, 4, &c->uid);
    err |= bpf_core_read(&out->gid, 4, &c->gid);
    err |= bpf_core_read(&out->suid, 4, &c->suid);
    err |= bpf_core_read(&out->sgid, 4, &c->sgid);
    err |= bpf_core_read(&out->euid, 4, &c->euid);
    err |= bpf_core_read(&out->egid, 4, &c->egid);
    err |= bpf_core_read(&out->fsuid, 4, &c->fsuid);
    err |= bpf_core_read(&out->fsgid, 4, &c->fsgid);
    err |= bpf_core_read(&out->securebits, 4, &c->securebits);
    /* kernel_cap_t is u32[2] before 6.3 and u64 after: 8 bytes, low bits first, either way. */
    err |= bpf_core_read(&out->cap_inheritable, 8, &c->cap_inheritable);
    err |= bpf_core_read(&out->cap_permitted, 8, &c->cap_permitted);
    err |= bpf_core_read(&out->cap_effective, 8, &c->cap_effective);
    err |= bpf_core_read(&out->cap_bset, 8, &c->cap_bset);
    err |= bpf_core_read(&out->cap_ambient, 8, &c->cap_ambient);
    struct user_namespace *ns = 0;
    err |= bpf_core_read(&ns, sizeof(ns), &c->user_ns);
    if (ns)
        err |= bpf_core_read(&out->user_ns_level, 4, &ns->level);
    if (err) {
        errors__count(VIGIL_ERR_PROBE_READ);
        sel__clear_arg(in, i);
        return -1;
    }
    sel__set_str_len(in, i, sizeof(*out));
    return sizeof(*out);
}

/* The path of (dentry, mnt) as the current task sees it, into slot i. The slot gets the path's
 * first VSEL_STR_MAX bytes, so Prefix filters compare its real start, and its full length, so a
 * longer path travels flagged truncated. A path deeper or longer than the walk's limits has no
 * known start: it is an error, not a partial value. A NULL mnt gives the path inside the dentry's
 * file system. `buf` is VIGIL_PATH_BUF bytes of scratch. */
static __always_inline long args__read_path(struct vsel_input *in, __u32 i, struct dentry *dentry,
                                            struct vfsmount *mnt, char *buf)
{
    if (i >= VSEL_MAX_ARGS)
        return -1;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct fs_struct *fs = BPF_CORE_READ(task, fs);
    struct vigil_path_res res = {};
    if (dentry)
        path__resolve(dentry, mnt, BPF_CORE_READ(fs, root.dentry), BPF_CORE_READ(fs, root.mnt), buf, &res);
    if (!dentry || (res.flags & (VIGIL_PATH_F_ERROR | VIGIL_PATH_F_TRUNC))) {
        errors__count(VIGIL_ERR_PROBE_READ);
        sel__clear_arg(in, i);
        return -1;
    }
    __builtin_memset(in->str[i].data, 0, VSEL_STR_MAX);
    __u64 n = res.len < VSEL_STR_MAX ? res.len : VSEL_STR_MAX;
    asm volatile("" : "+r"(n));
    if (n > VSEL_STR_MAX)
        n = VSEL_STR_MAX;
    if (bpf_probe_read_kernel(in->str[i].data, n, buf + (res.start & (VIGIL_PATH_MAX - 1)))) {
        sel__clear_arg(in, i);
        return -1;
    }
    sel__set_str_len(in, i, res.len);
    return res.len;
}

/* The path (dentry, mnt) of a struct file *; zeroed when unreadable. Callers gather the
 * (dentry, mnt) of every path-like type first and call args__read_path once: each inlined walk
 * costs the verifier its 64 iterations. */
static __always_inline void args__file_path(struct file *f, struct path *out)
{
    if (!f || bpf_core_read(out, sizeof(*out), &f->f_path))
        __builtin_memset(out, 0, sizeof(*out));
}

/* The struct file * the current task has open at `fd`, or NULL. */
static __always_inline struct file *args__fd_file(__s64 fd)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
    unsigned int max = BPF_CORE_READ(fdt, max_fds);
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = 0;
    if (fd < 0 || fd >= max || !fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
        return 0;
    return f;
}

#endif
