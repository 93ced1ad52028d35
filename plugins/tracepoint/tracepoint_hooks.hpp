// The `tracepoints:` hook kind: one generic_tp BPF object per policy hook, configured from the
// tracepoint's tracefs format and the policy's args, with the host-compiled selectors installed
// in its maps. Every hook object writes into one ring the plugin owns.
#pragma once

#include "generic_tp.h"
#include "tracefs_format.hpp"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/bpf.hpp>
#include <vigil/sdk/hook_event.hpp>
#include <vigil/sdk/json.hpp>
#include <vigil/sdk/plugin.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <array>
#include <vector>

struct generic_tp;

namespace vigil::tracepoint {

// How a tracepoint hook reads an argument of each policy type it accepts ("auto": by the field).
enum class TypeClass { int_signed, int_unsigned, string, by_field };
struct ArgTypeClass {
    const char* name;
    TypeClass cls;
};
inline constexpr ArgTypeClass arg_type_classes[] = {
    {"auto", TypeClass::by_field},        {"int", TypeClass::int_signed},        {"int8", TypeClass::int_signed},
    {"int16", TypeClass::int_signed},     {"int32", TypeClass::int_signed},      {"int64", TypeClass::int_signed},
    {"syscall64", TypeClass::int_signed}, {"uint8", TypeClass::int_unsigned},    {"uint16", TypeClass::int_unsigned},
    {"uint32", TypeClass::int_unsigned},  {"uint64", TypeClass::int_unsigned},   {"size_t", TypeClass::int_unsigned},
    {"string", TypeClass::string},        {"filename", TypeClass::string},       {"data_loc", TypeClass::string},
};
// The names alone, for the descriptor's arg_types.
inline constexpr auto arg_type_names = [] {
    std::array<const char*, std::size(arg_type_classes)> out{};
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = arg_type_classes[i].name;
    return out;
}();

// What the event of one hook says about each argument.
struct ArgOut {
    std::string type;  // the policy's type name ("int", "string", ...)
    std::string label;
    uint8_t enc = 0;   // vhook_arg_enc
};

class TracepointHooks {
public:
    static constexpr uint32_t ring_id = 1;

    explicit TracepointHooks(sdk::Host& host) : host_(host), ring_(host, "tp_hook_events", ring_id) {}
    // Size of the ring the hooks share, created with the first hook.
    void set_ring_bytes(uint32_t bytes) { ring_.set_bytes(bytes); }
    ~TracepointHooks();

    uint64_t add(const vigil_hook_request& req, vigil_hook_status& status);
    void remove(uint64_t handle);
    void set_mode(uint64_t handle, bool enforce);
    void stats(uint64_t handle, vigil_hook_stats& out) const;
    void remove_all();
    // Removes every hook and lets go of the ring (the host drops it when the plugin stops).
    void reset();
    size_t size() const { return hooks_.size(); }

    // Turns one hook record into a process_tracepoint event.
    void decode(std::span<const std::byte> rec, sdk::Emitter& out);

private:
    friend struct TracepointHooksTestAccess; // fuzz/hook_records.cpp: hooks without a kernel
    struct Hook {
        uint64_t handle = 0;
        std::string policy;
        std::string subsystem, event, message;
        std::string summary; // "subsystem/event policy", the start of every compact line
        std::vector<std::string> tags;
        std::vector<ArgOut> args;
        std::string link_tag; // the host holds this hook's link under this tag
        generic_tp* skel = nullptr;
        sdk::Link link;
    };
    void destroy(Hook& h);

    sdk::Host& host_;
    sdk::HookRing ring_;
    sdk::HookTable<Hook> hooks_{"tracepoint", [this](Hook& h) { destroy(h); }};
    sdk::JsonWriter body_;
    std::string summary_;
};

// How a policy arg of `type` on a field of the format is fetched and encoded; the error names
// the field and why it cannot be read as that type.
struct FetchPlan {
    gtp_arg arg{};
};
std::expected<FetchPlan, std::string> plan_fetch(const FormatField& field, const std::string& type,
                                                 bool user_pointers);
std::expected<FetchPlan, std::string> plan_raw_fetch(uint32_t index, const std::string& type);

} // namespace vigil::tracepoint
