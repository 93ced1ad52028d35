// An exporter plugin (ABI 1.3) as one of the pipeline's outputs. It is a QueuedSink: the event
// loop only appends rendered JSON lines to a bounded queue and counts what does not fit; a thread
// of its own offers them to the plugin, waits while the plugin says it is full, and counts what it
// had to give up, by reason. A slow, full or failing exporter costs its own events, never the loop.
#pragma once

#include "export/sink.hpp"

#include <string>

namespace vigil {

class Plugin;

class ExporterSink : public QueuedSink {
public:
    // `plugin` outlives the sink (the registry keeps every plugin until vigild exits).
    [[nodiscard]] static Result<std::unique_ptr<ExporterSink>> make(Plugin& plugin, std::string node_name,
                                                                    size_t queue_bytes = default_queue_bytes);
    ~ExporterSink() override;
    bool active() const override;
    std::optional<SinkStats> stats() const override;

private:
    ExporterSink(Plugin& plugin, std::string node_name, size_t queue_bytes);
    void write_batch(std::string_view text, uint64_t lines) override;

    Plugin& plugin_;
    std::string node_;
};

// The event kind of one rendered event: the JSON object's first key ({"process_exec":{...}}).
std::string_view rendered_kind(std::string_view json);

} // namespace vigil
