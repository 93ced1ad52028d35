#include "export/pipeline.hpp"

#include "container/table.hpp"
#include "core/printable.hpp"
#include "process/cache.hpp"

#include <fmt/format.h>

#include <cstring>

namespace vigil {

namespace {

// Events that only feed the cache. Tetragon does not export process_clone by default either.
bool cache_only(std::string_view kind) { return kind == "process_clone"; }

std::string signal_name(int sig)
{
    const char* abbrev = sig > 0 ? sigabbrev_np(sig) : nullptr;
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("SIG{}", sig);
}

} // namespace

Result<std::unique_ptr<EventPipeline>> EventPipeline::make(std::string node_name, ProcessCache& cache,
                                                           PipelineOptions opts)
{
    auto filters = ExportFilters::make(opts.allow, opts.deny);
    if (!filters)
        return std::unexpected(filters.error());
    return std::unique_ptr<EventPipeline>(
        new EventPipeline(std::move(node_name), cache, std::move(opts), std::move(*filters)));
}

EventPipeline::EventPipeline(std::string node_name, ProcessCache& cache, PipelineOptions opts, ExportFilters filters)
    : node_name_(std::move(node_name)), cache_(cache), opts_(std::move(opts)), filters_(std::move(filters))
{
    filters_.set_containers(opts_.process.containers);
}

void EventPipeline::add_sink(std::unique_ptr<Sink> sink, Format format, SinkScope scope)
{
    have_unfiltered_ = have_unfiltered_ || scope == SinkScope::unfiltered;
    sinks_.push_back({std::move(sink), format, scope});
}

void EventPipeline::on_event(const std::string& plugin_id, const vigil_event& ev)
{
    (void)plugin_id;
    if (!ev.kind)
        return;
    stats_.received++;
    stats_.by_kind[ev.kind]++;
    // Lifecycle facts change the cache first: an exec event shows the new process, an exit
    // event the process that ended (its entry stays until collected).
    const ProcessEntry* process = nullptr;
    if (ev.process && ev.process->struct_size >= offsetof(vigil_process_update, pad1))
        process = cache_.apply(*ev.process);
    if (cache_only(ev.kind)) {
        stats_.internal++;
        return;
    }
    // Other events name their process by key or pid. A lifecycle event the cache could not
    // place (an exit it never saw start) must not borrow another incarnation of the pid.
    if (!process && !ev.process && ev.pid) {
        process = cache_.lookup(ev.pid, ev.proc_ktime, ev.ktime);
        // The process's exec or fork travels in the process sensor's ring, this event in another:
        // when the process is not known yet, its start may still be queued there.
        if (!process && refresh_ && !refreshing_) {
            refreshing_ = true;
            stats_.process_refreshes++;
            refresh_();
            refreshing_ = false;
            process = cache_.lookup(ev.pid, ev.proc_ktime, ev.ktime);
        }
        if (!process)
            stats_.process_misses++;
    }
    // In a pod by its cgroup, but the runtime has not told us about it (yet): the event goes
    // out with the container id only.
    if (process && !process->container.pod_uid.empty() &&
        (!opts_.process.containers || !opts_.process.containers->find(process->container.id)))
        stats_.pod_misses++;
    bool pass = filters_.pass(ev.kind, ev.pid, process);
    if (!pass) {
        stats_.filtered++;
        if (!have_unfiltered_)
            return;
    }
    stats_.exported += pass;
    auto wants = [pass, &ev](const SinkEntry& s) {
        return (pass || s.scope == SinkScope::unfiltered) && s.sink->active() && s.sink->wants(ev.kind);
    };
    bool json = false, compact = false;
    for (const auto& s : sinks_)
        if (wants(s))
            (s.format == Format::json ? json : compact) = true;
    if (json)
        write_json(ev, process);
    if (compact)
        write_compact(ev, process);
    for (auto& s : sinks_)
        if (wants(s))
            s.sink->write(s.format == Format::json ? std::string_view(json_.str()) : std::string_view(compact_));
}

void EventPipeline::write_json(const vigil_event& ev, const ProcessEntry* process)
{
    json_.clear();
    json_.begin_object().key(ev.kind).begin_object();
    // vigild's own events (process_throttle) are about no process: pid 0.
    if (process) {
        json_.key("process");
        write_process_json(json_, *process, ev.tid, clock_, opts_.process);
    } else if (ev.pid) {
        json_.key("process");
        json_.begin_object().member("pid", ev.pid).member("tid", ev.tid ? ev.tid : ev.pid);
        if (ev.proc_ktime)
            json_.member("exec_id", cache_.exec_id(ev.pid, ev.proc_ktime))
                .member("start_time", clock_.stamp(ev.proc_ktime).view());
        json_.end_object();
    }
    if (const ProcessEntry* parent = process ? cache_.parent_of(*process) : nullptr) {
        json_.key("parent");
        write_process_json(json_, *parent, 0, clock_, opts_.process);
    }
    if (opts_.ancestors && process) {
        auto ancestors = cache_.ancestors(*process);
        if (!ancestors.empty()) {
            json_.key("ancestors").begin_array();
            for (const ProcessEntry* a : ancestors)
                write_process_json(json_, *a, 0, clock_, opts_.process);
            json_.end_array();
        }
    }
    if (ev.struct_size >= offsetof(vigil_event, other_proc_ktime) + sizeof(uint64_t) && ev.other_key &&
        ev.other_pid) {
        // the event's second process (the registry checked the key); by pid alone when the
        // cache does not know it
        json_.key(ev.other_key);
        if (const ProcessEntry* other = cache_.lookup(ev.other_pid, ev.other_proc_ktime, ev.ktime)) {
            write_process_json(json_, *other, 0, clock_, opts_.process);
        } else {
            json_.begin_object().member("pid", ev.other_pid);
            if (ev.other_proc_ktime)
                json_.member("exec_id", cache_.exec_id(ev.other_pid, ev.other_proc_ktime));
            json_.end_object();
        }
    }
    if (ev.process && ev.process->op == VIGIL_PROC_EXIT) {
        uint32_t code = ev.process->exit_code;
        if (int sig = static_cast<int>(code & 0x7f))
            json_.member("signal", signal_name(sig));
        json_.member("status", (code >> 8) & 0xff);
        json_.member("time", clock_.stamp(ev.ktime).view());
    }
    json_.raw_members(std::string_view(ev.body_json ? ev.body_json : "", ev.body_json ? ev.body_json_len : 0));
    json_.end_object();
    json_.member("node_name", node_name_);
    json_.member("time", clock_.stamp(ev.ktime).view());
    json_.end_object();
}

void EventPipeline::write_compact(const vigil_event& ev, const ProcessEntry* process)
{
    std::string_view summary(ev.summary ? ev.summary : "", ev.summary ? ev.summary_len : 0);
    std::string_view binary = process ? std::string_view(process->binary) : std::string_view("?");
    // lifecycle events: arguments from the cache, and how the process ended
    std::string args, ending;
    if (ev.process && process && !process->args.empty())
        args = join_arguments(process->args);
    if (ev.process && ev.process->op == VIGIL_PROC_EXIT) {
        uint32_t code = ev.process->exit_code;
        ending = (code & 0x7f) ? signal_name(static_cast<int>(code & 0x7f)) : fmt::format("{}", (code >> 8) & 0xff);
    }
    compact_ = fmt::format("{} {:<16} {:>7} ", clock_.stamp(ev.ktime).view().substr(11, 12), ev.kind, ev.pid);
    if (process && !process->container.empty()) {
        // where it runs: namespace/pod, else the container's name, else its short id
        const ContainerMeta* m = opts_.process.containers ? opts_.process.containers->find(process->container.id)
                                                          : nullptr;
        compact_ += '[';
        if (m && !m->pod_name.empty())
            append_printable(compact_, fmt::format("{}/{}", m->pod_namespace, m->pod_name));
        else if (m && !m->name.empty())
            append_printable(compact_, m->name);
        else
            append_printable(compact_, std::string_view(process->container.id).substr(0, 12));
        compact_ += "] ";
    }
    append_printable(compact_, binary);
    for (std::string_view part : {std::string_view(args), std::string_view(ending), summary})
        if (!part.empty()) {
            compact_ += ' ';
            append_printable(compact_, part);
        }
}

void EventPipeline::flush()
{
    for (auto& s : sinks_)
        s.sink->flush();
}

void EventPipeline::reopen_sinks()
{
    for (auto& s : sinks_)
        s.sink->reopen();
}

void EventPipeline::close_sinks(std::chrono::milliseconds budget)
{
    for (auto& s : sinks_)
        s.sink->close(budget);
}

std::vector<SinkStats> EventPipeline::sink_stats() const
{
    std::vector<SinkStats> out;
    for (const auto& s : sinks_)
        if (auto st = s.sink->stats())
            out.push_back(std::move(*st));
    return out;
}

} // namespace vigil
