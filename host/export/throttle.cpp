#include "export/throttle.hpp"

#include <fmt/format.h>
#include <vigil/sdk/json.hpp>

namespace vigil {

std::string ThrottleChange::body_json() const
{
    if (start)
        return R"("type":"THROTTLE_START","reason":"ring buffer over three quarters full: reporting-only events shed")";
    return fmt::format(R"("type":"THROTTLE_STOP","shed":{},"duration_ms":{},"processes":{})", shed, duration.count(),
                       processes);
}

std::string shed_process_body_json(uint64_t shed, std::chrono::milliseconds duration)
{
    return fmt::format(R"("type":"THROTTLE_STOP","reason":"ring buffer over three quarters full: this process's )"
                       R"(reporting-only events shed","shed":{},"duration_ms":{})",
                       shed, duration.count());
}

std::optional<ThrottleChange> ThrottleTracker::update(uint64_t shed_total, Clock::time_point now)
{
    bool grew = shed_total > last_;
    if (grew)
        last_change_ = now;
    if (grew && !throttling_) {
        throttling_ = true;
        at_start_ = last_;
        since_ = now;
        last_ = shed_total;
        return ThrottleChange{.start = true};
    }
    last_ = shed_total;
    if (throttling_ && !grew && now - last_change_ >= quiet_) {
        throttling_ = false;
        return ThrottleChange{.start = false,
                              .shed = shed_total - at_start_,
                              .duration = std::chrono::duration_cast<std::chrono::milliseconds>(last_change_ - since_)};
    }
    return std::nullopt;
}

std::string CgroupThrottleChange::body_json(std::string_view cgroup, uint32_t rate) const
{
    sdk::JsonWriter w;
    w.member("type", start ? "THROTTLE_START" : "THROTTLE_STOP");
    if (start)
        w.member("reason", fmt::format("cgroup over {} reporting-only events per second", rate));
    w.member("cgroup", cgroup).member("cgroup_id", std::to_string(cgroup_id));
    if (!start)
        w.member("dropped", dropped).member("duration_ms", static_cast<uint64_t>(duration.count()));
    return w.take();
}

std::vector<CgroupThrottleChange> CgroupThrottleTracker::update(const std::vector<Count>& counts, Clock::time_point now)
{
    std::vector<CgroupThrottleChange> out;
    auto stop = [&](uint64_t id, State& s) {
        out.push_back({.start = false,
                       .cgroup_id = id,
                       .dropped = s.last - s.at_start,
                       .duration = std::chrono::duration_cast<std::chrono::milliseconds>(s.last_change - s.since)});
        s.throttling = false;
        throttling_--;
    };
    std::unordered_map<uint64_t, State> seen;
    for (const Count& c : counts) {
        State s = cgroups_.contains(c.cgroup_id) ? cgroups_[c.cgroup_id] : State{};
        if (c.dropped < s.last) // a new entry for a cgroup id seen before
            s = State{};
        if (c.dropped > s.last) {
            s.last_change = now;
            if (!s.throttling) {
                s.throttling = true;
                throttling_++;
                s.at_start = s.last;
                s.since = now;
                out.push_back({.start = true, .cgroup_id = c.cgroup_id});
            }
            s.last = c.dropped;
        } else if (s.throttling && now - s.last_change >= quiet_) {
            stop(c.cgroup_id, s);
        }
        seen[c.cgroup_id] = s;
    }
    for (auto& [id, s] : cgroups_)
        if (s.throttling && !seen.contains(id))
            stop(id, s);
    cgroups_ = std::move(seen);
    return out;
}

} // namespace vigil
