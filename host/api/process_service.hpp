// The process cache as the API and the metrics endpoint see it: process.list / get / tree and
// the cache's counts, copied out of the host's ProcessCache.
#pragma once

#include "api/services.hpp"

namespace vigil {

class ProcessCache;

namespace api {

class ProcessService {
public:
    explicit ProcessService(const ProcessCache& cache) : cache_(cache) {}

    // The processes the cache holds (exited ones until they are collected), sorted by pid and
    // then by start, so the newest incarnation of a pid comes last.
    std::vector<ProcessInfo> list() const;
    // The newest process with thread-group id `pid`.
    std::optional<ProcessInfo> get(uint32_t pid) const;
    ProcessCacheCounts counts() const;

private:
    const ProcessCache& cache_;
};

} // namespace api
} // namespace vigil
