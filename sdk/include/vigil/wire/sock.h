/* A socket-family argument (policy types sock, socket, sockaddr, sockaddr_un, skb) as the SDK's
 * BPF readers fill it (vigil/bpf/sock.h) and its decoders read it (vigil/sdk/sock.hpp). One
 * layout for every kind, so the in-kernel selector evaluator finds family, addresses and ports
 * at the same offsets whatever the argument was, and a record carries it as opaque bytes.
 * Shared by BPF C and C++; fixed-width types, explicit padding. Bump VSOCK_LAYOUT on any change. */
#ifndef VIGIL_WIRE_SOCK_H
#define VIGIL_WIRE_SOCK_H

#include "vigil/wire/process.h"

#ifdef __BPF__
typedef __u16 vsock_u16;
#else
typedef uint16_t vsock_u16;
#endif

#define VSOCK_MAGIC 0x4b434f53 /* "SOCK": first word of every struct vsock_arg */
#define VSOCK_LAYOUT 1
#define VSOCK_PATH_MAX 108     /* sizeof(sockaddr_un.sun_path) */

/* Address families, socket types and TCP states the readers and decoders name. vmlinux.h has
 * no macros, so BPF code uses these. */
#define VSOCK_AF_UNIX 1
#define VSOCK_AF_INET 2
#define VSOCK_AF_INET6 10

enum vsock_kind {
    VSOCK_KIND_SOCK = 1,     /* struct sock / struct socket: both ends, state, type */
    VSOCK_KIND_SKB = 2,      /* struct sk_buff: the packet's addresses, ports, length */
    VSOCK_KIND_SOCKADDR = 3, /* struct sockaddr: one address and port (or a unix path) */
};

enum vsock_flags {
    VSOCK_F_ERROR = 1,     /* a read failed: the fields it would have filled are zero */
    VSOCK_F_TRUNCATED = 2, /* the address was shorter than its family needs, or the path was cut */
};

struct vsock_arg {
    vigil_u32 magic;      /* VSOCK_MAGIC */
    vigil_u8 kind;        /* vsock_kind */
    vigil_u8 state;       /* sock: TCP state (1 TCP_ESTABLISHED .. 12 TCP_NEW_SYN_RECV), 0: none */
    vsock_u16 flags;      /* vsock_flags */
    vsock_u16 family;     /* AF_* */
    vsock_u16 type;       /* sock: SOCK_STREAM, SOCK_DGRAM, ...; 0: unknown */
    vsock_u16 protocol;   /* IPPROTO_*: sock and skb */
    vsock_u16 sport;      /* local port, host byte order; sockaddr: its port */
    vsock_u16 dport;      /* remote port, host byte order */
    vsock_u16 path_len;   /* AF_UNIX: bytes of path (an abstract name starts with a NUL byte) */
    vigil_u32 mark;       /* sock, skb: SO_MARK */
    vigil_u32 priority;   /* sock, skb: SO_PRIORITY */
    vigil_u32 len;        /* skb: bytes in the packet */
    vigil_u32 scope_id;   /* sockaddr: sin6_scope_id */
    vigil_u32 pad0;
    vigil_u64 cookie;     /* sock: the socket cookie (SO_COOKIE) once assigned, 0 before */
    vigil_u8 saddr[16];   /* local address, network order (AF_INET: 4 bytes); sockaddr: its address */
    vigil_u8 daddr[16];   /* remote address */
    char path[VSOCK_PATH_MAX]; /* AF_UNIX: the socket's own address (sock) or the address's */
    vigil_u8 pad1[4];
};

#endif
