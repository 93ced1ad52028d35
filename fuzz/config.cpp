// vigild's TOML configuration: parse_config, then for a config that parses, what vigild builds
// from it before starting plugins (export filters, plugin library paths).
#include "fuzz_util.hpp"

#include "core/config.hpp"
#include "export/filter.hpp"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace vigil;
    if (size > 64 * 1024)
        return 0;
    auto cfg = parse_config(fuzz::as_text(data, size), "fuzz.toml");
    if (!cfg) {
        fuzz::check_error_message(cfg.error().message(), "parse_config");
        return 0;
    }
    auto filters = ExportFilters::make(cfg->export_allow, cfg->export_deny);
    if (filters) {
        ProcessEntry e;
        e.binary = "/usr/bin/true";
        (void)filters->pass("process_exec", 1, &e);
        (void)filters->pass("PROCESS_EXIT", 2, nullptr);
    }
    for (const auto& p : cfg->plugins) {
        fuzz::check(!p.id.empty() && !p.library.empty(), "plugin without id or library");
        // Relative libraries must stay inside the plugin directory.
        auto path = resolve_plugin_library(p, "/nonexistent/vigil-fuzz/plugins");
        if (path && !std::filesystem::path(p.library).is_absolute())
            fuzz::check(path->lexically_normal().string().starts_with("/nonexistent/vigil-fuzz/plugins/"),
                        "plugin library resolved outside the plugin directory", path->string());
    }
    return 0;
}
