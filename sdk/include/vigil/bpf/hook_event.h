/* Building and sending a vhook_record (vigil/wire/hook_event.h) from the arguments a hook
 * program put in the selector input. The record is assembled in per-CPU scratch and copied into
 * the ring with its real size, so short events cost a short record. */
#ifndef VIGIL_BPF_HOOK_EVENT_H
#define VIGIL_BPF_HOOK_EVENT_H

#include "vigil/bpf/emit.h"
#include "vigil/bpf/process.h"
#include "vigil/bpf/selectors.h"
#include "vigil/wire/hook_event.h"

struct vhook_scratch {
    char buf[VHOOK_RECORD_MAX];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vhook_scratch);
} vhook_scratch SEC(".maps");

/* Per argument: how it is encoded (enum vhook_arg_enc), filled by the hook program. */
struct vhook_arg_plan {
    __u8 enc[VSEL_MAX_ARGS];
};

/* Sends the record for decision d; integers come from in->args[i].ival, strings from
 * in->str[i].data. Returns 0 or a negative error (counted). */
static __always_inline long hook__emit(void *ring, struct vsel_hook *cfg, struct vsel_input *in,
                                       const struct vsel_decision *d, const __u8 *enc, __u32 nargs,
                                       __u32 flags, __s64 retval)
{
    __u32 zero = 0;
    struct vhook_scratch *s = bpf_map_lookup_elem(&vhook_scratch, &zero);
    if (!s)
        return -1;
    struct vhook_record *r = (struct vhook_record *)s->buf;
    r->kind = VHOOK_RECORD_KIND;
    r->ktime = bpf_ktime_get_boot_ns();
    r->pid = in->tgid;
    r->tid = in->tid;
    r->hook_id = cfg->hook_id;
    r->selector = d->selector;
    r->signal = d->signal;
    r->override = d->override;
    r->flags = flags;
    if (d->signal || d->override)
        r->flags |= d->enforced ? VHOOK_F_ENFORCED : VHOOK_F_MONITORED;
    r->retval = retval;
    /* The image that made the call: an exec right after it replaces the vigil_procs entry before
     * the host reads this record, so the host cannot find it by pid. */
    r->proc_ktime = proc__ktime(in->tgid);
    r->nargs = nargs > VSEL_MAX_ARGS ? VSEL_MAX_ARGS : nargs;

    __u64 off = sizeof(*r);
    /* Unrolled: with a loop, clang may lay a `continue` out as a fallthrough into the loop head,
     * which 6.1's verifier rejects as a back-edge. Unrolled, clang proves the bound check below
     * true and drops it, and 6.1 cannot bound `off` without it: the barrier keeps it (both found
     * by the kernel matrix). */
#pragma clang loop unroll(full)
    for (int i = 0; i < VSEL_MAX_ARGS; i++) {
        if (i >= r->nargs)
            break;
        asm volatile("" : "+r"(off));
        if (off > VHOOK_RECORD_MAX - sizeof(struct vhook_arg) - VHOOK_ARG_MAX)
            break;
        struct vhook_arg *a = (struct vhook_arg *)(s->buf + off);
        off += sizeof(*a);
        a->flags = 0;
        a->pad = 0;
        a->enc = enc[i];
        struct vsel_argval *v = &in->args[i];
        if (v->kind == VSEL_ARG_NONE) {
            a->enc = VHOOK_ENC_NONE;
            a->flags = VHOOK_ARG_ERROR;
            a->len = 0;
            a->orig_len = 0;
            continue;
        }
        if (a->enc == VHOOK_ENC_S64 || a->enc == VHOOK_ENC_U64) {
            *(__s64 *)(s->buf + off) = v->ival;
            a->len = 8;
            a->orig_len = 8;
            off += 8;
            continue;
        }
        __u32 len = v->len;
        if (len >= VSEL_STR_MAX) {
            a->flags |= VHOOK_ARG_TRUNCATED;
            len = VSEL_STR_MAX - 1;
        }
        /* The 6.1 verifier loses the clamp above when the arguments' encodings are constants
         * (clang folds it into the offset arithmetic): restate a bound it keeps. */
        len &= 0xff;
        a->len = len;
        a->orig_len = v->len;
        __builtin_memcpy(s->buf + off, in->str[i].data, VHOOK_ARG_MAX);
        off += (len + 7) & ~7u;
    }
    r->size = off;
    /* A 64-bit copy bounded where the verifier sees it: 6.1 loses the bound of the 32-bit `off`
     * and refuses the size as unbounded (found by the kernel matrix). */
    __u64 size = off;
    asm volatile("" : "+r"(size));
    if (size > VHOOK_RECORD_MAX)
        return -1;
    /* Plugin flags (bits 16 and up) may carry an entry half's enforcement: never shed those. */
    if (!d->signal && !d->override && !(flags >> 16)) {
        if (evt__over_cgroup_rate()) {
            sel__stat(VSEL_STAT_SHED);
            return -1;
        }
        if (evt__shed(ring, size)) {
            sel__stat(VSEL_STAT_SHED);
            evt__shed_note(r->pid, r->proc_ktime);
            return -1;
        }
    }
    long err = evt__output(ring, s->buf, size);
    if (err)
        sel__stat(VSEL_STAT_RING_FULL);
    return err;
}

#endif
