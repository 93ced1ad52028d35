// The `uprobes:` and `usdts:` hook kinds: user-space functions (by symbol or file offset) and
// USDT probes. Each target of a hook gets its own function hook object (the kprobe plugin's
// kprobe_hook.bpf.c: same argument readers, in-kernel selectors and actions), attached as a
// uprobe/uretprobe or through libbpf's USDT support. Every object writes into one ring.
#pragma once

#include "arg_types.hpp"
#include "kprobe_hook.h"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct kprobe_hook;

namespace vigil::uprobe {

class UprobeHooks {
public:
    static constexpr uint32_t ring_id = 1;
    // A record's hook_id is (handle << target_bits) | the target's index in its hook.
    static constexpr uint32_t target_bits = 6;
    static constexpr size_t max_targets = size_t{1} << target_bits;

    explicit UprobeHooks(sdk::Host& host) : host_(host), ring_(host, "up_hook_events", ring_id) {}
    ~UprobeHooks();

    uint64_t add(const vigil_hook_request& req, vigil_hook_status& status);
    void remove(uint64_t handle);
    void set_mode(uint64_t handle, bool enforce);
    void stats(uint64_t handle, vigil_hook_stats& out) const;
    void remove_all();

    // Turns one hook record into a process_uprobe (or process_usdt) event.
    void decode(std::span<const std::byte> rec, sdk::Emitter& out);

private:
    struct ArgOut {
        std::string type, label;
    };
    // One place the hook attaches: a symbol or offset of the binary, or the USDT probe.
    struct Target {
        std::string symbol;        // "" for a hook on an offset, and for USDT
        uint64_t offset = 0;       // file offset in the binary
        uint64_t ref_ctr_offset = 0;
        kprobe_hook* skel = nullptr;
        std::vector<sdk::Link> links;
    };
    struct Hook {
        uint64_t handle = 0;
        bool usdt = false;
        std::string policy, path, provider, name, message, return_type;
        std::vector<std::string> tags;
        std::vector<ArgOut> args;
        std::vector<Target> targets;
        std::string link_tag; // the host holds this hook's links under this tag
    };
    void destroy(Hook& h);

    sdk::Host& host_;
    sdk::HookRing ring_;
    sdk::HookTable<Hook> hooks_{"uprobe", [this](Hook& h) { destroy(h); }};
    sdk::JsonWriter body_;
    std::string summary_;
};

} // namespace vigil::uprobe
