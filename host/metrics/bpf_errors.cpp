#include "metrics/bpf_errors.hpp"

#include "bpf/shared_maps.hpp"

#include <vigil/wire/errors.h>

#include <fmt/format.h>

namespace vigil {

namespace {

const char* slot_name(uint32_t slot)
{
    switch (slot) {
    case VIGIL_ERR_RINGBUF_RESERVE: return "ringbuf_reserve";
    case VIGIL_ERR_PROBE_READ: return "probe_read";
    case VIGIL_ERR_MAP_UPDATE: return "map_update";
    case VIGIL_ERR_MAP_DELETE: return "map_delete";
    case VIGIL_ERR_PROC_MISS: return "proc_miss";
    case VIGIL_ERR_SHED: return "shed";
    case VIGIL_ERR_CGROUP_RATE: return "cgroup_rate";
    default: return nullptr;
    }
}

} // namespace

std::vector<BpfErrorCount> bpf_error_counts(const SharedMaps& maps)
{
    std::vector<BpfErrorCount> out;
    for (uint32_t slot = 0; slot < VIGIL_ERR_SLOTS; ++slot) {
        uint64_t n = maps.error_count(slot);
        if (const char* name = slot_name(slot))
            out.push_back({name, n});
        else if (n)
            out.push_back({fmt::format("slot_{}", slot), n});
    }
    return out;
}

uint64_t bpf_events_lost(const SharedMaps& maps)
{
    return maps.error_count(VIGIL_ERR_RINGBUF_RESERVE) + maps.error_count(VIGIL_ERR_SHED);
}

} // namespace vigil
