// When the kernel side sheds reporting-only events because a ring is close to full
// (VIGIL_ERR_SHED, vigil/bpf/emit.h), the gap must show in the event stream itself: a
// process_throttle event with type THROTTLE_START when shedding begins, and THROTTLE_STOP with
// how many events were shed and for how long once none have been for `quiet`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigil {

struct ThrottleChange {
    bool start = false;   // THROTTLE_START, else THROTTLE_STOP
    uint64_t shed = 0;    // THROTTLE_STOP: events shed since the start
    std::chrono::milliseconds duration{0};
    size_t processes = 0; // THROTTLE_STOP: how many processes had events shed

    // The members of the process_throttle event's body.
    std::string body_json() const;
};

// What one process lost to the shedding: the body of its own process_throttle event (a
// THROTTLE_STOP that carries the process), `duration` from its first shed event to its last.
std::string shed_process_body_json(uint64_t shed, std::chrono::milliseconds duration);
// At most this many processes get an event of their own per THROTTLE_STOP, the most shed first.
inline constexpr size_t max_shed_process_events = 32;

class ThrottleTracker {
public:
    using Clock = std::chrono::steady_clock;
    explicit ThrottleTracker(std::chrono::milliseconds quiet = std::chrono::seconds(1)) : quiet_(quiet) {}

    // Called on a timer with the kernel's running count of shed events (vigild's own map: it
    // starts at 0 with vigild).
    std::optional<ThrottleChange> update(uint64_t shed_total, Clock::time_point now);
    bool throttling() const { return throttling_; }

private:
    std::chrono::milliseconds quiet_;
    bool throttling_ = false;
    uint64_t last_ = 0;
    uint64_t at_start_ = 0;
    Clock::time_point since_{}, last_change_{};
};

// Per cgroup: once a cgroup has had its `[throttle] cgroup_rate` reporting-only events in a second,
// the kernel drops its further ones (vigil/wire/cgroup_rate.h) and counts them in the cgroup's
// entry. The tracker turns those counts into a THROTTLE_START for the cgroup when drops begin and a
// THROTTLE_STOP with how many were dropped once none have been for `quiet`.
struct CgroupThrottleChange {
    bool start = false;
    uint64_t cgroup_id = 0;
    uint64_t dropped = 0; // THROTTLE_STOP: events dropped since the start
    std::chrono::milliseconds duration{0};

    // The members of the process_throttle event's body; `cgroup` is the cgroup's path (or "").
    std::string body_json(std::string_view cgroup, uint32_t rate) const;
};

class CgroupThrottleTracker {
public:
    using Clock = std::chrono::steady_clock;
    struct Count {
        uint64_t cgroup_id = 0;
        uint64_t dropped = 0; // the kernel's running count for the cgroup
    };
    explicit CgroupThrottleTracker(std::chrono::milliseconds quiet = std::chrono::seconds(1)) : quiet_(quiet) {}

    // `counts`: every cgroup the kernel has counted drops for (a cgroup missing from it was
    // evicted: a throttled one stops with what was seen of it).
    std::vector<CgroupThrottleChange> update(const std::vector<Count>& counts, Clock::time_point now);
    size_t throttling() const { return throttling_; }

private:
    struct State {
        uint64_t last = 0;     // the kernel's count when last seen
        uint64_t at_start = 0; // ... when the throttle began
        bool throttling = false;
        Clock::time_point since{}, last_change{};
    };
    std::chrono::milliseconds quiet_;
    std::unordered_map<uint64_t, State> cgroups_;
    size_t throttling_ = 0;
};

} // namespace vigil
