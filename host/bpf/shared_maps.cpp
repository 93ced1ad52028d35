#include "bpf/shared_maps.hpp"

#include <vigil/wire/cgroup_rate.h>
#include <vigil/wire/errors.h>
#include <vigil/wire/process.h>
#include <vigil/wire/self.h>
#include <vigil/wire/workloads.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace vigil {

Result<SharedMaps> SharedMaps::create()
{
    SharedMaps m;
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, VIGIL_PROCS_MAP, sizeof(uint32_t), sizeof(vigil_proc),
                            VIGIL_PROCS_MAX, nullptr);
    if (fd < 0)
        return fail_errno(Errc::kernel, errno, "creating shared map {}", VIGIL_PROCS_MAP);
    m.procs_.reset(fd);
    fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, VIGIL_ERRORS_MAP, sizeof(uint32_t), sizeof(uint64_t),
                        VIGIL_ERR_SLOTS, nullptr);
    if (fd < 0)
        return fail_errno(Errc::kernel, errno, "creating shared map {}", VIGIL_ERRORS_MAP);
    m.errors_.reset(fd);
    fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, VIGIL_SELF_MAP, sizeof(uint32_t), sizeof(vigil_self), 1, nullptr);
    if (fd < 0)
        return fail_errno(Errc::kernel, errno, "creating shared map {}", VIGIL_SELF_MAP);
    m.self_.reset(fd);
    fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, VIGIL_CGROUP_RATE_MAP, sizeof(uint64_t), sizeof(vigil_cgroup_rate),
                        VIGIL_CGROUP_RATE_MAX, nullptr);
    if (fd < 0)
        return fail_errno(Errc::kernel, errno, "creating shared map {}", VIGIL_CGROUP_RATE_MAP);
    m.cgroup_rate_.reset(fd);
    LIBBPF_OPTS(bpf_map_create_opts, no_prealloc, .map_flags = BPF_F_NO_PREALLOC);
    fd = bpf_map_create(BPF_MAP_TYPE_HASH, VIGIL_WORKLOADS_MAP, sizeof(vigil_workload_key), sizeof(uint8_t),
                        VIGIL_WORKLOADS_MAX, &no_prealloc);
    if (fd < 0)
        return fail_errno(Errc::kernel, errno, "creating shared map {}", VIGIL_WORKLOADS_MAP);
    m.workloads_.reset(fd);
    return m;
}

Result<void> SharedMaps::set_settings(uint32_t self_tgid, uint32_t cgroup_rate)
{
    uint32_t zero = 0;
    vigil_self v{self_tgid, cgroup_rate};
    if (bpf_map_update_elem(self_.get(), &zero, &v, BPF_ANY) != 0)
        return fail_errno(Errc::kernel, errno, "writing {}", VIGIL_SELF_MAP);
    return {};
}

uint32_t SharedMaps::layout_of(std::string_view name)
{
    if (name == VIGIL_PROCS_MAP)
        return VIGIL_PROCS_LAYOUT;
    if (name == VIGIL_ERRORS_MAP)
        return VIGIL_ERRORS_LAYOUT;
    if (name == VIGIL_SELF_MAP)
        return VIGIL_SELF_LAYOUT;
    if (name == VIGIL_CGROUP_RATE_MAP)
        return VIGIL_CGROUP_RATE_LAYOUT;
    if (name == VIGIL_WORKLOADS_MAP)
        return VIGIL_WORKLOADS_LAYOUT;
    return 0;
}

int SharedMaps::dup_fd(std::string_view name, uint32_t layout_version) const
{
    const Fd* map = name == VIGIL_PROCS_MAP ? &procs_
                    : name == VIGIL_ERRORS_MAP ? &errors_
                    : name == VIGIL_SELF_MAP   ? &self_
                    : name == VIGIL_CGROUP_RATE_MAP ? &cgroup_rate_
                    : name == VIGIL_WORKLOADS_MAP ? &workloads_
                                               : nullptr;
    if (!map)
        return -ENOENT;
    if (layout_of(name) != layout_version)
        return -EPROTO;
    int fd = ::fcntl(map->get(), F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

std::vector<SharedMaps::CgroupDrops> SharedMaps::cgroup_drops() const
{
    std::vector<CgroupDrops> out;
    uint64_t key = 0, next = 0;
    const void* prev = nullptr;
    // An LRU of at most VIGIL_CGROUP_RATE_MAX entries; a key evicted while walking ends the walk
    // early (ENOENT restarts at the first key, so the bound stops a loop).
    for (size_t i = 0; i < VIGIL_CGROUP_RATE_MAX && bpf_map_get_next_key(cgroup_rate_.get(), prev, &next) == 0; ++i) {
        key = next;
        prev = &key;
        vigil_cgroup_rate v{};
        if (bpf_map_lookup_elem(cgroup_rate_.get(), &key, &v) == 0 && v.dropped)
            out.push_back({key, v.dropped, v.last_drop});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.cgroup_id < b.cgroup_id; });
    out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.cgroup_id == b.cgroup_id; }),
              out.end());
    return out;
}

uint64_t SharedMaps::error_count(uint32_t slot) const
{
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0 || slot >= VIGIL_ERR_SLOTS)
        return 0;
    std::vector<uint64_t> values(static_cast<size_t>(ncpu));
    if (bpf_map_lookup_elem(errors_.get(), &slot, values.data()) != 0)
        return 0;
    uint64_t sum = 0;
    for (uint64_t v : values)
        sum += v;
    return sum;
}

} // namespace vigil
