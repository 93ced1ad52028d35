// The uprobe plugin: serves the `uprobes:` (user-space functions by symbol or file offset) and
// `usdts:` (USDT probes) sections of TracingPolicy with typed arguments, return values and
// in-kernel selectors and actions (see uprobe_hooks.hpp).
#include "hook_plugin.hpp"
#include "uprobe_hooks.hpp"

#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/plugin.hpp>

namespace {

class UprobePlugin : public vigil::kprobe::HookPlugin<vigil::uprobe::UprobeHooks> {
public:
    using HookPlugin::HookPlugin;

    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d =
            vigil::sdk::Descriptor("uprobe", "User-space function hooks", "0.1.0")
                .description("User-space function (uprobe) and USDT probe hooks with typed arguments, return "
                             "values and enforcement")
                .license("GPL-2.0-only")
                .hook_kinds({"uprobes", "usdts"})
                .events({"process_uprobe", "process_usdt"})
                // what plan_arg() reads in user space; the host refuses a hook needing any other type
                .arg_types({"int", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "size_t",
                            "string", "char_buf", "fd"})
                .shared_maps();
        return d.get();
    }
};

} // namespace

VIGIL_PLUGIN(UprobePlugin)
