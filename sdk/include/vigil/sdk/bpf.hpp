// libbpf helpers for plugins: point a BPF object's shared-map declarations at the host's maps,
// and own skeletons and links the RAII way.
#pragma once

#include <vigil/sdk/plugin.hpp>
#include <vigil/wire/shared_maps.h>

#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace vigil::sdk {

// Every map the host owns, with the layout this SDK was built against (vigil/wire/shared_maps.h).
inline constexpr vigil_shared_map_spec shared_maps[] = {VIGIL_SHARED_MAPS(VIGIL_SHARED_MAP_SPEC)};

// The same, as a descriptor's shared_maps list: a plugin whose BPF objects include
// vigil/bpf/maps.h uses them all.
#define VIGIL_SHARED_MAP_USE(name, type, key, value, max, flags, layout) {sizeof(vigil_map_use), #name, layout},
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

// The functions bpftool generated for the skeleton `name`: VIGIL_SKELETON(name).
template <class S>
struct SkeletonOps {
    S* (*open)();
    int (*load)(S*);
    void (*destroy)(S*);
};
#define VIGIL_SKELETON(name) ::vigil::sdk::SkeletonOps<name>{&name##__open, &name##__load, &name##__destroy}

// One BPF object of a plugin from open to teardown: start() opens it, lets the plugin configure
// it (read-only globals, autoload, ring sizes), points its shared-map declarations at the host's
// maps, loads it, hands its rings to the host and attaches every program left to load, each link
// registered with the host; stop() (or the destructor) detaches and frees it all. A refused load
// throws an Error whose message the host completes with the end of the verifier's log.
template <class S>
class Skeleton {
public:
    Skeleton(const Host& host, SkeletonOps<S> ops, const char* what) : host_(host), ops_(ops), what_(what) {}
    Skeleton(const Skeleton&) = delete;
    Skeleton& operator=(const Skeleton&) = delete;
    ~Skeleton() { stop(); }

    // `configure(S&)` runs between open and load; `attach_programs = false` leaves attaching to
    // the plugin (programs that need a target, such as a cgroup or a uprobe's binary).
    template <class F>
    void start(F&& configure, bool attach_programs = true)
    {
        stop();
        skel_ = ops_.open();
        if (!skel_)
            throw Error(VIGIL_ERR_KERNEL, std::string("opening the BPF object ") + what_ + ": " + std::strerror(errno));
        try {
            configure(*skel_);
            reuse_shared_maps(skel_->obj, host_);
            if (int err = ops_.load(skel_))
                throw Error(VIGIL_ERR_KERNEL, std::string("loading the BPF object ") + what_ + ": " +
                                                  std::strerror(-err));
            for (auto [map, id] : rings_)
                host_.add_ring(bpf_map__fd(map), id);
            bpf_program* prog;
            if (attach_programs)
                bpf_object__for_each_program(prog, skel_->obj)
                {
                    if (bpf_program__autoload(prog))
                        links_.push_back(attach(prog, host_));
                }
        } catch (...) {
            stop();
            throw;
        }
    }
    void start() { start([](S&) {}); }

    // Inside configure: `map` is a ring buffer the host drains, handing each record to
    // decode(ring_id); `bytes` (a power of two, 0: as declared) sizes it.
    void ring(bpf_map* map, uint32_t ring_id, uint32_t bytes = 0)
    {
        if (int err = bytes ? bpf_map__set_max_entries(map, bytes) : 0)
            throw Error(VIGIL_ERR_INVALID, std::string("sizing ring ") + bpf_map__name(map) + " to " +
                                               std::to_string(bytes) + " bytes: " + std::strerror(-err));
        rings_.emplace_back(map, ring_id);
    }

    void stop()
    {
        links_.clear();
        rings_.clear();
        if (skel_)
            ops_.destroy(skel_);
        skel_ = nullptr;
    }

    S* operator->() const { return skel_; }
    S* get() const { return skel_; }
    size_t link_count() const { return links_.size(); }
    explicit operator bool() const { return skel_ != nullptr; }

private:
    const Host& host_;
    SkeletonOps<S> ops_;
    const char* what_;
    S* skel_ = nullptr;
    std::vector<Link> links_;
    std::vector<std::pair<bpf_map*, uint32_t>> rings_;
};

} // namespace vigil::sdk
