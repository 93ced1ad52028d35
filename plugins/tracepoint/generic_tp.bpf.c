// SPDX-License-Identifier: GPL-2.0
/* A generic tracepoint hook: one object per policy hook, attached to the tracepoint the policy
 * names. It reads the configured fields, evaluates the hook's selectors in-kernel and sends a
 * vhook_record only when a selector posts. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* tracepoint fields are integers or strings: leave the socket comparisons out of the evaluator */
#define VSEL_ARG_KINDS ((1 << VSEL_ARG_INT) | (1 << VSEL_ARG_STR))
#include "vigil/bpf/hook_event.h"
#include "vigil/bpf/selectors.h"
#include "generic_tp.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct gtp_spec gtp_spec = {};

/* records of every hook of the plugin: the plugin reuses one ring for all its hook objects */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 1 << 20);
} hook_events SEC(".maps");

static __always_inline void gtp__fetch(struct vsel_input *in, __u32 i, const void *base, int raw)
{
    struct gtp_arg a = gtp_spec.args[i];
    const char *p = (const char *)base + a.offset;
    sel__clear_arg(in, i);
    if (a.fetch == GTP_FETCH_INT) {
        __s64 v = 0;
        if (raw || a.size == 8) {
            bpf_probe_read_kernel(&v, 8, p);
        } else if (a.size == 4) {
            __u32 x = 0;
            bpf_probe_read_kernel(&x, 4, p);
            v = a.is_signed ? (__s64)(__s32)x : x;
        } else if (a.size == 2) {
            __u16 x = 0;
            bpf_probe_read_kernel(&x, 2, p);
            v = a.is_signed ? (__s64)(__s16)x : x;
        } else {
            __u8 x = 0;
            bpf_probe_read_kernel(&x, 1, p);
            v = a.is_signed ? (__s64)(__s8)x : x;
        }
        sel__set_int(in, i, v);
        return;
    }
    if (a.fetch == GTP_FETCH_DATA_LOC) {
        __u32 loc = 0;
        bpf_probe_read_kernel(&loc, 4, p);
        sel__read_str(in, i, (const char *)base + (loc & 0xffff), 0);
        return;
    }
    if (a.fetch == GTP_FETCH_CHAR_ARRAY) {
        sel__read_str(in, i, p, 0);
        return;
    }
    const void *ptr = 0;
    bpf_probe_read_kernel(&ptr, sizeof(ptr), p);
    sel__read_str(in, i, ptr, a.fetch == GTP_FETCH_USER_STR);
}

static __always_inline int gtp__run(const void *base, int raw)
{
    if (self__current())
        return 0;
    struct vsel_input *in = sel__input();
    struct vsel_hook *cfg = sel__config();
    if (!in || !cfg || !sel__workload_ok(cfg))
        return 0;
    __u32 n = gtp_spec.nargs;
    __u8 enc[VSEL_MAX_ARGS] = {};
    for (__u32 i = 0; i < VSEL_MAX_ARGS; i++) {
        if (i >= n) {
            sel__clear_arg(in, i);
            continue;
        }
        gtp__fetch(in, i, base, raw);
        enc[i] = gtp_spec.args[i].enc;
    }
    struct vsel_decision d = sel__evaluate(cfg, in, 0);
    if (d.selector < 0 || !d.post)
        return 0;
    hook__emit(&hook_events, cfg, in, &d, enc, n, 0, 0);
    return 0;
}

SEC("tracepoint")
int gtp_tracepoint(void *ctx)
{
    return gtp__run(ctx, 0);
}

SEC("raw_tp")
int gtp_raw(struct bpf_raw_tracepoint_args *ctx)
{
    return gtp__run(ctx->args, 1);
}
