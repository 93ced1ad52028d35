#include "api/cache_process_service.hpp"

#include "process/cache.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace vigil::api {

std::optional<ProcessInfo> CacheProcessService::get(uint32_t pid) const
{
    const ProcessEntry* e = cache_.find(pid);
    if (!e)
        return std::nullopt;
    ProcessInfo p;
    p.pid = e->pid;
    p.ppid = e->ppid;
    p.uid = e->uid;
    p.ktime = e->ktime;
    p.exec_id = cache_.exec_id(e->pid, e->ktime);
    p.parent_exec_id = cache_.exec_id(e->ppid, e->parent_ktime);
    p.binary = e->binary;
    p.arguments = e->args; // NUL-separated in the cache, space-separated as in events
    std::replace(p.arguments.begin(), p.arguments.end(), '\0', ' ');
    p.cwd = e->cwd;
    p.exited = e->exited;
    return p;
}

std::vector<ProcessInfo> CacheProcessService::list() const
{
    std::vector<ProcessInfo> out;
    std::error_code ec;
    for (const auto& d : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = d.path().filename().string();
        uint32_t pid = 0;
        auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (err != std::errc() || p != name.data() + name.size())
            continue;
        if (auto info = get(pid))
            out.push_back(std::move(*info));
    }
    std::sort(out.begin(), out.end(), [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
    return out;
}

ProcessCacheStats CacheProcessService::stats() const
{
    return ProcessCacheStats{cache_.size(), cache_.capacity(), std::nullopt, std::nullopt};
}

} // namespace vigil::api
