// SPDX-License-Identifier: GPL-2.0
/* Socket sensor: connect, accept, bind, listen and datagram sends to an address from the
 * syscall tracepoints, TCP state changes from sock/inet_sock_set_state. Needs no kprobes.
 *
 * A syscall is seen twice: sys_enter reads what the process asked for (the sockaddr, in user
 * memory) and keeps it per thread in sock_calls; sys_exit adds the outcome and the socket as the
 * kernel left it (local and remote ends, state), resolved from the fd, and sends one record.
 * Everything the configuration leaves out (op, address family, TCP state) is dropped before any
 * ring space is reserved; a full ring is counted in vigil_errors.
 *
 * State changes mostly happen in softirq context, on whatever task the CPU was running. The
 * process is therefore the socket's owner as recorded at connect, accept and listen
 * (sock_owners, listen_owners), never the current task; a socket nobody was seen making is
 * reported with pid 0 and flagged. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vigil/bpf/emit.h"
#include "vigil/bpf/process.h"
#include "vigil/bpf/sock.h"
#include "records.h"

char LICENSE[] SEC("license") = "GPL";

#define EAGAIN 11
#define EINPROGRESS 115
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define SOCK_DGRAM 2

/* what to report; set by the plugin before load */
const volatile struct sock_sensor_config sensor_config = {};

/* sensor records for the host; size set by the plugin before load */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 21);
} socket_events SEC(".maps");

/* A syscall between its sys_enter and sys_exit. */
struct sock_call {
    __u8 op;       /* sock_op */
    __u8 has_addr;
    __u16 pad;
    __s32 fd;
    struct vsock_arg addr;
};

/* pid_tgid -> the call the thread is in; LRU, so a thread that never returns (killed in the
 * call) only costs an entry until it is pushed out */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct sock_call);
} sock_calls SEC(".maps");

struct sock_owner {
    __u32 pid;
    __u32 tid;
    __u64 proc_ktime;
    __u64 cgroup; /* the owner's cgroup v2 id: its state changes count against its rate */
};

/* struct sock address -> the process that connected, accepted or listened on it */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, struct sock_owner);
} sock_owners SEC(".maps");

struct listen_key {
    __u32 netns; /* network namespace inode */
    __u16 port;
    __u16 pad;
};

/* (netns, local port) -> the process listening there: owner of connections not yet accepted */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, struct listen_key);
    __type(value, struct sock_owner);
} listen_owners SEC(".maps");

/* per-CPU work area for a call at sys_enter (too big for the BPF stack) */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sock_call);
} call_scratch SEC(".maps");

/* syscalls/sys_enter_* and sys_exit_* records: common header, syscall number, then the
 * arguments (or the return value), 8 bytes each */
struct sys_enter_ctx {
    __u64 common;
    __s32 nr;
    __u32 pad;
    __u64 args[6];
};

struct sys_exit_ctx {
    __u64 common;
    __s32 nr;
    __u32 pad;
    __s64 ret;
};

static __always_inline int op_wanted(__u32 op)
{
    return op <= SOCK_OP_MAX && (sensor_config.events & (1u << op));
}

static __always_inline int family_wanted(__u16 family)
{
    switch (family) {
    case VSOCK_AF_UNIX:
        return sensor_config.families & SOCK_FAM_UNIX;
    case VSOCK_AF_INET:
        return sensor_config.families & SOCK_FAM_INET;
    case VSOCK_AF_INET6:
        return sensor_config.families & SOCK_FAM_INET6;
    }
    return 0;
}

static __always_inline struct sock_call *call__scratch(__u8 op, long fd)
{
    __u32 zero = 0;
    struct sock_call *c = bpf_map_lookup_elem(&call_scratch, &zero);
    if (!c)
        return 0;
    c->op = op;
    c->has_addr = 0;
    c->pad = 0;
    c->fd = fd;
    return c;
}

static __always_inline void call__save(struct sock_call *c)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (bpf_map_update_elem(&sock_calls, &id, c, BPF_ANY))
        errors__count(VIGIL_ERR_MAP_UPDATE);
}

static __always_inline struct sock *call__sock(long fd)
{
    struct socket *s = sock__from_fd(fd);
    return s ? BPF_CORE_READ(s, sk) : 0;
}

static __always_inline void owner__current(struct sock_owner *o)
{
    __u64 id = bpf_get_current_pid_tgid();
    o->pid = id >> 32;
    o->tid = (__u32)id;
    o->proc_ktime = proc__ktime(o->pid);
    o->cgroup = bpf_get_current_cgroup_id();
}

/* Records the current process as the owner of sk, for its later state changes. Datagram
 * sockets have none, and an entry nothing would remove could outlive its socket. */
static __always_inline void owner__set(const struct sock *sk)
{
    if (!sk || !op_wanted(SOCK_OP_STATE) || BPF_CORE_READ(sk, sk_type) == SOCK_DGRAM)
        return;
    __u64 key = (__u64)sk;
    struct sock_owner o;
    owner__current(&o);
    if (bpf_map_update_elem(&sock_owners, &key, &o, BPF_ANY))
        errors__count(VIGIL_ERR_MAP_UPDATE);
}

static __always_inline struct listen_key listen__key(const struct sock *sk)
{
    struct listen_key k = {};
    k.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
    k.port = sock__local_port(sk);
    return k;
}

/* ---- sys_enter: what the process asked for ------------------------------------------------ */

/* connect, bind: the sockaddr decides whether the call is reported at all. */
static __always_inline int enter_addr(__u8 op, long fd, const void *uaddr, long addrlen)
{
    if (!op_wanted(op))
        return 0;
    struct sock_call *c = call__scratch(op, fd);
    if (!c)
        return 0;
    sock__read_sockaddr(&c->addr, uaddr, addrlen, 1);
    c->has_addr = 1;
    if (!family_wanted(c->addr.family))
        return 0;
    /* a connect's state changes start inside the call (SYN_SENT) */
    if (op == SOCK_OP_CONNECT)
        owner__set(call__sock(fd));
    call__save(c);
    return 0;
}

/* accept, listen: the socket's family decides. */
static __always_inline int enter_fd(__u8 op, long fd)
{
    if (!op_wanted(op))
        return 0;
    struct sock *sk = call__sock(fd);
    if (!sk || !family_wanted(BPF_CORE_READ(sk, __sk_common.skc_family)))
        return 0;
    struct sock_call *c = call__scratch(op, fd);
    if (!c)
        return 0;
    sock__init(&c->addr, 0);
    /* listen moves the socket to TCP_LISTEN inside the call */
    if (op == SOCK_OP_LISTEN)
        owner__set(sk);
    call__save(c);
    return 0;
}

/* sendto, sendmsg, sendmmsg: only datagrams sent to an explicit address. */
static __always_inline int enter_send(__u8 op, long fd, const void *uaddr, long addrlen)
{
    if (!uaddr || !op_wanted(op))
        return 0;
    return enter_addr(op, fd, uaddr, addrlen);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int enter_connect(struct sys_enter_ctx *ctx)
{
    return enter_addr(SOCK_OP_CONNECT, ctx->args[0], (const void *)ctx->args[1], (long)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_bind")
int enter_bind(struct sys_enter_ctx *ctx)
{
    return enter_addr(SOCK_OP_BIND, ctx->args[0], (const void *)ctx->args[1], (long)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_accept")
int enter_accept(struct sys_enter_ctx *ctx)
{
    return enter_fd(SOCK_OP_ACCEPT, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int enter_accept4(struct sys_enter_ctx *ctx)
{
    return enter_fd(SOCK_OP_ACCEPT, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_listen")
int enter_listen(struct sys_enter_ctx *ctx)
{
    return enter_fd(SOCK_OP_LISTEN, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int enter_sendto(struct sys_enter_ctx *ctx)
{
    /* sendto(fd, buf, len, flags, addr, addrlen) */
    return enter_send(SOCK_OP_SENDTO, ctx->args[0], (const void *)ctx->args[4], (long)ctx->args[5]);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int enter_sendmsg(struct sys_enter_ctx *ctx)
{
    struct user_msghdr m = {};
    if (!op_wanted(SOCK_OP_SENDMSG) ||
        bpf_probe_read_user(&m, sizeof(m), (const void *)ctx->args[1]))
        return 0;
    return enter_send(SOCK_OP_SENDMSG, ctx->args[0], m.msg_name, m.msg_namelen);
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int enter_sendmmsg(struct sys_enter_ctx *ctx)
{
    /* the first message's destination stands for the batch */
    struct user_msghdr m = {};
    if (!op_wanted(SOCK_OP_SENDMMSG) ||
        bpf_probe_read_user(&m, sizeof(m), (const void *)ctx->args[1]))
        return 0;
    return enter_send(SOCK_OP_SENDMMSG, ctx->args[0], m.msg_name, m.msg_namelen);
}

/* ---- sys_exit: the outcome and the socket as the kernel left it ---------------------------- */

/* Everything but the process, which the caller fills. */
static __always_inline void record__base(struct sock_record *r, __u8 op, __u32 flags)
{
    r->kind = SOCK_RECORD_KIND;
    r->size = sizeof(*r);
    r->ktime = bpf_ktime_get_boot_ns();
    r->op = op;
    r->old_state = 0;
    r->new_state = 0;
    r->pad0 = 0;
    r->flags = flags;
    r->ret = 0;
    r->fd = -1;
    r->pad1 = 0;
}

/* A record about the calling process. */
static __always_inline void record__header(struct sock_record *r, __u8 op, __u32 flags)
{
    __u64 id = bpf_get_current_pid_tgid();
    record__base(r, op, flags);
    r->pid = id >> 32;
    r->tid = (__u32)id;
    r->proc_ktime = proc__ktime(r->pid);
}

static __always_inline int exit_call(__u8 op, __s64 ret)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct sock_call *c = bpf_map_lookup_elem(&sock_calls, &id);
    if (!c)
        return 0;
    /* a non-blocking accept or send that found nothing to do is not an event */
    int quiet = ret == -EAGAIN && (op == SOCK_OP_ACCEPT || op >= SOCK_OP_SENDTO);
    if (c->op != op || quiet) {
        bpf_map_delete_elem(&sock_calls, &id);
        return 0;
    }
    struct sock_record *r = evt__reserve(&socket_events, sizeof(*r));
    if (!r) {
        bpf_map_delete_elem(&sock_calls, &id);
        return 0;
    }
    record__header(r, op, 0);
    r->ret = ret;
    r->fd = c->fd;
    if (c->has_addr) {
        __builtin_memcpy(&r->addr, &c->addr, sizeof(r->addr));
        r->flags |= SOCK_REC_HAS_ADDR;
    } else {
        sock__init(&r->addr, 0);
    }
    bpf_map_delete_elem(&sock_calls, &id);

    /* accept: the new connection's socket; otherwise the one the call was made on */
    long fd = op == SOCK_OP_ACCEPT && ret >= 0 ? ret : r->fd;
    struct socket *s = sock__from_fd(fd);
    if (s) {
        sock__read_socket(&r->sock, s);
    } else {
        sock__init(&r->sock, VSOCK_KIND_SOCK);
        r->flags |= SOCK_REC_NO_SOCKET;
    }
    struct sock *sk = s ? BPF_CORE_READ(s, sk) : 0;
    if (sk && op == SOCK_OP_ACCEPT && ret >= 0)
        owner__set(sk);
    /* a connect that failed before the handshake leaves no state change to clear its owner */
    if (sk && op == SOCK_OP_CONNECT && ret < 0 && ret != -EINPROGRESS && r->sock.state == TCP_CLOSE) {
        __u64 key = (__u64)sk;
        bpf_map_delete_elem(&sock_owners, &key);
    }
    if (sk && op == SOCK_OP_LISTEN && ret == 0 && op_wanted(SOCK_OP_STATE)) {
        struct listen_key k = listen__key(sk);
        struct sock_owner o;
        owner__current(&o);
        if (bpf_map_update_elem(&listen_owners, &k, &o, BPF_ANY))
            errors__count(VIGIL_ERR_MAP_UPDATE);
    }
    /* vigild's own calls keep their owner bookkeeping (so their state changes are known to be
     * vigild's) but are not reported; nor are calls past their cgroup's rate */
    if (self__current() || evt__over_cgroup_rate()) {
        bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
        return 0;
    }
    evt__submit_to(&socket_events, r, sizeof(*r));
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_CONNECT, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_bind")
int exit_bind(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_BIND, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_ACCEPT, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_ACCEPT, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_listen")
int exit_listen(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_LISTEN, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int exit_sendto(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_SENDTO, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int exit_sendmsg(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_SENDMSG, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int exit_sendmmsg(struct sys_exit_ctx *ctx)
{
    return exit_call(SOCK_OP_SENDMMSG, ctx->ret);
}

/* ---- TCP state changes ----------------------------------------------------------------------- */

static __always_inline int on_state(const struct sock *sk, int oldstate, int newstate, __u64 cookie)
{
    if (!op_wanted(SOCK_OP_STATE) || newstate < 0 || newstate > 31 ||
        !(sensor_config.states & (1u << newstate)))
        return 0;
    if (!family_wanted(BPF_CORE_READ(sk, __sk_common.skc_family)))
        return 0;
    __u64 key = (__u64)sk;
    struct sock_owner *o = bpf_map_lookup_elem(&sock_owners, &key);
    if (!o) {
        /* a connection the listener has not accepted yet belongs to the listener */
        struct listen_key k = listen__key(sk);
        o = bpf_map_lookup_elem(&listen_owners, &k);
    }
    if (o && (self__is(o->pid) || evt__over_rate_of(o->cgroup))) {
        if (newstate == TCP_CLOSE)
            bpf_map_delete_elem(&sock_owners, &key);
        return 0;
    }
    struct sock_record *r = evt__reserve(&socket_events, sizeof(*r));
    if (!r)
        return 0;
    /* the socket's owner, not the task the state change happens to run on */
    record__base(r, SOCK_OP_STATE, 0);
    if (o) {
        r->pid = o->pid;
        r->tid = o->tid;
        r->proc_ktime = o->proc_ktime;
        r->flags |= SOCK_REC_OWNER;
    } else {
        r->pid = 0;
        r->tid = 0;
        r->proc_ktime = 0;
        r->flags |= SOCK_REC_OWNER_UNKNOWN;
    }
    r->old_state = oldstate;
    r->new_state = newstate;
    sock__read_sock(&r->sock, sk);
    r->sock.state = newstate; /* the tracepoint fires before the socket's state is stored */
    if (cookie)
        r->sock.cookie = cookie;
    sock__init(&r->addr, 0);
    if (newstate == TCP_CLOSE) {
        bpf_map_delete_elem(&sock_owners, &key);
        if (oldstate == TCP_LISTEN) {
            struct listen_key k = listen__key(sk);
            bpf_map_delete_elem(&listen_owners, &k);
        }
    }
    evt__submit_to(&socket_events, r, sizeof(*r));
    return 0;
}

/* tp_btf: the socket is a typed pointer, so the socket cookie can be asked for (and assigned):
 * later records of the same socket, from any hook, carry the same cookie */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_btf, const struct sock *sk, int oldstate, int newstate)
{
    return on_state(sk, oldstate, newstate, bpf_get_socket_cookie((void *)sk));
}

SEC("tracepoint/sock/inet_sock_set_state")
int state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
    return on_state(ctx->skaddr, ctx->oldstate, ctx->newstate, 0);
}
