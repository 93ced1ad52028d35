#include "bpf/shared_maps.hpp"

#include <vigil/wire/errors.h>
#include <vigil/wire/process.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

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
    return m;
}

int SharedMaps::dup_fd(std::string_view name, uint32_t layout_version) const
{
    const Fd* map = nullptr;
    uint32_t layout = 0;
    if (name == VIGIL_PROCS_MAP) {
        map = &procs_;
        layout = VIGIL_PROCS_LAYOUT;
    } else if (name == VIGIL_ERRORS_MAP) {
        map = &errors_;
        layout = VIGIL_ERRORS_LAYOUT;
    }
    if (!map)
        return -ENOENT;
    if (layout != layout_version)
        return -EPROTO;
    int fd = ::fcntl(map->get(), F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
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
