#include "bpf/shared_maps.hpp"

#include <vigil/wire/shared_maps.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <cerrno>
#include <vector>

namespace vigil {

Result<SharedMaps> SharedMaps::create()
{
    SharedMaps m;
    for (size_t i = 0; i < std::size(sdk::shared_maps); ++i) {
        const auto& spec = sdk::shared_maps[i];
        int fd = bpf_map_create(static_cast<bpf_map_type>(spec.map_type), spec.name, spec.key_size, spec.value_size,
                                spec.max_entries, nullptr);
        if (fd < 0)
            return fail_errno(Errc::kernel, errno, "creating shared map {}", spec.name);
        m.fds_[i].reset(fd);
    }
    return m;
}

Result<void> SharedMaps::exclude_self(uint32_t tgid)
{
    uint32_t zero = 0;
    vigil_self v{tgid, 0};
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
