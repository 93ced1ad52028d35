// ProcessService over the host's ProcessCache.
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
    ProcessCacheCounts counts() const override;

private:
    const ProcessCache& cache_;
};

} // namespace api
} // namespace vigil
