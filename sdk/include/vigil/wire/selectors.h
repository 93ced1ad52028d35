/* The compiled form of a hook's TracingPolicy selectors, as the SDK's BPF library evaluates it
 * in-kernel (vigil/bpf/selectors.h). The host compiles a hook's selectors into one struct
 * vsel_hook (a fixed-size value of the hook object's `vsel_config` map) plus entries for the
 * value maps (`vsel_strings`, `vsel_prefixes`, `vsel_postfixes`, `vsel_ints`, `vsel_net`); the
 * plugin installs both with vigil::sdk::CompiledSelectors::install() before attaching.
 *
 * Shared by BPF C and C++. Sizes are the limits a policy must stay within; the host's compiler
 * refuses anything larger with the limit named. Bump VSEL_LAYOUT on any change. */
#ifndef VIGIL_WIRE_SELECTORS_H
#define VIGIL_WIRE_SELECTORS_H

#include "vigil/wire/process.h"

#ifdef __BPF__
typedef __s64 vigil_s64;
typedef __u16 vigil_u16;
typedef __s32 vigil_s32;
#else
typedef int64_t vigil_s64;
typedef uint16_t vigil_u16;
typedef int32_t vigil_s32;
#endif

/* 2: network operators on socket arguments, the vsel_net map; 3: workload sets */
#define VSEL_LAYOUT 3

#define VSEL_MAX_SELECTORS 5
#define VSEL_MAX_PID_FILTERS 4
#define VSEL_MAX_PID_VALUES 4
#define VSEL_MAX_ARG_FILTERS 5
#define VSEL_MAX_NUM_VALUES 4
#define VSEL_MAX_NS_FILTERS 10
#define VSEL_MAX_NS_VALUES 4
#define VSEL_MAX_CAP_FILTERS 3
#define VSEL_MAX_ACTIONS 3
#define VSEL_MAX_ARGS 5
/* Ancestors examined by followForks / followChildren, nearest first. */
#define VSEL_FOLLOW_DEPTH 16
/* Buffer for a string compared in-kernel (argument, binary, value). A string that fills it
 * (VSEL_STR_MAX - 1 bytes or more) counts as cut, so values hold at most VSEL_STR_MAX - 2 bytes.
 * On a cut string Prefix still compares its first bytes; Equal and Postfix never match it (their
 * Not* forms always do). */
#define VSEL_STR_MAX 248
/* Entries of the string/int value maps of one hook. */
#define VSEL_MAP_ENTRIES 4096

/* Operators, shared by every filter kind. */
enum vsel_op {
    VSEL_OP_NONE = 0,
    VSEL_OP_IN = 1,          /* matchPIDs/Namespaces/Capabilities In, matchBinaries In */
    VSEL_OP_NOT_IN = 2,
    VSEL_OP_EQUAL = 3,
    VSEL_OP_NOT_EQUAL = 4,
    VSEL_OP_PREFIX = 5,
    VSEL_OP_NOT_PREFIX = 6,
    VSEL_OP_POSTFIX = 7,
    VSEL_OP_NOT_POSTFIX = 8,
    VSEL_OP_GT = 9,
    VSEL_OP_LT = 10,
    VSEL_OP_MASK = 11,       /* (arg & value) != 0 for any value */
    VSEL_OP_IN_MAP = 12,     /* integer in the filter's vsel_ints set */
    VSEL_OP_NOT_IN_MAP = 13,
    /* A field of a socket argument (struct vsock_arg) in the filter's vsel_net entries. An
     * address or port filter never matches a socket without one (AF_UNIX), Not forms included. */
    VSEL_OP_SADDR = 14,
    VSEL_OP_NOT_SADDR = 15,
    VSEL_OP_DADDR = 16,
    VSEL_OP_NOT_DADDR = 17,
    VSEL_OP_SPORT = 18,      /* SPortPriv compiles to SPort 0:1023 */
    VSEL_OP_NOT_SPORT = 19,
    VSEL_OP_DPORT = 20,
    VSEL_OP_NOT_DPORT = 21,
    VSEL_OP_PROTOCOL = 22,
    VSEL_OP_FAMILY = 23,
    VSEL_OP_STATE = 24,
};

/* How an argument reached the evaluator. */
enum vsel_arg_kind {
    VSEL_ARG_NONE = 0,
    VSEL_ARG_INT = 1,
    VSEL_ARG_STR = 2,
    VSEL_ARG_SOCK = 3, /* a struct vsock_arg (vigil/wire/sock.h) in the argument's string buffer */
};

enum vsel_pid_flags {
    VSEL_PID_FOLLOW_FORKS = 1,
    VSEL_PID_NAMESPACE = 2, /* compare the pid as seen in the process's own PID namespace */
};

/* matchNamespaces: index into struct vigil_ns_set / vigil_process_update.ns. */
enum vsel_ns_type {
    VSEL_NS_UTS = 0,
    VSEL_NS_IPC = 1,
    VSEL_NS_MNT = 2,
    VSEL_NS_PID = 3,
    VSEL_NS_PID_FOR_CHILDREN = 4,
    VSEL_NS_NET = 5,
    VSEL_NS_TIME = 6,
    VSEL_NS_TIME_FOR_CHILDREN = 7,
    VSEL_NS_CGROUP = 8,
    VSEL_NS_USER = 9,
    VSEL_NS_COUNT = 10,
};

enum vsel_cap_type {
    VSEL_CAP_EFFECTIVE = 0,
    VSEL_CAP_INHERITABLE = 1,
    VSEL_CAP_PERMITTED = 2,
};

enum vsel_action_kind {
    VSEL_ACT_POST = 1,
    VSEL_ACT_NOPOST = 2,
    VSEL_ACT_SIGKILL = 3,
    VSEL_ACT_SIGNAL = 4,
    VSEL_ACT_OVERRIDE = 5, /* carried out by the plugin's program where the hook allows it */
};

enum vsel_rate_scope {
    VSEL_RATE_THREAD = 0,
    VSEL_RATE_PROCESS = 1,
    VSEL_RATE_GLOBAL = 2,
};

struct vsel_pid_filter {
    vigil_u8 op;      /* IN / NOT_IN */
    vigil_u8 flags;   /* vsel_pid_flags */
    vigil_u8 nvalues;
    vigil_u8 pad;
    vigil_u32 values[VSEL_MAX_PID_VALUES];
};

/* matchBinaries: the values live in the string maps under filter_id. */
struct vsel_binary_filter {
    vigil_u8 op;              /* IN / NOT_IN / PREFIX / NOT_PREFIX / POSTFIX / NOT_POSTFIX */
    vigil_u8 follow_children; /* also match when an ancestor's binary matches */
    vigil_u16 pad;
    vigil_u32 filter_id;
};

struct vsel_ns_filter {
    vigil_u8 ns;      /* vsel_ns_type */
    vigil_u8 op;      /* IN / NOT_IN */
    vigil_u8 nvalues;
    vigil_u8 pad;
    vigil_u32 values[VSEL_MAX_NS_VALUES]; /* namespace inode numbers (host_ns resolved by the host) */
};

struct vsel_cap_filter {
    vigil_u8 type;    /* vsel_cap_type */
    vigil_u8 op;      /* IN: any of mask held; NOT_IN: none of mask held */
    vigil_u8 pad[6];
    vigil_u64 mask;   /* 1 << CAP_* */
};

struct vsel_arg_filter {
    vigil_u8 arg;     /* position in the hook's args[] */
    vigil_u8 op;      /* vsel_op */
    vigil_u8 kind;    /* vsel_arg_kind the values are for */
    vigil_u8 nvalues; /* integer values below; strings live in the maps under filter_id */
    vigil_u32 filter_id;
    vigil_s64 values[VSEL_MAX_NUM_VALUES];
};

struct vsel_action {
    vigil_u8 kind;       /* vsel_action_kind */
    vigil_u8 rate_scope; /* vsel_rate_scope */
    vigil_u16 pad;
    vigil_u32 arg;       /* signal number, or the errno Override returns (positive) */
    vigil_u64 rate_limit_ns; /* Post: at most one event per this interval and scope; 0 = none */
};

struct vsel_selector {
    vigil_u8 npids;
    vigil_u8 nargs;
    vigil_u8 nret_args;
    vigil_u8 nns;
    vigil_u8 ncaps;
    vigil_u8 nactions;
    vigil_u8 nret_actions;
    vigil_u8 has_binary;
    struct vsel_pid_filter pids[VSEL_MAX_PID_FILTERS];
    struct vsel_binary_filter binary;
    struct vsel_ns_filter ns[VSEL_MAX_NS_FILTERS];
    struct vsel_cap_filter caps[VSEL_MAX_CAP_FILTERS];
    struct vsel_arg_filter args[VSEL_MAX_ARG_FILTERS];
    struct vsel_arg_filter ret_args[VSEL_MAX_ARG_FILTERS];
    struct vsel_action actions[VSEL_MAX_ACTIONS];
    struct vsel_action ret_actions[VSEL_MAX_ACTIONS];
};

/* Value of a hook object's `vsel_config` map (one entry, key 0). */
struct vsel_hook {
    vigil_u32 layout;      /* VSEL_LAYOUT */
    vigil_u32 nselectors;  /* 0: every event matches and is posted */
    vigil_u32 enforce;     /* 1: Sigkill/Signal/Override are carried out; 0: monitor mode, counted */
    vigil_u32 hook_id;     /* the host's id of this hook, carried in every record */
    vigil_u32 postfix_args; /* bit i: arg i needs its reversed copy (a Postfix filter uses it) */
    vigil_u32 needs;        /* vsel_needs: what the filters read, so nothing else is read */
    /* The policy's workload set in vigil_workloads (vigil/wire/workloads.h); 0: the policy has no
     * workload selector and every task is in scope, at no cost. */
    vigil_u32 workload_set;
    /* 1: tasks outside every container are in scope too (hostSelector) */
    vigil_u32 workload_host;
    /* cgroup_subsys_id of the v1 controller whose cgroup keys the set on a hybrid host;
     * (u32)-1: the cgroup v2 id */
    vigil_u32 cgroup1_subsys;
    vigil_u32 pad;
    struct vsel_selector sel[VSEL_MAX_SELECTORS];
};

/* What a hook's filters read from the task and the process map (vsel_hook.needs); computed by
 * vsel_compute_needs / CompiledSelectors. */
enum vsel_needs {
    VSEL_NEED_NSPID = 1,     /* the pid inside the process's PID namespace and that namespace */
    VSEL_NEED_NS = 2,        /* namespace inodes */
    VSEL_NEED_CAPS = 4,      /* capability sets */
    VSEL_NEED_ANCESTORS = 8, /* the ancestor chain (followForks, followChildren) */
};

/* Key of `vsel_strings` (hash): exact strings of In/NotIn/Equal/NotEqual filters. The bytes
 * after len are zero. */
struct vsel_str_key {
    vigil_u32 filter_id;
    vigil_u32 len;
    char data[VSEL_STR_MAX];
};

/* Key of `vsel_prefixes` and `vsel_postfixes` (LPM tries): prefixlen counts bits from
 * filter_id on, so a lookup matches the longest stored value that is a prefix of the string;
 * postfixes are stored and looked up reversed. */
struct vsel_lpm_key {
    vigil_u32 prefixlen;
    vigil_u32 filter_id;
    char data[VSEL_STR_MAX];
};

/* Key of `vsel_ints` (hash): InMap / NotInMap integer sets. */
struct vsel_int_key {
    vigil_u32 filter_id;
    vigil_u32 pad;
    vigil_s64 value;
};

/* What a vsel_net entry holds after its filter id. */
enum vsel_net_field {
    VSEL_NET_V4 = 1,       /* IPv4 address, 4 bytes; IPv4-mapped IPv6 addresses are looked up as this */
    VSEL_NET_V6 = 2,       /* IPv6 address, 16 bytes */
    VSEL_NET_PORT = 3,     /* 16-bit values, big-endian in data[0..1] */
    VSEL_NET_PROTOCOL = 4,
    VSEL_NET_FAMILY = 5,
    VSEL_NET_STATE = 6,
};

/* Key of `vsel_net` (LPM trie): CIDR prefixes and value ranges (as aligned power-of-two
 * blocks) of the network operators. prefixlen counts bits from filter_id on: 32 + 8 + the
 * bits of data compared, so a lookup with the full value matches any stored prefix of it. */
struct vsel_net_key {
    vigil_u32 prefixlen;
    vigil_u32 filter_id;
    vigil_u8 field;        /* vsel_net_field */
    vigil_u8 data[16];
    vigil_u8 pad[3];
};
#define VSEL_NET_HEADER_BITS 40 /* filter_id and field */

/* Per-CPU counters of a hook object's `vsel_stats` map. */
enum vsel_stat {
    VSEL_STAT_MATCHED = 0,      /* a selector matched (or there are none) */
    VSEL_STAT_POSTED = 1,       /* an event was sent */
    VSEL_STAT_RATE_LIMITED = 2, /* a Post suppressed by rateLimit */
    VSEL_STAT_ENFORCED = 3,     /* Sigkill/Signal/Override carried out */
    VSEL_STAT_MONITORED = 4,    /* Sigkill/Signal/Override counted, not done (monitor mode) */
    VSEL_STAT_SHED = 5,         /* a posted event dropped: its ring over 3/4 full, or its cgroup over the rate */
    VSEL_STAT_RING_FULL = 6,    /* a posted event the ring had no room for */
    VSEL_STAT_COUNT = 8,
};

/* What the first matching selector decided. */
struct vsel_decision {
    vigil_s32 selector;  /* index of the matching selector, -1: none matched */
    vigil_u32 post;      /* send a record */
    vigil_u32 signal;    /* signal sent (enforce) or that would have been (monitor); 0: none */
    vigil_u32 override;  /* Override requested: errno to return (positive); 0: none */
    vigil_u32 enforced;  /* the actions were carried out (enforce mode) */
};

/* filter_id of a string filter: unique inside one hook. */
#define VSEL_FILTER_ID(sel, group, idx) (((sel) << 8) | ((group) << 4) | (idx))
#define VSEL_GROUP_BINARY 0
#define VSEL_GROUP_ARGS 1
#define VSEL_GROUP_RET_ARGS 2

#endif
