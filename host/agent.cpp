#include "agent.hpp"

#include "api/process_service.hpp"
#include "core/log.hpp"
#include "core/mounts.hpp"
#include "export/exporter_sink.hpp"
#include "plugins/policy_source.hpp"
#include "policy/policy.hpp"

#include <vigil/wire/errors.h>

#include <boost/asio/post.hpp>

#include <grp.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>

namespace vigil {

namespace {

std::string host_name()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        return "localhost";
    return buf;
}

uint32_t own_pidns()
{
    struct stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

} // namespace

namespace {

// The config file (or the embedded default) with the command line's overrides applied.
Result<Config> load_config(const AgentOptions& opts)
{
    Result<Config> cfg = opts.config_path ? load_config_file(*opts.config_path)
                                          : parse_config(embedded_default_config(), "<embedded default>");
    if (cfg && opts.api_socket) {
        const std::string& path = *opts.api_socket;
        if (path.empty() || path.front() != '/' || path.size() > 107)
            return fail(Errc::invalid_input, "--api-socket must be an absolute path of at most 107 bytes, not \"{}\"",
                        path);
        cfg->api.socket = path;
    }
    return cfg;
}

Result<FileSinkOptions> file_sink_options(const ExportFileConfig& f, size_t queue_bytes)
{
    FileSinkOptions o;
    o.queue_bytes = queue_bytes;
    o.path = f.path;
    o.max_bytes = f.max_size_bytes;
    o.max_files = f.max_files;
    o.mode.mode = f.mode;
    o.kinds.insert(f.kinds.begin(), f.kinds.end());
    if (!f.group.empty()) {
        struct group* g = ::getgrnam(f.group.c_str());
        if (!g)
            return fail(Errc::invalid_input, "export file {}: no group \"{}\"", f.path, f.group);
        o.mode.gid = g->gr_gid;
    }
    return o;
}

} // namespace

Result<std::unique_ptr<Agent>> Agent::make(AgentOptions opts)
{
    Result<Config> cfg = load_config(opts);
    if (!cfg)
        return std::unexpected(cfg.error());
    std::unique_ptr<Agent> a(new Agent(std::move(opts), std::move(*cfg)));
    if (auto r = a->start(); !r)
        return std::unexpected(r.error());
    return a;
}

Agent::Agent(AgentOptions opts, Config cfg)
    : opts_(std::move(opts)), cfg_(std::move(cfg)), signals_(io_, SIGINT, SIGTERM, SIGHUP), flush_timer_(io_),
      watchdog_timer_(io_)
{
    signals_.add(SIGUSR1); // log the stats
}

Agent::~Agent()
{
    for (ExporterSink* e : exporters_) // their threads call into plugins the registry destroys
        e->close(std::chrono::milliseconds(0));
    if (policies_)
        policies_->remove_all();
    if (registry_)
        registry_->stop_all();
    if (pipeline_)
        pipeline_->flush();
}

Result<Config> Agent::read_config() const
{
    return load_config(opts_);
}

Result<void> Agent::start()
{
    log::setup(cfg_.log_level);
    auto logger = log::get("host");
    auto notifier = SdNotifier::from_environment();
    if (!notifier)
        return std::unexpected(notifier.error());
    notifier_ = std::move(*notifier);
    logger->info("vigild {} starting with {}", VIGIL_VERSION, cfg_.source);
    logger->info("kernel features: {}", features_.summary());
    // The kernels vigild runs on charge BPF memory to the memory cgroup, not to RLIMIT_MEMLOCK;
    // a finite limit only makes libbpf follow any EPERM with "try raising 'ulimit -l'", which
    // points away from the real cause (a lockdown, a missing capability, a refused program type).
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_MEMLOCK, &unlimited) != 0)
        logger->debug("RLIMIT_MEMLOCK stays as it is: {}", std::strerror(errno));

    if (auto mounted = ensure_tracefs(); !mounted)
        logger->warn("{}; tracepoint hooks will not attach", mounted.error().message());
    else if (*mounted)
        logger->info("mounted tracefs at /sys/kernel/tracing");

    auto maps = SharedMaps::create();
    if (!maps)
        return std::unexpected(maps.error());
    maps_.emplace(std::move(*maps));
    // Before any plugin loads: a hook on write(2) must not see the agent write its own output.
    if (auto r = write_kernel_settings(); !r)
        return std::unexpected(r.error());

    std::string node = cfg_.node_name.empty() ? host_name() : cfg_.node_name;
    cache_ = std::make_unique<ProcessCache>(node, cfg_.process_cache_size);
    auto redactor = Redactor::make(cfg_.redactions);
    if (!redactor)
        return std::unexpected(redactor.error());
    cache_->set_redactor(std::move(*redactor));
    PipelineOptions popts;
    popts.ancestors = cfg_.process_ancestors;
    popts.process.namespaces = cfg_.process_namespaces;
    popts.process.capabilities = cfg_.process_capabilities;
    // "is_host" compares with init's namespaces; where /proc/1 is not readable, with vigild's.
    popts.process.host_ns = procfs::read_namespaces("/proc", "1");
    auto own_ns = procfs::read_namespaces("/proc", "self");
    for (size_t i = 0; i < ns_slot_count; ++i)
        if (!popts.process.host_ns[i])
            popts.process.host_ns[i] = own_ns[i];
    containers_ = std::make_unique<ContainerTable>(io_);
    popts.process.containers = containers_.get();
    // Keyed by the v1 controller the process sensor records the cgroup of, on a hybrid host.
    workloads_ = std::make_unique<WorkloadSets>(*containers_, maps_->workloads_fd(),
                                                procfs::host_read_options().cgroup1_subsys);
    cache_->set_container_observer([this](const ProcessEntry& e) {
        workloads_->on_cgroup(e.container.id, workloads_->cgroup_key(e.cgroup_id, e.cgroup1_id));
    });
    containers_->set_on_change([this](uint32_t op, const std::string& id) { workloads_->on_container(op, id); });
    popts.process.pod_annotations = cfg_.pod_annotations;
    popts.allow = cfg_.export_allow;
    popts.deny = cfg_.export_deny;
    auto pipeline = EventPipeline::make(node, *cache_, std::move(popts));
    if (!pipeline)
        return std::unexpected(pipeline.error());
    pipeline_ = std::move(*pipeline);

    // Processes already running: into the map before any sensor attaches, so the first
    // events find their parents.
    bootstrap_ = std::make_unique<ProcBootstrap>(*cache_, maps_->procs_fd(), procfs::host_read_options(), own_pidns());
    bootstrap_processes("before the sensors attached");
    pipeline_->add_sink(hub_.make_sink(), Format::json, SinkScope::unfiltered); // API subscribers

    StdoutFormat out = opts_.stdout_format.value_or(cfg_.stdout_format);
    if (out != StdoutFormat::none) {
        auto sink = StreamSink::make(STDOUT_FILENO, "stdout", size_t{cfg_.output_queue_kb} << 10);
        if (sink)
            pipeline_->add_sink(std::move(*sink), out == StdoutFormat::json ? Format::json : Format::compact);
        else // started with stdout closed
            logger->warn("{}: events are not written to stdout", sink.error().message());
    }
    ExportFileConfig file = cfg_.export_file;
    if (opts_.export_file)
        file.path = *opts_.export_file;
    for (const ExportFileConfig* f : {&file, &cfg_.export_security_file}) {
        if (f->path.empty())
            continue;
        auto sink_opts = file_sink_options(*f, size_t{cfg_.output_queue_kb} << 10);
        if (!sink_opts)
            return std::unexpected(sink_opts.error());
        auto sink = RotatingFileSink::make(std::move(*sink_opts));
        if (!sink)
            return std::unexpected(sink.error());
        pipeline_->add_sink(std::move(*sink), Format::json);
        logger->info("exporting JSON events{} to {}", f == &file ? "" : " of the security-relevant kinds", f->path);
    }

    std::filesystem::path plugin_dir = cfg_.plugin_dir.empty() ? opts_.plugin_dir : std::filesystem::path(cfg_.plugin_dir);
    registry_ = std::make_unique<PluginRegistry>(io_, *maps_, features_, plugin_dir,
                                                 [this](const std::string& id, const vigil_event& ev) {
                                                     pipeline_->on_event(id, ev);
                                                 });
    registry_->set_ring_options(RingReaderOptions{.nice = -static_cast<int>(cfg_.rings.reader_priority),
                                                  .queue_limit = size_t(cfg_.rings.queue_mb) << 20},
                                uint64_t(cfg_.rings.budget_mb) << 20);
    pipeline_->set_process_refresh([this] { registry_->drain_rings(); });
    registry_->set_container_sink([this](const vigil_container_info& info) { containers_->post(info); });
    containers_->set_wanted([this](const std::string& id) { registry_->container_wanted(id); });
    process_service_ = std::make_unique<api::ProcessService>(*cache_);
    policies_ = std::make_unique<PolicyManager>(*registry_);
    policies_->set_workloads(workloads_.get(), cfg_.node_labels);
    policy_service_ = std::make_unique<ManagedPolicyService>(*policies_);
    // policy source plugins (the fleet's bucket) hand documents over from their threads
    policy_sources_ = std::make_unique<PolicySources>(*registry_, *policy_service_);
    registry_->set_node_name(node);
    registry_->set_policy_sink([this](PolicyDoc doc) {
        boost::asio::post(io_, [this, doc = std::move(doc)] { policy_sources_->apply(doc); });
    });
    services_.emplace(api::AgentServices{*registry_, features_, *maps_, *pipeline_, hub_, process_service_.get(),
                                         policy_service_.get()});
    // Bound before the plugins load: a socket in use fails the start before anything attaches.
    auto server = api::ApiServer::make(
        io_, api::ApiServerOptions{.socket_path = cfg_.api.socket,
                                   .subscriber_queue = cfg_.api.subscriber_queue,
                                   .jq_budget = {std::chrono::milliseconds(cfg_.api.jq_time_budget_ms),
                                                 cfg_.api.jq_memory_budget_mb}},
        *services_);
    if (!server)
        return std::unexpected(server.error());
    api_ = std::move(*server);
    if (cfg_.metrics.port) {
        auto m = MetricsServer::make(io_, cfg_.metrics.address, cfg_.metrics.port, *services_);
        if (!m)
            return std::unexpected(m.error());
        metrics_ = std::move(*m);
    }
    auto t0 = std::chrono::steady_clock::now();
    if (auto r = registry_->load(cfg_); !r)
        return r;
    add_exporters();
    for (const auto& file : opts_.policies)
        if (auto r = policies_->add_file(file); !r)
            return r;
    if (!cfg_.policy_dir.empty())
        load_policy_dir(cfg_.policy_dir);
    size_t running = 0;
    for (const auto& p : registry_->plugins())
        running += p->state() == PluginState::running;
    // What was forked or exited between the first scan and the sensors attaching.
    bootstrap_processes("after the sensors attached");
    // Loading BPF objects parses kernel BTF (tens of MiB, freed again): hand the freed heap back
    // so the resident size is what the agent keeps, not its start-up peak.
    malloc_trim(0);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    logger->info("vigild ready: {} plugin(s) running, started in {} ms", running, ms);
    return {};
}

void Agent::add_exporters()
{
    // Exporter plugins loaded at start are outputs beside stdout and the files; one enabled only
    // by a later reload waits for the next start of vigild.
    std::string node = cfg_.node_name.empty() ? host_name() : cfg_.node_name;
    for (const auto& p : registry_->plugins()) {
        if (!p->exports())
            continue;
        auto sink = ExporterSink::make(*p, node, size_t{cfg_.output_queue_kb} << 10);
        if (!sink) {
            log::get("export")->error("{}", sink.error().message());
            continue;
        }
        exporters_.push_back(sink->get());
        pipeline_->add_sink(std::move(*sink), Format::json);
        log::get("export")->info("exporting JSON events to plugin {}", p->id());
    }
}

void Agent::load_policy_dir(const std::filesystem::path& dir)
{
    // A bad file here is logged and skipped: the other policies still load. Later changes to
    // the directory are applied as they happen (a ConfigMap update, a package's new policy).
    PolicyDirActions actions{
        .add = [this](const std::filesystem::path& file, std::string_view text) -> Result<std::string> {
            auto p = policy::parse_policy(text, file.string());
            if (!p)
                return std::unexpected(p.error());
            std::string name = p->name;
            if (auto r = policies_->add(std::move(*p)); !r)
                return std::unexpected(r.error());
            return name;
        },
        .check = [](const std::filesystem::path& file, std::string_view text) -> Result<void> {
            auto p = policy::parse_policy(text, file.string());
            if (!p)
                return std::unexpected(p.error());
            return {};
        },
        .remove = [this](const std::string& name) { return policies_->remove(name); },
    };
    auto watcher = PolicyDirWatcher::make(io_, dir, std::move(actions), std::chrono::milliseconds(200));
    if (!watcher) {
        log::get("policy")->error("{}; policies are loaded once, changes need a restart", watcher.error().message());
        load_policy_files_once(dir);
        return;
    }
    policy_dir_ = std::move(*watcher);
    policy_dir_->scan();
}

void Agent::load_policy_files_once(const std::filesystem::path& dir)
{
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& ent : std::filesystem::directory_iterator(dir, ec))
        if (ent.path().extension() == ".yaml" || ent.path().extension() == ".yml")
            files.push_back(ent.path());
    if (ec) {
        log::get("policy")->error("policy directory {}: {}", dir.string(), ec.message());
        return;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        if (auto r = policies_->add_file(f); !r)
            log::get("policy")->error("{}", r.error().message());
}

void Agent::bootstrap_processes(const char* when)
{
    auto logger = log::get("process");
    auto t0 = std::chrono::steady_clock::now();
    size_t pruned = bootstrap_->prune();
    BootstrapStats st = bootstrap_->scan();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    logger->info("/proc scan {}: {} process(es) added, {} already known, {} exited while read, {} gone since "
                 "the last scan, {} kernel threads skipped, {} ms",
                 when, st.inserted, st.known, st.vanished, pruned, st.kernel_threads, ms);
    if (st.errors)
        logger->warn("/proc scan: {} process(es) could not be read, first: {}", st.errors, st.first_error);
}

void Agent::arm_flush()
{
    flush_timer_.expires_after(std::chrono::milliseconds(100));
    flush_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_)
            return;
        check_throttle();
        check_cgroup_throttle();
        pipeline_->flush();
        cache_->collect();
        arm_flush();
    });
}

void Agent::check_cgroup_throttle()
{
    // The map is walked only while drops are new or a cgroup is throttled.
    uint64_t total = maps_->error_count(VIGIL_ERR_CGROUP_RATE);
    if (total == cgroup_drops_seen_ && !cgroup_throttle_.throttling())
        return;
    cgroup_drops_seen_ = total;
    std::vector<CgroupThrottleTracker::Count> counts;
    for (const auto& d : maps_->cgroup_drops())
        counts.push_back({d.cgroup_id, d.dropped});
    for (const auto& change : cgroup_throttle_.update(counts, std::chrono::steady_clock::now())) {
        std::string cgroup = procfs::cgroup_path_of(cgroup2_root_, change.cgroup_id).value_or("");
        std::string summary = change.start
                                  ? fmt::format("cgroup {} over {} events/s: its reporting-only events are dropped",
                                                cgroup.empty() ? std::to_string(change.cgroup_id) : cgroup, cfg_.cgroup_rate)
                                  : fmt::format("cgroup {}: {} events dropped in {} ms",
                                                cgroup.empty() ? std::to_string(change.cgroup_id) : cgroup,
                                                change.dropped, change.duration.count());
        if (change.start)
            log::get("host")->warn("throttle: {}", summary);
        else
            log::get("host")->info("throttle over: {}", summary);
        emit_throttle_event(change.body_json(cgroup, cfg_.cgroup_rate), summary);
    }
}

void Agent::emit_throttle_event(const std::string& body, const std::string& summary, uint32_t pid,
                                uint64_t proc_ktime)
{
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    vigil_event ev{};
    ev.struct_size = sizeof ev;
    ev.ktime = uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
    ev.kind = "process_throttle";
    ev.pid = pid;
    ev.proc_ktime = proc_ktime;
    ev.body_json = body.data();
    ev.body_json_len = body.size();
    ev.summary = summary.data();
    ev.summary_len = summary.size();
    pipeline_->on_event("vigild", ev);
}

void Agent::notify(std::string_view state) const
{
    if (auto r = notifier_.notify(state); !r)
        log::get("host")->warn("{}", r.error().message());
}

void Agent::arm_watchdog()
{
    auto interval = notifier_.watchdog_interval();
    if (!interval)
        return;
    watchdog_timer_.expires_after(*interval);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_)
            return;
        notify("WATCHDOG=1");
        arm_watchdog();
    });
}

void Agent::check_throttle()
{
    auto change = throttle_.update(maps_->error_count(VIGIL_ERR_SHED), std::chrono::steady_clock::now());
    if (!change)
        return;
    // Whose events went: the kernel counted them per process image.
    std::vector<SharedMaps::ShedProcess> procs;
    if (!change->start) {
        procs = maps_->take_shed();
        change->processes = procs.size();
    }
    std::string body = change->body_json();
    std::string summary = change->start ? "events shed: a ring is over three quarters full"
                                        : fmt::format("{} events shed in {} ms", change->shed, change->duration.count());
    auto logger = log::get("host");
    if (change->start)
        logger->warn("throttle: {}", summary);
    else
        logger->info("throttle over: {}", summary);
    emit_throttle_event(body, summary);
    for (size_t i = 0; i < procs.size() && i < max_shed_process_events; ++i) {
        const auto& p = procs[i];
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(p.last_ns - p.first_ns));
        emit_throttle_event(shed_process_body_json(p.count, ms),
                            fmt::format("pid {}: {} events shed in {} ms", p.tgid, p.count, ms.count()), p.tgid,
                            p.proc_ktime);
    }
}

AgentStats Agent::stats() const
{
    AgentStats s;
    s.pipeline = pipeline_->stats();
    s.cache = cache_->stats();
    for (const auto& p : registry_->plugins()) {
        s.decode_errors += p->decode_errors();
    }
    s.ring_lost = maps_->error_count(VIGIL_ERR_RINGBUF_RESERVE);
    s.shed = maps_->error_count(VIGIL_ERR_SHED);
    s.cgroup_rate = maps_->error_count(VIGIL_ERR_CGROUP_RATE);
    s.map_update_errors = maps_->error_count(VIGIL_ERR_MAP_UPDATE);
    return s;
}

void Agent::log_stats() const
{
    AgentStats s = stats();
    // received per event kind, for accounting (tests/soak); every output's counters, summed
    std::map<std::string, uint64_t> more;
    for (const auto& [kind, n] : s.pipeline.by_kind)
        more["received_" + kind] = n;
    for (const SinkStats& st : pipeline_->sink_stats()) {
        for (const auto& [reason, n] : st.lost)
            more["output_lost_" + reason] += n;
        more["output_written"] += st.written;
        more["output_write_errors"] += st.write_errors;
        more["output_rotated_away"] += st.rotated_away;
        more["output_reopens"] += st.reopens;
    }
    for (const auto& p : registry_->plugins())
        for (const auto& [name, n] : p->counters())
            if (name == "records_after_stop" || name == "records_of_removed_hooks")
                more[name] += n;
    std::string tail;
    for (const auto& [k, v] : more)
        tail += fmt::format(" {}={}", k, v);
    log::get("host")->info("stats: received={} exported={} filtered={} internal={} lost={} shed={} "
                           "cgroup_rate={} decode_errors={} map_update_errors={} cache_size={} cache_capacity={} "
                           "cache_collected={} cache_evicted={} exit_misses={} process_refreshes={} "
                           "process_misses={} pod_misses={}{}",
                           s.pipeline.received, s.pipeline.exported, s.pipeline.filtered, s.pipeline.internal,
                           s.ring_lost, s.shed, s.cgroup_rate, s.decode_errors, s.map_update_errors, s.cache.size, s.cache.capacity,
                           s.cache.collected, s.cache.evicted, s.cache.exit_misses, s.pipeline.process_refreshes,
                           s.pipeline.process_misses, s.pipeline.pod_misses, tail);
    if (s.ring_lost)
        log::get("host")->warn("{} event(s) lost: a plugin ring buffer was full", s.ring_lost);
}

void Agent::wait_signals()
{
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        if (sig == SIGUSR1) {
            log_stats();
            wait_signals();
            return;
        }
        if (sig == SIGHUP) {
            notify("RELOADING=1");
            pipeline_->reopen_sinks(); // what an outside tool rotated
            if (auto r = reload(); !r) {
                log::get("host")->error("reload failed, keeping the running configuration: {}", r.error().message());
                notify(fmt::format("READY=1\nSTATUS=reload failed: {}", r.error().message()));
            } else
                notify("READY=1\nSTATUS=running, configuration reloaded");
            wait_signals();
            return;
        }
        log::get("host")->info("signal {}: stopping", sig);
        stop();
    });
}

Result<void> Agent::write_kernel_settings()
{
    return maps_->set_settings(cfg_.trace_self ? 0 : static_cast<uint32_t>(::getpid()), cfg_.cgroup_rate);
}

Result<void> Agent::reload()
{
    auto cfg = read_config();
    if (!cfg)
        return std::unexpected(cfg.error());
    auto redactor = Redactor::make(cfg->redactions);
    if (!redactor)
        return std::unexpected(redactor.error());
    log::get("host")->info("reloading {}", cfg->source);
    // Processes that come in from now on; those already cached keep what they showed.
    cache_->set_redactor(std::move(*redactor));
    if (cfg->api.socket != cfg_.api.socket || cfg->api.subscriber_queue != cfg_.api.subscriber_queue ||
        cfg->api.jq_time_budget_ms != cfg_.api.jq_time_budget_ms ||
        cfg->api.jq_memory_budget_mb != cfg_.api.jq_memory_budget_mb ||
        cfg->metrics.port != cfg_.metrics.port ||
        cfg->metrics.address != cfg_.metrics.address)
        log::get("host")->warn("[api] and [metrics] changes take effect when vigild restarts");
    auto r = registry_->reload(*cfg, [this](const std::string& plugin) {
        for (const auto& e : policies_->policies())
            for (const auto& h : e.hooks)
                if (h.handle && h.plugin == plugin)
                    return true;
        return false;
    });
    cfg_.plugins = cfg->plugins;
    if (cfg->cgroup_rate != cfg_.cgroup_rate || cfg->trace_self != cfg_.trace_self) {
        cfg_.cgroup_rate = cfg->cgroup_rate;
        cfg_.trace_self = cfg->trace_self;
        if (auto w = write_kernel_settings(); !w)
            log::get("host")->error("{}", w.error().message());
        else
            log::get("host")->info("throttle.cgroup_rate is now {}, agent.trace_self {}", cfg_.cgroup_rate,
                                   cfg_.trace_self);
    }
    // a sensor stopped and started again missed what happened meanwhile
    bootstrap_processes("after the reload");
    return r;
}

void Agent::stop()
{
    if (stopping_)
        return;
    stopping_ = true;
    notify("STOPPING=1");
    auto t0 = std::chrono::steady_clock::now();
    if (api_)
        api_->stop();
    if (metrics_)
        metrics_->stop();
    for (const auto& p : policies_->policies())
        if (auto c = policies_->counters(p.policy.name))
            log::get("policy")->info("policy {}: matched={} posted={} rate_limited={} enforced={} monitored={} "
                                     "shed={} ring_full={}",
                                     p.policy.name, c->matched, c->posted, c->rate_limited, c->enforced,
                                     c->monitored, c->shed, c->ring_full);
    policy_dir_.reset(); // no rescan adds a policy while they are removed
    // Every record posted before the links go is decoded while its policy's hooks still exist.
    registry_->quiesce();
    policies_->remove_all();
    // Exporter plugins get what is queued for them while they still run.
    pipeline_->flush();
    for (ExporterSink* e : exporters_)
        e->close(std::chrono::seconds(1));
    registry_->stop_all();
    pipeline_->flush();
    pipeline_->close_sinks(std::chrono::seconds(1));
    signals_.cancel();
    flush_timer_.cancel();
    watchdog_timer_.cancel();
    io_.stop();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    log::get("host")->info("stopped in {} ms ({} events)", ms, pipeline_->events_total());
    log_stats();
}

int Agent::run()
{
    wait_signals();
    arm_flush();
    arm_watchdog();
    // The plugins are running and the API socket is listening: `systemctl start` returns now.
    notify(fmt::format("READY=1\nMAINPID={}\nSTATUS=running", ::getpid()));
    io_.run();
    return 0;
}

} // namespace vigil
