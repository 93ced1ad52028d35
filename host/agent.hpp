// vigild as an object: one io_context, the kernel feature probe, shared maps, process cache,
// event pipeline and plugins, with orderly start, reload (SIGHUP) and stop (SIGINT/SIGTERM).
#pragma once

#include "api/server.hpp"
#include "api/services.hpp"
#include "api/subscribers.hpp"
#include "bpf/shared_maps.hpp"
#include "core/config.hpp"
#include "container/table.hpp"
#include "container/workload_sets.hpp"
#include "core/features.hpp"
#include "core/sd_notify.hpp"
#include "export/pipeline.hpp"
#include "export/throttle.hpp"
#include "metrics/http_server.hpp"
#include "plugins/registry.hpp"
#include "policy_host/dir_watcher.hpp"
#include "policy_host/manager.hpp"
#include "policy_host/service.hpp"
#include "process/bootstrap.hpp"
#include "process/cache.hpp"
#include "process/procfs.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

class ExporterSink;
class PolicySources;

// Counters of a running agent: what the plugins handed over, what went out, what was lost on
// the way (kernel ring buffers full, records that did not decode), and the process cache.
struct AgentStats {
    PipelineStats pipeline;
    uint64_t ring_lost = 0;     // records the kernel could not reserve (VIGIL_ERR_RINGBUF_RESERVE)
    uint64_t shed = 0;          // reporting-only events shed from rings past 3/4 (VIGIL_ERR_SHED)
    uint64_t cgroup_rate = 0;   // reporting-only events over their cgroup's rate (VIGIL_ERR_CGROUP_RATE)
    uint64_t decode_errors = 0; // records a plugin refused
    uint64_t map_update_errors = 0; // vigil_procs updates that failed in the kernel (map full)
    ProcessCacheStats cache;
};

struct AgentOptions {
    std::optional<std::filesystem::path> config_path; // none: the embedded default
    std::optional<StdoutFormat> stdout_format;        // --output
    std::optional<std::string> export_file;           // --export-file
    std::optional<std::string> api_socket;            // --api-socket: replaces [api] socket
    std::filesystem::path plugin_dir;                 // used when the config names none
    std::vector<std::filesystem::path> policies;      // --policy, loaded at start (a failure stops vigild)
};

class Agent {
public:
    [[nodiscard]] static Result<std::unique_ptr<Agent>> make(AgentOptions opts);
    ~Agent();

    // Runs until SIGINT/SIGTERM or stop(); returns the process exit code.
    int run();
    void stop();
    [[nodiscard]] Result<void> reload();

    AgentStats stats() const;
    // Writes the stats as one log line ("stats: received=... lost=... cache_size=...").
    void log_stats() const;

    boost::asio::io_context& io() { return io_; }
    PluginRegistry& plugins() { return *registry_; }
    Features& features() { return features_; }
    PolicyManager& policies() { return *policies_; }
    // What the API and metrics serve; set `services().policies` to plug a policy engine in.
    api::AgentServices& services() { return *services_; }
    const api::ApiServer& api_server() const { return *api_; }

private:
    Agent(AgentOptions opts, Config cfg);
    [[nodiscard]] Result<void> start();
    [[nodiscard]] Result<Config> read_config() const;
    void arm_flush();
    // WATCHDOG=1 from the io_context: a stuck io_context stops the pings and systemd restarts vigild.
    void arm_watchdog();
    void notify(std::string_view state) const;
    // A process_throttle event when the kernel starts or stops shedding events.
    void check_throttle();
    // process_throttle events for each cgroup that starts or stops being over [throttle] cgroup_rate.
    void check_cgroup_throttle();
    void emit_throttle_event(const std::string& body, const std::string& summary, uint32_t pid = 0,
                             uint64_t proc_ktime = 0);
    // vigil_self: vigild's tgid (unless agent.trace_self) and throttle.cgroup_rate.
    [[nodiscard]] Result<void> write_kernel_settings();
    // An output for every exporter plugin (ABI 1.3) the registry loaded.
    void add_exporters();
    void load_policy_dir(const std::filesystem::path& dir);
    // Without inotify (no watches left): the files as they are at start.
    void load_policy_files_once(const std::filesystem::path& dir);
    void wait_signals();
    void bootstrap_processes(const char* when);

    AgentOptions opts_;
    Config cfg_;
    boost::asio::io_context io_;
    Features features_;
    std::optional<SharedMaps> maps_;
    std::unique_ptr<ProcessCache> cache_;
    api::SubscriberHub hub_; // outlives the pipeline, which holds a sink forwarding to it
    std::unique_ptr<ProcBootstrap> bootstrap_;
    std::unique_ptr<ContainerTable> containers_; // before pipeline_: the pipeline reads it
    std::unique_ptr<WorkloadSets> workloads_;   // fed by the cache and the container table
    std::unique_ptr<EventPipeline> pipeline_;
    std::unique_ptr<PluginRegistry> registry_;
    std::unique_ptr<PolicyManager> policies_;
    std::unique_ptr<ManagedPolicyService> policy_service_;
    std::unique_ptr<PolicyDirWatcher> policy_dir_; // [agent] policy_dir, applied as it changes
    boost::asio::signal_set signals_;
    boost::asio::steady_timer flush_timer_;
    SdNotifier notifier_;
    boost::asio::steady_timer watchdog_timer_;
    std::unique_ptr<api::ProcessService> process_service_;
    std::optional<api::AgentServices> services_;
    std::unique_ptr<api::ApiServer> api_;      // destroyed first: its connections leave hub_
    std::unique_ptr<MetricsServer> metrics_;
    ThrottleTracker throttle_;
    CgroupThrottleTracker cgroup_throttle_;
    uint64_t cgroup_drops_seen_ = 0;
    std::filesystem::path cgroup2_root_ = procfs::host_read_options().cgroup_root;
    bool stopping_ = false;
    std::vector<ExporterSink*> exporters_; // owned by pipeline_
    std::unique_ptr<PolicySources> policy_sources_; // documents of policy source plugins
};

} // namespace vigil
