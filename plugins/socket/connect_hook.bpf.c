// SPDX-License-Identifier: GPL-2.0
/* A `connects` policy hook: one object per hook, its cgroup programs attached to the root of
 * the cgroup v2 hierarchy, so they run for every process. The kernel calls them inside
 * connect() (connect4/6) and, for datagrams sent to an address, inside sendmsg() (sendmsg4/6),
 * before anything leaves the socket: returning 0 makes the call fail with EPERM. That is how
 * Override is carried out, synchronously; in monitor mode the call goes ahead and the event
 * says it was not enforced.
 *
 * args[0] is the socket as a struct vsock_arg with the destination as its remote end (daddr,
 * dport), so the policy's DAddr/DPort/... filters compare where the call goes; args[1] is the
 * operation (sock_op), for the event only.
 *
 * The verifier checks the selector evaluator once per program (tail calls between programs of
 * different attach types are refused by newer kernels), so the evaluator is built with only the
 * comparisons a connects hook can need. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* cgroup programs have no bpf_send_signal; the parser refuses Sigkill/Signal on connects */
#define VSEL_NO_SIGNAL
#define VSEL_CGROUP_V2_ONLY
/* the only argument selectors can name is the socket, and connect() has no return probe */
#define VSEL_ARG_KINDS (1 << VSEL_ARG_SOCK)
#define VSEL_NO_RETURN_ARGS
#include "vigil/bpf/hook_event.h"
#include "vigil/bpf/selectors.h"
#include "vigil/bpf/sock.h"
#include "records.h"

char LICENSE[] SEC("license") = "GPL";

/* records of every connects hook: the plugin reuses one ring for all its hook objects */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} hook_events SEC(".maps");

/* cgroup/sock_addr verdicts */
#define VERDICT_DENY 0
#define VERDICT_ALLOW 1

static __always_inline int hook__run(struct bpf_sock_addr *ctx, __u8 op, int v6)
{
    if (self__current())
        return VERDICT_ALLOW;
    struct vsel_input *in = sel__input();
    struct vsel_hook *cfg = sel__config();
    if (!in || !cfg || !sel__workload_ok(cfg))
        return VERDICT_ALLOW;
    for (int i = 0; i < VSEL_MAX_ARGS; i++)
        sel__clear_arg(in, i);

    /* cgroup context fields are read one 4-byte word at a time, at constant offsets */
    struct vsock_arg *a = (struct vsock_arg *)in->str[0].data;
    sock__init(a, VSOCK_KIND_SOCK);
    a->family = ctx->user_family;
    a->type = ctx->type;
    a->protocol = ctx->protocol;
    a->dport = bpf_ntohs(ctx->user_port);
    a->cookie = bpf_get_socket_cookie(ctx);
    __u32 w[4];
    if (v6) {
        w[0] = ctx->user_ip6[0];
        w[1] = ctx->user_ip6[1];
        w[2] = ctx->user_ip6[2];
        w[3] = ctx->user_ip6[3];
        __builtin_memcpy(a->daddr, w, 16);
    } else {
        w[0] = ctx->user_ip4;
        __builtin_memcpy(a->daddr, w, 4);
    }
    struct bpf_sock *sk = ctx->sk;
    if (sk) {
        a->state = sk->state;
        a->mark = sk->mark;
        a->priority = sk->priority;
        a->sport = sk->src_port;
        if (v6) {
            w[0] = sk->src_ip6[0];
            w[1] = sk->src_ip6[1];
            w[2] = sk->src_ip6[2];
            w[3] = sk->src_ip6[3];
            __builtin_memcpy(a->saddr, w, 16);
        } else {
            w[0] = sk->src_ip4;
            __builtin_memcpy(a->saddr, w, 4);
        }
    }
    sel__set_sock(in, 0);
    sel__set_int(in, 1, op);

    struct vsel_decision d = sel__evaluate(cfg, in, 0);
    if (d.selector < 0)
        return VERDICT_ALLOW;
    if (d.post) {
        __u8 enc[VSEL_MAX_ARGS] = {VHOOK_ENC_BYTES, VHOOK_ENC_S64};
        hook__emit(&hook_events, cfg, in, &d, enc, 2, 0, 0);
    }
    return d.override && d.enforced ? VERDICT_DENY : VERDICT_ALLOW;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
    return hook__run(ctx, SOCK_OP_CONNECT, 0);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
    return hook__run(ctx, SOCK_OP_CONNECT, 1);
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
    return hook__run(ctx, SOCK_OP_SENDMSG, 0);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
    return hook__run(ctx, SOCK_OP_SENDMSG, 1);
}
