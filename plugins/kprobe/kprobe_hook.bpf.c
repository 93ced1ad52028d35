// SPDX-License-Identifier: GPL-2.0
/* A function hook: one object per policy hook. The kprobe plugin picks the attach strategy for a
 * kernel function or syscall (kprobe, fentry, lsm, syscall tracepoints, raw_syscalls), the uprobe
 * plugin attaches it to a user-space function (uprobe/uretprobe) or a USDT probe, and each loads
 * only the programs of that strategy; all of them read the raw arguments their way, then share
 * the same steps: read the policy's args, evaluate the selectors in-kernel, and send a
 * vhook_record when a selector posts. With a return probe the entry half is stashed per thread
 * and the one event is sent at return. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
/* One hook object serves one USDT probe of one binary: a few call sites, not libbpf's default 256
 * specs (preallocated in every hook object, kernel functions' too). */
#define BPF_USDT_MAX_SPEC_CNT 16
#include <bpf/usdt.bpf.h>

#include "vigil/bpf/args.h"
#include "vigil/bpf/hook_event.h"
#include "vigil/bpf/selectors.h"
#include "vigil/bpf/sock.h"
#include "kprobe_hook.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct kp_spec kp_spec = {};

/* records of every hook of the plugin: the plugin reuses one ring for all its hook objects */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} hook_events SEC(".maps");

/* The entry half of a return probe: the arguments as read at entry and what entry decided. */
struct kp_stash {
    struct vsel_argval args[VSEL_MAX_ARGS];
    char str[VSEL_MAX_ARGS][VSEL_STR_MAX];
    __u64 ktime;
    __s32 selector;
    __u32 flags; /* KP_F_ENTRY_* */
};

/* thread id -> its pending entry half; the plugin shrinks it to one entry without a return probe */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, struct kp_stash);
} kp_stash SEC(".maps");

struct kp_scratch {
    __u64 raw[8];          /* the call's raw arguments */
    struct pt_regs regs;   /* a syscall wrapper's user registers */
    struct kp_stash stash; /* built here: too big for the stack */
    char path[VIGIL_PATH_BUF]; /* path walks of file, path, dentry and fd arguments */
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct kp_scratch);
} kp_scratch SEC(".maps");

static __always_inline struct kp_scratch *kp__scratch(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&kp_scratch, &zero);
}

/* Fills s->raw from the context, the way the strategy's program gets its arguments. */
static __always_inline int kp__raw_args(void *ctx, struct kp_scratch *s)
{
    __builtin_memset(s->raw, 0, sizeof(s->raw));
    switch (kp_spec.source) {
    case KP_SRC_REGS: {
        struct pt_regs *r = ctx;
        s->raw[0] = r->di;
        s->raw[1] = r->si;
        s->raw[2] = r->dx;
        s->raw[3] = r->cx;
        s->raw[4] = r->r8;
        s->raw[5] = r->r9;
        return 0;
    }
    case KP_SRC_SYSCALL_REGS: {
        /* __x64_sys_<name>(const struct pt_regs *regs): the syscall ABI's registers */
        struct pt_regs *user = (struct pt_regs *)((struct pt_regs *)ctx)->di;
        if (bpf_probe_read_kernel(&s->regs, sizeof(s->regs), user)) {
            errors__count(VIGIL_ERR_PROBE_READ);
            return -1;
        }
        s->raw[0] = s->regs.di;
        s->raw[1] = s->regs.si;
        s->raw[2] = s->regs.dx;
        s->raw[3] = s->regs.r10;
        s->raw[4] = s->regs.r8;
        s->raw[5] = s->regs.r9;
        return 0;
    }
    case KP_SRC_TRAMPOLINE:
        /* past the function's own arguments bpf_get_func_arg fails and the slot stays 0 */
#pragma clang loop unroll(full)
        for (__u32 i = 0; i < KP_MAX_RAW_ARGS; i++)
            bpf_get_func_arg(ctx, i, &s->raw[i]);
        return 0;
    case KP_SRC_SYSCALL_TP:
#pragma clang loop unroll(full)
        for (__u32 i = 0; i < KP_MAX_RAW_ARGS; i++) {
            __u16 off = kp_spec.tp_offsets[i];
            if (off)
                bpf_probe_read_kernel(&s->raw[i], 8, (char *)ctx + off);
        }
        return 0;
    case KP_SRC_RAW_SYSCALLS:
        return bpf_probe_read_kernel(s->raw, KP_MAX_RAW_ARGS * 8, (char *)ctx + 16) ? -1 : 0;
    case KP_SRC_USDT: {
        /* arguments past the probe's own stay 0; an argument libbpf cannot fetch is counted */
        long n = bpf_usdt_arg_cnt(ctx);
#pragma clang loop unroll(full)
        for (__u32 i = 0; i < KP_MAX_RAW_ARGS; i++) {
            long v = 0;
            if (i < n && bpf_usdt_arg(ctx, i, &v))
                errors__count(VIGIL_ERR_PROBE_READ);
            s->raw[i] = v;
        }
        return 0;
    }
    }
    return -1;
}

struct kp_fetch_ctx {
    struct vsel_input *in;
    struct kp_scratch *s;
};

/* Reads policy argument i; one bpf_loop step, so the verifier checks every reader once. */
static long kp__fetch_one(__u32 idx, void *data)
{
    struct kp_fetch_ctx *c = data;
    __u32 i = idx;
    asm volatile("" : "+r"(i));
    if (i >= VSEL_MAX_ARGS)
        return 1;
    struct vsel_input *in = c->in;
    sel__clear_arg(in, i);
    if (i >= kp_spec.nargs)
        return 0;
    struct kp_arg a = kp_spec.args[i];
    __u64 v = c->s->raw[a.src & 7];
    struct path p = {}; /* path-like types: walked once, after the switch */
    switch (a.read) {
    case KP_READ_INT:
        sel__set_int(in, i, args__int(v, a.size, a.is_signed));
        break;
    case KP_READ_USER_STR:
    case KP_READ_KERNEL_STR:
        sel__read_str(in, i, (const void *)v, a.read == KP_READ_USER_STR);
        break;
    case KP_READ_FILENAME:
        args__read_filename(in, i, (struct filename *)v);
        break;
    case KP_READ_USER_BUF:
    case KP_READ_KERNEL_BUF: {
        __u64 len = a.size_src ? c->s->raw[(a.size_src - 1) & 7] : VHOOK_ARG_MAX;
        args__read_buf(in, i, (const void *)v, len, a.read == KP_READ_USER_BUF);
        break;
    }
    case KP_READ_CRED:
        args__read_cred(in, i, (const struct cred *)v);
        break;
    case KP_READ_SOCK:
    case KP_READ_SOCKET:
    case KP_READ_SOCKADDR:
    case KP_READ_USER_SOCKADDR:
    case KP_READ_SKB: {
        struct vsock_arg *sa = (struct vsock_arg *)in->str[i].data;
        int err;
        if (a.read == KP_READ_SOCK)
            err = sock__read_sock(sa, (const struct sock *)v);
        else if (a.read == KP_READ_SOCKET)
            err = sock__read_socket(sa, (const struct socket *)v);
        else if (a.read == KP_READ_SKB)
            err = sock__read_skb(sa, (const struct sk_buff *)v);
        else
            /* the reader takes the family first and then only what that family's address needs;
             * the largest (AF_UNIX) bounds it */
            err = sock__read_sockaddr(sa, (const void *)v, sizeof(struct sockaddr_un),
                                      a.read == KP_READ_USER_SOCKADDR);
        if (err < 0)
            errors__count(VIGIL_ERR_PROBE_READ); /* the argument stays unread: an error_arg */
        else
            sel__set_sock(in, i);
        break;
    }
    case KP_READ_FD:
        args__file_path(args__fd_file(args__int(v, 4, 1)), &p);
        break;
    case KP_READ_FILE:
        args__file_path((struct file *)v, &p);
        break;
    case KP_READ_PATH:
        if (bpf_core_read(&p, sizeof(p), (struct path *)v))
            __builtin_memset(&p, 0, sizeof(p));
        break;
    case KP_READ_DENTRY:
        p.dentry = (struct dentry *)v;
        break;
    }
    if (a.read >= KP_READ_FD && a.read <= KP_READ_DENTRY)
        args__read_path(in, i, p.dentry, p.mnt, c->s->path);
    return 0;
}

/* Reads the raw arguments and the policy's args into the selector input. */
static __always_inline struct vsel_input *kp__read_args(void *ctx, struct kp_scratch *s)
{
    struct vsel_input *in = sel__input();
    if (!in || kp__raw_args(ctx, s))
        return 0;
    struct kp_fetch_ctx c = {.in = in, .s = s};
    bpf_loop(VSEL_MAX_ARGS, kp__fetch_one, &c, 0);
    return in;
}

static __always_inline void kp__encodings(__u8 *enc)
{
#pragma clang loop unroll(full)
    for (__u32 i = 0; i < VSEL_MAX_ARGS; i++)
        enc[i] = kp_spec.args[i].enc;
}

/* The entry half of a return probe has matched: keep its arguments for the return. Its Post is
 * not an event yet, so it is taken back from the posted counter. */
static __always_inline void kp__stash(struct vsel_input *in, struct kp_scratch *s, const struct vsel_decision *d)
{
    struct kp_stash *st = &s->stash;
    /* bulk copies through the helper: clang copies these unaligned char arrays byte by byte */
    bpf_probe_read_kernel(st->args, sizeof(st->args), in->args);
#pragma clang loop unroll(full)
    for (__u32 i = 0; i < VSEL_MAX_ARGS; i++)
        bpf_probe_read_kernel(st->str[i], VSEL_STR_MAX, in->str[i].data);
    st->ktime = bpf_ktime_get_boot_ns();
    st->selector = d->selector;
    st->flags = (d->signal & 0xff) << KP_F_ENTRY_SIGNAL_SHIFT;
    if (d->override)
        st->flags |= KP_F_ENTRY_OVERRIDE;
    if (d->enforced)
        st->flags |= KP_F_ENTRY_ENFORCED;
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    if (bpf_map_update_elem(&kp_stash, &tid, st, BPF_ANY))
        errors__count(VIGIL_ERR_MAP_UPDATE);
    __u32 slot = VSEL_STAT_POSTED;
    __u64 *posted = bpf_map_lookup_elem(&vsel_stats, &slot);
    if (posted && *posted)
        *posted -= 1;
}

/* Entry of the hooked call. Returns the errno an enforced Override asks for (positive), or 0. */
static __always_inline __u32 kp__entry(void *ctx)
{
    if (self__current())
        return 0;
    struct kp_scratch *s = kp__scratch();
    struct vsel_hook *cfg = sel__config();
    if (!s || !cfg || !sel__workload_ok(cfg))
        return 0;
    struct vsel_input *in = kp__read_args(ctx, s);
    if (!in)
        return 0;
    struct vsel_decision d = sel__evaluate(cfg, in, 0);
    if (d.selector < 0)
        return 0;
    if (kp_spec.has_return) {
        if (d.post)
            kp__stash(in, s, &d);
    } else if (d.post) {
        __u8 enc[VSEL_MAX_ARGS];
        kp__encodings(enc);
        hook__emit(&hook_events, cfg, in, &d, enc, kp_spec.nargs, 0, 0);
    }
    return d.override && d.enforced ? d.override : 0;
}

/* Return of the hooked call: merges the stashed entry half with the return value into one
 * event. matchReturnArgs read the return value from slot 0 (see sel__evaluate). */
static __always_inline void kp__return(__s64 ret)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct kp_stash *st = bpf_map_lookup_elem(&kp_stash, &tid);
    if (!st)
        return;
    struct vsel_hook *cfg = sel__config();
    struct vsel_input *in = sel__input();
    if (!cfg || !in) {
        bpf_map_delete_elem(&kp_stash, &tid);
        return;
    }
    bpf_probe_read_kernel(in->args, sizeof(in->args), st->args);
#pragma clang loop unroll(full)
    for (__u32 i = 0; i < VSEL_MAX_ARGS; i++)
        bpf_probe_read_kernel(in->str[i].data, VSEL_STR_MAX, st->str[i]);
    __u32 flags = VHOOK_F_RETURN | st->flags;
    bpf_map_delete_elem(&kp_stash, &tid);

    struct kp_arg r = kp_spec.ret;
    __s64 rv = args__int((__u64)ret, r.size ? r.size : 8, r.is_signed);
    struct vsel_argval first = in->args[0];
    sel__set_int(in, 0, rv);
    struct vsel_decision d = sel__evaluate(cfg, in, 1);
    in->args[0] = first;
    if (d.selector < 0 || !d.post)
        return;
    __u8 enc[VSEL_MAX_ARGS];
    kp__encodings(enc);
    __u32 nargs = kp_spec.nargs;
    if (r.read == KP_READ_USER_STR && nargs < VSEL_MAX_ARGS) {
        /* a string returned by a user-space function (readline's line): one more argument */
        sel__read_str(in, nargs, (const void *)ret, 1);
        enc[nargs] = VHOOK_ENC_STRING;
        nargs++;
    }
    hook__emit(&hook_events, cfg, in, &d, enc, nargs, flags, rv);
}

/* raw_syscalls fire for every syscall: only ours goes on. */
static __always_inline int kp__other_syscall(void *ctx)
{
    long id = 0;
    bpf_probe_read_kernel(&id, sizeof(id), (char *)ctx + 8);
    return kp_spec.source == KP_SRC_RAW_SYSCALLS && id != kp_spec.syscall_nr;
}

/* Also a uprobe on a user-space function (uprobe plugin), whose registers are the call's too. */
SEC("kprobe")
int kp_kprobe(struct pt_regs *ctx)
{
    kp__entry(ctx);
    return 0;
}

/* Loaded only for hooks with an Override action, on kernels with bpf_override_return
 * (CONFIG_BPF_KPROBE_OVERRIDE): a program calling it does not load elsewhere. */
SEC("kprobe")
int kp_kprobe_override(struct pt_regs *ctx)
{
    __u32 err = kp__entry(ctx);
    if (err)
        bpf_override_return(ctx, -(long)err);
    return 0;
}

/* Also a uretprobe (uprobe plugin). */
SEC("kretprobe")
int kp_kretprobe(struct pt_regs *ctx)
{
    kp__return((__s64)PT_REGS_RC(ctx));
    return 0;
}

SEC("fentry")
int kp_fentry(__u64 *ctx)
{
    kp__entry(ctx);
    return 0;
}

SEC("fexit")
int kp_fexit(__u64 *ctx)
{
    __u64 ret = 0;
    bpf_get_func_ret(ctx, &ret);
    kp__return((__s64)ret);
    return 0;
}

/* A USDT probe (uprobe plugin): arguments by libbpf's USDT spec of the call site. */
SEC("usdt")
int kp_usdt(struct pt_regs *ctx)
{
    kp__entry(ctx);
    return 0;
}

/* An LSM hook: Override is the hook's verdict. */
SEC("lsm")
int kp_lsm(__u64 *ctx)
{
    __u32 err = kp__entry(ctx);
    return err ? -(int)err : 0;
}

/* syscalls/sys_enter_<name> or raw_syscalls/sys_enter */
SEC("tracepoint")
int kp_sys_enter(void *ctx)
{
    if (kp__other_syscall(ctx))
        return 0;
    kp__entry(ctx);
    return 0;
}

/* syscalls/sys_exit_<name> or raw_syscalls/sys_exit: `long ret` at 16 in both */
SEC("tracepoint")
int kp_sys_exit(void *ctx)
{
    if (kp__other_syscall(ctx))
        return 0;
    __s64 ret = 0;
    bpf_probe_read_kernel(&ret, sizeof(ret), (char *)ctx + 16);
    kp__return(ret);
    return 0;
}
