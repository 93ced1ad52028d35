// The BPF maps vigild owns and shares with every plugin (vigil/wire/*.h): created once at start,
// handed out as dup'd fds, checked against the layout each plugin was built for.
#pragma once

#include "core/error.hpp"
#include "core/fd.hpp"

#include <cstdint>
#include <string_view>

namespace vigil {

class SharedMaps {
public:
    [[nodiscard]] static Result<SharedMaps> create();

    // The layout version of host-owned map `name`; 0 when the host has no such map.
    static uint32_t layout_of(std::string_view name);

    // A new fd for `name` (the caller owns it), or -errno: -ENOENT unknown, -EPROTO other layout.
    int dup_fd(std::string_view name, uint32_t layout_version) const;

    // Hides thread group `tgid` (vigild's own) from every sensor and hook; 0 shows it again.
    [[nodiscard]] Result<void> exclude_self(uint32_t tgid);

    int procs_fd() const { return procs_.get(); }
    int errors_fd() const { return errors_.get(); }
    int workloads_fd() const { return workloads_.get(); }

    // Sum of a vigil_errors slot over all CPUs.
    uint64_t error_count(uint32_t slot) const;

private:
    Fd procs_;
    Fd errors_;
    Fd self_;
    Fd workloads_;
};

} // namespace vigil
