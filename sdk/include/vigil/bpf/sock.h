/* Readers for socket-family arguments: struct sock, struct socket, a sockaddr in user or kernel
 * memory, struct sk_buff, and a file descriptor of the current task resolved to its socket.
 * Each fills a struct vsock_arg (vigil/wire/sock.h) that the selector evaluator compares
 * (SAddr/DAddr/SPort/DPort/Protocol/Family/State) and vigil/sdk/sock.hpp decodes.
 *
 * Every read goes through CO-RE probe reads, so these work from any program type that may call
 * bpf_probe_read_kernel/user (tracepoints, raw tracepoints, kprobes, fentry, cgroup programs run
 * with CAP_PERFMON). A failed read leaves the fields it would have filled zero, sets
 * VSOCK_F_ERROR and is counted in vigil_errors; a reader never guesses. */
#ifndef VIGIL_BPF_SOCK_H
#define VIGIL_BPF_SOCK_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/maps.h"
#include "vigil/wire/sock.h"

#define VSOCK_ETH_P_IP 0x0800
#define VSOCK_ETH_P_IPV6 0x86DD
#define VSOCK_IPPROTO_TCP 6
#define VSOCK_IPPROTO_UDP 17
#define VSOCK_IPPROTO_UDPLITE 136
#define VSOCK_IPPROTO_SCTP 132

/* Clears a and marks it as an argument of `kind`. */
static __always_inline void sock__init(struct vsock_arg *a, __u8 kind)
{
    __builtin_memset(a, 0, sizeof(*a));
    a->magic = VSOCK_MAGIC;
    a->kind = kind;
}

static __always_inline void sock__fail(struct vsock_arg *a)
{
    a->flags |= VSOCK_F_ERROR;
    errors__count(VIGIL_ERR_PROBE_READ);
}

static __always_inline long sock__read_mem(void *dst, __u32 size, const void *src, int user)
{
    return user ? bpf_probe_read_user(dst, size, src) : bpf_probe_read_kernel(dst, size, src);
}

/* len bytes of an AF_UNIX sun_path at src into dst (VSOCK_PATH_MAX bytes): an abstract name
 * (leading NUL) is every byte, NULs included; a pathname ends at its first NUL (without one it
 * fills sun_path, and its last byte is lost to the terminator: *cut is set). Returns the length,
 * or -1 when a read failed. */
static __always_inline long sock__read_sun_path(char *dst, const char *src, long len, int user, int *cut)
{
    __u32 n = len > 0 ? len : 0;
    if (n > VSOCK_PATH_MAX)
        n = VSOCK_PATH_MAX;
    n &= 0x7f;
    if (n > VSOCK_PATH_MAX)
        n = VSOCK_PATH_MAX;
    if (n == 0)
        return 0; /* unnamed */
    char first = 0;
    if (sock__read_mem(&first, 1, src, user))
        return -1;
    if (first == 0)
        return sock__read_mem(dst, n, src, user) ? -1 : n;
    __u32 size = n + 1 > VSOCK_PATH_MAX ? VSOCK_PATH_MAX : n + 1;
    long m = user ? bpf_probe_read_user_str(dst, size, src) : bpf_probe_read_kernel_str(dst, size, src);
    if (m < 0)
        return -1;
    if (n == VSOCK_PATH_MAX && m == VSOCK_PATH_MAX)
        *cut = 1;
    return m > 0 ? m - 1 : 0;
}

static __always_inline void sock__read_unix_path(struct vsock_arg *a, const char *src, long len, int user)
{
    int cut = 0;
    long n = sock__read_sun_path(a->path, src, len, user, &cut);
    if (n < 0) {
        sock__fail(a);
        return;
    }
    a->path_len = n;
    if (cut)
        a->flags |= VSOCK_F_TRUNCATED;
}

/* The bound path of an AF_UNIX socket (unix_sk(sk)->addr), if it has one. */
static __always_inline void sock__read_unix_addr(struct vsock_arg *a, const struct sock *sk)
{
    const struct unix_sock *u = (const struct unix_sock *)sk;
    struct unix_address *ua = BPF_CORE_READ(u, addr);
    if (!ua)
        return; /* not bound: no path */
    /* len counts sun_family (2 bytes) and the path, a pathname's NUL included */
    int len = BPF_CORE_READ(ua, len);
    sock__read_unix_path(a, (const char *)&ua->name[0].sun_path, len - 2, 0);
}

/* The local port of an inet socket, host order. inet_num is zeroed when the port is released,
 * which TCP does just before its move to TCP_CLOSE is traced; inet_sport keeps it. */
static __always_inline __u16 sock__port_or_sport(const struct sock *sk, __u16 num)
{
    return num ? num : bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

static __always_inline __u16 sock__local_port(const struct sock *sk)
{
    return sock__port_or_sport(sk, BPF_CORE_READ(sk, __sk_common.skc_num));
}

/* A copy of a struct sock_common: read in one call, then picked apart through CO-RE offsets
 * (a probe read per field costs a helper call each; the common part holds most of them). */
#define VSOCK_COMMON_MAX 512
struct vsock_common_copy {
    char data[VSOCK_COMMON_MAX];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vsock_common_copy);
} vsock_common_scratch SEC(".maps");

/* struct sock: family, type, protocol, TCP state, both ends, mark, priority, cookie. */
static __always_inline int sock__read_sock(struct vsock_arg *a, const struct sock *sk)
{
    sock__init(a, VSOCK_KIND_SOCK);
    __u32 zero = 0;
    struct vsock_common_copy *copy = bpf_map_lookup_elem(&vsock_common_scratch, &zero);
    __u32 size = bpf_core_type_size(struct sock_common);
    if (!sk || !copy || size > VSOCK_COMMON_MAX ||
        bpf_probe_read_kernel(copy->data, size & (VSOCK_COMMON_MAX - 1), &sk->__sk_common)) {
        sock__fail(a);
        return -1;
    }
    const struct sock_common *c = (const struct sock_common *)copy->data;
    a->family = c->skc_family;
    a->state = c->skc_state;
    a->cookie = c->skc_cookie.counter;
    a->type = BPF_CORE_READ(sk, sk_type);
    a->protocol = BPF_CORE_READ(sk, sk_protocol);
    a->mark = BPF_CORE_READ(sk, sk_mark);
    a->priority = BPF_CORE_READ(sk, sk_priority);
    if (a->family == VSOCK_AF_INET) {
        __be32 s = c->skc_rcv_saddr;
        __be32 d = c->skc_daddr;
        __builtin_memcpy(a->saddr, &s, 4);
        __builtin_memcpy(a->daddr, &d, 4);
    } else if (a->family == VSOCK_AF_INET6) {
        __builtin_memcpy(a->saddr, &c->skc_v6_rcv_saddr, 16);
        __builtin_memcpy(a->daddr, &c->skc_v6_daddr, 16);
    } else if (a->family == VSOCK_AF_UNIX) {
        sock__read_unix_addr(a, sk);
        return 0;
    }
    a->sport = sock__port_or_sport(sk, c->skc_num);
    a->dport = bpf_ntohs(c->skc_dport);
    return 0;
}

/* struct socket: its sock, with the type the socket was created with. */
static __always_inline int sock__read_socket(struct vsock_arg *a, const struct socket *sock)
{
    if (!sock) {
        sock__init(a, VSOCK_KIND_SOCK);
        sock__fail(a);
        return -1;
    }
    struct sock *sk = BPF_CORE_READ(sock, sk);
    int err = sock__read_sock(a, sk);
    short type = BPF_CORE_READ(sock, type);
    if (type > 0)
        a->type = type;
    return err;
}

/* The socket behind file descriptor fd of the current task, or NULL when fd is not open or
 * not a socket. A socket file's private_data is its struct socket, whose ->file points back:
 * checking that tells a socket from any other file without the address of socket_file_ops. */
static __always_inline struct socket *sock__from_fd(long fd)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
    if (!fdt || fd < 0)
        return 0;
    unsigned int max = BPF_CORE_READ(fdt, max_fds);
    if ((unsigned long)fd >= max)
        return 0;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = 0;
    if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
        return 0;
    struct socket *sock = BPF_CORE_READ(f, private_data);
    if (!sock || BPF_CORE_READ(sock, file) != f)
        return 0;
    return sock;
}

/* A sockaddr of addrlen bytes at addr (user memory when user): AF_INET/AF_INET6 address and
 * port into saddr/sport, AF_UNIX path into path. Returns 0, or -1 when nothing could be read. */
static __always_inline int sock__read_sockaddr(struct vsock_arg *a, const void *addr, long addrlen, int user)
{
    sock__init(a, VSOCK_KIND_SOCKADDR);
    if (!addr || addrlen < 2) {
        a->flags |= VSOCK_F_TRUNCATED;
        return -1;
    }
    __u16 family = 0;
    if (sock__read_mem(&family, 2, addr, user)) {
        sock__fail(a);
        return -1;
    }
    a->family = family;
    if (family == VSOCK_AF_INET) {
        struct sockaddr_in sin = {};
        if (addrlen < (long)sizeof(sin)) {
            a->flags |= VSOCK_F_TRUNCATED;
            return 0;
        }
        if (sock__read_mem(&sin, sizeof(sin), addr, user)) {
            sock__fail(a);
            return 0;
        }
        a->sport = bpf_ntohs(sin.sin_port);
        __builtin_memcpy(a->saddr, &sin.sin_addr, 4);
    } else if (family == VSOCK_AF_INET6) {
        struct sockaddr_in6 sin6 = {};
        /* SIN6_LEN_RFC2133: the scope id is optional */
        if (addrlen < 24) {
            a->flags |= VSOCK_F_TRUNCATED;
            return 0;
        }
        if (sock__read_mem(&sin6, addrlen >= (long)sizeof(sin6) ? sizeof(sin6) : 24, addr, user)) {
            sock__fail(a);
            return 0;
        }
        a->sport = bpf_ntohs(sin6.sin6_port);
        __builtin_memcpy(a->saddr, &sin6.sin6_addr, 16);
        a->scope_id = sin6.sin6_scope_id;
    } else if (family == VSOCK_AF_UNIX) {
        sock__read_unix_path(a, (const char *)addr + 2, addrlen - 2, user);
    }
    return 0;
}

/* The path of an AF_UNIX sockaddr as a string: a pathname as is, an abstract name with '@' in
 * place of its leading NUL (as ss and /proc/net/unix show it). dst must hold VSOCK_PATH_MAX
 * bytes and be zero-filled by the caller (a selector string key must be zero past the string).
 * Returns the length, or -1 for another family or a failed read (counted). */
static __always_inline long sock__unix_path_str(char *dst, const void *addr, long addrlen, int user)
{
    __u16 family = 0;
    if (!addr || addrlen < 2 || sock__read_mem(&family, 2, addr, user) || family != VSOCK_AF_UNIX)
        return -1;
    int cut = 0;
    long n = sock__read_sun_path(dst, (const char *)addr + 2, addrlen - 2, user, &cut);
    if (n < 0) {
        errors__count(VIGIL_ERR_PROBE_READ);
        return -1;
    }
    if (n > 0 && dst[0] == 0)
        dst[0] = '@';
    return n;
}

/* struct sk_buff: IPv4/IPv6 addresses, protocol and TCP/UDP ports from its headers, length,
 * mark and priority. Ports stay 0 for other protocols and fragments after the first. */
static __always_inline int sock__read_skb(struct vsock_arg *a, const struct sk_buff *skb)
{
    sock__init(a, VSOCK_KIND_SKB);
    if (!skb) {
        sock__fail(a);
        return -1;
    }
    a->len = BPF_CORE_READ(skb, len);
    a->mark = BPF_CORE_READ(skb, mark);
    a->priority = BPF_CORE_READ(skb, priority);
    unsigned char *head = BPF_CORE_READ(skb, head);
    __u16 nh = BPF_CORE_READ(skb, network_header);
    __u16 th = BPF_CORE_READ(skb, transport_header);
    __u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
    __u32 l4 = 0;
    if (proto == VSOCK_ETH_P_IP) {
        struct iphdr ip = {};
        if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh)) {
            sock__fail(a);
            return 0;
        }
        a->family = VSOCK_AF_INET;
        a->protocol = ip.protocol;
        __builtin_memcpy(a->saddr, &ip.saddr, 4);
        __builtin_memcpy(a->daddr, &ip.daddr, 4);
        if (bpf_ntohs(ip.frag_off) & 0x1fff)
            return 0; /* not the first fragment: no transport header */
        l4 = nh + ip.ihl * 4;
    } else if (proto == VSOCK_ETH_P_IPV6) {
        struct ipv6hdr ip6 = {};
        if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh)) {
            sock__fail(a);
            return 0;
        }
        a->family = VSOCK_AF_INET6;
        a->protocol = ip6.nexthdr;
        __builtin_memcpy(a->saddr, &ip6.saddr, 16);
        __builtin_memcpy(a->daddr, &ip6.daddr, 16);
        l4 = nh + sizeof(ip6); /* extension headers are not walked */
    } else {
        return 0;
    }
    /* the transport header offset is ~0 until the stack sets it */
    if (th != 0xffff && th > nh)
        l4 = th;
    if (a->protocol == VSOCK_IPPROTO_TCP || a->protocol == VSOCK_IPPROTO_UDP ||
        a->protocol == VSOCK_IPPROTO_UDPLITE || a->protocol == VSOCK_IPPROTO_SCTP) {
        __be16 ports[2] = {};
        if (bpf_probe_read_kernel(ports, sizeof(ports), head + l4)) {
            sock__fail(a);
            return 0;
        }
        a->sport = bpf_ntohs(ports[0]);
        a->dport = bpf_ntohs(ports[1]);
    }
    return 0;
}

#endif
