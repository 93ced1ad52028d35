// SPDX-License-Identifier: GPL-2.0
/* Test harness for the socket readers (vigil/bpf/sock.h). `read_fd_and_addr` runs with
 * BPF_PROG_TEST_RUN in the test process itself, so the fd table and the user memory it reads
 * are the test's; `on_queue` watches packets leaving through net_dev_queue and keeps the first
 * whose destination port is the one the test sends to. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "vigil/bpf/sock.h"

char LICENSE[] SEC("license") = "GPL";

/* inputs */
long test_fd = 0;
const void *test_uaddr = 0;
long test_addrlen = 0;
__u16 skb_port = 0;

/* outputs */
int found_socket = 0;
struct vsock_arg out_sock = {};
struct vsock_arg out_addr = {};
char out_path[VSOCK_PATH_MAX + 1] = {};
long out_path_len = 0;
struct vsock_arg out_skb = {};
__u32 skb_hits = 0;
struct vsock_arg skb_tmp = {};

SEC("raw_tp")
int read_fd_and_addr(void *ctx)
{
    struct socket *s = sock__from_fd(test_fd);
    found_socket = s != 0;
    if (s)
        sock__read_socket(&out_sock, s);
    sock__read_sockaddr(&out_addr, test_uaddr, test_addrlen, 1);
    __builtin_memset(out_path, 0, sizeof(out_path));
    out_path_len = sock__unix_path_str(out_path, test_uaddr, test_addrlen, 1);
    return 0;
}

SEC("raw_tp/net_dev_queue")
int on_queue(struct bpf_raw_tracepoint_args *ctx)
{
    if (!skb_port)
        return 0;
    sock__read_skb(&skb_tmp, (const struct sk_buff *)ctx->args[0]);
    if (skb_tmp.dport != skb_port || skb_hits)
        return 0;
    __builtin_memcpy(&out_skb, &skb_tmp, sizeof(out_skb));
    skb_hits++;
    return 0;
}
