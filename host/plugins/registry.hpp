// The plugins of a running vigild: loading from the config, the host services each plugin gets
// (vigil_host_api), lifecycle init -> start -> stop -> destroy, and every link and ring buffer a
// plugin registered, so that disabling it always detaches it.
#pragma once

#include "bpf/ring_pump.hpp"
#include "bpf/shared_maps.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/features.hpp"
#include "plugins/loader.hpp"

#include <vigil/plugin_abi.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

enum class PluginState { loaded, running, stopped, failed, disabled };
const char* to_string(PluginState s);

// A policy source's document (ABI 1.3), copied off the plugin's thread.
struct PolicyDoc {
    std::string plugin; // the source's id
    uint32_t op = 0;    // vigil_policy_op
    std::string key, yaml;
    uint64_t revision = 0;
};

// Called with every decoded event: (plugin id, event).
using EventHandler = std::function<void(const std::string&, const vigil_event&)>;

class Plugin {
public:
    Plugin(std::string id, PluginLibrary lib, const PluginConfig& cfg);
    ~Plugin();
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;

    const std::string& id() const { return id_; }
    const vigil_descriptor& descriptor() const { return *lib_.descriptor; }
    const vigil_plugin_api& api() const { return *lib_.api; }
    const std::filesystem::path& path() const { return lib_.path; }
    PluginState state() const { return state_; }
    const std::string& last_error() const { return last_error_; }
    void* self() const { return self_; }
    size_t link_count() const { return links_.size(); }
    // The registry's fds of the plugin's links (for program stats; they stay owned here).
    std::vector<int> link_fds() const;
    uint64_t decode_errors() const { return decode_errors_; }
    uint64_t records() const;
    // The plugin's rings together: bytes of ring buffer, and how their readers fared.
    uint64_t ring_bytes() const;
    RingSetStats ring_stats() const;
    const std::map<std::string, uint64_t>& counters() const { return counters_; }

    // Exporters (ABI 1.3, plugins/exporter.cpp): whether the plugin is an output, and the calls
    // an exporter's own thread makes. They are serialized with start and stop, and refused
    // (VIGIL_ERR_UNSUPPORTED, status nullopt) while the plugin is not running.
    bool exports() const;
    vigil_result export_events(const vigil_export_event* events, uint32_t count, uint32_t& accepted,
                               std::string& error);
    std::optional<vigil_export_status> export_status();

private:
    friend class PluginRegistry;
    struct Link {
        Fd fd;
        std::string owner_tag;
    };

    std::string id_;
    PluginLibrary lib_;
    PluginConfig cfg_;
    PluginState state_ = PluginState::loaded;
    std::string last_error_;
    void* self_ = nullptr;
    vigil_host_api host_api_{};
    class PluginRegistry* registry_ = nullptr;
    std::shared_ptr<spdlog::logger> logger_;
    std::list<Link> links_;
    // One set per ring: a record of one ring may need the records of another ring of the same
    // plugin drained first (see drain_rings), which a shared set could not do from its handler.
    std::list<std::unique_ptr<RingSet>> rings_;
    std::map<std::string, uint64_t> counters_;
    uint64_t decode_errors_ = 0;
    // Config values handed to init; the strings point into cfg_.
    std::vector<vigil_config_value> config_values_;
    std::vector<std::vector<const char*>> config_lists_;
    std::mutex export_mu_;
    bool exporting_ = false; // under export_mu_: started, so export calls may reach self_
};

class PluginRegistry {
public:
    PluginRegistry(boost::asio::io_context& io, const SharedMaps& maps, Features& features,
                   std::filesystem::path plugin_dir, EventHandler on_event);
    ~PluginRegistry();

    // Loads, inits and starts every enabled plugin of `cfg`, in order. A plugin failing with
    // on_error = "skip" is logged and left out; with "fail" the error is returned.
    [[nodiscard]] Result<void> load(const Config& cfg);
    // Applies a reloaded config: starts plugins newly enabled, stops those now disabled, and
    // checks each plugin's changed [plugins.<id>.config] against its schema. A valid change is
    // applied by restarting the plugin (a new instance inits with it) unless `has_hooks(id)`:
    // policy hooks would be lost, so it waits for the next start of vigild, and says so. An
    // invalid one is refused naming file:line, and the plugin keeps running as it was.
    [[nodiscard]] Result<void> reload(const Config& cfg, const std::function<bool(const std::string&)>& has_hooks);
    // Runtime enable/disable of one plugin (already loaded or listed in the config).
    [[nodiscard]] Result<void> enable(const std::string& id);
    [[nodiscard]] Result<void> disable(const std::string& id);
    // Detaches the links of every plugin, then drains every ring until it is empty, while every
    // plugin and hook is still there to decode what was posted before the links went.
    void quiesce();
    // Stops every plugin (quiesce first) and destroys the instances.
    void stop_all();
    // How the rings of plugins started from now on are read.
    void set_ring_options(const RingReaderOptions& o, uint64_t budget_bytes)
    {
        ring_options_ = o;
        ring_budget_ = budget_bytes;
    }
    // Ring buffer bytes of every running plugin.
    uint64_t ring_bytes() const;
    // Consumes what is waiting in every ring but those being drained already: an event whose
    // process is not known yet may have that process's exec or fork still queued in another ring.
    // Returns how many records were consumed.
    uint64_t drain_rings();

    // Where metadata providers' container_update calls go (any thread; set before load).
    void set_container_sink(std::function<void(const vigil_container_info&)> sink) { container_sink_ = std::move(sink); }
    // Policy sources (plugins/policy_source.cpp): where their documents go (any thread; set
    // before load), the node name they are told, and handing a verdict back to one.
    void set_policy_sink(std::function<void(PolicyDoc)> sink) { policy_sink_ = std::move(sink); }
    void set_node_name(std::string node) { node_name_ = std::move(node); }
    void policy_verdict(const std::string& plugin_id, const vigil_policy_verdict& v);
    // Asks every running metadata provider about a container (returns at once).
    void container_wanted(const std::string& id);

    Plugin* find(const std::string& id);
    const std::list<std::unique_ptr<Plugin>>& plugins() const { return plugins_; }
    // Plugins that serve a policy hook kind.
    Plugin* server_of(const std::string& hook_kind);

    const std::filesystem::path& plugin_dir() const { return plugin_dir_; }

    // Checks [plugins.<id>.config] against the descriptor's schema and builds the ABI values.
    [[nodiscard]] static Result<void> bind_config(Plugin& p);
    [[nodiscard]] static Result<void> bind_config(const vigil_descriptor& d, const PluginConfig& cfg,
                                                  std::vector<vigil_config_value>& values,
                                                  std::vector<std::vector<const char*>>& lists);

private:
    [[nodiscard]] Result<void> load_one(const PluginConfig& pc);
    [[nodiscard]] Result<void> reconfigure(Plugin& p, const PluginConfig& pc,
                                           const std::function<bool(const std::string&)>& has_hooks);
    [[nodiscard]] Result<void> start(Plugin& p);
    // Every event kind p's descriptor needs is emitted by another running plugin.
    [[nodiscard]] Result<void> check_needs(const Plugin& p) const;
    void stop(Plugin& p);
    void detach_links(Plugin& p, const char* owner_tag);
    // Drains the plugin's rings until they are empty.
    static void drain_all(Plugin& p);

    // vigil_host_api callbacks; ctx is the Plugin.
    static void cb_log(void* ctx, uint32_t level, const char* msg, size_t len);
    static int cb_shared_map_fd(void* ctx, const char* name, uint32_t layout);
    static vigil_result cb_add_ring(void* ctx, int map_fd, uint32_t ring_id, char* err, size_t err_len);
    static vigil_result cb_register_link(void* ctx, int link_fd, const char* tag, char* err, size_t err_len);
    static void cb_remove_links(void* ctx, const char* tag);
    static int cb_has_feature(void* ctx, const char* feature);
    static void cb_count(void* ctx, const char* counter, uint64_t delta);
    static void cb_emit(void* ctx, const vigil_event* ev);
    static void cb_container_update(void* ctx, const vigil_container_info* info);
    static void cb_policy_update(void* ctx, const vigil_policy_doc* doc);
    std::function<void(const vigil_container_info&)> container_sink_;
    std::function<void(PolicyDoc)> policy_sink_;
    std::string node_name_;

    boost::asio::io_context& io_;
    RingReaderOptions ring_options_;
    uint64_t ring_budget_ = UINT64_MAX;
    const SharedMaps& maps_;
    Features& features_;
    std::filesystem::path plugin_dir_;
    EventHandler on_event_;
    std::list<std::unique_ptr<Plugin>> plugins_;
    std::shared_ptr<spdlog::logger> log_;
};

} // namespace vigil
