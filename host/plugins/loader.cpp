#include "plugins/loader.hpp"

#include "bpf/shared_maps.hpp"
#include "core/trusted_file.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Host-owned shared maps and the layout this host implements.
} // namespace

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

Result<PluginLibrary> load_plugin_library(const std::filesystem::path& path, std::string_view sha256)
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
    if (!out.library.has(VIGIL_ENTRY_SYMBOL))
        return fail(Errc::plugin, "{}: no entry point \"{}\" (was it built with VIGIL_PLUGIN()?)", path.string(),
                    VIGIL_ENTRY_SYMBOL);

    // The alias is a pointer to the entry function (BOOST_DLL_ALIAS).
    auto& entry = out.library.get_alias<const vigil_plugin_api*()>(VIGIL_ENTRY_SYMBOL);
    const vigil_plugin_api* api = entry();
    if (!api)
        return fail(Errc::plugin, "{}: entry point returned no plugin API", path.string());
    if (api->struct_size < min_api_size || !api->descriptor || !api->init || !api->start || !api->stop ||
        !api->destroy || !api->decode)
        return fail(Errc::plugin, "{}: plugin API table is incomplete (struct_size {})", path.string(),
                    api->struct_size);
    const vigil_descriptor* d = api->descriptor();
    if (!d)
        return fail(Errc::plugin, "{}: descriptor() returned NULL", path.string());
    if (auto r = validate_descriptor(*d); !r)
        return fail(Errc::plugin, "{}: {}", path.string(), r.error().context);
    // hook callbacks are of ABI 1.0: a plugin of that version ends its table after hook_stats
    if (d->hook_kind_count && (api->struct_size < offsetof(vigil_plugin_api, hook_stats) + sizeof(void*) || !api->add_hook ||
                               !api->remove_hook || !api->set_hook_mode || !api->hook_stats))
        return fail(Errc::plugin, "{}: declares hook kinds but has no add_hook/remove_hook/set_hook_mode/hook_stats",
                    path.string());
    out.api = api;
    out.descriptor = d;
    return out;
}

std::string describe_descriptor(const vigil_descriptor& d)
{
    auto list = [](const char* const* items, uint32_t n) {
        std::string s;
        for (uint32_t i = 0; i < n; ++i)
            s += fmt::format("{}{}", i ? ", " : "", items[i]);
        return s.empty() ? std::string("(none)") : s;
    };
    std::string out = fmt::format("id:          {}\nname:        {}\nversion:     {}\nlicense:     {}\n"
                                  "description: {}\nabi:         {} (needs host minor >= {})\n"
                                  "hook kinds:  {}\nevent kinds: {}\narg types:   {}\n",
                                  d.id, d.name, d.version, d.license, d.description, d.abi_major,
                                  d.min_host_minor, list(d.hook_kinds, d.hook_kind_count),
                                  list(d.event_kinds, d.event_kind_count), list(d.arg_types, d.arg_type_count));
    out += "shared maps:";
    if (!d.shared_map_count)
        out += " (none)";
    for (uint32_t i = 0; i < d.shared_map_count; ++i)
        out += fmt::format(" {} (layout {})", d.shared_maps[i].name, d.shared_maps[i].layout_version);
    out += "\nconfig:";
    if (!d.config_field_count)
        out += " (none)";
    static constexpr const char* type_names[] = {"?", "bool", "int", "string", "string list"};
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const auto& f = d.config_fields[i];
        out += fmt::format("\n  {} ({}{}{}): {}", f.key, type_names[f.type <= 4 ? f.type : 0],
                           f.default_value ? ", default " : "", f.default_value ? f.default_value : "",
                           f.description ? f.description : "");
    }
    out += '\n';
    return out;
}

} // namespace vigil
