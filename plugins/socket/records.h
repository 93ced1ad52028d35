/* Records the socket plugin's BPF programs send to its decoder (decode.hpp), and the sensor's
 * configuration in .rodata. Shared by BPF C and C++: fixed-width types, explicit padding; sizes
 * and offsets are checked with static_assert in decode.hpp. */
#ifndef VIGIL_SOCKET_RECORDS_H
#define VIGIL_SOCKET_RECORDS_H

#include "vigil/wire/selectors.h" /* vigil_s32, vigil_s64 */
#include "vigil/wire/sock.h"

#define SOCK_RING_SENSOR 0 /* ring id of the socket sensor */
#define SOCK_RING_HOOKS 1  /* ring id of the connects policy hooks (vhook_record) */

#define SOCK_RECORD_KIND 0x54455353 /* "SSET": first word of every sensor record */

/* What a sensor record reports: the syscall, or a TCP state change. */
enum sock_op {
    SOCK_OP_CONNECT = 1,
    SOCK_OP_ACCEPT = 2,  /* accept and accept4 */
    SOCK_OP_BIND = 3,
    SOCK_OP_LISTEN = 4,
    SOCK_OP_STATE = 5,   /* sock/inet_sock_set_state */
    SOCK_OP_SENDTO = 6,  /* a datagram sent to an explicit address */
    SOCK_OP_SENDMSG = 7,
    SOCK_OP_SENDMMSG = 8,
    SOCK_OP_MAX = 8,
};

/* Families the sensor reports (sock_sensor_config.families). */
enum sock_family_bit {
    SOCK_FAM_UNIX = 1,
    SOCK_FAM_INET = 2,
    SOCK_FAM_INET6 = 4,
};

enum sock_record_flags {
    SOCK_REC_HAS_ADDR = 1,      /* addr holds the sockaddr the call named */
    SOCK_REC_NO_SOCKET = 2,     /* the fd did not resolve to a socket: sock is empty */
    SOCK_REC_OWNER = 4,         /* pid/tid are the socket's owner, not the current task (state) */
    SOCK_REC_OWNER_UNKNOWN = 8, /* a state change of a socket no reported call made: pid is 0 */
};

struct sock_sensor_config {
    vigil_u32 events;   /* bit (1 << sock_op) for each op reported */
    vigil_u32 families; /* sock_family_bit */
    vigil_u32 states;   /* state changes: bit (1 << new TCP state) for each state reported */
    vigil_u32 pad;
};

struct sock_record {
    vigil_u32 kind;       /* SOCK_RECORD_KIND */
    vigil_u32 size;       /* bytes of the whole record */
    vigil_u64 ktime;      /* boot-time ns */
    vigil_u64 proc_ktime; /* exec ktime of the process (its vigil_procs key), 0 when unknown */
    vigil_u32 pid;        /* tgid; the owner's for SOCK_REC_OWNER */
    vigil_u32 tid;
    vigil_u8 op;          /* sock_op */
    vigil_u8 old_state;   /* SOCK_OP_STATE: TCP states */
    vigil_u8 new_state;
    vigil_u8 pad0;
    vigil_u32 flags;      /* sock_record_flags */
    vigil_s64 ret;        /* the syscall's return value (0 for state changes) */
    vigil_s32 fd;         /* the fd the call was made on (-1 for state changes) */
    vigil_u32 pad1;
    struct vsock_arg sock; /* the socket: after the call returned; for accept the new one */
    struct vsock_arg addr; /* the sockaddr of connect, bind and the sends, when HAS_ADDR */
};

#endif
