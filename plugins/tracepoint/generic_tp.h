/* Configuration of one generic tracepoint hook object (generic_tp.bpf.c), set in .rodata before
 * load by the plugin from the tracepoint's format and the policy's args. Shared by BPF C and C++. */
#ifndef VIGIL_GENERIC_TP_H
#define VIGIL_GENERIC_TP_H

#include "vigil/wire/hook_event.h"

/* How an argument is fetched from the tracepoint record (or the raw tracepoint's arguments). */
enum gtp_fetch {
    GTP_FETCH_INT = 1,        /* size bytes at offset, sign-extended when is_signed */
    GTP_FETCH_DATA_LOC = 2,   /* __data_loc string: u32 at offset gives (len << 16 | offset) */
    GTP_FETCH_CHAR_ARRAY = 3, /* char name[size] inside the record */
    GTP_FETCH_USER_STR = 4,   /* a pointer at offset to a NUL-terminated user string */
    GTP_FETCH_KERNEL_STR = 5, /* a pointer at offset to a NUL-terminated kernel string */
};

struct gtp_arg {
    vigil_u16 offset;  /* byte offset in the record; raw tracepoints: argument number * 8 */
    vigil_u16 size;
    vigil_u8 fetch;    /* gtp_fetch */
    vigil_u8 enc;      /* vhook_arg_enc in the record */
    vigil_u8 is_signed;
    vigil_u8 pad;
};

struct gtp_spec {
    vigil_u32 nargs;
    vigil_u32 pad;
    struct gtp_arg args[VSEL_MAX_ARGS];
};

#endif
