/* Event emission: reserve in the plugin's ring buffer, count a reserve failure, and submit
 * with a wake-up only when the consumer may be asleep. */
#ifndef VIGIL_BPF_EMIT_H
#define VIGIL_BPF_EMIT_H

#include "vigil/bpf/maps.h"

static __always_inline void *evt__reserve(void *ring, __u64 size)
{
    void *rec = bpf_ringbuf_reserve(ring, size, 0);
    if (!rec)
        errors__count(VIGIL_ERR_RINGBUF_RESERVE);
    return rec;
}

static __always_inline void evt__submit(void *rec)
{
    bpf_ringbuf_submit(rec, 0);
}

#endif
