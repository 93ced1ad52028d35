#include "api/process_service.hpp"

#include "process/cache.hpp"

#include <algorithm>

namespace vigil::api {

namespace {

ProcessInfo info_of(const ProcessEntry& e)
{
    ProcessInfo p;
    p.pid = e.key.pid;
    p.ppid = e.parent.pid;
    p.uid = e.uid;
    p.ktime = e.key.ktime;
    p.exec_id = e.exec_id;
    p.parent_exec_id = e.parent_exec_id;
    p.binary = e.binary;
    p.arguments = e.args; // NUL-separated in the cache, space-separated as in events
    std::replace(p.arguments.begin(), p.arguments.end(), '\0', ' ');
    p.cwd = e.cwd;
    p.exited = e.exited;
    p.container_id = e.container.id;
    p.container_runtime = runtime_name(e.container.runtime);
    p.pod_uid = e.container.pod_uid;
    return p;
}

} // namespace

std::optional<ProcessInfo> ProcessService::get(uint32_t pid) const
{
    const ProcessEntry* e = cache_.find_pid(pid);
    if (!e)
        return std::nullopt;
    return info_of(*e);
}

std::vector<ProcessInfo> ProcessService::list() const
{
    std::vector<ProcessInfo> out;
    out.reserve(cache_.size());
    cache_.for_each([&](const ProcessEntry& e) { out.push_back(info_of(e)); });
    std::sort(out.begin(), out.end(), [](const ProcessInfo& a, const ProcessInfo& b) {
        return a.pid != b.pid ? a.pid < b.pid : a.ktime < b.ktime;
    });
    return out;
}

ProcessCacheCounts ProcessService::counts() const
{
    ProcessCacheStats s = cache_.stats();
    return ProcessCacheCounts{s.size, s.capacity, s.evicted, s.exit_misses};
}

} // namespace vigil::api
