// The BPF maps vigild owns and shares with every plugin, one per row of the table in
// vigil/wire/shared_maps.h: created once at start, handed out as dup'd fds, checked against the
// layout each plugin was built for.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <vigil/sdk/bpf.hpp>

#include <array>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <vector>

namespace vigil {

class SharedMaps {
public:
    [[nodiscard]] static Result<SharedMaps> create();

    // The row of host-owned map `name`; nullptr when the host has no such map.
    static const vigil_shared_map_spec* spec_of(std::string_view name);
    // The layout version of host-owned map `name`; 0 when the host has no such map.
    static uint32_t layout_of(std::string_view name);

    // A new fd for `name` (the caller owns it), or -errno: -ENOENT unknown, -EPROTO other layout.
    int dup_fd(std::string_view name, uint32_t layout_version) const;

    // What the kernel side reads of the agent's settings: the thread group hidden from every
    // sensor and hook (vigild's own; 0: none), and the per-cgroup rate of reporting-only events
    // (per second; 0: none).
    [[nodiscard]] Result<void> set_settings(uint32_t self_tgid, uint32_t cgroup_rate);

    // The cgroups that have had events dropped for the rate (vigil/wire/cgroup_rate.h).
    struct CgroupDrops {
        uint64_t cgroup_id = 0;
        uint64_t dropped = 0;   // since the kernel made the entry
        uint64_t last_drop = 0; // ktime, ns
    };
    std::vector<CgroupDrops> cgroup_drops() const;

    // The processes that have had events shed for overload (vigil/wire/shed.h), most first; each
    // entry read is deleted, so the next call counts from zero.
    struct ShedProcess {
        uint32_t tgid = 0;
        uint64_t proc_ktime = 0; // the image's exec identity (vigil_procs key), 0: unknown
        uint64_t count = 0;
        uint64_t first_ns = 0, last_ns = 0; // boot-time ktime
    };
    std::vector<ShedProcess> take_shed() const;

    // The host's fd of `name` (still owned here); -1 when the host has no such map.
    int fd_of(std::string_view name) const;
    int procs_fd() const { return fd_of(VIGIL_PROCS_MAP); }
    int errors_fd() const { return fd_of(VIGIL_ERRORS_MAP); }
    int workloads_fd() const { return fd_of(VIGIL_WORKLOADS_MAP); }

    // Sum of a vigil_errors slot over all CPUs.
    uint64_t error_count(uint32_t slot) const;

private:
    std::array<Fd, std::size(sdk::shared_maps)> fds_; // in the table's order
};

} // namespace vigil
