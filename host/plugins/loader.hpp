// Loading plugin libraries (Boost.DLL opens them; the entry point is a plain C function) and
// checking them before any plugin code runs beyond its descriptor: entry point, ABI versions,
// descriptor content, file ownership.
#pragma once

#include "core/error.hpp"

#include <vigil/plugin_abi.h>

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS
#endif
#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace vigil {

// A plugin library that passed every check. The library stays loaded for the life of the
// process (plugins are never dlclosed while vigild runs).
struct PluginLibrary {
    std::filesystem::path path;
    boost::dll::shared_library library;
    const vigil_plugin_api* api = nullptr;
    const vigil_descriptor* descriptor = nullptr;
    // Found through the Boost.DLL alias of ABI < 1.2 (VIGIL_LEGACY_ENTRY_SYMBOL), not the C function.
    bool legacy_entry = false;
};

// Opens `path` and checks it (and, when `sha256` is given, that its content has that SHA-256, in
// lower-case hex); the error names the file and the reason. When the plugin is refused after its
// descriptor was read, `refused_descriptor` (if given) gets the descriptor's description.
[[nodiscard]] Result<PluginLibrary> load_plugin_library(const std::filesystem::path& path,
                                                        std::string_view sha256 = {},
                                                        std::string* refused_descriptor = nullptr);

// The checks on a descriptor's content alone (ids, versions, lists, config schema).
[[nodiscard]] Result<void> validate_descriptor(const vigil_descriptor& d);

// The file must be a regular file owned by root (or by the user vigild runs as) and not
// writable by group or others: whoever can write it can run code inside the agent.
[[nodiscard]] Result<void> check_plugin_file(const std::filesystem::path& path);

// Whether the descriptor (ABI 1.2 or later) lists event kinds it needs from other plugins.
bool has_needs(const vigil_descriptor& d);

// Whether the API table (ABI 1.3 or later) sets the exporter callbacks.
bool is_exporter(const vigil_plugin_api& api);

// Human-readable description of a descriptor, for `vigil plugin check`.
std::string describe_descriptor(const vigil_descriptor& d);

} // namespace vigil
