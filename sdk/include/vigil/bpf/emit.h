/* Event emission: reserve in the plugin's ring buffer, count a reserve failure, and submit
 * without waking the consumer. The host's ring reader drains every ring on a short tick
 * (host/bpf/ring_pump), so a wake-up per record, which costs more than the record itself, is not
 * needed; only the record that takes the backlog past an eighth of the ring wakes the reader
 * early, so a burst cannot fill the ring between two ticks. */
#ifndef VIGIL_BPF_EMIT_H
#define VIGIL_BPF_EMIT_H

#include "vigil/bpf/maps.h"

/* The backlog that wakes the host early: an eighth of the ring, so that 7/8 of it is left for
 * what arrives while the host wakes up. */
#define VIGIL_WAKEUP_SHIFT 3

static __always_inline void *evt__reserve(void *ring, __u64 size)
{
    void *rec = bpf_ringbuf_reserve(ring, size, 0);
    if (!rec)
        errors__count(VIGIL_ERR_RINGBUF_RESERVE);
    return rec;
}

/* What a record of `size` bytes takes of a ring: the 8-byte header, rounded up to 8. */
static __always_inline __u64 evt__ring_bytes(__u64 size)
{
    return (size + 8 + 7) & ~7ull;
}

/* Wake-up flag for a record taking `used` bytes of `ring`, where `avail` is the backlog before
 * it: a wake-up for the record that takes the backlog past an eighth of the ring, and for every
 * record once it is past half. Below half, waking the consumer again for every record while it
 * catches up would cost an interrupt per record, the very cost the reader's tick saves; past
 * half, the crossing's wake-up may have been lost between two concurrent producers (each saw the
 * other's record in the backlog) and the ring is close to full: each record wakes it. */
static __always_inline __u64 evt__wakeup_crossing(void *ring, __u64 avail, __u64 used)
{
    __u64 size = bpf_ringbuf_query(ring, BPF_RB_RING_SIZE);
    __u64 threshold = size >> VIGIL_WAKEUP_SHIFT;
    if (avail + used >= size >> 1)
        return BPF_RB_FORCE_WAKEUP;
    return avail < threshold && avail + used >= threshold ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Submits a record of `size` bytes reserved from `ring` (the backlog already counts it).
 * Concurrent producers make the eighth's wake-up a best effort; the half's and the reader's tick
 * bound a missed one. */
static __always_inline void evt__submit_to(void *ring, void *rec, __u64 size)
{
    __u64 used = evt__ring_bytes(size);
    __u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
    bpf_ringbuf_submit(rec, evt__wakeup_crossing(ring, avail > used ? avail - used : 0, used));
}

/* Submits a reserved record without ever waking the host: its ring reader picks it up, within
 * 20 ms while records come and 160 ms after a quiet spell. For rings that never see bursts;
 * evt__submit_to is the one that keeps up with a storm. */
static __always_inline void evt__submit(void *rec)
{
    bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
}

/* Overload order: once a ring is past 3/4 full, the events that only report (a policy hook's
 * post without Sigkill, Signal or Override) are shed, each one counted (VIGIL_ERR_SHED, which
 * vigild turns into process_throttle events), so the last quarter of the ring is kept for the
 * events that enforced something. Process exec and exit travel in a ring of their own. */
#define VIGIL_SHED_SHIFT 2

/* Whether a reporting-only event of `size` bytes is to be shed from `ring` (and is counted). */
static __always_inline int evt__shed(void *ring, __u64 size)
{
    __u64 ring_size = bpf_ringbuf_query(ring, BPF_RB_RING_SIZE);
    __u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
    if (avail + evt__ring_bytes(size) <= ring_size - (ring_size >> VIGIL_SHED_SHIFT))
        return 0;
    errors__count(VIGIL_ERR_SHED);
    return 1;
}

/* Counts one shed event against the process image that made the call (vigil/wire/shed.h), so that
 * vigild can name whose events the overload took. */
static __always_inline void evt__shed_note(__u32 tgid, __u64 proc_ktime)
{
    struct vigil_shed_key key = {.tgid = tgid, .proc_ktime = proc_ktime};
    __u64 now = bpf_ktime_get_boot_ns();
    struct vigil_shed_count *c = bpf_map_lookup_elem(&vigil_shed, &key);
    if (!c) {
        struct vigil_shed_count fresh = {.count = 1, .first_ns = now, .last_ns = now};
        if (bpf_map_update_elem(&vigil_shed, &key, &fresh, BPF_NOEXIST) == 0)
            return;
        c = bpf_map_lookup_elem(&vigil_shed, &key); /* another CPU made it first */
        if (!c)
            return;
    }
    __sync_fetch_and_add(&c->count, 1);
    c->last_ns = now;
}

/* Per-cgroup rate: whether cgroup `cgroup` has had its vigil_self.cgroup_rate
 * reporting-only events in this one-second window already; the drop is counted in the cgroup's
 * entry (vigild reports it as a process_throttle event naming the cgroup) and in
 * VIGIL_ERR_CGROUP_RATE. Process exec, fork and exit and enforcing events are never limited. */
static __always_inline int evt__over_rate_of(__u64 cgroup)
{
    __u32 zero = 0;
    struct vigil_self *s = bpf_map_lookup_elem(&vigil_self, &zero);
    if (!s || !s->cgroup_rate)
        return 0;
    __u64 now = bpf_ktime_get_ns();
    struct vigil_cgroup_rate *r = bpf_map_lookup_elem(&vigil_cg_rate, &cgroup);
    if (!r) {
        struct vigil_cgroup_rate fresh = {.window_start = now, .count = 1};
        bpf_map_update_elem(&vigil_cg_rate, &cgroup, &fresh, BPF_NOEXIST);
        return 0;
    }
    if (now - r->window_start >= VIGIL_CGROUP_RATE_WINDOW_NS) {
        r->window_start = now;
        r->count = 1;
        return 0;
    }
    if (r->count < s->cgroup_rate) {
        __sync_fetch_and_add(&r->count, 1);
        return 0;
    }
    __sync_fetch_and_add(&r->dropped, 1);
    r->last_drop = now;
    errors__count(VIGIL_ERR_CGROUP_RATE);
    return 1;
}

/* The same for the current task's cgroup. */
static __always_inline int evt__over_cgroup_rate(void)
{
    return evt__over_rate_of(bpf_get_current_cgroup_id());
}

/* Copies size bytes into `ring` as one record; counts a full ring. */
static __always_inline long evt__output(void *ring, void *data, __u64 size)
{
    long err = bpf_ringbuf_output(ring, data, size,
                                  evt__wakeup_crossing(ring, bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA),
                                                       evt__ring_bytes(size)));
    if (err)
        errors__count(VIGIL_ERR_RINGBUF_RESERVE);
    return err;
}

#endif
