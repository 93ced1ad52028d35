#include "export/exporter_sink.hpp"

#include "core/log.hpp"
#include "plugins/registry.hpp"

#include <fmt/format.h>

#include <cstring>
#include <thread>
#include <vector>

namespace vigil {

namespace {

// Events offered in one call: enough to amortize the call, few enough to return quickly.
constexpr size_t max_offer = 512;

} // namespace

std::string_view rendered_kind(std::string_view json)
{
    // The pipeline writes {"<kind>":{ ... }; kinds are [a-z0-9_], never escaped.
    if (json.size() < 4 || json[0] != '{' || json[1] != '"')
        return {};
    size_t end = json.find('"', 2);
    return end == std::string_view::npos ? std::string_view{} : json.substr(2, end - 2);
}

Result<std::unique_ptr<ExporterSink>> ExporterSink::make(Plugin& plugin, std::string node_name, size_t queue_bytes)
{
    if (!plugin.exports())
        return fail(Errc::plugin, "plugin {} is not an exporter", plugin.id());
    auto sink = std::unique_ptr<ExporterSink>(new ExporterSink(plugin, std::move(node_name), queue_bytes));
    sink->start();
    return sink;
}

ExporterSink::ExporterSink(Plugin& plugin, std::string node_name, size_t queue_bytes)
    : QueuedSink("plugin:" + plugin.id(), queue_bytes), plugin_(plugin), node_(std::move(node_name))
{
}

ExporterSink::~ExporterSink() { close(std::chrono::seconds(2)); }

bool ExporterSink::active() const { return plugin_.state() == PluginState::running && QueuedSink::active(); }

void ExporterSink::write_batch(std::string_view text, uint64_t lines)
{
    std::vector<vigil_export_event> events;
    events.reserve(std::min<uint64_t>(lines, max_offer));
    auto backoff = std::chrono::milliseconds(1);
    std::string last_error;
    while (!text.empty()) {
        // the next events of the batch, at most max_offer
        events.clear();
        size_t used = 0;
        while (used < text.size() && events.size() < max_offer) {
            size_t nl = text.find('\n', used);
            std::string_view line = text.substr(used, nl - used);
            std::string_view kind = rendered_kind(line);
            vigil_export_event ev{};
            ev.struct_size = sizeof ev;
            ev.kind = kind.data();
            ev.kind_len = kind.size();
            ev.node = node_.data();
            ev.node_len = node_.size();
            ev.json = line.data();
            ev.json_len = line.size();
            events.push_back(ev);
            used = nl == std::string_view::npos ? text.size() : nl + 1;
        }
        uint32_t accepted = 0;
        std::string error;
        vigil_result r = plugin_.export_events(events.data(), static_cast<uint32_t>(events.size()), accepted, error);
        count_written(accepted);
        // skip what the plugin took
        for (uint32_t i = 0; i < accepted; ++i) {
            size_t nl = text.find('\n');
            text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        }
        if (r == VIGIL_OK) {
            backoff = std::chrono::milliseconds(1);
            continue;
        }
        uint64_t left = 0;
        for (char c : text)
            left += c == '\n';
        if (r == VIGIL_ERR_UNSUPPORTED) { // stopped or disabled: nothing takes them
            count_lost("exporter_stopped", left);
            return;
        }
        if (r != VIGIL_ERR_BUSY) {
            // the plugin refused these events: they are lost, the next batch is offered anew
            count_lost("export_error", left);
            count_error(fmt::format("{}: {}", name(), error));
            if (error != last_error)
                log::get("export")->warn("{}: export failed: {}", name(), error);
            last_error = error;
            return;
        }
        // Full: offer the rest again after a pause, until the stop budget runs out.
        if (giving_up()) {
            count_lost("stop", left);
            return;
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
}

std::optional<SinkStats> ExporterSink::stats() const
{
    auto s = QueuedSink::stats();
    if (!s)
        return s;
    if (auto st = plugin_.export_status()) {
        // what the exporter could not deliver, beside what never reached it
        for (const vigil_export_loss& l : st->lost)
            if (l.count && l.reason[0])
                s->lost["exporter_" + std::string(l.reason, strnlen(l.reason, sizeof l.reason))] += l.count;
        s->write_errors += st->errors;
        s->delivered = st->delivered;
        s->pending = st->pending;
        if (st->detail[0])
            s->last_error = st->detail;
    }
    return s;
}

} // namespace vigil
