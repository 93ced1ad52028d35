// Builds a plugin's vigil_descriptor without arrays and counts kept in step by hand:
//
//   static const vigil_descriptor& descriptor()
//   {
//       static const vigil::sdk::Descriptor d = vigil::sdk::Descriptor("signal", "Signal sensor", "1.0.0")
//           .description("one event per signal sent")
//           .license("GPL-2.0-only")
//           .min_host_minor(2)
//           .events({"signal_send"})
//           .shared_maps()
//           .config_int("ring_mb", "ring buffer size in MiB, 0: sized from the CPUs", "0");
//       return d.get();
//   }
//
// Every string is a literal (or otherwise outlives the library); the builder keeps the lists.
#pragma once

#include <vigil/plugin_abi.h>
#include <vigil/sdk/bpf.hpp>

#include <initializer_list>
#include <iterator>
#include <span>
#include <vector>

namespace vigil::sdk {

class Descriptor {
public:
    Descriptor(const char* id, const char* name, const char* version)
    {
        d_.struct_size = sizeof d_;
        d_.abi_major = VIGIL_ABI_MAJOR;
        d_.id = id;
        d_.name = name;
        d_.version = version;
        d_.description = "";
    }

    Descriptor& description(const char* text) { d_.description = text; return *this; }
    Descriptor& license(const char* spdx) { d_.license = spdx; return *this; }
    // The oldest host ABI minor that has everything the plugin uses (see plugin_abi.h).
    Descriptor& min_host_minor(uint32_t minor) { d_.min_host_minor = minor; return *this; }
    Descriptor& hook_kinds(std::initializer_list<const char*> kinds) { return add(hook_kinds_, kinds); }
    Descriptor& events(std::initializer_list<const char*> kinds) { return add(event_kinds_, kinds); }
    Descriptor& arg_types(std::initializer_list<const char*> types) { return add(arg_types_, types); }
    // The same from a table the plugin's argument readers use, so the two cannot drift.
    Descriptor& arg_types_from(std::span<const char* const> types)
    {
        arg_types_.insert(arg_types_.end(), types.begin(), types.end());
        return *this;
    }
    // Event kinds another running plugin must emit (ABI 1.2: declare min_host_minor(2)).
    Descriptor& needs_events(std::initializer_list<const char*> kinds) { return add(needs_, kinds); }
    // The shared process cache is read: the lifecycle sensor that keeps it current must run.
    Descriptor& needs_process_cache() { return needs_events({"process_exec", "process_clone", "process_exit"}); }
    // Every host-owned map: what a BPF object including vigil/bpf/maps.h declares.
    Descriptor& shared_maps()
    {
        maps_.assign(std::begin(shared_map_uses), std::end(shared_map_uses));
        return *this;
    }
    Descriptor& config_bool(const char* key, const char* description, const char* default_value = nullptr)
    {
        return config(key, VIGIL_CONFIG_BOOL, description, default_value);
    }
    Descriptor& config_int(const char* key, const char* description, const char* default_value = nullptr)
    {
        return config(key, VIGIL_CONFIG_INT, description, default_value);
    }
    Descriptor& config_string(const char* key, const char* description, const char* default_value = nullptr)
    {
        return config(key, VIGIL_CONFIG_STRING, description, default_value);
    }
    Descriptor& config_list(const char* key, const char* description, const char* default_value = nullptr)
    {
        return config(key, VIGIL_CONFIG_STRING_LIST, description, default_value);
    }

    // The descriptor, its lists pointing into this builder: keep the builder alive (static).
    const vigil_descriptor& get() const
    {
        d_.hook_kinds = hook_kinds_.data();
        d_.hook_kind_count = static_cast<uint32_t>(hook_kinds_.size());
        d_.event_kinds = event_kinds_.data();
        d_.event_kind_count = static_cast<uint32_t>(event_kinds_.size());
        d_.arg_types = arg_types_.data();
        d_.arg_type_count = static_cast<uint32_t>(arg_types_.size());
        d_.shared_maps = maps_.data();
        d_.shared_map_count = static_cast<uint32_t>(maps_.size());
        d_.config_fields = fields_.data();
        d_.config_field_count = static_cast<uint32_t>(fields_.size());
        d_.needs_events = needs_.data();
        d_.needs_event_count = static_cast<uint32_t>(needs_.size());
        return d_;
    }

private:
    Descriptor& add(std::vector<const char*>& list, std::initializer_list<const char*> items)
    {
        list.insert(list.end(), items.begin(), items.end());
        return *this;
    }
    Descriptor& config(const char* key, uint32_t type, const char* description, const char* default_value)
    {
        fields_.push_back({sizeof(vigil_config_field), key, type, description, default_value});
        return *this;
    }

    mutable vigil_descriptor d_{};
    std::vector<const char*> hook_kinds_, event_kinds_, arg_types_, needs_;
    std::vector<vigil_map_use> maps_;
    std::vector<vigil_config_field> fields_;
};

} // namespace vigil::sdk
