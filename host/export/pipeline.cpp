#include "export/pipeline.hpp"

#include "process/cache.hpp"

#include <fmt/format.h>

#include <ctime>

namespace vigil {

namespace {

int64_t now_ns(clockid_t clock)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

EventPipeline::EventPipeline(std::string node_name, ProcessCache& cache)
    : node_name_(std::move(node_name)), cache_(cache),
      boot_to_wall_ns_(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_BOOTTIME))
{
}

void EventPipeline::add_sink(std::unique_ptr<Sink> sink, Format format)
{
    (format == Format::json ? want_json_ : want_compact_) = true;
    sinks_.push_back({std::move(sink), format});
}

std::string EventPipeline::format_time(uint64_t ktime) const
{
    int64_t wall = boot_to_wall_ns_ + static_cast<int64_t>(ktime);
    time_t secs = static_cast<time_t>(wall / 1'000'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, wall % 1'000'000'000);
}

void EventPipeline::on_event(const std::string& plugin_id, const vigil_event& ev)
{
    (void)plugin_id;
    if (!ev.kind)
        return;
    events_total_++;
    by_kind_[ev.kind]++;
    if (ev.process)
        cache_.apply(*ev.process);
    if (want_json_)
        write_json(ev);
    if (want_compact_)
        write_compact(ev);
    for (auto& s : sinks_)
        s.sink->write(s.format == Format::json ? std::string_view(json_.str()) : std::string_view(compact_));
    if (ev.process && ev.process->op == VIGIL_PROC_EXIT)
        cache_.release(ev.process->pid, ev.process->ktime);
}

void EventPipeline::write_json(const vigil_event& ev)
{
    json_.clear();
    json_.begin_object().key(ev.kind).begin_object();
    json_.key("process");
    cache_.write_process(json_, ev.pid, ev.tid, ev.proc_ktime);
    json_.key("parent");
    cache_.write_parent(json_, ev.pid, ev.proc_ktime);
    json_.raw_members(std::string_view(ev.body_json ? ev.body_json : "", ev.body_json ? ev.body_json_len : 0));
    json_.end_object();
    json_.member("node_name", node_name_);
    json_.member("time", format_time(ev.ktime));
    json_.end_object();
}

void EventPipeline::write_compact(const vigil_event& ev)
{
    std::string_view summary(ev.summary ? ev.summary : "", ev.summary ? ev.summary_len : 0);
    compact_ = fmt::format("{} {:<16} {:>7} {:<24} {}", format_time(ev.ktime).substr(11, 12), ev.kind, ev.pid,
                           cache_.binary_of(ev.pid, ev.proc_ktime), summary);
}

void EventPipeline::flush()
{
    for (auto& s : sinks_)
        s.sink->flush();
}

} // namespace vigil
