/* The host-owned process map: one entry per live thread group, written by the process sensor
 * (fork/exec/exit) and by the host's /proc bootstrap, read by every plugin's selectors.
 * Shared by BPF C and C++; fixed-width types, explicit padding. Bump the layout version on any
 * change: a plugin built against another layout is refused. */
#ifndef VIGIL_WIRE_PROCESS_H
#define VIGIL_WIRE_PROCESS_H

#ifdef __BPF__
#include "vmlinux.h"
typedef __u8 vigil_u8;
typedef __u32 vigil_u32;
typedef __u64 vigil_u64;
#else
#include <stdint.h>
typedef uint8_t vigil_u8;
typedef uint32_t vigil_u32;
typedef uint64_t vigil_u64;
#endif

#define VIGIL_PROCS_MAP "vigil_procs"
#define VIGIL_PROCS_LAYOUT 1
#define VIGIL_PROCS_MAX 32768
#define VIGIL_BINARY_MAX 256

/* Process flags, the same bits in the map, the ring records and vigil_process_update.flags. */
#define VIGIL_PROC_F_EXECVE (1u << 0)        /* entry made by an exec seen live */
#define VIGIL_PROC_F_PROCFS (1u << 1)        /* entry made from /proc at start */
#define VIGIL_PROC_F_CLONE (1u << 2)         /* forked, no exec seen yet */
#define VIGIL_PROC_F_TRUNC_FILENAME (1u << 3)
#define VIGIL_PROC_F_TRUNC_ARGS (1u << 4)
#define VIGIL_PROC_F_TRUNC_CWD (1u << 5)
#define VIGIL_PROC_F_ERROR_FILENAME (1u << 6)
#define VIGIL_PROC_F_ERROR_ARGS (1u << 7)
#define VIGIL_PROC_F_ERROR_CWD (1u << 8)
#define VIGIL_PROC_F_ROOTCWD (1u << 9)
#define VIGIL_PROC_F_IN_INIT_TREE (1u << 10) /* under a PID namespace's init, or that init */
#define VIGIL_PROC_F_MISS (1u << 11)         /* parent unknown when the entry was made */
#define VIGIL_PROC_F_FILELESS (1u << 12)     /* the exec'd file has no name left: memfd or deleted */

/* Value of vigil_procs, keyed by thread-group id (u32). */
struct vigil_proc {
    vigil_u64 ktime;        /* boot-time ns of the exec (or fork, for CLONE entries) */
    vigil_u64 parent_ktime; /* the parent's ktime, 0 if unknown */
    vigil_u32 pid;
    vigil_u32 ppid;
    vigil_u32 nspid;        /* pid inside its own PID namespace */
    vigil_u32 flags;        /* VIGIL_PROC_F_* */
    vigil_u32 uid;
    vigil_u32 euid;
    vigil_u64 cgroup_id;
    vigil_u32 pidns;        /* PID namespace inode */
    vigil_u32 binary_len;   /* bytes used in binary, without NUL */
    char binary[VIGIL_BINARY_MAX]; /* full path of the executed file, NUL-terminated */
};

#endif
