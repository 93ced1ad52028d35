// A C++ plugin class with two of the four hook methods: VIGIL_PLUGIN must refuse to compile it,
// naming the methods it lacks (the ctest sdk-partial-hooks builds it and expects that message).
#include <vigil/sdk/plugin.hpp>

namespace {

class PartialHooks {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil_descriptor d{};
        return d;
    }
    PartialHooks(vigil::sdk::Host&, const vigil::sdk::Config&) {}
    void start() {}
    void stop() {}
    void decode(uint32_t, std::span<const std::byte>, vigil::sdk::Emitter&) {}
    uint64_t add_hook(const vigil_hook_request&, vigil_hook_status&) { return 1; }
    void hook_stats(uint64_t, vigil_hook_stats&) {}
};

} // namespace

VIGIL_PLUGIN(PartialHooks)
