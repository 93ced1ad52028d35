// The kprobe plugin: serves the `kprobes:` and `lsmhooks:` sections of TracingPolicy with typed
// arguments, return probes and in-kernel enforcement (see kprobe_hooks.hpp for the strategies).
#include "kprobe_hooks.hpp"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

namespace {

const char* const hook_kinds[] = {"kprobes", "lsmhooks"};
const char* const event_kinds[] = {"process_kprobe", "process_lsm"};
// What read_plan() in arg_types.cpp reads; the host refuses a hook needing any other type.
const char* const arg_types[] = {"int",      "int8",     "uint8",  "int16",     "uint16", "int32",    "uint32",
                                 "int64",    "uint64",   "size_t", "syscall64", "fd",     "string",   "filename",
                                 "char_buf", "cred",     "file",   "path",      "dentry", "sock",     "socket",
                                 "sockaddr", "skb"};

template <class T, size_t N>
constexpr uint32_t count_of(const T (&)[N])
{
    return N;
}

class KprobePlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = VIGIL_ABI_MAJOR;
            x.min_host_minor = 0;
            x.id = "kprobe";
            x.name = "Kernel function hooks";
            x.version = "0.2.0";
            x.description = "Kernel-function, syscall and LSM hooks with typed arguments, return probes and "
                            "enforcement";
            x.license = "GPL-2.0-only";
            x.hook_kinds = hook_kinds;
            x.hook_kind_count = count_of(hook_kinds);
            x.event_kinds = event_kinds;
            x.event_kind_count = count_of(event_kinds);
            x.arg_types = arg_types;
            x.arg_type_count = count_of(arg_types);
            x.shared_maps = vigil::sdk::shared_map_uses;
            x.shared_map_count = std::size(vigil::sdk::shared_map_uses);
            return x;
        }();
        return d;
    }

    KprobePlugin(vigil::sdk::Host& host, const vigil::sdk::Config&) : hooks_(host) {}

    // Hook objects are loaded per policy; the plugin has no sensor of its own to start.
    void start() {}
    void stop() { hooks_.remove_all(); }

    void decode(uint32_t ring_id, std::span<const std::byte> rec, vigil::sdk::Emitter& out)
    {
        if (ring_id != vigil::kprobe::KprobeHooks::ring_id)
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, fmt::format("no ring {} in the kprobe plugin", ring_id));
        hooks_.decode(rec, out);
    }

    uint64_t add_hook(const vigil_hook_request& req, vigil_hook_status& status) { return hooks_.add(req, status); }
    void remove_hook(uint64_t handle) { hooks_.remove(handle); }
    void set_hook_mode(uint64_t handle, bool enforce) { hooks_.set_mode(handle, enforce); }
    void hook_stats(uint64_t handle, vigil_hook_stats& stats) { hooks_.stats(handle, stats); }

private:
    vigil::kprobe::KprobeHooks hooks_;
};

} // namespace

VIGIL_PLUGIN(KprobePlugin)
