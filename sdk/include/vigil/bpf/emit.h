/* Event emission: reserve in the plugin's ring buffer, count a reserve failure, and submit
 * without waking the consumer. The host drains every ring on a short timer (host/bpf/ring_pump),
 * so a wake-up per record, which costs more than the record itself, is not needed; only a
 * backlog past VIGIL_WAKEUP_BYTES wakes the consumer early, so a burst cannot fill the ring
 * between two timer ticks. */
#ifndef VIGIL_BPF_EMIT_H
#define VIGIL_BPF_EMIT_H

#include "vigil/bpf/maps.h"

#define VIGIL_WAKEUP_BYTES (256 * 1024)

static __always_inline void *evt__reserve(void *ring, __u64 size)
{
    void *rec = bpf_ringbuf_reserve(ring, size, 0);
    if (!rec)
        errors__count(VIGIL_ERR_RINGBUF_RESERVE);
    return rec;
}

/* Wake-up flag for a record going into `ring`. */
static __always_inline __u64 evt__wakeup(void *ring)
{
    return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= VIGIL_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
                                                                             : BPF_RB_NO_WAKEUP;
}

/* Submits a record reserved from `ring`. */
static __always_inline void evt__submit_to(void *ring, void *rec)
{
    bpf_ringbuf_submit(rec, evt__wakeup(ring));
}

/* Submits a reserved record; the host's drain timer picks it up. */
static __always_inline void evt__submit(void *rec)
{
    bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
}

/* Copies size bytes into `ring` as one record; counts a full ring. */
static __always_inline long evt__output(void *ring, void *data, __u64 size)
{
    long err = bpf_ringbuf_output(ring, data, size, evt__wakeup(ring));
    if (err)
        errors__count(VIGIL_ERR_RINGBUF_RESERVE);
    return err;
}

#endif
