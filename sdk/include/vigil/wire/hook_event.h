/* The record a policy hook program sends when its selectors decide to post: a fixed header and
 * up to VSEL_MAX_ARGS arguments, each a small header and its bytes padded to 8. Shared by every
 * plugin that serves policy hooks (written with vigil/bpf/hook_event.h, read with
 * vigil/sdk/hook_event.hpp). Shared by BPF C and C++. */
#ifndef VIGIL_WIRE_HOOK_EVENT_H
#define VIGIL_WIRE_HOOK_EVENT_H

#include "vigil/wire/selectors.h"

#define VHOOK_RECORD_KIND 0x484f4f4b /* "HOOK": first word of every hook record */

/* How an argument value is encoded in the record. */
enum vhook_arg_enc {
    VHOOK_ENC_NONE = 0,   /* not read: see flags */
    VHOOK_ENC_S64 = 1,    /* 8 bytes, signed */
    VHOOK_ENC_U64 = 2,    /* 8 bytes, unsigned */
    VHOOK_ENC_STRING = 3, /* len bytes of text */
    VHOOK_ENC_BYTES = 4,  /* len bytes of binary data */
};

enum vhook_arg_flags {
    VHOOK_ARG_TRUNCATED = 1, /* the value was longer than what the record carries */
    VHOOK_ARG_ERROR = 2,     /* reading it failed: no value */
};

enum vhook_flags {
    VHOOK_F_ENFORCED = 1,  /* the selector's Sigkill/Signal/Override was carried out */
    VHOOK_F_MONITORED = 2, /* it was not, because the hook is in monitor mode */
    VHOOK_F_RETURN = 4,    /* evaluated at the return of the hooked function */
};

struct vhook_record {
    vigil_u32 kind;      /* VHOOK_RECORD_KIND */
    vigil_u32 size;      /* bytes of the whole record */
    vigil_u64 ktime;     /* boot-time ns */
    vigil_u32 pid;       /* tgid */
    vigil_u32 tid;
    vigil_u32 hook_id;   /* vsel_hook.hook_id */
    vigil_s32 selector;  /* the matching selector */
    vigil_u32 signal;    /* Sigkill/Signal number decided (0: none) */
    vigil_u32 override;  /* Override errno decided (0: none) */
    vigil_u32 flags;     /* vhook_flags */
    vigil_u32 nargs;
    vigil_s64 retval;    /* VHOOK_F_RETURN: the return value */
    vigil_u64 proc_ktime; /* exec ktime of the process image that made the call (its vigil_procs
                           * key when the hook fired), 0 when the process was unknown */
};

struct vhook_arg {
    vigil_u16 enc;       /* vhook_arg_enc */
    vigil_u16 flags;     /* vhook_arg_flags */
    vigil_u32 len;       /* value bytes that follow (8 for integers), before padding */
    vigil_u32 orig_len;  /* length before truncation, when known */
    vigil_u32 pad;
};

/* Largest value bytes one argument carries in a record. */
#define VHOOK_ARG_MAX VSEL_STR_MAX
#define VHOOK_RECORD_MAX \
    (sizeof(struct vhook_record) + VSEL_MAX_ARGS * (sizeof(struct vhook_arg) + VHOOK_ARG_MAX))

#endif
