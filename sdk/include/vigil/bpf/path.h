/* Path resolution without bpf_d_path (not allowed from tracepoints): a bounded walk from a
 * dentry up to the task's root, crossing mount points, that prepends each name into a buffer.
 * A path deeper than VIGIL_PATH_DEPTH components or longer than VIGIL_PATH_MAX bytes keeps its
 * deepest part and is reported truncated; callers turn that into a flag in the event. */
#ifndef VIGIL_BPF_PATH_H
#define VIGIL_BPF_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define VIGIL_PATH_MAX 4096 /* power of two: offsets are masked with VIGIL_PATH_MAX - 1 */
#define VIGIL_PATH_DEPTH 64
/* A walk buffer: the path is built backwards in its first half; the second half only exists
 * so that every masked write stays inside the buffer in the verifier's eyes. */
#define VIGIL_PATH_BUF (2 * VIGIL_PATH_MAX)

#define VIGIL_PATH_F_TRUNC 1u /* longer or deeper than the limits: only the deepest part kept */
#define VIGIL_PATH_F_ERROR 2u /* a name could not be read */

struct vigil_path_res {
    __u32 start; /* the path is buf[start, start + len) */
    __u32 len;
    __u32 flags; /* VIGIL_PATH_F_* */
};

static __always_inline struct mount *path__real_mount(struct vfsmount *vfsmnt)
{
    return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* Resolves (dentry, vfsmnt) relative to (root_dentry, root_mnt) into buf[VIGIL_PATH_BUF]. */
static __always_inline void path__resolve(struct dentry *dentry, struct vfsmount *vfsmnt,
                                          struct dentry *root_dentry, struct vfsmount *root_mnt,
                                          char *buf, struct vigil_path_res *res)
{
    struct mount *mnt = path__real_mount(vfsmnt);
    __u32 pos = VIGIL_PATH_MAX - 1;
    __u32 flags = 0;
    int done = 0;

#pragma clang loop unroll(disable)
    for (int i = 0; i < VIGIL_PATH_DEPTH; i++) {
        /* an imprecise pos lets the verifier prune iterations instead of walking each path */
        pos &= VIGIL_PATH_MAX - 1;
        if (dentry == root_dentry && vfsmnt == root_mnt) {
            done = 1;
            break;
        }
        struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
        struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
        if (dentry == mnt_root || dentry == parent) {
            struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
            /* the root of the mount tree, or a dentry cut off from it */
            if (dentry != mnt_root || mnt_parent == mnt) {
                done = 1;
                break;
            }
            dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
            mnt = mnt_parent;
            vfsmnt = (struct vfsmount *)((void *)mnt + bpf_core_field_offset(struct mount, mnt));
            continue;
        }
        __u32 len = BPF_CORE_READ(dentry, d_name.len);
        const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
        if (len + 1 > pos) {
            flags |= VIGIL_PATH_F_TRUNC;
            done = 1;
            break;
        }
        pos -= len;
        if (bpf_probe_read_kernel(buf + (pos & (VIGIL_PATH_MAX - 1)), len & (VIGIL_PATH_MAX - 1), name))
            flags |= VIGIL_PATH_F_ERROR;
        pos -= 1;
        buf[pos & (VIGIL_PATH_MAX - 1)] = '/';
        dentry = parent;
    }
    if (!done)
        flags |= VIGIL_PATH_F_TRUNC;
    if (pos == VIGIL_PATH_MAX - 1) {
        pos -= 1;
        buf[pos & (VIGIL_PATH_MAX - 1)] = '/';
    }
    res->start = pos;
    res->len = VIGIL_PATH_MAX - 1 - pos;
    res->flags = flags;
}

#endif
