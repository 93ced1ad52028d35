// A plugin that only serves policy hooks (the kprobe and uprobe plugins): no sensor of its own,
// every callback handed to its hook set `Hooks` (add/remove/set_mode/stats/remove_all/decode and
// a ring_id). The plugin class adds its descriptor.
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vigil::kprobe {

template <class Hooks>
class HookPlugin {
public:
    HookPlugin(sdk::Host& host, const sdk::Config&) : hooks_(host) {}

    // Hook objects are loaded per policy; there is nothing to start.
    void start() {}
    void stop() { hooks_.remove_all(); }

    void decode(uint32_t ring_id, std::span<const std::byte> rec, sdk::Emitter& out)
    {
        if (ring_id != Hooks::ring_id)
            throw sdk::Error(VIGIL_ERR_INVALID, "no ring " + std::to_string(ring_id) + " in this plugin");
        hooks_.decode(rec, out);
    }

    uint64_t add_hook(const vigil_hook_request& req, vigil_hook_status& status) { return hooks_.add(req, status); }
    void remove_hook(uint64_t handle) { hooks_.remove(handle); }
    void set_hook_mode(uint64_t handle, bool enforce) { hooks_.set_mode(handle, enforce); }
    void hook_stats(uint64_t handle, vigil_hook_stats& stats) { hooks_.stats(handle, stats); }

private:
    Hooks hooks_;
};

} // namespace vigil::kprobe
