// ProcessService over today's ProcessCache, which can look a pid up but not enumerate its
// entries: list() walks /proc and reports the pids the cache knows. Replace with the richer
// cache's own enumeration once it lands.
#pragma once

#include "api/services.hpp"

namespace vigil {

class ProcessCache;

namespace api {

class CacheProcessService : public ProcessService {
public:
    explicit CacheProcessService(const ProcessCache& cache) : cache_(cache) {}

    std::vector<ProcessInfo> list() const override;
    std::optional<ProcessInfo> get(uint32_t pid) const override;
    ProcessCacheStats stats() const override;

private:
    const ProcessCache& cache_;
};

} // namespace api
} // namespace vigil
