/* Records the tracepoint plugin's BPF programs send to its decoder. Shared by BPF C and C++:
 * fixed-width types, explicit padding; sizes and offsets are checked with static_assert in
 * decode.cpp. */
#ifndef VIGIL_TRACEPOINT_RECORDS_H
#define VIGIL_TRACEPOINT_RECORDS_H

#include "vigil/wire/process.h"

#define TP_RING_PROCESS 0 /* ring id of the process lifecycle ring */

enum tp_record_kind {
    TP_REC_EXEC = 1,
};

struct tp_record_header {
    vigil_u32 kind;  /* enum tp_record_kind */
    vigil_u32 size;  /* bytes of the whole record */
};

struct tp_exec_record {
    struct tp_record_header hdr;
    vigil_u64 ktime;     /* boot-time ns of the exec */
    vigil_u64 parent_ktime;
    vigil_u32 pid;
    vigil_u32 tid;
    vigil_u32 ppid;
    vigil_u32 uid;
    vigil_u32 flags;     /* VIGIL_PROC_F_* */
    vigil_u32 filename_len;
    char filename[VIGIL_BINARY_MAX];
};

#endif
