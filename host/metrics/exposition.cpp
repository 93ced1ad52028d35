#include "metrics/exposition.hpp"

#include "api/process_service.hpp"
#include "api/subscribers.hpp"
#include "bpf/shared_maps.hpp"
#include "export/pipeline.hpp"
#include "metrics/bpf_errors.hpp"
#include "plugins/registry.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <utility>

namespace vigil {

namespace {

std::string escape_label(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

class Text {
public:
    void family(std::string_view name, std::string_view type, std::string_view help)
    {
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
    void sample(std::string_view name, Labels labels, uint64_t value) { line(name, labels, std::to_string(value)); }
    void sample(std::string_view name, Labels labels, double value) { line(name, labels, fmt::format("{}", value)); }
    void sample(std::string_view name, uint64_t value) { line(name, {}, std::to_string(value)); }
    std::string take() { return std::move(out_); }

private:
    void line(std::string_view name, Labels labels, std::string_view value)
    {
        out_ += name;
        if (labels.size()) {
            out_ += '{';
            bool first = true;
            for (const auto& [k, v] : labels) {
                fmt::format_to(std::back_inserter(out_), "{}{}=\"{}\"", first ? "" : ",", k, escape_label(v));
                first = false;
            }
            out_ += '}';
        }
        fmt::format_to(std::back_inserter(out_), " {}\n", value);
    }

    std::string out_;
};

} // namespace

std::string render_metrics(api::AgentServices& s, const ProgStatsCollector& prog_stats)
{
    Text t;
    t.family("vigil_build_info", "gauge", "vigild version and plugin ABI.");
    std::string abi = fmt::format("{}.{}", VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
    t.sample("vigil_build_info", {{"version", VIGIL_VERSION}, {"abi", abi}}, uint64_t{1});

    t.family("vigil_events_total", "counter", "Events through the pipeline, by type.");
    for (const auto& [kind, n] : s.pipeline.stats().by_kind)
        t.sample("vigil_events_total", {{"type", kind}}, n);

    t.family("vigil_events_filtered_total", "counter",
             "Events [export.allow] / [export.deny] held back from the exporters.");
    t.sample("vigil_events_filtered_total", s.pipeline.stats().filtered);

    t.family("vigil_events_without_process_total", "counter",
             "Events exported without process details: their process was not in the cache.");
    t.sample("vigil_events_without_process_total", s.pipeline.stats().process_misses);

    t.family("vigil_events_without_pod_total", "counter",
             "Events of processes in a pod (by their cgroup) exported before the runtime described the pod.");
    t.sample("vigil_events_without_pod_total", s.pipeline.stats().pod_misses);

    t.family("vigil_events_lost_total", "counter", "Events lost in the kernel: ring buffer reservations that failed.");
    t.sample("vigil_events_lost_total", bpf_events_lost(s.maps));

    t.family("vigil_bpf_errors_total", "counter", "Failures counted by BPF programs in vigil_errors, by kind.");
    for (const auto& e : bpf_error_counts(s.maps))
        t.sample("vigil_bpf_errors_total", {{"kind", e.kind}}, e.count);

    auto outputs = s.pipeline.sink_stats();
    t.family("vigil_output_lines_total", "counter", "Event lines each output (stdout, export files) wrote whole.");
    for (const auto& o : outputs)
        t.sample("vigil_output_lines_total", {{"output", o.name}}, o.written);
    t.family("vigil_output_lost_total", "counter",
             "Event lines an output lost, by reason: queue_full (its reader or disk did not keep up), write_error, "
             "closed (its reader went away), no_file (the file could not be opened), stop.");
    for (const auto& o : outputs)
        for (const auto& [reason, n] : o.lost)
            t.sample("vigil_output_lost_total", {{"output", o.name}, {"reason", reason}}, n);
    t.family("vigil_output_write_errors_total", "counter", "Failed writes, opens and rotations of each output.");
    for (const auto& o : outputs)
        t.sample("vigil_output_write_errors_total", {{"output", o.name}}, o.write_errors);
    t.family("vigil_output_rotations_total", "counter", "Rotations of each export file.");
    for (const auto& o : outputs)
        t.sample("vigil_output_rotations_total", {{"output", o.name}}, o.rotations);
    t.family("vigil_output_rotated_away_total", "counter",
             "Event lines in rotated export files that rotation deleted.");
    for (const auto& o : outputs)
        t.sample("vigil_output_rotated_away_total", {{"output", o.name}}, o.rotated_away);

    t.family("vigil_subscribers", "gauge", "API event subscribers connected now.");
    t.sample("vigil_subscribers", static_cast<uint64_t>(s.subscribers.size()));
    t.family("vigil_subscriber_dropped_total", "counter",
             "Events dropped for API subscribers that did not keep up, by connection id (\"closed\": gone ones).");
    t.sample("vigil_subscriber_dropped_total", {{"subscriber", "closed"}}, s.subscribers.dropped_closed());
    for (const auto& sub : s.subscribers.stats())
        t.sample("vigil_subscriber_dropped_total", {{"subscriber", std::to_string(sub.id)}}, sub.dropped);

    if (s.processes) {
        api::ProcessCacheCounts st = s.processes->counts();
        t.family("vigil_process_cache_size", "gauge", "Processes in the process cache.");
        t.sample("vigil_process_cache_size", st.size);
        t.family("vigil_process_cache_capacity", "gauge", "Most processes the process cache holds.");
        t.sample("vigil_process_cache_capacity", st.capacity);
        if (st.evictions) {
            t.family("vigil_process_cache_evictions_total", "counter", "Entries evicted from the process cache.");
            t.sample("vigil_process_cache_evictions_total", *st.evictions);
        }
        if (st.exit_misses) {
            t.family("vigil_process_cache_exit_misses_total", "counter",
                     "Exits of processes the process cache did not know.");
            t.sample("vigil_process_cache_exit_misses_total", *st.exit_misses);
        }
    }

    static constexpr PluginState states[] = {PluginState::loaded, PluginState::running, PluginState::stopped,
                                             PluginState::failed, PluginState::disabled};
    t.family("vigil_plugin_state", "gauge", "1 for the state each plugin is in, 0 for the others.");
    for (const auto& p : s.plugins.plugins())
        for (PluginState st : states)
            t.sample("vigil_plugin_state", {{"plugin", p->id()}, {"state", to_string(st)}},
                     uint64_t{p->state() == st});
    t.family("vigil_plugin_records_total", "counter", "Ring buffer records read for each plugin.");
    for (const auto& p : s.plugins.plugins())
        t.sample("vigil_plugin_records_total", {{"plugin", p->id()}}, p->records());
    t.family("vigil_plugin_decode_errors_total", "counter", "Records a plugin could not decode.");
    for (const auto& p : s.plugins.plugins())
        t.sample("vigil_plugin_decode_errors_total", {{"plugin", p->id()}}, p->decode_errors());
    t.family("vigil_plugin_links", "gauge", "BPF links each plugin has attached.");
    for (const auto& p : s.plugins.plugins())
        t.sample("vigil_plugin_links", {{"plugin", p->id()}}, static_cast<uint64_t>(p->link_count()));
    t.family("vigil_plugin_counter_total", "counter", "Counters plugins report through the host API.");
    for (const auto& p : s.plugins.plugins())
        for (const auto& [name, value] : p->counters())
            t.sample("vigil_plugin_counter_total", {{"plugin", p->id()}, {"counter", name}}, value);

    t.family("vigil_bpf_stats_enabled", "gauge", "1 when the kernel counts BPF program run count and time.");
    t.sample("vigil_bpf_stats_enabled", uint64_t{prog_stats.enabled()});
    auto progs = prog_stats.collect(s.plugins);
    t.family("vigil_bpf_prog_run_count_total", "counter", "Runs of each BPF program attached by a plugin.");
    for (const auto& p : progs)
        t.sample("vigil_bpf_prog_run_count_total", {{"plugin", p.plugin}, {"prog", p.name}, {"id", std::to_string(p.id)}},
                 p.run_count);
    t.family("vigil_bpf_prog_run_seconds_total", "counter", "Time spent in each BPF program attached by a plugin.");
    for (const auto& p : progs)
        t.sample("vigil_bpf_prog_run_seconds_total", {{"plugin", p.plugin}, {"prog", p.name}, {"id", std::to_string(p.id)}},
                 static_cast<double>(p.run_time_ns) / 1e9);
    return t.take();
}

} // namespace vigil
