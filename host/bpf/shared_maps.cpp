#include "bpf/shared_maps.hpp"

#include <vigil/wire/shared_maps.h>

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
    for (size_t i = 0; i < std::size(sdk::shared_maps); ++i) {
        const auto& spec = sdk::shared_maps[i];
        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = spec.map_flags);
        int fd = bpf_map_create(static_cast<bpf_map_type>(spec.map_type), spec.name, spec.key_size, spec.value_size,
                                spec.max_entries, &opts);
        if (fd < 0)
            return fail_errno(Errc::kernel, errno, "creating shared map {}", spec.name);
        m.fds_[i].reset(fd);
    }
    return m;
}

Result<void> SharedMaps::set_settings(uint32_t self_tgid, uint32_t cgroup_rate)
{
    uint32_t zero = 0;
    vigil_self v{self_tgid, cgroup_rate};
    if (bpf_map_update_elem(fd_of(VIGIL_SELF_MAP), &zero, &v, BPF_ANY) != 0)
        return fail_errno(Errc::kernel, errno, "writing {}", VIGIL_SELF_MAP);
    return {};
}

const vigil_shared_map_spec* SharedMaps::spec_of(std::string_view name)
{
    for (const auto& spec : sdk::shared_maps)
        if (name == spec.name)
            return &spec;
    return nullptr;
}

uint32_t SharedMaps::layout_of(std::string_view name)
{
    const auto* spec = spec_of(name);
    return spec ? spec->layout_version : 0;
}

int SharedMaps::fd_of(std::string_view name) const
{
    const auto* spec = spec_of(name);
    return spec ? fds_[static_cast<size_t>(spec - sdk::shared_maps)].get() : -1;
}

int SharedMaps::dup_fd(std::string_view name, uint32_t layout_version) const
{
    int have = fd_of(name);
    if (have < 0)
        return -ENOENT;
    if (layout_of(name) != layout_version)
        return -EPROTO;
    int fd = ::fcntl(have, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

std::vector<SharedMaps::CgroupDrops> SharedMaps::cgroup_drops() const
{
    std::vector<CgroupDrops> out;
    uint64_t key = 0, next = 0;
    const void* prev = nullptr;
    // An LRU of at most VIGIL_CGROUP_RATE_MAX entries; a key evicted while walking ends the walk
    // early (ENOENT restarts at the first key, so the bound stops a loop).
    for (size_t i = 0; i < VIGIL_CGROUP_RATE_MAX && bpf_map_get_next_key(fd_of(VIGIL_CGROUP_RATE_MAP), prev, &next) == 0; ++i) {
        key = next;
        prev = &key;
        vigil_cgroup_rate v{};
        if (bpf_map_lookup_elem(fd_of(VIGIL_CGROUP_RATE_MAP), &key, &v) == 0 && v.dropped)
            out.push_back({key, v.dropped, v.last_drop});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.cgroup_id < b.cgroup_id; });
    out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.cgroup_id == b.cgroup_id; }),
              out.end());
    return out;
}

std::vector<SharedMaps::ShedProcess> SharedMaps::take_shed() const
{
    int fd = fd_of(VIGIL_SHED_MAP);
    std::vector<vigil_shed_key> keys;
    vigil_shed_key key{}, next{};
    const void* prev = nullptr;
    // Keys first, then each one read and deleted: deleting while walking would restart the walk.
    for (size_t i = 0; i < VIGIL_SHED_MAX && bpf_map_get_next_key(fd, prev, &next) == 0; ++i) {
        key = next;
        prev = &key;
        keys.push_back(key);
    }
    std::vector<ShedProcess> out;
    for (const auto& k : keys) {
        vigil_shed_count v{};
        if (bpf_map_lookup_and_delete_elem(fd, &k, &v) != 0 && bpf_map_lookup_elem(fd, &k, &v) != 0)
            continue;
        (void)bpf_map_delete_elem(fd, &k);
        if (v.count)
            out.push_back({k.tgid, k.proc_ktime, v.count, v.first_ns, v.last_ns});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
    return out;
}

uint64_t SharedMaps::error_count(uint32_t slot) const
{
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0 || slot >= VIGIL_ERR_SLOTS)
        return 0;
    std::vector<uint64_t> values(static_cast<size_t>(ncpu));
    if (bpf_map_lookup_elem(errors_fd(), &slot, values.data()) != 0)
        return 0;
    uint64_t sum = 0;
    for (uint64_t v : values)
        sum += v;
    return sum;
}

} // namespace vigil
