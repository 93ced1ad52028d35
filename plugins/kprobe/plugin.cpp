// The kprobe plugin. It loads and serves nothing yet: its descriptor declares no hook kinds and no
// event kinds, so the host routes nothing to it.
#include <vigil/sdk/plugin.hpp>

namespace {

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
            x.version = "0.1.0";
            x.description = "Kernel-function and syscall hooks; serves no hook kind yet";
            x.license = "GPL-2.0-only";
            return x;
        }();
        return d;
    }

    KprobePlugin(vigil::sdk::Host&, const vigil::sdk::Config&) {}
    void start() {}
    void stop() {}
    void decode(uint32_t ring_id, std::span<const std::byte>, vigil::sdk::Emitter&)
    {
        throw vigil::sdk::Error(VIGIL_ERR_INVALID, "no ring " + std::to_string(ring_id) + " in the kprobe plugin");
    }
};

} // namespace

VIGIL_PLUGIN(KprobePlugin)
