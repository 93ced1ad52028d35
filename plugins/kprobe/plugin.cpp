// The kprobe plugin: serves the `kprobes:` and `lsmhooks:` sections of TracingPolicy with typed
// arguments, return probes and in-kernel enforcement (see kprobe_hooks.hpp for the strategies).
#include "hook_plugin.hpp"
#include "kprobe_hooks.hpp"

#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/plugin.hpp>

namespace {

class KprobePlugin : public vigil::kprobe::HookPlugin<vigil::kprobe::KprobeHooks> {
public:
    using HookPlugin::HookPlugin;

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
};

} // namespace

VIGIL_PLUGIN(KprobePlugin)
