// The kprobe plugin: serves the `kprobes:` and `lsmhooks:` sections of TracingPolicy with typed
// arguments, return probes and in-kernel enforcement (see kprobe_hooks.hpp for the strategies).
#include "kprobe_hooks.hpp"

#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/plugin.hpp>

#include <fmt/format.h>

namespace {

class KprobePlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d =
            vigil::sdk::Descriptor("kprobe", "Kernel function hooks", "0.2.0")
                .description("Kernel-function, syscall and LSM hooks with typed arguments, return probes and "
                             "enforcement")
                .license("GPL-2.0-only")
                .hook_kinds({"kprobes", "lsmhooks"})
                .events({"process_kprobe", "process_lsm"})
                // what read_plan() in arg_types.cpp reads; the host refuses a hook needing any other type
                .arg_types({"int", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "size_t",
                            "syscall64", "fd", "string", "filename", "char_buf", "cred", "file", "path", "dentry",
                            "sock", "socket", "sockaddr", "skb"})
                .shared_maps();
        return d.get();
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
