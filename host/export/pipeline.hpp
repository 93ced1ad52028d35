// The path every event takes after a plugin decoded it: process-cache update and enrichment,
// export filters, formatting (JSON or compact), sinks. Runs on the io_context thread.
#pragma once

#include "export/sink.hpp"

#include <vigil/plugin_abi.h>
#include <vigil/sdk/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

class ProcessCache;

enum class Format { json, compact };

class EventPipeline {
public:
    EventPipeline(std::string node_name, ProcessCache& cache);

    void add_sink(std::unique_ptr<Sink> sink, Format format);
    // One event from a plugin; `plugin_id` names the source in counters.
    void on_event(const std::string& plugin_id, const vigil_event& ev);
    void flush();

    // Boot-time ns -> RFC 3339 UTC with nanoseconds, as events carry it.
    std::string format_time(uint64_t ktime_boot_ns) const;

    uint64_t events_total() const { return events_total_; }
    const std::map<std::string, uint64_t>& events_by_kind() const { return by_kind_; }

private:
    void write_json(const vigil_event& ev);
    void write_compact(const vigil_event& ev);

    std::string node_name_;
    ProcessCache& cache_;
    struct SinkEntry {
        std::unique_ptr<Sink> sink;
        Format format;
    };
    std::vector<SinkEntry> sinks_;
    bool want_json_ = false;
    bool want_compact_ = false;
    sdk::JsonWriter json_;
    std::string compact_;
    int64_t boot_to_wall_ns_ = 0;
    uint64_t events_total_ = 0;
    std::map<std::string, uint64_t> by_kind_;
};

} // namespace vigil
