/* Records the tracepoint plugin's BPF programs send to its decoder (decode.hpp). Shared by BPF
 * C and C++: fixed-width types, explicit padding; sizes and offsets are checked with
 * static_assert in decode.hpp. Every record starts with tp_record_header; variable-length parts
 * follow the fixed part with their lengths stated in it, so nothing is cut silently. */
#ifndef VIGIL_TRACEPOINT_RECORDS_H
#define VIGIL_TRACEPOINT_RECORDS_H

#include "vigil/wire/process.h"

#define TP_RING_PROCESS 0 /* ring id of the process lifecycle ring */

/* Bounds of the variable parts of an exec record; longer values are cut and flagged. */
#define TP_BINARY_MAX 4096      /* VIGIL_PROC_F_TRUNC_FILENAME */
#define TP_CWD_MAX 4096         /* VIGIL_PROC_F_TRUNC_CWD */
#define TP_CGROUP_NAME_MAX 256  /* per name: a cgroup name is a directory name, at most 255 bytes */
#define TP_CGROUP_PART_MAX (2 * TP_CGROUP_NAME_MAX) /* "parent/leaf" */
#define TP_ARGS_MAX 8192        /* VIGIL_PROC_F_TRUNC_ARGS */

/* Which cgroup an exec record names: the v2 one, unless the task sits at the v2 root on a
 * hybrid host, where the v1 controller's cgroup says more (runtimes that do not join the
 * unified hierarchy). */
#define TP_CGROUP_F_V1 (1u << 0) /* cgroup_name and cgroup_level are of the v1 cgroup */

enum tp_record_kind {
    TP_REC_EXEC = 1,
    TP_REC_CLONE = 2,
    TP_REC_EXIT = 3,
};

struct tp_record_header {
    vigil_u32 kind; /* enum tp_record_kind */
    vigil_u32 size; /* bytes of the whole record, variable parts included */
};

/* A successful execve: the thread group got a new key (pid, ktime). */
struct tp_exec_record {
    struct tp_record_header hdr;
    vigil_u64 ktime;           /* boot-time ns of the exec: the new process key */
    vigil_u64 parent_ktime;    /* key of the parent's vigil_procs entry; 0 = unknown (flag MISS) */
    vigil_u64 cgroup_id;       /* cgroup v2 id */
    vigil_u64 cgroup1_id;      /* id of the cgroup in the v1 hierarchy of cgrp1_subsys; 0 = none */
    vigil_u32 cgroup_level;    /* depth of the named cgroup (0 = root) */
    vigil_u32 cgroup_flags;    /* TP_CGROUP_F_* */
    vigil_u64 cap_permitted;
    vigil_u64 cap_effective;
    vigil_u64 cap_inheritable;
    vigil_u32 pid;             /* thread-group id */
    vigil_u32 tid;
    vigil_u32 ppid;            /* real parent's thread-group id */
    vigil_u32 nspid;           /* pid inside its own PID namespace */
    vigil_u32 uid, euid, gid, egid;
    vigil_u32 auid;            /* login uid, (u32)-1 when unset */
    vigil_u32 flags;           /* VIGIL_PROC_F_* */
    vigil_u32 ns[10];          /* namespace inodes, order of vigil_process_update.ns */
    vigil_u32 binary_len;      /* lengths of the parts that follow, in this order: */
    vigil_u32 cwd_len;
    vigil_u32 cgroup_name_len; /* "parent/leaf" (level >= 2), "leaf" (level 1), "" (root) */
    vigil_u32 args_len;        /* arguments after argv[0], NUL-separated, no trailing NUL */
    /* char binary[binary_len], cwd[cwd_len], cgroup_name[cgroup_name_len], args[args_len] */
};

/* A new thread group (fork/vfork/clone without CLONE_THREAD). */
struct tp_clone_record {
    struct tp_record_header hdr;
    vigil_u64 ktime;        /* boot-time ns of the fork: the child's key until it execs */
    vigil_u64 parent_ktime; /* key of the forking process; 0 = unknown (flag MISS) */
    vigil_u32 pid;          /* the child's thread-group id */
    vigil_u32 tid;          /* the forking thread */
    vigil_u32 ppid;         /* the forking thread group */
    vigil_u32 nspid;
    vigil_u32 flags;        /* VIGIL_PROC_F_*: CLONE, IN_INIT_TREE, MISS */
    vigil_u32 pad;
};

/* The last thread of a thread group exited. */
struct tp_exit_record {
    struct tp_record_header hdr;
    vigil_u64 ktime;      /* boot-time ns of the exit */
    vigil_u64 proc_ktime; /* key of the exiting process; 0 = it had no entry (flag MISS) */
    vigil_u32 pid;
    vigil_u32 tid;        /* the thread that exited last */
    vigil_u32 exit_code;  /* wait status: exit code << 8 | terminating signal */
    vigil_u32 flags;
};

#endif
