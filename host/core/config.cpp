#include "core/config.hpp"

#include "container/workload_sets.hpp"
#include "core/regex.hpp"
#include "core/trusted_file.hpp"

#include <toml++/toml.h>

#include <arpa/inet.h>

#include <algorithm>
#include <set>

namespace vigil {

namespace {

constexpr std::string_view default_config = R"toml(# vigild embedded default configuration (see docs/config.md)
[agent]
log_level = "info"

[process]
ancestors = false
namespaces = false
capabilities = false
pod_annotations = false
cache_size = 65536

[output]
stdout = "compact"

[plugins.tracepoint]
enabled = true
library = "libvigil_tracepoint.so"

[plugins.kprobe]
enabled = true
library = "libvigil_kprobe.so"

[plugins.socket]
enabled = true
library = "libvigil_socket.so"

[plugins.uprobe]
enabled = true
library = "libvigil_uprobe.so"
)toml";

std::string_view type_name_of(const toml::node& n)
{
    switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date or time";
    }
}

// Where a node was read. Nodes merged in from an include_dir file carry that file's name.
std::string where(std::string_view source, const toml::source_region& r)
{
    return fmt::format("{}:{}:{}", r.path ? std::string_view(*r.path) : source, r.begin.line, r.begin.column);
}

// Reads one TOML table against a fixed set of keys; the first problem found is kept.
class TableReader {
public:
    TableReader(std::string_view source, const toml::table& t, std::string path)
        : source_(source), table_(t), path_(std::move(path))
    {
    }

    std::string at(const toml::node& n) const { return where(source_, n.source()); }
    std::string key_path(std::string_view key) const
    {
        return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
    }

    template <class T>
    void read(std::string_view key, T& out, std::string_view type_name)
    {
        seen_.insert(std::string(key));
        const toml::node* n = table_.get(key);
        if (!n || error_)
            return;
        if (auto v = n->value<T>(); v && n->is<T>())
            out = *v;
        else
            error_ = Error{Errc::invalid_input, 0,
                           fmt::format("{}: {} must be {}, not {}", at(*n), key_path(key), type_name,
                                       type_name_of(*n))};
    }
    void read_string(std::string_view key, std::string& out) { read(key, out, "a string"); }
    void read_bool(std::string_view key, bool& out) { read(key, out, "a boolean"); }

    template <class U>
    void read_uint(std::string_view key, U& out, uint64_t min, uint64_t max)
    {
        int64_t v = static_cast<int64_t>(out);
        read(key, v, "an integer");
        if (error_ || !table_.get(key))
            return;
        if (v < static_cast<int64_t>(min) || static_cast<uint64_t>(v) > max) {
            error_ = Error{Errc::invalid_input, 0,
                           fmt::format("{}: {} must be between {} and {}, not {}", at(*table_.get(key)),
                                       key_path(key), min, max, v)};
            return;
        }
        out = static_cast<U>(v);
    }

    void read_string_list(std::string_view key, std::vector<std::string>& out)
    {
        seen_.insert(std::string(key));
        const toml::node* n = table_.get(key);
        if (!n || error_)
            return;
        const toml::array* arr = n->as_array();
        if (!arr) {
            error_ = Error{Errc::invalid_input, 0,
                           fmt::format("{}: {} must be an array of strings", at(*n), key_path(key))};
            return;
        }
        out.clear();
        for (const auto& e : *arr) {
            auto s = e.value<std::string>();
            if (!s || !e.is_string()) {
                error_ = Error{Errc::invalid_input, 0,
                               fmt::format("{}: {} must contain only strings", at(e), key_path(key))};
                return;
            }
            out.push_back(*s);
        }
    }

    template <class E>
    void read_enum(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> names)
    {
        std::string s;
        bool present = table_.get(key) != nullptr;
        read_string(key, s);
        if (error_ || !present)
            return;
        std::string allowed;
        for (const auto& [name, value] : names) {
            if (s == name) {
                out = value;
                return;
            }
            allowed += allowed.empty() ? fmt::format("\"{}\"", name) : fmt::format(", \"{}\"", name);
        }
        error_ = Error{Errc::invalid_input, 0,
                       fmt::format("{}: {} must be one of {}, not \"{}\"", at(*table_.get(key)),
                                   key_path(key), allowed, s)};
    }

    // A sub-table (absent is fine); a non-table value is an error.
    const toml::table* sub_table(std::string_view key)
    {
        seen_.insert(std::string(key));
        const toml::node* n = table_.get(key);
        if (!n || error_)
            return nullptr;
        if (!n->is_table()) {
            error_ = Error{Errc::invalid_input, 0,
                           fmt::format("{}: {} must be a table", at(*n), key_path(key))};
            return nullptr;
        }
        return n->as_table();
    }

    void mark_seen(std::string_view key) { seen_.insert(std::string(key)); }
    void set_error(Error e)
    {
        if (!error_)
            error_ = std::move(e);
    }

    // Call last: every key not read is unknown.
    std::optional<Error> finish()
    {
        if (error_)
            return error_;
        for (const auto& [k, v] : table_)
            if (!seen_.contains(std::string(k.str())))
                return Error{Errc::invalid_input, 0,
                             fmt::format("{}: unknown key {}", where(source_, k.source()),
                                         key_path(k.str()))};
        return std::nullopt;
    }

private:
    std::string_view source_;
    const toml::table& table_;
    std::string path_;
    std::set<std::string> seen_;
    std::optional<Error> error_;
};

std::optional<Error> read_export_file(std::string_view source, const toml::table& t, std::string path,
                                      ExportFileConfig& out, bool with_kinds)
{
    TableReader r(source, t, path);
    r.read_string("path", out.path);
    uint64_t max_mb = out.max_size_bytes >> 20;
    r.read_uint("max_size_mb", max_mb, 1, 1 << 20);
    out.max_size_bytes = max_mb << 20;
    r.read_uint("max_files", out.max_files, 1, 1000);
    r.read_enum("mode", out.mode, {{"0600", 0600u}, {"0640", 0640u}});
    r.read_string("group", out.group);
    if (with_kinds)
        r.read_string_list("kinds", out.kinds);
    if (auto e = r.finish())
        return e;
    if (!out.group.empty() && out.mode != 0640)
        return Error{Errc::invalid_input, 0,
                     fmt::format("{}: {}.group gives read access only with mode = \"0640\"",
                                 where(source, t.get("group")->source()), path)};
    return std::nullopt;
}

std::optional<Error> read_filter(std::string_view source, const toml::table& t, std::string path,
                                 ExportFilterConfig& out)
{
    TableReader r(source, t, std::move(path));
    r.read_string_list("event_types", out.event_types);
    r.read_string("binary_regex", out.binary_regex);
    std::vector<std::string> namespaces;
    r.read_string_list("namespaces", out.namespaces);
    r.read_string_list("process_flags", out.process_flags);
    r.read_string_list("pod_regex", out.pod_regex);
    r.read_string_list("labels", out.labels);
    r.read_string_list("container_id", out.container_id);
    r.mark_seen("pids");
    if (const toml::node* n = t.get("pids")) {
        const toml::array* arr = n->as_array();
        if (!arr)
            r.set_error(Error{Errc::invalid_input, 0,
                              fmt::format("{}: {} must be an array of integers", r.at(*n), r.key_path("pids"))});
        else
            for (const auto& e : *arr) {
                auto v = e.value<int64_t>();
                if (!e.is_integer() || !v || *v < 0 || *v > 0x3fffffff) {
                    r.set_error(Error{Errc::invalid_input, 0,
                                      fmt::format("{}: {} must contain process ids", r.at(e), r.key_path("pids"))});
                    break;
                }
                out.pids.push_back(static_cast<uint32_t>(*v));
            }
    }
    if (auto e = r.finish())
        return e;
    if (!out.binary_regex.empty()) {
        if (auto re = Regex::make(out.binary_regex); !re)
            return Error{Errc::invalid_input, 0,
                         fmt::format("{}: binary_regex is not a valid regular expression: {}",
                                     where(source, t.get("binary_regex")->source()), re.error().message())};
    }
    for (std::string_view key : {"pod_regex", "container_id"})
        for (const auto& p : key == "pod_regex" ? out.pod_regex : out.container_id)
            if (auto re = Regex::make(p); !re)
                return Error{Errc::invalid_input, 0,
                             fmt::format("{}: {} \"{}\" is not a valid regular expression: {}",
                                         where(source, t.get(key)->source()), key, p, re.error().message())};
    for (const auto& l : out.labels)
        if (auto sel = parse_label_selector(l); !sel)
            return Error{Errc::invalid_input, 0,
                         fmt::format("{}: labels: {}", where(source, t.get("labels")->source()), sel.error().message())};
    return std::nullopt;
}

std::optional<Error> read_plugin_config_values(std::string_view source, const toml::table& t,
                                               const std::string& path, PluginConfig& plugin)
{
    for (const auto& [k, v] : t) {
        PluginConfigValue val{};
        val.where = where(source, v.source());
        if (auto b = v.value<bool>(); v.is_boolean()) {
            val.type = PluginConfigValue::Type::boolean;
            val.bool_value = *b;
        } else if (v.is_integer()) {
            val.type = PluginConfigValue::Type::integer;
            val.int_value = *v.value<int64_t>();
        } else if (v.is_string()) {
            val.type = PluginConfigValue::Type::string;
            val.str_value = *v.value<std::string>();
        } else if (const toml::array* arr = v.as_array()) {
            val.type = PluginConfigValue::Type::string_list;
            for (const auto& e : *arr) {
                if (!e.is_string())
                    return Error{Errc::invalid_input, 0,
                                 fmt::format("{}: {}.{} must contain only strings", where(source, e.source()),
                                             path, k.str())};
                val.list_value.push_back(*e.value<std::string>());
            }
        } else {
            return Error{Errc::invalid_input, 0,
                         fmt::format("{}: {}.{} must be a boolean, integer, string or array of strings",
                                     val.where, path, k.str())};
        }
        plugin.config.emplace(std::string(k.str()), std::move(val));
    }
    return std::nullopt;
}

// A SHA-256 in hex, lower-cased in place; false when it is not 64 hex digits.
bool normalize_sha256(std::string& h)
{
    if (h.size() != 64)
        return false;
    for (char& c : h) {
        if (c >= 'A' && c <= 'F')
            c = static_cast<char>(c - 'A' + 'a');
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

bool is_loopback_address(const std::string& a)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, a.c_str(), buf) == 1)
        return buf[0] == 127;
    static constexpr unsigned char v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return inet_pton(AF_INET6, a.c_str(), buf) == 1 && std::equal(buf, buf + 16, v6_loopback);
}

bool valid_plugin_id(std::string_view id)
{
    if (id.empty() || id.size() > 32)
        return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

std::optional<Error> read_plugins(std::string_view source, const toml::table& plugins,
                                  const std::vector<std::string>& files, Config& cfg)
{
    // Tables come back sorted by key; plugins start in the order the files list them (the main
    // file first, then the include_dir files in name order).
    auto rank = [&](const toml::node& n) {
        const auto& path = n.source().path;
        auto it = path ? std::find(files.begin(), files.end(), *path) : files.end();
        return std::tuple(it - files.begin(), n.source().begin.line, n.source().begin.column);
    };
    std::vector<std::pair<const toml::key*, const toml::node*>> ordered;
    for (const auto& [k, v] : plugins)
        ordered.emplace_back(&k, &v);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [&](const auto& a, const auto& b) { return rank(*a.second) < rank(*b.second); });
    for (const auto& [kp, vp] : ordered) {
        const toml::key& k = *kp;
        const toml::node& v = *vp;
        std::string id(k.str());
        std::string path = fmt::format("plugins.{}", id);
        if (!valid_plugin_id(id))
            return Error{Errc::invalid_input, 0,
                         fmt::format("{}: plugin id \"{}\" must be 1-32 characters of a-z, 0-9, _ and -",
                                     where(source, k.source()), id)};
        const toml::table* t = v.as_table();
        if (!t)
            return Error{Errc::invalid_input, 0,
                         fmt::format("{}: {} must be a table", where(source, v.source()), path)};
        PluginConfig p;
        p.id = id;
        p.where = where(source, v.source());
        TableReader r(source, *t, path);
        r.read_bool("enabled", p.enabled);
        r.read_string("library", p.library);
        r.read_enum("on_error", p.on_error, {{"fail", OnError::fail}, {"skip", OnError::skip}});
        r.read_string("sha256", p.sha256);
        if (const toml::table* c = r.sub_table("config"))
            if (auto e = read_plugin_config_values(source, *c, path + ".config", p))
                return e;
        if (auto e = r.finish())
            return e;
        if (p.library.empty())
            return Error{Errc::invalid_input, 0, fmt::format("{}: {}.library is required", p.where, path)};
        if (t->get("sha256") && !normalize_sha256(p.sha256))
            return Error{Errc::invalid_input, 0,
                         fmt::format("{}: {}.sha256 must be 64 hexadecimal digits (as sha256sum prints them)",
                                     where(source, t->get("sha256")->source()), path)};
        cfg.plugins.push_back(std::move(p));
    }
    return std::nullopt;
}

} // namespace

std::string_view embedded_default_config() { return default_config; }

const std::vector<std::string>& security_event_kinds()
{
    static const std::vector<std::string> kinds = {"process_exec",       "process_exit", "process_kprobe",
                                                   "process_tracepoint", "process_lsm",  "process_uprobe",
                                                   "process_usdt",       "process_connect"};
    return kinds;
}

namespace {

Result<toml::table> parse_toml(std::string_view text, std::string_view source_name)
{
    try {
        return toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        return fail(Errc::invalid_input, "{}: {}", where(source_name, e.source()), e.description());
    }
}

// Moves every key of `from` into `into`. Tables present in both are merged key by key; any other
// key present in both is a conflict, reported with both places.
std::optional<Error> merge_table(toml::table& into, toml::table& from, const std::string& path)
{
    for (auto&& [k, v] : from) {
        std::string key_path = path.empty() ? std::string(k.str()) : fmt::format("{}.{}", path, k.str());
        auto have = into.find(k.str());
        if (have == into.end()) {
            into.insert(k, std::move(v));
            continue;
        }
        if (have->second.is_table() && v.is_table()) {
            if (auto e = merge_table(*have->second.as_table(), *v.as_table(), key_path))
                return e;
            continue;
        }
        return Error{Errc::invalid_input, 0,
                     fmt::format("{}: {} is already set at {}", where("", k.source()), key_path,
                                 where("", have->first.source()))};
    }
    return std::nullopt;
}

// The TOML files of an include_dir, in name order. The directory is held to the config's rule.
Result<std::vector<std::filesystem::path>> include_files(const std::filesystem::path& dir)
{
    if (auto r = check_trusted_directory(dir, "refusing to read its files"); !r)
        return fail(r.error().code, "include_dir {}", r.error().message());
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& ent : std::filesystem::directory_iterator(dir, ec))
        if (ent.path().extension() == ".toml")
            files.push_back(ent.path());
    if (ec)
        return fail_errno(Errc::io, ec.value(), "include_dir {}", dir.string());
    std::sort(files.begin(), files.end());
    return files;
}

Result<std::string> read_config_text(const std::filesystem::path& path)
{
    // Whoever can write the config chooses the plugins vigild loads into itself.
    auto file = open_trusted_file(path, "refusing to read it (chmod go-w, and chown root, fix that)");
    if (!file) {
        const Error& e = file.error();
        if (e.code == Errc::io)
            return fail_errno(Errc::io, e.sys_errno, "cannot read config {}", path.string());
        return fail(e.code, "config {}", e.context);
    }
    auto text = read_all(*file, path);
    if (!text)
        return fail_errno(Errc::io, text.error().sys_errno, "cannot read config {}", path.string());
    return text;
}

Result<Config> config_from_table(const toml::table& root, std::string_view source_name,
                                 const std::vector<std::string>& files)
{
    Config cfg;
    cfg.source = std::string(source_name);
    cfg.export_security_file.kinds = security_event_kinds();
    TableReader top(source_name, root, "");

    if (const toml::table* t = top.sub_table("agent")) {
        TableReader r(source_name, *t, "agent");
        r.read_string("node_name", cfg.node_name);
        r.read_enum("log_level", cfg.log_level,
                    {{"trace", std::string("trace")}, {"debug", std::string("debug")},
                     {"info", std::string("info")}, {"warn", std::string("warn")},
                     {"error", std::string("error")}});
        r.read_string("plugin_dir", cfg.plugin_dir);
        r.read_string("policy_dir", cfg.policy_dir);
        r.read_string("include_dir", cfg.include_dir);
        r.read_bool("trace_self", cfg.trace_self);
        if (const toml::table* labels = r.sub_table("node_labels")) {
            TableReader lr(source_name, *labels, "agent.node_labels");
            for (const auto& [k, v] : *labels) {
                std::string value;
                lr.read_string(k.str(), value);
                cfg.node_labels.emplace_back(std::string(k.str()), std::move(value));
            }
            if (auto e = lr.finish())
                return std::unexpected(*e);
            std::sort(cfg.node_labels.begin(), cfg.node_labels.end());
        }
        if (auto e = r.finish())
            return std::unexpected(*e);
    }
    if (const toml::table* t = top.sub_table("process")) {
        TableReader r(source_name, *t, "process");
        r.read_bool("ancestors", cfg.process_ancestors);
        r.read_bool("namespaces", cfg.process_namespaces);
        r.read_bool("capabilities", cfg.process_capabilities);
        r.read_bool("pod_annotations", cfg.pod_annotations);
        r.read_uint("cache_size", cfg.process_cache_size, 64, 4'000'000);
        if (auto e = r.finish())
            return std::unexpected(*e);
    }
    if (const toml::table* t = top.sub_table("rings")) {
        TableReader r(source_name, *t, "rings");
        r.read_uint("reader_priority", cfg.rings.reader_priority, 0, 20);
        r.read_uint("queue_mb", cfg.rings.queue_mb, 1, 65536);
        r.read_uint("budget_mb", cfg.rings.budget_mb, 1, 1 << 20);
        if (auto e = r.finish())
            return std::unexpected(*e);
    }
    if (const toml::table* t = top.sub_table("throttle")) {
        TableReader r(source_name, *t, "throttle");
        r.read_uint("cgroup_rate", cfg.cgroup_rate, 0, 100'000'000);
        if (auto e = r.finish())
            return std::unexpected(*e);
    }
    if (const toml::table* t = top.sub_table("output")) {
        TableReader r(source_name, *t, "output");
        r.read_enum("stdout", cfg.stdout_format,
                    {{"none", StdoutFormat::none}, {"compact", StdoutFormat::compact}, {"json", StdoutFormat::json}});
        r.read_uint("queue_kb", cfg.output_queue_kb, 64, 1u << 20);
        if (auto e = r.finish())
            return std::unexpected(*e);
    }
    if (const toml::table* t = top.sub_table("export")) {
        TableReader r(source_name, *t, "export");
        if (const toml::table* f = r.sub_table("file"))
            if (auto e = read_export_file(source_name, *f, "export.file", cfg.export_file, false))
                return std::unexpected(*e);
        if (const toml::table* f = r.sub_table("security_file"))
            if (auto e = read_export_file(source_name, *f, "export.security_file", cfg.export_security_file, true))
                return std::unexpected(*e);
        if (const toml::table* f = r.sub_table("allow"))
            if (auto e = read_filter(source_name, *f, "export.allow", cfg.export_allow))
                return std::unexpected(*e);
        if (const toml::table* f = r.sub_table("deny"))
            if (auto e = read_filter(source_name, *f, "export.deny", cfg.export_deny))
                return std::unexpected(*e);
        if (auto e = r.finish())
            return std::unexpected(*e);
    }
    if (const toml::table* t = top.sub_table("api")) {
        TableReader r(source_name, *t, "api");
        r.read_string("socket", cfg.api.socket);
        r.read_uint("subscriber_queue", cfg.api.subscriber_queue, 16, 1'000'000);
        r.read_uint("jq_time_budget_ms", cfg.api.jq_time_budget_ms, 1, 60'000);
        r.read_uint("jq_memory_budget_mb", cfg.api.jq_memory_budget_mb, 64, 65'536);
        if (auto e = r.finish())
            return std::unexpected(*e);
        if (cfg.api.socket.empty() || cfg.api.socket[0] != '/' || cfg.api.socket.size() > 107)
            return fail(Errc::invalid_input, "{}: api.socket must be an absolute path of at most 107 bytes, not \"{}\"",
                        top.at(*t->get("socket")), cfg.api.socket);
    }
    if (const toml::table* t = top.sub_table("metrics")) {
        TableReader r(source_name, *t, "metrics");
        r.read_uint("port", cfg.metrics.port, 1, 65535);
        r.read_string("address", cfg.metrics.address);
        if (auto e = r.finish())
            return std::unexpected(*e);
        if (!is_loopback_address(cfg.metrics.address))
            return fail(Errc::invalid_input,
                        "{}: metrics.address must be a loopback address (127.0.0.0/8 or ::1), not \"{}\"",
                        top.at(*t->get("address")), cfg.metrics.address);
    }
    if (const toml::table* t = top.sub_table("plugins"))
        if (auto e = read_plugins(source_name, *t, files, cfg))
            return std::unexpected(*e);
    top.mark_seen("redaction");
    if (const toml::node* n = root.get("redaction")) {
        const toml::array* rules = n->as_array();
        if (!rules || !rules->is_array_of_tables())
            return fail(Errc::invalid_input, "{}: redaction must be an array of tables ([[redaction]])", top.at(*n));
        for (size_t i = 0; i < rules->size(); ++i) {
            const toml::table& t = *rules->get(i)->as_table();
            RedactionRuleConfig rule;
            rule.where = where(source_name, t.source());
            TableReader r(source_name, t, fmt::format("redaction[{}]", i));
            r.read_string_list("redact", rule.redact);
            r.read_string("binary_regex", rule.binary_regex);
            if (auto e = r.finish())
                return std::unexpected(*e);
            if (rule.redact.empty())
                return fail(Errc::invalid_input, "{}: redaction[{}] needs redact, a list of regexes", rule.where, i);
            cfg.redactions.push_back(std::move(rule));
        }
    }
    if (auto e = top.finish())
        return std::unexpected(*e);
    return cfg;
}

} // namespace

Result<Config> parse_config(std::string_view text, std::string_view source_name)
{
    auto root = parse_toml(text, source_name);
    if (!root)
        return std::unexpected(root.error());
    auto cfg = config_from_table(*root, source_name, {std::string(source_name)});
    if (cfg && !cfg->include_dir.empty())
        return fail(Errc::invalid_input, "{}: agent.include_dir is only read from a config file",
                    where(source_name, root->at_path("agent.include_dir").node()->source()));
    return cfg;
}

Result<Config> load_config_file(const std::filesystem::path& path)
{
    auto text = read_config_text(path);
    if (!text)
        return std::unexpected(text.error());
    auto root = parse_toml(*text, path.string());
    if (!root)
        return std::unexpected(root.error());
    std::vector<std::string> files{path.string()};
    // The include_dir is read from the main file alone: a snippet cannot pull in more files.
    if (auto dir = root->at_path("agent.include_dir").value<std::string>()) {
        std::filesystem::path include_dir = path.parent_path() / *dir; // an absolute *dir replaces it
        auto names = include_files(include_dir);
        if (!names)
            return std::unexpected(names.error());
        for (const auto& name : *names) {
            auto snippet_text = read_config_text(name);
            if (!snippet_text)
                return std::unexpected(snippet_text.error());
            auto snippet = parse_toml(*snippet_text, name.string());
            if (!snippet)
                return std::unexpected(snippet.error());
            if (auto e = merge_table(*root, *snippet, ""))
                return std::unexpected(*e);
            files.push_back(name.string());
        }
    }
    return config_from_table(*root, path.string(), files);
}

Result<std::filesystem::path> resolve_plugin_library(const PluginConfig& plugin,
                                                     const std::filesystem::path& plugin_dir)
{
    namespace fs = std::filesystem;
    fs::path lib(plugin.library);
    if (lib.is_absolute())
        return lib;
    for (const auto& part : lib)
        if (part == "..")
            return fail(Errc::invalid_input,
                        "{}: plugins.{}.library \"{}\" leaves the plugin directory (\"..\" is refused)",
                        plugin.where, plugin.id, plugin.library);
    fs::path full = plugin_dir / lib;
    std::error_code ec;
    fs::path real = fs::weakly_canonical(full, ec);
    fs::path real_dir = fs::weakly_canonical(plugin_dir, ec);
    if (!ec) {
        auto rel = real.lexically_relative(real_dir);
        if (rel.empty() || *rel.begin() == "..")
            return fail(Errc::invalid_input,
                        "{}: plugins.{}.library \"{}\" resolves to {}, outside the plugin directory {}",
                        plugin.where, plugin.id, plugin.library, real.string(), real_dir.string());
    }
    return full;
}

} // namespace vigil
