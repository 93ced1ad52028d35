/* Fixed-layout argument values that hook programs send as bytes (VHOOK_ENC_BYTES) and plugins
 * decode by the policy's argument type. Written by the readers in vigil/bpf/args.h. Shared by BPF
 * C and C++. */
#ifndef VIGIL_WIRE_ARGS_H
#define VIGIL_WIRE_ARGS_H

#include "vigil/wire/process.h"

/* A `cred` argument: the ids and capability sets of a struct cred. */
struct vigil_cred_arg {
    vigil_u32 uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
    vigil_u32 securebits;
    vigil_u32 user_ns_level; /* nesting level of cred->user_ns; 0: the initial namespace */
    vigil_u64 cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
};

#endif
