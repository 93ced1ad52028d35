// A hook object's selector counters (the per-CPU `vsel_stats` map of vigil/bpf/selectors.h),
// summed over CPUs into the ABI's vigil_hook_stats.
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/wire/selectors.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace vigil::sdk {

// Returns 0 or -errno (-ENOENT: the object has no vsel_stats map).
inline int read_hook_stats(bpf_object* obj, vigil_hook_stats& out)
{
    bpf_map* m = bpf_object__find_map_by_name(obj, "vsel_stats");
    if (!m)
        return -ENOENT;
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0)
        return ncpu < 0 ? ncpu : -EINVAL;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
    auto total = [&](uint32_t slot, uint64_t& dst) {
        if (bpf_map_lookup_elem(bpf_map__fd(m), &slot, per_cpu.data()))
            return -errno;
        dst = 0;
        for (uint64_t x : per_cpu)
            dst += x;
        return 0;
    };
    int err = total(VSEL_STAT_MATCHED, out.matched);
    if (!err)
        err = total(VSEL_STAT_POSTED, out.posted);
    if (!err)
        err = total(VSEL_STAT_RATE_LIMITED, out.rate_limited);
    if (!err)
        err = total(VSEL_STAT_ENFORCED, out.enforced);
    if (!err)
        err = total(VSEL_STAT_MONITORED, out.monitored);
    return err;
}

} // namespace vigil::sdk
