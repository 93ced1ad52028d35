// When the kernel side sheds reporting-only events because a ring is close to full
// (VIGIL_ERR_SHED, vigil/bpf/emit.h), the gap must show in the event stream itself: a
// process_throttle event with type THROTTLE_START when shedding begins, and THROTTLE_STOP with
// how many events were shed and for how long once none have been for `quiet`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vigil {

struct ThrottleChange {
    bool start = false;   // THROTTLE_START, else THROTTLE_STOP
    uint64_t shed = 0;    // THROTTLE_STOP: events shed since the start
    std::chrono::milliseconds duration{0};

    // The members of the process_throttle event's body.
    std::string body_json() const;
};

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

} // namespace vigil
