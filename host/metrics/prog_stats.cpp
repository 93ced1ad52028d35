#include "metrics/prog_stats.hpp"

#include "plugins/registry.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstring>
#include <fstream>
#include <set>

namespace vigil {

ProgStatsCollector::ProgStatsCollector()
{
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd >= 0)
        stats_fd_.reset(fd);
    else
        why_disabled_ = fmt::format("bpf_enable_stats(BPF_STATS_RUN_TIME): {}", std::strerror(errno));
}

bool ProgStatsCollector::enabled() const
{
    if (stats_fd_.valid())
        return true;
    std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
    int v = 0;
    return in >> v && v != 0;
}

std::vector<ProgStats> ProgStatsCollector::collect(const PluginRegistry& plugins) const
{
    std::vector<ProgStats> out;
    for (const auto& p : plugins.plugins()) {
        std::set<uint32_t> seen;
        for (int link_fd : p->link_fds()) {
            bpf_link_info link{};
            uint32_t len = sizeof link;
            if (bpf_obj_get_info_by_fd(link_fd, &link, &len) != 0 || link.prog_id == 0 || !seen.insert(link.prog_id).second)
                continue;
            Fd prog(bpf_prog_get_fd_by_id(link.prog_id));
            if (!prog.valid())
                continue;
            bpf_prog_info info{};
            len = sizeof info;
            if (bpf_obj_get_info_by_fd(prog.get(), &info, &len) != 0)
                continue;
            out.push_back({p->id(), std::string(info.name, strnlen(info.name, sizeof info.name)), info.id,
                           info.run_cnt, info.run_time_ns});
        }
    }
    return out;
}

} // namespace vigil
