// SPDX-License-Identifier: GPL-2.0
// One program per hook kind; hookkinds.cpp loads them one at a time so that a kind the
// kernel refuses cannot hide the others. No vmlinux.h: the programs touch no kernel structs.
// linux/bpf.h defines the types bpf_helpers.h uses, so it stays in its own block, first.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct pt_regs;
struct file;

char LICENSE[] SEC("license") = "GPL";

// Only events from the test process count; set before load.
const volatile __u32 target_tgid = 0;

// Hits per hook kind, indexed by enum hook_kind in hookkinds.cpp.
__u64 hits[16] = {};

// Records for the ringbuf kind.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline int is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

#define HIT(i)                                                                                     \
	do {                                                                                       \
		if (is_target())                                                                   \
			__sync_fetch_and_add(&hits[i], 1);                                         \
	} while (0)

SEC("kprobe/__x64_sys_openat")
int hk_kprobe(void *ctx)
{
	HIT(0);
	return 0;
}

SEC("kretprobe/__x64_sys_openat")
int hk_kretprobe(void *ctx)
{
	HIT(1);
	return 0;
}

SEC("fentry/__x64_sys_openat")
int BPF_PROG(hk_fentry)
{
	HIT(2);
	return 0;
}

SEC("fexit/__x64_sys_openat")
int BPF_PROG(hk_fexit)
{
	HIT(3);
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(hk_lsm, struct file *file)
{
	HIT(4);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(hk_tp_btf, struct pt_regs *regs, long id)
{
	HIT(5);
	return 0;
}

SEC("raw_tp/sys_enter")
int hk_raw_tp(void *ctx)
{
	HIT(6);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int hk_tracepoint(void *ctx)
{
	HIT(7);
	return 0;
}

// Attached by hookkinds.cpp to a function of the test binary.
SEC("uprobe")
int hk_uprobe(void *ctx)
{
	HIT(8);
	return 0;
}

SEC("cgroup/connect4")
int hk_connect4(struct bpf_sock_addr *ctx)
{
	HIT(9);
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int hk_ringbuf(void *ctx)
{
	__u64 *rec;

	if (!is_target())
		return 0;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec)
		return 0;
	*rec = 0x76696769; /* "vigi" */
	bpf_ringbuf_submit(rec, 0);
	HIT(10);
	return 0;
}

SEC("kprobe.multi/__x64_sys_openat")
int hk_kprobe_multi(void *ctx)
{
	HIT(11);
	return 0;
}

// Tetragon's Override action on kprobe-capable kernels.
SEC("kprobe/__x64_sys_openat")
int hk_override_return(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	HIT(12);
	bpf_override_return(ctx, 4242);
	return 0;
}

// The same on fentry-capable kernels: a non-zero return replaces the call.
SEC("fmod_ret/__x64_sys_openat")
int BPF_PROG(hk_fmod_ret)
{
	if (!is_target())
		return 0;
	HIT(13);
	return 4343;
}

// Tetragon's Signal/Sigkill actions.
SEC("tracepoint/syscalls/sys_enter_openat")
int hk_send_signal(void *ctx)
{
	if (!is_target())
		return 0;
	HIT(14);
	bpf_send_signal(10 /* SIGUSR1 */);
	return 0;
}
