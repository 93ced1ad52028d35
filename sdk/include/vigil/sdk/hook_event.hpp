// What every plugin that serves policy hooks needs around its hook objects: the table of its
// hooks by handle, one ring buffer for the records of all of them, the mode and selector counters
// of a loaded hook object, and a checked read of a vhook_record (vigil/wire/hook_event.h) written
// by vigil/bpf/hook_event.h.
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/sdk/plugin.hpp>
#include <vigil/sdk/selectors.hpp>
#include <vigil/wire/hook_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::sdk {

// The ring the plugin's hook objects share (each reuses its fd with bpf_map__reuse_fd before
// load). Created, and handed to the host under ring_id, on first use.
class HookRing {
public:
    // Sized from the CPUs by default (default_hook_ring_bytes); the host is woken when an eighth
    // of it is waiting (vigil/bpf/emit.h).
    HookRing(const Host& host, const char* name, uint32_t ring_id, uint32_t bytes = default_hook_ring_bytes())
        : host_(host), name_(name), ring_id_(ring_id), bytes_(bytes)
    {
    }
    ~HookRing() { reset(); }
    HookRing(const HookRing&) = delete;
    HookRing& operator=(const HookRing&) = delete;

    int fd()
    {
        if (fd_ >= 0)
            return fd_;
        int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name_, 0, 0, bytes_, nullptr);
        if (fd < 0)
            throw Error(VIGIL_ERR_KERNEL, std::string("creating the hook ring buffer: ") + std::strerror(errno));
        try {
            host_.add_ring(fd, ring_id_);
        } catch (...) {
            ::close(fd);
            throw;
        }
        fd_ = fd;
        return fd_;
    }
    // The size of a ring not created yet.
    void set_bytes(uint32_t bytes) { bytes_ = bytes; }
    // Lets go of the ring (the host drops it when the plugin stops).
    void reset()
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

private:
    const Host& host_;
    const char* name_;
    uint32_t ring_id_;
    uint32_t bytes_;
    int fd_ = -1;
};

// The hooks a plugin holds, by the handle the host knows each one by (Hook has a uint64_t
// `handle`). The plugin says how a hook is torn down; an unknown handle is a VIGIL_ERR_NOT_FOUND
// that names the hook kind. The owner calls clear() while what the teardown uses still exists.
// Tears down one hook object: the host's copies of its links (registered under link_tag) go
// first, since they keep the programs attached until the host lets go of them too; then the
// plugin's own links (a Link or a container of them), then the skeleton.
template <class Skel, class Links>
void destroy_hook_object(const Host& host, const std::string& link_tag, Links& links, Skel*& skel,
                         void (*destroy_skel)(Skel*))
{
    if (!link_tag.empty())
        host.remove_links(link_tag.c_str());
    links = Links{};
    if (skel)
        destroy_skel(skel);
    skel = nullptr;
}

template <class Hook>
class HookTable {
public:
    HookTable(std::string kind, std::function<void(Hook&)> teardown)
        : kind_(std::move(kind)), teardown_(std::move(teardown))
    {
    }

    uint64_t next_handle() { return next_++; }
    // Keeps the hook under its handle, which it returns.
    uint64_t insert(std::unique_ptr<Hook> hook)
    {
        uint64_t handle = hook->handle;
        hooks_.emplace(handle, std::move(hook));
        return handle;
    }
    Hook& get(uint64_t handle) const
    {
        auto it = hooks_.find(handle);
        if (it == hooks_.end())
            throw Error(VIGIL_ERR_NOT_FOUND, "no " + kind_ + " hook " + std::to_string(handle));
        return *it->second;
    }
    // The hook a record names, or nullptr when it was removed while its records were in flight.
    const Hook* find(uint64_t handle) const
    {
        auto it = hooks_.find(handle);
        return it == hooks_.end() ? nullptr : it->second.get();
    }
    void remove(uint64_t handle)
    {
        teardown_(get(handle));
        hooks_.erase(handle);
    }
    void clear()
    {
        for (auto& [_, h] : hooks_)
            teardown_(*h);
        hooks_.clear();
    }
    size_t size() const { return hooks_.size(); }

private:
    std::string kind_;
    std::function<void(Hook&)> teardown_;
    uint64_t next_ = 1;
    std::map<uint64_t, std::unique_ptr<Hook>> hooks_;
};

// Switches a hook object built on vigil/bpf/selectors.h between enforce and monitor mode.
inline void set_hook_mode(bpf_object* obj, bool enforce)
{
    if (int err = CompiledSelectors::set_enforce(obj, enforce))
        throw Error(VIGIL_ERR_KERNEL, std::string("setting the mode: ") + std::strerror(-err));
}

// The vsel_stats counters of a loaded hook object, summed over CPUs.
inline void read_hook_stats(bpf_object* obj, vigil_hook_stats& out)
{
    bpf_map* m = bpf_object__find_map_by_name(obj, "vsel_stats");
    if (!m)
        throw Error(VIGIL_ERR_NOT_FOUND, "the hook object has no vsel_stats map");
    int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> v(ncpu > 0 ? ncpu : 1);
    auto sum = [&](uint32_t slot) {
        uint64_t s = 0;
        if (bpf_map_lookup_elem(bpf_map__fd(m), &slot, v.data()) == 0)
            for (uint64_t x : v)
                s += x;
        return s;
    };
    out.matched = sum(VSEL_STAT_MATCHED);
    out.shed = sum(VSEL_STAT_SHED);
    out.ring_full = sum(VSEL_STAT_RING_FULL);
    // The evaluator counts a post when it decides one; what was dropped after did not go out.
    uint64_t decided = sum(VSEL_STAT_POSTED);
    out.posted = decided - std::min(decided, out.shed + out.ring_full);
    out.rate_limited = sum(VSEL_STAT_RATE_LIMITED);
    out.enforced = sum(VSEL_STAT_ENFORCED);
    out.monitored = sum(VSEL_STAT_MONITORED);
}

struct HookArg {
    vhook_arg hdr;
    std::span<const std::byte> value; // hdr.len bytes
};

// At most VSEL_MAX_ARGS arguments, held in place: parsing a record allocates nothing.
struct HookArgs {
    std::array<HookArg, VSEL_MAX_ARGS> items{};
    size_t count = 0;
    size_t size() const { return count; }
    const HookArg& operator[](size_t i) const { return items[i]; }
    const HookArg* begin() const { return items.data(); }
    const HookArg* end() const { return items.data() + count; }
};

struct HookRecord {
    vhook_record hdr;
    HookArgs args;
};

// The header and arguments of one record, every length checked against the record's size.
inline std::expected<HookRecord, std::string> parse_hook_record(std::span<const std::byte> rec)
{
    HookRecord out;
    vhook_record& r = out.hdr;
    if (rec.size() < sizeof r)
        return std::unexpected("hook record of " + std::to_string(rec.size()) + " bytes is too short");
    std::memcpy(&r, rec.data(), sizeof r);
    if (r.kind != VHOOK_RECORD_KIND || r.size > rec.size() || r.size < sizeof r || r.nargs > VSEL_MAX_ARGS)
        return std::unexpected(std::string("malformed hook record header"));
    size_t off = sizeof r;
    for (uint32_t i = 0; i < r.nargs; ++i) {
        HookArg a;
        if (off + sizeof a.hdr > r.size)
            return std::unexpected("hook record cut in argument " + std::to_string(i));
        std::memcpy(&a.hdr, rec.data() + off, sizeof a.hdr);
        off += sizeof a.hdr;
        size_t padded = (size_t(a.hdr.len) + 7) & ~size_t(7);
        if (a.hdr.len > VHOOK_ARG_MAX || off + padded > r.size)
            return std::unexpected("hook record argument " + std::to_string(i) + " overruns the record");
        a.value = rec.subspan(off, a.hdr.len);
        off += padded;
        out.args.items[out.args.count++] = a;
    }
    return out;
}

// The event of a hook record: who and when from the record's header (the process by the key of
// the image that made the call, never just by pid), what from the plugin. The pointers must stay
// valid until the event is emitted.
inline vigil_event hook_event(const vhook_record& r, const char* kind, std::string_view body, std::string_view summary,
                              const std::string& policy)
{
    vigil_event ev{};
    ev.struct_size = sizeof ev;
    ev.pid = r.pid;
    ev.tid = r.tid;
    ev.ktime = r.ktime;
    ev.proc_ktime = r.proc_ktime;
    ev.kind = kind;
    ev.body_json = body.data();
    ev.body_json_len = body.size();
    ev.summary = summary.data();
    ev.summary_len = summary.size();
    ev.policy_name = policy.c_str();
    return ev;
}

} // namespace vigil::sdk
