// The path every event takes after a plugin decoded it: process-cache update and enrichment
// (process, parent, ancestors), export filters, formatting (Tetragon JSON or compact), sinks.
// Runs on the io_context thread.
#pragma once

#include "core/config.hpp"
#include "core/error.hpp"
#include "export/filter.hpp"
#include "export/process_json.hpp"
#include "export/sink.hpp"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

class ProcessCache;
struct ProcessEntry;

enum class Format { json, compact };
// Which events a sink is given: those [export.allow] / [export.deny] pass (the exporters), or
// all of them (API subscribers, which bring their own filters, as Tetragon's gRPC stream does).
enum class SinkScope { export_filtered, unfiltered };

struct PipelineOptions {
    bool ancestors = false;       // [process] ancestors
    ProcessJsonOptions process;   // [process] namespaces / capabilities
    ExportFilterConfig allow;     // [export.allow]
    ExportFilterConfig deny;      // [export.deny]
};

struct PipelineStats {
    uint64_t received = 0; // events handed over by plugins
    uint64_t exported = 0; // written to the sinks
    uint64_t filtered = 0; // dropped by [export.allow] / [export.deny]
    uint64_t internal = 0; // cache-only events (process_clone), never exported
    uint64_t process_refreshes = 0; // process-cache misses that drained the lifecycle rings first
    uint64_t process_misses = 0;    // events exported without their process (unknown even then)
    uint64_t pod_misses = 0;        // events of a process in a pod whose metadata was not known yet
    std::map<std::string, uint64_t> by_kind; // received, per kind
};

class EventPipeline {
public:
    [[nodiscard]] static Result<std::unique_ptr<EventPipeline>> make(std::string node_name, ProcessCache& cache,
                                                                     PipelineOptions opts);

    void add_sink(std::unique_ptr<Sink> sink, Format format, SinkScope scope = SinkScope::export_filtered);
    // One event from a plugin; `plugin_id` names the source in counters.
    void on_event(const std::string& plugin_id, const vigil_event& ev);
    void flush();
    // SIGHUP: the sinks open their files again.
    void reopen_sinks();
    // Orderly stop: each sink writes what it has queued, for at most `budget`.
    void close_sinks(std::chrono::milliseconds budget);
    // The counters of every sink that keeps some (stdout, the export files).
    std::vector<SinkStats> sink_stats() const;
    // Called when an event's process is not in the cache: it consumes the lifecycle records
    // still queued (the registry's drain_rings), after which the lookup is tried again.
    void set_process_refresh(std::function<void()> refresh) { refresh_ = std::move(refresh); }

    // Boot-time ns -> RFC 3339 UTC with nanoseconds, as events carry it.
    std::string format_time(uint64_t ktime_boot_ns) const { return clock_.rfc3339(ktime_boot_ns); }

    const PipelineStats& stats() const { return stats_; }
    uint64_t events_total() const { return stats_.received; }

private:
    EventPipeline(std::string node_name, ProcessCache& cache, PipelineOptions opts, ExportFilters filters);
    void write_json(const vigil_event& ev, const ProcessEntry* process);
    void write_compact(const vigil_event& ev, const ProcessEntry* process);

    std::string node_name_;
    ProcessCache& cache_;
    PipelineOptions opts_;
    ExportFilters filters_;
    WallClock clock_;
    struct SinkEntry {
        std::unique_ptr<Sink> sink;
        Format format;
        SinkScope scope;
    };
    std::vector<SinkEntry> sinks_;
    bool have_unfiltered_ = false;
    sdk::JsonWriter json_;
    std::string compact_;
    PipelineStats stats_;
    std::function<void()> refresh_;
    bool refreshing_ = false;
};

} // namespace vigil
