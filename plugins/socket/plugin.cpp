// The socket plugin. It loads and serves nothing yet: its descriptor declares no hook kinds and no
// event kinds, so the host routes nothing to it.
#include <vigil/sdk/plugin.hpp>

namespace {

class SocketPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d = [] {
            vigil_descriptor x{};
            x.struct_size = sizeof x;
            x.abi_major = VIGIL_ABI_MAJOR;
            x.min_host_minor = 0;
            x.id = "socket";
            x.name = "Socket sensors";
            x.version = "0.1.0";
            x.description = "Socket sensor and socket argument parsers; serves nothing yet";
            x.license = "GPL-2.0-only";
            return x;
        }();
        return d;
    }

    SocketPlugin(vigil::sdk::Host&, const vigil::sdk::Config&) {}
    void start() {}
    void stop() {}
    void decode(uint32_t ring_id, std::span<const std::byte>, vigil::sdk::Emitter&)
    {
        throw vigil::sdk::Error(VIGIL_ERR_INVALID, "no ring " + std::to_string(ring_id) + " in the socket plugin");
    }
};

} // namespace

VIGIL_PLUGIN(SocketPlugin)
