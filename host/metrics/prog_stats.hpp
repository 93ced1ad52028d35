// Run counts and run time of the BPF programs behind the links plugins registered, from
// bpf_prog_info. The kernel only counts while BPF_STATS_RUN_TIME is enabled (an fd from
// bpf_enable_stats, held here, or the kernel.bpf_stats_enabled sysctl).
#pragma once

#include "core/fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

class PluginRegistry;

struct ProgStats {
    std::string plugin;
    std::string name; // the program's name as the kernel has it (at most 15 characters)
    uint32_t id = 0;
    uint64_t run_count = 0;
    uint64_t run_time_ns = 0;
};

class ProgStatsCollector {
public:
    // Turns run-time statistics on for as long as this object lives (where the kernel allows).
    ProgStatsCollector();
    bool enabled() const;
    const std::string& why_disabled() const { return why_disabled_; }

    std::vector<ProgStats> collect(const PluginRegistry& plugins) const;

private:
    Fd stats_fd_;
    std::string why_disabled_;
};

} // namespace vigil
