/* Configuration of one function hook object (kprobe_hook.bpf.c), set in .rodata before load
 * from the policy hook and the attach strategy the plugin chose. The kprobe plugin loads it on
 * kernel functions and syscalls, the uprobe plugin on user-space functions and USDT probes.
 * Shared by BPF C and C++. */
#ifndef VIGIL_KPROBE_HOOK_H
#define VIGIL_KPROBE_HOOK_H

#include "vigil/wire/hook_event.h"

/* Where the function's raw arguments come from: one per attach strategy. */
enum kp_source {
    KP_SRC_REGS = 1,         /* kprobe/kretprobe on a kernel function: pt_regs of the call */
    KP_SRC_SYSCALL_REGS = 2, /* kprobe on a __x64_sys_ wrapper: its one argument is the user pt_regs */
    KP_SRC_TRAMPOLINE = 3,   /* fentry/fexit/lsm: bpf_get_func_arg() */
    KP_SRC_SYSCALL_TP = 4,   /* syscalls/sys_enter_<name>: fields at kp_spec.tp_offsets */
    KP_SRC_RAW_SYSCALLS = 5, /* raw_syscalls/sys_enter: args[6] at 16, dispatched by syscall_nr */
    KP_SRC_USDT = 6,         /* a USDT probe in user space: its arguments by bpf_usdt_arg() */
};

/* How one policy argument is read from its raw value (enum vhook_arg_enc says how it travels). */
enum kp_read {
    KP_READ_INT = 1,        /* integer of `size` bytes, sign-extended when is_signed */
    KP_READ_USER_STR = 2,   /* NUL-terminated string in user memory */
    KP_READ_KERNEL_STR = 3, /* NUL-terminated string in kernel memory */
    KP_READ_FILENAME = 4,   /* struct filename *: its name */
    KP_READ_USER_BUF = 5,   /* char_buf in user memory, length from argument size_src - 1 */
    KP_READ_KERNEL_BUF = 6, /* char_buf in kernel memory */
    KP_READ_FD = 7,         /* int fd: the path of the file the current task has open there */
    KP_READ_FILE = 8,       /* struct file *: its path */
    KP_READ_PATH = 9,       /* struct path *: its path */
    KP_READ_DENTRY = 10,    /* struct dentry *: its path inside its file system */
    KP_READ_CRED = 11,      /* struct cred *: struct vigil_cred_arg */
    KP_READ_SOCK = 12,      /* struct sock *: struct vsock_arg */
    KP_READ_SOCKET = 13,    /* struct socket *: struct vsock_arg of its sock */
    KP_READ_SOCKADDR = 14,  /* struct sockaddr * in kernel memory */
    KP_READ_USER_SOCKADDR = 15, /* the same in user memory (syscalls) */
    KP_READ_SKB = 16,       /* struct sk_buff *: its 5-tuple, length and mark */
};

struct kp_arg {
    vigil_u8 src;      /* function argument number, 0-based */
    vigil_u8 read;     /* kp_read */
    vigil_u8 size;     /* KP_READ_INT: bytes (1, 2, 4, 8) */
    vigil_u8 is_signed;
    vigil_u8 enc;      /* vhook_arg_enc in the record */
    vigil_u8 size_src; /* buffers: 1 + the argument number holding the length; 0: read VHOOK_ARG_MAX */
    vigil_u16 pad;
};

#define KP_MAX_RAW_ARGS 6

struct kp_spec {
    vigil_u32 nargs;
    vigil_u32 source;      /* kp_source */
    vigil_s32 syscall_nr;  /* KP_SRC_RAW_SYSCALLS: the syscall to dispatch on */
    vigil_u32 has_return;  /* entry args are stashed per thread and the event sent at return */
    vigil_u32 pad;
    vigil_u32 pad1;
    vigil_u16 tp_offsets[KP_MAX_RAW_ARGS]; /* KP_SRC_SYSCALL_TP: record offset of each argument */
    vigil_u32 pad2;
    struct kp_arg args[VSEL_MAX_ARGS];
    struct kp_arg ret;     /* returnArg: an integer (read = KP_READ_INT), or for uprobes a
                            * string in user memory (KP_READ_USER_STR), sent as argument nargs */
};

/* Bits 16 and up of vhook_record.flags in this plugin's records: the entry half's decision of a
 * return probe (the record's signal/override fields hold the return half's). */
#define KP_F_ENTRY_SIGNAL_SHIFT 16   /* 8 bits: signal decided at entry, 0: none */
#define KP_F_ENTRY_OVERRIDE (1u << 24) /* Override decided at entry */
#define KP_F_ENTRY_ENFORCED (1u << 25) /* entry actions carried out (else counted, monitor mode) */

#endif
