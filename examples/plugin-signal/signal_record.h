/* The record signal.bpf.c sends for each signal generated: who sent which signal to whom. */
#ifndef SIGNAL_RECORD_H
#define SIGNAL_RECORD_H
#include "vigil/wire/process.h"

struct signal_record {
    vigil_u64 ktime;             /* boot-time ns */
    vigil_u64 proc_ktime;        /* the sender's process key, 0 when unknown */
    vigil_u64 target_proc_ktime; /* the target's */
    vigil_u32 pid, tid;          /* the sender */
    vigil_u32 target_pid;        /* the target's thread-group id */
    int sig;
    int result;                  /* TRACE_SIGNAL_*: 0 delivered, 1 ignored, 2 already pending, ... */
    vigil_u32 pad;
};
#endif
