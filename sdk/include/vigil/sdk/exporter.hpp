// Exporter plugins (ABI 1.3): the events the host hands an exporter, as string views.
#pragma once

#include <vigil/plugin_abi.h>

#include <string_view>

namespace vigil::sdk {

// One rendered event; the views die with the export_events call that carried it.
struct ExportedEvent {
    std::string_view kind; // "process_exec", ...
    std::string_view node; // the agent's node_name
    std::string_view json; // the whole event, as the JSON file has it (no newline)
};

inline ExportedEvent exported(const vigil_export_event& ev) noexcept
{
    auto view = [](const char* p, size_t n) { return p ? std::string_view(p, n) : std::string_view{}; };
    return {view(ev.kind, ev.kind_len), view(ev.node, ev.node_len), view(ev.json, ev.json_len)};
}

} // namespace vigil::sdk
