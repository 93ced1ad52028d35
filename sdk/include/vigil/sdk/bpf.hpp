// libbpf helpers for plugins: point a BPF object's shared-map declarations at the host's maps,
// and own skeletons and links the RAII way.
#pragma once

#include <vigil/sdk/plugin.hpp>
#include <vigil/wire/shared_maps.h>

#include <bpf/libbpf.h>
#include <unistd.h>

#include <string>

namespace vigil::sdk {

// Every map the host owns, with the layout this SDK was built against (vigil/wire/shared_maps.h).
inline constexpr vigil_shared_map_spec shared_maps[] = {VIGIL_SHARED_MAPS(VIGIL_SHARED_MAP_SPEC)};

// The same, as a descriptor's shared_maps list: a plugin whose BPF objects include
// vigil/bpf/maps.h uses them all.
#define VIGIL_SHARED_MAP_USE(name, type, key, value, max, layout) {sizeof(vigil_map_use), #name, layout},
inline constexpr vigil_map_use shared_map_uses[] = {VIGIL_SHARED_MAPS(VIGIL_SHARED_MAP_USE)};
#undef VIGIL_SHARED_MAP_USE

// Before bpf_object__load: every map of `obj` named like a host-owned map reuses the host's fd.
// Throws when the host refuses (unknown map, other layout) or libbpf finds the definitions differ.
inline void reuse_shared_maps(bpf_object* obj, const Host& host)
{
    bpf_map* map;
    bpf_object__for_each_map(map, obj)
    {
        // bpf_map__reuse_fd frees the map's name: keep a copy for messages.
        const std::string name = bpf_map__name(map);
        for (const auto& spec : shared_maps) {
            if (name != spec.name)
                continue;
            int fd = host.shared_map_fd(spec.name, spec.layout_version);
            int err = bpf_map__reuse_fd(map, fd);
            ::close(fd);
            if (err)
                throw Error(VIGIL_ERR_INVALID, std::string("shared map ") + name +
                                                   " does not match the host's definition: " +
                                                   std::strerror(-err));
        }
    }
}

// Owns a bpf_link; destroying it detaches the program.
class Link {
public:
    Link() = default;
    explicit Link(bpf_link* l) : link_(l) {}
    Link(Link&& o) noexcept : link_(o.link_) { o.link_ = nullptr; }
    Link& operator=(Link&& o) noexcept
    {
        if (this != &o) {
            reset();
            link_ = o.link_;
            o.link_ = nullptr;
        }
        return *this;
    }
    ~Link() { reset(); }
    void reset()
    {
        if (link_)
            bpf_link__destroy(link_);
        link_ = nullptr;
    }
    bpf_link* get() const { return link_; }

private:
    bpf_link* link_ = nullptr;
};

// Attaches a program by its section name and registers the link with the host, so disabling the
// plugin detaches it even if the plugin forgets to.
inline Link attach(bpf_program* prog, const Host& host, const char* owner_tag = nullptr)
{
    bpf_link* l = bpf_program__attach(prog);
    if (!l) {
        int err = errno;
        throw Error(VIGIL_ERR_KERNEL, std::string("attaching BPF program ") + bpf_program__name(prog) +
                                          ": " + std::strerror(err));
    }
    Link link(l);
    host.register_link(bpf_link__fd(l), owner_tag);
    return link;
}

} // namespace vigil::sdk
