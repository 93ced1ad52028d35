/* In-kernel evaluation of a hook's compiled selectors (vigil/wire/selectors.h).
 *
 * A plugin's hook program fills the per-CPU input (arguments) with sel__input(), then calls
 * sel__evaluate(), which finds the first selector whose filters all match and applies its
 * actions: Post (with rateLimit) / NoPost decide whether a record is sent, Sigkill and Signal are
 * sent here, synchronously, when the hook is in enforce mode (counted otherwise), and Override is
 * reported back for the plugin's program to carry out where its attach point allows it.
 *
 * Program types without bpf_send_signal (cgroup socket programs) define VSEL_NO_SIGNAL before
 * including this header; their policies cannot have Sigkill or Signal (the parser refuses them).
 * Those without bpf_get_current_task define VSEL_CGROUP_V2_ONLY: their workload sets are keyed
 * by the cgroup v2 id only (the host refuses a workload selector there on a hybrid host).
 * A hook whose arguments are all of some kinds defines VSEL_ARG_KINDS (a mask of 1 << vsel_arg_kind)
 * and one that never returns VSEL_NO_RETURN_ARGS: the comparisons it cannot need are left out,
 * and the verifier, which checks every path of the evaluator, has far less to do (a filter of a
 * left-out kind never matches).
 *
 * A hook program calls sel__workload_ok() before anything else: a policy scoped to workloads
 * (podSelector, containerSelector, hostSelector, TracingPolicyNamespaced) ends there for a task
 * outside them.
 *
 * Every map below is declared per BPF object, so each hook object has its own configuration.
 * Loops are bounded by the wire limits; the selector loop runs through bpf_loop() so the verifier
 * checks one selector's code once instead of once per selector. */
#ifndef VIGIL_BPF_SELECTORS_H
#define VIGIL_BPF_SELECTORS_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/maps.h"
#include "vigil/bpf/task.h"
#include "vigil/wire/selectors.h"
#include "vigil/wire/sock.h"

#ifndef VSEL_ARG_KINDS
#define VSEL_ARG_KINDS ((1 << VSEL_ARG_INT) | (1 << VSEL_ARG_STR) | (1 << VSEL_ARG_SOCK))
#endif
#define VSEL_HAS_KIND(k) ((VSEL_ARG_KINDS) & (1 << (k)))

/* the hook's compiled selectors (key 0) */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vsel_hook);
} vsel_config SEC(".maps");

/* exact string values (In/NotIn/Equal/NotEqual) by filter */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VSEL_MAP_ENTRIES);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vsel_str_key);
    __type(value, __u8);
} vsel_strings SEC(".maps");

/* Prefix values by filter */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, VSEL_MAP_ENTRIES);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vsel_lpm_key);
    __type(value, __u8);
} vsel_prefixes SEC(".maps");

/* Postfix values by filter, stored reversed */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, VSEL_MAP_ENTRIES);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vsel_lpm_key);
    __type(value, __u8);
} vsel_postfixes SEC(".maps");

/* InMap/NotInMap integer sets by filter */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VSEL_MAP_ENTRIES);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vsel_int_key);
    __type(value, __u8);
} vsel_ints SEC(".maps");

/* address prefixes and value ranges of the network operators, by filter */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, VSEL_MAP_ENTRIES);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct vsel_net_key);
    __type(value, __u8);
} vsel_net SEC(".maps");

/* counters, enum vsel_stat */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, VSEL_STAT_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} vsel_stats SEC(".maps");

struct vsel_rate_key {
    __u32 selector;
    __u32 scope;
    __u64 id; /* tid, tgid or 0 by rate_scope */
};

/* last time a rate-limited Post was sent, by selector and scope */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8192);
    __type(key, struct vsel_rate_key);
    __type(value, __u64);
} vsel_ratelimit SEC(".maps");

/* One argument as the hook program read it. */
struct vsel_argval {
    __s64 ival;
    __u32 kind; /* vsel_arg_kind */
    __u32 len;  /* string bytes, without NUL; may exceed VSEL_STR_MAX (then truncated) */
};

/* Everything the filters look at, in per-CPU scratch (far too big for the stack). */
struct vsel_input {
    struct vsel_argval args[VSEL_MAX_ARGS];
    struct vsel_str_key str[VSEL_MAX_ARGS];     /* string args, zero-padded: ready-made keys */
    struct vsel_lpm_key rev[VSEL_MAX_ARGS];     /* reversed string args for Postfix */
    struct vsel_str_key bin;                    /* scratch for binary comparisons */
    struct vsel_lpm_key binrev;
    __u32 anc_pid[VSEL_FOLLOW_DEPTH];           /* ancestors, nearest first */
    __u32 anc_nspid[VSEL_FOLLOW_DEPTH];
    __u32 anc_pidns[VSEL_FOLLOW_DEPTH];
    __u32 nanc;
    __u32 tgid;
    __u32 tid;
    __u32 nspid;
    __u32 pidns;
    __u32 ns[VSEL_NS_COUNT];
    __u64 caps[3];                              /* vsel_cap_type order */
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vsel_input);
} vsel_scratch SEC(".maps");

static __always_inline void sel__stat(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&vsel_stats, &slot);
    if (v)
        *v += 1;
}

static __always_inline struct vsel_input *sel__input(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&vsel_scratch, &zero);
}

static __always_inline struct vsel_hook *sel__config(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&vsel_config, &zero);
}

/* Clears argument i; call before filling it. */
static __always_inline void sel__clear_arg(struct vsel_input *in, __u32 i)
{
    if (i >= VSEL_MAX_ARGS)
        return;
    in->args[i].kind = VSEL_ARG_NONE;
    in->args[i].len = 0;
    in->args[i].ival = 0;
}

static __always_inline void sel__set_int(struct vsel_input *in, __u32 i, __s64 v)
{
    if (i >= VSEL_MAX_ARGS)
        return;
    in->args[i].kind = VSEL_ARG_INT;
    in->args[i].ival = v;
}

/* Marks argument i a string whose bytes the caller already put in in->str[i].data (zero-padded
 * to VSEL_STR_MAX) with its length `len`; VSEL_STR_MAX or more means it was cut. */
static __always_inline void sel__set_str_len(struct vsel_input *in, __u32 i, __u32 len)
{
    if (i >= VSEL_MAX_ARGS)
        return;
    in->args[i].kind = VSEL_ARG_STR;
    in->args[i].len = len;
}

/* Marks argument i a socket argument whose struct vsock_arg the caller put in in->str[i].data
 * (vigil/bpf/sock.h fills one). */
static __always_inline void sel__set_sock(struct vsel_input *in, __u32 i)
{
    if (i >= VSEL_MAX_ARGS)
        return;
    in->args[i].kind = VSEL_ARG_SOCK;
    in->args[i].len = sizeof(struct vsock_arg);
}

/* Reads a NUL-terminated kernel or user string into argument i; returns its length or <0. */
static __always_inline long sel__read_str(struct vsel_input *in, __u32 i, const void *src, int user)
{
    if (i >= VSEL_MAX_ARGS)
        return -1;
    __builtin_memset(in->str[i].data, 0, VSEL_STR_MAX);
    long n = user ? bpf_probe_read_user_str(in->str[i].data, VSEL_STR_MAX, src)
                  : bpf_probe_read_kernel_str(in->str[i].data, VSEL_STR_MAX, src);
    if (n < 0) {
        errors__count(VIGIL_ERR_PROBE_READ);
        sel__clear_arg(in, i);
        return n;
    }
    /* A full buffer may mean the string was cut: its length is unknown, flag it as VSEL_STR_MAX. */
    __u32 len = n >= VSEL_STR_MAX ? VSEL_STR_MAX : (n > 0 ? n - 1 : 0);
    sel__set_str_len(in, i, len);
    return len;
}

struct sel__rev_ctx {
    char *dst;
    const char *src;
    __u32 len;
};

static long sel__rev_byte(__u32 i, void *data)
{
    struct sel__rev_ctx *c = data;
    __u32 k = i;
    asm volatile("" : "+r"(k));
    if (k >= VSEL_STR_MAX)
        return 1;
    char b = 0;
    if (k < c->len) {
        __u32 j = c->len - 1 - k;
        if (j < VSEL_STR_MAX)
            b = c->src[j];
    }
    c->dst[k] = b;
    return 0;
}

/* dst = reverse of the first len bytes of src, zero-padded; one bpf_loop so the verifier
 * checks the byte step once. */
static __always_inline void sel__reverse(char *dst, const char *src, __u32 len)
{
    struct sel__rev_ctx c = {.dst = dst, .src = src, .len = len > VSEL_STR_MAX ? VSEL_STR_MAX : len};
    bpf_loop(VSEL_STR_MAX, sel__rev_byte, &c, 0);
}

/* Reads what the hook's filters look at of the current task: always its ids, and its namespace
 * pid, namespaces and capabilities only when `needs` asks for them. */
static __always_inline void sel__task(struct vsel_input *in, __u32 needs)
{
    __u64 id = bpf_get_current_pid_tgid();
    in->tgid = id >> 32;
    in->tid = (__u32)id;
    if (!(needs & (VSEL_NEED_NSPID | VSEL_NEED_NS | VSEL_NEED_CAPS)))
        return;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();

    if (needs & (VSEL_NEED_NSPID | VSEL_NEED_NS)) {
        struct pid *pid = BPF_CORE_READ(task, thread_pid);
        unsigned int level = BPF_CORE_READ(pid, level);
        struct upid up = {};
        bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[level & 0x1f]);
        /* thread_pid numbers the thread; the process is numbered by its group leader. */
        struct task_struct *leader = BPF_CORE_READ(task, group_leader);
        struct pid *lpid = BPF_CORE_READ(leader, thread_pid);
        struct upid lup = {};
        bpf_probe_read_kernel(&lup, sizeof(lup), &lpid->numbers[level & 0x1f]);
        in->nspid = lup.nr;
        in->pidns = BPF_CORE_READ(up.ns, ns.inum);
    }
    const struct cred *cred = BPF_CORE_READ(task, cred);
    if (needs & VSEL_NEED_NS) {
        struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
        in->ns[VSEL_NS_UTS] = BPF_CORE_READ(nsp, uts_ns, ns.inum);
        in->ns[VSEL_NS_IPC] = BPF_CORE_READ(nsp, ipc_ns, ns.inum);
        in->ns[VSEL_NS_MNT] = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
        in->ns[VSEL_NS_PID] = in->pidns;
        in->ns[VSEL_NS_PID_FOR_CHILDREN] = BPF_CORE_READ(nsp, pid_ns_for_children, ns.inum);
        in->ns[VSEL_NS_NET] = BPF_CORE_READ(nsp, net_ns, ns.inum);
        if (bpf_core_field_exists(nsp->time_ns)) {
            in->ns[VSEL_NS_TIME] = BPF_CORE_READ(nsp, time_ns, ns.inum);
            in->ns[VSEL_NS_TIME_FOR_CHILDREN] = BPF_CORE_READ(nsp, time_ns_for_children, ns.inum);
        }
        in->ns[VSEL_NS_CGROUP] = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
        in->ns[VSEL_NS_USER] = BPF_CORE_READ(cred, user_ns, ns.inum);
    }
    if (needs & VSEL_NEED_CAPS) {
        /* kernel_cap_t is u32[2] before 6.3 and u64 after: 8 bytes, low bits first, either way. */
        bpf_probe_read_kernel(&in->caps[VSEL_CAP_EFFECTIVE], 8, &cred->cap_effective);
        bpf_probe_read_kernel(&in->caps[VSEL_CAP_INHERITABLE], 8, &cred->cap_inheritable);
        bpf_probe_read_kernel(&in->caps[VSEL_CAP_PERMITTED], 8, &cred->cap_permitted);
    }
}

/* Collects up to VSEL_FOLLOW_DEPTH ancestors from vigil_procs, nearest first, stopping at the
 * first parent the map does not know (or whose entry belongs to a newer process). */
static __always_inline void sel__ancestors(struct vsel_input *in, struct vigil_proc *self)
{
    in->nanc = 0;
    if (!self)
        return;
    __u32 ppid = self->ppid;
    __u64 pkt = self->parent_ktime;
    for (int i = 0; i < VSEL_FOLLOW_DEPTH; i++) {
        if (ppid == 0)
            break;
        struct vigil_proc *p = bpf_map_lookup_elem(&vigil_procs, &ppid);
        if (!p || (pkt && p->ktime != pkt))
            break;
        in->anc_pid[i] = p->pid;
        in->anc_nspid[i] = p->nspid;
        in->anc_pidns[i] = p->pidns;
        in->nanc = i + 1;
        ppid = p->ppid;
        pkt = p->parent_ktime;
    }
}

static __always_inline int sel__pid_in(const struct vsel_pid_filter *f, __u32 pid)
{
    for (int v = 0; v < VSEL_MAX_PID_VALUES; v++)
        if (v < f->nvalues && f->values[v] == pid)
            return 1;
    return 0;
}

/* matchPIDs: In matches when the process's pid (or, with followForks, an ancestor's) is listed;
 * NotIn when neither is. With isNamespacePID the walk stays inside the process's PID namespace. */
static __always_inline int sel__match_pid(const struct vsel_pid_filter *f, const struct vsel_input *in)
{
    int ns = f->flags & VSEL_PID_NAMESPACE;
    int found = sel__pid_in(f, ns ? in->nspid : in->tgid);
    if (!found && (f->flags & VSEL_PID_FOLLOW_FORKS)) {
        for (int i = 0; i < VSEL_FOLLOW_DEPTH; i++) {
            if (i >= in->nanc)
                break;
            if (ns && in->anc_pidns[i] != in->pidns)
                break;
            if (sel__pid_in(f, ns ? in->anc_nspid[i] : in->anc_pid[i])) {
                found = 1;
                break;
            }
        }
    }
    return f->op == VSEL_OP_NOT_IN ? !found : found;
}

/* Whether the string in key->data (length len) matches any value of filter_id under `op`,
 * ignoring negation. key/rev are scratch keys the caller filled with the string (and, for
 * postfix ops, its reverse). */
static __always_inline int sel__str_any(__u32 filter_id, __u8 op, struct vsel_str_key *key,
                                        struct vsel_lpm_key *rev, __u32 len)
{
    switch (op) {
    case VSEL_OP_IN:
    case VSEL_OP_NOT_IN:
    case VSEL_OP_EQUAL:
    case VSEL_OP_NOT_EQUAL:
        if (len >= VSEL_STR_MAX)
            return 0; /* cut: cannot equal a stored value */
        key->filter_id = filter_id;
        key->len = len;
        return bpf_map_lookup_elem(&vsel_strings, key) != 0;
    case VSEL_OP_PREFIX:
    case VSEL_OP_NOT_PREFIX: {
        /* struct vsel_str_key and vsel_lpm_key share their layout: 8 header bytes, then data. */
        struct vsel_lpm_key *k = (struct vsel_lpm_key *)key;
        __u32 n = len > VSEL_STR_MAX ? VSEL_STR_MAX : len;
        k->prefixlen = 32 + n * 8;
        k->filter_id = filter_id;
        return bpf_map_lookup_elem(&vsel_prefixes, k) != 0;
    }
    case VSEL_OP_POSTFIX:
    case VSEL_OP_NOT_POSTFIX:
        if (len >= VSEL_STR_MAX)
            return 0; /* cut: its end is unknown */
        rev->prefixlen = 32 + len * 8;
        rev->filter_id = filter_id;
        return bpf_map_lookup_elem(&vsel_postfixes, rev) != 0;
    }
    return 0;
}

static __always_inline int sel__negated(__u8 op)
{
    return op == VSEL_OP_NOT_IN || op == VSEL_OP_NOT_EQUAL || op == VSEL_OP_NOT_PREFIX ||
           op == VSEL_OP_NOT_POSTFIX || op == VSEL_OP_NOT_IN_MAP || op == VSEL_OP_NOT_SADDR ||
           op == VSEL_OP_NOT_DADDR || op == VSEL_OP_NOT_SPORT || op == VSEL_OP_NOT_DPORT;
}

/* Puts a process's binary into the binary scratch keys, zero-padded; returns its length
 * (VSEL_STR_MAX when cut). */
static __always_inline __u32 sel__load_binary(struct vsel_input *in, const struct vigil_proc *p, int need_rev)
{
    __builtin_memset(in->bin.data, 0, VSEL_STR_MAX);
    long n = bpf_probe_read_kernel_str(in->bin.data, VSEL_STR_MAX, p->binary);
    __u32 len = n >= VSEL_STR_MAX ? VSEL_STR_MAX : (n > 0 ? n - 1 : 0);
    if (need_rev && len < VSEL_STR_MAX)
        sel__reverse(in->binrev.data, in->bin.data, len);
    return len;
}

struct sel__bin_ctx {
    const struct vsel_binary_filter *f;
    struct vsel_input *in;
    int need_rev;
    int found;
};

static long sel__match_ancestor_binary(__u32 i, void *data)
{
    struct sel__bin_ctx *c = data;
    __u32 k = i;
    asm volatile("" : "+r"(k));
    if (k >= VSEL_FOLLOW_DEPTH || k >= c->in->nanc)
        return 1;
    __u32 pid = c->in->anc_pid[k];
    struct vigil_proc *p = bpf_map_lookup_elem(&vigil_procs, &pid);
    if (!p)
        return 1;
    __u32 len = sel__load_binary(c->in, p, c->need_rev);
    if (sel__str_any(c->f->filter_id, c->f->op, &c->in->bin, &c->in->binrev, len)) {
        c->found = 1;
        return 1;
    }
    return 0;
}

/* matchBinaries on the process's binary and, with followChildren, its ancestors'. */
static __always_inline int sel__match_binary(const struct vsel_binary_filter *f, struct vsel_input *in,
                                             const struct vigil_proc *self)
{
    struct sel__bin_ctx c = {.f = f,
                             .in = in,
                             .need_rev = f->op == VSEL_OP_POSTFIX || f->op == VSEL_OP_NOT_POSTFIX,
                             .found = 0};
    if (self) {
        __u32 len = sel__load_binary(in, self, c.need_rev);
        c.found = sel__str_any(f->filter_id, f->op, &in->bin, &in->binrev, len);
    }
    if (!c.found && f->follow_children)
        bpf_loop(VSEL_FOLLOW_DEPTH, sel__match_ancestor_binary, &c, 0);
    return sel__negated(f->op) ? !c.found : c.found;
}

static __always_inline int sel__match_ns(const struct vsel_ns_filter *f, const struct vsel_input *in)
{
    __u32 have = in->ns[f->ns < VSEL_NS_COUNT ? f->ns : 0];
    int found = 0;
    for (int v = 0; v < VSEL_MAX_NS_VALUES; v++)
        if (v < f->nvalues && f->values[v] == have)
            found = 1;
    return f->op == VSEL_OP_NOT_IN ? !found : found;
}

static __always_inline int sel__match_cap(const struct vsel_cap_filter *f, const struct vsel_input *in)
{
    __u64 have = in->caps[f->type < 3 ? f->type : 0];
    int any = (have & f->mask) != 0;
    return f->op == VSEL_OP_NOT_IN ? !any : any;
}

static __always_inline int sel__match_int(const struct vsel_arg_filter *f, __s64 v)
{
    int found = 0;
    if (f->op == VSEL_OP_IN_MAP || f->op == VSEL_OP_NOT_IN_MAP) {
        struct vsel_int_key k = {.filter_id = f->filter_id, .pad = 0, .value = v};
        found = bpf_map_lookup_elem(&vsel_ints, &k) != 0;
        return f->op == VSEL_OP_NOT_IN_MAP ? !found : found;
    }
    for (int i = 0; i < VSEL_MAX_NUM_VALUES; i++) {
        if (i >= f->nvalues)
            break;
        __s64 x = f->values[i];
        switch (f->op) {
        case VSEL_OP_EQUAL:
        case VSEL_OP_NOT_EQUAL:
            found |= v == x;
            break;
        case VSEL_OP_GT:
            found |= v > x;
            break;
        case VSEL_OP_LT:
            found |= v < x;
            break;
        case VSEL_OP_MASK:
            found |= (v & x) != 0;
            break;
        }
    }
    return f->op == VSEL_OP_NOT_EQUAL ? !found : found;
}

/* Network operators: the socket's field looked up in the filter's vsel_net entries. */
static __always_inline int sel__match_net(const struct vsel_arg_filter *f, const struct vsock_arg *s)
{
    struct vsel_net_key k = {};
    k.filter_id = f->filter_id;
    const __u8 *addr = 0;
    __u16 v = 0;
    int inet = s->family == VSOCK_AF_INET || s->family == VSOCK_AF_INET6;
    switch (f->op) {
    case VSEL_OP_SADDR:
    case VSEL_OP_NOT_SADDR:
        addr = s->saddr;
        break;
    case VSEL_OP_DADDR:
    case VSEL_OP_NOT_DADDR:
        addr = s->daddr;
        break;
    case VSEL_OP_SPORT:
    case VSEL_OP_NOT_SPORT:
        if (!inet)
            return 0;
        k.field = VSEL_NET_PORT;
        v = s->sport;
        break;
    case VSEL_OP_DPORT:
    case VSEL_OP_NOT_DPORT:
        if (!inet)
            return 0;
        k.field = VSEL_NET_PORT;
        v = s->dport;
        break;
    case VSEL_OP_PROTOCOL:
        k.field = VSEL_NET_PROTOCOL;
        v = s->protocol;
        break;
    case VSEL_OP_FAMILY:
        k.field = VSEL_NET_FAMILY;
        v = s->family;
        break;
    case VSEL_OP_STATE:
        k.field = VSEL_NET_STATE;
        v = s->state;
        break;
    default:
        return 0;
    }
    if (addr) {
        if (s->family == VSOCK_AF_INET) {
            k.field = VSEL_NET_V4;
            __builtin_memcpy(k.data, addr, 4);
            k.prefixlen = VSEL_NET_HEADER_BITS + 32;
        } else if (s->family == VSOCK_AF_INET6) {
            __u64 hi = 0;
            __u32 mid = 0;
            __builtin_memcpy(&hi, addr, 8);
            __builtin_memcpy(&mid, addr + 8, 4);
            /* ::ffff:a.b.c.d is the IPv4 address a dual-stack socket talks to */
            if (hi == 0 && mid == bpf_htonl(0x0000ffff)) {
                k.field = VSEL_NET_V4;
                __builtin_memcpy(k.data, addr + 12, 4);
                k.prefixlen = VSEL_NET_HEADER_BITS + 32;
            } else {
                k.field = VSEL_NET_V6;
                __builtin_memcpy(k.data, addr, 16);
                k.prefixlen = VSEL_NET_HEADER_BITS + 128;
            }
        } else {
            return 0; /* no IP address */
        }
    } else {
        k.data[0] = v >> 8;
        k.data[1] = v & 0xff;
        k.prefixlen = VSEL_NET_HEADER_BITS + 16;
    }
    int found = bpf_map_lookup_elem(&vsel_net, &k) != 0;
    return sel__negated(f->op) ? !found : found;
}

static __always_inline int sel__match_arg(const struct vsel_arg_filter *f, struct vsel_input *in)
{
    __u32 a = f->arg;
    if (a >= VSEL_MAX_ARGS)
        return 0;
    struct vsel_argval *v = &in->args[a];
    if (f->kind == VSEL_ARG_INT)
        return VSEL_HAS_KIND(VSEL_ARG_INT) && v->kind == VSEL_ARG_INT && sel__match_int(f, v->ival);
    if (f->kind == VSEL_ARG_SOCK)
        return VSEL_HAS_KIND(VSEL_ARG_SOCK) && v->kind == VSEL_ARG_SOCK &&
               sel__match_net(f, (const struct vsock_arg *)in->str[a].data);
    if (!VSEL_HAS_KIND(VSEL_ARG_STR) || v->kind != VSEL_ARG_STR)
        return 0; /* an argument that could not be read never satisfies a filter */
    int found = sel__str_any(f->filter_id, f->op, &in->str[a], &in->rev[a], v->len);
    return sel__negated(f->op) ? !found : found;
}

/* The matching is split into global functions. The verifier checks a global function once per
 * program, on its own and with its arguments unknown, instead of once per call site and per path
 * of its caller: a hook's verification cost is then the sum, not the product, of its selectors,
 * filters and argument kinds. (The evaluator as one body reached the 1M-instruction limit once
 * hooks read paths, strings and sockets; bpf_loop callbacks do not help on kernels that walk a
 * callback again until its state converges.) Each one takes scalars only and looks up the
 * selector and the per-CPU input (filled by the hook's program) itself: pointers passed to a
 * global function become plain memory to the verifier, which 6.1 refuses as a map key. */

static __always_inline struct vsel_selector *sel__selector(__u32 sel)
{
    struct vsel_hook *cfg = sel__config();
    /* The barrier keeps clang from scaling an unchecked copy of the index (the verifier then
     * sees an unbounded offset). */
    __u32 k = sel;
    asm volatile("" : "+r"(k));
    if (!cfg || k >= VSEL_MAX_SELECTORS)
        return 0;
    return &cfg->sel[k];
}

/* matchPIDs filter i of selector sel */
__noinline int sel__pid_filter(__u32 sel, __u32 i)
{
    struct vsel_input *in = sel__input();
    struct vsel_selector *s = sel__selector(sel);
    if (!in || !s || i >= VSEL_MAX_PID_FILTERS)
        return 0;
    return sel__match_pid(&s->pids[i], in);
}

/* matchBinaries of selector sel */
__noinline int sel__binary_filter(__u32 sel)
{
    struct vsel_input *in = sel__input();
    struct vsel_selector *s = sel__selector(sel);
    if (!in || !s)
        return 0;
    struct vigil_proc *self = bpf_map_lookup_elem(&vigil_procs, &in->tgid);
    return sel__match_binary(&s->binary, in, self);
}

/* matchArgs (or, with ret, matchReturnArgs) filter i of selector sel */
__noinline int sel__arg_filter(__u32 sel, __u32 i, int ret)
{
    struct vsel_input *in = sel__input();
    struct vsel_selector *s = sel__selector(sel);
    if (!in || !s || i >= VSEL_MAX_ARG_FILTERS)
        return 0;
    return sel__match_arg(ret ? &s->ret_args[i] : &s->args[i], in);
}

/* Whether every filter of selector sel matches. */
__noinline int sel__match_selector(__u32 sel, int ret)
{
    struct vsel_input *in = sel__input();
    struct vsel_selector *s = sel__selector(sel);
    if (!in || !s)
        return 0;
    for (__u32 i = 0; i < VSEL_MAX_PID_FILTERS; i++)
        if (i < s->npids && !sel__pid_filter(sel, i))
            return 0;
    for (int i = 0; i < VSEL_MAX_NS_FILTERS; i++)
        if (i < s->nns && !sel__match_ns(&s->ns[i], in))
            return 0;
    for (int i = 0; i < VSEL_MAX_CAP_FILTERS; i++)
        if (i < s->ncaps && !sel__match_cap(&s->caps[i], in))
            return 0;
    if (s->has_binary && !sel__binary_filter(sel))
        return 0;
#ifdef VSEL_NO_RETURN_ARGS
    /* Still read ret: an argument the body ignores is left unset by clang's callers, and the
     * verifier refuses a call whose declared arguments are not all initialised scalars. */
    if (ret)
        return 0;
#endif
    __u8 nargs = ret ? s->nret_args : s->nargs;
    for (__u32 i = 0; i < VSEL_MAX_ARG_FILTERS; i++)
        if (i < nargs && !sel__arg_filter(sel, i, ret))
            return 0;
    return 1;
}

static __always_inline int sel__rate_ok(const struct vsel_action *a, __u32 selector, const struct vsel_input *in)
{
    if (!a->rate_limit_ns)
        return 1;
    struct vsel_rate_key k = {.selector = selector, .scope = a->rate_scope, .id = 0};
    if (a->rate_scope == VSEL_RATE_THREAD)
        k.id = in->tid;
    else if (a->rate_scope == VSEL_RATE_PROCESS)
        k.id = in->tgid;
    __u64 now = bpf_ktime_get_ns();
    __u64 *last = bpf_map_lookup_elem(&vsel_ratelimit, &k);
    if (last && now - *last < a->rate_limit_ns)
        return 0;
    bpf_map_update_elem(&vsel_ratelimit, &k, &now, BPF_ANY);
    return 1;
}

/* Whether the current task is in the workloads the hook's policy is scoped to. A hook program
 * calls this first, before it reads any argument: outside the scope a hook costs one lookup
 * (two with hostSelector) and sends nothing. Without a workload selector it costs nothing. */
static __always_inline int sel__workload_ok(const struct vsel_hook *cfg)
{
    if (!cfg->workload_set)
        return 1;
    struct vigil_workload_key k = {.set = cfg->workload_set};
#ifdef VSEL_CGROUP_V2_ONLY
    k.cgroup_id = bpf_get_current_cgroup_id();
#else
    struct cgroup *cg1 = 0;
    if (cfg->cgroup1_subsys != (__u32)-1)
        cg1 = task__cgroup1((struct task_struct *)bpf_get_current_task(), cfg->cgroup1_subsys);
    k.cgroup_id = cg1 ? BPF_CORE_READ(cg1, kn, id) : bpf_get_current_cgroup_id();
#endif
    if (bpf_map_lookup_elem(&vigil_workloads, &k))
        return 1;
    if (!cfg->workload_host)
        return 0;
    k.set = VIGIL_WORKLOAD_CONTAINERS;
    return !bpf_map_lookup_elem(&vigil_workloads, &k);
}

/* Evaluates the hook's selectors for the current task and the arguments in `in` (which must be
 * sel__input(): the matching functions read it from there), and applies the matching selector's
 * actions (or, with ret, its return actions). */
static __always_inline struct vsel_decision sel__evaluate(struct vsel_hook *cfg, struct vsel_input *in, int ret)
{
    struct vsel_decision d = {.selector = -1};
    if (cfg->nselectors == 0) {
        in->tgid = bpf_get_current_pid_tgid() >> 32;
        in->tid = (__u32)bpf_get_current_pid_tgid();
        d.selector = 0;
        d.post = 1;
        sel__stat(VSEL_STAT_MATCHED);
        sel__stat(VSEL_STAT_POSTED);
        return d;
    }
    __u32 needs = cfg->needs;
    sel__task(in, needs);
    in->nanc = 0;
    if (needs & VSEL_NEED_ANCESTORS)
        sel__ancestors(in, bpf_map_lookup_elem(&vigil_procs, &in->tgid));

    /* Reversed copies only for the arguments a Postfix filter looks at. */
    for (int i = 0; i < VSEL_MAX_ARGS; i++)
        if (VSEL_HAS_KIND(VSEL_ARG_STR) && (cfg->postfix_args & (1u << i)) && in->args[i].kind == VSEL_ARG_STR &&
            in->args[i].len < VSEL_STR_MAX)
            sel__reverse(in->rev[i].data, in->str[i].data, in->args[i].len);

    __u32 m = VSEL_MAX_SELECTORS;
    for (__u32 i = 0; i < VSEL_MAX_SELECTORS; i++) {
        if (i >= cfg->nselectors)
            break;
        if (sel__match_selector(i, ret)) {
            m = i; /* first match wins */
            break;
        }
    }
    if (m >= VSEL_MAX_SELECTORS)
        return d;
    d.selector = m;
    sel__stat(VSEL_STAT_MATCHED);

    struct vsel_selector *s = &cfg->sel[m];
    struct vsel_action *acts = ret ? s->ret_actions : s->actions;
    __u8 nacts = ret ? s->nret_actions : s->nactions;
    int explicit_post = 0, nopost = 0;
    const struct vsel_action *post = 0;
    for (int i = 0; i < VSEL_MAX_ACTIONS; i++) {
        if (i >= nacts)
            break;
        struct vsel_action *a = &acts[i];
        switch (a->kind) {
        case VSEL_ACT_POST:
            explicit_post = 1;
            post = a;
            break;
        case VSEL_ACT_NOPOST:
            nopost = 1;
            break;
        case VSEL_ACT_SIGKILL:
            d.signal = 9;
            break;
        case VSEL_ACT_SIGNAL:
            d.signal = a->arg;
            break;
        case VSEL_ACT_OVERRIDE:
            d.override = a->arg;
            break;
        }
    }
    /* Without actions a match is posted; NoPost wins over an implicit Post. */
    d.post = explicit_post || !nopost;
    if (d.post && post && !sel__rate_ok(post, m, in)) {
        d.post = 0;
        sel__stat(VSEL_STAT_RATE_LIMITED);
    }
    if (d.signal || d.override) {
        if (cfg->enforce) {
            d.enforced = 1;
#ifndef VSEL_NO_SIGNAL
            if (d.signal)
                bpf_send_signal(d.signal);
#endif
            sel__stat(VSEL_STAT_ENFORCED);
        } else {
            sel__stat(VSEL_STAT_MONITORED);
        }
    }
    if (d.post)
        sel__stat(VSEL_STAT_POSTED);
    return d;
}

#endif
