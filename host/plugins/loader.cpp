#include "plugins/loader.hpp"

#include "bpf/shared_maps.hpp"
#include "core/trusted_file.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fmt/format.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string_view>

namespace vigil {

namespace {

// The smallest descriptor a host of this ABI major can read (everything up to config fields).
constexpr size_t min_descriptor_size = offsetof(vigil_descriptor, config_field_count) + sizeof(uint32_t);
constexpr size_t min_api_size = offsetof(vigil_plugin_api, decode) + sizeof(void*);

bool is_semver(std::string_view v)
{
    static const std::regex re(R"(\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?)");
    return std::regex_match(v.begin(), v.end(), re);
}

bool is_id(std::string_view v)
{
    static const std::regex re("[a-z0-9_-]{1,32}");
    return std::regex_match(v.begin(), v.end(), re);
}

Result<void> check_string_list(const char* what, const char* const* list, uint32_t count,
                               const std::regex& item_re)
{
    if (count && !list)
        return fail(Errc::plugin, "descriptor: {} has count {} but no list", what, count);
    if (count > 256)
        return fail(Errc::plugin, "descriptor: {} has {} entries, more than the limit of 256", what, count);
    std::set<std::string_view> seen;
    for (uint32_t i = 0; i < count; ++i) {
        if (!list[i])
            return fail(Errc::plugin, "descriptor: {}[{}] is NULL", what, i);
        std::string_view s(list[i]);
        if (!std::regex_match(s.begin(), s.end(), item_re))
            return fail(Errc::plugin, "descriptor: {}[{}] \"{}\" is not a valid name", what, i, s);
        if (!seen.insert(s).second)
            return fail(Errc::plugin, "descriptor: {} lists \"{}\" twice", what, s);
    }
    return {};
}

// The plugin's entry function: the exported C function, or a plugin of ABI < 1.2's Boost.DLL
// alias (a data symbol holding the function's address), accepted during ABI 1.2 only.
Result<vigil_plugin_entry_fn> find_entry(void* handle, const std::filesystem::path& path, bool& legacy)
{
    legacy = false;
    if (void* fn = ::dlsym(handle, VIGIL_ENTRY_SYMBOL))
        return reinterpret_cast<vigil_plugin_entry_fn>(fn);
    void* sym = ::dlsym(handle, VIGIL_LEGACY_ENTRY_SYMBOL);
    if (!sym)
        return fail(Errc::plugin, "{}: no entry point \"{}\" (was it built with VIGIL_PLUGIN()?)", path.string(),
                    VIGIL_ENTRY_SYMBOL);
    // Read as data only what the ELF symbol table says is data: a function of the old name,
    // written from an older header, is called instead.
    Dl_info info{};
    void* extra = nullptr;
    if (!::dladdr1(sym, &info, &extra, RTLD_DL_SYMENT) || !extra)
        return fail(Errc::plugin, "{}: cannot tell what kind of symbol \"{}\" is", path.string(),
                    VIGIL_LEGACY_ENTRY_SYMBOL);
    const auto* elf_sym = static_cast<const ElfW(Sym)*>(extra);
    legacy = true;
    switch (ELF64_ST_TYPE(elf_sym->st_info)) {
    case STT_FUNC:
        return reinterpret_cast<vigil_plugin_entry_fn>(sym);
    case STT_OBJECT:
        if (elf_sym->st_size == sizeof(void*))
            return *static_cast<vigil_plugin_entry_fn*>(sym);
        break;
    default:
        break;
    }
    return fail(Errc::plugin, "{}: \"{}\" is neither a function nor a pointer to one; export \"{}\" instead",
                path.string(), VIGIL_LEGACY_ENTRY_SYMBOL, VIGIL_ENTRY_SYMBOL);
}

// The four hook callbacks are one group: all set when the plugin serves hook kinds, none when it
// does not. The error names the ones missing (or set without need).
Result<void> check_hook_group(const vigil_plugin_api& api, const vigil_descriptor& d, const std::filesystem::path& path)
{
    // hook callbacks are of ABI 1.0: a plugin of that version ends its table after hook_stats
    bool covered = api.struct_size >= offsetof(vigil_plugin_api, hook_stats) + sizeof(void*);
    struct Member {
        const char* name;
        bool set;
    };
    const Member members[] = {{"add_hook", covered && api.add_hook},
                              {"remove_hook", covered && api.remove_hook},
                              {"set_hook_mode", covered && api.set_hook_mode},
                              {"hook_stats", covered && api.hook_stats}};
    std::string set, missing;
    for (const auto& m : members)
        (m.set ? set : missing) += fmt::format("{}{}", (m.set ? set : missing).empty() ? "" : ", ", m.name);
    if (d.hook_kind_count && !missing.empty())
        return fail(Errc::plugin, "{}: declares hook kinds but its API table has no {}", path.string(), missing);
    if (!set.empty() && !missing.empty())
        return fail(Errc::plugin, "{}: its API table sets {} but not {}; the hook callbacks come all four or none",
                    path.string(), set, missing);
    return {};
}
// The exporter callbacks are a group too, and an exporter may go without decode (it has no rings).
Result<void> check_exporter_group(const vigil_plugin_api& api, const std::filesystem::path& path)
{
    bool covered = api.struct_size >= offsetof(vigil_plugin_api, export_status) + sizeof(void*);
    bool events = covered && api.export_events, status = covered && api.export_status;
    if (events != status)
        return fail(Errc::plugin, "{}: its API table sets {} but not {}; the exporter callbacks come both or none",
                    path.string(), events ? "export_events" : "export_status",
                    events ? "export_status" : "export_events");
    if (!api.decode && !events)
        return fail(Errc::plugin, "{}: plugin API table lacks the required decode", path.string());
    return {};
}
} // namespace

bool is_exporter(const vigil_plugin_api& api)
{
    return api.struct_size >= offsetof(vigil_plugin_api, export_status) + sizeof(void*) && api.export_events &&
           api.export_status;
}

bool has_needs(const vigil_descriptor& d)
{
    return d.struct_size >= offsetof(vigil_descriptor, needs_events) + sizeof(void*) && d.needs_event_count;
}

Result<void> validate_descriptor(const vigil_descriptor& d)
{
    if (d.struct_size < min_descriptor_size)
        return fail(Errc::plugin, "descriptor: struct_size {} is smaller than the {} bytes of ABI {}.0",
                    d.struct_size, min_descriptor_size, VIGIL_ABI_MAJOR);
    if (d.abi_major != VIGIL_ABI_MAJOR)
        return fail(Errc::plugin, "plugin ABI major {} does not match the host's ABI {}.{}; rebuild the plugin "
                                  "against SDK {}.x",
                    d.abi_major, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, VIGIL_ABI_MAJOR);
    if (d.min_host_minor > VIGIL_ABI_MINOR)
        return fail(Errc::plugin, "plugin needs host ABI {}.{} or newer, this host has ABI {}.{}; upgrade vigild",
                    d.abi_major, d.min_host_minor, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
    if (!d.id || !is_id(d.id))
        return fail(Errc::plugin, "descriptor: id \"{}\" must be 1-32 characters of a-z, 0-9, _ and -",
                    d.id ? d.id : "(null)");
    if (!d.name || !*d.name)
        return fail(Errc::plugin, "descriptor: name is empty");
    if (!d.version || !is_semver(d.version))
        return fail(Errc::plugin, "descriptor: version \"{}\" is not semver (MAJOR.MINOR.PATCH)",
                    d.version ? d.version : "(null)");
    if (!d.license || !*d.license)
        return fail(Errc::plugin, "descriptor: license is empty");
    if (!d.description)
        return fail(Errc::plugin, "descriptor: description is NULL");
    static const std::regex name_re("[a-z][a-z0-9_]{0,63}");
    if (auto r = check_string_list("hook_kinds", d.hook_kinds, d.hook_kind_count, name_re); !r)
        return r;
    if (auto r = check_string_list("event_kinds", d.event_kinds, d.event_kind_count, name_re); !r)
        return r;
    if (auto r = check_string_list("arg_types", d.arg_types, d.arg_type_count, name_re); !r)
        return r;
    if (has_needs(d))
        if (auto r = check_string_list("needs_events", d.needs_events, d.needs_event_count, name_re); !r)
            return r;
    if (d.shared_map_count && !d.shared_maps)
        return fail(Errc::plugin, "descriptor: shared_map_count is {} but shared_maps is NULL", d.shared_map_count);
    for (uint32_t i = 0; i < d.shared_map_count; ++i) {
        const auto& m = d.shared_maps[i];
        if (!m.name)
            return fail(Errc::plugin, "descriptor: shared_maps[{}] has no name", i);
        uint32_t have = SharedMaps::layout_of(m.name);
        if (have == 0)
            return fail(Errc::plugin, "descriptor: shared map \"{}\" is not provided by this host", m.name);
        if (have != m.layout_version)
            return fail(Errc::plugin,
                        "shared map \"{}\" layout {} does not match the host's layout {}; rebuild the plugin "
                        "against this SDK",
                        m.name, m.layout_version, have);
    }
    if (d.config_field_count && !d.config_fields)
        return fail(Errc::plugin, "descriptor: config_field_count is {} but config_fields is NULL",
                    d.config_field_count);
    std::set<std::string_view> keys;
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const auto& f = d.config_fields[i];
        if (!f.key || !std::regex_match(f.key, name_re))
            return fail(Errc::plugin, "descriptor: config_fields[{}] key \"{}\" is not a valid name", i,
                        f.key ? f.key : "(null)");
        if (f.type < VIGIL_CONFIG_BOOL || f.type > VIGIL_CONFIG_STRING_LIST)
            return fail(Errc::plugin, "descriptor: config field \"{}\" has unknown type {}", f.key, f.type);
        if (!keys.insert(f.key).second)
            return fail(Errc::plugin, "descriptor: config field \"{}\" is declared twice", f.key);
    }
    return {};
}

Result<void> check_plugin_file(const std::filesystem::path& path)
{
    if (auto f = open_trusted_file(path, "refusing to load it"); !f)
        return std::unexpected(f.error());
    return {};
}

Result<PluginLibrary> load_plugin_library(const std::filesystem::path& path, std::string_view sha256,
                                          std::string* refused_descriptor)
{
    auto file = open_trusted_file(path, "refusing to load it");
    if (!file)
        return std::unexpected(file.error());
    if (!sha256.empty()) {
        auto have = sha256_hex(*file, path);
        if (!have)
            return std::unexpected(have.error());
        if (*have != sha256)
            return fail(Errc::plugin, "{}: SHA-256 is {}, but the configuration pins {}; refusing to load it",
                        path.string(), *have, sha256);
    }

    PluginLibrary out;
    out.path = path;
    boost::dll::fs::error_code ec;
    out.library.load(path, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (ec)
        return fail(Errc::plugin, "{}: cannot load: {}", path.string(), ec.message());
    // What was loaded must be the file that was checked, not one renamed into its place since.
    struct stat now {};
    if (::stat(path.c_str(), &now) != 0 || now.st_dev != file->st.st_dev || now.st_ino != file->st.st_ino)
        return fail(Errc::plugin, "{}: replaced while being loaded; refusing it", path.string());
    auto entry = find_entry(out.library.native(), path, out.legacy_entry);
    if (!entry)
        return std::unexpected(entry.error());
    const vigil_plugin_api* api = (*entry)();
    if (!api)
        return fail(Errc::plugin, "{}: entry point returned no plugin API", path.string());
    if (api->struct_size < min_api_size)
        return fail(Errc::plugin, "{}: plugin API table of {} bytes is smaller than the {} of ABI {}.0",
                    path.string(), api->struct_size, min_api_size, VIGIL_ABI_MAJOR);
    std::string missing;
    for (auto [name, set] : {std::pair{"descriptor", api->descriptor != nullptr}, {"init", api->init != nullptr},
                             {"start", api->start != nullptr}, {"stop", api->stop != nullptr},
                             {"destroy", api->destroy != nullptr}})
        if (!set)
            missing += fmt::format("{}{}", missing.empty() ? "" : ", ", name);
    if (!missing.empty())
        return fail(Errc::plugin, "{}: plugin API table lacks the required {}", path.string(), missing);
    if (auto r = check_exporter_group(*api, path); !r)
        return std::unexpected(r.error());
    const vigil_descriptor* d = api->descriptor();
    if (!d)
        return fail(Errc::plugin, "{}: descriptor() returned NULL", path.string());
    if (auto r = validate_descriptor(*d); !r) {
        // what was read, for `vigil plugin check`, when its layout is this host's (same major)
        if (refused_descriptor && d->struct_size >= min_descriptor_size && d->abi_major == VIGIL_ABI_MAJOR)
            *refused_descriptor = describe_descriptor(*d);
        return fail(Errc::plugin, "{}: {}", path.string(), r.error().context);
    }
    if (auto r = check_hook_group(*api, *d, path); !r) {
        if (refused_descriptor)
            *refused_descriptor = describe_descriptor(*d);
        return std::unexpected(r.error());
    }
    out.api = api;
    out.descriptor = d;
    return out;
}

std::string describe_descriptor(const vigil_descriptor& d)
{
    // Also shown for a descriptor that failed validation: NULLs and oversized counts are printed
    // as what they are, never followed.
    auto str = [](const char* p) { return p ? std::string_view(p) : std::string_view("(null)"); };
    auto count = [](uint32_t n, const void* items) { return items ? std::min<uint32_t>(n, 256) : 0; };
    auto list = [&](const char* const* items, uint32_t n) {
        std::string s;
        for (uint32_t i = 0; i < count(n, items); ++i)
            s += fmt::format("{}{}", i ? ", " : "", str(items[i]));
        return s.empty() ? std::string("(none)") : s;
    };
    std::string out = fmt::format("id:          {}\nname:        {}\nversion:     {}\nlicense:     {}\n"
                                  "description: {}\nabi:         {} (needs host minor >= {})\n"
                                  "hook kinds:  {}\nevent kinds: {}\narg types:   {}\n",
                                  str(d.id), str(d.name), str(d.version), str(d.license), str(d.description),
                                  d.abi_major, d.min_host_minor, list(d.hook_kinds, d.hook_kind_count),
                                  list(d.event_kinds, d.event_kind_count), list(d.arg_types, d.arg_type_count));
    if (has_needs(d))
        out += fmt::format("needs:       events {} from another plugin\n", list(d.needs_events, d.needs_event_count));
    out += "shared maps:";
    if (!count(d.shared_map_count, d.shared_maps))
        out += " (none)";
    for (uint32_t i = 0; i < count(d.shared_map_count, d.shared_maps); ++i)
        out += fmt::format(" {} (layout {})", str(d.shared_maps[i].name), d.shared_maps[i].layout_version);
    out += "\nconfig:";
    if (!count(d.config_field_count, d.config_fields))
        out += " (none)";
    static constexpr const char* type_names[] = {"?", "bool", "int", "string", "string list"};
    for (uint32_t i = 0; i < count(d.config_field_count, d.config_fields); ++i) {
        const auto& f = d.config_fields[i];
        out += fmt::format("\n  {} ({}{}{}): {}", str(f.key), type_names[f.type <= 4 ? f.type : 0],
                           f.default_value ? ", default " : "", f.default_value ? f.default_value : "",
                           f.description ? f.description : "");
    }
    out += '\n';
    return out;
}

} // namespace vigil
