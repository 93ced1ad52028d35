// The vigil_errors slots (vigil/wire/errors.h) by name, for `vigil status` and metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

class SharedMaps;

struct BpfErrorCount {
    std::string kind; // "ringbuf_reserve", "probe_read", ...; "slot_<n>" for a slot without a name
    uint64_t count = 0;
};

// Every named slot, and any other slot that is non-zero (so a slot added to the wire header
// without a name here still shows up).
std::vector<BpfErrorCount> bpf_error_counts(const SharedMaps& maps);
// Ring-buffer reserve failures: events lost in the kernel.
uint64_t bpf_events_lost(const SharedMaps& maps);

} // namespace vigil
