#include "plugins/registry.hpp"

#include "core/log.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace vigil {

namespace {

bool is_other_key(std::string_view k)
{
    if (k.empty() || k.size() > 32 || k == "process" || k == "parent" || k == "ancestors" || k == "time" ||
        k == "node_name")
        return false;
    return std::all_of(k.begin(), k.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

} // namespace

namespace {

constexpr size_t err_buf_size = 512;

std::string err_text(const char* buf) { return buf[0] ? std::string(buf) : std::string("(no message)"); }

const char* result_name(vigil_result r)
{
    switch (r) {
    case VIGIL_OK: return "ok";
    case VIGIL_ERR_INVALID: return "invalid";
    case VIGIL_ERR_UNSUPPORTED: return "unsupported";
    case VIGIL_ERR_KERNEL: return "kernel";
    case VIGIL_ERR_NOT_FOUND: return "not found";
    case VIGIL_ERR_INTERNAL: return "internal";
    case VIGIL_ERR_BUSY: return "busy";
    }
    return "unknown";
}

} // namespace

const char* to_string(PluginState s)
{
    switch (s) {
    case PluginState::loaded: return "loaded";
    case PluginState::running: return "running";
    case PluginState::stopped: return "stopped";
    case PluginState::failed: return "failed";
    case PluginState::disabled: return "disabled";
    }
    return "unknown";
}

Plugin::Plugin(std::string id, PluginLibrary lib, const PluginConfig& cfg)
    : id_(std::move(id)), lib_(std::move(lib)), cfg_(cfg), logger_(log::get("plugin." + id_))
{
}

Plugin::~Plugin() = default;

uint64_t Plugin::records() const
{
    uint64_t n = 0;
    for (const auto& r : rings_)
        n += r->records();
    return n;
}

uint64_t Plugin::ring_bytes() const
{
    uint64_t n = 0;
    for (const auto& r : rings_)
        n += r->ring_bytes();
    return n;
}

RingSetStats Plugin::ring_stats() const
{
    RingSetStats all;
    for (const auto& r : rings_) {
        RingSetStats s = r->stats();
        all.records += s.records;
        all.queue_full += s.queue_full;
        all.queued_bytes += s.queued_bytes;
        all.queue_peak = std::max(all.queue_peak, s.queue_peak);
        all.fill_peak_permille = std::max(all.fill_peak_permille, s.fill_peak_permille);
    }
    return all;
}

uint64_t PluginRegistry::ring_bytes() const
{
    uint64_t n = 0;
    for (const auto& p : plugins_)
        n += p->ring_bytes();
    return n;
}

std::vector<int> Plugin::link_fds() const
{
    std::vector<int> fds;
    for (const auto& l : links_)
        fds.push_back(l.fd.get());
    return fds;
}

PluginRegistry::PluginRegistry(boost::asio::io_context& io, const SharedMaps& maps, Features& features,
                               std::filesystem::path plugin_dir, EventHandler on_event)
    : io_(io), maps_(maps), features_(features), plugin_dir_(std::move(plugin_dir)), on_event_(std::move(on_event)),
      log_(log::get("plugins"))
{
}

PluginRegistry::~PluginRegistry()
{
    stop_all();
}

Result<void> PluginRegistry::bind_config(const vigil_descriptor& d, const PluginConfig& cfg,
                                         std::vector<vigil_config_value>& values,
                                         std::vector<std::vector<const char*>>& lists)
{
    for (const auto& [key, val] : cfg.config) {
        bool known = false;
        for (uint32_t i = 0; i < d.config_field_count; ++i)
            known = known || key == d.config_fields[i].key;
        if (!known) {
            std::string keys;
            for (uint32_t i = 0; i < d.config_field_count; ++i)
                keys += fmt::format("{}{}", i ? ", " : "", d.config_fields[i].key);
            return fail(Errc::invalid_input, "{}: plugins.{}.config: unknown key \"{}\" (the plugin accepts: {})",
                        val.where, cfg.id, key, keys.empty() ? "nothing" : keys);
        }
    }
    values.clear();
    lists.clear();
    lists.reserve(d.config_field_count); // the values point into its elements
    for (uint32_t i = 0; i < d.config_field_count; ++i) {
        const vigil_config_field& f = d.config_fields[i];
        vigil_config_value v{};
        v.struct_size = sizeof v;
        v.key = f.key;
        v.type = f.type;
        auto it = cfg.config.find(f.key);
        if (it != cfg.config.end()) {
            const PluginConfigValue& c = it->second;
            static constexpr const char* type_names[] = {"?", "a boolean", "an integer", "a string",
                                                         "an array of strings"};
            auto wrong = [&] {
                return fail(Errc::invalid_input, "{}: plugins.{}.config.{} must be {}", c.where, cfg.id, f.key,
                            type_names[f.type]);
            };
            v.is_set = 1;
            switch (f.type) {
            case VIGIL_CONFIG_BOOL:
                if (c.type != PluginConfigValue::Type::boolean)
                    return wrong();
                v.int_value = c.bool_value;
                break;
            case VIGIL_CONFIG_INT:
                if (c.type != PluginConfigValue::Type::integer)
                    return wrong();
                v.int_value = c.int_value;
                break;
            case VIGIL_CONFIG_STRING:
                if (c.type != PluginConfigValue::Type::string)
                    return wrong();
                v.str_value = c.str_value.c_str();
                break;
            case VIGIL_CONFIG_STRING_LIST: {
                if (c.type != PluginConfigValue::Type::string_list)
                    return wrong();
                auto& list = lists.emplace_back();
                for (const auto& s : c.list_value)
                    list.push_back(s.c_str());
                v.list_values = list.data();
                v.list_count = static_cast<uint32_t>(list.size());
                break;
            }
            }
        }
        values.push_back(v);
    }
    return {};
}

Result<void> PluginRegistry::bind_config(Plugin& p)
{
    return bind_config(p.descriptor(), p.cfg_, p.config_values_, p.config_lists_);
}

Result<void> PluginRegistry::load(const Config& cfg)
{
    for (const auto& pc : cfg.plugins) {
        if (!pc.enabled) {
            log_->info("plugin {} is disabled in {}", pc.id, cfg.source);
            continue;
        }
        if (auto r = load_one(pc); !r) {
            if (pc.on_error == OnError::skip) {
                log_->error("plugin {} skipped: {}", pc.id, r.error().message());
                continue;
            }
            return fail(Errc::plugin, "plugin {}: {}", pc.id, r.error().message());
        }
    }
    // Needs are checked once every plugin of the config runs: the order in the file is free.
    for (auto& p : plugins_) {
        if (p->state_ != PluginState::running)
            continue;
        if (auto r = check_needs(*p); !r) {
            stop(*p);
            p->state_ = PluginState::failed;
            p->last_error_ = r.error().message();
            if (p->cfg_.on_error != OnError::skip)
                return fail(Errc::plugin, "plugin {}: {}", p->id(), r.error().message());
            log_->error("plugin {} skipped: {}", p->id(), r.error().message());
        }
    }
    return {};
}

Result<void> PluginRegistry::check_needs(const Plugin& p) const
{
    const vigil_descriptor& d = p.descriptor();
    if (!has_needs(d))
        return {};
    std::string missing;
    for (uint32_t i = 0; i < d.needs_event_count; ++i) {
        std::string_view kind = d.needs_events[i];
        bool provided = std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& o) {
            const vigil_descriptor& od = o->descriptor();
            return o.get() != &p && o->state_ == PluginState::running &&
                   std::any_of(od.event_kinds, od.event_kinds + od.event_kind_count,
                               [&](const char* k) { return kind == k; });
        });
        if (!provided)
            missing += fmt::format("{}{}", missing.empty() ? "" : ", ", kind);
    }
    if (!missing.empty())
        return fail(Errc::plugin,
                    "needs events {} from another plugin, and no running plugin emits them (the shared process "
                    "cache is kept current by the plugin emitting process_exec/process_clone/process_exit: enable "
                    "[plugins.tracepoint])",
                    missing);
    return {};
}

Result<void> PluginRegistry::load_one(const PluginConfig& pc)
{
    if (Plugin* existing = find(pc.id)) {
        if (existing->state_ == PluginState::running)
            return {};
        existing->cfg_ = pc;
        if (auto r = bind_config(*existing); !r)
            return r;
        return start(*existing);
    }
    auto path = resolve_plugin_library(pc, plugin_dir_);
    if (!path)
        return std::unexpected(path.error());
    auto lib = load_plugin_library(*path, pc.sha256);
    if (!lib)
        return std::unexpected(lib.error());
    std::string desc_id = lib->descriptor->id;
    for (const auto& other : plugins_)
        if (other->path() == *path || other->id() == desc_id)
            return fail(Errc::conflict, "{}: duplicate plugin id \"{}\" (already loaded from {})", path->string(),
                        desc_id, other->path().string());
    if (desc_id != pc.id)
        return fail(Errc::plugin, "{}: descriptor id \"{}\" does not match the config key plugins.{}",
                    path->string(), desc_id, pc.id);

    auto& p = *plugins_.emplace_back(std::make_unique<Plugin>(pc.id, std::move(*lib), pc));
    p.registry_ = this;
    if (auto r = bind_config(p); !r) {
        p.state_ = PluginState::failed;
        p.last_error_ = r.error().message();
        return r;
    }
    log_->info("loaded plugin {} {} from {}", p.id(), p.descriptor().version, p.path().string());
    if (p.lib_.legacy_entry)
        log_->warn("plugin {}: {} exports the Boost.DLL alias \"{}\" of ABI < 1.2, which a later host will "
                   "refuse; rebuild it against this SDK (entry point \"{}\")",
                   p.id(), p.path().string(), VIGIL_LEGACY_ENTRY_SYMBOL, VIGIL_ENTRY_SYMBOL);
    return start(p);
}

Result<void> PluginRegistry::start(Plugin& p)
{
    char err[err_buf_size] = {};
    if (!p.self_) {
        p.host_api_ = {};
        p.host_api_.struct_size = sizeof p.host_api_;
        p.host_api_.abi_major = VIGIL_ABI_MAJOR;
        p.host_api_.abi_minor = VIGIL_ABI_MINOR;
        p.host_api_.ctx = &p;
        p.host_api_.log = &cb_log;
        p.host_api_.shared_map_fd = &cb_shared_map_fd;
        p.host_api_.add_ring = &cb_add_ring;
        p.host_api_.register_link = &cb_register_link;
        p.host_api_.remove_links = &cb_remove_links;
        p.host_api_.has_feature = &cb_has_feature;
        p.host_api_.count = &cb_count;
        p.host_api_.container_update = &cb_container_update;
        p.host_api_.node_name = node_name_.c_str();
        p.host_api_.policy_update = &cb_policy_update;
        void* self = nullptr;
        vigil_result r = p.api().init(&p.host_api_, p.config_values_.data(),
                                      static_cast<uint32_t>(p.config_values_.size()), &self, err, sizeof err);
        if (r != VIGIL_OK) {
            p.state_ = PluginState::failed;
            p.last_error_ = fmt::format("init failed ({}): {}", result_name(r), err_text(err));
            return fail(Errc::plugin, "{}: {}", p.path().string(), p.last_error_);
        }
        p.self_ = self;
    }
    log::take_verifier_tail(); // only what this call makes libbpf print
    vigil_result r = p.api().start(p.self_, err, sizeof err);
    if (r != VIGIL_OK) {
        p.last_error_ = log::with_verifier_tail(fmt::format("start failed ({}): {}", result_name(r), err_text(err)));
        stop(p); // undo whatever it attached before failing
        p.state_ = PluginState::failed;
        return fail(Errc::plugin, "{}: {}", p.path().string(), p.last_error_);
    }
    p.state_ = PluginState::running;
    p.last_error_.clear();
    if (p.exports()) {
        std::lock_guard lock(p.export_mu_);
        p.exporting_ = true;
    }
    log_->info("plugin {} running ({} links)", p.id(), p.links_.size());
    return {};
}

uint64_t PluginRegistry::drain_rings()
{
    uint64_t n = 0;
    for (auto& p : plugins_)
        for (auto& r : p->rings_)
            n += r->drain(); // a set whose handler is running returns at once
    return n;
}

void PluginRegistry::drain_all(Plugin& p)
{
    for (auto& r : p.rings_)
        r->drain_for(RingSet::stop_drain_limit);
}

void PluginRegistry::quiesce()
{
    for (auto& p : plugins_)
        detach_links(*p, nullptr);
    for (auto& p : plugins_)
        drain_all(*p);
}

void PluginRegistry::stop(Plugin& p)
{
    // Most link types cannot be detached while the plugin holds its own fd (raw and perf event
    // tracepoints: EOPNOTSUPP), so records keep coming until the plugin's stop and the closing of
    // our fds; the rings are drained before and after, the plugin decoding until its destroy.
    detach_links(p, nullptr);
    drain_all(p);
    if (p.exports()) {
        std::lock_guard lock(p.export_mu_); // waits for an export call under way
        p.exporting_ = false;
    }
    if (p.self_) {
        char err[err_buf_size] = {};
        if (vigil_result r = p.api().stop(p.self_, err, sizeof err); r != VIGIL_OK)
            log_->warn("plugin {}: stop failed ({}): {}", p.id(), result_name(r), err_text(err));
    }
    // Whatever the plugin did, nothing of it stays attached.
    detach_links(p, nullptr);
    for (auto& r : p.rings_)
        r->stop();
    p.rings_.clear();
    if (p.state_ == PluginState::running)
        p.state_ = PluginState::stopped;
}

void PluginRegistry::detach_links(Plugin& p, const char* owner_tag)
{
    for (auto it = p.links_.begin(); it != p.links_.end();) {
        if (owner_tag && it->owner_tag != owner_tag) {
            ++it;
            continue;
        }
        // Detach even if the plugin still holds its own fd of the link; not every link type
        // supports detach, and closing the last fd detaches those.
        bpf_link_detach(it->fd.get());
        it = p.links_.erase(it);
    }
}

namespace {

bool same_values(const PluginConfigValue& a, const PluginConfigValue& b)
{
    return a.type == b.type && a.bool_value == b.bool_value && a.int_value == b.int_value &&
           a.str_value == b.str_value && a.list_value == b.list_value;
}

bool same_config(const PluginConfig& a, const PluginConfig& b)
{
    return std::equal(a.config.begin(), a.config.end(), b.config.begin(), b.config.end(),
                      [](const auto& x, const auto& y) { return x.first == y.first && same_values(x.second, y.second); });
}

} // namespace

Result<void> PluginRegistry::reconfigure(Plugin& p, const PluginConfig& pc,
                                         const std::function<bool(const std::string&)>& has_hooks)
{
    std::vector<vigil_config_value> values;
    std::vector<std::vector<const char*>> lists;
    if (auto r = bind_config(p.descriptor(), pc, values, lists); !r)
        return fail(Errc::invalid_input, "new configuration refused, the plugin keeps running as it was: {}",
                    r.error().message());
    bool running = p.state_ == PluginState::running;
    if (running && has_hooks(p.id())) {
        log_->warn("plugin {}: [plugins.{}.config] changed ({}); policy hooks use the plugin, so the new values "
                   "take effect when vigild restarts",
                   p.id(), p.id(), pc.where);
        return {};
    }
    log_->info("plugin {}: [plugins.{}.config] changed; restarting it with the new values", p.id(), p.id());
    if (running)
        stop(p);
    if (p.self_) {
        p.api().destroy(p.self_);
        p.self_ = nullptr;
    }
    p.cfg_ = pc;
    if (auto r = bind_config(p); !r) // checked above; binds the values into the plugin's own copy
        return r;
    if (!pc.enabled)
        return {};
    return start(p);
}

Result<void> PluginRegistry::reload(const Config& cfg, const std::function<bool(const std::string&)>& has_hooks)
{
    Result<void> result;
    for (const auto& pc : cfg.plugins) {
        Plugin* p = find(pc.id);
        if (p && !same_config(p->cfg_, pc)) {
            if (auto r = reconfigure(*p, pc, has_hooks); !r) {
                log_->error("plugin {}: {}", pc.id, r.error().message());
                if (pc.on_error == OnError::fail && result)
                    result = std::unexpected(r.error());
                continue;
            }
        }
        if (!pc.enabled) {
            if (p && p->state_ == PluginState::running) {
                log_->info("plugin {} disabled by reload", pc.id);
                stop(*p);
                p->state_ = PluginState::disabled;
            }
            continue;
        }
        if (p && p->state_ == PluginState::running)
            continue;
        if (auto r = load_one(pc); !r) {
            log_->error("plugin {}: {}", pc.id, r.error().message());
            if (pc.on_error == OnError::fail && result)
                result = std::unexpected(r.error());
        }
    }
    for (auto& p : plugins_) {
        bool listed = false;
        for (const auto& pc : cfg.plugins)
            listed = listed || pc.id == p->id();
        if (!listed && p->state_ == PluginState::running) {
            log_->info("plugin {} no longer in the config: stopping it", p->id());
            stop(*p);
            p->state_ = PluginState::disabled;
        }
    }
    return result;
}

Result<void> PluginRegistry::enable(const std::string& id)
{
    Plugin* p = find(id);
    if (!p)
        return fail(Errc::not_found, "no plugin \"{}\" is loaded", id);
    if (p->state_ == PluginState::running)
        return {};
    if (auto r = check_needs(*p); !r)
        return fail(Errc::plugin, "plugin {}: {}", id, r.error().message());
    return start(*p);
}

Result<void> PluginRegistry::disable(const std::string& id)
{
    Plugin* p = find(id);
    if (!p)
        return fail(Errc::not_found, "no plugin \"{}\" is loaded", id);
    // Not while a running plugin needs what this one emits (it would go on with a stale view).
    if (p->state_ == PluginState::running) {
        p->state_ = PluginState::stopped; // as check_needs will see it
        for (const auto& o : plugins_) {
            if (o->state_ != PluginState::running)
                continue;
            if (auto r = check_needs(*o); !r) {
                p->state_ = PluginState::running;
                return fail(Errc::conflict, "plugin {} is needed by the running plugin {} ({}); disable {} first", id,
                            o->id(), r.error().message(), o->id());
            }
        }
    }
    stop(*p);
    p->state_ = PluginState::disabled;
    return {};
}

void PluginRegistry::stop_all()
{
    quiesce();
    for (auto& p : plugins_) {
        stop(*p);
        if (p->self_) {
            p->api().destroy(p->self_);
            p->self_ = nullptr;
        }
    }
}

Plugin* PluginRegistry::find(const std::string& id)
{
    for (auto& p : plugins_)
        if (p->id() == id)
            return p.get();
    return nullptr;
}

Plugin* PluginRegistry::server_of(const std::string& hook_kind)
{
    for (auto& p : plugins_) {
        const auto& d = p->descriptor();
        for (uint32_t i = 0; i < d.hook_kind_count; ++i)
            if (hook_kind == d.hook_kinds[i])
                return p.get();
    }
    return nullptr;
}

// ---- host services -----------------------------------------------------------------------

void PluginRegistry::cb_log(void* ctx, uint32_t level, const char* msg, size_t len)
{
    auto* p = static_cast<Plugin*>(ctx);
    static constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                           spdlog::level::info, spdlog::level::warn,
                                                           spdlog::level::err};
    p->logger_->log(levels[level <= VIGIL_LOG_ERROR ? level : VIGIL_LOG_ERROR], "{}",
                    std::string_view(msg ? msg : "", msg ? len : 0));
}

int PluginRegistry::cb_shared_map_fd(void* ctx, const char* name, uint32_t layout)
{
    auto* p = static_cast<Plugin*>(ctx);
    int fd = p->registry_->maps_.dup_fd(name ? name : "", layout);
    if (fd == -EPROTO)
        p->registry_->log_->error("plugin {} asked for shared map {} with layout {}, which this host does not have",
                                  p->id(), name, layout);
    return fd;
}

vigil_result PluginRegistry::cb_add_ring(void* ctx, int map_fd, uint32_t ring_id, char* err, size_t err_len)
{
    auto* p = static_cast<Plugin*>(ctx);
    PluginRegistry* reg = p->registry_;
    if (!p->api().decode) { // an exporter without decode
        snprintf(err, err_len, "the plugin has no decode callback for its ring");
        return VIGIL_ERR_INVALID;
    }
    auto set = std::make_unique<RingSet>(reg->io_, [p](uint32_t ring, const void* data, size_t len) {
        if (!p->self_) { // the instance is gone: counted, not decoded
            p->counters_["records_after_stop"]++;
            return;
        }
        char e[err_buf_size] = {};
        vigil_result r = p->api().decode(p->self_, ring, data, len, &PluginRegistry::cb_emit, p, e, sizeof e);
        if (r != VIGIL_OK) {
            // A bad record costs one counter and, now and then, a log line; never the pump.
            if (p->decode_errors_++ % 1000 == 0)
                p->logger_->warn("decode error on ring {} ({} so far): {}", ring, p->decode_errors_, err_text(e));
        }
    }, reg->ring_options_);
    if (auto r = set->add(map_fd, ring_id); !r) {
        std::string m = r.error().message();
        std::snprintf(err, err_len, "%s", m.c_str());
        return VIGIL_ERR_KERNEL;
    }
    if (uint64_t total = reg->ring_bytes() + set->ring_bytes(); total > reg->ring_budget_) {
        std::snprintf(err, err_len, "ring %u of %llu MiB would take the rings of all plugins to %llu MiB, over "
                      "rings.budget_mb = %llu", ring_id, static_cast<unsigned long long>(set->ring_bytes() >> 20),
                      static_cast<unsigned long long>(total >> 20),
                      static_cast<unsigned long long>(reg->ring_budget_ >> 20));
        return VIGIL_ERR_INVALID;
    }
    p->rings_.push_back(std::move(set));
    return VIGIL_OK;
}

void PluginRegistry::cb_emit(void* ctx, const vigil_event* ev)
{
    auto* p = static_cast<Plugin*>(ctx);
    if (!ev || ev->struct_size < offsetof(vigil_event, process) + sizeof(void*) || !ev->kind) {
        p->decode_errors_++;
        return;
    }
    // A second process goes into the event under a key of the plugin's choosing: one that is a
    // plain name and not one of the members the host writes itself.
    if (ev->struct_size >= offsetof(vigil_event, other_proc_ktime) + sizeof(uint64_t) && ev->other_key &&
        ev->other_pid && !is_other_key(ev->other_key)) {
        if (p->decode_errors_++ % 1000 == 0)
            p->logger_->warn("event {} refused: other_key \"{}\" is not [a-z_]{{1,32}} or is a member the host "
                             "writes (process, parent, ancestors, time, node_name)",
                             ev->kind, std::string_view(ev->other_key).substr(0, 64));
        return;
    }
    p->registry_->on_event_(p->id(), *ev);
}

vigil_result PluginRegistry::cb_register_link(void* ctx, int link_fd, const char* tag, char* err, size_t err_len)
{
    auto* p = static_cast<Plugin*>(ctx);
    int fd = ::fcntl(link_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        std::snprintf(err, err_len, "dup of link fd %d: %s", link_fd, std::strerror(errno));
        return VIGIL_ERR_KERNEL;
    }
    p->links_.push_back({Fd(fd), tag ? tag : ""});
    return VIGIL_OK;
}

void PluginRegistry::cb_remove_links(void* ctx, const char* tag)
{
    auto* p = static_cast<Plugin*>(ctx);
    p->registry_->detach_links(*p, tag ? tag : "");
}

int PluginRegistry::cb_has_feature(void* ctx, const char* feature)
{
    auto* p = static_cast<Plugin*>(ctx);
    auto v = p->registry_->features_.by_name(feature ? feature : "");
    return v ? (*v ? 1 : 0) : -1;
}

void PluginRegistry::cb_container_update(void* ctx, const vigil_container_info* info)
{
    auto* p = static_cast<Plugin*>(ctx);
    if (info && p->registry_->container_sink_)
        p->registry_->container_sink_(*info);
}

void PluginRegistry::container_wanted(const std::string& id)
{
    for (const auto& p : plugins_) {
        const vigil_plugin_api* api = p->lib_.api;
        if (p->state_ != PluginState::running || !api ||
            api->struct_size < offsetof(vigil_plugin_api, container_wanted) + sizeof(void*) || !api->container_wanted)
            continue;
        api->container_wanted(p->self_, id.data(), id.size());
    }
}

void PluginRegistry::cb_count(void* ctx, const char* counter, uint64_t delta)
{
    auto* p = static_cast<Plugin*>(ctx);
    if (counter)
        p->counters_[counter] += delta;
}

} // namespace vigil
