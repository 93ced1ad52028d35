// The /proc bootstrap: every process already running when vigild starts gets an entry in the
// BPF process map (so selectors see it) and in the cache (so its events have a process and a
// parent), flagged procFS, with in_init_tree worked out from the PID namespaces.
//
// vigild scans once before the sensors attach, and once more right after: the second scan adds
// what was forked in between (only where no live event created the map entry first), and prune()
// drops entries of processes that exited before the exit hook was there to see it.
#pragma once

#include "process/cache.hpp"
#include "process/procfs.hpp"

#include <cstdint>
#include <string>

namespace vigil {

struct BootstrapStats {
    size_t inserted = 0;
    size_t known = 0;          // already in the cache or the map (a live event was first)
    size_t vanished = 0;       // exited while being read
    size_t kernel_threads = 0; // not tracked: they never exec and the sensor ignores them
    size_t errors = 0;
    std::string first_error;
};

class ProcBootstrap {
public:
    // procs_map_fd < 0: fill the cache only (tests).
    ProcBootstrap(ProcessCache& cache, int procs_map_fd, procfs::ReadOptions opts, uint32_t host_pidns);

    // Adds every process of the proc root the cache does not know yet.
    BootstrapStats scan();
    // Removes procFS entries of processes that are gone and whose map entry no live event
    // replaced; returns how many.
    size_t prune();

private:
    bool alive(const ProcessEntry& e) const;

    ProcessCache& cache_;
    int map_fd_;
    procfs::ReadOptions opts_;
    uint32_t host_pidns_;
};

} // namespace vigil
